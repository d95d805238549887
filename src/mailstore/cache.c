/*
 * The folder cache: ENVELOPE, BODYSTRUCTURE, BODY and the sent date of
 * messages, computed once by some session and kept in "dirmail-cache"
 * for the next ones (Dovecot's dovecot.index.cache does the same job).
 * In memory a table by UID points at the values; cache_file.c reads and
 * writes the file.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "mailstore/cache_int.h"

/* FNV-1a: enough to tell a torn or foreign record from a good one; the
   cache holds nothing an attacker gains from forging. */
static uint32_t
fnv1a(uint32_t h, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

uint32_t
mc_check(const unsigned char *rec, size_t len)
{
	/* The check field itself (bytes 16..19) is left out. */
	uint32_t h = fnv1a(2166136261u, rec, 16);

	return fnv1a(h, rec + MC_REC_HDR, len - MC_REC_HDR);
}

void
mc_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

uint32_t
mc_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

uint32_t
mc_stamp(const struct mrec *rec)
{
	unsigned char size[8];

	for (int i = 0; i < 8; i++)
		size[i] = (unsigned char)(rec->m.psize >> (8 * i));
	return fnv1a(fnv1a(2166136261u, (const unsigned char *)rec->name,
	    rec->base_len), size, sizeof(size));
}

static size_t
slot_of(const struct mcache *c, uint32_t uid)
{
	return (uid * 2654435761u) & (c->tab_size - 1);
}

struct mc_ent *
mc_find(struct mcache *c, uint32_t uid)
{
	size_t i;

	if (c->tab_size == 0 || uid == 0)
		return NULL;
	for (i = slot_of(c, uid); c->tab[i].uid != 0;
	    i = (i + 1) & (c->tab_size - 1))
		if (c->tab[i].uid == uid)
			return &c->tab[i];
	return NULL;
}

static void
tab_grow(struct mcache *c)
{
	struct mc_ent *old = c->tab;
	size_t old_size = c->tab_size;

	c->tab_size = old_size != 0 ? old_size * 2 : 1024;
	c->tab = xcalloc(c->tab_size, sizeof(*c->tab));
	for (size_t i = 0; i < old_size; i++) {
		size_t j;
		if (old[i].uid == 0)
			continue;
		for (j = slot_of(c, old[i].uid); c->tab[j].uid != 0;
		    j = (j + 1) & (c->tab_size - 1))
			;
		c->tab[j] = old[i];
	}
	free(old);
}

struct mc_ent *
mc_insert(struct mcache *c, uint32_t uid)
{
	struct mc_ent *e = mc_find(c, uid);
	size_t i;

	if (e != NULL)
		return e;
	if ((c->tab_n + 1) * 2 > c->tab_size)
		tab_grow(c);
	for (i = slot_of(c, uid); c->tab[i].uid != 0;
	    i = (i + 1) & (c->tab_size - 1))
		;
	c->tab_n++;
	c->tab[i].uid = uid;
	return &c->tab[i];
}

char *
mc_alloc(struct mcache *c, size_t len)
{
	struct mc_chunk *ch = c->chunks;
	char *p;

	if (ch == NULL || ch->size - ch->used < len) {
		size_t size = len > MC_FLUSH_AT ? len : MC_FLUSH_AT;
		ch = xmalloc(sizeof(*ch) + size);
		ch->size = size;
		ch->used = 0;
		ch->next = c->chunks;
		c->chunks = ch;
	}
	p = ch->data + ch->used;
	ch->used += len;
	return p;
}

/* The cache of MB, loaded when first used. */
static struct mcache *
cache_load(struct mbox *mb)
{
	if (mb->cache == NULL) {
		mb->cache = xcalloc(1, sizeof(*mb->cache));
		mb->cache->fd = -1;
		mc_refresh(mb);
	}
	return mb->cache;
}

int
mbox_cache_get(struct mbox *mb, uint32_t seq, enum mbox_cache_field field,
    const void **data_r, size_t *len_r)
{
	const struct mc_ent *e;
	const struct mrec *rec;

	if (seq < 1 || seq > mb->n || (unsigned)field >= MBOX_CACHE_FIELDS)
		return 0;
	rec = &mb->recs[seq - 1];
	e = mc_find(cache_load(mb), rec->m.uid);
	if (e == NULL || e->data[field] == NULL ||
	    e->stamp[field] != mc_stamp(rec))
		return 0;
	*data_r = e->data[field];
	*len_r = e->len[field];
	return 1;
}

/* Add the record of FIELD of E to the pending ones. */
static void
pend_add(struct mcache *c, const struct mc_ent *e, unsigned field)
{
	size_t len = MC_REC_HDR + e->len[field];
	unsigned char *r;

	if (c->pend_len + len > c->pend_cap) {
		c->pend_cap = c->pend_len + len > 2 * MC_FLUSH_AT ?
		    c->pend_len + len : 2 * MC_FLUSH_AT;
		c->pend = xreallocarray(c->pend, c->pend_cap, 1);
	}
	r = (unsigned char *)c->pend + c->pend_len;
	mc_put32(r, (uint32_t)len);
	mc_put32(r + 4, e->uid);
	mc_put32(r + 8, e->stamp[field]);
	mc_put32(r + 12, field);
	memcpy(r + MC_REC_HDR, e->data[field], e->len[field]);
	mc_put32(r + 16, mc_check(r, len));
	c->pend_len += len;
}

void
mbox_cache_put(struct mbox *mb, uint32_t seq, enum mbox_cache_field field,
    const void *data, size_t len)
{
	struct mcache *c;
	struct mc_ent *e;
	const struct mrec *rec;
	uint32_t stamp;
	char *copy;

	if (seq < 1 || seq > mb->n || (unsigned)field >= MBOX_CACHE_FIELDS ||
	    len > MC_MAX_DATA)
		return;
	if ((c = cache_load(mb))->full)
		return;
	rec = &mb->recs[seq - 1];
	stamp = mc_stamp(rec);
	e = mc_insert(c, rec->m.uid);
	if (e->data[field] != NULL && e->stamp[field] == stamp &&
	    e->len[field] == len && memcmp(e->data[field], data, len) == 0)
		return;
	copy = mc_alloc(c, len);
	memcpy(copy, data, len);
	e->data[field] = copy;
	e->len[field] = (uint32_t)len;
	e->stamp[field] = stamp;
	pend_add(c, e, field);
	if (c->pend_len >= MC_FLUSH_AT)
		mc_flush(mb);
}

void
mbox_cache_flush(struct mbox *mb)
{
	if (mb->cache != NULL && mb->cache->pend_len > 0)
		mc_flush(mb);
}

void
ms_cache_sync(struct mbox *mb)
{
	if (mb->cache == NULL)
		return;
	mbox_cache_flush(mb);
	mc_refresh(mb);
}

void
ms_cache_expunged(struct mbox *mb, const uint32_t *uids, size_t n)
{
	struct mcache *c = mb->cache;
	struct mc_ent *e;

	if (c == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		if ((e = mc_find(c, uids[i])) == NULL)
			continue;
		for (unsigned f = 0; f < MBOX_CACHE_FIELDS; f++)
			if (e->data[f] != NULL) {
				c->dead += MC_REC_HDR + e->len[f];
				e->data[f] = NULL;
			}
	}
	if (c->fd >= 0 && c->file_end >= MC_COMPACT_MIN &&
	    c->dead * 2 > (uint64_t)c->file_end)
		mc_rewrite(mb);
}

void
ms_cache_close(struct mbox *mb)
{
	struct mcache *c = mb->cache;
	struct mc_chunk *ch;

	if (c == NULL)
		return;
	mbox_cache_flush(mb);
	if (c->fd >= 0)
		close(c->fd);
	while ((ch = c->chunks) != NULL) {
		c->chunks = ch->next;
		free(ch);
	}
	free(c->tab);
	free(c->pend);
	free(c);
	mb->cache = NULL;
}
