/*
 * Queue files created ahead of need.  Creating a file costs the file
 * system's inode allocation and a directory update; a worker thread pays
 * it so that the event loop only takes a ready file.  The spares are
 * "incoming/.ID" files like any file being written, so a crash leaves
 * nothing a reader would take for mail.
 */

#include "config.h"

#include <stdlib.h>
#include <time.h>

#include "lib/log.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "queue/queue.h"

/* Files one refill creates at most. */
#define SPARE_BATCH	8
/* Seconds a spare may wait; older ones are replaced, so that a reader
   that removes dot files left by a crash long ago (see
   doc/queue-format.md) never removes a spare. */
#define SPARE_MAX_AGE	600

struct queue_spares {
	struct worker *worker;
	char *queue_dir;
	struct queue_file **files;	/* ready, newest last */
	unsigned n, max;
	time_t made;			/* when the oldest was made */
	bool refilling;			/* a refill job is out */
};

/* One refill: made in the worker, handed over in the loop. */
struct spare_job {
	struct queue_spares *sp;	/* NULL: the pool went away */
	char *queue_dir;
	struct queue_file *files[SPARE_BATCH];
	unsigned n, want;
	time_t made;
	char *error;
};

/* In the worker: create the files. */
static void
spare_make(void *arg)
{
	struct spare_job *job = arg;

	job->made = time(NULL);
	while (job->n < job->want && job->error == NULL)
		if (queue_file_create(job->queue_dir, &job->files[job->n],
		    &job->error) == 0)
			job->n++;
}

/* In the loop: add the new files to the pool. */
static void
spare_add(void *arg)
{
	struct spare_job *job = arg;
	struct queue_spares *sp = job->sp;
	unsigned i;

	if (job->error != NULL)
		log_warning("cannot make spare queue files: %s", job->error);
	for (i = 0; i < job->n; i++) {
		if (sp != NULL && sp->n < sp->max) {
			if (sp->n == 0)
				sp->made = job->made;
			sp->files[sp->n++] = job->files[i];
		} else
			queue_file_abort(&job->files[i]);
	}
	if (sp != NULL)
		sp->refilling = false;
	free(job->error);
	free(job->queue_dir);
	free(job);
}

/* Ask the worker for more files when the pool runs low. */
static void
spare_refill(struct queue_spares *sp)
{
	struct spare_job *job;

	if (sp->refilling || sp->n > sp->max / 2)
		return;
	job = xcalloc(1, sizeof(*job));
	job->sp = sp;
	job->queue_dir = xstrdup(sp->queue_dir);
	job->want = sp->max - sp->n < SPARE_BATCH ? sp->max - sp->n :
	    SPARE_BATCH;
	sp->refilling = true;
	worker_submit(sp->worker, spare_make, spare_add, job);
}

struct queue_spares *
queue_spares_new(struct event_base *base, const char *queue_dir,
    unsigned max)
{
	struct queue_spares *sp = xcalloc(1, sizeof(*sp));

	sp->worker = worker_new(base, 1);
	sp->queue_dir = xstrdup(queue_dir);
	sp->max = max > 0 ? max : 1;
	sp->files = xcalloc(sp->max, sizeof(*sp->files));
	spare_refill(sp);
	return sp;
}

int
queue_spares_take(struct queue_spares *sp, struct queue_file **qf_r,
    char **error_r)
{
	int r = 0;

	if (sp->n > 0 && time(NULL) - sp->made > SPARE_MAX_AGE)
		while (sp->n > 0)	/* too old: make new ones */
			queue_file_abort(&sp->files[--sp->n]);
	if (sp->n > 0)
		*qf_r = sp->files[--sp->n];
	else
		r = queue_file_create(sp->queue_dir, qf_r, error_r);
	spare_refill(sp);
	return r;
}

void
queue_spares_free(struct queue_spares **spp)
{
	struct queue_spares *sp = *spp;

	if (sp == NULL)
		return;
	/* A refill still in flight at this point is finished but not
	   handed over: its few ".ID" files stay behind, skipped by readers
	   like any file that was being written when a process stopped. */
	worker_free(&sp->worker);
	while (sp->n > 0)
		queue_file_abort(&sp->files[--sp->n]);
	free(sp->files);
	free(sp->queue_dir);
	free(sp);
	*spp = NULL;
}
