/*
 * The PAM pool's helper process and its workers.
 *
 * The helper keeps the privileges its creator had, reads check requests
 * from the pool's socket, queues them and hands each one to an idle worker
 * process, forking workers on demand up to the limit.  A worker runs one
 * PAM conversation at a time, blocking as long as PAM likes; the helper
 * itself only polls, so a slow module stalls one worker, never the others.
 * The helper kills a worker that overruns the timeout, answers TEMPFAIL
 * for a worker that dies, retires a worker after its last request and
 * reaps every worker itself.
 */

#include "config.h"

#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "auth/pam_proto.h"
#include "auth/pam_worker.h"
#include "lib/log.h"
#include "lib/xalloc.h"

/* Requests the helper queues before it answers TEMPFAIL at once. */
#define HELPER_MAX_QUEUE	(2 * PAM_POOL_MAX_INFLIGHT)

struct job {
	TAILQ_ENTRY(job) link;
	struct pam_msg msg;
};
TAILQ_HEAD(job_queue, job);

struct worker {
	pid_t pid;		/* 0: free slot */
	int fd;
	unsigned served;
	struct job *job;	/* the request it runs, NULL when idle */
	struct timespec deadline;
	struct pbuf in;
};

struct helper {
	int fd;
	struct pbuf in, out;
	struct job_queue queue;
	unsigned queued;
	struct worker *workers;
	unsigned max_workers, max_requests, timeout_secs;
	unsigned children;	/* forked, not yet reaped */
};

/* Answer pam_conv prompts: echo-off with the password, echo-on with the user. */
static int
conversation(int n, const struct pam_message **msgs,
    struct pam_response **resp_r, void *appdata)
{
	const struct pam_msg *req = appdata;
	struct pam_response *resp;
	int i;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	if ((resp = calloc((size_t)n, sizeof(*resp))) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msgs[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			resp[i].resp = strdup(req->password);
			break;
		case PAM_PROMPT_ECHO_ON:
			resp[i].resp = strdup(req->user);
			break;
		default:
			continue;
		}
		if (resp[i].resp == NULL)
			goto fail;
	}
	*resp_r = resp;
	return PAM_SUCCESS;
fail:
	for (i = 0; i < n; i++) {
		if (resp[i].resp != NULL) {
			explicit_bzero(resp[i].resp, strlen(resp[i].resp));
			free(resp[i].resp);
		}
	}
	free(resp);
	return PAM_BUF_ERR;
}

/* A fail-delay function that does not sleep: authd delays failures itself. */
static void
no_fail_delay(int status, unsigned delay, void *appdata)
{
}

/* Map a PAM result to a pool outcome. */
static int
pam_outcome(int ret)
{
	switch (ret) {
	case PAM_SUCCESS:
		return PAM_POOL_OK;
	case PAM_AUTH_ERR:
	case PAM_USER_UNKNOWN:
	case PAM_MAXTRIES:
	case PAM_CRED_INSUFFICIENT:
	case PAM_PERM_DENIED:
	case PAM_ACCT_EXPIRED:
	case PAM_NEW_AUTHTOK_REQD:
	case PAM_AUTHTOK_EXPIRED:
		return PAM_POOL_FAIL;
	default:
		return PAM_POOL_TEMPFAIL;
	}
}

/* Run one PAM check for REQ; fill REPLY's outcome and reason. */
static void
run_check(const struct pam_msg *req, struct pam_msg *reply)
{
	struct pam_conv conv = { conversation, (void *)req };
	void (*delay_fn)(int, unsigned, void *) = no_fail_delay;
	pam_handle_t *pamh = NULL;
	int ret;

	ret = pam_start(req->service, req->user, &conv, &pamh);
	if (ret != PAM_SUCCESS) {
		reply->outcome = PAM_POOL_TEMPFAIL;
		reply->reason = xstrdup("pam_start failed");
		return;
	}
	(void)pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)delay_fn);
	if (req->rip[0] != '\0')
		(void)pam_set_item(pamh, PAM_RHOST, req->rip);
	ret = pam_authenticate(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (ret == PAM_SUCCESS)
		ret = pam_acct_mgmt(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	reply->outcome = pam_outcome(ret);
	reply->reason = xstrdup(ret == PAM_SUCCESS ? "" :
	    pam_strerror(pamh, ret));
	(void)pam_end(pamh, ret);
}

/* Write all of BUF to the blocking descriptor FD; -1 on error. */
static int
write_all(int fd, struct pbuf *buf)
{
	ssize_t n;

	while (buf->len > 0) {
		n = send(fd, buf->data, buf->len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		pbuf_consume(buf, (size_t)n);
	}
	return 0;
}

/* Read one frame from blocking FD into *MSG_R; 1, or 0 at end of file. */
static int
read_frame(int fd, struct pbuf *in, struct pam_msg *msg_r)
{
	unsigned char chunk[4096];
	ssize_t n;
	int ret;

	while ((ret = pam_msg_decode(in, msg_r)) == 0) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		pbuf_append(in, chunk, (size_t)n);
		explicit_bzero(chunk, (size_t)n);
	}
	return ret > 0 ? 1 : 0;
}

/* A worker's life: answer requests on FD until MAX_REQUESTS or EOF. */
static void __attribute__((noreturn))
worker_main(int fd, unsigned max_requests, pid_t helper)
{
	struct pbuf in = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	struct pam_msg req, reply;
	unsigned served = 0;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != helper)
		_exit(0);
	while (served < max_requests && read_frame(fd, &in, &req) > 0) {
		memset(&reply, 0, sizeof(reply));
		reply.type = PAM_MSG_REPLY;
		reply.id = req.id;
		if (req.type == PAM_MSG_CHECK)
			run_check(&req, &reply);
		pam_msg_clear(&req);
		pam_msg_encode(&out, &reply);
		pam_msg_clear(&reply);
		if (write_all(fd, &out) < 0)
			break;
		served++;
	}
	pbuf_wipe(&in);
	pbuf_wipe(&out);
	_exit(0);
}

/* Fork a worker into slot W; -1 on failure. */
static int
worker_spawn(struct helper *h, struct worker *w)
{
	pid_t pid, self = getpid();
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warning("pam helper: socketpair: %m");
		return -1;
	}
	if ((pid = fork()) < 0) {
		log_warning("pam helper: fork: %m");
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0)
		worker_main(pam_child_setup(sv[1]), h->max_requests, self);
	close(sv[1]);
	memset(w, 0, sizeof(*w));
	w->pid = pid;
	w->fd = sv[0];
	h->children++;
	return 0;
}

/* Queue a reply for request ID to the pool. */
static void
reply_pool(struct helper *h, uint32_t id, int outcome, const char *reason)
{
	struct pam_msg reply;

	memset(&reply, 0, sizeof(reply));
	reply.type = PAM_MSG_REPLY;
	reply.id = id;
	reply.outcome = outcome;
	reply.reason = (char *)reason;
	pam_msg_encode(&h->out, &reply);
}

/* Free JOB, wiping its password. */
static void
job_free(struct job *job)
{
	pam_msg_clear(&job->msg);
	free(job);
}

/* Stop using worker W; answer its request with REASON if it had one. */
static void
worker_drop(struct helper *h, struct worker *w, bool kill_it,
    const char *reason)
{
	if (kill_it)
		(void)kill(w->pid, SIGKILL);
	if (w->job != NULL) {
		reply_pool(h, w->job->msg.id, PAM_POOL_TEMPFAIL, reason);
		log_warning("pam helper: worker %ld %s", (long)w->pid, reason);
		job_free(w->job);
	}
	close(w->fd);
	pbuf_wipe(&w->in);
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}

/* Return the current monotonic time. */
static struct timespec
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

/* Hand JOB to worker W; -1 when the worker is gone. */
static int
worker_start(struct helper *h, struct worker *w, struct job *job)
{
	struct pbuf out = { NULL, 0, 0 };
	int ret;

	pam_msg_encode(&out, &job->msg);
	ret = write_all(w->fd, &out);
	pbuf_wipe(&out);
	/* The worker holds its own copy now. */
	explicit_bzero(job->msg.password, strlen(job->msg.password));
	w->job = job;
	w->deadline = now();
	w->deadline.tv_sec += h->timeout_secs;
	return ret;
}

/* Return an idle worker, forking one if a slot is free; NULL if none. */
static struct worker *
idle_worker(struct helper *h)
{
	struct worker *free_slot = NULL;
	unsigned i;

	for (i = 0; i < h->max_workers; i++) {
		struct worker *w = &h->workers[i];

		if (w->pid != 0 && w->job == NULL)
			return w;
		if (w->pid == 0 && free_slot == NULL)
			free_slot = w;
	}
	if (free_slot == NULL || worker_spawn(h, free_slot) < 0)
		return NULL;
	return free_slot;
}

/* Hand queued jobs to idle workers. */
static void
dispatch(struct helper *h)
{
	struct worker *w;
	struct job *job;

	while ((job = TAILQ_FIRST(&h->queue)) != NULL &&
	    (w = idle_worker(h)) != NULL) {
		TAILQ_REMOVE(&h->queue, job, link);
		h->queued--;
		if (worker_start(h, w, job) < 0)
			worker_drop(h, w, true, "died before its request");
	}
	while (h->children == 0 && (job = TAILQ_FIRST(&h->queue)) != NULL) {
		/* Cannot fork at all: fail rather than wait forever. */
		TAILQ_REMOVE(&h->queue, job, link);
		h->queued--;
		reply_pool(h, job->msg.id, PAM_POOL_TEMPFAIL,
		    "cannot start a PAM worker");
		job_free(job);
	}
}

/* Drop the queued job with id ID, if any. */
static void
cancel_job(struct helper *h, uint32_t id)
{
	struct job *job;

	for (job = TAILQ_FIRST(&h->queue); job != NULL;
	    job = TAILQ_NEXT(job, link)) {
		if (job->msg.id == id) {
			TAILQ_REMOVE(&h->queue, job, link);
			h->queued--;
			job_free(job);
			return;
		}
	}
}

/* Act on one message MSG from the pool; takes its contents. */
static void
pool_message(struct helper *h, struct pam_msg *msg)
{
	struct job *job;

	if (msg->type == PAM_MSG_CANCEL) {
		cancel_job(h, msg->id);
		pam_msg_clear(msg);
	} else if (msg->type != PAM_MSG_CHECK) {
		pam_msg_clear(msg);
	} else if (h->queued >= HELPER_MAX_QUEUE) {
		reply_pool(h, msg->id, PAM_POOL_TEMPFAIL, "PAM queue full");
		pam_msg_clear(msg);
	} else {
		job = xcalloc(1, sizeof(*job));
		job->msg = *msg;
		memset(msg, 0, sizeof(*msg));
		TAILQ_INSERT_TAIL(&h->queue, job, link);
		h->queued++;
	}
}

/* Kill every worker, wipe every secret and exit. */
static void __attribute__((noreturn))
helper_exit(struct helper *h, int status)
{
	struct job *job;
	unsigned i;

	for (i = 0; i < h->max_workers; i++)
		if (h->workers[i].pid != 0)
			worker_drop(h, &h->workers[i], true, "stopped");
	while ((job = TAILQ_FIRST(&h->queue)) != NULL) {
		TAILQ_REMOVE(&h->queue, job, link);
		job_free(job);
	}
	pbuf_wipe(&h->in);
	pbuf_wipe(&h->out);
	while (h->children > 0 && waitpid(-1, NULL, 0) > 0)
		h->children--;
	_exit(status);
}

/* Read from the pool's socket and queue what arrived. */
static void
pool_read(struct helper *h)
{
	unsigned char chunk[8192];
	struct pam_msg msg;
	ssize_t n;
	int ret;

	n = read(h->fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0)
		helper_exit(h, 0);
	pbuf_append(&h->in, chunk, (size_t)n);
	explicit_bzero(chunk, (size_t)n);
	while ((ret = pam_msg_decode(&h->in, &msg)) > 0)
		pool_message(h, &msg);
	if (ret < 0) {
		log_error("pam helper: garbage from the pool");
		helper_exit(h, 1);
	}
}

/* Write queued replies to the pool's socket. */
static void
pool_write(struct helper *h)
{
	ssize_t n;

	n = send(h->fd, h->out.data, h->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n < 0)
		helper_exit(h, 0);
	pbuf_consume(&h->out, (size_t)n);
}

/* Read worker W's reply and pass it on. */
static void
worker_read(struct helper *h, struct worker *w)
{
	unsigned char chunk[2048];
	struct pam_msg reply;
	ssize_t n;

	n = read(w->fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		worker_drop(h, w, false, "died");
		return;
	}
	pbuf_append(&w->in, chunk, (size_t)n);
	if (pam_msg_decode(&w->in, &reply) == 0)
		return;
	if (reply.type != PAM_MSG_REPLY || w->job == NULL ||
	    reply.id != w->job->msg.id) {
		pam_msg_clear(&reply);
		worker_drop(h, w, true, "sent garbage");
		return;
	}
	reply_pool(h, reply.id, reply.outcome, reply.reason);
	pam_msg_clear(&reply);
	job_free(w->job);
	w->job = NULL;
	if (++w->served >= h->max_requests)
		worker_drop(h, w, false, "retired");
}

/* Kill workers past their deadline; return the poll timeout in ms. */
static int
check_deadlines(struct helper *h)
{
	struct timespec t = now();
	long ms, best = -1;
	unsigned i;

	for (i = 0; i < h->max_workers; i++) {
		struct worker *w = &h->workers[i];

		if (w->pid == 0 || w->job == NULL || h->timeout_secs == 0)
			continue;
		ms = (w->deadline.tv_sec - t.tv_sec) * 1000 +
		    (w->deadline.tv_nsec - t.tv_nsec) / 1000000;
		if (ms <= 0) {
			worker_drop(h, w, true, "timed out");
			continue;
		}
		if (best < 0 || ms < best)
			best = ms;
	}
	/* Wake up now and then to reap retired workers. */
	if (h->children > 0 && (best < 0 || best > 200))
		best = 200;
	return (int)best;
}

/* Reap the workers that have exited. */
static void
reap(struct helper *h)
{
	while (h->children > 0 && waitpid(-1, NULL, WNOHANG) > 0)
		h->children--;
}

/* One round of poll() over the pool's socket and every worker. */
static void
helper_poll(struct helper *h, struct pollfd *pfd, struct worker **map)
{
	unsigned i, n = 1;
	int timeout;

	timeout = check_deadlines(h);
	pfd[0].fd = h->fd;
	pfd[0].events = POLLIN | (h->out.len > 0 ? POLLOUT : 0);
	for (i = 0; i < h->max_workers; i++) {
		if (h->workers[i].pid == 0)
			continue;
		pfd[n].fd = h->workers[i].fd;
		pfd[n].events = POLLIN;
		map[n++] = &h->workers[i];
	}
	if (poll(pfd, n, timeout) < 0) {
		if (errno == EINTR)
			return;
		log_fatal("pam helper: poll: %m");
	}
	if (pfd[0].revents & POLLOUT)
		pool_write(h);
	if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
		pool_read(h);
	for (i = 1; i < n; i++)
		if (pfd[i].revents != 0 && map[i]->pid != 0)
			worker_read(h, map[i]);
}

/* The helper's main loop on socket FD. */
void
pam_helper_main(int fd, unsigned max_workers, unsigned max_requests,
    unsigned timeout_secs)
{
	struct helper h;
	struct pollfd *pfd;
	struct worker **map;

	memset(&h, 0, sizeof(h));
	h.fd = fd;
	h.max_workers = max_workers;
	h.max_requests = max_requests;
	h.timeout_secs = timeout_secs;
	TAILQ_INIT(&h.queue);
	h.workers = xcalloc(max_workers, sizeof(*h.workers));
	pfd = xcalloc(max_workers + 1, sizeof(*pfd));
	map = xcalloc(max_workers + 1, sizeof(*map));
	for (;;) {
		helper_poll(&h, pfd, map);
		dispatch(&h);
		reap(&h);
	}
}
