/*
 * SMTP connections: accepting them, reading command lines with a bounded
 * line reader, queueing replies, counting errors, TLS, timeouts, closing.
 */

#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "global/addr.h"
#include "global/auth_client.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/tls.h"
#include "lib/xalloc.h"
#include "smtpd/anvil.h"
#include "smtpd/smtpd.h"

/* Lines in S_AUTH may carry a long SASL response (Postfix: 12 KiB). */
#define AUTH_LINE_LIMIT	12288
/* Replies a client may leave unread before we stop reading its input. */
#define OUTPUT_LIMIT	(256 * 1024)
/* How long a closing session waits for TLS to pass its last bytes on. */
#define CLOSE_POLL_MS	20
#define CLOSE_POLLS	250

static void session_read_cb(struct bufferevent *bev, void *arg);
static void session_write_cb(struct bufferevent *bev, void *arg);
static void session_event_cb(struct bufferevent *bev, short what, void *arg);
static void session_run(evutil_socket_t fd, short what, void *arg);

/* Free S and everything it holds. */
static void
session_free(struct session *s)
{
	lookup_forget(s);
	sasl_abort(s);
	data_abort(s);
	session_reset(s);
	if (s->anvil_counted)
		anvil_disconnect(smtpd.anvil, s->client_addr);
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	event_free(s->resume_ev);
	if (s->delay_ev != NULL)
		event_free(s->delay_ev);
	free(s->client_id);
	free(s->helo);
	free(s->sasl_username);
	free(s->sasl_method);
	free(s->reject_all);
	free(s->pending);
	free(s->rcpt_addr);
	free(s->rcpt_orcpt);
	free(s->rcpt_notify);
	free(s->rcpts);
	pickup_free(s);
	free(s);
}

/* Log the disconnect line with the command counts, then free S. */
static void
session_end(struct session *s)
{
	static const char *const names[CNT_MAX] = {
		"helo", "ehlo", "starttls", "auth", "mail", "rcpt", "bdat",
		"data", "rset", "noop", "vrfy", "help", "quit", "unknown",
	};
	struct str line = STR_INIT;
	unsigned total = 0, total_ok = 0;
	int i;

	for (i = 0; i < CNT_MAX; i++) {
		if (s->count_all[i] == 0)
			continue;
		total += s->count_all[i];
		total_ok += s->count_ok[i];
		if (s->count_ok[i] == s->count_all[i])
			str_appendf(&line, " %s=%u", names[i], s->count_all[i]);
		else
			str_appendf(&line, " %s=%u/%u", names[i],
			    s->count_ok[i], s->count_all[i]);
	}
	if (total_ok == total)
		str_appendf(&line, " commands=%u", total);
	else
		str_appendf(&line, " commands=%u/%u", total_ok, total);
	log_info("disconnect from %s%s", s->client_id, str_c(&line));
	str_free(&line);
	session_free(s);
}

/* Fill the client's address, port and name from FD. */
static void
session_peer(struct session *s, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const void *a = NULL;

	strcpy(s->client_name, "unknown");
	strcpy(s->client_addr, "127.0.0.1");
	if (s->port == PORT_PICKUP) {
		strcpy(s->client_name, "localhost");
		pickup_accept(s, fd);
	} else if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			a = &((struct sockaddr_in *)&ss)->sin_addr;
			s->client_port =
			    ntohs(((struct sockaddr_in *)&ss)->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
			s->client_port =
			    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		}
		if (a != NULL)
			inet_ntop(ss.ss_family, a, s->client_addr,
			    sizeof(s->client_addr));
		/* An IPv4-mapped IPv6 address is the IPv4 client. */
		if (strncmp(s->client_addr, "::ffff:", 7) == 0 &&
		    strchr(s->client_addr + 7, '.') != NULL)
			memmove(s->client_addr, s->client_addr + 7,
			    strlen(s->client_addr + 7) + 1);
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		ss.ss_family = AF_UNSPEC;
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		    s->local_addr, sizeof(s->local_addr));
		s->local_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    s->local_addr, sizeof(s->local_addr));
		s->local_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	s->client_id = xasprintf("%s[%s]", s->client_name, s->client_addr);
}

/* Apply the connection count and rate limits.  False: refused. */
static bool
session_limits(struct session *s)
{
	unsigned count, rate;

	if (s->port == PORT_PICKUP || s->rate_exempt)
		return true;
	anvil_connect(smtpd.anvil, s->client_addr, &count, &rate);
	s->anvil_counted = true;
	if (smtpd.conn_count_limit > 0 && count > smtpd.conn_count_limit) {
		log_warning("Connection concurrency limit exceeded: %u from "
		    "%s for service smtp", count, s->client_id);
		session_reply(s, "421 4.7.0 %s Error: too many connections "
		    "from %s", smtpd.hostname, s->client_addr);
		return false;
	}
	if (smtpd.conn_rate_limit > 0 && rate > smtpd.conn_rate_limit) {
		log_warning("Connection rate limit exceeded: %u from %s for "
		    "service smtp", rate, s->client_id);
		session_reply(s, "421 4.7.0 %s Error: too many connections "
		    "from %s", smtpd.hostname, s->client_addr);
		return false;
	}
	return true;
}

/* Make the buffer event for S over FD: TLS from the start on 465. */
static bool
session_bev(struct session *s, int fd)
{
	int opts = BEV_OPT_CLOSE_ON_FREE;

	if (s->port == PORT_SMTPS) {
		if ((s->ssl = SSL_new(smtpd.tls)) == NULL)
			return false;
		s->bev = bufferevent_openssl_socket_new(smtpd.base, fd, s->ssl,
		    BUFFEREVENT_SSL_ACCEPTING, opts);
		s->tls = true;
	} else
		s->bev = bufferevent_socket_new(smtpd.base, fd, opts);
	if (s->bev == NULL)
		return false;
	if (s->ssl != NULL)
		bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
	bufferevent_setcb(s->bev, session_read_cb, session_write_cb,
	    session_event_cb, s);
	return true;
}

/* The client checks answered: apply the limits and greet. */
static void
session_accepted(struct session *s, struct lookup *l)
{
	s->trusted = l->trusted;
	s->rate_exempt = l->exempt;
	if (!session_limits(s)) {
		session_close(s);
		return;
	}
	if (l->refused) {
		s->reject_all = xasprintf("%d %s %s", l->reply.code,
		    l->reply.dsn, l->reply.text);
		session_log_reject(s, "CONNECT", s->reject_all, NULL);
	}
	bufferevent_set_timeouts(s->bev, &(struct timeval){ smtpd.timeout, 0 },
	    &(struct timeval){ smtpd.timeout, 0 });
	session_reply(s, "220 %s", smtpd.banner);
	bufferevent_enable(s->bev, EV_WRITE);
}

/* Start a session for the connection FD. */
void
session_accept(int fd, enum smtpd_port port)
{
	struct session *s = xcalloc(1, sizeof(*s));

	s->port = port;
	s->state = S_CMD;
	evutil_make_socket_nonblocking(fd);
	session_peer(s, fd);
	s->resume_ev = event_new(smtpd.base, -1, 0, session_run, s);
	if (!session_bev(s, fd)) {
		log_error("cannot set up a connection from %s", s->client_id);
		if (s->bev == NULL)
			close(fd);
		session_free(s);
		return;
	}
	log_info("connect from %s", s->client_id);
	lookup_start(s, LK_CONNECT, NULL, session_accepted);
}

/* Queue the line FMT... for the client (or hold it during a delay). */
static void
session_vreply(struct session *s, const char *fmt, va_list ap)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	char *line;

	if (vasprintf(&line, fmt, ap) < 0)
		log_fatal("out of memory");
	log_debug("%s: < %s", s->client_id, line);
	if (s->pending != NULL) {
		char *p = xasprintf("%s%s\r\n", s->pending, line);

		free(s->pending);
		s->pending = p;
	} else {
		evbuffer_add(out, line, strlen(line));
		evbuffer_add(out, "\r\n", 2);
	}
	free(line);
}

/* Queue one reply line. */
void
session_reply(struct session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	session_vreply(s, fmt, ap);
	va_end(ap);
}

/* The error sleep ended: send the held replies and read on. */
static void
session_delay_done(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	char *p = s->pending;

	(void)fd, (void)what;
	s->pending = NULL;
	if (p != NULL) {
		evbuffer_add(bufferevent_get_output(s->bev), p, strlen(p));
		free(p);
	}
	session_resume(s, S_CMD);
}

/* Queue a refusal and count it as an error. */
void
session_reply_error(struct session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	session_vreply(s, fmt, ap);
	va_end(ap);
	s->errors++;
	if (s->errors >= smtpd.hard_errors) {
		log_warning("too many errors from %s", s->client_id);
		session_reply(s, "421 4.7.0 %s Error: too many errors",
		    smtpd.hostname);
		session_close(s);
		return;
	}
	if (s->errors > smtpd.soft_errors && smtpd.error_sleep > 0 &&
	    s->state == S_CMD) {
		/* Hold further replies and stop reading for a while. */
		s->pending = xstrdup("");
		if (s->delay_ev == NULL)
			s->delay_ev = evtimer_new(smtpd.base,
			    session_delay_done, s);
		struct timeval tv = { smtpd.error_sleep, 0 };

		evtimer_add(s->delay_ev, &tv);
		session_pause(s);
	}
}

/* Stop reading input until session_resume(). */
void
session_pause(struct session *s)
{
	if (s->state != S_CLOSING)
		s->state = S_BUSY;
	bufferevent_disable(s->bev, EV_READ);
}

/* Continue with STATE: handle input already buffered, read more. */
void
session_resume(struct session *s, enum session_state state)
{
	if (s->state == S_CLOSING)
		return;
	if (s->pending != NULL && state != S_BUSY) {
		/* The error sleep is still running: it resumes later. */
		s->state = S_BUSY;
		return;
	}
	s->state = state;
	bufferevent_enable(s->bev, EV_READ);
	event_active(s->resume_ev, 0, 0);
}

/* Close once the output is flushed. */
void
session_close(struct session *s)
{
	s->state = S_CLOSING;
	bufferevent_disable(s->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		event_active(s->resume_ev, 0, 0);
}

/* Forget the transaction. */
void
session_reset(struct session *s)
{
	size_t i;

	data_abort(s);
	for (i = 0; i < s->n_rcpts; i++) {
		free(s->rcpts[i].orcpt);
		free(s->rcpts[i].notify);
		strv_free(&s->rcpts[i].final);
	}
	s->n_rcpts = 0;
	s->rcpt_tries = 0;
	s->has_mail = false;
	free(s->sender);
	s->sender = NULL;
	free(s->dsn_envid);
	s->dsn_envid = NULL;
	free(s->dsn_ret);
	s->dsn_ret = NULL;
	s->smtputf8 = s->body_8bit = false;
	s->bdat_started = s->bdat_discard = false;
	s->data_error = NULL;
}

/* The protocol name for logs and Received: headers. */
const char *
session_protocol(const struct session *s)
{
	if (!s->esmtp)
		return "SMTP";
	if (s->tls)
		return s->sasl_username != NULL ? "ESMTPSA" : "ESMTPS";
	return s->sasl_username != NULL ? "ESMTPA" : "ESMTP";
}

/* Log a refusal the way Postfix does. */
void
session_log_reject(struct session *s, const char *stage, const char *reply,
    const char *rcpt)
{
	char *from = s->has_mail ? addr_external(s->sender) : NULL;
	char *to = rcpt != NULL ? addr_external(rcpt) : NULL;

	/* As Postfix: proto= names SMTP or ESMTP only; no helo= before
	   HELO/EHLO. */
	log_info("NOQUEUE: reject: %s from %s: %s;%s%s%s%s%s%s proto=%s%s%s%s",
	    stage, s->client_id, reply,
	    from != NULL ? " from=<" : "", from != NULL ? from : "",
	    from != NULL ? ">" : "", to != NULL ? " to=<" : "",
	    to != NULL ? to : "", to != NULL ? ">" : "",
	    s->esmtp ? "ESMTP" : "SMTP", s->helo != NULL ? " helo=<" : "",
	    s->helo != NULL ? s->helo : "", s->helo != NULL ? ">" : "");
	free(from);
	free(to);
}

/*
 * Take one command line out of IN.  Returns 1 with *LINE_R (allocated,
 * without the line end) and its length in *LEN_R, 0 when the line is not complete yet, -1 when the
 * connection must close (a reply has been queued).
 */
static int
session_read_line(struct session *s, struct evbuffer *in, char **line_r,
    size_t *len_r)
{
	size_t limit = s->state == S_AUTH ? AUTH_LINE_LIMIT : smtpd.line_limit;
	struct evbuffer_ptr eol;
	size_t len, n;
	char *line;

	eol = evbuffer_search_eol(in, NULL, &n, EVBUFFER_EOL_LF);
	if (eol.pos < 0) {
		if (evbuffer_get_length(in) <= limit)
			return 0;
		session_reply(s, "500 5.5.2 Error: line too long");
		return -1;
	}
	len = (size_t)eol.pos;
	line = xmalloc(len + 2);
	evbuffer_remove(in, line, len + 1);
	line[len + 1] = '\0';
	if (len > limit) {
		free(line);
		session_reply(s, "500 5.5.2 Error: line too long");
		return -1;
	}
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	else if (smtpd.forbid_bare_newline == 1) {
		free(line);
		log_info("disconnect: bare <LF> received from %s",
		    s->client_id);
		session_reply(s, "521 5.5.2 %s Error: bare <LF> received",
		    smtpd.hostname);
		return -1;
	}
	line[len] = '\0';
	if (memchr(line, '\r', len) != NULL &&
	    smtpd.forbid_bare_newline == 1) {
		free(line);
		session_reply(s, "521 5.5.2 %s Error: bare <CR> received",
		    smtpd.hostname);
		return -1;
	}
	*line_r = line;
	*len_r = len;
	return 1;
}

/* Handle buffered input for as long as the state allows. */
static void
session_input(struct session *s)
{
	struct evbuffer *in;
	char *line;
	size_t len;
	int r;

	while (s->state == S_CMD || s->state == S_AUTH || s->state == S_DATA ||
	    s->state == S_BDAT) {
		/* Fetched each time: STARTTLS replaces the buffer event. */
		in = bufferevent_get_input(s->bev);
		if (s->state == S_DATA || s->state == S_BDAT) {
			if (!data_input(s))
				return;
			continue;
		}
		if (evbuffer_get_length(bufferevent_get_output(s->bev)) >
		    OUTPUT_LIMIT) {
			/* The client does not read: wait until it does. */
			bufferevent_disable(s->bev, EV_READ);
			s->output_full = true;
			return;
		}
		if ((r = session_read_line(s, in, &line, &len)) == 0)
			return;
		if (r < 0) {
			session_close(s);
			return;
		}
		if (s->state == S_AUTH)
			sasl_response(s, line);
		else if (memchr(line, '\0', len) != NULL)
			session_reply_error(s, "500 5.5.2 Error: NUL character "
			    "in command");
		else
			command_dispatch(s, line,
			    evbuffer_get_length(in) > 0);
		free(line);
	}
}

/* Input arrived. */
static void
session_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	session_input(arg);
}

/*
 * Finish a closing session once every byte queued reached the socket,
 * TLS layers included (after STARTTLS the TLS filter hands its bytes to
 * the plaintext layer below it, which may still hold them), and TLS sent
 * its close_notify.  Polls while bytes are in flight, for at most
 * CLOSE_POLLS times CLOSE_POLL_MS.
 */
static void
session_finish(struct session *s)
{
	struct bufferevent *under = bufferevent_get_underlying(s->bev);
	struct timeval tv = { 0, CLOSE_POLL_MS * 1000 };

	if (evbuffer_get_length(bufferevent_get_output(s->bev)) > 0)
		return;		/* the write callback comes back */
	if (s->ssl != NULL && !s->tls_shut) {
		s->tls_shut = true;
		(void)SSL_shutdown(s->ssl);
		ERR_clear_error();
	}
	if (under != NULL &&
	    evbuffer_get_length(bufferevent_get_output(under)) > 0 &&
	    s->close_polls++ < CLOSE_POLLS) {
		event_add(s->resume_ev, &tv);
		return;
	}
	session_end(s);
}

/* Output drained: a closing session is done. */
static void
session_write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if (s->state == S_CLOSING)
		session_finish(s);
	else if (s->output_full) {
		s->output_full = false;
		if (s->state == S_CMD || s->state == S_AUTH)
			session_resume(s, s->state);
	}
}

/* Run deferred work: input after a pause, or the close. */
static void
session_run(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd, (void)what;
	if (s->state == S_CLOSING) {
		session_finish(s);
		return;
	}
	session_input(s);
}

/* EOF, error, timeout or the end of a TLS handshake. */
static void
session_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	unsigned long e;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		if (s->ssl != NULL) {
			char *info = tls_describe(s->ssl);

			log_info("TLS connection established from %s: %s",
			    s->client_id, info);
			free(info);
		}
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		if (s->state == S_CLOSING) {
			session_end(s);
			return;
		}
		log_info("timeout after %s from %s",
		    s->state == S_DATA ? "DATA" : "command", s->client_id);
		session_reply(s, "421 4.4.2 %s Error: timeout exceeded",
		    smtpd.hostname);
		session_close(s);
		return;
	}
	if ((what & BEV_EVENT_ERROR) && s->ssl != NULL &&
	    (e = bufferevent_get_openssl_error(bev)) != 0) {
		char buf[256];

		ERR_error_string_n(e, buf, sizeof(buf));
		log_info("TLS error from %s: %s", s->client_id, buf);
	} else if (what & BEV_EVENT_ERROR)
		log_info("lost connection from %s: %s", s->client_id,
		    strerror(errno));
	else if (s->state == S_DATA || s->state == S_BDAT)
		log_info("lost connection after DATA from %s", s->client_id);
	session_end(s);
}

/* Put TLS under the session: called right after "220 Ready to start
   TLS" was queued and the plaintext input was discarded. */
void
session_starttls(struct session *s)
{
	struct bufferevent *tls;

	if ((s->ssl = SSL_new(smtpd.tls)) == NULL) {
		session_close(s);
		return;
	}
	tls = bufferevent_openssl_filter_new(smtpd.base, s->bev, s->ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (tls == NULL) {
		SSL_free(s->ssl);
		s->ssl = NULL;
		session_close(s);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
	/* The plaintext layer only carries bytes now. */
	s->bev = tls;
	bufferevent_setcb(tls, session_read_cb, session_write_cb,
	    session_event_cb, s);
	bufferevent_set_timeouts(tls, &(struct timeval){ smtpd.timeout, 0 },
	    &(struct timeval){ smtpd.timeout, 0 });
	bufferevent_enable(tls, EV_READ | EV_WRITE);
	s->tls = true;
	/* Forget what was said in plaintext (RFC 3207, section 4.2). */
	session_reset(s);
	free(s->helo);
	s->helo = NULL;
	s->esmtp = false;
	free(s->sasl_username);
	s->sasl_username = NULL;
	free(s->sasl_method);
	s->sasl_method = NULL;
}
