/*
 * The mail transaction of the smtp agent: MAIL FROM, one RCPT TO per
 * recipient and DATA (all sent at once when the server offers
 * PIPELINING, else one at a time), the message dot-stuffed from the queue
 * file, and the reply to the final dot (LMTP: one per accepted
 * recipient).
 */

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "delivery/smtp_session.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* How much of the message is read and queued at a time. */
#define SMTPC_CHUNK	65536

/* The class of a reply code: 2, 4 or 5 (anything unexpected is 4). */
static int
reply_class(int code)
{
	int c = code / 100;

	return c == 2 || c == 5 ? c : 4;
}

/* True when attribute NAME of D's message is a yes. */
static bool
attr_true(const struct delivery *d, const char *name)
{
	const char *v = dproto_request_attr(&d->req, name);

	return v != NULL && (str_is_true(v) || strcasecmp(v, "yes") == 0);
}

/* The size of the message as MAIL FROM declares it. */
static unsigned long long
message_size(const struct delivery *d)
{
	const char *v = dproto_request_attr(&d->req, "size");

	if (v != NULL && *v != '\0' && v[strspn(v, "0123456789")] == '\0')
		return strtoull(v, NULL, 10);
	return d->req.length;
}

/* Send MAIL FROM with the ESMTP parameters the server offers. */
static void
send_mail(struct smtpc_session *s)
{
	const struct delivery *d = s->d;
	const char *v;
	struct str cmd = STR_INIT;

	str_appendf(&cmd, "MAIL FROM:<%s>", d->req.sender);
	if (s->feats & SMTP_FEAT_SIZE)
		str_appendf(&cmd, " SIZE=%llu", message_size(d));
	v = dproto_request_attr(&d->req, "body");
	if ((s->feats & SMTP_FEAT_8BITMIME) && v != NULL &&
	    strcasecmp(v, "8BITMIME") == 0)
		str_append(&cmd, " BODY=8BITMIME");
	if ((s->feats & SMTP_FEAT_SMTPUTF8) && attr_true(d, "smtputf8"))
		str_append(&cmd, " SMTPUTF8");
	if (s->feats & SMTP_FEAT_DSN) {
		v = dproto_request_attr(&d->req, "dsn_ret");
		if (v != NULL && *v != '\0')
			str_appendf(&cmd, " RET=%s", v);
		v = dproto_request_attr(&d->req, "dsn_envid");
		if (v != NULL && *v != '\0') {
			str_append(&cmd, " ENVID=");
			smtp_xtext(&cmd, v);
		}
	}
	session_send(s, true, "%s", str_c(&cmd));
	str_free(&cmd);
}

/* Send RCPT TO for recipient I, with NOTIFY and ORCPT under DSN. */
static void
send_rcpt(struct smtpc_session *s, size_t i)
{
	const struct dproto_rcpt *r = &s->d->req.rcpts[i];
	const char *semi;
	struct str cmd = STR_INIT;

	str_appendf(&cmd, "RCPT TO:<%s>", r->final);
	if ((s->feats & SMTP_FEAT_DSN) && *r->notify != '\0')
		str_appendf(&cmd, " NOTIFY=%s", r->notify);
	if ((s->feats & SMTP_FEAT_DSN) && *r->orcpt != '\0') {
		/* "rfc822;addr" keeps its type; a bare address is rfc822. */
		semi = strchr(r->orcpt, ';');
		str_append(&cmd, " ORCPT=");
		if (semi != NULL) {
			str_append_n(&cmd, r->orcpt, (size_t)(semi - r->orcpt));
			str_append_c(&cmd, ';');
			smtp_xtext(&cmd, semi + 1);
		} else {
			str_append(&cmd, "rfc822;");
			smtp_xtext(&cmd, r->orcpt);
		}
	}
	session_send(s, true, "%s", str_c(&cmd));
	str_free(&cmd);
}

/* Send command K of the transaction: MAIL, the RCPTs, DATA. */
static void
send_command(struct smtpc_session *s, size_t k)
{
	size_t n = s->d->req.n_rcpts;

	if (k == 0)
		send_mail(s);
	else if (k <= n)
		send_rcpt(s, k - 1);
	else
		session_send(s, true, "DATA");
	s->n_sent = k + 1;
}

void
xact_begin(struct smtpc_session *s)
{
	size_t n = s->d->req.n_rcpts, k;
	unsigned long long size = message_size(s->d);
	char *text;

	if ((s->feats & SMTP_FEAT_SIZE) && s->size_max > 0 &&
	    size > s->size_max) {
		/* As Postfix: never send what the server said it refuses. */
		text = xasprintf("message size %llu exceeds size limit %llu "
		    "of server %s", size, s->size_max, s->desc);
		delivery_set_all(s->d, 5, "5.3.4", s->relay, text);
		free(text);
		session_release(s);
		return;
	}

	s->n_sent = s->n_replied = s->n_accepted = s->n_dot = 0;
	free(s->accepted);
	s->accepted = xcalloc(n, sizeof(*s->accepted));
	if (s->feats & SMTP_FEAT_PIPELINING) {
		for (k = 0; k < n + 2; k++)
			send_command(s, k);
	} else {
		send_command(s, 0);
	}
	session_enter(s, SS_XACT, smtpc.helo_timeout);
}

/* Give every accepted recipient the reply just read to COMMAND. */
static void
set_accepted(struct smtpc_session *s, const char *command)
{
	char buf[16], *text;
	const char *dsn = smtp_reply_dsn(&s->reply, buf);
	int class = reply_class(s->reply.code);
	size_t i;

	if (class == 2)
		text = xstrdup(str_c(&s->reply.text));
	else
		text = session_said(s, command);
	if (*dsn - '0' != class)
		dsn = class == 5 ? "5.0.0" : class == 4 ? "4.0.0" : "2.0.0";
	for (i = 0; i < s->n_accepted; i++)
		delivery_set(s->d, s->accepted[i], class, dsn, s->relay, text);
	free(text);
}

/* The reply to RCPT TO for recipient I. */
static void
rcpt_reply(struct smtpc_session *s, size_t i)
{
	char buf[16], *text;
	const char *dsn;
	int class = reply_class(s->reply.code);

	if (class == 2) {
		s->accepted[s->n_accepted++] = i;
		return;
	}
	dsn = smtp_reply_dsn(&s->reply, buf);
	if (*dsn - '0' != class)
		dsn = class == 5 ? "5.0.0" : "4.0.0";
	text = session_said(s, "RCPT TO");
	delivery_set(s->d, i, class, dsn, s->relay, text);
	free(text);
}

/* The reply to DATA. */
static void
data_reply(struct smtpc_session *s)
{
	if (s->reply.code != 354) {
		set_accepted(s, "DATA");
		session_release(s);
		return;
	}
	s->body_off = 0;
	s->bol = true;
	if (s->n_accepted == 0) {
		/* Pipelined DATA with no recipient left: end it empty. */
		session_send(s, true, ".");
		session_enter(s, SS_DOT, smtpc.data_done_timeout);
		return;
	}
	session_enter(s, SS_BODY, smtpc.helo_timeout);
	xact_write_more(s);
}

void
xact_reply(struct smtpc_session *s)
{
	size_t n = s->d->req.n_rcpts, k = s->n_replied++;
	bool pipelined = (s->feats & SMTP_FEAT_PIPELINING) != 0;

	if (s->state == SS_BODY) {
		/* A reply in the middle of the message: the server gave up. */
		s->broken = true;
		set_accepted(s, "end of DATA");
		session_release(s);
		return;
	}
	if (k == 0) {
		if (reply_class(s->reply.code) != 2) {
			s->n_accepted = n;
			for (k = 0; k < n; k++)
				s->accepted[k] = k;
			set_accepted(s, "MAIL FROM");
			/* Pipelined replies would still come: start over. */
			s->broken = pipelined;
			session_release(s);
			return;
		}
	} else if (k <= n) {
		rcpt_reply(s, k - 1);
		if (!pipelined && k == n && s->n_accepted == 0) {
			session_release(s);
			return;
		}
	} else {
		data_reply(s);
		return;
	}
	if (!pipelined)
		send_command(s, k + 1);
	session_enter(s, SS_XACT, smtpc.helo_timeout);
}

void
xact_write_more(struct smtpc_session *s)
{
	struct delivery *d = s->d;
	unsigned long long left = d->req.length - s->body_off;
	size_t want = left < SMTPC_CHUNK ? (size_t)left : SMTPC_CHUNK;
	char *buf = xmalloc(SMTPC_CHUNK);
	struct str out = STR_INIT;
	ssize_t got = 0;

	if (want > 0)
		got = pread(d->fd, buf, want, (off_t)(d->req.offset +
		    s->body_off));
	if (want > 0 && got <= 0) {
		log_warning("%s: read %s: %s", d->req.queue_id, d->req.path,
		    got < 0 ? strerror(errno) : "unexpected end of file");
		free(buf);
		/* Drop the connection: the server must not take a
		   truncated message. */
		session_fail(s, 4, "4.3.0", "error reading the queue file");
		return;
	}
	smtp_dot_stuff(&out, buf, (size_t)got, &s->bol);
	free(buf);
	s->body_off += (unsigned long long)got;
	if (s->body_off >= d->req.length) {
		smtp_dot_end(&out, s->bol);
		session_enter(s, SS_DOT, smtpc.data_done_timeout);
	} else {
		session_enter(s, SS_BODY, smtpc.helo_timeout);
	}
	bufferevent_write(s->bev, out.s != NULL ? out.s : "", out.len);
	str_free(&out);
}

void
xact_dot_reply(struct smtpc_session *s)
{
	char buf[16], *text;
	const char *dsn;
	int class;
	size_t i;

	if (!s->lmtp || s->n_accepted == 0) {
		set_accepted(s, "end of DATA");
		session_release(s);
		return;
	}
	/* LMTP: one reply per accepted recipient, in RCPT order. */
	i = s->accepted[s->n_dot++];
	class = reply_class(s->reply.code);
	dsn = smtp_reply_dsn(&s->reply, buf);
	if (*dsn - '0' != class)
		dsn = class == 5 ? "5.0.0" : class == 4 ? "4.0.0" : "2.0.0";
	text = class == 2 ? xstrdup(str_c(&s->reply.text)) :
	    session_said(s, "end of DATA");
	delivery_set(s->d, i, class, dsn, s->relay, text);
	free(text);
	if (s->n_dot == s->n_accepted)
		session_release(s);
}
