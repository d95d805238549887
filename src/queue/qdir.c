/*
 * The queue directory: its subdirectories and the qmgr wake-up FIFO, queue
 * ids, the free-space check and the wake-up itself.
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "queue/queue.h"
#include "queue/queue_int.h"

/* The subdirectories and their modes. */
static const struct {
	const char *name;
	mode_t mode;
} queue_subdirs[] = {
	{ QUEUE_INCOMING, 0700 },
	{ QUEUE_ACTIVE, 0700 },
	{ QUEUE_DEFERRED, 0700 },
	{ QUEUE_HOLD, 0700 },
	{ QUEUE_CORRUPT, 0700 },
	{ QUEUE_BOUNCE, 0700 },
	{ QUEUE_DEFER, 0700 },
	{ QUEUE_PRIVATE, 0700 },
	{ QUEUE_SPARE, 0700 },
	{ QUEUE_PUBLIC, 0710 },
};

/*
 * Make PATH with MODE unless it exists; check that it is a directory (or
 * a FIFO when FIFO is true) and not a link.  0, or -1 with *ERROR_R.
 */
static int
qdir_make(const char *path, mode_t mode, bool fifo, char **error_r)
{
	struct stat sb;
	int r;

	r = fifo ? mkfifo(path, mode) : mkdir(path, mode);
	if (r == 0) {
		/* The umask may have taken bits away. */
		if (chmod(path, mode) < 0) {
			*error_r = xasprintf("chmod %s: %s", path,
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	if (errno != EEXIST || lstat(path, &sb) < 0) {
		*error_r = xasprintf("create %s: %s", path, strerror(errno));
		return -1;
	}
	if (fifo ? !S_ISFIFO(sb.st_mode) : !S_ISDIR(sb.st_mode)) {
		*error_r = xasprintf("%s exists and is not a %s", path,
		    fifo ? "FIFO" : "directory");
		return -1;
	}
	return 0;
}

/* Give PATH to UID/GID when running as root.  0, or -1 with *ERROR_R. */
static int
qdir_own(const char *path, uid_t uid, gid_t gid, char **error_r)
{
	if (uid == (uid_t)-1 || geteuid() != 0)
		return 0;
	if (lchown(path, uid, gid) < 0) {
		*error_r = xasprintf("chown %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The counter that keeps ids made in the same microsecond apart. */
static unsigned int queue_id_counter;

/* Start the counter at a value of this process's own. */
static void
queue_id_seed(void)
{
	queue_id_counter = (unsigned int)getpid() * 2654435761u;
}

/* Make QUEUE_DIR/NAME with MODE and give it to UID/GID. */
static int
qdir_entry(const char *queue_dir, const char *name, mode_t mode, bool fifo,
    uid_t uid, gid_t gid, char **error_r)
{
	char *path = xasprintf("%s/%s", queue_dir, name);
	int r;

	r = qdir_make(path, mode, fifo, error_r);
	if (r == 0)
		r = qdir_own(path, uid, gid, error_r);
	free(path);
	return r;
}

int
queue_dirs_create(const char *queue_dir, uid_t uid, gid_t gid,
    char **error_r)
{
	size_t i;

	if (qdir_make(queue_dir, 0711, false, error_r) < 0)
		return -1;
	for (i = 0; i < sizeof(queue_subdirs) / sizeof(queue_subdirs[0]);
	    i++) {
		if (qdir_entry(queue_dir, queue_subdirs[i].name,
		    queue_subdirs[i].mode, false, uid, gid, error_r) < 0)
			return -1;
	}
	return qdir_entry(queue_dir, QUEUE_QMGR_FIFO, 0620, true, uid, gid,
	    error_r);
}

void
queue_id_new(char *id)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct timeval tv;
	unsigned int mix;

	/* Ids are made in more than one thread (queue_spares_new()). */
	pthread_once(&once, queue_id_seed);
	mix = __atomic_fetch_add(&queue_id_counter, 1, __ATOMIC_RELAXED) &
	    0xfffff;
	gettimeofday(&tv, NULL);
	snprintf(id, QUEUE_ID_MAX + 1, "%08llX%05lX%05X",
	    (unsigned long long)tv.tv_sec & 0xffffffffULL,
	    (unsigned long)tv.tv_usec, mix);
}

bool
queue_id_valid(const char *id, size_t len)
{
	size_t i;

	if (len < 12 || len > QUEUE_ID_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'A' && id[i] <= 'F')))
			return false;
	}
	return true;
}

int
queue_space_ok(const char *queue_dir, unsigned long long size,
    unsigned long long minfree, const char **error_r)
{
	struct statvfs sv;
	unsigned long long avail, need;

	if (statvfs(queue_dir, &sv) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
	need = size + minfree;
	if (need < size)
		return 0;
	return avail >= need ? 1 : 0;
}

void
queue_notify(const char *queue_dir)
{
	char *path = xasprintf("%s/%s", queue_dir, QUEUE_QMGR_FIFO);
	struct stat sb;
	int fd;
	ssize_t n;

	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (fd < 0)
		return;
	/* Only ever write into the FIFO, never into a file put in its place. */
	if (fstat(fd, &sb) < 0 || !S_ISFIFO(sb.st_mode)) {
		close(fd);
		return;
	}
	do
		n = write(fd, "W", 1);
	while (n < 0 && errno == EINTR);
	close(fd);
}
