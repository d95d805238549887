/*
 * Delivery status notifications (RFC 3464, RFC 6533 for SMTPUTF8 mail) and
 * forwarded copies, each written as a new queue file and committed before
 * the caller is told it exists.  The notice follows what Postfix's
 * bounce(8) writes, which is what users and their tools know: a text part,
 * the machine-readable delivery-status part, and the original message or
 * its headers.
 */

#include "config.h"

#include <sys/random.h>
#include <sys/time.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "queue/bounce.h"
#include "queue/bounce_int.h"
#include "queue/queue.h"

#define BOUNCE_CHUNK	(64 * 1024)
/* RFC 5322's longest line, without CRLF, and where the returned message's
   lines are broken to stay below it. */
#define BOUNCE_LINE_MAX	998
#define BOUNCE_WRAP	990
/* The longest Delivered-To address taken. */
#define BOUNCE_ADDR_MAX	900

/* The current time in seconds, with microseconds. */
static double
bounce_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* pread exactly LEN bytes at OFF of FD into BUF.  0, or -1 with
   *ERROR_R. */
static int
bounce_read(int fd, char *buf, size_t len, unsigned long long off,
    char **error_r)
{
	ssize_t n;

	while (len > 0) {
		n = pread(fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*error_r = xasprintf("read the queue file: %s",
			    n < 0 ? strerror(errno) : "unexpected end");
			return -1;
		}
		buf += n;
		len -= (size_t)n;
		off += (unsigned long long)n;
	}
	return 0;
}

/*
 * Append the LEN bytes of BUF (at content offset POS) to QF, breaking a
 * line that would pass RFC 5322's 998 bytes: folded ("\r\n ") within the
 * first HDR_LEN bytes (the header section), cut ("\r\n") after them.  The
 * original was accepted with whatever lines it had; the notice about it
 * must still be sendable.  *COL counts the bytes since the last LF.
 */
static void
bounce_put_lines(struct queue_file *qf, const char *buf, size_t len,
    unsigned long long pos, unsigned long long hdr_len, size_t *col)
{
	size_t i, start = 0;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			*col = 0;
			continue;
		}
		/* A CR may still end the line if its LF comes in time. */
		if (*col >= BOUNCE_WRAP &&
		    (buf[i] != '\r' || *col >= BOUNCE_LINE_MAX - 1)) {
			queue_file_write(qf, buf + start, i - start);
			start = i;
			if (pos + i < hdr_len)
				queue_file_write(qf, "\r\n ", 3);
			else
				queue_file_write(qf, "\r\n", 2);
			*col = pos + i < hdr_len ? 1 : 0;
		}
		(*col)++;
	}
	queue_file_write(qf, buf + start, len - start);
}

/* Copy LEN bytes at content offset OFF of FD to the content of QF: as
   they are, or with long lines broken (bounce_put_lines()) when ORIG is
   not NULL.  0, or -1 with *ERROR_R. */
static int
bounce_copy(struct queue_file *qf, int fd, const struct queue_envelope *env,
    unsigned long long len, const struct bounce_orig *orig, char **error_r)
{
	char *buf = xmalloc(BOUNCE_CHUNK);
	unsigned long long off = 0;
	size_t n, col = 0;
	int ret = 0;

	while (off < len && queue_file_error(qf) == 0) {
		n = len - off < BOUNCE_CHUNK ? (size_t)(len - off) :
		    BOUNCE_CHUNK;
		ret = bounce_read(fd, buf, n, env->content_offset + off,
		    error_r);
		if (ret < 0)
			break;
		if (orig != NULL)
			bounce_put_lines(qf, buf, n, off, orig->hdr_len, &col);
		else
			queue_file_write(qf, buf, n);
		off += n;
	}
	free(buf);
	return ret;
}

/* What a scan of the original found. */
struct bounce_scan {
	unsigned long long hdr_len;	/* header section, blank line not
					   included */
	unsigned long long cut;		/* end of the last header line
					   within size_limit */
	unsigned long long line_start;	/* of the line being scanned */
	bool hdr_8bit, all_8bit;
	bool in_hdr, line_empty;
};

/* Scan the LEN bytes of BUF at content offset OFF. */
static void
bounce_scan_buf(struct bounce_scan *s, const char *buf, size_t len,
    unsigned long long off, unsigned long long limit)
{
	unsigned long long pos;
	size_t i;

	for (i = 0; i < len; i++) {
		if ((unsigned char)buf[i] >= 0x80) {
			s->all_8bit = true;
			s->hdr_8bit = s->hdr_8bit || s->in_hdr;
		}
		if (!s->in_hdr)
			continue;
		pos = off + i;
		if (buf[i] != '\n') {
			s->line_empty = s->line_empty && buf[i] == '\r';
			continue;
		}
		if (s->line_empty) {
			s->hdr_len = s->line_start;
			s->in_hdr = false;
			continue;
		}
		if (limit == 0 || pos < limit)
			s->cut = pos + 1;
		s->line_start = pos + 1;
		s->line_empty = true;
	}
}

/*
 * Read the original (through FD) far enough to know its header section
 * and whether what is returned holds 8-bit bytes: to the end when ALL,
 * else to the end of the header.  0, or -1 with *ERROR_R.
 */
static int
bounce_scan(const struct bounce_ctx *c, int fd, bool all,
    struct bounce_scan *s, char **error_r)
{
	unsigned long long off = 0, len = c->env->content_length;
	char *buf = xmalloc(BOUNCE_CHUNK);
	size_t n;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	s->hdr_len = len;
	s->in_hdr = s->line_empty = true;
	while (off < len && (s->in_hdr || (all && !s->all_8bit))) {
		n = len - off < BOUNCE_CHUNK ? (size_t)(len - off) :
		    BOUNCE_CHUNK;
		ret = bounce_read(fd, buf, n, c->env->content_offset + off,
		    error_r);
		if (ret < 0)
			break;
		bounce_scan_buf(s, buf, n, off, c->p->size_limit);
		off += n;
	}
	if (s->in_hdr && (c->p->size_limit == 0 || len <= c->p->size_limit))
		s->cut = len;
	free(buf);
	return ret;
}

/*
 * Decide what of the original the notice returns (RFC 3461 RET, the
 * caller's headers_only, the size limit; delay warnings and success
 * reports only the headers unless RET=FULL asks, as Postfix does) and
 * scan it.  0, or -1 with *ERROR_R.
 */
static int
bounce_pick_orig(struct bounce_ctx *c, int fd, char **error_r)
{
	const char *ret = queue_envelope_attr(c->env, "dsn_ret");
	unsigned long long limit = c->p->size_limit;
	struct bounce_scan s;
	bool headers;

	if (c->kind == BOUNCE_FAILED)
		headers = ret != NULL && strcasecmp(ret, "HDRS") == 0;
	else if (c->kind == BOUNCE_DELIVERED)
		headers = ret == NULL || strcasecmp(ret, "FULL") != 0;
	else
		headers = true;
	headers = headers || c->p->headers_only;
	if (!headers && limit > 0 && c->env->content_length > limit) {
		headers = true;
		c->orig.too_big = true;
	}
	if (bounce_scan(c, fd, !headers, &s, error_r) < 0)
		return -1;
	c->orig.headers = headers;
	c->orig.hdr_len = s.hdr_len;
	if (headers) {
		c->orig.len = limit > 0 && s.hdr_len > limit ? s.cut :
		    s.hdr_len;
		c->orig.eight_bit = s.hdr_8bit;
	} else {
		c->orig.len = c->env->content_length;
		c->orig.eight_bit = s.all_8bit;
	}
	return 0;
}

/*
 * The MIME boundary: the new queue id, unique on this host, and 128
 * random bits, so that no returned message can hold it by chance or by
 * design.
 */
static void
bounce_boundary(struct bounce_ctx *c, const char *id)
{
	static unsigned long long counter;
	unsigned char rnd[16];
	unsigned long long mix;
	size_t i;

	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd)) {
		/* No entropy yet (early boot): still unique, if guessable. */
		mix = (unsigned long long)(c->now * 1e6) ^
		    ((unsigned long long)getpid() << 40) ^ ++counter;
		for (i = 0; i < sizeof(rnd); i++)
			rnd[i] = (unsigned char)(mix >> (8 * (i % 8)));
	}
	i = (size_t)snprintf(c->boundary, sizeof(c->boundary), "%s.", id);
	for (size_t k = 0; k < sizeof(rnd); k++, i += 2)
		snprintf(c->boundary + i, sizeof(c->boundary) - i, "%02X",
		    rnd[k]);
}

/* Write the arrival time record (now). */
static void
bounce_arrival(struct queue_file *qf)
{
	struct timeval tv;
	char buf[64];

	gettimeofday(&tv, NULL);
	snprintf(buf, sizeof(buf), "%lld.%06ld", (long long)tv.tv_sec,
	    (long)tv.tv_usec);
	queue_file_record(qf, 'T', buf, strlen(buf));
}

/* Write the notice's envelope: from P->from to P->to, made here. */
static void
bounce_envelope(const struct bounce_ctx *c, struct queue_file *qf)
{
	const char *from = c->p->from != NULL ? c->p->from : "";

	bounce_arrival(qf);
	queue_file_record(qf, 'S', from, strlen(from));
	queue_file_attr(qf, "protocol", "local");
	queue_file_attr(qf, "body", c->utf8 || c->orig.eight_bit ?
	    "8BITMIME" : "7BIT");
	if (c->utf8)
		queue_file_attr(qf, "smtputf8", "yes");
	queue_file_recipient(qf, NULL, NULL, c->p->to);
	queue_file_begin_content(qf);
}

/* Commit QF (taken), wake qmgr and give the id.  0, or -1 with
   *ERROR_R. */
static int
bounce_commit(const char *queue_dir, struct queue_file **qf,
    char id_r[QUEUE_ID_MAX + 1], char **error_r)
{
	snprintf(id_r, QUEUE_ID_MAX + 1, "%s", queue_file_id(*qf));
	if (queue_file_commit_sync(qf, error_r) < 0) {
		id_r[0] = '\0';
		return -1;
	}
	queue_notify(queue_dir);
	return 0;
}

/* Write the notice's content: everything but the returned message, the
   returned message, the closing boundary.  0, or -1 with *ERROR_R. */
static int
bounce_content(const struct bounce_ctx *c, struct queue_file *qf, int fd,
    char **error_r)
{
	struct str o = STR_INIT;
	int ret;

	bounce_compose(c, &o);
	queue_file_write(qf, o.s, o.len);
	ret = bounce_copy(qf, fd, c->env, c->orig.len, &c->orig, error_r);
	str_truncate(&o, 0);
	str_appendf(&o, "\r\n--%s--\r\n", c->boundary);
	queue_file_write(qf, o.s, o.len);
	str_free(&o);
	return ret;
}

int
bounce_queue(const struct bounce_params *p,
    const struct queue_envelope *env, int fd, enum bounce_kind kind,
    const struct bounce_rcpt *r, size_t n, char id_r[QUEUE_ID_MAX + 1],
    char **error_r)
{
	struct bounce_ctx c = { .p = p, .env = env, .kind = kind, .r = r,
	    .n = n };
	struct queue_file *qf = NULL;
	char *err = NULL;

	id_r[0] = '\0';
	if (p->to == NULL || *p->to == '\0' || n == 0 ||
	    (unsigned)kind > BOUNCE_DELIVERED) {
		*error_r = xasprintf("notice about %s: no recipient to "
		    "report on or to send to", env->id);
		return -1;
	}
	c.utf8 = queue_envelope_attr(env, "smtputf8") != NULL;
	c.host = p->myhostname != NULL ? p->myhostname : "localhost";
	c.now = bounce_now();
	if (bounce_pick_orig(&c, fd, &err) < 0 ||
	    queue_file_create(p->queue_dir, &qf, &err) < 0)
		goto fail;
	bounce_boundary(&c, queue_file_id(qf));
	bounce_envelope(&c, qf);
	if (bounce_content(&c, qf, fd, &err) < 0 ||
	    bounce_commit(p->queue_dir, &qf, id_r, &err) < 0)
		goto fail;
	return 0;
fail:
	queue_file_abort(&qf);
	*error_r = xasprintf("notice about %s: %s", env->id, err);
	free(err);
	return -1;
}

/* Check bounce_forward()'s arguments; NULL or what is wrong. */
static const char *
bounce_forward_check(const char *delivered_to, char *const *rcpts,
    size_t n)
{
	size_t i;

	if (n == 0)
		return "no recipients";
	if (delivered_to == NULL || *delivered_to == '\0' ||
	    strpbrk(delivered_to, "\r\n") != NULL ||
	    strlen(delivered_to) > BOUNCE_ADDR_MAX)
		return "bad Delivered-To address";
	for (i = 0; i < n; i++)
		if (rcpts[i] == NULL || *rcpts[i] == '\0')
			return "empty recipient";
	return NULL;
}

int
bounce_forward(const char *queue_dir, const struct queue_envelope *env,
    int fd, const char *delivered_to, char *const *rcpts,
    char *const *orcpts, size_t n, char id_r[QUEUE_ID_MAX + 1],
    char **error_r)
{
	struct queue_file *qf = NULL;
	const char *why;
	char *err = NULL, *line;
	size_t i;

	id_r[0] = '\0';
	if ((why = bounce_forward_check(delivered_to, rcpts, n)) != NULL) {
		*error_r = xasprintf("forward %s: %s", env->id, why);
		return -1;
	}
	if (queue_file_create(queue_dir, &qf, &err) < 0)
		goto fail;
	bounce_arrival(qf);
	queue_file_record(qf, 'S', env->sender, strlen(env->sender));
	for (i = 0; env->attrs != NULL && env->attrs[i] != NULL; i++)
		queue_file_record(qf, 'A', env->attrs[i],
		    strlen(env->attrs[i]));
	for (i = 0; i < n; i++)
		queue_file_recipient(qf, orcpts != NULL ? orcpts[i] : NULL,
		    NULL, rcpts[i]);
	queue_file_begin_content(qf);
	line = xasprintf("Delivered-To: %s\r\n", delivered_to);
	queue_file_write(qf, line, strlen(line));
	free(line);
	if (bounce_copy(qf, fd, env, env->content_length, NULL, &err) < 0 ||
	    bounce_commit(queue_dir, &qf, id_r, &err) < 0)
		goto fail;
	return 0;
fail:
	queue_file_abort(&qf);
	*error_r = xasprintf("forward %s: %s", env->id, err);
	free(err);
	return -1;
}
