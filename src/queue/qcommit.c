/*
 * Group commit of queue files.  The loop thread finishes a file and queues
 * a job; a pool of worker threads fsyncs the file, closes it and renames
 * it into place.  The directory fsync is shared: a renamed job waits on
 * its directory's pending list, and whichever worker finds no fsync of
 * that directory running takes the whole list, fsyncs the directory once
 * and completes every job on it, then repeats while jobs keep arriving.
 * The other workers go on with file fsyncs meanwhile.  Completed jobs go
 * back to the loop thread through a pipe; only the loop thread touches
 * libevent and the callbacks.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "queue/queue.h"
#include "queue/queue_int.h"

#define QC_DEFAULT_THREADS	4

struct qc_job {
	/* Worker side, under the committer's lock while on a list. */
	struct qc_job *next;
	struct queue_file *qf;
	int error;		/* errno of the failed step, or 0 */
	const char *step;	/* the failed step */
	bool renamed;		/* the final name exists */
	/* Loop side only. */
	struct qc_job *all_prev, *all_next;
	queue_commit_cb *cb;
	void *ctx;
};

struct qc_list {
	struct qc_job *head, *tail;
};

/* The group-commit state of one directory. */
struct qc_dir {
	struct qc_dir *next;
	char *path;
	struct qc_list pending;	/* renamed, waiting for a directory fsync */
	bool syncing;		/* a worker is leading a fsync */
};

struct queue_committer {
	struct event_base *base;
	struct event *ev;
	int pipe_r, pipe_w;
	pthread_t *threads;
	unsigned n_threads;
	struct qc_job *all;	/* every job not yet reported (loop side) */
	int cb_errno;		/* for queue_committer_errno() */

	pthread_mutex_t lock;	/* protects what follows */
	pthread_cond_t work;
	struct qc_list todo, done;
	struct qc_dir *dirs;
	bool stopping;
	unsigned long long dir_syncs;
};

/* Append JOB to LIST. */
static void
qc_push(struct qc_list *list, struct qc_job *job)
{
	job->next = NULL;
	if (list->tail != NULL)
		list->tail->next = job;
	else
		list->head = job;
	list->tail = job;
}

/* Take the whole of LIST. */
static struct qc_job *
qc_take(struct qc_list *list)
{
	struct qc_job *head = list->head;

	list->head = list->tail = NULL;
	return head;
}

/* Hand finished jobs (a chain from HEAD) to the loop.  Called locked. */
static void
qc_done_locked(struct queue_committer *qc, struct qc_job *head)
{
	struct qc_job *next;
	bool wake = qc->done.head == NULL;

	for (; head != NULL; head = next) {
		next = head->next;
		qc_push(&qc->done, head);
	}
	/* One byte per batch: the loop takes the whole list each time. */
	if (wake && write(qc->pipe_w, "x", 1) < 0 && errno != EAGAIN)
		log_error("queue committer: wake-up pipe: %s",
		    strerror(errno));
}

/* Record the first failure of JOB. */
static void
qc_fail(struct qc_job *job, const char *step, int error)
{
	if (job->error == 0) {
		job->step = step;
		job->error = error;
	}
}

/* The directory state for PATH, made on first use.  Called locked. */
static struct qc_dir *
qc_dir_locked(struct queue_committer *qc, const char *path)
{
	struct qc_dir *dir;

	for (dir = qc->dirs; dir != NULL; dir = dir->next)
		if (strcmp(dir->path, path) == 0)
			return dir;
	dir = xcalloc(1, sizeof(*dir));
	dir->path = xstrdup(path);
	dir->next = qc->dirs;
	qc->dirs = dir;
	return dir;
}

/* fsync the directory PATH; 0 or an errno value. */
static int
qc_fsync_dir(const char *path)
{
	int fd, error = 0;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	while (fsync(fd) < 0) {
		if (errno != EINTR) {
			error = errno;
			break;
		}
	}
	close(fd);
	return error;
}

/* Mark every job of the chain HEAD failed by a directory fsync error. */
static void
qc_fail_chain(struct qc_job *head, int error)
{
	for (; head != NULL; head = head->next)
		qc_fail(head, "fsync directory", error);
}

/*
 * Put a renamed JOB on its directory's pending list and, unless another
 * worker is already fsyncing that directory, lead: fsync it for every job
 * pending, complete them, and repeat while more arrive.  Called locked.
 */
static void
qc_group_sync_locked(struct queue_committer *qc, struct qc_job *job)
{
	struct qc_dir *dir = qc_dir_locked(qc, queue_file_dir(job->qf));
	struct qc_job *batch;
	int error;

	qc_push(&dir->pending, job);
	if (dir->syncing)
		return;
	dir->syncing = true;
	while (dir->pending.head != NULL) {
		batch = qc_take(&dir->pending);
		pthread_mutex_unlock(&qc->lock);
		error = qc_fsync_dir(dir->path);
		if (error != 0)
			qc_fail_chain(batch, error);
		pthread_mutex_lock(&qc->lock);
		qc->dir_syncs++;
		qc_done_locked(qc, batch);
	}
	dir->syncing = false;
}

/* Give the anonymous file FD of JOB its name.  0, or -1 (recorded). */
static int
qc_link(struct qc_job *job, int fd)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, queue_file_path(job->qf),
	    AT_SYMLINK_FOLLOW) < 0) {
		qc_fail(job, "link", errno);
		return -1;
	}
	job->renamed = true;
	return 0;
}

/* fsync, close and name the file of JOB (a rename, or a link for an
   anonymous file); false if a step failed. */
static bool
qc_file_steps(struct qc_job *job)
{
	struct queue_file *qf = job->qf;
	int fd = queue_file_fd(qf);

	if (job->error != 0)
		return false;
	while (fsync(fd) < 0) {
		if (errno != EINTR) {
			qc_fail(job, "fsync", errno);
			return false;
		}
	}
	if (queue_file_tmp_path(qf) == NULL && qc_link(job, fd) < 0)
		return false;
	queue_file_forget_fd(qf);
	if (close(fd) < 0 && errno != EINTR) {
		qc_fail(job, "close", errno);
		return false;
	}
	if (job->renamed)
		return true;
	if (rename(queue_file_tmp_path(qf), queue_file_path(qf)) < 0) {
		qc_fail(job, "rename", errno);
		return false;
	}
	job->renamed = true;
	return true;
}

/* Do one job outside the lock, then hand it on.  Called locked. */
static void
qc_run_job_locked(struct queue_committer *qc, struct qc_job *job)
{
	bool ok;

	pthread_mutex_unlock(&qc->lock);
	ok = qc_file_steps(job);
	if (!ok && queue_file_tmp_path(job->qf) != NULL)
		unlink(queue_file_tmp_path(job->qf));
	pthread_mutex_lock(&qc->lock);
	if (ok)
		qc_group_sync_locked(qc, job);
	else
		qc_done_locked(qc, job);
}

/* A worker thread: run jobs until told to stop and none is left. */
static void *
qc_worker(void *arg)
{
	struct queue_committer *qc = arg;
	struct qc_job *job;

	pthread_mutex_lock(&qc->lock);
	for (;;) {
		while (qc->todo.head == NULL && !qc->stopping)
			pthread_cond_wait(&qc->work, &qc->lock);
		if (qc->todo.head == NULL)
			break;
		job = qc->todo.head;
		qc->todo.head = job->next;
		if (qc->todo.head == NULL)
			qc->todo.tail = NULL;
		/* Alone from here: a failed job goes to the done list as a
		   chain of one, and must not drag the queue behind it. */
		job->next = NULL;
		qc_run_job_locked(qc, job);
	}
	pthread_mutex_unlock(&qc->lock);
	return NULL;
}

/* Unlink JOB from the loop's list of jobs not yet reported. */
static void
qc_unlink_all(struct queue_committer *qc, struct qc_job *job)
{
	if (job->all_prev != NULL)
		job->all_prev->all_next = job->all_next;
	else
		qc->all = job->all_next;
	if (job->all_next != NULL)
		job->all_next->all_prev = job->all_prev;
}

/* Report JOB to its caller (unless cancelled) and free it. */
static void
qc_report(struct queue_committer *qc, struct qc_job *job)
{
	char *why = NULL;

	qc_unlink_all(qc, job);
	if (job->error != 0 && job->renamed)
		unlink(queue_file_path(job->qf));
	if (job->cb != NULL) {
		if (job->error != 0)
			why = xasprintf("queue file %s: %s: %s",
			    queue_file_id(job->qf), job->step,
			    strerror(job->error));
		qc->cb_errno = job->error;
		job->cb(job->error != 0 ? -1 : 0, why, job->ctx);
		qc->cb_errno = 0;
		free(why);
	}
	queue_file_release(&job->qf);
	free(job);
}

/* Event callback: report every finished job in the loop thread. */
static void
qc_on_wakeup(evutil_socket_t fd, short what, void *arg)
{
	struct queue_committer *qc = arg;
	struct qc_job *job, *next;
	char buf[64];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		continue;
	pthread_mutex_lock(&qc->lock);
	job = qc_take(&qc->done);
	pthread_mutex_unlock(&qc->lock);
	for (; job != NULL; job = next) {
		next = job->next;
		qc_report(qc, job);
	}
}

/* Make a pipe with both ends non-blocking and close-on-exec. */
static void
qc_pipe(struct queue_committer *qc)
{
	int fds[2], i;

	if (pipe(fds) < 0)
		log_fatal("queue committer: pipe: %s", strerror(errno));
	for (i = 0; i < 2; i++) {
		if (fcntl(fds[i], F_SETFL, O_NONBLOCK) < 0 ||
		    fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0)
			log_fatal("queue committer: fcntl: %s",
			    strerror(errno));
	}
	qc->pipe_r = fds[0];
	qc->pipe_w = fds[1];
}

/*
 * Start the worker threads with every signal blocked, so that signals keep
 * going to the loop thread and never interrupt a worker.
 */
static void
qc_start_workers(struct queue_committer *qc)
{
	sigset_t all, old;
	unsigned i;
	int error;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	qc->threads = xcalloc(qc->n_threads, sizeof(*qc->threads));
	for (i = 0; i < qc->n_threads; i++) {
		error = pthread_create(&qc->threads[i], NULL, qc_worker, qc);
		if (error != 0)
			log_fatal("queue committer: pthread_create: %s",
			    strerror(error));
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

struct queue_committer *
queue_committer_new(struct event_base *base, unsigned threads)
{
	struct queue_committer *qc = xcalloc(1, sizeof(*qc));

	qc->base = base;
	qc->n_threads = threads != 0 ? threads : QC_DEFAULT_THREADS;
	qc_pipe(qc);
	qc->ev = event_new(base, qc->pipe_r, EV_READ | EV_PERSIST,
	    qc_on_wakeup, qc);
	if (qc->ev == NULL || event_add(qc->ev, NULL) < 0)
		log_fatal("queue committer: cannot watch the wake-up pipe");
	pthread_mutex_init(&qc->lock, NULL);
	pthread_cond_init(&qc->work, NULL);
	qc_start_workers(qc);
	return qc;
}

/* Stop the workers after they have run every queued job. */
static void
qc_stop_workers(struct queue_committer *qc)
{
	unsigned i;

	pthread_mutex_lock(&qc->lock);
	qc->stopping = true;
	pthread_cond_broadcast(&qc->work);
	pthread_mutex_unlock(&qc->lock);
	for (i = 0; i < qc->n_threads; i++)
		pthread_join(qc->threads[i], NULL);
}

void
queue_committer_free(struct queue_committer **qcp)
{
	struct queue_committer *qc = *qcp;
	struct qc_dir *dir;

	if (qc == NULL)
		return;
	qc_stop_workers(qc);
	/* Nothing is reported any more; the files stay as they are. */
	while (qc->all != NULL) {
		qc->all->cb = NULL;
		qc_report(qc, qc->all);
	}
	while ((dir = qc->dirs) != NULL) {
		qc->dirs = dir->next;
		free(dir->path);
		free(dir);
	}
	event_free(qc->ev);
	close(qc->pipe_r);
	close(qc->pipe_w);
	pthread_cond_destroy(&qc->work);
	pthread_mutex_destroy(&qc->lock);
	free(qc->threads);
	free(qc);
	*qcp = NULL;
}

void
queue_file_commit(struct queue_committer *qc, struct queue_file **qfp,
    queue_commit_cb *cb, void *ctx)
{
	struct qc_job *job = xcalloc(1, sizeof(*job));
	int error;

	job->qf = *qfp;
	*qfp = NULL;
	job->cb = cb;
	job->ctx = ctx;
	error = queue_file_finish(job->qf);
	if (error != 0)
		qc_fail(job, "write", error);
	job->all_next = qc->all;
	if (qc->all != NULL)
		qc->all->all_prev = job;
	qc->all = job;
	pthread_mutex_lock(&qc->lock);
	qc_push(&qc->todo, job);
	pthread_cond_signal(&qc->work);
	pthread_mutex_unlock(&qc->lock);
}

void
queue_commit_cancel(struct queue_committer *qc, void *ctx)
{
	struct qc_job *job;

	for (job = qc->all; job != NULL; job = job->all_next)
		if (job->ctx == ctx)
			job->cb = NULL;
}

int
queue_committer_errno(const struct queue_committer *qc)
{
	return qc->cb_errno;
}

unsigned long long
queue_committer_dir_syncs(struct queue_committer *qc)
{
	unsigned long long n;

	pthread_mutex_lock(&qc->lock);
	n = qc->dir_syncs;
	pthread_mutex_unlock(&qc->lock);
	return n;
}
