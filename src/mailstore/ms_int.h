#ifndef DIRMAIL_MAILSTORE_MS_INT_H
#define DIRMAIL_MAILSTORE_MS_INT_H

/*
 * The mail store's insides, shared by its files and by nobody else.
 * doc/mailstore.md describes the on-disk files these functions keep.
 */

#include <sys/stat.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mailstore/mailstore.h"

#define MS_UIDLIST	"dirmail-uidlist"
#define MS_KEYWORDS	"dirmail-keywords"
#define MS_LOCK		"dirmail-uidlist.lock"
#define MS_SPECIALUSE	"dirmail-specialuse"
#define MS_UIDVALIDITY	"dirmail-uidvalidity"
#define MS_SUBSCRIPTIONS "subscriptions"
#define MS_CACHE	"dirmail-cache"

/* How long a session waits for another one's index lock. */
#define MS_LOCK_TIMEOUT_MS	10000

struct ms_target;
struct mcache;

struct mstore {
	char *root;
	char *host;		/* for unique file names, '/' and ':' escaped */
	/* The folder last appended or copied to, with its index, so that
	   1,000 APPENDs read a big index once, not 1,000 times. */
	struct ms_target *last_target;
};

/* One line of the UID index. */
struct uidx_ent {
	uint32_t uid;
	char *base;		/* the file name before ":2," */
	uint64_t psize, vsize;
	time_t mtime;
};

/* A folder's UID index as last read (or written) by this process. */
struct uidx {
	char *dir;		/* the folder's directory */
	uint32_t uidvalidity, uidnext;
	uint32_t recent_uid;	/* the highest UID some session took \Recent */
	struct uidx_ent *ents;	/* sorted by UID */
	size_t n, cap;
	size_t *by_name;	/* indexes into ents, sorted by base */
	struct stat st;		/* of the file read, to notice rewrites */
	bool have_st;
	bool appended;		/* the file has lines appended after "+" */
	uint32_t gen;		/* the generation in its header */
	size_t parsed_len;	/* bytes of complete lines read */
};

/* One file found in new/ or cur/. */
struct ms_file {
	char *name;		/* the whole directory entry name */
	size_t base_len;	/* the base name is name[0..base_len) */
	unsigned flags;		/* MF_* from the info */
	uint32_t keywords;
	uint32_t other;		/* other upper-case info letters, bit c-'A' */
	bool in_new;
};

struct ms_scan {
	struct ms_file *files;	/* sorted by base name after ms_scan_dir */
	size_t n, cap;
};

/* A folder's keywords, index i = letter 'a' + i. */
struct mskw {
	char *names[MSTORE_MAX_KEYWORDS];
	unsigned n;
	struct stat st;
	bool have_st;
};

/* One message of an open folder's view. */
struct mrec {
	struct mmsg m;		/* first: mbox_msg() hands out &rec->m */
	char *name;		/* its file name in cur/ (new/ when in_new) */
	size_t base_len;
	uint32_t other;		/* info letters we keep but do not know */
	bool in_new;
};

struct mbox {
	struct mstore *st;
	char *name;		/* normalized */
	char *dir;
	bool readonly;
	bool synced;		/* the view has been built once */
	struct uidx ix;
	struct mskw kw;
	struct mrec *recs;
	uint32_t n, cap;
	uint32_t uidvalidity;	/* of the view: never changes */
	uint32_t uid_max;	/* the highest UID the view ever held */
	uint32_t unclaimed;	/* messages nobody took \Recent of yet */
	struct timespec new_mtime, cur_mtime;
	int watch_fd;
	struct mcache *cache;	/* loaded when first used */
};

/* mbox.c */
/* mbox_sync(); FORCE reads the directories even when unchanged. */
int mbox_sync_full(struct mbox *mb, const struct mbox_sync_cb *cb,
    bool force, char **error_r);
/* The path of REC's file. */
char *mrec_path(const struct mbox *mb, const struct mrec *rec);
/* Look REC's file up again after another session renamed it: 1 found
   (REC updated), 0 gone, -1 error. */
int mrec_refind(struct mbox *mb, struct mrec *rec, char **error_r);
/* Put files of SCAN that the index lacks into it (under the lock). */
int mbox_assign_uids(struct mbox *mb, struct ms_scan *scan,
    char **error_r);

/* cache.c: the folder cache at mbox_sync() (flush, read what others
   added), after EXPUNGE (forget the UIDS, sorted) and at close. */
void ms_cache_sync(struct mbox *mb);
void ms_cache_expunged(struct mbox *mb, const uint32_t *uids, size_t n);
void ms_cache_close(struct mbox *mb);

/* msappend.c */
void ms_target_free(struct ms_target **t);

/* msutil.c */
/* Replace PATH with LEN bytes of DATA: PATH.tmp, fsync, rename. */
int ms_write_atomic(const char *path, const void *data, size_t len,
    char **error_r);
/* Read the whole file PATH (NUL-terminated); -1 with errno. */
int ms_read_file(const char *path, char **data_r, size_t *len_r);
/* Take the folder DIR's index lock (waiting up to the timeout); the
   lock's descriptor, or -1 with *ERROR_R. */
int ms_lock(const char *dir, char **error_r);
void ms_unlock(int fd);
/* Make DIR a Maildir (cur/ new/ tmp/, 0700); MARKER adds maildirfolder. */
int ms_maildir_make(const char *dir, bool marker, char **error_r);
/* Remove DIR and everything under it. */
int ms_remove_tree(const char *dir);
/* A base name for a new file: TIME.MusecPpidQn.HOST,S=..,W=.. */
char *ms_new_base(const struct mstore *st, uint64_t psize, uint64_t vsize);
/* A new UIDVALIDITY for the store: the time, above every one given. */
uint32_t ms_new_uidvalidity(const struct mstore *st);
/* Stat fields that show a file was rewritten. */
bool ms_stat_same(const struct stat *a, const struct stat *b);

/* msname.c */
/* The folder's directory for a valid NAME (INBOX: the root). */
char *ms_folder_dir(const struct mstore *st, const char *name);
/* NAME with "INBOX" in any case written "INBOX" (also as first level). */
char *ms_name_normalize(const char *name);
bool ms_name_is_inbox(const char *name);
/* Check NAME and set *ERROR_R and errno EINVAL when bad. */
int ms_name_check(const char *name, char **error_r);

/* msscan.c */
/* Parse a directory entry name; false when it is no Maildir file. */
bool ms_file_parse(const char *name, struct ms_file *f);
/* The info letters for FLAGS, KEYWORDS and OTHER, e.g. "FSab". */
void ms_info_letters(unsigned flags, uint32_t keywords, uint32_t other,
    char buf[64]);
/* Add the files of DIR/SUB to SCAN (not sorted). */
int ms_scan_dir(const char *dir, const char *sub, struct ms_scan *scan,
    char **error_r);
void ms_scan_sort(struct ms_scan *scan);
/* The file with base name BASE in a sorted scan, or NULL. */
struct ms_file *ms_scan_find(const struct ms_scan *scan, const char *base,
    size_t base_len);
void ms_scan_free(struct ms_scan *scan);
/* Sizes of the message from its base name, or -1 when not there. */
int ms_base_sizes(const char *base, size_t base_len, uint64_t *psize_r,
    uint64_t *vsize_r);
/* Sizes and mtime of the file PATH (reading it when the name lacks W=). */
int ms_file_sizes(const char *path, const char *base, size_t base_len,
    uint64_t *psize_r, uint64_t *vsize_r, time_t *mtime_r);

/* msindex.c */
void uidx_init(struct uidx *ix, const char *dir);
void uidx_free(struct uidx *ix);
/* Read the index when the file changed since the last read; a missing
   or damaged index is started afresh with a new UIDVALIDITY (CHANGED_R
   then tells the caller to write it). */
int uidx_refresh(struct uidx *ix, const struct mstore *st, bool *changed_r,
    char **error_r);
int uidx_write(struct uidx *ix, char **error_r);
/* Save the entries added from index FIRST on (and RECENTUID when
   RECENT): appended to the file when it is the one last read, else a
   rewrite. */
int uidx_commit(struct uidx *ix, size_t first, bool recent, char **error_r);
struct uidx_ent *uidx_find_name(struct uidx *ix, const char *base,
    size_t base_len);
struct uidx_ent *uidx_find_uid(const struct uidx *ix, uint32_t uid);
/* Give the next UID to BASE. */
struct uidx_ent *uidx_add(struct uidx *ix, const char *base,
    size_t base_len, uint64_t psize, uint64_t vsize, time_t mtime);
/* Drop the entries whose UIDs are in the sorted array UIDS. */
void uidx_remove(struct uidx *ix, const uint32_t *uids, size_t n);
/* Rebuild the name order after changes. */
void uidx_reindex(struct uidx *ix);

/* mskeywords.c */
void mskw_free(struct mskw *kw);
/* Re-read DIR's keywords file when it changed. */
int mskw_refresh(struct mskw *kw, const char *dir, char **error_r);
/* The index of NAME, or -1. */
int mskw_find(const struct mskw *kw, const char *name);
/* The index of NAME, added (under the folder lock) when missing; -1 when
   full or the name is bad (*ERROR_R set only on I/O errors). */
int mskw_add(struct mskw *kw, const char *dir, const char *name,
    char **error_r);
bool mskw_name_valid(const char *name);

#endif
