/*
 * qmgr: one message in active/.  It is read, routed recipient by
 * recipient, handed to the agents in one request per destination, and
 * finished when every request is answered: removed when every recipient
 * is done, else moved to deferred/ with the next attempt time as mtime
 * and the reasons in defer/ID.
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/tabescape.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "queue/qmgr.h"
#include "queue/queue.h"

/* How long a job keeps trying to reach an agent that is not there yet. */
#define QMGR_CONNECT_RETRY_MS	5000

double
qmgr_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* QUEUE_DIR/SUB/ID, allocated. */
static char *
qpath(const char *sub, const char *id)
{
	return xasprintf("%s/%s/%s", qmgr.queue_dir, sub, id);
}

/* Move a file the reader refused to corrupt/. */
static void
message_corrupt(const char *path, const char *id, const char *why)
{
	char *to = qpath(QUEUE_CORRUPT, id);

	log_warning("%s: %s; moved to %s/", id, why, QUEUE_CORRUPT);
	if (rename(path, to) < 0)
		log_error("%s: rename to %s: %s", id, to, strerror(errno));
	free(to);
}

/*
 * Read defer/ID of a message coming back from deferred/: whether its
 * delay warning went out ("W" line).
 */
static void
defer_log_read(struct qmgr_msg *msg)
{
	char *path = qpath(QUEUE_DEFER, msg->id), line[16];
	FILE *fp = fopen(path, "re");

	free(path);
	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (line[0] == 'W' && line[1] == '\t')
			msg->warned = true;
	fclose(fp);
}

/*
 * Rewrite defer/ID with the deferred recipients of MSG: a temporary file
 * renamed over the old one, so a reader never sees half of it.  Lines:
 * "R TAB address TAB dsn TAB reason" (tab-escaped), and "W TAB time" once
 * the delay warning went out.
 */
static void
defer_log_write(struct qmgr_msg *msg)
{
	char *path = qpath(QUEUE_DEFER, msg->id);
	char *tmp = xasprintf("%s/%s/.%s", qmgr.queue_dir, QUEUE_DEFER,
	    msg->id);
	struct str s = STR_INIT;
	size_t i;
	int fd;

	for (i = 0; i < msg->env->n_rcpts; i++) {
		if (msg->r[i].state != QR_DEFERRED)
			continue;
		str_append(&s, "R\t");
		tab_escape(&s, msg->env->rcpts[i].final);
		str_append_c(&s, '\t');
		tab_escape(&s, msg->r[i].dsn);
		str_append_c(&s, '\t');
		tab_escape(&s, msg->r[i].text);
		str_append_c(&s, '\n');
	}
	if (msg->warned)
		str_appendf(&s, "W\t%lld\n", (long long)qmgr_now());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0 || write(fd, str_c(&s), s.len) != (ssize_t)s.len ||
	    close(fd) < 0 || rename(tmp, path) < 0) {
		log_warning("%s: cannot write %s: %s", msg->id, path,
		    strerror(errno));
		(void)unlink(tmp);
	}
	str_free(&s);
	free(tmp);
	free(path);
}

/* Free MSG and everything it holds. */
static void
message_free(struct qmgr_msg *msg)
{
	size_t i;

	for (i = 0; msg->env != NULL && i < msg->env->n_rcpts; i++) {
		free(msg->r[i].dsn);
		free(msg->r[i].relay);
		free(msg->r[i].text);
	}
	free(msg->r);
	queue_envelope_free(&msg->env);
	if (msg->fd >= 0)
		close(msg->fd);
	free(msg->path);
	free(msg->id);
	free(msg);
}

/* Flush the done marks of MSG to disk before anything relies on them. */
static void
message_sync(struct qmgr_msg *msg)
{
	if (!msg->dirty)
		return;
	if (fsync(msg->fd) < 0)
		log_error("%s: fsync: %s", msg->id, strerror(errno));
	msg->dirty = false;
}

/* Move MSG to deferred/ with its next attempt time as mtime. */
static void
message_defer(struct qmgr_msg *msg)
{
	char *to = qpath(QUEUE_DEFERRED, msg->id);
	double now = qmgr_now();
	long long wait = qmgr_backoff(now - msg->env->arrival,
	    qmgr.min_backoff, qmgr.max_backoff);
	struct timespec ts[2];

	defer_log_write(msg);
	ts[0].tv_sec = ts[1].tv_sec = (time_t)now + (time_t)wait;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (futimens(msg->fd, ts) < 0)
		log_warning("%s: set the retry time: %s", msg->id,
		    strerror(errno));
	if (rename(msg->path, to) < 0)
		log_error("%s: rename to %s: %s", msg->id, to,
		    strerror(errno));
	free(to);
}

/*
 * The removal of a finished message is made durable by an fsync of
 * active/ in a worker thread, one fsync for every removal done before
 * it started, so the loop never waits on the disk for it; it starts
 * SYNC_DELAY after the first removal not yet covered, so that under load
 * one fsync covers many removals.  Until that fsync is over a crash of
 * the machine may bring the file back and its last deliveries are made
 * again, as for a delivery in flight: the done marks are not fsynced
 * first, since the removal covers them.
 */
#define SYNC_DELAY_US	10000
static struct worker *sync_worker;
static struct event *sync_timer;
static int active_fd = -1;
static int sync_errno;
static bool sync_running, sync_wanted, sync_pending;

static void sync_start(void);

/* In the worker: fsync active/. */
static void
sync_run(void *arg)
{
	(void)arg;
	sync_errno = fsync(active_fd) < 0 ? errno : 0;
}

/* Back in the loop: another round when removals came meanwhile. */
static void
sync_done(void *arg)
{
	(void)arg;
	sync_running = false;
	if (sync_errno != 0)
		log_error("fsync %s/%s: %s", qmgr.queue_dir, QUEUE_ACTIVE,
		    strerror(sync_errno));
	if (sync_wanted)
		sync_start();
}

/* The delay is over: fsync for every removal so far. */
static void
sync_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	sync_pending = false;
	sync_wanted = false;
	sync_running = true;
	worker_submit(sync_worker, sync_run, sync_done, NULL);
}

/* Have every removal so far made durable, soon. */
static void
sync_start(void)
{
	struct timeval tv = { 0, SYNC_DELAY_US };

	if (sync_running) {
		sync_wanted = true;
		return;
	}
	if (!sync_pending) {
		sync_pending = true;
		evtimer_add(sync_timer, &tv);
	}
}

void
qmgr_message_init(void)
{
	char *path = xasprintf("%s/%s", qmgr.queue_dir, QUEUE_ACTIVE);

	active_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (active_fd < 0)
		log_fatal("open %s: %s", path, strerror(errno));
	free(path);
	sync_worker = worker_new(qmgr.base, 1);
	if ((sync_timer = evtimer_new(qmgr.base, sync_timeout, NULL)) == NULL)
		log_fatal("evtimer_new failed");
}

void
qmgr_message_shutdown(void)
{
	/* The last round runs here, in the loop's thread, as nothing will
	   call its completion any more. */
	worker_free(&sync_worker);
	if (sync_wanted || sync_running || sync_pending)
		sync_run(NULL);
	event_free(sync_timer);
	sync_timer = NULL;
	close(active_fd);
}

/* Every recipient of MSG is done: remove it and its defer log. */
static void
message_remove(struct qmgr_msg *msg)
{
	char *defer = qpath(QUEUE_DEFER, msg->id);

	if (queue_file_retire(qmgr.queue_dir, msg->path, msg->fd) < 0)
		log_error("%s: remove: %s", msg->id, strerror(errno));
	else {
		log_info("%s: removed", msg->id);
		sync_start();
	}
	(void)unlink(defer);
	free(defer);
}

/*
 * The attempt of MSG is over (no request left): notices, then removal or
 * deferral.  While stopping, a message with recipients not tried yet
 * stays in active/ for the next start.
 */
static void
message_finish(struct qmgr_msg *msg)
{
	size_t i, left = 0, untried = 0;

	qmgr_notices(msg);
	for (i = 0; i < msg->env->n_rcpts; i++) {
		if (msg->r[i].state != QR_DONE)
			left++;
		if (msg->r[i].state == QR_PENDING ||
		    msg->r[i].state == QR_INFLIGHT)
			untried++;
	}
	if (left == 0)
		message_remove(msg);
	else {
		message_sync(msg);
		if (untried == 0)
			message_defer(msg);
	}
	message_free(msg);
	qmgr.n_active--;
	qmgr_message_gone();
}

/* A job for the recipients IDX (N of them) of MSG. */
static struct qmgr_job *
job_new(struct qmgr_msg *msg, const unsigned *idx, size_t n)
{
	struct qmgr_job *job = xcalloc(1, sizeof(*job));

	job->msg = msg;
	job->idx = xcalloc(n, sizeof(*job->idx));
	memcpy(job->idx, idx, n * sizeof(*idx));
	job->n = n;
	job->queued = qmgr_now();
	job->connect_until_ms = clock_now_ms() + QMGR_CONNECT_RETRY_MS;
	return job;
}

/*
 * Route recipient I of MSG into ROUTES[I] (agent QMGR_AGENT_NONE with no
 * transport when it needs no request).  Recipients handled inside qmgr
 * (error, discard, unknown transport, table failure) get their result
 * here.
 */
static void
route_one(struct qmgr_msg *msg, unsigned i, struct qmgr_route *route)
{
	const char *final = msg->env->rcpts[i].final, *error;
	char *why;

	if (qmgr_route_find(qmgr.transports, final, route, &error) < 0) {
		why = xasprintf("transport table lookup failure: %s", error);
		qmgr_rcpt_result(msg, i, NULL, 4, "4.3.0", "none", why,
		    NULL, 0);
		free(why);
		return;
	}
	switch (route->agent) {
	case QMGR_AGENT_ERROR:
		qmgr_rcpt_result(msg, i, NULL, 5, "5.0.0", "none",
		    *route->nexthop != '\0' ? route->nexthop :
		    "mail refused by the error transport", NULL, 0);
		break;
	case QMGR_AGENT_DISCARD:
		qmgr_rcpt_result(msg, i, NULL, 2, "2.0.0", "none",
		    *route->nexthop != '\0' ? route->nexthop : "discarded",
		    NULL, 0);
		break;
	case QMGR_AGENT_NONE:
		qmgr_rcpt_result(msg, i, NULL, 4, "4.3.0", "none",
		    "mail transport unavailable", NULL, 0);
		break;
	default:
		return;
	}
	qmgr_route_clear(route);
}

/* True when routes A and B go to the same destination. */
static bool
route_same(const struct qmgr_route *a, const struct qmgr_route *b)
{
	return a->transport != NULL && b->transport != NULL &&
	    strcmp(a->transport, b->transport) == 0 &&
	    strcmp(a->nexthop, b->nexthop) == 0;
}

/* Hand the recipients routed in ROUTES to the agents, one job per
   destination. */
static void
message_submit(struct qmgr_msg *msg, struct qmgr_route *routes)
{
	size_t n_rcpts = msg->env->n_rcpts, i, j, n;
	unsigned *idx = xcalloc(n_rcpts, sizeof(*idx));
	struct qmgr_job *job;

	for (i = 0; i < n_rcpts; i++) {
		if (routes[i].transport == NULL)
			continue;
		for (n = 0, j = i; j < n_rcpts; j++) {
			if (j != i && !route_same(&routes[i], &routes[j]))
				continue;
			idx[n++] = (unsigned)j;
			msg->r[j].state = QR_INFLIGHT;
			if (j != i)
				qmgr_route_clear(&routes[j]);
		}
		job = job_new(msg, idx, n);
		msg->jobs++;
		qmgr_deliver_submit(job, routes[i].transport,
		    routes[i].nexthop, routes[i].agent);
		qmgr_route_clear(&routes[i]);
	}
	free(idx);
}

/* Route every recipient of MSG not done yet and start its requests. */
static void
message_schedule(struct qmgr_msg *msg)
{
	size_t n = msg->env->n_rcpts, i;
	struct qmgr_route *routes = xcalloc(n, sizeof(*routes));

	/* A job in flight holds the message until the routing is over, so
	   that an answer cannot finish it half-way. */
	msg->jobs++;
	for (i = 0; i < n; i++)
		if (msg->r[i].state == QR_PENDING)
			route_one(msg, (unsigned)i, &routes[i]);
	message_submit(msg, routes);
	free(routes);
	msg->jobs--;
	message_sync(msg);
	if (msg->jobs == 0)
		message_finish(msg);
}

/*
 * Read message ID from SUB/ID and move it to active/: the new message,
 * or NULL when it is damaged (moved to corrupt/) or gone.
 */
static struct qmgr_msg *
message_load(const char *sub, const char *id)
{
	char *from = qpath(sub, id), *error;
	struct queue_envelope *env;
	struct qmgr_msg *msg;

	if (queue_envelope_read(from, &env, &error) < 0) {
		if (access(from, F_OK) == 0)
			message_corrupt(from, id, error);
		free(error);
		free(from);
		return NULL;
	}
	msg = xcalloc(1, sizeof(*msg));
	msg->id = xstrdup(id);
	msg->env = env;
	msg->path = qpath(QUEUE_ACTIVE, id);
	msg->fd = -1;
	if (strcmp(sub, QUEUE_ACTIVE) != 0 && rename(from, msg->path) < 0) {
		log_error("%s: rename to %s: %s", id, msg->path,
		    strerror(errno));
		free(from);
		message_free(msg);
		return NULL;
	}
	free(from);
	msg->fd = open(msg->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (msg->fd < 0) {
		log_error("%s: open: %s", id, strerror(errno));
		message_free(msg);
		return NULL;
	}
	return msg;
}

void
qmgr_message_activate(const char *sub, const char *id)
{
	struct qmgr_msg *msg;
	size_t i;

	if ((msg = message_load(sub, id)) == NULL)
		return;
	msg->activated = qmgr_now();
	msg->r = xcalloc(msg->env->n_rcpts, sizeof(*msg->r));
	for (i = 0; i < msg->env->n_rcpts; i++)
		if (msg->env->rcpts[i].done)
			msg->r[i].state = QR_DONE;
	if (strcmp(sub, QUEUE_INCOMING) == 0)
		log_info("%s: from=<%s>, size=%llu, nrcpt=%zu (queue active)",
		    id, msg->env->sender, msg->env->content_length,
		    msg->env->n_rcpts);
	else
		defer_log_read(msg);
	qmgr.n_active++;
	message_schedule(msg);
}

/* Apply the status ST of a recipient of JOB. */
static void
job_status(struct qmgr_job *job, const struct dproto_status *st)
{
	qmgr_rcpt_result(job->msg, st->index, job, st->class, st->dsn,
	    st->relay, st->text, st->forward, st->n_forward);
}

void
qmgr_job_finish(struct qmgr_job *job, const struct dproto_reply *reply,
    const char *dsn, const char *text)
{
	struct qmgr_msg *msg = job->msg;
	const struct dproto_status *st;
	size_t i;

	for (i = 0; i < job->n; i++) {
		st = reply != NULL ? dproto_reply_find(reply, job->idx[i]) :
		    NULL;
		if (st != NULL)
			job_status(job, st);
		else
			qmgr_rcpt_result(msg, job->idx[i], job, 4, dsn,
			    "none", text, NULL, 0);
	}
	/* With other jobs still out the marks must hold on their own; after
	   the last one message_finish() syncs before a deferral, and a
	   removal covers them. */
	if (msg->jobs > 1)
		message_sync(msg);
	free(job->idx);
	free(job);
	if (--msg->jobs == 0)
		message_finish(msg);
}
