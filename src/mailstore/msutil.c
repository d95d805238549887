/*
 * The mail store's file helpers: whole-file atomic replacement, the
 * folder lock, Maildir creation and removal, unique names.
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "lib/xalloc.h"
#include "mailstore/ms_int.h"

/* Files made by this process, for unique names within a microsecond. */
static atomic_uint ms_counter;

int
ms_write_atomic(const char *path, const void *data, size_t len,
    char **error_r)
{
	char *tmp = xasprintf("%s.tmp", path);
	int fd, saved;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		*error_r = xasprintf("create %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if (fd_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		saved = errno;
		*error_r = xasprintf("write %s: %s", tmp, strerror(saved));
		close(fd);
		(void)unlink(tmp);
		free(tmp);
		errno = saved;
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		saved = errno;
		*error_r = xasprintf("rename %s: %s", tmp, strerror(saved));
		(void)unlink(tmp);
		free(tmp);
		errno = saved;
		return -1;
	}
	free(tmp);
	return 0;
}

int
ms_read_file(const char *path, char **data_r, size_t *len_r)
{
	struct stat sb;
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd, saved;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (len < (size_t)sb.st_size) {
		n = read(fd, buf + len, (size_t)sb.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*data_r = buf;
	*len_r = len;
	return 0;
}

/*
 * Open-file-description locks: two folders opened by one process (two
 * sessions in a test, or COPY into the selected folder) exclude each
 * other as two processes do, and closing one descriptor does not drop
 * another's lock as it would with classic POSIX locks.
 */
int
ms_lock(const char *dir, char **error_r)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct timespec pause = { 0, 5 * 1000 * 1000 };
	char *path = xasprintf("%s/%s", dir, MS_LOCK);
	int fd, waited = 0;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		*error_r = xasprintf("open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	while (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		if (errno != EAGAIN && errno != EACCES && errno != EINTR) {
			*error_r = xasprintf("lock %s: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (waited >= MS_LOCK_TIMEOUT_MS) {
			*error_r = xasprintf("lock %s: timed out after %d s",
			    path, MS_LOCK_TIMEOUT_MS / 1000);
			errno = ETIMEDOUT;
			goto fail;
		}
		nanosleep(&pause, NULL);
		waited += 5;
	}
	free(path);
	return fd;
fail:
	close(fd);
	free(path);
	return -1;
}

void
ms_unlock(int fd)
{
	if (fd >= 0)
		close(fd);	/* drops the lock of this description */
}

int
ms_maildir_make(const char *dir, bool marker, char **error_r)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	char *path;
	size_t i;
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		*error_r = xasprintf("mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < 3; i++) {
		path = xasprintf("%s/%s", dir, subs[i]);
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			*error_r = xasprintf("mkdir %s: %s", path,
			    strerror(errno));
			free(path);
			return -1;
		}
		free(path);
	}
	if (!marker)
		return 0;
	path = xasprintf("%s/maildirfolder", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		*error_r = xasprintf("create %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	close(fd);
	free(path);
	return 0;
}

/* nftw callback: remove one entry (children come first). */
static int
remove_one(const char *path, const struct stat *sb, int type,
    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int
ms_remove_tree(const char *dir)
{
	return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *
ms_new_base(const struct mstore *st, uint64_t psize, uint64_t vsize)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return xasprintf("%lld.M%ldP%ldQ%u.%s,S=%llu,W=%llu",
	    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
	    atomic_fetch_add(&ms_counter, 1) + 1, st->host,
	    (unsigned long long)psize, (unsigned long long)vsize);
}

/*
 * The store remembers the last UIDVALIDITY it gave so that a folder
 * deleted and made again within one second still gets a new one.
 */
uint32_t
ms_new_uidvalidity(const struct mstore *st)
{
	char *path = xasprintf("%s/%s", st->root, MS_UIDVALIDITY), *data;
	char *err = NULL, buf[32];
	uint32_t now = (uint32_t)time(NULL), last = 0;
	size_t len;
	int n;

	if (ms_read_file(path, &data, &len) == 0) {
		last = (uint32_t)strtoul(data, NULL, 10);
		free(data);
	}
	if (now <= last)
		now = last + 1;
	if (now == 0)
		now = 1;
	n = snprintf(buf, sizeof(buf), "%u\n", now);
	if (ms_write_atomic(path, buf, (size_t)n, &err) < 0)
		free(err);	/* only uniqueness within a second is lost */
	free(path);
	return now;
}

bool
ms_stat_same(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}
