/*
 * An open folder: the view a session has (messages in UID order, their
 * flags from the file names) and mbox_sync(), which brings it up to date
 * with what the delivery agent and other sessions did on disk.
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "mailstore/ms_int.h"

/* A directory whose mtime is this recent may change again within the
   same second without its mtime showing it. */
#define MTIME_SLACK	2

char *
mrec_path(const struct mbox *mb, const struct mrec *rec)
{
	return xasprintf("%s/%s/%s", mb->dir, rec->in_new ? "new" : "cur",
	    rec->name);
}

/* Read new/ (moving its files to cur/ unless read-only) and cur/. */
static int
scan_folder(struct mbox *mb, struct ms_scan *scan, char **error_r)
{
	struct ms_scan fresh = { 0 };
	char *from, *to;
	size_t i;

	if (ms_scan_dir(mb->dir, "new", &fresh, error_r) < 0)
		return -1;
	for (i = 0; i < fresh.n; i++) {
		if (mb->readonly) {
			scan->files = xreallocarray(scan->files, scan->n + 1,
			    sizeof(*scan->files));
			scan->files[scan->n++] = fresh.files[i];
			fresh.files[i].name = NULL;
			continue;
		}
		from = xasprintf("%s/new/%s", mb->dir, fresh.files[i].name);
		to = xasprintf("%s/cur/%.*s:2,", mb->dir,
		    (int)fresh.files[i].base_len, fresh.files[i].name);
		/* ENOENT: another session moved it first; cur/ has it. */
		if (rename(from, to) < 0 && errno != ENOENT) {
			*error_r = xasprintf("rename %s: %s", from,
			    strerror(errno));
			free(from);
			free(to);
			ms_scan_free(&fresh);
			return -1;
		}
		free(from);
		free(to);
	}
	ms_scan_free(&fresh);
	scan->cap = scan->n;
	if (ms_scan_dir(mb->dir, "cur", scan, error_r) < 0)
		return -1;
	ms_scan_sort(scan);
	return 0;
}

/* Arrival order: the delivery time and counters in the name, then the
   name. */
struct arrival {
	long long sec;
	long usec, pid;
	unsigned q;
	const struct ms_file *f;
};

static int
arrival_cmp(const void *a, const void *b)
{
	const struct arrival *x = a, *y = b;

	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	if (x->usec != y->usec)
		return x->usec < y->usec ? -1 : 1;
	if (x->pid == y->pid && x->q != y->q)
		return x->q < y->q ? -1 : 1;
	return strcmp(x->f->name, y->f->name);
}

/* Add the files of SCAN that IX lacks, in arrival order. */
static int
add_unknown(struct mbox *mb, struct ms_scan *scan, char **error_r)
{
	struct arrival *arr = xcalloc(scan->n + 1, sizeof(*arr));
	size_t n = 0, i;
	uint64_t psize, vsize;
	time_t mtime;
	char *path;

	for (i = 0; i < scan->n; i++) {
		const struct ms_file *f = &scan->files[i];
		if (uidx_find_name(&mb->ix, f->name, f->base_len) != NULL)
			continue;
		arr[n].f = f;
		(void)sscanf(f->name, "%lld.M%ldP%ldQ%u", &arr[n].sec,
		    &arr[n].usec, &arr[n].pid, &arr[n].q);
		n++;
	}
	qsort(arr, n, sizeof(*arr), arrival_cmp);
	for (i = 0; i < n; i++) {
		const struct ms_file *f = arr[i].f;
		path = xasprintf("%s/%s/%s", mb->dir, f->in_new ? "new" : "cur",
		    f->name);
		if (ms_file_sizes(path, f->name, f->base_len, &psize, &vsize,
		    &mtime) < 0) {
			if (errno != ENOENT) {
				*error_r = xasprintf("read %s: %s", path,
				    strerror(errno));
				free(path);
				free(arr);
				return -1;
			}
			/* Renamed or expunged meanwhile: the next sync
			   finds it. */
			free(path);
			continue;
		}
		free(path);
		(void)uidx_add(&mb->ix, f->name, f->base_len, psize, vsize,
		    mtime);
	}
	free(arr);
	return 0;
}

int
mbox_assign_uids(struct mbox *mb, struct ms_scan *scan, char **error_r)
{
	bool fresh, write;
	size_t i, first;
	int lock;

	if ((lock = ms_lock(mb->dir, error_r)) < 0)
		return -1;
	if (uidx_refresh(&mb->ix, mb->st, &fresh, error_r) < 0)
		goto fail;
	write = fresh;
	for (i = 0; i < scan->n && !write; i++)
		write = uidx_find_name(&mb->ix, scan->files[i].name,
		    scan->files[i].base_len) == NULL;
	first = mb->ix.n;
	if (write && add_unknown(mb, scan, error_r) < 0)
		goto fail;
	if (write && (fresh ? uidx_write(&mb->ix, error_r) :
	    uidx_commit(&mb->ix, first, false, error_r)) < 0)
		goto fail;
	ms_unlock(lock);
	return 0;
fail:
	ms_unlock(lock);
	return -1;
}

/* Take \Recent of the messages nobody took yet: *FROM_R < uid <= *TO_R. */
static int
claim_recent(struct mbox *mb, uint32_t *from_r, uint32_t *to_r,
    char **error_r)
{
	bool fresh;
	int lock;

	*from_r = *to_r = 0;
	if (mb->readonly || mb->ix.recent_uid + 1 >= mb->ix.uidnext)
		return 0;
	if ((lock = ms_lock(mb->dir, error_r)) < 0)
		return -1;
	if (uidx_refresh(&mb->ix, mb->st, &fresh, error_r) < 0 ||
	    (fresh && uidx_write(&mb->ix, error_r) < 0)) {
		ms_unlock(lock);
		return -1;
	}
	if (mb->ix.recent_uid + 1 < mb->ix.uidnext) {
		uint32_t old = mb->ix.recent_uid;
		mb->ix.recent_uid = mb->ix.uidnext - 1;
		if (uidx_commit(&mb->ix, mb->ix.n, true, error_r) < 0) {
			mb->ix.recent_uid = old;
			ms_unlock(lock);
			return -1;
		}
		*from_r = old;
		*to_r = mb->ix.uidnext - 1;
	}
	ms_unlock(lock);
	return 0;
}

/* Fill REC from index entry E and file F. */
static void
rec_set(struct mrec *rec, const struct uidx_ent *e, const struct ms_file *f)
{
	rec->m.uid = e->uid;
	rec->m.size = e->vsize;
	rec->m.psize = e->psize;
	rec->m.internaldate = e->mtime;
	rec->m.flags = f->flags | (rec->m.flags & MF_RECENT);
	rec->m.keywords = f->keywords;
	rec->other = f->other;
	free(rec->name);
	rec->name = xstrdup(f->name);
	rec->base_len = f->base_len;
	rec->in_new = f->in_new;
}

/* The scan's file for REC, or NULL. */
static struct ms_file *
scan_find_rec(const struct ms_scan *scan, const struct mrec *rec)
{
	return ms_scan_find(scan, rec->name, rec->base_len);
}

/* Does the scan still hold every message of the view? */
static bool
view_complete(const struct mbox *mb, const struct ms_scan *scan)
{
	for (uint32_t i = 0; i < mb->n; i++)
		if (scan_find_rec(scan, &mb->recs[i]) == NULL)
			return false;
	return true;
}

/* Report and drop the view's messages that are gone from SCAN. */
static void
apply_expunges(struct mbox *mb, const struct ms_scan *scan,
    const struct mbox_sync_cb *cb)
{
	uint32_t i, o;

	for (i = mb->n; i > 0; i--) {
		if (scan_find_rec(scan, &mb->recs[i - 1]) != NULL)
			continue;
		if (cb != NULL && cb->expunge != NULL)
			cb->expunge(cb->ctx, i);
		free(mb->recs[i - 1].name);
		mb->recs[i - 1].name = NULL;
	}
	for (i = 0, o = 0; i < mb->n; i++)
		if (mb->recs[i].name != NULL)
			mb->recs[o++] = mb->recs[i];
	mb->n = o;
}

/* Take the new flags of the view's messages, reporting changes. */
static void
apply_flags(struct mbox *mb, const struct ms_scan *scan,
    const struct mbox_sync_cb *cb)
{
	for (uint32_t i = 0; i < mb->n; i++) {
		struct mrec *rec = &mb->recs[i];
		const struct ms_file *f = scan_find_rec(scan, rec);
		struct uidx_ent e = { .uid = rec->m.uid, .psize = rec->m.psize,
		    .vsize = rec->m.size, .mtime = rec->m.internaldate };
		bool changed;

		changed = (rec->m.flags & ~MF_RECENT) != f->flags ||
		    rec->m.keywords != f->keywords;
		if (strcmp(rec->name, f->name) != 0)
			rec_set(rec, &e, f);
		if (changed && cb != NULL && cb->flags != NULL)
			cb->flags(cb->ctx, i + 1);
	}
}

/* Append the messages with UIDs above the view's to it. */
static void
apply_new(struct mbox *mb, const struct ms_scan *scan, uint32_t recent_from,
    uint32_t recent_to, const struct mbox_sync_cb *cb)
{
	uint32_t old = mb->n;

	mb->unclaimed = 0;
	for (size_t i = 0; i < mb->ix.n; i++) {
		const struct uidx_ent *e = &mb->ix.ents[i];
		const struct ms_file *f;
		if (e->uid <= mb->uid_max ||
		    (f = ms_scan_find(scan, e->base, strlen(e->base))) == NULL)
			continue;
		if (mb->n == mb->cap) {
			mb->cap = mb->cap != 0 ? mb->cap * 2 : 64;
			mb->recs = xreallocarray(mb->recs, mb->cap,
			    sizeof(*mb->recs));
		}
		struct mrec *rec = &mb->recs[mb->n++];
		memset(rec, 0, sizeof(*rec));
		rec_set(rec, e, f);
		if (e->uid > recent_from && e->uid <= recent_to)
			rec->m.flags |= MF_RECENT;
		mb->uid_max = e->uid;
	}
	for (uint32_t i = 0; i < mb->n; i++)
		if (mb->recs[i].m.uid > mb->ix.recent_uid)
			mb->unclaimed++;
	if (mb->n > old && cb != NULL && cb->exists != NULL)
		cb->exists(cb->ctx, mb->n);
}

/* Has anything changed in new/ or cur/ since the last look? */
static int
dirs_changed(struct mbox *mb, bool *changed_r, char **error_r)
{
	struct stat sn, sc;
	char *path = xasprintf("%s/new", mb->dir);
	time_t now = time(NULL);

	if (stat(path, &sn) < 0) {
		*error_r = xasprintf("stat %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	path = xasprintf("%s/cur", mb->dir);
	if (stat(path, &sc) < 0) {
		*error_r = xasprintf("stat %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	*changed_r = !mb->synced ||
	    sn.st_mtim.tv_sec != mb->new_mtime.tv_sec ||
	    sn.st_mtim.tv_nsec != mb->new_mtime.tv_nsec ||
	    sc.st_mtim.tv_sec != mb->cur_mtime.tv_sec ||
	    sc.st_mtim.tv_nsec != mb->cur_mtime.tv_nsec ||
	    sn.st_mtim.tv_sec >= now - MTIME_SLACK ||
	    sc.st_mtim.tv_sec >= now - MTIME_SLACK;
	/* Taken before reading, so a change during the read shows next
	   time. */
	mb->new_mtime = sn.st_mtim;
	mb->cur_mtime = sc.st_mtim;
	return 0;
}

/* Read the folder, retrying once when a message of the view is missing
   (a rename by another session can hide a file from readdir). */
static int
read_folder(struct mbox *mb, struct ms_scan *scan, char **error_r)
{
	bool fresh;

	if (uidx_refresh(&mb->ix, mb->st, &fresh, error_r) < 0 ||
	    scan_folder(mb, scan, error_r) < 0)
		return -1;
	if (!view_complete(mb, scan) &&
	    (ms_scan_dir(mb->dir, "cur", scan, error_r) < 0 ||
	    (mb->readonly && ms_scan_dir(mb->dir, "new", scan, error_r) < 0)))
		return -1;
	ms_scan_sort(scan);
	for (size_t i = 0; i < scan->n; i++)
		if (fresh || uidx_find_name(&mb->ix, scan->files[i].name,
		    scan->files[i].base_len) == NULL)
			return mbox_assign_uids(mb, scan, error_r);
	if (fresh)
		return mbox_assign_uids(mb, scan, error_r);
	return 0;
}

int
mbox_sync_full(struct mbox *mb, const struct mbox_sync_cb *cb, bool force,
    char **error_r)
{
	struct ms_scan scan = { 0 };
	uint32_t rfrom, rto;
	bool changed;

	if (mskw_refresh(&mb->kw, mb->dir, error_r) < 0 ||
	    dirs_changed(mb, &changed, error_r) < 0)
		return -1;
	if (!changed && !force)
		return 0;
	if (read_folder(mb, &scan, error_r) < 0 ||
	    claim_recent(mb, &rfrom, &rto, error_r) < 0) {
		ms_scan_free(&scan);
		return -1;
	}
	if (mb->synced && mb->ix.uidvalidity != mb->uidvalidity) {
		*error_r = xasprintf("%s: UID index lost, UIDVALIDITY changed",
		    mb->name);
		ms_scan_free(&scan);
		errno = ESTALE;
		return -1;
	}
	mb->uidvalidity = mb->ix.uidvalidity;
	apply_expunges(mb, &scan, cb);
	apply_flags(mb, &scan, cb);
	apply_new(mb, &scan, rfrom, rto, cb);
	mb->synced = true;
	ms_scan_free(&scan);
	ms_cache_sync(mb);
	return 0;
}

int
mbox_sync(struct mbox *mb, const struct mbox_sync_cb *cb, char **error_r)
{
	return mbox_sync_full(mb, cb, false, error_r);
}

int
mrec_refind(struct mbox *mb, struct mrec *rec, char **error_r)
{
	struct ms_scan scan = { 0 };
	struct ms_file *f;
	struct uidx_ent e = { .uid = rec->m.uid, .psize = rec->m.psize,
	    .vsize = rec->m.size, .mtime = rec->m.internaldate };
	int ret = 0;

	if (ms_scan_dir(mb->dir, "cur", &scan, error_r) < 0 ||
	    (rec->in_new && ms_scan_dir(mb->dir, "new", &scan, error_r) < 0)) {
		ms_scan_free(&scan);
		return -1;
	}
	ms_scan_sort(&scan);
	if ((f = scan_find_rec(&scan, rec)) != NULL) {
		rec_set(rec, &e, f);
		ret = 1;
	}
	ms_scan_free(&scan);
	return ret;
}

int
mbox_open(struct mstore *st, const char *name, bool readonly,
    struct mbox **mb_r, char **error_r)
{
	struct mbox *mb;
	struct stat sb;
	char *cur;

	*mb_r = NULL;
	if (!ms_name_is_inbox(name) && ms_name_check(name, error_r) < 0)
		return -1;
	mb = xcalloc(1, sizeof(*mb));
	mb->st = st;
	mb->name = ms_name_normalize(name);
	mb->dir = ms_folder_dir(st, name);
	mb->readonly = readonly;
	mb->watch_fd = -1;
	uidx_init(&mb->ix, mb->dir);
	cur = xasprintf("%s/cur", mb->dir);
	if (stat(cur, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		*error_r = xasprintf("Mailbox doesn't exist: %s", name);
		free(cur);
		mbox_close(&mb);
		errno = ENOENT;
		return -1;
	}
	free(cur);
	if (mbox_sync_full(mb, NULL, true, error_r) < 0) {
		int saved = errno;
		mbox_close(&mb);
		errno = saved;
		return -1;
	}
	*mb_r = mb;
	return 0;
}

void
mbox_close(struct mbox **mbp)
{
	struct mbox *mb = *mbp;

	if (mb == NULL)
		return;
	ms_cache_close(mb);
	for (uint32_t i = 0; i < mb->n; i++)
		free(mb->recs[i].name);
	free(mb->recs);
	uidx_free(&mb->ix);
	mskw_free(&mb->kw);
	if (mb->watch_fd >= 0)
		close(mb->watch_fd);
	free(mb->name);
	free(mb->dir);
	free(mb);
	*mbp = NULL;
}
