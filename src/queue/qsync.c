/*
 * Committing a queue file without the worker threads: the same steps as
 * qcommit.c (fsync the file, give it its final name, fsync incoming/), done
 * in the caller's thread.  For the few writers that may block on the disk,
 * such as the bounce writer in qmgr, which must know the notice is durable
 * before it forgets the recipients it reports on.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "queue/queue.h"
#include "queue/queue_int.h"

/* fsync FD, retrying on EINTR; 0 or an errno value. */
static int
qs_fsync(int fd)
{
	while (fsync(fd) < 0)
		if (errno != EINTR)
			return errno;
	return 0;
}

/* fsync the directory PATH; 0 or an errno value. */
static int
qs_fsync_dir(const char *path)
{
	int fd, error;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	error = qs_fsync(fd);
	close(fd);
	return error;
}

/*
 * Give QF its final name: link an anonymous file through /proc, or close
 * and rename the temporary one.  The descriptor is closed either way.
 * NULL, or the failed step with *ERROR set.
 */
static const char *
qs_name(struct queue_file *qf, int *error)
{
	char proc[64];
	int fd = queue_file_fd(qf);

	if (queue_file_tmp_path(qf) == NULL) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, queue_file_path(qf),
		    AT_SYMLINK_FOLLOW) < 0) {
			*error = errno;
			return "link";
		}
	}
	queue_file_forget_fd(qf);
	if (close(fd) < 0 && errno != EINTR) {
		*error = errno;
		return "close";
	}
	if (queue_file_tmp_path(qf) != NULL &&
	    rename(queue_file_tmp_path(qf), queue_file_path(qf)) < 0) {
		*error = errno;
		return "rename";
	}
	return NULL;
}

int
queue_file_commit_sync(struct queue_file **qfp, char **error_r)
{
	struct queue_file *qf = *qfp;
	const char *step = NULL;
	bool named = false;
	int error;

	*qfp = NULL;
	if ((error = queue_file_finish(qf)) != 0)
		step = "write";
	else if ((error = qs_fsync(queue_file_fd(qf))) != 0)
		step = "fsync";
	else if ((step = qs_name(qf, &error)) == NULL) {
		named = true;
		if ((error = qs_fsync_dir(queue_file_dir(qf))) != 0)
			step = "fsync directory";
	}
	if (step == NULL) {
		queue_file_release(&qf);
		return 0;
	}
	/* Nothing half-done stays behind: not the temporary name, and not
	   the final one when only the directory could not be synced. */
	if (named)
		unlink(queue_file_path(qf));
	*error_r = xasprintf("queue file %s: %s: %s", queue_file_id(qf), step,
	    strerror(error));
	queue_file_abort(&qf);
	return -1;
}
