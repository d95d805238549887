/*
 * DATA and BDAT: the message text into the queue file.
 *
 * Only <CR><LF>.<CR><LF> ends DATA.  A bare <LF> or <CR> anywhere is, by
 * smtpd_forbid_bare_newline: yes, refused (521, the connection closes, so
 * nothing after it can be read as a second message); normalize, a line
 * end (<LF> only) that can never start or end the terminating dot line;
 * no, a plain byte.  BDAT chunks are counted bytes without dot processing.
 */

#include "config.h"

#include <sys/time.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>

#include "global/addr.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "queue/queue.h"
#include "smtpd/smtpd.h"

/* The DATA parser's states. */
enum {
	D_BOL,		/* at the start of a line */
	D_TEXT,		/* inside a line */
	D_CR,		/* a CR that may start the line end */
	D_DOT,		/* a dot at the start of a line */
	D_DOT_CR,	/* ".\r" at the start of a line */
};

/* Bytes of message text collected before they go to the queue file. */
struct data_out {
	struct session *s;
	size_t n;
	unsigned char buf[8192];
};

/* Send the collected text to the queue file. */
static void
out_flush(struct data_out *o)
{
	if (o->n > 0 && o->s->qf != NULL && o->s->data_error == NULL) {
		if (o->s->pickup != NULL)
			pickup_write(o->s, o->buf, o->n);
		else
			queue_file_write(o->s->qf, o->buf, o->n);
	}
	o->n = 0;
}

/* Account for one byte of text: size and header limits. */
static void
out_count(struct session *s, unsigned char c)
{
	s->msg_bytes++;
	if (smtpd.size_limit > 0 && s->msg_bytes > smtpd.size_limit &&
	    s->data_error == NULL)
		s->data_error = "552 5.3.4 Message size exceeds fixed limit";
	if (!s->in_header)
		return;
	s->header_bytes++;
	if (c == '\n') {
		if (s->header_nl == 0)
			s->in_header = false;
		s->header_nl = 0;
	} else if (c != '\r')
		s->header_nl++;
	if (s->in_header && s->header_bytes > smtpd.header_limit &&
	    s->data_error == NULL)
		s->data_error = "552 5.3.4 Message header size exceeds limit";
}

/* Add one byte of text. */
static void
out_byte(struct data_out *o, unsigned char c)
{
	out_count(o->s, c);
	if (o->n == sizeof(o->buf))
		out_flush(o);
	o->buf[o->n++] = c;
}

/* Add N bytes of line text at P (no CR or LF among them). */
static void
out_run(struct data_out *o, const unsigned char *p, size_t n)
{
	struct session *s = o->s;
	size_t room;

	s->msg_bytes += n;
	if (smtpd.size_limit > 0 && s->msg_bytes > smtpd.size_limit &&
	    s->data_error == NULL)
		s->data_error = "552 5.3.4 Message size exceeds fixed limit";
	if (s->in_header) {
		s->header_bytes += n;
		s->header_nl += (int)n;
		if (s->header_bytes > smtpd.header_limit &&
		    s->data_error == NULL)
			s->data_error = "552 5.3.4 Message header size "
			    "exceeds limit";
	}
	while (n > 0) {
		if (o->n == sizeof(o->buf))
			out_flush(o);
		room = sizeof(o->buf) - o->n;
		if (room > n)
			room = n;
		memcpy(o->buf + o->n, p, room);
		o->n += room;
		p += room;
		n -= room;
	}
}

/* Add the bytes P. */
static void
out_str(struct data_out *o, const char *p)
{
	while (*p != '\0')
		out_byte(o, (unsigned char)*p++);
}

/* A bare LF (or CR when CR is true) in DATA.  Returns false when the
   message is refused. */
static bool
data_bare(struct session *s, struct data_out *o, bool cr)
{
	if (smtpd.forbid_bare_newline == 1) {
		log_info("%s: bare <%s> received in DATA from %s",
		    s->queue_id != NULL ? s->queue_id : "NOQUEUE",
		    cr ? "CR" : "LF", s->client_id);
		s->data_error = cr ? "521 5.5.2 Error: bare <CR> received" :
		    "521 5.5.2 Error: bare <LF> received";
		return false;
	}
	if (cr) {
		out_byte(o, '\r');
		s->data_state = D_TEXT;
	} else if (smtpd.forbid_bare_newline == 2) {
		out_str(o, "\r\n");
		s->data_state = D_BOL;
		s->bol_crlf = false;
	} else {
		out_byte(o, '\n');
		s->data_state = D_TEXT;
	}
	return true;
}

/*
 * Run the DATA parser over the byte C.  Returns 1 at the end of the data,
 * 0 to go on, -1 when a bare line end was refused.
 */
static int
data_byte(struct session *s, struct data_out *o, unsigned char c)
{
	switch (s->data_state) {
	case D_BOL:
		if (c == '.') {
			s->data_state = D_DOT;
			return 0;
		}
		s->data_state = D_TEXT;
		/* FALLTHROUGH */
	case D_TEXT:
		if (c == '\r')
			s->data_state = D_CR;
		else if (c == '\n')
			return data_bare(s, o, false) ? 0 : -1;
		else
			out_byte(o, c);
		return 0;
	case D_CR:
		if (c == '\n') {
			out_str(o, "\r\n");
			s->data_state = D_BOL;
			s->bol_crlf = true;
			return 0;
		}
		if (!data_bare(s, o, true))
			return -1;
		return data_byte(s, o, c);
	case D_DOT:
		if (c == '\r') {
			s->data_state = D_DOT_CR;
			return 0;
		}
		if (c == '\n') {
			/* ".<LF>" is never the end. */
			out_byte(o, '.');
			return data_bare(s, o, false) ? 0 : -1;
		}
		/* Dot-stuffing: the first dot goes. */
		s->data_state = D_TEXT;
		out_byte(o, c);
		return 0;
	default:	/* D_DOT_CR */
		if (c == '\n' && s->bol_crlf)
			return 1;
		out_byte(o, '.');
		if (c == '\n') {
			out_str(o, "\r\n");
			s->data_state = D_BOL;
			s->bol_crlf = true;
			return 0;
		}
		if (!data_bare(s, o, true))
			return -1;
		return data_byte(s, o, c);
	}
}

/* The message could not be written: log WHY and say 452 for a full
   disk (ERR is ENOSPC), 451 otherwise. */
static void
data_write_error(struct session *s, const char *why, int err)
{
	log_warning("%s: queue file write error: %s", s->queue_id, why);
	if (err == ENOSPC)
		session_reply(s, "452 4.3.1 Insufficient system storage");
	else
		session_reply(s, "451 4.3.0 Error: queue file write error");
}

/* The queue file is durable (or not): answer the client. */
static void
data_committed(int status, const char *error, void *ctx)
{
	struct session *s = ctx;

	s->commit_pending = false;
	if (status == 0) {
		char *from = addr_external(s->sender);

		log_info("%s: from=<%s>, size=%llu, nrcpt=%zu (queued)",
		    s->queue_id, from, s->msg_bytes, s->n_rcpts);
		free(from);
		session_reply(s, "250 2.0.0 Ok: queued as %s", s->queue_id);
		queue_notify(smtpd.queue_dir);
	} else
		data_write_error(s, error != NULL ? error : "unknown error",
		    queue_committer_errno(smtpd.committer));
	session_reset(s);
	session_resume(s, S_CMD);
}

/* The text is complete: refuse it or commit it. */
static void
data_finish(struct session *s)
{
	const char *refusal;
	int err;

	if ((refusal = s->data_error) != NULL) {
		log_info("%s: reject: %s from %s", s->queue_id, refusal,
		    s->client_id);
		session_reset(s);
		s->state = S_CMD;
		session_reply_error(s, "%s", refusal);
		return;
	}
	if (s->pickup != NULL)
		pickup_finish(s);
	if ((err = queue_file_error(s->qf)) != 0) {
		data_write_error(s, strerror(err), err);
		session_reset(s);
		s->state = S_CMD;
		return;
	}
	s->commit_pending = true;
	session_pause(s);
	queue_file_commit(smtpd.committer, &s->qf, data_committed, s);
}

/* The length of the run at P (N bytes) before the first CR or LF. */
static size_t
data_text_run(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && p[i] != '\r' && p[i] != '\n'; i++)
		;
	return i;
}

/* Feed DATA input.  Returns false when more input is needed. */
static bool
data_input_data(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	struct data_out o = { .s = s };
	unsigned char *p;
	size_t len, i;
	int r = 0;

	while ((len = evbuffer_get_contiguous_space(in)) > 0) {
		p = evbuffer_pullup(in, (ev_ssize_t)len);
		for (i = 0; i < len && r == 0; i++) {
			if (s->data_state == D_TEXT) {
				/* The common case: a run of line text. */
				size_t run = data_text_run(p + i, len - i);

				out_run(&o, p + i, run);
				if ((i += run) == len)
					break;
			}
			r = data_byte(s, &o, p[i]);
		}
		evbuffer_drain(in, i);
		if (r != 0)
			break;
	}
	out_flush(&o);
	if (r == 0)
		return false;
	if (r < 0) {
		session_reply(s, "%s", s->data_error);
		session_reset(s);
		session_close(s);
		return false;
	}
	data_finish(s);
	return true;
}

/* Feed BDAT input.  Returns false when more input is needed. */
static bool
data_input_bdat(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	struct data_out o = { .s = s };
	unsigned char *p;
	size_t len, i;

	while (s->bdat_left > 0 &&
	    (len = evbuffer_get_contiguous_space(in)) > 0) {
		if (len > s->bdat_left)
			len = (size_t)s->bdat_left;
		p = evbuffer_pullup(in, (ev_ssize_t)len);
		if (!s->bdat_discard)
			for (i = 0; i < len; i++)
				out_byte(&o, p[i]);
		out_flush(&o);
		evbuffer_drain(in, len);
		s->bdat_left -= len;
	}
	if (s->bdat_left > 0)
		return false;
	s->state = S_CMD;
	if (s->bdat_discard) {
		session_reply_error(s, "%s", s->bdat_reply != NULL ?
		    s->bdat_reply : "503 5.5.1 Error: need RCPT command");
		if (s->bdat_last)
			session_reset(s);
	} else if (s->bdat_last)
		data_finish(s);
	else
		session_reply(s, "250 2.0.0 Ok: %zu bytes",
		    (size_t)s->msg_bytes);
	return true;
}

/* Feed the input to the DATA or BDAT reader. */
bool
data_input(struct session *s)
{
	return s->state == S_DATA ? data_input_data(s) : data_input_bdat(s);
}

/* Drop the message being received. */
void
data_abort(struct session *s)
{
	if (s->qf != NULL)
		queue_file_abort(&s->qf);
	pickup_abort(s);
	if (s->commit_pending) {
		queue_commit_cancel(smtpd.committer, s);
		s->commit_pending = false;
	}
	free(s->queue_id);
	s->queue_id = NULL;
	free(s->bdat_reply);
	s->bdat_reply = NULL;
}

/* Did an earlier recipient than final address J of recipient I expand
   to the same address?  Each address is queued once. */
static bool
data_seen(const struct session *s, size_t i, size_t j)
{
	const char *addr = s->rcpts[i].final[j];
	size_t k, m;

	for (k = 0; k <= i; k++) {
		char **final = s->rcpts[k].final;

		for (m = 0; final[m] != NULL && (k < i || m < j); m++)
			if (strcmp(final[m], addr) == 0)
				return true;
	}
	return false;
}

/* Write the envelope records. */
static void
data_envelope(struct session *s)
{
	struct queue_file *qf = s->qf;
	struct timeval tv;
	char buf[64];
	size_t i, j;

	gettimeofday(&tv, NULL);
	snprintf(buf, sizeof(buf), "%lld.%06ld", (long long)tv.tv_sec,
	    (long)tv.tv_usec);
	queue_file_record(qf, 'T', buf, strlen(buf));
	queue_file_record(qf, 'S', s->sender, strlen(s->sender));
	queue_file_attr(qf, "client_name", s->client_name);
	queue_file_attr(qf, "client_address", s->client_addr);
	snprintf(buf, sizeof(buf), "%u", s->client_port);
	queue_file_attr(qf, "client_port", buf);
	if (s->helo != NULL)
		queue_file_attr(qf, "helo_name", s->helo);
	queue_file_attr(qf, "protocol", session_protocol(s));
	if (s->sasl_username != NULL) {
		queue_file_attr(qf, "sasl_method", s->sasl_method);
		queue_file_attr(qf, "sasl_username", s->sasl_username);
	}
	queue_file_attr(qf, "body", s->body_8bit ? "8BITMIME" : "7BIT");
	if (s->smtputf8)
		queue_file_attr(qf, "smtputf8", "yes");
	if (s->dsn_envid != NULL)
		queue_file_attr(qf, "dsn_envid", s->dsn_envid);
	if (s->dsn_ret != NULL)
		queue_file_attr(qf, "dsn_ret", s->dsn_ret);
	if (s->pickup != NULL)
		pickup_envelope(s, qf);
	for (i = 0; i < s->n_rcpts; i++)
		for (j = 0; s->rcpts[i].final[j] != NULL; j++)
			if (!data_seen(s, i, j))
				queue_file_recipient(qf, s->rcpts[i].orcpt,
				    s->rcpts[i].notify, s->rcpts[i].final[j]);
	queue_file_begin_content(qf);
}

/* The Received: header, as Postfix writes it. */
static void
data_received(struct session *s, struct data_out *o)
{
	char date[64], *rcpt = NULL;
	struct str h = STR_INIT;
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z (%Z)", &tm);
	if (s->pickup != NULL) {
		pickup_received(s, &h, date);
		out_str(o, str_c(&h));
		str_free(&h);
		return;
	}
	str_appendf(&h, "Received: from %s (%s [%s])\r\n\tby %s "
	    "(dirmail) with %s id %s", s->helo != NULL ? s->helo :
	    s->client_addr, s->client_name, s->client_addr,
	    smtpd.hostname, session_protocol(s), s->queue_id);
	if (s->n_rcpts == 1 && s->rcpts[0].final[0] != NULL &&
	    s->rcpts[0].final[1] == NULL) {
		rcpt = addr_external(s->rcpts[0].final[0]);
		str_appendf(&h, "\r\n\tfor <%s>", rcpt);
		free(rcpt);
	}
	str_appendf(&h, "; %s\r\n", date);
	out_str(o, str_c(&h));
	str_free(&h);
}

/* Create the queue file for the transaction.  Returns NULL, or the
   refusal (allocated). */
static char *
data_open(struct session *s)
{
	struct data_out o = { .s = s };
	char *error;

	if (queue_spares_take(smtpd.spares, &s->qf, &error) < 0) {
		log_warning("cannot create a queue file: %s", error);
		free(error);
		return xstrdup("451 4.3.0 Error: queue file write error");
	}
	s->queue_id = xstrdup(queue_file_id(s->qf));
	/* For pickup, pickup_envelope() logs the uid and the sender. */
	if (s->pickup == NULL && s->sasl_username != NULL)
		log_info("%s: client=%s, sasl_method=%s, sasl_username=%s",
		    s->queue_id, s->client_id, s->sasl_method,
		    s->sasl_username);
	else if (s->pickup == NULL)
		log_info("%s: client=%s", s->queue_id, s->client_id);
	data_envelope(s);
	s->msg_bytes = s->header_bytes = 0;
	s->in_header = true;
	s->header_nl = 0;
	s->data_error = NULL;
	if (s->pickup != NULL)
		pickup_begin(s);
	data_received(s, &o);
	out_flush(&o);
	return NULL;
}

/* Is there a transaction with recipients?  NULL, or the refusal
   (allocated). */
static char *
data_sequence(const struct session *s)
{
	if (s->has_mail && s->n_rcpts > 0)
		return NULL;
	return xstrdup(s->has_mail && s->rcpt_tries > 0 ?
	    "554 5.5.1 Error: no valid recipients" :
	    "503 5.5.1 Error: need RCPT command");
}

/* The data restrictions answered: open the queue file.  NULL, or the
   refusal (allocated, logged). */
static char *
data_checked_open(struct session *s, struct lookup *l, const char *stage)
{
	char *text;

	if (!l->refused)
		return data_open(s);
	text = xasprintf("%d %s %s", l->reply.code, l->reply.dsn,
	    l->reply.text);
	session_log_reject(s, stage, text, NULL);
	return text;
}

/* DATA may go on: ask for the text. */
static void
data_checked(struct session *s, struct lookup *l)
{
	char *refusal;

	if ((refusal = data_checked_open(s, l, "DATA")) != NULL) {
		session_reply_error(s, "%s", refusal);
		free(refusal);
		return;
	}
	session_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	s->data_state = D_BOL;
	s->bol_crlf = true;
	s->state = S_DATA;
}

/* DATA. */
void
data_start(struct session *s, char *args)
{
	char *refusal;

	if (*args != '\0') {
		session_reply_error(s, "501 5.5.4 Syntax: DATA");
		return;
	}
	if (s->bdat_started) {
		session_reply_error(s, "503 5.5.1 Error: DATA after BDAT");
		return;
	}
	if ((refusal = data_sequence(s)) != NULL) {
		session_reply_error(s, "%s", refusal);
		free(refusal);
		return;
	}
	lookup_start(s, LK_DATA, NULL, data_checked);
}

/* Parse "SIZE [LAST]".  0, or -1 when malformed. */
static int
bdat_parse(char *args, unsigned long long *size_r, bool *last_r)
{
	char *end;

	if (!isdigit((unsigned char)*args))
		return -1;
	errno = 0;
	*size_r = strtoull(args, &end, 10);
	if (errno == ERANGE || (*end != '\0' && *end != ' '))
		return -1;
	while (*end == ' ')
		end++;
	*last_r = strcasecmp(end, "LAST") == 0;
	return *end == '\0' || *last_r ? 0 : -1;
}

/* The first chunk's restrictions answered: read the chunk. */
static void
bdat_checked(struct session *s, struct lookup *l)
{
	if ((s->bdat_reply = data_checked_open(s, l, "BDAT")) != NULL)
		s->bdat_discard = true;
	else
		s->bdat_started = true;
	s->state = S_BDAT;
}

/* BDAT SIZE [LAST]. */
void
bdat_start(struct session *s, char *args)
{
	unsigned long long size;
	bool last;

	if (bdat_parse(args, &size, &last) < 0) {
		/* The chunk length is unknown: we cannot stay in step. */
		session_reply(s, "501 5.5.4 Syntax: BDAT count [LAST]");
		session_close(s);
		return;
	}
	s->bdat_left = size;
	s->bdat_last = last;
	if (s->bdat_discard || s->bdat_started) {
		s->state = S_BDAT;
		return;
	}
	/* Refused before the text: the chunk is read and dropped, and the
	   refusal is the reply to it (and to the chunks after it). */
	if ((s->bdat_reply = data_sequence(s)) != NULL) {
		s->bdat_discard = true;
		s->state = S_BDAT;
		return;
	}
	lookup_start(s, LK_DATA, NULL, bdat_checked);
}
