/*
 * What a session does to messages: read, STORE (a rename with new info
 * letters), EXPUNGE (unlink, then drop from the index), COPY (a hard
 * link with a new name and UID in the target) and APPEND; and the view's
 * accessors and the inotify watch for IDLE.
 */

#include "config.h"

#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "mailstore/ms_int.h"

const char *mbox_name(const struct mbox *mb) { return mb->name; }
bool mbox_readonly(const struct mbox *mb) { return mb->readonly; }
uint32_t mbox_uidvalidity(const struct mbox *mb) { return mb->uidvalidity; }
uint32_t mbox_count(const struct mbox *mb) { return mb->n; }

uint32_t
mbox_uidnext(const struct mbox *mb)
{
	/* The index may be ahead of the view; never below the view. */
	return mb->ix.uidnext > mb->uid_max ? mb->ix.uidnext : mb->uid_max + 1;
}

uint32_t
mbox_recent(const struct mbox *mb)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < mb->n; i++)
		if (mb->recs[i].m.flags & MF_RECENT)
			n++;
	return n;
}

uint32_t
mbox_first_unseen(const struct mbox *mb)
{
	for (uint32_t i = 0; i < mb->n; i++)
		if (!(mb->recs[i].m.flags & MF_SEEN))
			return i + 1;
	return 0;
}

const struct mmsg *
mbox_msg(const struct mbox *mb, uint32_t seq)
{
	return seq >= 1 && seq <= mb->n ? &mb->recs[seq - 1].m : NULL;
}

uint32_t
mbox_seq_of_uid(const struct mbox *mb, uint32_t uid)
{
	uint32_t lo = 0, hi = mb->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (mb->recs[mid].m.uid == uid)
			return mid + 1;
		if (mb->recs[mid].m.uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

unsigned
mbox_keyword_count(const struct mbox *mb)
{
	return mb->kw.n;
}

const char *
mbox_keyword_name(const struct mbox *mb, unsigned i)
{
	return i < mb->kw.n ? mb->kw.names[i] : NULL;
}

int
mbox_keyword_index(struct mbox *mb, const char *name, bool create)
{
	char *error = NULL;
	int idx = mskw_find(&mb->kw, name);

	if (idx >= 0 || !create)
		return idx;
	idx = mskw_add(&mb->kw, mb->dir, name, &error);
	free(error);	/* an I/O error reads as "no room" to the caller */
	return idx;
}

int
mbox_msg_open(struct mbox *mb, uint32_t seq, int *fd_r, char **error_r)
{
	struct mrec *rec;
	char *path;
	int tries;

	if (seq < 1 || seq > mb->n) {
		*error_r = xasprintf("no message %u", seq);
		errno = EINVAL;
		return -1;
	}
	rec = &mb->recs[seq - 1];
	for (tries = 0; tries < 2; tries++) {
		path = mrec_path(mb, rec);
		*fd_r = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		free(path);
		if (*fd_r >= 0)
			return 0;
		if (errno != ENOENT)
			break;
		/* Renamed by another session's STORE, or expunged. */
		if (mrec_refind(mb, rec, error_r) <= 0)
			break;
	}
	if (errno == ENOENT)
		*error_r = xasprintf("message %u has been expunged", seq);
	else
		*error_r = xasprintf("open message %u: %s", seq,
		    strerror(errno));
	return -1;
}

/* New flags of REC after OP. */
static void
flags_after(const struct mrec *rec, enum mbox_flag_op op, unsigned flags,
    uint32_t keywords, unsigned *flags_r, uint32_t *kw_r)
{
	unsigned cur = rec->m.flags & ~MF_RECENT;

	flags &= ~MF_RECENT;
	switch (op) {
	case MBOX_FLAGS_SET:
		*flags_r = flags;
		*kw_r = keywords;
		break;
	case MBOX_FLAGS_ADD:
		*flags_r = cur | flags;
		*kw_r = rec->m.keywords | keywords;
		break;
	case MBOX_FLAGS_REMOVE:
	default:
		*flags_r = cur & ~flags;
		*kw_r = rec->m.keywords & ~keywords;
		break;
	}
}

int
mbox_store(struct mbox *mb, uint32_t seq, enum mbox_flag_op op,
    unsigned flags, uint32_t keywords, char **error_r)
{
	struct mrec *rec;
	unsigned nflags;
	uint32_t nkw;
	char info[64], *from, *to;
	int tries, found;

	if (mb->readonly) {
		*error_r = xstrdup("mailbox is read-only");
		errno = EROFS;
		return -1;
	}
	if (seq < 1 || seq > mb->n) {
		*error_r = xasprintf("no message %u", seq);
		errno = EINVAL;
		return -1;
	}
	rec = &mb->recs[seq - 1];
	for (tries = 0; tries < 2; tries++) {
		flags_after(rec, op, flags, keywords, &nflags, &nkw);
		if (nflags == (rec->m.flags & ~MF_RECENT) &&
		    nkw == rec->m.keywords && !rec->in_new)
			return 0;
		ms_info_letters(nflags, nkw, rec->other, info);
		from = mrec_path(mb, rec);
		to = xasprintf("%s/cur/%.*s:2,%s", mb->dir, (int)rec->base_len,
		    rec->name, info);
		if (rename(from, to) == 0) {
			free(rec->name);
			rec->name = xstrdup(strrchr(to, '/') + 1);
			rec->in_new = false;
			rec->m.flags = nflags | (rec->m.flags & MF_RECENT);
			rec->m.keywords = nkw;
			free(from);
			free(to);
			return 0;
		}
		free(from);
		free(to);
		if (errno != ENOENT)
			break;
		/* Another session renamed it: apply OP to its flags now. */
		if ((found = mrec_refind(mb, rec, error_r)) < 0)
			return -1;
		if (found == 0)
			return 0;	/* expunged: the next sync says so */
	}
	*error_r = xasprintf("store flags of message %u: %s", seq,
	    strerror(errno));
	return -1;
}

static int
uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* Unlink REC's file if it still has \Deleted: 1 gone, 0 kept, -1 error. */
static int
expunge_one(struct mbox *mb, struct mrec *rec, char **error_r)
{
	char *path;
	int found;

	for (int tries = 0; tries < 2; tries++) {
		path = mrec_path(mb, rec);
		if (unlink(path) == 0) {
			free(path);
			return 1;
		}
		if (errno != ENOENT) {
			*error_r = xasprintf("unlink %s: %s", path,
			    strerror(errno));
			free(path);
			return -1;
		}
		free(path);
		if ((found = mrec_refind(mb, rec, error_r)) <= 0)
			return found < 0 ? -1 : 1;
		if (!(rec->m.flags & MF_DELETED))
			return 0;	/* undeleted by another session */
	}
	return 1;
}

/* Drop the UIDS (sorted) from the folder's index. */
static int
index_drop(struct mbox *mb, const uint32_t *uids, size_t n, char **error_r)
{
	bool fresh;
	int lock, ret = -1;

	if (n == 0)
		return 0;
	if ((lock = ms_lock(mb->dir, error_r)) < 0)
		return -1;
	if (uidx_refresh(&mb->ix, mb->st, &fresh, error_r) == 0) {
		uidx_remove(&mb->ix, uids, n);
		ret = uidx_write(&mb->ix, error_r);
	}
	ms_unlock(lock);
	return ret;
}

int
mbox_expunge(struct mbox *mb, const uint32_t *uids, size_t n_uids,
    const struct mbox_sync_cb *cb, char **error_r)
{
	uint32_t *want = NULL, *gone, i, o;
	size_t n_gone = 0;
	char *ignore = NULL;
	int ret = 0, r;

	if (mb->readonly) {
		*error_r = xstrdup("mailbox is read-only");
		errno = EROFS;
		return -1;
	}
	if (uids != NULL) {
		want = xcalloc(n_uids + 1, sizeof(*want));
		memcpy(want, uids, n_uids * sizeof(*want));
		qsort(want, n_uids, sizeof(*want), uid_cmp);
	}
	gone = xcalloc(mb->n + 1, sizeof(*gone));
	for (i = mb->n; i > 0 && ret == 0; i--) {
		struct mrec *rec = &mb->recs[i - 1];
		if (!(rec->m.flags & MF_DELETED) || (want != NULL &&
		    bsearch(&rec->m.uid, want, n_uids, sizeof(*want),
		    uid_cmp) == NULL))
			continue;
		if ((r = expunge_one(mb, rec, error_r)) < 0)
			ret = -1;
		if (r <= 0)
			continue;
		if (cb != NULL && cb->expunge != NULL)
			cb->expunge(cb->ctx, i);
		gone[n_gone++] = rec->m.uid;
		free(rec->name);
		rec->name = NULL;
	}
	for (i = 0, o = 0; i < mb->n; i++)
		if (mb->recs[i].name != NULL)
			mb->recs[o++] = mb->recs[i];
	mb->n = o;
	/* GONE was filled from the highest UID down. */
	qsort(gone, n_gone, sizeof(*gone), uid_cmp);
	if (ret == 0)
		ret = index_drop(mb, gone, n_gone, error_r);
	else if (index_drop(mb, gone, n_gone, &ignore) < 0)
		free(ignore);	/* the first error is the one reported */
	ms_cache_expunged(mb, gone, n_gone);
	free(gone);
	free(want);
	return ret;
}

int
mbox_watch_fd(struct mbox *mb)
{
	const uint32_t mask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM |
	    IN_DELETE;
	char *path;

	if (mb->watch_fd >= 0)
		return mb->watch_fd;
	mb->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (mb->watch_fd < 0)
		return -1;
	path = xasprintf("%s/new", mb->dir);
	if (inotify_add_watch(mb->watch_fd, path, mask) < 0) {
		free(path);
		goto fail;
	}
	free(path);
	path = xasprintf("%s/cur", mb->dir);
	if (inotify_add_watch(mb->watch_fd, path, mask) < 0) {
		free(path);
		goto fail;
	}
	free(path);
	return mb->watch_fd;
fail:
	close(mb->watch_fd);
	mb->watch_fd = -1;
	return -1;
}

void
mbox_watch_clear(struct mbox *mb)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct
	    inotify_event))));

	if (mb->watch_fd < 0)
		return;
	while (read(mb->watch_fd, buf, sizeof(buf)) > 0)
		;
}
