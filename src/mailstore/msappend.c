/*
 * Adding messages to a folder: APPEND writes a new file, COPY links an
 * existing one.  Both put the file into cur/ (flags in its name) and
 * give it the next UID under the folder lock, so the UID handed back
 * for APPENDUID/COPYUID is the one every session will see.
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "lib/xalloc.h"
#include "mailstore/ms_int.h"

/* A folder that receives a message. */
struct ms_target {
	char *dir;
	struct uidx ix;
	struct mskw kw;
};

void
ms_target_free(struct ms_target **tp)
{
	struct ms_target *t = *tp;

	if (t == NULL)
		return;
	uidx_free(&t->ix);
	mskw_free(&t->kw);
	free(t->dir);
	free(t);
	*tp = NULL;
}

/* The target folder NAME: the store's cached one when it is that. */
static struct ms_target *
target_open(struct mstore *st, const char *name, char **error_r)
{
	struct ms_target *t;
	struct stat sb;
	char *dir, *cur;

	if (!ms_name_is_inbox(name) && ms_name_check(name, error_r) < 0)
		return NULL;
	dir = ms_folder_dir(st, name);
	cur = xasprintf("%s/cur", dir);
	if (stat(cur, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		*error_r = xasprintf("Mailbox doesn't exist: %s", name);
		free(cur);
		free(dir);
		errno = ENOENT;
		return NULL;
	}
	free(cur);
	t = st->last_target;
	st->last_target = NULL;
	if (t == NULL || strcmp(t->dir, dir) != 0) {
		ms_target_free(&t);
		t = xcalloc(1, sizeof(*t));
		t->dir = xstrdup(dir);
		uidx_init(&t->ix, dir);
	}
	free(dir);
	if (mskw_refresh(&t->kw, t->dir, error_r) < 0) {
		ms_target_free(&t);
		return NULL;
	}
	return t;
}

/* Done with T: kept for the next APPEND or COPY. */
static void
target_close(struct mstore *st, struct ms_target *t)
{
	ms_target_free(&st->last_target);
	st->last_target = t;
}

/* Fsync the directory PATH. */
static int
dir_fsync(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret, saved;

	if (fd < 0)
		return -1;
	ret = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

/*
 * Under the target's lock: move (or link, when LINK) SRC to
 * cur/BASE:2,INFO and give it the next UID.  On failure nothing is
 * left in cur/.
 */
static int
target_add(struct mstore *st, struct ms_target *t, const char *src, bool link_it,
    const char *base, const char *info, const struct uidx_ent *sizes,
    uint32_t *uidvalidity_r, uint32_t *uid_r, char **error_r)
{
	char *dst = xasprintf("%s/cur/%s:2,%s", t->dir, base, info);
	char *cur = xasprintf("%s/cur", t->dir);
	struct uidx_ent *e;
	bool fresh;
	int lock, ret = -1;

	if ((lock = ms_lock(t->dir, error_r)) < 0)
		goto out;
	if (uidx_refresh(&t->ix, st, &fresh, error_r) < 0)
		goto unlock;
	if ((link_it ? link(src, dst) : rename(src, dst)) < 0) {
		int saved = errno;
		*error_r = xasprintf("%s %s: %s", link_it ? "link" : "rename",
		    dst, strerror(saved));
		ms_unlock(lock);
		free(dst);
		free(cur);
		errno = saved;
		return -1;
	}
	e = uidx_add(&t->ix, base, strlen(base), sizes->psize, sizes->vsize,
	    sizes->mtime);
	*uid_r = e->uid;
	*uidvalidity_r = t->ix.uidvalidity;
	if ((fresh ? uidx_write(&t->ix, error_r) :
	    uidx_commit(&t->ix, t->ix.n - 1, false, error_r)) < 0) {
		(void)unlink(dst);
		goto unlock;
	}
	if (dir_fsync(cur) < 0) {
		*error_r = xasprintf("fsync %s: %s", cur, strerror(errno));
		goto unlock;
	}
	ret = 0;
unlock:
	ms_unlock(lock);
out:
	free(dst);
	free(cur);
	return ret;
}

/* Write LEN bytes of DATA with CRLF made LF to a new file in DIR/tmp;
   the sizes to *SIZES (mtime from INTERNALDATE). */
static int
write_tmp(const char *path, const char *data, size_t len, time_t date,
    char **error_r)
{
	char *lf = xmalloc(len + 1);
	size_t n = 0;
	int fd, ret = -1;

	for (size_t i = 0; i < len; i++)
		if (!(data[i] == '\r' && i + 1 < len && data[i + 1] == '\n'))
			lf[n++] = data[i];
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		*error_r = xasprintf("create %s: %s", path, strerror(errno));
		free(lf);
		return -1;
	}
	if (fd_write_all(fd, lf, n) < 0 || fsync(fd) < 0) {
		*error_r = xasprintf("write %s: %s", path, strerror(errno));
	} else {
		struct timespec ts[2] = { { date, 0 }, { date, 0 } };
		if (date != 0)
			(void)futimens(fd, ts);
		ret = 0;
	}
	close(fd);
	if (ret < 0)
		(void)unlink(path);
	free(lf);
	return ret;
}

/* The message's sizes once stored with LF line ends. */
static void
lf_sizes(const char *data, size_t len, struct uidx_ent *sizes)
{
	uint64_t bytes = 0, lines = 0;

	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
			continue;
		bytes++;
		if (data[i] == '\n')
			lines++;
	}
	sizes->psize = bytes;
	sizes->vsize = bytes + lines;
}

/* The keyword bits of the target for NAMES. */
static int
target_keywords(struct ms_target *t, char *const *names, uint32_t *bits_r,
    char **error_r)
{
	int idx;

	*bits_r = 0;
	for (; names != NULL && *names != NULL; names++) {
		if ((idx = mskw_add(&t->kw, t->dir, *names, error_r)) >= 0)
			*bits_r |= 1u << idx;
		else if (*error_r != NULL)
			return -1;
		/* A bad name or a full folder: the keyword is dropped, as
		   PERMANENTFLAGS without \* tells the client. */
	}
	return 0;
}

int
mstore_append(struct mstore *st, const char *name, const void *data,
    size_t len, unsigned flags, char *const *keywords, time_t internaldate,
    uint32_t *uidvalidity_r, uint32_t *uid_r, char **error_r)
{
	struct ms_target *t;
	struct uidx_ent sizes;
	uint32_t kw;
	char info[64], *base, *tmp;
	int ret;

	if ((t = target_open(st, name, error_r)) == NULL)
		return -1;
	if (target_keywords(t, keywords, &kw, error_r) < 0) {
		target_close(st, t);
		return -1;
	}
	lf_sizes(data, len, &sizes);
	sizes.mtime = internaldate != 0 ? internaldate : time(NULL);
	base = ms_new_base(st, sizes.psize, sizes.vsize);
	tmp = xasprintf("%s/tmp/%s", t->dir, base);
	ms_info_letters(flags & ~MF_RECENT, kw, 0, info);
	ret = write_tmp(tmp, data, len, internaldate, error_r);
	if (ret == 0) {
		ret = target_add(st, t, tmp, false, base, info, &sizes,
		    uidvalidity_r, uid_r, error_r);
		if (ret < 0)
			(void)unlink(tmp);
	}
	free(tmp);
	free(base);
	target_close(st, t);
	return ret;
}

/* Copy the file SRC to TMP byte for byte (when it cannot be linked). */
static int
copy_file(const char *src, const char *tmp, char **error_r)
{
	char *data;
	size_t len;
	int fd, ret;

	if (ms_read_file(src, &data, &len) < 0) {
		*error_r = xasprintf("read %s: %s", src, strerror(errno));
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	ret = fd < 0 || fd_write_all(fd, data, len) < 0 || fsync(fd) < 0 ?
	    -1 : 0;
	if (ret < 0)
		*error_r = xasprintf("write %s: %s", tmp, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(data);
	return ret;
}

/* The target's keyword bits for the source message's keywords. */
static int
copy_keywords(struct mbox *mb, const struct mmsg *m, struct ms_target *t,
    uint32_t *bits_r, char **error_r)
{
	char *names[MSTORE_MAX_KEYWORDS + 1];
	unsigned n = 0;

	for (unsigned i = 0; i < mb->kw.n; i++)
		if (m->keywords & (1u << i))
			names[n++] = mb->kw.names[i];
	names[n] = NULL;
	return target_keywords(t, names, bits_r, error_r);
}

int
mbox_copy(struct mbox *mb, uint32_t seq, const char *dest,
    uint32_t *uidvalidity_r, uint32_t *uid_r, char **error_r)
{
	struct uidx_ent sizes;
	struct ms_target *t;
	struct mrec *rec;
	uint32_t kw;
	char info[64], *base, *src = NULL, *tmp = NULL;
	int ret = -1;

	if (seq < 1 || seq > mb->n) {
		*error_r = xasprintf("no message %u", seq);
		errno = EINVAL;
		return -1;
	}
	rec = &mb->recs[seq - 1];
	if ((t = target_open(mb->st, dest, error_r)) == NULL)
		return -1;
	if (copy_keywords(mb, &rec->m, t, &kw, error_r) < 0)
		goto out_t;
	sizes.psize = rec->m.psize;
	sizes.vsize = rec->m.size;
	sizes.mtime = rec->m.internaldate;
	base = ms_new_base(mb->st, sizes.psize, sizes.vsize);
	ms_info_letters(rec->m.flags & ~MF_RECENT, kw, rec->other, info);
	*error_r = NULL;
	for (int tries = 0; tries < 2 && ret < 0; tries++) {
		free(src);
		src = mrec_path(mb, rec);
		free(*error_r);
		*error_r = NULL;
		ret = target_add(mb->st, t, src, true, base, info, &sizes,
		    uidvalidity_r, uid_r, error_r);
		if (ret == 0 || errno != ENOENT ||
		    mrec_refind(mb, rec, error_r) <= 0)
			break;
	}
	if (ret < 0 && (errno == EXDEV || errno == EPERM || errno == EMLINK)) {
		/* No hard links here: a copy through tmp/. */
		free(*error_r);
		*error_r = NULL;
		tmp = xasprintf("%s/tmp/%s", t->dir, base);
		ret = copy_file(src, tmp, error_r);
		if (ret == 0)
			ret = target_add(mb->st, t, tmp, false, base, info,
			    &sizes, uidvalidity_r, uid_r, error_r);
		(void)unlink(tmp);
	}
	free(tmp);
	free(src);
	free(base);
out_t:
	target_close(mb->st, t);
	return ret;
}
