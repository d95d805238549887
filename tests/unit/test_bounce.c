/*
 * Unit tests for the bounce writer (src/queue/bounce.c, bounce_text.c) and
 * the blocking commit (src/queue/qsync.c): build an original queue file
 * with the writer API, have a notice or a forwarded copy written about it,
 * read the new file back with queue_envelope_read() and take its MIME
 * structure apart.
 *
 * With BOUNCE_DSN_OUT set, the first test also saves its notice there,
 * so that tests/integration/test_bounce.py can check it with Python's
 * email package.
 */

#include "config.h"

#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/xalloc.h"
#include "queue/bounce.h"
#include "queue/queue.h"
#include "queue/queue_int.h"
#include "testdir.h"

#define ORIG_HEADER \
	"Received: from client.example.org\r\n" \
	"\tby mx.example.net; Tue, 1 Jan 2030 00:00:00 +0000\r\n" \
	"From: Alice <alice@example.org>\r\n" \
	"To: bob@example.org\r\n" \
	"Subject: hello\r\n" \
	"Message-Id: <abc@example.org>\r\n"
#define ORIG_BODY	"Body line one\r\nSECRET-BODY-TEXT\r\n"
#define ORIG		ORIG_HEADER "\r\n" ORIG_BODY
#define SMTP_TEXT \
	"host mx.example.org[192.0.2.25] said: 550 5.1.1 <bob@example.org>: " \
	"Recipient address rejected: User unknown (in reply to RCPT TO " \
	"command)"

static char *qdir;
static int file_fsync_errno;	/* fail file fsyncs with this */

int __real_fsync(int fd);
int __wrap_fsync(int fd);

/* The library's fsync() (linked with --wrap=fsync): fails file fsyncs
   on request, to prove that a failed commit leaves nothing behind. */
int
__wrap_fsync(int fd)
{
	struct stat sb;

	if (file_fsync_errno != 0 && fstat(fd, &sb) == 0 &&
	    S_ISREG(sb.st_mode)) {
		errno = file_fsync_errno;
		return -1;
	}
	return __real_fsync(fd);
}

/* An original message: its envelope and its queue file, open. */
struct orig {
	struct queue_envelope *env;
	int fd;
};

/* A piece of a message: header block and body. */
struct part {
	const char *hdr, *body;
	size_t hdr_len, body_len;
};

/* Field NAME of part PT's body or header is WANT; PT's body holds S. */
#define BODY_FIELD(pt, name, want) \
	assert_field((pt).body, (pt).body_len, name, want)
#define HDR_FIELD(pt, name, want) \
	assert_field((pt).hdr, (pt).hdr_len, name, want)
#define HAS(pt, s)	has((pt).body, (pt).body_len, s)

/* A notice read back. */
struct dsn {
	struct queue_envelope *env;
	char *text;
	size_t len;
	struct part msg;
	struct part parts[4];
	size_t n_parts;
};

static const struct bounce_rcpt rcpt_bob = {
	.final = "bob@example.org",
	.orcpt = "rfc822;Bob@Example.ORG",
	.dsn = "5.1.1",
	.relay = "mx.example.org[192.0.2.25]:25",
	.text = SMTP_TEXT,
	.when = 1700000000,
};

/* The parameters most tests use. */
static struct bounce_params
params(void)
{
	struct bounce_params p = {
		.queue_dir = qdir,
		.myhostname = "mail.example.net",
		.mail_name = "dirmail",
		.size_limit = 50000,
		.from = "",
		.to = "alice@example.org",
	};

	return p;
}

/* Write an original with ATTRS (NULL-terminated "name=value") and
   CONTENT, commit it with queue_file_commit_sync() and open it. */
static void
orig_make(struct orig *o, const char *const *attrs, const char *content,
    size_t len)
{
	struct queue_file *qf;
	char *err = NULL, *path, id[QUEUE_ID_MAX + 1];
	const char *eq;

	assert_int_equal(queue_file_create(qdir, &qf, &err), 0);
	queue_file_record(qf, 'T', "1700000000.000001", 17);
	queue_file_record(qf, 'S', "alice@example.org", 17);
	for (; attrs != NULL && *attrs != NULL; attrs++) {
		eq = strchr(*attrs, '=');
		char *name = xstrndup(*attrs, (size_t)(eq - *attrs));
		queue_file_attr(qf, name, eq + 1);
		free(name);
	}
	queue_file_recipient(qf, "rfc822;Bob@Example.ORG", "FAILURE",
	    "bob@example.org");
	queue_file_begin_content(qf);
	queue_file_write(qf, content, len);
	snprintf(id, sizeof(id), "%s", queue_file_id(qf));
	assert_int_equal(queue_file_commit_sync(&qf, &err), 0);
	assert_null(qf);
	path = xasprintf("%s/incoming/%s", qdir, id);
	assert_int_equal(queue_envelope_read(path, &o->env, &err), 0);
	o->fd = open(path, O_RDONLY);
	assert_true(o->fd >= 0);
	free(path);
}

static void
orig_free(struct orig *o)
{
	close(o->fd);
	queue_envelope_free(&o->env);
}

/* Every line of the LEN bytes at S ends in CRLF and holds at most 998
   bytes. */
static void
assert_lines_ok(const char *s, size_t len)
{
	size_t i, col = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n') {
			assert_true(i > 0 && s[i - 1] == '\r');
			col = 0;
			continue;
		}
		if (s[i] == '\r')
			assert_true(i + 1 < len && s[i + 1] == '\n');
		else
			assert_true(++col <= 998);
	}
	assert_true(len >= 2 && s[len - 2] == '\r' && s[len - 1] == '\n');
}

/* Split the LEN bytes at S at the first blank line. */
static void
split_part(const char *s, size_t len, struct part *p)
{
	const char *blank = memmem(s, len, "\r\n\r\n", 4);

	p->hdr = s;
	if (len >= 2 && s[0] == '\r' && s[1] == '\n') {
		p->hdr_len = 0;
		p->body = s + 2;
	} else if (blank != NULL) {
		p->hdr_len = (size_t)(blank - s) + 2;
		p->body = blank + 4;
	} else {
		p->hdr_len = len;
		p->body = s + len;
	}
	p->body_len = len - (size_t)(p->body - s);
}

/* The value of the first field NAME in the LEN bytes at S, unfolded, or
   NULL.  Allocated. */
static char *
field(const char *s, size_t len, const char *name)
{
	size_t nlen = strlen(name), i, end;
	char *v = NULL;

	for (i = 0; i < len; i = end + 2) {
		const char *eol = memmem(s + i, len - i, "\r\n", 2);
		end = eol != NULL ? (size_t)(eol - s) : len;
		if (v != NULL) {
			if (s[i] != ' ' && s[i] != '\t')
				return v;
			char *more = xasprintf("%s%.*s", v, (int)(end - i),
			    s + i);
			free(v);
			v = more;
		} else if (end - i > nlen && s[i + nlen] == ':' &&
		    strncasecmp(s + i, name, nlen) == 0) {
			i += nlen + 1;
			while (i < end && s[i] == ' ')
				i++;
			v = xstrndup(s + i, end - i);
		}
	}
	return v;
}

/* Assert that field NAME of P's header (or body) is WANT. */
static void
assert_field(const char *s, size_t len, const char *name, const char *want)
{
	char *v = field(s, len, name);

	if (v == NULL)
		fail_msg("no field %s", name);
	assert_string_equal(v, want);
	free(v);
}

/* True when the LEN bytes at S hold NEEDLE. */
static bool
has(const char *s, size_t len, const char *needle)
{
	return memmem(s, len, needle, strlen(needle)) != NULL;
}

/* Split the multipart body of D->msg at BOUNDARY into D->parts. */
static void
split_multipart(struct dsn *d, const char *boundary)
{
	char *delim = xasprintf("\r\n--%s", boundary);
	size_t dlen = strlen(delim);
	const char *s = d->msg.body, *end = s + d->msg.body_len, *p, *next;

	p = memmem(s, (size_t)(end - s), delim, dlen);
	assert_non_null(p);
	for (;;) {
		p += dlen;
		if (p + 2 <= end && memcmp(p, "--", 2) == 0)
			break;
		assert_memory_equal(p, "\r\n", 2);
		p += 2;
		next = memmem(p, (size_t)(end - p), delim, dlen);
		assert_non_null(next);
		assert_true(d->n_parts < 4);
		split_part(p, (size_t)(next - p), &d->parts[d->n_parts++]);
		p = next;
	}
	assert_memory_equal(p, "--\r\n", 4);
	free(delim);
}

/* Read queue file ID back: its envelope in *ENV, its content returned
   (NUL-terminated; free it). */
static char *
queue_load(const char *id, struct queue_envelope **env)
{
	char *path = xasprintf("%s/incoming/%s", qdir, id), *err = NULL;
	char *text;
	int fd;

	if (queue_envelope_read(path, env, &err) < 0)
		fail_msg("%s", err);
	text = xmalloc((*env)->content_length + 1);
	fd = open(path, O_RDONLY);
	assert_int_equal(pread(fd, text, (*env)->content_length,
	    (off_t)(*env)->content_offset), (ssize_t)(*env)->content_length);
	text[(*env)->content_length] = '\0';
	close(fd);
	free(path);
	return text;
}

/* Read notice ID back: envelope, content, MIME parts. */
static void
dsn_load(const char *id, struct dsn *d)
{
	char *ct, *b, *q;

	memset(d, 0, sizeof(*d));
	d->text = queue_load(id, &d->env);
	d->len = d->env->content_length;
	assert_lines_ok(d->text, d->len);
	split_part(d->text, d->len, &d->msg);
	ct = field(d->msg.hdr, d->msg.hdr_len, "Content-Type");
	assert_non_null(ct);
	assert_non_null(b = strstr(ct, "boundary=\""));
	b += 10;
	assert_non_null(q = strchr(b, '"'));
	*q = '\0';
	assert_non_null(strstr(b, d->env->id));
	split_multipart(d, b);
	free(ct);
}

static void
dsn_free(struct dsn *d)
{
	queue_envelope_free(&d->env);
	free(d->text);
}

/* Assert that part I of D has Content-Type TYPE. */
static void
assert_part_type(const struct dsn *d, size_t i, const char *type)
{
	assert_true(i < d->n_parts);
	assert_field(d->parts[i].hdr, d->parts[i].hdr_len, "Content-Type",
	    type);
}

/* The number of entries in QDIR/incoming, temporary ones included. */
static int
incoming_count(void)
{
	char *path = xasprintf("%s/incoming", qdir);
	DIR *dir = opendir(path);
	struct dirent *de;
	int n = 0;

	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL)
		n += strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0;
	closedir(dir);
	free(path);
	return n;
}

/* Write notice D to $BOUNCE_DSN_OUT when it is set. */
static void
save_for_python(const struct dsn *d)
{
	const char *out = getenv("BOUNCE_DSN_OUT");
	FILE *f;

	if (out == NULL)
		return;
	assert_non_null(f = fopen(out, "wb"));
	assert_int_equal(fwrite(d->text, 1, d->len, f), d->len);
	assert_int_equal(fclose(f), 0);
}

/* Write a notice of KIND about the N recipients R with P, and read it
   back. */
static void
notice(const struct bounce_params *p, const struct orig *o,
    enum bounce_kind kind, const struct bounce_rcpt *r, size_t n,
    struct dsn *d)
{
	char id[QUEUE_ID_MAX + 1], *err = NULL;

	if (bounce_queue(p, o->env, o->fd, kind, r, n, id, &err) < 0)
		fail_msg("%s", err);
	dsn_load(id, d);
}

/* A failed recipient: envelope, header, the three parts, the whole
   original returned; qmgr is woken. */
static void
test_failed_full(void **state)
{
	struct bounce_params p = params();
	struct orig o;
	struct dsn d;
	char *fifo = xasprintf("%s/%s", qdir, QUEUE_QMGR_FIFO), buf[8];
	int rfd = open(fifo, O_RDONLY | O_NONBLOCK);
	const struct part *st;

	(void)state;
	assert_true(rfd >= 0);
	orig_make(&o, NULL, ORIG, strlen(ORIG));
	notice(&p, &o, BOUNCE_FAILED, &rcpt_bob, 1, &d);
	save_for_python(&d);
	/* The envelope: from <> to the original sender. */
	assert_string_equal(d.env->sender, "");
	assert_int_equal(d.env->n_rcpts, 1);
	assert_string_equal(d.env->rcpts[0].final, "alice@example.org");
	assert_string_equal(queue_envelope_attr(d.env, "protocol"), "local");
	assert_string_equal(queue_envelope_attr(d.env, "body"), "7BIT");
	assert_true(read(rfd, buf, sizeof(buf)) >= 1);
	/* The header. */
	HDR_FIELD(d.msg, "From",
	    "MAILER-DAEMON@mail.example.net (Mail Delivery System)");
	HDR_FIELD(d.msg, "To", "<alice@example.org>");
	HDR_FIELD(d.msg, "Subject", "Undelivered Mail Returned to Sender");
	HDR_FIELD(d.msg, "Auto-Submitted", "auto-replied");
	HDR_FIELD(d.msg, "MIME-Version", "1.0");
	assert_true(has(d.msg.hdr, d.msg.hdr_len, "\r\nDate: "));
	assert_true(has(d.msg.hdr, d.msg.hdr_len, "@mail.example.net>\r\n"));
	assert_true(has(d.msg.hdr, d.msg.hdr_len,
	    "Content-Type: multipart/report; "
	    "report-type=delivery-status;"));
	/* Part 1: for people. */
	assert_int_equal(d.n_parts, 3);
	assert_part_type(&d, 0, "text/plain; charset=us-ascii");
	assert_true(HAS(d.parts[0],
	    "This is the mail system at host mail.example.net."));
	assert_true(HAS(d.parts[0],
	    "<bob@example.org>: host mx.example.org[192.0.2.25] said: 550"));
	/* Part 2: per message, then per recipient. */
	assert_part_type(&d, 1, "message/delivery-status");
	st = &d.parts[1];
	BODY_FIELD(*st, "Reporting-MTA", "dns; mail.example.net");
	BODY_FIELD(*st, "X-Dirmail-Queue-ID", o.env->id);
	BODY_FIELD(*st, "X-Dirmail-Sender", "rfc822; alice@example.org");
	assert_true(HAS(*st, "\r\nArrival-Date: "));
	assert_false(HAS(*st, "Original-Envelope-Id"));
	BODY_FIELD(*st, "Final-Recipient", "rfc822; bob@example.org");
	BODY_FIELD(*st, "Original-Recipient", "rfc822; Bob@Example.ORG");
	BODY_FIELD(*st, "Action", "failed");
	BODY_FIELD(*st, "Status", "5.1.1");
	BODY_FIELD(*st, "Remote-MTA", "dns; mx.example.org");
	BODY_FIELD(*st, "Diagnostic-Code",
	    "smtp; 550 5.1.1 <bob@example.org>: Recipient address rejected:"
	    " User unknown");
	assert_true(HAS(*st, "\r\nLast-Attempt-Date: "));
	assert_false(HAS(*st, "Will-Retry-Until"));
	/* Part 3: the original, whole. */
	assert_part_type(&d, 2, "message/rfc822");
	assert_true(d.parts[2].body_len >= strlen(ORIG));
	assert_memory_equal(d.parts[2].body, ORIG, strlen(ORIG));
	dsn_free(&d);
	orig_free(&o);
	close(rfd);
	free(fifo);
}

/*
 * Only the header section comes back, as text/rfc822-headers, for
 * RET=HDRS (whose envelope id is reported), for the caller's headers_only
 * and for a message over size_limit (part 1 then says why).
 */
static void
test_headers_only(void **state)
{
	static const char *const attrs[] = { "dsn_ret=HDRS",
	    "dsn_envid=QQ314159", NULL };
	struct bounce_params p = params();
	struct orig o;
	struct dsn d;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		p.headers_only = i == 1;
		p.size_limit = i == 2 ? strlen(ORIG) - 1 : 0;
		orig_make(&o, i == 0 ? attrs : NULL, ORIG, strlen(ORIG));
		notice(&p, &o, BOUNCE_FAILED, &rcpt_bob, 1, &d);
		assert_part_type(&d, 2, "text/rfc822-headers");
		assert_true(HAS(d.parts[2], "Subject: hello\r\n"));
		assert_false(has(d.text, d.len, "SECRET-BODY-TEXT"));
		assert_int_equal(HAS(d.parts[0], "larger than"), i == 2);
		assert_int_equal(HAS(d.parts[1],
		    "Original-Envelope-Id: QQ314159\r\n"), i == 0);
		dsn_free(&d);
		orig_free(&o);
	}
}

/* Without O_TMPFILE the files have temporary names: a bounce still
   commits, and a failed one leaves no temporary file behind. */
static void
test_named_files(void **state)
{
	struct bounce_params p = params();
	char id[QUEUE_ID_MAX + 1], *err = NULL;
	struct orig o;
	struct dsn d;
	int before;

	(void)state;
	queue_tmpfile_wanted = false;
	orig_make(&o, NULL, ORIG, strlen(ORIG));
	notice(&p, &o, BOUNCE_FAILED, &rcpt_bob, 1, &d);
	dsn_free(&d);
	before = incoming_count();
	file_fsync_errno = EIO;
	assert_int_equal(bounce_queue(&p, o.env, o.fd, BOUNCE_FAILED,
	    &rcpt_bob, 1, id, &err), -1);
	file_fsync_errno = 0;
	assert_non_null(strstr(err, "fsync"));
	free(err);
	assert_int_equal(incoming_count(), before);
	orig_free(&o);
	queue_tmpfile_wanted = true;
}

/* SMTPUTF8 mail gets RFC 6533's global types, UTF-8 addresses and 8bit;
   8-bit content is declared so. */
static void
test_smtputf8(void **state)
{
	static const char *const attrs[] = { "smtputf8=yes",
	    "body=8BITMIME", NULL };
	static const char content[] = "Subject: gr\xc3\xbc\xc3\x9f"
	    "e\r\n\r\nB\xc3\xa4r\r\n";
	struct bounce_rcpt r = rcpt_bob;
	struct bounce_params p = params();
	struct orig o;
	struct dsn d;

	(void)state;
	r.final = "j\xc3\xb6rg@example.org";
	orig_make(&o, attrs, content, strlen(content));
	notice(&p, &o, BOUNCE_FAILED, &r, 1, &d);
	assert_true(has(d.msg.hdr, d.msg.hdr_len,
	    "report-type=global-delivery-status"));
	assert_part_type(&d, 1, "message/global-delivery-status");
	BODY_FIELD(d.parts[1], "Final-Recipient",
	    "utf-8; j\xc3\xb6rg@example.org");
	assert_part_type(&d, 2, "message/global");
	HDR_FIELD(d.parts[2], "Content-Transfer-Encoding", "8bit");
	assert_string_equal(queue_envelope_attr(d.env, "smtputf8"), "yes");
	assert_string_equal(queue_envelope_attr(d.env, "body"), "8BITMIME");
	dsn_free(&d);
	orig_free(&o);
}

/* 8-bit content without SMTPUTF8: 8bit part, ASCII report, an 8-bit
   address as xtext. */
static void
test_8bit_plain(void **state)
{
	static const char content[] = "Subject: x\r\n\r\nB\xe4r\r\n";
	struct bounce_rcpt r = rcpt_bob;
	struct bounce_params p = params();
	struct orig o;
	struct dsn d;

	(void)state;
	r.final = "j\xc3\xb6rg@example.org";
	orig_make(&o, NULL, content, strlen(content));
	notice(&p, &o, BOUNCE_FAILED, &r, 1, &d);
	assert_part_type(&d, 1, "message/delivery-status");
	assert_false(HAS(d.parts[1], "\xc3"));
	BODY_FIELD(d.parts[1], "Final-Recipient",
	    "rfc822; j+C3+B6rg@example.org");
	assert_false(HAS(d.parts[0], "\xc3"));
	assert_part_type(&d, 2, "message/rfc822");
	HDR_FIELD(d.parts[2], "Content-Transfer-Encoding", "8bit");
	HDR_FIELD(d.msg, "Content-Transfer-Encoding", "8bit");
	assert_string_equal(queue_envelope_attr(d.env, "body"), "8BITMIME");
	dsn_free(&d);
	orig_free(&o);
}

/* A long reason with line ends and no white space, a plain ORCPT, a bad
   status, an original with a 2,000-byte header line and a 3,000-byte body
   line: still CRLF lines under 998 bytes, a sane status; a second
   recipient gets its own block. */
static void
test_long_reason(void **state)
{
	struct bounce_rcpt r[2] = { rcpt_bob, rcpt_bob };
	struct bounce_params p = params();
	struct orig o;
	struct dsn d;
	char *text = xmalloc(3001), *diag, *orig;
	const char *carol;

	(void)state;
	memset(text, 'x', 3000);
	text[3000] = '\0';
	memcpy(text + 100, "\r\nInjected: 1\n", 14);
	r[0].text = text;
	r[0].orcpt = "Bob@Example.ORG";
	r[0].dsn = "5.1.1\r\nX";
	r[0].relay = "local";
	r[1].final = "carol@example.org";
	orig = xasprintf("Subject: %.2000s\r\n\r\n%s\r\n", text, text);
	memset(orig + 9, 's', 2000);
	memset(orig + 2013, 'b', 3000);
	orig_make(&o, NULL, orig, strlen(orig));
	notice(&p, &o, BOUNCE_FAILED, r, 2, &d);
	assert_true(HAS(d.parts[2], "ss\r\n ss"));
	assert_false(has(d.text, d.len, "\r\nInjected:"));
	BODY_FIELD(d.parts[1], "Status", "5.0.0");
	BODY_FIELD(d.parts[1], "Original-Recipient", "rfc822; Bob@Example.ORG");
	diag = field(d.parts[1].body, d.parts[1].body_len, "Diagnostic-Code");
	assert_non_null(diag);
	assert_true(strncmp(diag, "x-dirmail; ", 11) == 0);
	assert_true(strlen(diag) > 2900);
	/* Only carol's block names a remote MTA. */
	assert_true(HAS(d.parts[1], "\r\n\r\nOriginal-Recipient: rfc822; "
	    "Bob@Example.ORG\r\nFinal-Recipient: rfc822; carol@example.org"
	    "\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: "));
	carol = strstr(d.text, "Final-Recipient: rfc822; carol");
	assert_false(has(d.parts[1].body, (size_t)(carol - d.parts[1].body),
	    "Remote-MTA"));
	assert_true(HAS(d.parts[0], "<carol@example.org>: host mx."));
	free(diag);
	free(text);
	free(orig);
	dsn_free(&d);
	orig_free(&o);
}

/* A delay warning: its subject and action, Will-Retry-Until, headers
   only even with RET=FULL. */
static void
test_delayed(void **state)
{
	static const char *const attrs[] = { "dsn_ret=FULL", NULL };
	struct bounce_rcpt r = rcpt_bob;
	struct bounce_params p = params();
	struct orig o;
	struct dsn d;

	(void)state;
	r.dsn = "4.4.1";
	r.text = "connect to mx.example.org[192.0.2.25]:25: Connection refused";
	p.will_retry_until = 1700432000;
	orig_make(&o, attrs, ORIG, strlen(ORIG));
	notice(&p, &o, BOUNCE_DELAYED, &r, 1, &d);
	HDR_FIELD(d.msg, "Subject", "Delayed Mail (still being retried)");
	BODY_FIELD(d.parts[1], "Action", "delayed");
	BODY_FIELD(d.parts[1], "Status", "4.4.1");
	assert_true(HAS(d.parts[1], "\r\nWill-Retry-Until: "));
	BODY_FIELD(d.parts[1], "Diagnostic-Code",
	    "x-dirmail; connect to mx.example.org[192.0.2.25]:25: "
	    "Connection refused");
	assert_part_type(&d, 2, "text/rfc822-headers");
	assert_false(has(d.text, d.len, "SECRET-BODY-TEXT"));
	dsn_free(&d);
	orig_free(&o);
}

/* A success report: headers by default, the whole message with
   RET=FULL. */
static void
test_delivered(void **state)
{
	static const char *const full[] = { "dsn_ret=FULL", NULL };
	struct bounce_rcpt r = rcpt_bob;
	struct bounce_params p = params();
	struct orig o;
	struct dsn d;

	(void)state;
	r.dsn = "2.0.0";
	r.relay = "virtual";
	r.text = "delivered to maildir";
	orig_make(&o, NULL, ORIG, strlen(ORIG));
	notice(&p, &o, BOUNCE_DELIVERED, &r, 1, &d);
	HDR_FIELD(d.msg, "Subject", "Successful Mail Delivery Report");
	BODY_FIELD(d.parts[1], "Action", "delivered");
	assert_part_type(&d, 2, "text/rfc822-headers");
	dsn_free(&d);
	orig_free(&o);

	orig_make(&o, full, ORIG, strlen(ORIG));
	notice(&p, &o, BOUNCE_DELIVERED, &r, 1, &d);
	assert_part_type(&d, 2, "message/rfc822");
	assert_true(HAS(d.parts[2], "SECRET-BODY-TEXT"));
	dsn_free(&d);
	orig_free(&o);
}

/* A forwarded copy: same sender and attributes, the new recipients with
   their ORCPT, Delivered-To first, then the original. */
static void
test_forward(void **state)
{
	static const char *const attrs[] = { "protocol=ESMTP",
	    "client_address=192.0.2.7", NULL };
	char *const rcpts[] = { "carol@example.org", "dave@example.org" };
	char *const orcpts[] = { "rfc822;bob@example.org", NULL };
	char id[QUEUE_ID_MAX + 1], *err = NULL, *text;
	struct queue_envelope *env;
	struct orig o;

	(void)state;
	orig_make(&o, attrs, ORIG, strlen(ORIG));
	assert_int_equal(bounce_forward(qdir, o.env, o.fd, "bob@example.org",
	    rcpts, orcpts, 2, id, &err), 0);
	text = queue_load(id, &env);
	assert_string_equal(text, "Delivered-To: bob@example.org\r\n" ORIG);
	assert_string_equal(env->sender, "alice@example.org");
	assert_string_equal(queue_envelope_attr(env, "protocol"), "ESMTP");
	assert_string_equal(queue_envelope_attr(env, "client_address"),
	    "192.0.2.7");
	assert_int_equal(env->n_rcpts, 2);
	assert_string_equal(env->rcpts[0].final, "carol@example.org");
	assert_string_equal(env->rcpts[0].orcpt, "rfc822;bob@example.org");
	assert_string_equal(env->rcpts[1].final, "dave@example.org");
	assert_null(env->rcpts[1].orcpt);
	free(text);
	queue_envelope_free(&env);
	orig_free(&o);
}

/* Bad input and failures: -1 with a reason, nothing left in incoming/. */
static void
test_errors(void **state)
{
	char *const rcpts[] = { "carol@example.org" };
	struct bounce_params p = params();
	char id[QUEUE_ID_MAX + 1], *err = NULL;
	struct orig o;
	int before;

	(void)state;
	orig_make(&o, NULL, ORIG, strlen(ORIG));
	before = incoming_count();
	/* A descriptor that is not open. */
	assert_int_equal(bounce_queue(&p, o.env, -1, BOUNCE_FAILED,
	    &rcpt_bob, 1, id, &err), -1);
	assert_non_null(strstr(err, "Bad file descriptor"));
	free(err);
	assert_int_equal(bounce_forward(qdir, o.env, -1, "bob@example.org",
	    rcpts, NULL, 1, id, &err), -1);
	assert_non_null(strstr(err, "Bad file descriptor"));
	free(err);
	/* Never to <>; a header cannot be smuggled in. */
	p.to = "";
	assert_int_equal(bounce_queue(&p, o.env, o.fd, BOUNCE_FAILED,
	    &rcpt_bob, 1, id, &err), -1);
	free(err);
	p.to = "alice@example.org";
	assert_int_equal(bounce_forward(qdir, o.env, o.fd,
	    "bob@example.org\r\nBcc: eve@example.org", rcpts, NULL, 1, id,
	    &err), -1);
	free(err);
	/* The disk fills up while the file is made durable. */
	file_fsync_errno = ENOSPC;
	assert_int_equal(bounce_queue(&p, o.env, o.fd, BOUNCE_FAILED,
	    &rcpt_bob, 1, id, &err), -1);
	assert_non_null(strstr(err, "No space left"));
	free(err);
	assert_int_equal(bounce_forward(qdir, o.env, o.fd, "bob@example.org",
	    rcpts, NULL, 1, id, &err), -1);
	free(err);
	file_fsync_errno = 0;
	assert_int_equal(incoming_count(), before);
	orig_free(&o);
}

/* Group setup: a private queue directory. */
static int
setup(void **state)
{
	char *err = NULL;

	if (testdir_setup(state) != 0)
		return -1;
	qdir = xasprintf("%s/queue", testdir);
	if (queue_dirs_create(qdir, (uid_t)-1, (gid_t)-1, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	free(qdir);
	return testdir_teardown(state);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_full),
		cmocka_unit_test(test_headers_only),
		cmocka_unit_test(test_named_files),
		cmocka_unit_test(test_smtputf8),
		cmocka_unit_test(test_8bit_plain),
		cmocka_unit_test(test_long_reason),
		cmocka_unit_test(test_delayed),
		cmocka_unit_test(test_delivered),
		cmocka_unit_test(test_forward),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
