#ifndef DIRMAIL_LIB_WORKER_H
#define DIRMAIL_LIB_WORKER_H

/*
 * Blocking work off an event loop: jobs run in worker threads, and each
 * job's completion runs back in the loop's thread.  With one thread, jobs
 * run one at a time in the order they were submitted, so code that is not
 * thread-safe may run there as long as nothing else calls it.
 */

struct event_base;
struct worker;

typedef void worker_fn(void *arg);

/* Start THREADS (at least 1) threads; completions run in BASE's loop.
   Dies on failure (no threads or no pipe: nothing could work). */
struct worker *worker_new(struct event_base *base, unsigned threads);

/* Run RUN(ARG) in a worker thread, then DONE(ARG) in the loop. */
void worker_submit(struct worker *w, worker_fn *run, worker_fn *done,
    void *arg);

/* Let the jobs in flight finish (their DONE is not called), stop the
   threads and free.  NULLs *W. */
void worker_free(struct worker **w);

#endif
