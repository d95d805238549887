/*
 * The store and its folders: opening a user's Maildir, CREATE, DELETE,
 * RENAME and STATUS.  A folder "A.B" is the directory ".A.B" under the
 * root (Maildir++), with cur/ new/ tmp/ and a maildirfolder file.
 */

#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "mailstore/ms_int.h"

static atomic_uint trash_counter;

/* Create PATH and its missing parents, mode 0700. */
static int
mkdir_parents(const char *path, char **error_r)
{
	char *copy = xstrdup(path);

	for (char *p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(copy, 0700) < 0 && errno != EEXIST) {
			*error_r = xasprintf("mkdir %s: %s", copy,
			    strerror(errno));
			free(copy);
			return -1;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(copy);
	return 0;
}

/* The host name as it goes into file names: '/' and ':' escaped. */
static char *
host_name(void)
{
	char host[256];
	struct str s = STR_INIT;

	if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
		return xstrdup("localhost");
	host[sizeof(host) - 1] = '\0';
	for (const char *p = host; *p != '\0'; p++) {
		if (*p == '/')
			str_append(&s, "\\057");
		else if (*p == ':')
			str_append(&s, "\\072");
		else
			str_append_c(&s, *p);
	}
	return str_steal(&s);
}

int
mstore_open(const char *root, struct mstore **st_r, char **error_r)
{
	struct mstore *st;
	size_t len = strlen(root);

	*st_r = NULL;
	if (root[0] != '/') {
		*error_r = xasprintf("mail store %s: not an absolute path",
		    root);
		errno = EINVAL;
		return -1;
	}
	while (len > 1 && root[len - 1] == '/')
		len--;
	st = xcalloc(1, sizeof(*st));
	st->root = xstrndup(root, len);
	st->host = host_name();
	if (mkdir_parents(st->root, error_r) < 0 ||
	    ms_maildir_make(st->root, false, error_r) < 0) {
		mstore_close(&st);
		return -1;
	}
	*st_r = st;
	return 0;
}

void
mstore_close(struct mstore **stp)
{
	struct mstore *st = *stp;

	if (st == NULL)
		return;
	ms_target_free(&st->last_target);
	free(st->root);
	free(st->host);
	free(st);
	*stp = NULL;
}

/* Is PATH a directory? */
static bool
is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Is the folder with directory DIR selectable (has cur/)? */
static bool
folder_exists(const char *dir)
{
	char *cur = xasprintf("%s/cur", dir);
	bool ret = is_dir(cur);

	free(cur);
	return ret;
}

/* The directory names (".NAME.x...") of NAME's children, NULL-terminated. */
static char **
children(const struct mstore *st, const char *name)
{
	char *prefix = xasprintf(".%s.", name);
	size_t plen = strlen(prefix), n = 0;
	char **v = xcalloc(1, sizeof(*v));
	struct dirent *de;
	DIR *d = opendir(st->root);

	while (d != NULL && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, plen) != 0 ||
		    de->d_name[plen] == '\0')
			continue;
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = xstrdup(de->d_name);
		v[n] = NULL;
	}
	if (d != NULL)
		closedir(d);
	free(prefix);
	return v;
}

/* NAME normalized, with one trailing separator dropped (RFC 3501 CREATE
   "foo." means "foo"), checked. */
static char *
checked_name(const char *name, bool strip_sep, char **error_r)
{
	char *norm = ms_name_normalize(name);
	size_t len = strlen(norm);

	if (strip_sep && len > 1 && norm[len - 1] == '.')
		norm[len - 1] = '\0';
	if (ms_name_check(norm, error_r) < 0) {
		free(norm);
		return NULL;
	}
	return norm;
}

int
mstore_create(struct mstore *st, const char *name, char **error_r)
{
	char *norm, *dir;
	int ret;

	if ((norm = checked_name(name, true, error_r)) == NULL)
		return -1;
	dir = ms_folder_dir(st, norm);
	if (ms_name_is_inbox(norm) || folder_exists(dir)) {
		*error_r = xasprintf("Mailbox already exists: %s", name);
		free(dir);
		free(norm);
		errno = EEXIST;
		return -1;
	}
	ret = ms_maildir_make(dir, true, error_r);
	free(dir);
	free(norm);
	return ret;
}

/* Empty DIR's Maildir but keep the directory: it stays as \Noselect. */
static int
make_noselect(const char *dir, char **error_r)
{
	static const char *const parts[] = { "cur", "new", "tmp",
	    "maildirfolder", MS_UIDLIST, MS_KEYWORDS, MS_LOCK, MS_CACHE };
	struct stat sb;
	char *path;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		path = xasprintf("%s/%s", dir, parts[i]);
		if (lstat(path, &sb) == 0 && (S_ISDIR(sb.st_mode) ?
		    ms_remove_tree(path) : unlink(path)) < 0) {
			*error_r = xasprintf("remove %s: %s", path,
			    strerror(errno));
			free(path);
			return -1;
		}
		free(path);
	}
	return 0;
}

/* Remove DIR: renamed out of sight first, so that no reader sees half
   of it, then removed. */
static int
remove_folder(const struct mstore *st, const char *dir, char **error_r)
{
	char *trash = xasprintf("%s/dirmail-deleted.%ld.%u", st->root,
	    (long)getpid(), atomic_fetch_add(&trash_counter, 1));

	if (rename(dir, trash) < 0) {
		*error_r = xasprintf("rename %s: %s", dir, strerror(errno));
		free(trash);
		return -1;
	}
	if (ms_remove_tree(trash) < 0) {
		*error_r = xasprintf("remove %s: %s", trash, strerror(errno));
		free(trash);
		return -1;
	}
	free(trash);
	return 0;
}

int
mstore_delete(struct mstore *st, const char *name, char **error_r)
{
	char *norm, *dir, **kids;
	bool exists, has_kids;
	int ret = -1;

	if ((norm = checked_name(name, false, error_r)) == NULL)
		return -1;
	if (ms_name_is_inbox(norm)) {
		*error_r = xstrdup("INBOX can't be deleted");
		free(norm);
		errno = EINVAL;
		return -1;
	}
	dir = ms_folder_dir(st, norm);
	kids = children(st, norm);
	has_kids = kids[0] != NULL;
	exists = folder_exists(dir);
	if (!exists && (!has_kids || !is_dir(dir))) {
		*error_r = xasprintf("Mailbox doesn't exist: %s", name);
		errno = ENOENT;
	} else if (!exists) {
		*error_r = xasprintf("Mailbox has children, delete them "
		    "first: %s", name);
		errno = ENOTEMPTY;
	} else {
		ret = has_kids ? make_noselect(dir, error_r) :
		    remove_folder(st, dir, error_r);
	}
	strv_free(&kids);
	free(dir);
	free(norm);
	return ret;
}

/* RENAME INBOX TO: a new folder TO gets INBOX's messages. */
static int
rename_inbox(struct mstore *st, const char *to, char **error_r)
{
	static const char *const subs[] = { "new", "cur" };
	char *dir = ms_folder_dir(st, to), *from, *dst;
	struct dirent *de;
	int ret = 0;
	DIR *d;

	if (mstore_create(st, to, error_r) < 0) {
		free(dir);
		return -1;
	}
	for (size_t i = 0; i < 2 && ret == 0; i++) {
		from = xasprintf("%s/%s", st->root, subs[i]);
		if ((d = opendir(from)) == NULL) {
			*error_r = xasprintf("open %s: %s", from,
			    strerror(errno));
			free(from);
			ret = -1;
			break;
		}
		while (ret == 0 && (de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			char *src = xasprintf("%s/%s", from, de->d_name);
			dst = xasprintf("%s/%s/%s", dir, subs[i], de->d_name);
			/* ENOENT: expunged or renamed meanwhile. */
			if (rename(src, dst) < 0 && errno != ENOENT) {
				*error_r = xasprintf("rename %s: %s", src,
				    strerror(errno));
				ret = -1;
			}
			free(src);
			free(dst);
		}
		closedir(d);
		free(from);
	}
	free(dir);
	return ret;
}

/* Rename the directories of FROM and its children to TO. */
static int
rename_tree(struct mstore *st, const char *from, const char *to,
    char **error_r)
{
	char *fdir = ms_folder_dir(st, from), *tdir = ms_folder_dir(st, to);
	char **kids = children(st, from), *src, *dst;
	size_t flen = strlen(from) + 1;	/* ".FROM" */
	int ret = -1;

	if (!is_dir(fdir) && kids[0] == NULL) {
		*error_r = xasprintf("Mailbox doesn't exist: %s", from);
		errno = ENOENT;
		goto out;
	}
	for (size_t i = 0; kids[i] != NULL; i++) {
		dst = xasprintf("%s/.%s%s", st->root, to, kids[i] + flen);
		if (is_dir(dst)) {
			*error_r = xasprintf("Mailbox already exists: %s",
			    dst + strlen(st->root) + 2);
			free(dst);
			errno = EEXIST;
			goto out;
		}
		free(dst);
	}
	if (is_dir(fdir) && rename(fdir, tdir) < 0) {
		*error_r = xasprintf("rename %s: %s", fdir, strerror(errno));
		goto out;
	}
	for (size_t i = 0; kids[i] != NULL; i++) {
		src = xasprintf("%s/%s", st->root, kids[i]);
		dst = xasprintf("%s/.%s%s", st->root, to, kids[i] + flen);
		if (rename(src, dst) < 0 && errno != ENOENT) {
			*error_r = xasprintf("rename %s: %s", src,
			    strerror(errno));
			free(src);
			free(dst);
			goto out;
		}
		free(src);
		free(dst);
	}
	ret = 0;
out:
	strv_free(&kids);
	free(fdir);
	free(tdir);
	return ret;
}

int
mstore_rename(struct mstore *st, const char *from, const char *to,
    char **error_r)
{
	char *f = NULL, *t = NULL, *tdir = NULL;
	size_t flen;
	int ret = -1;

	if ((f = checked_name(from, false, error_r)) == NULL ||
	    (t = checked_name(to, false, error_r)) == NULL)
		goto out;
	tdir = ms_folder_dir(st, t);
	flen = strlen(f);
	if (ms_name_is_inbox(t) || is_dir(tdir)) {
		*error_r = xasprintf("Mailbox already exists: %s", to);
		errno = EEXIST;
	} else if (ms_name_is_inbox(f)) {
		ret = rename_inbox(st, t, error_r);
	} else if (strncmp(t, f, flen) == 0 && (t[flen] == '.' ||
	    t[flen] == '\0')) {
		*error_r = xstrdup("can't rename a mailbox into itself");
		errno = EINVAL;
	} else {
		ret = rename_tree(st, f, t, error_r);
	}
out:
	free(f);
	free(t);
	free(tdir);
	return ret;
}

int
mstore_status(struct mstore *st, const char *name,
    struct mstore_status *status, char **error_r)
{
	struct mbox *mb;

	if (mbox_open(st, name, true, &mb, error_r) < 0)
		return -1;
	memset(status, 0, sizeof(*status));
	status->messages = mbox_count(mb);
	status->recent = mb->unclaimed;
	for (uint32_t i = 1; i <= status->messages; i++)
		if (!(mbox_msg(mb, i)->flags & MF_SEEN))
			status->unseen++;
	status->uidnext = mbox_uidnext(mb);
	status->uidvalidity = mbox_uidvalidity(mb);
	mbox_close(&mb);
	return 0;
}
