/*
 * After login: bytes both ways between the client (TLS or not) and the
 * mail process's socket, with bounded buffers.  Nothing here looks at
 * the bytes.  When one side reads less than the other writes, reading
 * stops at MRA_PROXY_HIGH bytes queued and starts again at
 * MRA_PROXY_LOW.
 */

#include "config.h"

#include <sys/socket.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "lib/log.h"
#include "mra/login.h"

/* The session of C ends: log what the proxy carried and close the
   client, at once when it failed (NOW), else after the last bytes. */
static void
proxy_end(struct mra_conn *c, const char *reason, bool now)
{
	log_info("%s(%s): Disconnected: %s in=%llu out=%llu, session=<%s>",
	    mra.service, c->user, reason, (unsigned long long)c->bytes_in,
	    (unsigned long long)c->bytes_out, c->session_id);
	bufferevent_free(c->mail);
	c->mail = NULL;
	c->logged = true;
	if (now)
		mra_conn_free(c, NULL);
	else
		mra_conn_end_proxy(c);
	mra_proxy_check_exit();
}

/* Move what SRC read into DST's output; stop reading SRC when DST is
   full. */
static size_t
proxy_copy(struct bufferevent *src, struct bufferevent *dst)
{
	struct evbuffer *in = bufferevent_get_input(src);
	struct evbuffer *out = bufferevent_get_output(dst);
	size_t n = evbuffer_get_length(in);

	evbuffer_add_buffer(out, in);
	if (evbuffer_get_length(out) >= MRA_PROXY_HIGH)
		bufferevent_disable(src, EV_READ);
	return n;
}

/* The client sent bytes. */
static void
client_read(struct bufferevent *bev, void *arg)
{
	struct mra_conn *c = arg;

	c->bytes_in += proxy_copy(bev, c->mail);
}

/* The mail process sent bytes. */
static void
mail_read(struct bufferevent *bev, void *arg)
{
	struct mra_conn *c = arg;

	c->bytes_out += proxy_copy(bev, c->bev);
}

/* The client's output went down to MRA_PROXY_LOW. */
static void
client_write(struct bufferevent *bev, void *arg)
{
	struct mra_conn *c = arg;

	(void)bev;
	if (!c->mail_eof)
		bufferevent_enable(c->mail, EV_READ);
}

/* The mail process's input went down to MRA_PROXY_LOW. */
static void
mail_write(struct bufferevent *bev, void *arg)
{
	struct mra_conn *c = arg;

	if (!c->client_eof) {
		bufferevent_enable(c->bev, EV_READ);
		return;
	}
	/* The client closed: once its last bytes are through, the engine
	   reads EOF, and its last words still reach the client. */
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		shutdown(bufferevent_getfd(bev), SHUT_WR);
}

/* The client closed or failed. */
static void
client_event(struct bufferevent *bev, short what, void *arg)
{
	struct mra_conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	c->client_eof = true;
	if (what & BEV_EVENT_ERROR) {
		proxy_end(c, "Connection closed", true);
		return;
	}
	bufferevent_disable(c->bev, EV_READ);
	mail_write(c->mail, c);
}

/* The mail process ended or failed. */
static void
mail_event(struct bufferevent *bev, short what, void *arg)
{
	struct mra_conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	c->mail_eof = true;
	proxy_end(c, c->client_eof ? "Connection closed" : "Logged out",
	    false);
}

void
mra_proxy_start(struct mra_conn *c, int fd)
{
	evtimer_del(c->timer);
	c->state = MRA_PROXY;
	evutil_make_socket_nonblocking(fd);
	if ((c->mail = bufferevent_socket_new(mra.base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		log_fatal("bufferevent_socket_new failed");
	bufferevent_setcb(c->mail, mail_read, mail_write, mail_event, c);
	bufferevent_setcb(c->bev, client_read, client_write, client_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
	bufferevent_setwatermark(c->bev, EV_WRITE, MRA_PROXY_LOW, 0);
	bufferevent_setwatermark(c->mail, EV_WRITE, MRA_PROXY_LOW, 0);
	bufferevent_enable(c->mail, EV_READ | EV_WRITE);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

unsigned
mra_userip_count(const char *user, const char *rip)
{
	struct mra_conn *c;
	unsigned n = 0;

	TAILQ_FOREACH(c, &mra.conns, link)
		if ((c->state == MRA_PROXY || c->spawn_seq != 0) &&
		    c->user != NULL && strcmp(c->user, user) == 0 &&
		    strcmp(c->rip, rip) == 0)
			n++;
	return n;
}

void
mra_proxy_check_exit(void)
{
	struct mra_conn *c;

	if (mra.spawner_fd >= 0)
		return;
	TAILQ_FOREACH(c, &mra.conns, link)
		if (c->state == MRA_PROXY)
			return;
	event_base_loopexit(mra.base, NULL);
}
