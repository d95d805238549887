/*
 * Maildir delivery: a unique name in tmp/, the whole message written and
 * fsynced there, then linked into new/ so that a reader never sees a
 * partial message, and new/ fsynced so that the link survives a crash.
 * Threads that link into the same new/ at once share its fsyncs.
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery/maildir.h"
#include "lib/fdio.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* Deliveries by this process, for unique names within one microsecond. */
static atomic_uint maildir_counter;

char *
maildir_host_escape(const char *name)
{
	struct str s = STR_INIT;

	for (; *name != '\0'; name++) {
		if (*name == '/')
			str_append(&s, "\\057");
		else if (*name == ':')
			str_append(&s, "\\072");
		else
			str_append_c(&s, *name);
	}
	return s.s != NULL ? str_steal(&s) : xstrdup("localhost");
}

/* Create PATH and its missing parents, mode 0700 (existing ones stay). */
static int
mkdir_parents(const char *path)
{
	char *copy = xstrdup(path), *p;
	int ret = 0;

	for (p = copy + 1; ret == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(copy, 0700) < 0 && errno != EEXIST)
			ret = -1;
		*p = c;
		if (c == '\0')
			break;
	}
	free(copy);
	return ret;
}

/* Create DIR with its cur/ new/ tmp/. */
static int
maildir_create(const char *dir, char **error_r)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	char *sub;
	size_t i;

	if (mkdir_parents(dir) < 0) {
		*error_r = xasprintf("create maildir %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	for (i = 0; i < 3; i++) {
		sub = xasprintf("%s/%s", dir, subs[i]);
		if (mkdir(sub, 0700) < 0 && errno != EEXIST) {
			*error_r = xasprintf("create maildir %s: %s", sub,
			    strerror(errno));
			free(sub);
			return -1;
		}
		free(sub);
	}
	return 0;
}

/* Open a new file in DIR/tmp; its base name goes to *BASE_R. */
static int
tmp_open(const char *dir, const char *host, char **base_r, char **tmp_r,
    char **error_r)
{
	struct timeval tv;
	int fd, tries;

	for (tries = 0; tries < 2; tries++) {
		gettimeofday(&tv, NULL);
		*base_r = xasprintf("%lld.M%ldP%ldQ%u.%s", (long long)tv.tv_sec,
		    (long)tv.tv_usec, (long)getpid(),
		    atomic_fetch_add(&maildir_counter, 1) + 1, host);
		*tmp_r = xasprintf("%s/tmp/%s", dir, *base_r);
		fd = open(*tmp_r, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		if (errno == ENOENT && tries == 0) {
			/* The first delivery: make the Maildir. */
			free(*base_r);
			free(*tmp_r);
			if (maildir_create(dir, error_r) < 0)
				return -1;
			continue;
		}
		*error_r = xasprintf("create %s: %s", *tmp_r, strerror(errno));
		free(*base_r);
		free(*tmp_r);
		return -1;
	}
	return -1;
}

/* Fsync the directory PATH.  0, or -1 with errno. */
static int
dir_fsync(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = fsync(fd);
	close(fd);
	return ret;
}

/*
 * A directory some threads want fsynced.  Rounds are numbered: a thread
 * whose link came after round N started needs round N + 1 (or later) to
 * be over; whoever finds no round running starts the next one for every
 * thread waiting, so one fsync covers all the links made before it.
 */
struct dir_sync {
	char *path;
	unsigned refs;
	unsigned long started, done;	/* rounds */
	int done_errno;			/* of the last round over */
	bool running;
	struct dir_sync *next;
};

static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sync_cond = PTHREAD_COND_INITIALIZER;
static struct dir_sync *syncs;

/* Fsync PATH, sharing the fsync with the other threads that want it
   now.  0, or -1 with errno. */
static int
dir_sync(const char *path)
{
	struct dir_sync *d, **dp;
	unsigned long target, round;
	int err = 0, ret;

	pthread_mutex_lock(&sync_lock);
	for (d = syncs; d != NULL && strcmp(d->path, path) != 0; d = d->next)
		;
	if (d == NULL) {
		d = xcalloc(1, sizeof(*d));
		d->path = xstrdup(path);
		d->next = syncs;
		syncs = d;
	}
	d->refs++;
	target = d->started + 1;
	while (d->done < target) {
		if (d->running) {
			pthread_cond_wait(&sync_cond, &sync_lock);
			continue;
		}
		d->running = true;
		round = ++d->started;
		pthread_mutex_unlock(&sync_lock);
		ret = dir_fsync(path);
		err = ret < 0 ? errno : 0;
		pthread_mutex_lock(&sync_lock);
		d->running = false;
		d->done = round;
		d->done_errno = err;
		pthread_cond_broadcast(&sync_cond);
	}
	err = d->done_errno;
	if (--d->refs == 0) {
		for (dp = &syncs; *dp != d; dp = &(*dp)->next)
			;
		*dp = d->next;
		free(d->path);
		free(d);
	}
	pthread_mutex_unlock(&sync_lock);
	errno = err;
	return err != 0 ? -1 : 0;
}

/* Link TMP into new/ as BASE,S=SIZE; the new path to *NEW_R. */
static int
move_to_new(const char *dir, const char *tmp, const char *base, size_t size,
    char **new_r, char **error_r)
{
	char *newdir = xasprintf("%s/new", dir);
	int saved;

	*new_r = xasprintf("%s/%s,S=%zu", newdir, base, size);
	/* One rename that never replaces a file; where the file system
	   cannot, link and unlink (or a plain rename where it cannot
	   link). */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, *new_r, RENAME_NOREPLACE) < 0) {
		if ((errno != EINVAL && errno != ENOSYS) ||
		    (link(tmp, *new_r) < 0 &&
		    (errno != EPERM || rename(tmp, *new_r) < 0))) {
			*error_r = xasprintf("link %s: %s", *new_r,
			    strerror(errno));
			goto fail;
		}
		(void)unlink(tmp);
	}
	if (dir_sync(newdir) < 0) {
		*error_r = xasprintf("fsync %s: %s", newdir, strerror(errno));
		saved = errno;
		(void)unlink(*new_r);
		errno = saved;
		goto fail;
	}
	free(newdir);
	return 0;
fail:
	free(newdir);
	free(*new_r);
	*new_r = NULL;
	return -1;
}

int
maildir_deliver(const char *dir, const char *host, const char *prefix,
    size_t prefix_len, const char *msg, size_t len, char **path_r,
    char **error_r)
{
	char *base, *tmp, *newpath;
	int fd, ret = -1, saved;

	if ((fd = tmp_open(dir, host, &base, &tmp, error_r)) < 0)
		return -1;
	if (fd_write_all(fd, prefix, prefix_len) < 0 ||
	    fd_write_all(fd, msg, len) < 0 || fsync(fd) < 0) {
		*error_r = xasprintf("write %s: %s", tmp, strerror(errno));
		saved = errno;
		close(fd);
		(void)unlink(tmp);
		errno = saved;
		goto out;
	}
	if (close(fd) < 0) {
		*error_r = xasprintf("close %s: %s", tmp, strerror(errno));
		saved = errno;
		(void)unlink(tmp);
		errno = saved;
		goto out;
	}
	if (move_to_new(dir, tmp, base, prefix_len + len, &newpath,
	    error_r) < 0) {
		saved = errno;
		(void)unlink(tmp);
		errno = saved;
		goto out;
	}
	if (path_r != NULL)
		*path_r = newpath;
	else
		free(newpath);
	ret = 0;
out:
	free(base);
	free(tmp);
	return ret;
}
