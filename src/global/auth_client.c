/*
 * The Dovecot auth-client protocol 1.2, client side: the client object
 * and AUTH, CONT and CANCEL over a bufferevent with many requests in
 * flight.  The bounded synchronous connect and handshake that come first
 * are in auth_client_connect.c.
 */

#include "config.h"

#include <sys/queue.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "global/auth_client.h"
#include "global/auth_client_connect.h"
#include "global/authproto.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/tabescape.h"
#include "lib/xalloc.h"

/* Default wait for each server reply. */
#define AUTHC_TIMEOUT_MS	30000
/* Bound of the connect that auth_client_start() does when needed. */
#define AUTHC_START_CONNECT_MS	1000
/* At most one connection attempt in this many milliseconds. */
#define AUTHC_RECONNECT_MS	1000

enum req_state {
	REQ_SENT,		/* waiting for the server's reply */
	REQ_WAIT_CLIENT,	/* the server sent CONT; waiting for the caller */
	REQ_DONE,		/* finished here; callback due from the loop */
};

struct auth_client_request {
	TAILQ_ENTRY(auth_client_request) link;
	struct auth_client *client;
	unsigned int id;		/* 0: never sent */
	enum req_state state;
	enum auth_client_status final;	/* status for REQ_DONE */
	char *reason;			/* reason for REQ_DONE */
	struct event *timer;
	auth_client_cb *cb;
	void *ctx;
};

TAILQ_HEAD(req_queue, auth_client_request);

struct auth_client {
	struct event_base *base;
	char *path;
	struct bufferevent *bev;	/* NULL: not connected */
	unsigned int gen;		/* changes with every connect and drop */
	unsigned int next_id;
	struct req_queue active;	/* REQ_SENT and REQ_WAIT_CLIENT */
	struct req_queue done;		/* REQ_DONE */
	struct event *deferred;		/* delivers the REQ_DONE callbacks */
	struct authc_mechs server;	/* from the last handshake */
	struct authc_mechs given;	/* returned by auth_client_mechs() */
	char cookie[AUTHC_COOKIE_MAX];	/* from the last handshake */
	long long last_try;		/* monotonic ms of the last connect */
	bool tried;
	int timeout_ms;
	int busy;			/* callbacks running */
	bool free_pending;		/* freed by a callback */
};

static void authc_input(struct auth_client *c);

/* Ignore SIGPIPE unless the program chose what to do with it. */
static void
ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
}

/* Free R, which is on no queue any more. */
static void
req_free(struct auth_client_request *r)
{
	event_free(r->timer);
	free(r->reason);
	free(r);
}

/* Finish R here: its callback gets STATUS and REASON from the loop. */
static void
req_finish_later(struct auth_client_request *r,
    enum auth_client_status status, const char *reason)
{
	struct auth_client *c = r->client;

	if (r->state != REQ_DONE)
		TAILQ_REMOVE(&c->active, r, link);
	else
		TAILQ_REMOVE(&c->done, r, link);
	evtimer_del(r->timer);
	r->state = REQ_DONE;
	r->final = status;
	free(r->reason);
	r->reason = xstrdup(reason);
	TAILQ_INSERT_TAIL(&c->done, r, link);
	event_active(c->deferred, EV_TIMEOUT, 0);
}

/* Close the connection of C; every request on it gets TEMPFAIL. */
static void
authc_drop(struct auth_client *c, const char *reason)
{
	struct auth_client_request *r;

	log_warning("auth server %s: %s", c->path, reason);
	bufferevent_free(c->bev);
	c->bev = NULL;
	c->gen++;
	while ((r = TAILQ_FIRST(&c->active)) != NULL)
		req_finish_later(r, AUTH_CLIENT_TEMPFAIL, reason);
}

/* Free C itself (its requests and connection are gone). */
static void
authc_destroy(struct auth_client *c)
{
	event_free(c->deferred);
	authc_mechs_clear(&c->server);
	authc_mechs_clear(&c->given);
	free(c->path);
	free(c);
}

/* A callback section ends; free C when a callback asked for it.  True
   when C is gone. */
static bool
authc_release(struct auth_client *c)
{
	if (--c->busy > 0 || !c->free_pending)
		return false;
	authc_destroy(c);
	return true;
}

/* Deliver the callbacks of the requests finished here. */
static void
authc_deferred(evutil_socket_t fd, short what, void *arg)
{
	struct auth_client *c = arg;
	struct auth_client_request *r;
	enum auth_client_status status;
	auth_client_cb *cb;
	void *ctx;
	char *fields[2] = { NULL, NULL };

	(void)fd;
	(void)what;
	c->busy++;
	while (!c->free_pending && (r = TAILQ_FIRST(&c->done)) != NULL) {
		TAILQ_REMOVE(&c->done, r, link);
		status = r->final;
		cb = r->cb;
		ctx = r->ctx;
		fields[0] = xasprintf("reason=%s", r->reason);
		req_free(r);
		cb(status, NULL, (const char *const *)fields, ctx);
		free(fields[0]);
	}
	authc_release(c);
}

/* Read events: handle the server's replies. */
static void
authc_read(struct bufferevent *bev, void *arg)
{
	struct auth_client *c = arg;

	(void)bev;
	c->busy++;
	authc_input(c);
	authc_release(c);
}

/* EOF or an error on the connection. */
static void
authc_event(struct bufferevent *bev, short what, void *arg)
{
	struct auth_client *c = arg;

	(void)bev;
	if (what & BEV_EVENT_EOF)
		authc_drop(c, "connection closed by the server");
	else if (what & BEV_EVENT_ERROR)
		authc_drop(c, evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
}

/* Wrap the connected FD of C in a bufferevent, with the input IN
   already read. */
static void
authc_attach(struct auth_client *c, int fd, struct evbuffer *in)
{
	c->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		log_fatal("bufferevent_socket_new failed");
	bufferevent_setcb(c->bev, authc_read, NULL, authc_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	evbuffer_add_buffer(bufferevent_get_input(c->bev), in);
	c->gen++;
	c->next_id = 0;
}

/* Connect and do the handshake unless connected; at most TIMEOUT_MS
   of blocking.  0, or -1. */
static int
authc_connect(struct auth_client *c, int timeout_ms)
{
	long long now = clock_now_ms(), deadline = now + timeout_ms;
	struct authc_mechs mechs = { NULL, 0 };
	struct evbuffer *in;
	const char *error;
	int fd;

	if (c->bev != NULL)
		return 0;
	if (c->tried && now - c->last_try < AUTHC_RECONNECT_MS)
		return -1;
	c->tried = true;
	c->last_try = now;
	if ((fd = authc_connect_server(c->path, deadline, &error)) < 0) {
		log_warning("auth server %s: connect: %s", c->path, error);
		return -1;
	}
	in = evbuffer_new();
	if (authc_handshake(fd, deadline, in, &mechs, c->cookie,
	    &error) < 0) {
		log_warning("auth server %s: %s", c->path, error);
		evbuffer_free(in);
		close(fd);
		return -1;
	}
	authc_mechs_clear(&c->server);
	c->server = mechs;
	authc_attach(c, fd, in);
	evbuffer_free(in);
	authc_input(c);
	return c->bev != NULL ? 0 : -1;
}

/* Compact the non-empty fields ARGS[FIRST..N) and return them. */
static const char *const *
reply_fields(char **args, size_t n, size_t first)
{
	size_t i, j = first;

	for (i = first; i < n; i++)
		if (*args[i] != '\0')
			args[j++] = args[i];
	args[j] = NULL;
	return (const char *const *)(args + first);
}

/* True when FIELDS hold NAME exactly, or a field starting with NAME
   when it ends with '='. */
static bool
has_field(const char *const *fields, const char *name)
{
	size_t len = strlen(name);

	for (; *fields != NULL; fields++) {
		if (name[len - 1] == '=' ? strncmp(*fields, name, len) == 0 :
		    strcmp(*fields, name) == 0)
			return true;
	}
	return false;
}

/* Return the active request ID of C, or NULL. */
static struct auth_client_request *
authc_find(struct auth_client *c, unsigned int id)
{
	struct auth_client_request *r;

	TAILQ_FOREACH(r, &c->active, link)
		if (r->id == id)
			return r;
	return NULL;
}

/* Start the reply timer of R. */
static void
req_arm(struct auth_client_request *r)
{
	int ms = r->client->timeout_ms;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	r->state = REQ_SENT;
	evtimer_add(r->timer, &tv);
}

/* Hand the reply STATUS of R to its callback; OK and FAIL end R. */
static void
req_reply(struct auth_client_request *r, enum auth_client_status status,
    const char *data, const char *const *fields)
{
	auth_client_cb *cb = r->cb;
	void *ctx = r->ctx;

	evtimer_del(r->timer);
	if (status == AUTH_CLIENT_CONTINUE) {
		r->state = REQ_WAIT_CLIENT;
	} else {
		TAILQ_REMOVE(&r->client->active, r, link);
		req_free(r);
	}
	if (status == AUTH_CLIENT_OK && !has_field(fields, "user="))
		status = AUTH_CLIENT_TEMPFAIL;	/* never a login without one */
	if (status == AUTH_CLIENT_FAIL && (has_field(fields, "code=temp_fail")
	    || has_field(fields, "temp")))
		status = AUTH_CLIENT_TEMPFAIL;
	cb(status, data, fields, ctx);
}

/* One reply line: OK, CONT or FAIL.  0, or -1 when malformed. */
static int
authc_reply(struct auth_client *c, char *line)
{
	struct auth_client_request *r;
	enum auth_client_status status;
	unsigned int id;
	size_t n;
	char **args = tab_split(line, &n);
	int ret = 0;

	if (strcmp(args[0], "OK") == 0)
		status = AUTH_CLIENT_OK;
	else if (strcmp(args[0], "FAIL") == 0)
		status = AUTH_CLIENT_FAIL;
	else if (strcmp(args[0], "CONT") == 0)
		status = AUTH_CLIENT_CONTINUE;
	else
		goto out;	/* unknown replies are ignored */
	if (n < 2 || str_to_uint(args[1], &id) < 0 || id == 0 ||
	    (status == AUTH_CLIENT_CONTINUE && n < 3)) {
		ret = -1;
		goto out;
	}
	/* Replies to cancelled or timed out requests are expected. */
	r = authc_find(c, id);
	if (r != NULL && r->state == REQ_SENT) {
		if (status == AUTH_CLIENT_CONTINUE)
			req_reply(r, status, args[2], reply_fields(args, n, 3));
		else
			req_reply(r, status, NULL, reply_fields(args, n, 2));
	}
out:
	free(args);
	return ret;
}

/* Handle the complete lines in the input of C until the connection
   drops or C is freed. */
static void
authc_input(struct auth_client *c)
{
	unsigned int gen = c->gen;
	bool too_long = false;
	char *line;

	while (c->gen == gen && !c->free_pending &&
	    (line = authproto_next_line(bufferevent_get_input(c->bev),
	    AUTHPROTO_MAX_LINE, &too_long)) != NULL) {
		if (authc_reply(c, line) < 0 && c->gen == gen)
			authc_drop(c, "malformed reply");
		free(line);
	}
	if (c->gen == gen && too_long)
		authc_drop(c, "reply line too long");
}

/* Send CANCEL for R when the server knows it. */
static void
req_cancel(struct auth_client_request *r)
{
	char line[32];
	int len;

	if (r->id == 0 || r->state == REQ_DONE || r->client->bev == NULL)
		return;
	len = snprintf(line, sizeof(line), "CANCEL\t%u\n", r->id);
	bufferevent_write(r->client->bev, line, (size_t)len);
}

/* The server did not answer R in time. */
static void
req_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct auth_client_request *r = arg;

	(void)fd;
	(void)what;
	log_warning("auth server %s: request %u timed out", r->client->path,
	    r->id);
	req_cancel(r);
	req_finish_later(r, AUTH_CLIENT_TEMPFAIL,
	    "Authentication server timed out");
}

/* Create a client. */
struct auth_client *
auth_client_new(struct event_base *base, const char *path)
{
	struct auth_client *c = xcalloc(1, sizeof(*c));

	ignore_sigpipe();
	c->base = base;
	c->path = xstrdup(path);
	c->timeout_ms = AUTHC_TIMEOUT_MS;
	TAILQ_INIT(&c->active);
	TAILQ_INIT(&c->done);
	c->deferred = event_new(base, -1, 0, authc_deferred, c);
	if (c->deferred == NULL)
		log_fatal("event_new failed");
	return c;
}

/* Cancel every request and free the client. */
void
auth_client_free(struct auth_client **cp)
{
	struct auth_client *c = *cp;
	struct auth_client_request *r;

	if (c == NULL)
		return;
	*cp = NULL;
	while ((r = TAILQ_FIRST(&c->active)) != NULL) {
		TAILQ_REMOVE(&c->active, r, link);
		req_free(r);
	}
	while ((r = TAILQ_FIRST(&c->done)) != NULL) {
		TAILQ_REMOVE(&c->done, r, link);
		req_free(r);
	}
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
		c->gen++;
	}
	if (c->busy > 0)
		c->free_pending = true;	/* freed when the callback returns */
	else
		authc_destroy(c);
}

/* Set the reply timeout. */
void
auth_client_set_timeout(struct auth_client *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : AUTHC_TIMEOUT_MS;
}

/* Return the mechanisms, connecting first when needed. */
int
auth_client_mechs(struct auth_client *c, int timeout_ms,
    const struct auth_mech **mechs_r, size_t *count_r)
{
	size_t i;

	if (authc_connect(c, timeout_ms) < 0)
		return -1;
	authc_mechs_clear(&c->given);
	for (i = 0; i < c->server.n; i++)
		authc_mechs_add(&c->given, &c->server.v[i]);
	*mechs_r = c->given.v;
	*count_r = c->given.n;
	return 0;
}

/* Append "\tNAME=VALUE" (VALUE escaped) unless VALUE is NULL. */
static void
append_param(struct str *out, const char *name, const char *value)
{
	if (value == NULL)
		return;
	str_appendf(out, "\t%s=", name);
	tab_escape(out, value);
}

/* Build the AUTH line of request ID from INFO. */
static void
build_auth(struct str *out, unsigned int id,
    const struct auth_request_info *info)
{
	str_appendf(out, "AUTH\t%u\t", id);
	tab_escape(out, info->mech);
	append_param(out, "service", info->service);
	if (info->secured)
		str_append(out, "\tsecured");
	append_param(out, "lip", info->local_ip);
	append_param(out, "rip", info->remote_ip);
	if (info->local_port != 0)
		str_appendf(out, "\tlport=%u", info->local_port);
	if (info->remote_port != 0)
		str_appendf(out, "\trport=%u", info->remote_port);
	append_param(out, "resp", info->initial_resp);	/* must be last */
	str_append_c(out, '\n');
}

/* Return the next free request id of C. */
static unsigned int
authc_next_id(struct auth_client *c)
{
	do {
		if (++c->next_id == 0)
			c->next_id = 1;
	} while (authc_find(c, c->next_id) != NULL);
	return c->next_id;
}

/* Send the AUTH line of R, or finish R with FAIL when the server must
   not see it. */
static void
req_send_auth(struct auth_client_request *r,
    const struct auth_request_info *info)
{
	struct auth_client *c = r->client;
	struct str line = STR_INIT;

	if (info->mech == NULL || authc_mechs_find(&c->server, info->mech) ==
	    NULL) {
		req_finish_later(r, AUTH_CLIENT_FAIL, "Unsupported "
		    "authentication mechanism");
		return;
	}
	if (info->service == NULL || *info->service == '\0') {
		req_finish_later(r, AUTH_CLIENT_FAIL, "No service given");
		return;
	}
	build_auth(&line, authc_next_id(c), info);
	if (line.len > AUTHPROTO_MAX_LINE) {
		req_finish_later(r, AUTH_CLIENT_FAIL, "Response too long");
	} else {
		r->id = c->next_id;
		bufferevent_write(c->bev, line.s, line.len);
		req_arm(r);
	}
	str_wipe(&line);
}

/* Start an authentication. */
struct auth_client_request *
auth_client_start(struct auth_client *c, const struct auth_request_info *info,
    auth_client_cb *cb, void *ctx)
{
	struct auth_client_request *r;

	if (authc_connect(c, AUTHC_START_CONNECT_MS) < 0)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	r->client = c;
	r->cb = cb;
	r->ctx = ctx;
	r->state = REQ_SENT;
	r->timer = evtimer_new(c->base, req_timeout, r);
	if (r->timer == NULL)
		log_fatal("evtimer_new failed");
	TAILQ_INSERT_TAIL(&c->active, r, link);
	req_send_auth(r, info);
	return r;
}

/* Send the response to a CONTINUE. */
void
auth_client_continue(struct auth_client_request *r, const char *resp)
{
	struct str line = STR_INIT;

	if (r->state != REQ_WAIT_CLIENT) {
		log_warning("auth client: response without a challenge");
		return;
	}
	str_appendf(&line, "CONT\t%u\t", r->id);
	tab_escape(&line, resp);
	str_append_c(&line, '\n');
	if (line.len > AUTHPROTO_MAX_LINE) {
		req_cancel(r);
		req_finish_later(r, AUTH_CLIENT_FAIL, "Response too long");
	} else {
		bufferevent_write(r->client->bev, line.s, line.len);
		req_arm(r);
	}
	str_wipe(&line);
}

/* Abandon a request. */
void
auth_client_abort(struct auth_client_request **rp)
{
	struct auth_client_request *r = *rp;

	if (r == NULL)
		return;
	*rp = NULL;
	req_cancel(r);
	if (r->state == REQ_DONE)
		TAILQ_REMOVE(&r->client->done, r, link);
	else
		TAILQ_REMOVE(&r->client->active, r, link);
	req_free(r);
}

/* The server's cookie on the current connection. */
const char *
auth_client_cookie(const struct auth_client *c)
{
	return c->bev != NULL && c->cookie[0] != '\0' ? c->cookie : NULL;
}

/* The id R has on the server. */
unsigned int
auth_client_request_id(const struct auth_client_request *r)
{
	return r->id;
}
