/*
 * The PAM pool as the event loop sees it: requests go to the helper
 * process (pam_helper.c) over a socketpair as framed messages carrying
 * request ids, replies come back in any order.  Nothing here blocks: the
 * socket is non-blocking and driven by libevent, and every callback runs
 * from a deferred event, never from inside pam_pool_check().
 */

#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/pam_proto.h"
#include "auth/pam_worker.h"
#include "lib/log.h"
#include "lib/xalloc.h"

struct pam_request {
	TAILQ_ENTRY(pam_request) link;
	struct pam_pool *pool;
	uint32_t id;
	bool done;		/* on the done list, callback pending */
	int outcome;
	char *reason;
	pam_pool_callback *cb;
	void *ctx;
};
TAILQ_HEAD(request_list, pam_request);

struct pam_pool {
	struct event_base *base;
	unsigned max_workers, max_requests, timeout_secs;
	pid_t helper;		/* -1: none running */
	int fd;
	struct event *read_ev, *write_ev, *done_ev, *reap_ev;
	struct pbuf in, out;
	struct request_list inflight, done;
	unsigned n_inflight;
	uint32_t next_id;
	pid_t *zombies;		/* helpers that exited, not yet reaped */
	unsigned n_zombies;
	bool in_callback, freed;
};

static void pool_read_cb(evutil_socket_t fd, short what, void *arg);
static void pool_write_cb(evutil_socket_t fd, short what, void *arg);
static void reap_cb(evutil_socket_t fd, short what, void *arg);

/* Fork the helper; 0, or -1 with *ERROR_R set. */
static int
helper_start(struct pam_pool *pool, const char **error_r)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		*error_r = "socketpair failed";
		return -1;
	}
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		*error_r = "fork failed";
		return -1;
	}
	if (pid == 0)
		pam_helper_main(pam_child_setup(sv[1]), pool->max_workers,
		    pool->max_requests, pool->timeout_secs);
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0)
		log_fatal("pam pool: fcntl: %m");
	pool->helper = pid;
	pool->fd = sv[0];
	pool->read_ev = event_new(pool->base, pool->fd, EV_READ | EV_PERSIST,
	    pool_read_cb, pool);
	pool->write_ev = event_new(pool->base, pool->fd, EV_WRITE,
	    pool_write_cb, pool);
	if (pool->read_ev == NULL || pool->write_ev == NULL)
		log_fatal("pam pool: event_new failed");
	event_add(pool->read_ev, NULL);
	return 0;
}

/* Complete REQ: queue its callback for the event loop. */
static void
request_finish(struct pam_request *req, int outcome, const char *reason)
{
	struct pam_pool *pool = req->pool;

	TAILQ_REMOVE(&pool->inflight, req, link);
	pool->n_inflight--;
	req->done = true;
	req->outcome = outcome;
	req->reason = xstrdup(reason != NULL ? reason : "");
	TAILQ_INSERT_TAIL(&pool->done, req, link);
	event_active(pool->done_ev, 0, 0);
}

/* Free REQ, which is on no list. */
static void
request_free(struct pam_request *req)
{
	free(req->reason);
	free(req);
}

/* Close the connection to the helper and remember to reap it. */
static void
helper_close(struct pam_pool *pool)
{
	struct timeval tv = { 0, 100000 };

	if (pool->helper < 0)
		return;
	event_free(pool->read_ev);
	event_free(pool->write_ev);
	pool->read_ev = pool->write_ev = NULL;
	close(pool->fd);
	pool->fd = -1;
	pbuf_wipe(&pool->in);
	pbuf_wipe(&pool->out);
	pool->zombies = xreallocarray(pool->zombies, pool->n_zombies + 1,
	    sizeof(*pool->zombies));
	pool->zombies[pool->n_zombies++] = pool->helper;
	pool->helper = -1;
	event_add(pool->reap_ev, &tv);
}

/* The helper is gone: fail every request in flight. */
static void
helper_lost(struct pam_pool *pool, const char *why)
{
	struct pam_request *req;

	log_warning("pam pool: helper %ld %s", (long)pool->helper, why);
	helper_close(pool);
	while ((req = TAILQ_FIRST(&pool->inflight)) != NULL)
		request_finish(req, PAM_POOL_TEMPFAIL, "PAM helper died");
}

/* Reap exited helpers without blocking; retry later if need be. */
static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pam_pool *pool = arg;
	struct timeval tv = { 0, 100000 };
	unsigned i = 0;
	pid_t ret;

	while (i < pool->n_zombies) {
		ret = waitpid(pool->zombies[i], NULL, WNOHANG);
		if (ret == 0 || (ret < 0 && errno == EINTR)) {
			i++;
			continue;
		}
		/* Reaped by us, or by a caller's own SIGCHLD handler. */
		pool->zombies[i] = pool->zombies[--pool->n_zombies];
	}
	if (pool->n_zombies > 0)
		event_add(pool->reap_ev, &tv);
}

/* Queue MSG for the helper. */
static void
pool_send(struct pam_pool *pool, const struct pam_msg *msg)
{
	pam_msg_encode(&pool->out, msg);
	if (!event_pending(pool->write_ev, EV_WRITE, NULL))
		event_add(pool->write_ev, NULL);
}

/* Write what is queued for the helper. */
static void
pool_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pam_pool *pool = arg;
	ssize_t n;

	n = send(fd, pool->out.data, pool->out.len,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		helper_lost(pool, "closed its socket");
		return;
	}
	if (n > 0)
		pbuf_consume(&pool->out, (size_t)n);
	if (pool->out.len > 0)
		event_add(pool->write_ev, NULL);
}

/* Return the request in flight with id ID, or NULL. */
static struct pam_request *
request_find(struct pam_pool *pool, uint32_t id)
{
	struct pam_request *req;

	TAILQ_FOREACH(req, &pool->inflight, link)
		if (req->id == id)
			return req;
	return NULL;
}

/* Read the helper's replies. */
static void
pool_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pam_pool *pool = arg;
	unsigned char chunk[8192];
	struct pam_request *req;
	struct pam_msg msg;
	ssize_t n;
	int ret;

	n = read(fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		helper_lost(pool, "exited");
		return;
	}
	pbuf_append(&pool->in, chunk, (size_t)n);
	while ((ret = pam_msg_decode(&pool->in, &msg)) > 0) {
		/* Replies to cancelled requests find nobody. */
		if (msg.type == PAM_MSG_REPLY &&
		    (req = request_find(pool, msg.id)) != NULL)
			request_finish(req, msg.outcome, msg.reason);
		pam_msg_clear(&msg);
	}
	if (ret < 0)
		helper_lost(pool, "sent garbage");
}

/* Free everything POOL holds and wait briefly for its helper. */
static void
pool_destroy(struct pam_pool *pool)
{
	struct pam_request *req;
	struct timespec tick = { 0, 10000000 };
	unsigned i, tries;

	helper_close(pool);
	while ((req = TAILQ_FIRST(&pool->inflight)) != NULL) {
		TAILQ_REMOVE(&pool->inflight, req, link);
		request_free(req);
	}
	while ((req = TAILQ_FIRST(&pool->done)) != NULL) {
		TAILQ_REMOVE(&pool->done, req, link);
		request_free(req);
	}
	/* The helper exits at end of file on its socket; allow it 2 s. */
	for (tries = 0; pool->n_zombies > 0 && tries < 200; tries++) {
		reap_cb(-1, 0, pool);
		if (pool->n_zombies > 0)
			nanosleep(&tick, NULL);
	}
	for (i = 0; i < pool->n_zombies; i++)
		log_warning("pam pool: helper %ld did not exit",
		    (long)pool->zombies[i]);
	event_free(pool->done_ev);
	event_free(pool->reap_ev);
	free(pool->zombies);
	free(pool);
}

/* Run the callbacks of completed requests. */
static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pam_pool *pool = arg;
	struct pam_request *req;

	pool->in_callback = true;
	while (!pool->freed && (req = TAILQ_FIRST(&pool->done)) != NULL) {
		TAILQ_REMOVE(&pool->done, req, link);
		req->cb(req->outcome, req->reason, req->ctx);
		request_free(req);
	}
	pool->in_callback = false;
	if (pool->freed)
		pool_destroy(pool);
}

/* Create a pool on BASE and fork its helper. */
int
pam_pool_create(struct event_base *base, unsigned max_workers,
    unsigned max_requests, unsigned timeout_secs, struct pam_pool **pool_r,
    const char **error_r)
{
	struct pam_pool *pool;

	if (max_workers == 0 || max_requests == 0) {
		*error_r = "max_workers and max_requests must be at least 1";
		return -1;
	}
	pool = xcalloc(1, sizeof(*pool));
	pool->base = base;
	pool->max_workers = max_workers;
	pool->max_requests = max_requests;
	pool->timeout_secs = timeout_secs;
	pool->helper = -1;
	pool->fd = -1;
	TAILQ_INIT(&pool->inflight);
	TAILQ_INIT(&pool->done);
	pool->done_ev = event_new(base, -1, 0, done_cb, pool);
	pool->reap_ev = evtimer_new(base, reap_cb, pool);
	if (pool->done_ev == NULL || pool->reap_ev == NULL)
		log_fatal("pam pool: event_new failed");
	if (helper_start(pool, error_r) < 0) {
		pool_destroy(pool);
		return -1;
	}
	*pool_r = pool;
	return 0;
}

/* Return a new request on POOL's in-flight list. */
static struct pam_request *
request_new(struct pam_pool *pool, pam_pool_callback *cb, void *ctx)
{
	struct pam_request *req;

	req = xcalloc(1, sizeof(*req));
	req->pool = pool;
	req->cb = cb;
	req->ctx = ctx;
	if (++pool->next_id == 0)
		pool->next_id = 1;
	req->id = pool->next_id;
	TAILQ_INSERT_TAIL(&pool->inflight, req, link);
	pool->n_inflight++;
	return req;
}

/* Return why the check cannot be sent, or NULL when it can. */
static const char *
check_refused(struct pam_pool *pool, const char *service, const char *user,
    const char *password, const char *rip, int *outcome_r)
{
	const char *error;

	*outcome_r = PAM_POOL_FAIL;
	if (strlen(service) > PAM_MAX_SERVICE || strlen(user) > PAM_MAX_USER ||
	    strlen(password) > PAM_MAX_PASSWORD ||
	    (rip != NULL && strlen(rip) > PAM_MAX_RIP))
		return "input too long";
	*outcome_r = PAM_POOL_TEMPFAIL;
	if (pool->n_inflight > PAM_POOL_MAX_INFLIGHT)
		return "too many PAM requests in flight";
	if (pool->helper < 0 && helper_start(pool, &error) < 0) {
		log_warning("pam pool: cannot restart the helper: %s", error);
		return "PAM helper unavailable";
	}
	return NULL;
}

/* Start one check. */
struct pam_request *
pam_pool_check(struct pam_pool *pool, const char *service, const char *user,
    const char *password, const char *rip, pam_pool_callback *cb, void *ctx)
{
	struct pam_request *req;
	struct pam_msg msg;
	const char *refused;
	int outcome;

	req = request_new(pool, cb, ctx);
	refused = check_refused(pool, service, user, password, rip, &outcome);
	if (refused != NULL) {
		request_finish(req, outcome, refused);
		return req;
	}
	memset(&msg, 0, sizeof(msg));
	msg.type = PAM_MSG_CHECK;
	msg.id = req->id;
	msg.service = (char *)service;
	msg.user = (char *)user;
	msg.password = (char *)password;
	msg.rip = (char *)(rip != NULL ? rip : "");
	pool_send(pool, &msg);
	return req;
}

/* Abandon REQ. */
void
pam_pool_cancel(struct pam_request *req)
{
	struct pam_pool *pool = req->pool;
	struct pam_msg msg;

	if (req->done) {
		TAILQ_REMOVE(&pool->done, req, link);
	} else {
		TAILQ_REMOVE(&pool->inflight, req, link);
		pool->n_inflight--;
		if (pool->helper >= 0) {
			memset(&msg, 0, sizeof(msg));
			msg.type = PAM_MSG_CANCEL;
			msg.id = req->id;
			pool_send(pool, &msg);
		}
	}
	request_free(req);
}

/* Return the helper's pid, or -1. */
pid_t
pam_pool_helper_pid(const struct pam_pool *pool)
{
	return pool->helper;
}

/* Return the number of requests waiting for an answer. */
unsigned
pam_pool_inflight(const struct pam_pool *pool)
{
	return pool->n_inflight;
}

/* Free the pool. */
void
pam_pool_free(struct pam_pool **poolp)
{
	struct pam_pool *pool = *poolp;

	if (pool == NULL)
		return;
	*poolp = NULL;
	if (pool->in_callback) {
		pool->freed = true;
		helper_close(pool);
		return;
	}
	pool_destroy(pool);
}
