/*
 * Berkeley mbox delivery: the file is locked (dot file, then fcntl),
 * checked to be a plain file of its owner, appended to, fsynced, and cut
 * back to its old size when anything fails half way.
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "delivery/local_id.h"
#include "delivery/mbox.h"
#include "lib/fdio.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* A dot file older than this was left by a crash (Postfix's value). */
#define MBOX_STALE_LOCK_SECS	500

char *
mbox_from_line(const char *sender, time_t when)
{
	struct tm tm;
	char date[64];

	localtime_r(&when, &tm);
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
	return xasprintf("From %s %s\n", *sender != '\0' ? sender :
	    "MAILER-DAEMON", date);
}

void
mbox_quote(struct str *out, const char *msg, size_t len)
{
	const char *p = msg, *end = msg + len, *nl;

	while (p < end) {
		if ((size_t)(end - p) >= 5 && memcmp(p, "From ", 5) == 0)
			str_append_c(out, '>');
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			str_append_n(out, p, (size_t)(end - p));
			str_append_c(out, '\n');
			break;
		}
		str_append_n(out, p, (size_t)(nl - p) + 1);
		p = nl + 1;
	}
	str_append_c(out, '\n');
}

/* Switch to the process's identity around root-only steps, and back. */
static void
as_root(const struct mbox_opts *o, bool on)
{
	if (on)
		local_id_restore();
	else if (local_id_become(o->uid, o->gid) < 0)
		abort();	/* it worked a moment ago: never go on as root */
}

/* Create PATH.lock; remove a stale one.  0, or -1 with *ERROR_R. */
static int
dotlock_take(const char *lock, const struct mbox_opts *o, char **error_r)
{
	unsigned tries = o->lock_attempts > 0 ? o->lock_attempts : 1, i;
	struct stat st;
	int fd = -1;

	for (i = 0; i < tries && fd < 0; i++) {
		if (o->dotlock_as_root)
			as_root(o, true);
		fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd < 0 && errno == EEXIST && lstat(lock, &st) == 0 &&
		    st.st_mtime + MBOX_STALE_LOCK_SECS < time(NULL))
			(void)unlink(lock);
		int saved = errno;
		if (o->dotlock_as_root)
			as_root(o, false);
		if (fd < 0 && saved != EEXIST) {
			*error_r = xasprintf("cannot create lock file %s: %s",
			    lock, strerror(saved));
			return -1;
		}
		if (fd < 0 && i + 1 < tries)
			sleep(1);
	}
	if (fd < 0) {
		*error_r = xasprintf("unable to lock for exclusive access: "
		    "%s exists", lock);
		return -1;
	}
	close(fd);
	return 0;
}

/* Remove the dot file LOCK. */
static void
dotlock_release(const char *lock, const struct mbox_opts *o)
{
	if (o->dotlock_as_root)
		as_root(o, true);
	(void)unlink(lock);
	if (o->dotlock_as_root)
		as_root(o, false);
}

/* Lock FD with fcntl, a few tries.  0, or -1 with *ERROR_R. */
static int
fcntl_take(int fd, const char *path, const struct mbox_opts *o,
    char **error_r)
{
	unsigned tries = o->lock_attempts > 0 ? o->lock_attempts : 1, i;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	for (i = 0; i < tries; i++) {
		if (fcntl(fd, F_SETLK, &fl) == 0)
			return 0;
		if (errno != EAGAIN && errno != EACCES)
			break;
		if (i + 1 < tries)
			sleep(1);
	}
	*error_r = xasprintf("unable to lock %s for exclusive access: %s",
	    path, strerror(errno));
	return -1;
}

/* Create a missing PATH as root and give it to the owner. */
static void
create_for_owner(const char *path, const struct mbox_opts *o)
{
	int fd;

	as_root(o, true);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd >= 0) {
		if (fchown(fd, o->uid, o->gid) < 0)
			(void)unlink(path);
		close(fd);
	}
	as_root(o, false);
}

/* Open PATH for appending and check what it is.  FD or -1. */
static int
mbox_open(const char *path, const struct mbox_opts *o, struct stat *st,
    int *err_r, char **error_r)
{
	int fd;

	if (o->create_as_root)
		create_for_owner(path, o);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_NOCTTY | O_CLOEXEC, 0600);
	if (fd < 0) {
		*err_r = errno == ELOOP ? MBOX_ERR_BAD_FILE : MBOX_ERR_TEMP;
		*error_r = xasprintf("cannot open %s: %s", path,
		    errno == ELOOP ? "a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) ||
	    st->st_nlink != 1 || st->st_uid != o->uid) {
		*err_r = MBOX_ERR_BAD_FILE;
		*error_r = xasprintf("%s is not a regular file owned by uid %u "
		    "with one link", path, (unsigned)o->uid);
		close(fd);
		return -1;
	}
	return fd;
}

/* Append the message to the open, locked FD (file size SIZE). */
static int
mbox_append(int fd, const char *path, off_t size, const struct mbox_opts *o,
    const struct str *text, char **error_r)
{
	if (o->size_limit > 0 && (uint64_t)size + text->len > o->size_limit) {
		*error_r = xasprintf("cannot update mailbox %s: message would "
		    "exceed mailbox_size_limit (%llu bytes)", path,
		    (unsigned long long)o->size_limit);
		return MBOX_ERR_FULL;
	}
	if (fd_write_all(fd, text->s, text->len) < 0 || fsync(fd) < 0) {
		int saved = errno;

		*error_r = xasprintf("error writing %s: %s", path,
		    strerror(saved));
		(void)ftruncate(fd, size);
		return saved == EFBIG ? MBOX_ERR_FULL : MBOX_ERR_TEMP;
	}
	return 0;
}

int
mbox_deliver(const char *path, const struct mbox_opts *opts,
    const char *from_line, const char *prefix, const char *msg, size_t len,
    char **error_r)
{
	struct str text = STR_INIT;
	struct stat st;
	char *lock = NULL;
	int fd, ret = MBOX_ERR_TEMP;

	if (opts->dotlock) {
		lock = xasprintf("%s.lock", path);
		if (dotlock_take(lock, opts, error_r) < 0) {
			free(lock);
			return MBOX_ERR_TEMP;
		}
	}
	if ((fd = mbox_open(path, opts, &st, &ret, error_r)) < 0)
		goto out;
	if (opts->fcntl_lock && fcntl_take(fd, path, opts, error_r) < 0) {
		ret = MBOX_ERR_TEMP;
		close(fd);
		goto out;
	}
	if (from_line != NULL)
		str_append(&text, from_line);
	str_append(&text, prefix);
	mbox_quote(&text, msg, len);
	ret = mbox_append(fd, path, st.st_size, opts, &text, error_r);
	if (close(fd) < 0 && ret == 0) {
		*error_r = xasprintf("error writing %s: %s", path,
		    strerror(errno));
		ret = MBOX_ERR_TEMP;
	}
	str_free(&text);
out:
	if (lock != NULL)
		dotlock_release(lock, opts);
	free(lock);
	return ret;
}
