/*
 * qmgr: requests to the delivery agents (doc/delivery-protocol.md).
 * Jobs wait in the queue of their destination (transport, nexthop); a
 * destination has at most its concurrency limit of requests in flight,
 * an agent at most default_process_limit connections.  A connection
 * carries one request at a time and is kept for the next one.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "queue/qmgr.h"
#include "queue/queue.h"

/* How long an idle connection is kept. */
#define QMGR_IDLE_SECONDS	60
/* The pause before connecting again to an agent that was not there. */
#define QMGR_AGENT_RETRY_MS	250

struct qmgr_conn;

/* One agent socket and its connections. */
struct qmgr_agentq {
	const char *name;		/* "local", "smtp" */
	char *path;			/* queue_directory/private/NAME */
	unsigned n_conns;
	long long down_until_ms;	/* no new connection before */
	TAILQ_HEAD(qmgr_conn_list, qmgr_conn) idle;
};

struct qmgr_dest {
	char *transport, *nexthop;
	struct qmgr_agentq *agent;
	unsigned inflight, limit;
	TAILQ_HEAD(qmgr_job_list, qmgr_job) jobs;
	TAILQ_ENTRY(qmgr_dest) link;
};

struct qmgr_conn {
	struct qmgr_agentq *agent;
	struct bufferevent *bev;
	struct qmgr_job *job;		/* NULL when idle */
	struct dproto_reply reply;
	TAILQ_ENTRY(qmgr_conn) link;	/* in agent->idle */
};

static struct qmgr_agentq agents[2] = {
	{ .name = "local" }, { .name = "smtp" },
};
static TAILQ_HEAD(qmgr_dest_list, qmgr_dest) dests = TAILQ_HEAD_INITIALIZER(dests);
static unsigned inflight;
static struct event *retry_ev;
static const struct timeval retry_tv = { 0, QMGR_AGENT_RETRY_MS * 1000 };
static const struct timeval now_tv = { 0, 0 };
static const struct timeval idle_tv = { QMGR_IDLE_SECONDS, 0 };

static void dispatch(void);

/* Timer: an agent that was missing may be there now. */
static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	dispatch();
}

void
qmgr_deliver_init(void)
{
	size_t i;

	for (i = 0; i < sizeof(agents) / sizeof(agents[0]); i++) {
		agents[i].path = xasprintf("%s/%s/%s", qmgr.queue_dir,
		    QUEUE_PRIVATE, agents[i].name);
		TAILQ_INIT(&agents[i].idle);
	}
	retry_ev = evtimer_new(qmgr.base, on_retry, NULL);
}

unsigned
qmgr_deliver_inflight(void)
{
	return inflight;
}

/* The destination (TRANSPORT, NEXTHOP), made when new. */
static struct qmgr_dest *
dest_get(const char *transport, const char *nexthop, enum qmgr_agent agent)
{
	struct qmgr_dest *d;

	for (d = TAILQ_FIRST(&dests); d != NULL; d = TAILQ_NEXT(d, link)) {
		if (strcmp(d->transport, transport) == 0 &&
		    strcmp(d->nexthop, nexthop) == 0)
			return d;
	}
	d = xcalloc(1, sizeof(*d));
	d->transport = xstrdup(transport);
	d->nexthop = xstrdup(nexthop);
	d->agent = &agents[agent == QMGR_AGENT_LOCAL ? 0 : 1];
	d->limit = strcmp(transport, "local") == 0 ? qmgr.local_dest_limit :
	    qmgr.dest_limit;
	TAILQ_INIT(&d->jobs);
	TAILQ_INSERT_TAIL(&dests, d, link);
	return d;
}

/* Free a destination nothing uses any more. */
static void
dest_release(struct qmgr_dest *d)
{
	if (d->inflight > 0 || !TAILQ_EMPTY(&d->jobs))
		return;
	TAILQ_REMOVE(&dests, d, link);
	free(d->transport);
	free(d->nexthop);
	free(d);
}

/* Close connection C (idle or not: its job must be gone already). */
static void
conn_free(struct qmgr_conn *c)
{
	if (c->job == NULL)
		TAILQ_REMOVE(&c->agent->idle, c, link);
	c->agent->n_conns--;
	bufferevent_free(c->bev);
	dproto_reply_clear(&c->reply);
	free(c);
}

/*
 * The request on C is over: hand the statuses to the message (those
 * missing are deferred with DSN and TEXT).  Its destination may start
 * another.
 */
static void
conn_job_end(struct qmgr_conn *c, const char *dsn, const char *text)
{
	struct qmgr_job *job = c->job;
	struct qmgr_dest *d = job->dest;

	c->job = NULL;
	d->inflight--;
	inflight--;
	qmgr_job_finish(job, &c->reply, dsn, text);
	dproto_reply_clear(&c->reply);
	dest_release(d);
	/* Stopping: the last answer ends the wait. */
	if (qmgr.stopping && inflight == 0)
		event_base_loopbreak(qmgr.base);
}

/* The connection failed or broke the protocol: defer what is open. */
static void
conn_fail(struct qmgr_conn *c, const char *why)
{
	char *text;

	if (c->job != NULL) {
		log_warning("%s: %s: %s", c->job->msg->id, c->agent->path,
		    why);
		text = xasprintf("delivery agent failed: %s", why);
		conn_job_end(c, "4.3.0", text);
		free(text);
		TAILQ_INSERT_TAIL(&c->agent->idle, c, link);
	}
	conn_free(c);
	dispatch();
}

/* Does every status of C's reply name a recipient of its request? */
static bool
reply_indexes_ok(const struct qmgr_conn *c)
{
	size_t i, j;

	for (i = 0; i < c->reply.n_st; i++) {
		for (j = 0; j < c->job->n; j++)
			if (c->job->idx[j] == c->reply.st[i].index)
				break;
		if (j == c->job->n)
			return false;
	}
	return true;
}

/* A complete reply arrived on C. */
static void
conn_reply_done(struct qmgr_conn *c)
{
	if (!reply_indexes_ok(c)) {
		conn_fail(c, "status for a recipient the request did not "
		    "have");
		return;
	}
	conn_job_end(c, "4.3.0", "delivery agent failed: no status for "
	    "this recipient");
	TAILQ_INSERT_TAIL(&c->agent->idle, c, link);
	bufferevent_set_timeouts(c->bev, &idle_tv, NULL);
	dispatch();
}

/* Lines from an agent. */
static void
on_read(struct bufferevent *bev, void *arg)
{
	struct qmgr_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	const char *error;
	size_t len;
	char *line;
	int r;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		if (c->job == NULL || len >= DPROTO_MAX_LINE) {
			free(line);
			conn_fail(c, c->job == NULL ? "data on an idle "
			    "connection" : "line too long");
			return;
		}
		r = dproto_reply_line(&c->reply, line, &error);
		free(line);
		if (r < 0) {
			conn_fail(c, error);
			return;
		}
		if (r > 0) {
			conn_reply_done(c);
			return;
		}
	}
	if (evbuffer_get_length(in) >= DPROTO_MAX_LINE)
		conn_fail(c, "line too long");
}

/* End of file, an error or the idle timeout. */
static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct qmgr_conn *c = arg;

	(void)bev;
	if (c->job == NULL) {
		conn_free(c);
		return;
	}
	conn_fail(c, (what & BEV_EVENT_EOF) ? "connection closed" :
	    (what & BEV_EVENT_TIMEOUT) ? "timeout" : strerror(errno));
}

/*
 * A new connection to agent A, or NULL (logged once per outage) when
 * the agent is not there.
 */
static struct qmgr_conn *
conn_new(struct qmgr_agentq *a)
{
	struct sockaddr_un sun;
	struct qmgr_conn *c;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(a->path) >= sizeof(sun.sun_path))
		log_fatal("%s: socket path too long", a->path);
	strcpy(sun.sun_path, a->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (a->down_until_ms == 0)
			log_warning("connect to %s: %s", a->path,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
		a->down_until_ms = clock_now_ms() + QMGR_AGENT_RETRY_MS;
		return NULL;
	}
	a->down_until_ms = 0;
	c = xcalloc(1, sizeof(*c));
	c->agent = a;
	c->bev = bufferevent_socket_new(qmgr.base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	a->n_conns++;
	return c;
}

/* An idle connection of A, a new one, or NULL. */
static struct qmgr_conn *
conn_get(struct qmgr_agentq *a)
{
	struct qmgr_conn *c = TAILQ_FIRST(&a->idle);

	if (c != NULL) {
		TAILQ_REMOVE(&a->idle, c, link);
		bufferevent_set_timeouts(c->bev, NULL, NULL);
		return c;
	}
	if (a->n_conns >= qmgr.process_limit ||
	    clock_now_ms() < a->down_until_ms)
		return NULL;
	return conn_new(a);
}

/* Write the request of JOB on C. */
static void
conn_send(struct qmgr_conn *c, struct qmgr_job *job)
{
	const struct queue_envelope *env = job->msg->env;
	struct dproto_request req;
	struct str out = STR_INIT;
	size_t i;

	memset(&req, 0, sizeof(req));
	req.queue_id = job->msg->id;
	req.path = job->msg->path;
	req.offset = env->content_offset;
	req.length = env->content_length;
	req.transport = job->dest->transport;
	req.nexthop = job->dest->nexthop;
	req.sender = env->sender;
	req.attrs = env->attrs;
	req.n_attrs = strv_len(env->attrs);
	req.rcpts = xcalloc(job->n, sizeof(*req.rcpts));
	req.n_rcpts = job->n;
	for (i = 0; i < job->n; i++) {
		req.rcpts[i].index = job->idx[i];
		req.rcpts[i].final = env->rcpts[job->idx[i]].final;
		req.rcpts[i].orcpt = env->rcpts[job->idx[i]].orcpt != NULL ?
		    env->rcpts[job->idx[i]].orcpt : "";
		req.rcpts[i].notify = env->rcpts[job->idx[i]].notify != NULL ?
		    env->rcpts[job->idx[i]].notify : "";
	}
	dproto_request_write(&out, &req);
	free(req.rcpts);
	c->job = job;
	job->connected = qmgr_now();
	bufferevent_write(c->bev, str_c(&out), out.len);
	str_free(&out);
}

/*
 * JOB could not get a connection because its agent is missing: retry
 * soon while its grace lasts, else defer its recipients.
 */
static bool
job_agent_missing(struct qmgr_dest *d, struct qmgr_job *job)
{
	char *text;

	if (clock_now_ms() < job->connect_until_ms)
		return false;
	TAILQ_REMOVE(&d->jobs, job, link);
	text = xasprintf("delivery agent not available: connect to %s: "
	    "failed", d->agent->path);
	qmgr_job_finish(job, NULL, "4.3.0", text);
	free(text);
	return true;
}

/* Start the jobs of D that its limits allow.  False when the agent is
   missing and a job waits for it (a retry is due). */
static bool
dest_run(struct qmgr_dest *d)
{
	struct qmgr_job *job;
	struct qmgr_conn *c;

	while (d->inflight < d->limit && (job = TAILQ_FIRST(&d->jobs)) !=
	    NULL) {
		if ((c = conn_get(d->agent)) == NULL) {
			/* Every connection busy: one that frees up calls
			   dispatch() again. */
			if (d->agent->n_conns >= qmgr.process_limit)
				return true;
			if (!job_agent_missing(d, job))
				return false;
			continue;
		}
		TAILQ_REMOVE(&d->jobs, job, link);
		job->started = qmgr_now();
		d->inflight++;
		inflight++;
		conn_send(c, job);
	}
	return true;
}

/* Start whatever may start now. */
static void
dispatch(void)
{
	struct qmgr_dest *d, *next;
	bool retry = false;

	if (qmgr.stopping)
		return;
	for (d = TAILQ_FIRST(&dests); d != NULL; d = next) {
		if (!dest_run(d))
			retry = true;
		next = TAILQ_NEXT(d, link);
		dest_release(d);
	}
	if (retry && !evtimer_pending(retry_ev, NULL))
		evtimer_add(retry_ev, &retry_tv);
}

void
qmgr_deliver_submit(struct qmgr_job *job, const char *transport,
    const char *nexthop, enum qmgr_agent agent)
{
	struct qmgr_dest *d = dest_get(transport, nexthop, agent);

	job->dest = d;
	TAILQ_INSERT_TAIL(&d->jobs, job, link);
	/* Routing goes on for the other recipients: start the requests
	   from the loop, once the message is fully scheduled. */
	if (!evtimer_pending(retry_ev, NULL))
		evtimer_add(retry_ev, &now_tv);
}

void
qmgr_deliver_shutdown(void)
{
	struct qmgr_dest *d;
	struct qmgr_job *job;
	struct qmgr_conn *c;
	size_t i;

	while ((d = TAILQ_FIRST(&dests)) != NULL) {
		while ((job = TAILQ_FIRST(&d->jobs)) != NULL) {
			TAILQ_REMOVE(&d->jobs, job, link);
			free(job->idx);
			free(job);
		}
		TAILQ_REMOVE(&dests, d, link);
		free(d->transport);
		free(d->nexthop);
		free(d);
	}
	for (i = 0; i < sizeof(agents) / sizeof(agents[0]); i++) {
		while ((c = TAILQ_FIRST(&agents[i].idle)) != NULL)
			conn_free(c);
		free(agents[i].path);
	}
	if (retry_ev != NULL)
		event_free(retry_ev);
}
