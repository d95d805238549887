/*
 * The folder cache's file, "dirmail-cache": read when the folder's cache
 * is first used and then incrementally as it grows, appended to with one
 * write(2) per batch of records (O_APPEND, no lock: each write lands
 * whole at the end), rewritten (tmp + rename, under the folder lock)
 * when it cannot be appended to or is mostly garbage.  Records are
 * length-prefixed and checked: reading stops at the first bad one.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "lib/xalloc.h"
#include "mailstore/cache_int.h"

/* Take the record (UID, STAMP, FIELD, DATA of LEN bytes) read from the
   file, unless its message is gone or is another one. */
static void
take_record(struct mbox *mb, uint32_t uid, uint32_t stamp, unsigned field,
    const char *data, size_t len)
{
	struct mcache *c = mb->cache;
	uint32_t seq = mbox_seq_of_uid(mb, uid);
	struct mc_ent *e;

	if ((seq == 0 && uid <= mb->uid_max) ||
	    (seq != 0 && stamp != mc_stamp(&mb->recs[seq - 1]))) {
		c->dead += MC_REC_HDR + len;
		return;
	}
	e = mc_insert(c, uid);
	e->data[field] = data;
	e->len[field] = (uint32_t)len;
	e->stamp[field] = stamp;
}

/* Parse the records in BUF (LEN bytes read at c->file_end), advancing
   c->file_end past the good ones. */
static void
parse_records(struct mbox *mb, const unsigned char *buf, size_t len)
{
	struct mcache *c = mb->cache;
	size_t off = 0;

	while (len - off >= MC_REC_HDR) {
		const unsigned char *r = buf + off;
		uint32_t rlen = mc_get32(r), field = mc_get32(r + 12);

		if (rlen < MC_REC_HDR || rlen > MC_REC_HDR + MC_MAX_DATA) {
			c->damaged = true;
			break;
		}
		if (rlen > len - off)
			break;	/* being written, or cut by a crash */
		if (mc_get32(r + 4) == 0 || field >= MBOX_CACHE_FIELDS ||
		    mc_get32(r + 16) != mc_check(r, rlen)) {
			c->damaged = true;
			break;
		}
		take_record(mb, mc_get32(r + 4), mc_get32(r + 8), field,
		    (const char *)r + MC_REC_HDR, rlen - MC_REC_HDR);
		off += rlen;
	}
	c->file_end += (off_t)off;
	/* Garbage: new records must not go after it, where no reader would
	   find them. */
	if (c->damaged)
		c->stale = true;
}

/* Read the file from c->file_end to its end. */
static void
read_new(struct mbox *mb)
{
	struct mcache *c = mb->cache;
	off_t size = c->st.st_size;
	size_t len, got = 0;
	unsigned char *buf;
	ssize_t n;

	if (size > MC_MAX_FILE) {
		size = MC_MAX_FILE;
		c->stale = true;
	}
	if (size <= c->file_end)
		return;
	len = (size_t)(size - c->file_end);
	buf = (unsigned char *)mc_alloc(c, len);
	while (got < len && ((n = pread(c->fd, buf + got, len - got,
	    c->file_end + (off_t)got)) > 0 || (n < 0 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	if (c->file_end == 0) {
		if (got < MC_HDR || memcmp(buf, MC_MAGIC, 8) != 0 ||
		    mc_get32(buf + 8) != mb->uidvalidity) {
			/* Not ours, or of an index that was lost. */
			c->damaged = c->stale = true;
			return;
		}
		c->file_end = MC_HDR;
		buf += MC_HDR;
		got -= MC_HDR;
	}
	parse_records(mb, buf, got);
}

/* Forget the file (it is to be written afresh). */
static void
file_drop(struct mcache *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->file_end = 0;
	c->dead = 0;
	c->damaged = false;
	c->stale = true;
}

/* Open PATH, the file now there, in place of the one we had. */
static void
file_reopen(struct mcache *c, const char *path)
{
	int fd = open(path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)	/* perhaps someone else's file: read it at least */
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	file_drop(c);
	if (fd < 0)
		return;
	c->fd = fd;
	c->stale = false;
}

void
mc_refresh(struct mbox *mb)
{
	struct mcache *c = mb->cache;
	char *path = xasprintf("%s/%s", mb->dir, MS_CACHE);
	struct stat sb;

	if (stat(path, &sb) < 0) {
		file_drop(c);
		free(path);
		return;
	}
	/* Replaced by another session's rewrite: read the new one.  What
	   we hold stays valid (a message never changes), so it is merged. */
	if (c->fd < 0 || sb.st_ino != c->st.st_ino ||
	    sb.st_dev != c->st.st_dev)
		file_reopen(c, path);
	free(path);
	if (c->fd < 0 || fstat(c->fd, &c->st) < 0) {
		file_drop(c);
		return;
	}
	if (c->st.st_size < c->file_end) {
		/* Cut short in place: read it again from the start. */
		c->file_end = 0;
		c->dead = 0;
		c->damaged = c->stale = false;
	}
	if (!c->damaged && c->st.st_size > c->file_end)
		read_new(mb);
}

/* Is entry E's FIELD of a message that is still there? */
static bool
ent_live(const struct mbox *mb, const struct mc_ent *e, unsigned field)
{
	uint32_t seq = mbox_seq_of_uid(mb, e->uid);

	if (e->data[field] == NULL)
		return false;
	if (seq == 0)
		return e->uid > mb->uid_max;	/* not in our view yet */
	return e->stamp[field] == mc_stamp(&mb->recs[seq - 1]);
}

/* The whole file for the entries still live, in *LEN_R bytes. */
static char *
build_file(struct mbox *mb, size_t *len_r)
{
	struct mcache *c = mb->cache;
	size_t len = MC_HDR, cap = MC_HDR + c->pend_len + MC_FLUSH_AT;
	unsigned char *buf = xmalloc(cap), *r;

	memcpy(buf, MC_MAGIC, 8);
	mc_put32(buf + 8, mb->uidvalidity);
	mc_put32(buf + 12, 0);
	for (size_t i = 0; i < c->tab_size; i++) {
		struct mc_ent *e = &c->tab[i];
		for (unsigned f = 0; e->uid != 0 && f < MBOX_CACHE_FIELDS;
		    f++) {
			size_t rlen = MC_REC_HDR + e->len[f];
			if (!ent_live(mb, e, f)) {
				e->data[f] = NULL;
				continue;
			}
			if (len + rlen > MC_MAX_FILE) {
				c->full = true;
				break;
			}
			if (len + rlen > cap) {
				cap = (len + rlen) * 2;
				buf = xreallocarray(buf, cap, 1);
			}
			r = buf + len;
			mc_put32(r, (uint32_t)rlen);
			mc_put32(r + 4, e->uid);
			mc_put32(r + 8, e->stamp[f]);
			mc_put32(r + 12, f);
			memcpy(r + MC_REC_HDR, e->data[f], e->len[f]);
			mc_put32(r + 16, mc_check(r, rlen));
			len += rlen;
		}
	}
	*len_r = len;
	return (char *)buf;
}

void
mc_rewrite(struct mbox *mb)
{
	struct mcache *c = mb->cache;
	char *path = xasprintf("%s/%s", mb->dir, MS_CACHE);
	char *tmp = xasprintf("%s.tmp", path), *data, *error = NULL;
	size_t len;
	int lock, fd;

	c->pend_len = 0;
	/* The lock keeps two sessions from writing the same tmp file. */
	if ((lock = ms_lock(mb->dir, &error)) < 0) {
		free(error);
		goto out;
	}
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0) {
		c->full = true;	/* not writable: give up for this session */
		ms_unlock(lock);
		goto out;
	}
	data = build_file(mb, &len);
	if (fd_write_all(fd, data, len) < 0 || rename(tmp, path) < 0 ||
	    fstat(fd, &c->st) < 0) {
		(void)unlink(tmp);
		close(fd);
		c->full = true;
	} else {
		/* No fsync: after a crash the checks tell what is good. */
		file_drop(c);
		c->fd = fd;
		c->file_end = (off_t)len;
		c->stale = false;
	}
	free(data);
	ms_unlock(lock);
out:
	free(tmp);
	free(path);
}

void
mc_flush(struct mbox *mb)
{
	struct mcache *c = mb->cache;
	ssize_t n;
	off_t end;

	mc_refresh(mb);
	if (c->fd < 0 || c->stale || c->st.st_size != c->file_end ||
	    c->file_end + (off_t)c->pend_len > MC_MAX_FILE ||
	    (c->file_end >= MC_COMPACT_MIN &&
	    c->dead * 2 > (uint64_t)c->file_end)) {
		/* Missing, foreign, damaged, with a torn tail, too big or
		   mostly garbage. */
		mc_rewrite(mb);
		return;
	}
	/* One write(2): with O_APPEND it lands whole after whatever other
	   sessions appended, never inside it. */
	n = write(c->fd, c->pend, c->pend_len);
	if (n < 0) {
		c->full = true;
	} else if ((size_t)n != c->pend_len) {
		c->stale = true;	/* a torn record: rewrite next time */
	} else if ((end = lseek(c->fd, 0, SEEK_CUR)) ==
	    c->file_end + (off_t)n) {
		/* Nobody wrote in between: no need to read ours back. */
		c->file_end = end;
		c->st.st_size = end;
	}
	c->pend_len = 0;
}
