/*
 * Queue files made ahead of need, and the files qmgr retires after
 * delivery.  Creating a file costs the file system's inode allocation and
 * a directory update, and removing one its release: so qmgr moves a
 * finished file to spare/ (queue_file_retire()), and a worker thread here
 * takes such files back (queue_file_reuse()) or creates new ones, so that
 * the event loop only takes a ready file.  The pool's files are
 * "incoming/.ID" files (or anonymous) like any file being written, so a
 * crash leaves nothing a reader would take for mail.
 */

#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

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
	DIR *spare_dir;			/* spare/, read by the worker only */
	unsigned n, max;
	time_t made;			/* when the oldest was made */
	bool refilling;			/* a refill job is out */
};

/* One refill: made in the worker, handed over in the loop. */
struct spare_job {
	struct queue_spares *sp;	/* NULL: the pool went away */
	DIR **spare_dir;		/* the pool's; the worker's alone */
	char *queue_dir;
	struct queue_file *files[SPARE_BATCH];
	unsigned n, want;
	time_t made;
	char *error;
};

/*
 * In the worker: take retired files from spare/ while there are any.  The
 * directory stays open from one refill to the next, so that each reads
 * on where the last one stopped instead of skipping the names taken
 * before; at its end it starts over once.
 */
static void
spare_reuse(struct spare_job *job)
{
	char *dir = xasprintf("%s/%s", job->queue_dir, QUEUE_SPARE);
	char *path;
	struct dirent *de;
	bool rewound = false;

	if (*job->spare_dir == NULL &&
	    (*job->spare_dir = opendir(dir)) == NULL) {
		free(dir);
		return;
	}
	while (job->n < job->want) {
		if ((de = readdir(*job->spare_dir)) == NULL) {
			if (rewound)
				break;
			rewinddir(*job->spare_dir);
			rewound = true;
			continue;
		}
		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (queue_file_reuse(job->queue_dir, path,
		    &job->files[job->n]) == 0)
			job->n++;
		free(path);
	}
	free(dir);
}

/* In the worker: reuse or create the files. */
static void
spare_make(void *arg)
{
	struct spare_job *job = arg;

	job->made = time(NULL);
	spare_reuse(job);
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
	job->spare_dir = &sp->spare_dir;
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
	if (sp->spare_dir != NULL)
		closedir(sp->spare_dir);
	while (sp->n > 0)
		queue_file_abort(&sp->files[--sp->n]);
	free(sp->files);
	free(sp->queue_dir);
	free(sp);
	*spp = NULL;
}

int
queue_file_retire(const char *queue_dir, const char *path, int fd)
{
	static unsigned next;	/* the slot to try first */
	char spare[4096];
	struct stat sb;
	int i;

	for (i = 0; i < 2; i++) {
		snprintf(spare, sizeof(spare), "%s/%s/%u", queue_dir,
		    QUEUE_SPARE, next++ % QUEUE_SPARE_SLOTS);
		if (renameat2(AT_FDCWD, path, AT_FDCWD, spare,
		    RENAME_NOREPLACE) == 0) {
			/* A spare keeps the blocks of a small message for
			   the next one; a large one gives them back.  Only
			   now: emptied where it was, it would read as a
			   damaged queue file after a crash. */
			if (fd >= 0 && fstat(fd, &sb) == 0 &&
			    sb.st_size > QUEUE_SPARE_KEEP)
				(void)ftruncate(fd, 0);
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	if (errno == ENOENT && access(path, F_OK) < 0)
		return -1;
	return unlink(path);
}
