/*
 * Worker threads for blocking work.  Submitted jobs wait on a list under a
 * mutex; a thread takes one, runs it and puts it on the done list, then
 * writes a byte to a pipe whose read end the loop watches.  Threads block
 * every signal: signals belong to the loop's thread.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/worker.h"
#include "lib/xalloc.h"

struct worker_job {
	worker_fn *run, *done;
	void *arg;
	struct worker_job *next;
};

/* A FIFO of jobs. */
struct worker_list {
	struct worker_job *head, *tail;
};

struct worker {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct worker_list todo, done;
	bool stopping;
	pthread_t *threads;
	unsigned n_threads;
	int pipe[2];
	struct event *ev;
};

/* Append JOB to LIST. */
static void
list_push(struct worker_list *list, struct worker_job *job)
{
	job->next = NULL;
	if (list->tail != NULL)
		list->tail->next = job;
	else
		list->head = job;
	list->tail = job;
}

/* Take the first job of LIST, or NULL. */
static struct worker_job *
list_pop(struct worker_list *list)
{
	struct worker_job *job = list->head;

	if (job != NULL && (list->head = job->next) == NULL)
		list->tail = NULL;
	return job;
}

/* A worker thread: run jobs until told to stop. */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct worker_job *job;
	char byte = 0;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while ((job = list_pop(&w->todo)) == NULL && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		if (job == NULL)
			break;
		pthread_mutex_unlock(&w->lock);
		job->run(job->arg);
		pthread_mutex_lock(&w->lock);
		list_push(&w->done, job);
		/* One byte per job; a full pipe already says "look". */
		while (write(w->pipe[1], &byte, 1) < 0 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* In the loop: run the completions of finished jobs. */
static void
worker_reap(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct worker_job *job;
	char buf[256];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	for (;;) {
		pthread_mutex_lock(&w->lock);
		job = list_pop(&w->done);
		pthread_mutex_unlock(&w->lock);
		if (job == NULL)
			break;
		job->done(job->arg);
		free(job);
	}
}

/* Start the threads. */
struct worker *
worker_new(struct event_base *base, unsigned threads)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	sigset_t all, old;
	unsigned i;

	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	if (pipe2(w->pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		log_fatal("pipe: %s", strerror(errno));
	w->ev = event_new(base, w->pipe[0], EV_READ | EV_PERSIST, worker_reap,
	    w);
	event_add(w->ev, NULL);
	w->n_threads = threads > 0 ? threads : 1;
	w->threads = xcalloc(w->n_threads, sizeof(*w->threads));
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < w->n_threads; i++)
		if ((errno = pthread_create(&w->threads[i], NULL, worker_main,
		    w)) != 0)
			log_fatal("pthread_create: %s", strerror(errno));
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return w;
}

/* Queue a job. */
void
worker_submit(struct worker *w, worker_fn *run, worker_fn *done, void *arg)
{
	struct worker_job *job = xcalloc(1, sizeof(*job));

	job->run = run;
	job->done = done;
	job->arg = arg;
	pthread_mutex_lock(&w->lock);
	list_push(&w->todo, job);
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

/* Finish the jobs, stop the threads, free. */
void
worker_free(struct worker **wp)
{
	struct worker *w = *wp;
	struct worker_job *job;
	unsigned i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < w->n_threads; i++)
		pthread_join(w->threads[i], NULL);
	while ((job = list_pop(&w->done)) != NULL)
		free(job);
	event_free(w->ev);
	close(w->pipe[0]);
	close(w->pipe[1]);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->threads);
	free(w);
	*wp = NULL;
}
