/*
 * Reading a queue file's envelope (format version 1, see
 * doc/queue-format.md).  Every length, the record order, the header, the
 * end record and the file size are checked: a damaged or incomplete file
 * is an error, never a crash and never a partial envelope.
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "queue/queue.h"
#include "queue/queue_int.h"

/* The largest envelope a reader accepts (a damaged offset stops here). */
#define QR_ENVELOPE_MAX	(64ULL * 1024 * 1024)
/* The most digits a record length may have. */
#define QR_LEN_DIGITS	9

/* The envelope being read, and where the reader is in it. */
struct qread {
	const char *buf;	/* the envelope, after the header */
	size_t len, pos;
	struct qrec_state st;
	struct queue_envelope *env;
	struct str attrs;	/* "name=value\0" ... */
	size_t n_attrs, n_rcpts_alloc;
	struct queue_rcpt cur;	/* the recipient group being read */
};

/* Read exactly LEN bytes at OFFSET; 0, or -1 with *ERROR_R. */
static int
qr_pread(int fd, void *buf, size_t len, off_t offset, char **error_r)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, (char *)buf + done, len - done,
		    offset + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*error_r = n < 0 ? xasprintf("read: %s",
			    strerror(errno)) : xstrdup("unexpected end of file");
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/* Parse exactly LEN decimal digits. */
bool
queue_digits(const char *s, size_t len, unsigned long long *val)
{
	unsigned long long v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (~0ULL - 9) / 10)
			return false;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	*val = v;
	return true;
}

/* Check the header and the file size; 0, or -1 with *ERROR_R. */
static int
qr_header(int fd, struct queue_envelope *env, char **error_r)
{
	char h[QF_HEADER_LEN];
	struct stat sb;
	unsigned long long len, off;

	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		*error_r = xstrdup("not a regular file");
		return -1;
	}
	if (qr_pread(fd, h, sizeof(h), 0, error_r) < 0)
		return -1;
	if (memcmp(h, QF_MAGIC, 5) != 0 || h[25] != ' ' || h[46] != '\n' ||
	    !queue_digits(h + 5, 20, &len) || !queue_digits(h + 26, 20, &off)) {
		*error_r = xstrdup("bad header (not a version 1 queue file)");
		return -1;
	}
	if (off == 0) {
		*error_r = xstrdup("incomplete (header not completed)");
		return -1;
	}
	if (off <= QF_HEADER_LEN || off - QF_HEADER_LEN > QR_ENVELOPE_MAX ||
	    len > (unsigned long long)sb.st_size ||
	    (unsigned long long)sb.st_size != off + len + QF_END_LEN) {
		*error_r = xasprintf("size %lld does not match the header",
		    (long long)sb.st_size);
		return -1;
	}
	env->content_offset = off;
	env->content_length = len;
	return 0;
}

/* Parse an arrival time "seconds[.microseconds]". */
bool
queue_arrival_parse(const char *s, size_t len, double *arrival)
{
	const char *dot = memchr(s, '.', len);
	unsigned long long sec, usec;
	size_t ilen = dot != NULL ? (size_t)(dot - s) : len;

	if (ilen == 0 || ilen > 19 || !queue_digits(s, ilen, &sec))
		return false;
	usec = 0;
	if (dot != NULL && (len - ilen - 1 != 6 ||
	    !queue_digits(dot + 1, 6, &usec)))
		return false;
	*arrival = (double)sec + (double)usec / 1e6;
	return true;
}

/* Store the value of a T, I, S or A record. */
static const char *
qr_store_envelope(struct qread *r, char type, const char *data, size_t len)
{
	const char *eq;

	switch (type) {
	case 'T':
		return queue_arrival_parse(data, len, &r->env->arrival) ? NULL :
		    "bad arrival time";
	case 'I':
		if (!queue_id_valid(data, len))
			return "bad queue id";
		r->env->id = xstrndup(data, len);
		return NULL;
	case 'S':
		r->env->sender = xstrndup(data, len);
		return NULL;
	default:
		eq = memchr(data, '=', len);
		if (eq == NULL || eq == data)
			return "bad attribute";
		str_append_n(&r->attrs, data, len);
		str_append_c(&r->attrs, '\0');
		r->n_attrs++;
		return NULL;
	}
}

/*
 * Store the value of an O, N, R or D record; R and D (a recipient marked
 * done) end the group.  REC is the offset of the record's type byte in
 * the envelope buffer.
 */
static void
qr_store_rcpt(struct qread *r, char type, const char *data, size_t len,
    size_t rec)
{
	struct queue_envelope *env = r->env;

	if (type == 'O') {
		r->cur.orcpt = xstrndup(data, len);
		return;
	}
	if (type == 'N') {
		r->cur.notify = xstrndup(data, len);
		return;
	}
	r->cur.final = xstrndup(data, len);
	r->cur.done = type == 'D';
	r->cur.offset = QF_HEADER_LEN + rec;
	if (env->n_rcpts == r->n_rcpts_alloc) {
		r->n_rcpts_alloc = r->n_rcpts_alloc * 2 + 8;
		env->rcpts = xreallocarray(env->rcpts, r->n_rcpts_alloc,
		    sizeof(*env->rcpts));
	}
	env->rcpts[env->n_rcpts++] = r->cur;
	memset(&r->cur, 0, sizeof(r->cur));
}

/*
 * Split the next record at R->pos into its type, data and length.  NULL,
 * or why the bytes are not a record.
 */
static const char *
qr_split(struct qread *r, char *type_r, const char **data_r, size_t *len_r)
{
	const char *p = r->buf + r->pos, *end = r->buf + r->len, *colon;
	unsigned long long len;
	size_t digits;

	if (end - p < 4 || p[0] < 'A' || p[0] > 'Z')
		return "bad record type";
	colon = memchr(p + 1, ':', (size_t)(end - p - 1));
	digits = colon != NULL ? (size_t)(colon - p - 1) : 0;
	if (digits == 0 || digits > QR_LEN_DIGITS ||
	    (digits > 1 && p[1] == '0') || !queue_digits(p + 1, digits, &len))
		return "bad record length";
	if (len >= (unsigned long long)(end - colon - 1))
		return "record longer than the envelope";
	if (colon[1 + len] != '\n')
		return "record not ended by a newline";
	*type_r = p[0];
	*data_r = colon + 1;
	*len_r = (size_t)len;
	r->pos = (size_t)(colon + 2 + len - r->buf);
	return NULL;
}

/* Read the next record; NULL, or why the envelope is damaged. */
static const char *
qr_record(struct qread *r)
{
	const char *data, *why;
	size_t len, rec = r->pos;
	char type;

	if ((why = qr_split(r, &type, &data, &len)) != NULL)
		return why;
	if (memchr(data, '\0', len) != NULL)
		return "NUL byte in a record";
	/* A D record is an R that qmgr overwrote in place: same grammar. */
	if ((why = qrec_next(&r->st, type == 'D' ? 'R' : type)) != NULL)
		return why;
	switch (type) {
	case 'O':
	case 'N':
	case 'R':
	case 'D':
		qr_store_rcpt(r, type, data, len, rec);
		return NULL;
	case 'M':
		if (len != 0 || r->pos != r->len)
			return "content does not start after the M record";
		return NULL;
	default:
		return qr_store_envelope(r, type, data, len);
	}
}

/* Turn the collected attributes into a NULL-terminated vector. */
static void
qr_attrs(struct qread *r)
{
	const char *p = str_c(&r->attrs);
	size_t i;

	r->env->attrs = xcalloc(r->n_attrs + 1, sizeof(char *));
	for (i = 0; i < r->n_attrs; i++) {
		r->env->attrs[i] = xstrdup(p);
		p += strlen(p) + 1;
	}
}

/* Parse the envelope in BUF; 0, or -1 with *ERROR_R. */
static int
qr_parse(struct qread *r, char **error_r)
{
	const char *why = NULL;

	while (why == NULL && !r->st.seen_m && r->pos < r->len)
		why = qr_record(r);
	if (why == NULL && !r->st.seen_m)
		why = "no M record";
	free(r->cur.orcpt);
	free(r->cur.notify);
	if (why != NULL) {
		*error_r = xasprintf("damaged envelope at byte %zu: %s",
		    QF_HEADER_LEN + r->pos, why);
		return -1;
	}
	qr_attrs(r);
	return 0;
}

/* Read and check the envelope and the end record of the open file FD. */
static int
qr_read_fd(int fd, struct queue_envelope *env, char **error_r)
{
	struct qread r;
	char end[QF_END_LEN];
	char *buf;
	int ret;

	if (qr_header(fd, env, error_r) < 0)
		return -1;
	if (qr_pread(fd, end, sizeof(end), (off_t)(env->content_offset +
	    env->content_length), error_r) < 0)
		return -1;
	if (memcmp(end, QF_END, QF_END_LEN) != 0) {
		*error_r = xstrdup("no end record after the content");
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.env = env;
	r.len = (size_t)env->content_offset - QF_HEADER_LEN;
	buf = xmalloc(r.len);
	r.buf = buf;
	ret = qr_pread(fd, buf, r.len, QF_HEADER_LEN, error_r);
	if (ret == 0)
		ret = qr_parse(&r, error_r);
	str_free(&r.attrs);
	free(buf);
	return ret;
}

int
queue_envelope_read(const char *path, struct queue_envelope **env_r,
    char **error_r)
{
	struct queue_envelope *env;
	char *why = NULL;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		*error_r = xasprintf("open %s: %s", path, strerror(errno));
		return -1;
	}
	env = xcalloc(1, sizeof(*env));
	ret = qr_read_fd(fd, env, &why);
	close(fd);
	if (ret < 0) {
		*error_r = xasprintf("%s: %s", path, why);
		free(why);
		queue_envelope_free(&env);
		return -1;
	}
	*env_r = env;
	return 0;
}

void
queue_envelope_free(struct queue_envelope **envp)
{
	struct queue_envelope *env = *envp;
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; i < env->n_rcpts; i++) {
		free(env->rcpts[i].orcpt);
		free(env->rcpts[i].notify);
		free(env->rcpts[i].final);
	}
	free(env->rcpts);
	strv_free(&env->attrs);
	free(env->id);
	free(env->sender);
	free(env);
	*envp = NULL;
}

const char *
queue_envelope_attr(const struct queue_envelope *env, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; env->attrs != NULL && env->attrs[i] != NULL; i++) {
		if (strncmp(env->attrs[i], name, n) == 0 &&
		    env->attrs[i][n] == '=')
			return env->attrs[i] + n + 1;
	}
	return NULL;
}

int
queue_rcpt_mark_done(int fd, const struct queue_rcpt *rcpt, char **error_r)
{
	char c;
	ssize_t n;

	/* Check what is there first: a wrong offset must never damage the
	   file. */
	do
		n = pread(fd, &c, 1, (off_t)rcpt->offset);
	while (n < 0 && errno == EINTR);
	if (n != 1 || (c != 'R' && c != 'D')) {
		*error_r = xasprintf("no recipient record at offset %llu",
		    rcpt->offset);
		return -1;
	}
	if (c == 'D')
		return 0;
	c = 'D';
	do
		n = pwrite(fd, &c, 1, (off_t)rcpt->offset);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		*error_r = xasprintf("write: %s", n < 0 ? strerror(errno) :
		    "short write");
		return -1;
	}
	return 0;
}
