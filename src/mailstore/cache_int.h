#ifndef DIRMAIL_MAILSTORE_CACHE_INT_H
#define DIRMAIL_MAILSTORE_CACHE_INT_H

/*
 * The folder cache's insides (cache.c: the table and the API;
 * cache_file.c: the file "dirmail-cache").  doc/mailstore.md describes
 * the file.
 */

#include <sys/stat.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailstore/ms_int.h"

/* The file header: magic, then UIDVALIDITY (little-endian u32), then a
   reserved u32. */
#define MC_MAGIC	"dmcache\001"
#define MC_HDR		16
/* A record: total length, UID, stamp, field, check (u32 each), data. */
#define MC_REC_HDR	20
/* The largest value cached, and the largest file written. */
#define MC_MAX_DATA	(256 * 1024)
#define MC_MAX_FILE	(128 * 1024 * 1024)
/* Records are collected and written in one write(2) at this size. */
#define MC_FLUSH_AT	(64 * 1024)
/* A file of at least this size is rewritten when over half of it is
   records nobody needs any more. */
#define MC_COMPACT_MIN	(256 * 1024)

/* What is cached of one message. */
struct mc_ent {
	uint32_t uid;			/* 0: free slot */
	uint32_t stamp[MBOX_CACHE_FIELDS];
	uint32_t len[MBOX_CACHE_FIELDS];
	const char *data[MBOX_CACHE_FIELDS];	/* NULL: not cached */
};

/* Memory the values live in; never moved or freed before the cache is,
   so that pointers handed out stay valid. */
struct mc_chunk {
	struct mc_chunk *next;
	size_t used, size;
	char data[];
};

struct mcache {
	int fd;				/* the file, -1 when none */
	struct stat st;			/* of FD */
	off_t file_end;			/* bytes of FD read and parsed */
	uint64_t dead;			/* bytes of FD nobody needs */
	bool damaged;			/* FD has garbage at FILE_END */
	bool stale;			/* FD must be rewritten, not appended
					   to (wrong UIDVALIDITY, garbage) */
	bool full;			/* size bound reached: no more puts */
	struct mc_ent *tab;		/* open addressing by UID */
	size_t tab_size, tab_n;		/* TAB_SIZE: a power of two */
	struct mc_chunk *chunks;	/* the newest first */
	char *pend;			/* records not written yet */
	size_t pend_len, pend_cap;
};

/* cache.c */
uint32_t mc_check(const unsigned char *rec, size_t len);
void mc_put32(unsigned char *p, uint32_t v);
uint32_t mc_get32(const unsigned char *p);
/* The entry of UID, or NULL. */
struct mc_ent *mc_find(struct mcache *c, uint32_t uid);
/* The entry of UID, added when missing. */
struct mc_ent *mc_insert(struct mcache *c, uint32_t uid);
/* Space for LEN bytes that stays where it is. */
char *mc_alloc(struct mcache *c, size_t len);
/* The stamp of message REC: its file, so that a record never applies to
   another message even if a UID were given twice. */
uint32_t mc_stamp(const struct mrec *rec);

/* cache_file.c */
/* Bring the cache up to date with the file: records other sessions
   added, a file replaced or removed. */
void mc_refresh(struct mbox *mb);
/* Write the pending records: appended in one write(2), or the file
   rewritten when it cannot be appended to. */
void mc_flush(struct mbox *mb);
/* Replace the file with the records of messages still there. */
void mc_rewrite(struct mbox *mb);

#endif
