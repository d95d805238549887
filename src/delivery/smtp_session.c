/*
 * A connection of the smtp agent: connect, greeting, EHLO (LHLO, HELO),
 * then STARTTLS and AUTH when due, the transaction (smtp_xact.c), and
 * afterwards the connection cache.  Replies are read line by line; each
 * complete reply goes to the handler of the state the session is in.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "delivery/smtp_session.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* The longest reply line taken. */
#define SMTPC_LINE_MAX	8192
/* How long QUIT may take. */
#define SMTPC_QUIT_TIMEOUT	5

/* Idle connections, newest first. */
static struct smtpc_session *cache;

static void session_free(struct smtpc_session *s);

/* What S was doing, for "... while DOING". */
static const char *
doing(const struct smtpc_session *s)
{
	switch (s->state) {
	case SS_GREETING:
		return "receiving the initial server greeting";
	case SS_EHLO:
	case SS_HELO:
		return s->lmtp ? "performing the LHLO handshake" :
		    "performing the EHLO handshake";
	case SS_STARTTLS:
	case SS_TLS:
		return "performing the STARTTLS handshake";
	case SS_LOOKUP:
		return "looking up the SASL password";
	case SS_AUTH:
		return "performing SASL authentication";
	case SS_RSET:
		return "sending RSET";
	case SS_XACT:
		return s->n_replied == 0 ? "sending MAIL FROM" :
		    s->d != NULL && s->n_replied <= s->d->req.n_rcpts ?
		    "sending RCPT TO" : "sending DATA command";
	case SS_BODY:
		return "sending message body";
	case SS_DOT:
		return "sending end of data -- message may be sent more than "
		    "once";
	default:
		return "talking";
	}
}

void
session_enter(struct smtpc_session *s, enum smtpc_state state, long timeout)
{
	struct timeval tv = { timeout, 0 };

	log_debug("%s: state %d -> %d", s->desc, (int)s->state, (int)state);
	s->state = state;
	evtimer_del(s->timer);
	if (timeout > 0)
		evtimer_add(s->timer, &tv);
}

void
session_send(struct smtpc_session *s, bool visible, const char *fmt, ...)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	va_list ap;
	char *line;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		log_fatal("out of memory");
	va_end(ap);
	if (visible)
		log_debug("%s: > %s", s->desc, line);
	evbuffer_add_printf(out, "%s\r\n", line);
	free(line);
}

char *
session_said(struct smtpc_session *s, const char *command)
{
	return xasprintf("host %s said: %s (in reply to %s command)",
	    s->desc, str_c(&s->reply.text), command);
}

void
session_fail(struct smtpc_session *s, int class, const char *dsn,
    const char *text)
{
	struct delivery *d = s->d;
	enum smtpc_state state = s->state;
	char *relay = xstrdup(s->relay);

	s->d = NULL;
	session_free(s);
	if (d != NULL) {
		d->sess = NULL;
		if (state == SS_RSET) {
			/* A cached connection that went stale. */
			log_debug("%s: cached connection: %s", d->req.queue_id,
			    text);
			delivery_connect(d);
		} else if (state < SS_XACT) {
			log_info("%s: %s", d->req.queue_id, text);
			delivery_next_address(d, class, dsn, text);
		} else {
			delivery_set_all(d, class, dsn, relay, text);
			delivery_finish(d);
		}
	}
	free(relay);
}

void
session_fail_reply(struct smtpc_session *s, const char *command)
{
	char buf[16], *text;
	int class = s->reply.code / 100 == 5 ? 5 : 4;
	const char *dsn = smtp_reply_dsn(&s->reply, buf);

	if (command == NULL)
		text = xasprintf("host %s refused to talk to me: %s", s->desc,
		    str_c(&s->reply.text));
	else
		text = session_said(s, command);
	if (*dsn - '0' != class)
		dsn = class == 5 ? "5.0.0" : "4.0.0";
	session_fail(s, class, dsn, text);
	free(text);
}

/* Send EHLO (LHLO). */
static void
send_ehlo(struct smtpc_session *s)
{
	session_send(s, true, "%s %s", s->lmtp ? "LHLO" : "EHLO",
	    smtpc.helo_name);
	session_enter(s, SS_EHLO, smtpc.helo_timeout);
}

void
session_ready(struct smtpc_session *s)
{
	if (!s->tls && s->tls_wanted) {
		if (s->feats & SMTP_FEAT_STARTTLS) {
			session_send(s, true, "STARTTLS");
			session_enter(s, SS_STARTTLS, smtpc.helo_timeout);
			return;
		}
		if (smtpc.tls_level >= TLS_LEVEL_ENCRYPT) {
			char *text = xasprintf("TLS is required, but was not "
			    "offered by host %s", s->desc);

			session_fail(s, 4, "4.7.4", text);
			free(text);
			return;
		}
	}
	if (sasl_begin(s))
		return;
	xact_begin(s);
}

/* The greeting. */
static void
on_greeting(struct smtpc_session *s)
{
	if (s->reply.code / 100 != 2) {
		session_fail_reply(s, NULL);
		return;
	}
	send_ehlo(s);
}

/* The reply to EHLO, LHLO or HELO. */
static void
on_ehlo(struct smtpc_session *s)
{
	if (s->reply.code / 100 == 2) {
		free(s->mechs);
		s->mechs = NULL;
		s->size_max = 0;
		s->feats = s->state == SS_HELO ? 0 :
		    smtp_ehlo_features(&s->reply, &s->mechs, &s->size_max);
		session_ready(s);
		return;
	}
	if (s->state == SS_EHLO && !s->lmtp && !s->helo_tried &&
	    s->reply.code / 100 == 5) {
		s->helo_tried = true;
		session_send(s, true, "HELO %s", smtpc.helo_name);
		session_enter(s, SS_HELO, smtpc.helo_timeout);
		return;
	}
	session_fail_reply(s, s->lmtp ? "LHLO" : s->state == SS_HELO ?
	    "HELO" : "EHLO");
}

/* The reply to STARTTLS. */
static void
on_starttls(struct smtpc_session *s)
{
	char *text;

	if (s->reply.code / 100 == 2) {
		tls_start(s);
		return;
	}
	if (smtpc.tls_level == TLS_LEVEL_MAY) {
		s->tls_wanted = false;
		session_ready(s);
		return;
	}
	text = xasprintf("TLS is required, but host %s refused to start "
	    "TLS: %s", s->desc, str_c(&s->reply.text));
	session_fail(s, 4, "4.7.4", text);
	free(text);
}

/* The reply to RSET on a reused connection. */
static void
on_rset(struct smtpc_session *s)
{
	if (s->reply.code / 100 != 2) {
		session_fail(s, 4, "4.4.2", "RSET failed");
		return;
	}
	xact_begin(s);
}

/* A complete reply arrived. */
static void
dispatch(struct smtpc_session *s)
{
	switch (s->state) {
	case SS_GREETING:
		on_greeting(s);
		break;
	case SS_EHLO:
	case SS_HELO:
		on_ehlo(s);
		break;
	case SS_STARTTLS:
		on_starttls(s);
		break;
	case SS_AUTH:
		sasl_reply(s);
		break;
	case SS_LOOKUP:		/* nothing was asked */
		session_fail_reply(s, NULL);
		break;
	case SS_RSET:
		on_rset(s);
		break;
	case SS_XACT:
	case SS_BODY:
		xact_reply(s);
		break;
	case SS_DOT:
		xact_dot_reply(s);
		break;
	default:
		/* Idle or quitting: whatever the server says ends it. */
		session_free(s);
		break;
	}
}

/* Reply lines. */
static void
on_read(struct bufferevent *bev, void *arg)
{
	struct smtpc_session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line, *text;
	size_t len;
	int ret;

	while (s->bev != NULL &&
	    (line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF)) != NULL) {
		if (s->reply.done)
			smtp_reply_reset(&s->reply);
		log_debug("%s: < %s", s->desc, line);
		ret = smtp_reply_line(&s->reply, line, len);
		free(line);
		if (ret < 0) {
			text = xasprintf("host %s sent a malformed reply "
			    "while %s", s->desc, doing(s));
			session_fail(s, 4, "4.5.0", text);
			free(text);
			return;
		}
		if (ret == 1)
			dispatch(s);
	}
	if (s->bev != NULL && evbuffer_get_length(in) > SMTPC_LINE_MAX) {
		text = xasprintf("host %s sent a reply line that is too long "
		    "while %s", s->desc, doing(s));
		session_fail(s, 4, "4.5.0", text);
		free(text);
	}
}

/* The output drained below the low-water mark: more of the message. */
static void
on_write(struct bufferevent *bev, void *arg)
{
	struct smtpc_session *s = arg;

	(void)bev;
	if (s->state == SS_BODY)
		xact_write_more(s);
}

/* Connected, handshake done, end of file or an error. */
static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct smtpc_session *s = arg;
	char *text;
	int err = EVUTIL_SOCKET_ERROR();

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		if (s->state == SS_TLS)
			tls_connected(s);
		else
			session_enter(s, SS_GREETING, smtpc.helo_timeout);
		return;
	}
	if (s->state == SS_IDLE || s->state == SS_QUIT) {
		session_free(s);
		return;
	}
	if (s->state == SS_CONNECT)
		text = xasprintf("connect to %s: %s", s->relay,
		    err != 0 ? evutil_socket_error_to_string(err) :
		    "Connection failed");
	else if (s->state == SS_TLS)
		text = xasprintf("Cannot start TLS: handshake failure with "
		    "host %s", s->desc);
	else
		text = xasprintf("lost connection with host %s while %s",
		    s->desc, doing(s));
	if (s->state == SS_TLS && smtpc.tls_level == TLS_LEVEL_MAY &&
	    s->d != NULL) {
		/* Try the same address again without TLS. */
		s->d->no_tls_addr = s->d->next_addr;
		s->d->next_addr--;
	}
	session_fail(s, 4, s->state == SS_CONNECT ? "4.4.1" : "4.4.2",
	    text);
	free(text);
}

/* A timeout. */
static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct smtpc_session *s = arg;
	char *text;

	(void)fd, (void)what;
	if (s->state == SS_IDLE) {
		session_send(s, true, "QUIT");
		session_enter(s, SS_QUIT, SMTPC_QUIT_TIMEOUT);
		return;
	}
	if (s->state == SS_QUIT) {
		session_free(s);
		return;
	}
	if (s->state == SS_CONNECT)
		text = xasprintf("connect to %s: Connection timed out",
		    s->relay);
	else
		text = xasprintf("conversation with %s timed out while %s",
		    s->desc, doing(s));
	session_fail(s, 4, s->state == SS_CONNECT ? "4.4.1" : "4.4.2",
	    text);
	free(text);
}

/* Install S's callbacks on its bufferevent (again after STARTTLS). */
void
session_set_callbacks(struct smtpc_session *s)
{
	bufferevent_setcb(s->bev, on_read, on_write, on_event, s);
	bufferevent_setwatermark(s->bev, EV_WRITE, 32768, 0);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

/* A new session for D to NAME; DESC and RELAY as they are logged. */
static struct smtpc_session *
session_new(struct delivery *d, const char *name, char *desc, char *relay)
{
	struct smtpc_session *s = xcalloc(1, sizeof(*s));

	s->d = d;
	d->sess = s;
	s->lmtp = d->lmtp;
	s->name = xstrdup(name);
	s->desc = desc;
	s->relay = relay;
	s->cache_key = xstrdup(d->cache_key);
	s->timer = evtimer_new(smtpc.base, on_timer, s);
	s->bev = bufferevent_socket_new(smtpc.base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (s->timer == NULL || s->bev == NULL)
		log_fatal("cannot allocate a connection");
	session_set_callbacks(s);
	return s;
}

void
session_connect(struct delivery *d, size_t i)
{
	struct smtpc_session *s;
	struct sockaddr_un sun;
	const struct sockaddr *sa;
	socklen_t salen;
	const struct dns_target *t;

	if (d->nh.unix_path) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", d->nh.host);
		s = session_new(d, d->nh.host, xstrdup(d->nh.host),
		    xstrdup(d->nh.host));
		sa = (struct sockaddr *)&sun;
		salen = sizeof(sun);
	} else {
		t = &d->dns.t[i];
		s = session_new(d, t->name, xasprintf("%s[%s]", t->name,
		    t->addr), xasprintf("%s[%s]:%u", t->name, t->addr,
		    d->nh.port));
		sa = (const struct sockaddr *)&t->sa;
		salen = t->salen;
		s->tls_wanted = smtpc.tls_level != TLS_LEVEL_NONE &&
		    d->no_tls_addr != i + 1;
		if (smtpc.tls_level == TLS_LEVEL_VERIFY)
			s->tls_name = xstrdup(t->name);
		else if (smtpc.tls_level == TLS_LEVEL_SECURE)
			s->tls_name = xstrdup(d->nh.host);
	}
	session_enter(s, SS_CONNECT, smtpc.connect_timeout);
	if (bufferevent_socket_connect(s->bev, (struct sockaddr *)sa,
	    (int)salen) < 0)
		on_event(s->bev, BEV_EVENT_ERROR, s);
}

/* Close S soon, or put it in the cache for its nexthop. */
void
session_release(struct smtpc_session *s)
{
	struct delivery *d = s->d;

	s->d = NULL;
	if (d != NULL)
		delivery_finish(d);
	if (s->broken || smtpc.cache_time <= 0) {
		session_send(s, true, "QUIT");
		session_enter(s, SS_QUIT, SMTPC_QUIT_TIMEOUT);
		return;
	}
	s->next = cache;
	cache = s;
	session_enter(s, SS_IDLE, smtpc.cache_time);
}

/* Take S out of the cache. */
static void
cache_remove(struct smtpc_session *s)
{
	struct smtpc_session **p;

	for (p = &cache; *p != NULL; p = &(*p)->next) {
		if (*p == s) {
			*p = s->next;
			s->next = NULL;
			return;
		}
	}
}

bool
session_reuse(struct delivery *d)
{
	struct smtpc_session *s;

	for (s = cache; s != NULL; s = s->next)
		if (strcmp(s->cache_key, d->cache_key) == 0)
			break;
	if (s == NULL)
		return false;
	cache_remove(s);
	s->d = d;
	d->sess = s;
	log_debug("%s: reusing the connection to %s", d->req.queue_id,
	    s->relay);
	session_send(s, true, "RSET");
	session_enter(s, SS_RSET, smtpc.helo_timeout);
	return true;
}

void
session_cache_flush(void)
{
	while (cache != NULL)
		session_free(cache);
}

/* Free S for good (from the loop, after the callbacks that knew it). */
static void
session_destroy(evutil_socket_t fd, short what, void *arg)
{
	struct smtpc_session *s = arg;

	(void)fd, (void)what;
	smtp_reply_free(&s->reply);
	free(s->accepted);
	free(s->name);
	free(s->desc);
	free(s->relay);
	free(s->tls_name);
	free(s->mechs);
	free(s->cache_key);
	free(s);
}

/* Close S's connection now; its memory goes once the callbacks that may
   still hold it have returned. */
static void
session_free(struct smtpc_session *s)
{
	if (s->bev == NULL)
		return;
	cache_remove(s);
	sasl_session_free(s);
	bufferevent_free(s->bev);
	s->bev = NULL;
	event_free(s->timer);
	s->timer = NULL;
	if (s->d != NULL)
		s->d->sess = NULL;
	if (event_base_once(smtpc.base, -1, EV_TIMEOUT, session_destroy, s,
	    NULL) < 0)
		log_fatal("event_base_once failed");
}
