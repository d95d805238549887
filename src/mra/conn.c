/*
 * A client connection of the login process: the buffer event (TLS from
 * the start on imaps/pop3s, or after STARTTLS/STLS), bounded line
 * reading, the pre-login timeout, closing after the last reply and the
 * disconnect log lines.  What the bytes mean is the protocol's
 * (imap_login.c, pop3_login.c).
 */

#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "global/auth_client.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mra/login.h"

/* Input buffered before reading stops (a line, a literal, pipelining). */
#define CONN_READ_HIGH		(2 * MRA_LINE_MAX)
/* Waits for the last bytes to leave before the socket is closed. */
#define CLOSE_POLLS		20
#define CLOSE_POLL_MS		50

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);
static void conn_resume_cb(evutil_socket_t fd, short what, void *arg);

/* Fill the address fields of C from its socket FD. */
static void
conn_addresses(struct mra_conn *c, int fd)
{
	struct sockaddr_storage r, l;
	socklen_t rlen = sizeof(r), llen = sizeof(l);
	const struct sockaddr *sa[2] = { (void *)&r, (void *)&l };
	char *ip[2] = { c->rip, c->lip };
	unsigned *port[2] = { &c->rport, &c->lport };
	int i;

	if (getpeername(fd, (struct sockaddr *)&r, &rlen) < 0)
		r.ss_family = AF_UNSPEC;
	if (getsockname(fd, (struct sockaddr *)&l, &llen) < 0)
		l.ss_family = AF_UNSPEC;
	for (i = 0; i < 2; i++) {
		if (sa[i]->sa_family == AF_INET) {
			const struct sockaddr_in *in = (const void *)sa[i];

			inet_ntop(AF_INET, &in->sin_addr, ip[i], 64);
			*port[i] = ntohs(in->sin_port);
		} else if (sa[i]->sa_family == AF_INET6) {
			const struct sockaddr_in6 *in6 = (const void *)sa[i];

			inet_ntop(AF_INET6, &in6->sin6_addr, ip[i], 64);
			*port[i] = ntohs(in6->sin6_port);
		}
	}
}

/* Dovecot's session id: 12 random bytes in base64. */
static void
conn_session_id(struct mra_conn *c)
{
	unsigned char raw[12];
	char *b64;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		log_fatal("RAND_bytes failed");
	b64 = mra_base64(raw, sizeof(raw));
	snprintf(c->session_id, sizeof(c->session_id), "%s", b64);
	free(b64);
}

/* The pre-login time ran out, or a close poll is due. */
static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mra_conn *c = arg;

	(void)fd, (void)what;
	if (c->state == MRA_CLOSING) {
		conn_write_cb(c->bev, c);
		return;
	}
	if (c->state == MRA_PROXY)
		return;
	mra_conn_printf(c, mra.proto == &mra_imap_proto ?
	    "* BYE Disconnected for inactivity.\r\n" :
	    "-ERR Disconnected for inactivity.\r\n");
	c->close_reason = "Inactivity";
	mra_conn_close(c);
}

/* Make the buffer event of C over FD. */
static bool
conn_bev(struct mra_conn *c, int fd, bool implicit_tls)
{
	if (implicit_tls) {
		if ((c->ssl = SSL_new(mra.tls)) == NULL)
			return false;
		c->bev = bufferevent_openssl_socket_new(mra.base, fd, c->ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL) {
			SSL_free(c->ssl);
			c->ssl = NULL;
			return false;
		}
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
		c->tls = true;
	} else if ((c->bev = bufferevent_socket_new(mra.base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		return false;
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
	    c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CONN_READ_HIGH);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return true;
}

void
mra_conn_accept(int fd, bool implicit_tls)
{
	struct mra_conn *c = xcalloc(1, sizeof(*c));
	struct timeval tv = { MRA_LOGIN_TIMEOUT_SECS, 0 };

	c->started = time(NULL);
	c->mail_fd = -1;
	conn_addresses(c, fd);
	conn_session_id(c);
	if (!conn_bev(c, fd, implicit_tls)) {
		log_warning("%s-login: cannot set up a connection from %s",
		    mra.service, c->rip);
		close(fd);
		free(c);
		return;
	}
	/* Dovecot's rule: TLS, or a client on the server's own address. */
	c->secured = c->tls || (*c->rip != '\0' && strcmp(c->rip,
	    c->lip) == 0);
	if ((c->timer = evtimer_new(mra.base, conn_timer_cb, c)) == NULL ||
	    (c->resume_ev = event_new(mra.base, -1, 0, conn_resume_cb,
	    c)) == NULL)
		log_fatal("event_new failed");
	evtimer_add(c->timer, &tv);
	TAILQ_INSERT_TAIL(&mra.conns, c, link);
	mra.proto->greet(c);
}

void
mra_conn_write(struct mra_conn *c, const void *buf, size_t len)
{
	if (c->state != MRA_CLOSING)
		bufferevent_write(c->bev, buf, len);
}

void
mra_conn_printf(struct mra_conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->state == MRA_CLOSING)
		return;
	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(c->bev), fmt, ap);
	va_end(ap);
}

struct evbuffer *
mra_conn_input(struct mra_conn *c)
{
	return bufferevent_get_input(c->bev);
}

int
mra_conn_read_line(struct mra_conn *c, char **line_r, size_t *len_r)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	*line_r = evbuffer_readln(in, len_r, EVBUFFER_EOL_CRLF);
	if (*line_r != NULL) {
		if (*len_r <= MRA_LINE_MAX)
			return 1;
		free(*line_r);
		*line_r = NULL;
	} else if (evbuffer_get_length(in) <= MRA_LINE_MAX)
		return 0;
	mra_conn_printf(c, mra.proto == &mra_imap_proto ?
	    "* BYE Too long argument.\r\n" : "-ERR Too long command line.\r\n");
	c->close_reason = "Input line too long";
	return -1;
}

bool
mra_conn_plaintext_ok(const struct mra_conn *c)
{
	if (mra.ssl_required)
		return c->secured;
	return c->secured || !mra.disable_plaintext;
}

/* Run the protocol over the input while it reads commands. */
static void
conn_input(struct mra_conn *c)
{
	if (c->state == MRA_CMD || c->state == MRA_AUTH_RESPONSE) {
		if (mra.proto->input(c) < 0)
			mra_conn_close(c);
	}
}

/* Input arrived. */
static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_input(arg);
}

/* Run the protocol from the loop (a state change left input waiting). */
static void
conn_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	conn_input(arg);
}

void
mra_conn_resume(struct mra_conn *c)
{
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		event_active(c->resume_ev, EV_TIMEOUT, 0);
}

/* Output drained: a closing connection may go now. */
static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct mra_conn *c = arg;
	struct bufferevent *under = bufferevent_get_underlying(bev);
	struct timeval tv = { 0, CLOSE_POLL_MS * 1000 };

	if (c->state != MRA_CLOSING ||
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	if (c->ssl != NULL && !c->tls_shut) {
		c->tls_shut = true;
		(void)SSL_shutdown(c->ssl);
		ERR_clear_error();
	}
	/* After STARTTLS the plaintext layer may still hold TLS bytes. */
	if (under != NULL &&
	    evbuffer_get_length(bufferevent_get_output(under)) > 0 &&
	    c->close_polls++ < CLOSE_POLLS) {
		evtimer_add(c->timer, &tv);
		return;
	}
	mra_conn_free(c, NULL);
}

/* EOF, error or the end of a TLS handshake. */
static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct mra_conn *c = arg;
	unsigned long e;
	char buf[256];

	if (what & BEV_EVENT_CONNECTED)
		return;
	if ((what & BEV_EVENT_ERROR) && c->ssl != NULL &&
	    (e = bufferevent_get_openssl_error(bev)) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_info("%s-login: TLS handshake failed: %s: rip=%s, lip=%s",
		    mra.service, buf, c->rip, c->lip);
	}
	mra_conn_free(c, c->state == MRA_CLOSING ? NULL :
	    "Connection closed");
}

void
mra_conn_starttls(struct mra_conn *c)
{
	struct bufferevent *tls;

	/* Never execute what came with the command in plaintext. */
	evbuffer_drain(bufferevent_get_input(c->bev),
	    evbuffer_get_length(bufferevent_get_input(c->bev)));
	if ((c->ssl = SSL_new(mra.tls)) == NULL ||
	    (tls = bufferevent_openssl_filter_new(mra.base, c->bev, c->ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		if (c->ssl != NULL)
			SSL_free(c->ssl);
		c->ssl = NULL;
		mra_conn_free(c, "TLS initialization failed");
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
	c->bev = tls;
	bufferevent_setcb(tls, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_setwatermark(tls, EV_READ, 0, CONN_READ_HIGH);
	bufferevent_enable(tls, EV_READ | EV_WRITE);
	c->tls = true;
	c->secured = true;
}

void
mra_conn_close(struct mra_conn *c)
{
	if (c->state == MRA_CLOSING)
		return;
	mra_auth_abort(c);
	c->state = MRA_CLOSING;
	bufferevent_disable(c->bev, EV_READ);
	conn_write_cb(c->bev, c);
}

void
mra_conn_end_proxy(struct mra_conn *c)
{
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
	    c);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	mra_conn_close(c);
}

/* Log how a connection that never logged in ended. */
static void
conn_log_prelogin(struct mra_conn *c, const char *reason)
{
	long secs = (long)(time(NULL) - c->started);
	char what[128];

	if (c->logged)
		return;
	if (reason == NULL)
		reason = c->close_reason;
	if (c->auth_attempts == 0)
		snprintf(what, sizeof(what), "no auth attempts in %ld secs",
		    secs);
	else
		snprintf(what, sizeof(what), "auth failed, %u attempts in "
		    "%ld secs", c->auth_attempts, secs);
	log_info("%s-login: Disconnected (%s)%s%s: user=<%s>, %s%s%srip=%s, "
	    "lip=%s%s, session=<%s>", mra.service, what,
	    reason != NULL ? ": " : "", reason != NULL ? reason : "",
	    c->user != NULL ? c->user : "", c->log_method != NULL ?
	    "method=" : "", c->log_method != NULL ? c->log_method : "",
	    c->log_method != NULL ? ", " : "", c->rip, c->lip,
	    c->tls ? ", TLS" : c->secured ? ", secured" : "", c->session_id);
}

void
mra_conn_free(struct mra_conn *c, const char *reason)
{
	if (c->state != MRA_PROXY)
		conn_log_prelogin(c, reason);
	mra_auth_abort(c);
	TAILQ_REMOVE(&mra.conns, c, link);
	event_free(c->timer);
	event_free(c->resume_ev);
	if (c->mail != NULL)
		bufferevent_free(c->mail);
	bufferevent_free(c->bev);
	str_wipe(&c->cmd);
	free(c->tag);
	if (c->pop3_user != NULL) {
		explicit_bzero(c->pop3_user, strlen(c->pop3_user));
		free(c->pop3_user);
	}
	free(c->mech);
	free(c->log_method);
	free(c->user);
	free(c);
}
