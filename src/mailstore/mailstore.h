#ifndef DIRMAIL_MAILSTORE_MAILSTORE_H
#define DIRMAIL_MAILSTORE_MAILSTORE_H

/*
 * The mail store: a user's Maildir++ (the layout the local delivery agent
 * writes) as imapd and pop3d see it.  doc/mailstore.md describes the
 * files.
 *
 * Layout: the root (e.g. ~/Maildir) is INBOX (cur/ new/ tmp/); every
 * other folder is a subdirectory ".Name" (hierarchy separator '.', so
 * "Lists/dev" is ".Lists.dev"); names are kept in modified UTF-7 (RFC
 * 3501 5.1.3) exactly as IMAP clients send them.  Flags live in the file
 * names (":2,DFRST" and keyword letters a-z, mapped by
 * "dirmail-keywords"); each folder keeps a UID index "dirmail-uidlist"
 * (UIDVALIDITY, UIDNEXT, uid → base name and sizes) that survives
 * restarts; a lost index gets a new UIDVALIDITY.
 *
 * Used by one process per session, running as the mailbox owner; several
 * sessions (and the delivery agent) work on one folder at once: every
 * change to the index is made under a lock and every reader notices other
 * writers' changes at its next mbox_sync().
 *
 * Functions returning int: 0 on success (or a count/index >= 0 where
 * said), -1 with *ERROR_R (allocated, free it) on failure.  A name that
 * does not exist gives -1 with errno ENOENT, a name that exists already
 * EEXIST, a bad name EINVAL, so callers can answer NO [NONEXISTENT] /
 * [ALREADYEXISTS] / [CANNOT].
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct mstore;			/* one user's store */
struct mbox;			/* one open folder */

/* System flags. */
#define MF_SEEN		0x01
#define MF_ANSWERED	0x02
#define MF_FLAGGED	0x04
#define MF_DELETED	0x08
#define MF_DRAFT	0x10
#define MF_RECENT	0x20	/* session flag: new to this session */

/* Folder attributes for LIST. */
#define MA_NOSELECT		0x001
#define MA_HASCHILDREN		0x002
#define MA_HASNOCHILDREN	0x004
#define MA_SUBSCRIBED		0x008
#define MA_NONEXISTENT		0x010	/* subscribed but not there */
#define MA_DRAFTS		0x020	/* RFC 6154 special use */
#define MA_SENT			0x040
#define MA_TRASH		0x080
#define MA_JUNK			0x100
#define MA_ARCHIVE		0x200

/* The most keywords a folder can have (letters a-z in file names). */
#define MSTORE_MAX_KEYWORDS	26

/* Open the store rooted at ROOT (the Maildir path), creating INBOX when
   missing.  Runs as the owner: nothing is ever chowned. */
int mstore_open(const char *root, struct mstore **st_r, char **error_r);
void mstore_close(struct mstore **st);

/*
 * Is NAME a folder name we accept: modified UTF-7 that decodes cleanly,
 * no "/" or "\\", no empty hierarchy level, no level "." or "..", no
 * leading "~" or ".", at most 255 bytes, at most 16 levels.  "INBOX" in
 * any case is the inbox.  *WHY_R (static) says why not.
 */
bool mstore_name_valid(const char *name, const char **why_r);

/* Every folder, INBOX first, with its MA_* attributes.  A parent that is
   only a hierarchy level has MA_NOSELECT; a subscribed name that does
   not exist comes as MA_SUBSCRIBED | MA_NONEXISTENT | MA_NOSELECT (for
   LSUB; plain LIST leaves it out). */
typedef void mstore_list_cb(const char *name, unsigned attrs, void *ctx);
int mstore_list(struct mstore *st, mstore_list_cb *cb, void *ctx,
    char **error_r);
int mstore_create(struct mstore *st, const char *name, char **error_r);
/* Delete (refused for INBOX; a folder with children becomes \Noselect
   as RFC 3501 says). */
int mstore_delete(struct mstore *st, const char *name, char **error_r);
/* Rename with its children; INBOX: move its messages into the new folder
   and leave INBOX empty (RFC 3501). */
int mstore_rename(struct mstore *st, const char *from, const char *to,
    char **error_r);
int mstore_subscribe(struct mstore *st, const char *name, bool on,
    char **error_r);

/*
 * Create and subscribe each of NAMES that is missing (mail_auto_mailboxes):
 * Drafts, Sent, Trash, Junk, Archive get their special-use attribute.
 */
int mstore_auto_mailboxes(struct mstore *st, char *const *names,
    char **error_r);

struct mstore_status {
	uint32_t messages, recent, unseen, uidnext, uidvalidity;
};
/* STATUS without selecting (syncs the index like mbox_open would). */
int mstore_status(struct mstore *st, const char *name,
    struct mstore_status *status, char **error_r);

/*
 * Append a message (DATA, LEN bytes, CRLF or LF line ends: stored with
 * LF as the delivery agent does) to folder NAME with FLAGS (MF_*, not
 * MF_RECENT), KEYWORDS (NULL-terminated names or NULL) and INTERNALDATE
 * (0: now).  Written to tmp/, fsynced, moved into cur/, given the next
 * UID.  The folder's UIDVALIDITY and the new UID in *UIDVALIDITY_R and
 * *UID_R (UIDPLUS APPENDUID).
 */
int mstore_append(struct mstore *st, const char *name, const void *data,
    size_t len, unsigned flags, char *const *keywords, time_t internaldate,
    uint32_t *uidvalidity_r, uint32_t *uid_r, char **error_r);

/* One message of an open folder. */
struct mmsg {
	uint32_t uid;
	unsigned flags;		/* MF_* */
	uint32_t keywords;	/* bit i: mbox_keyword_name(i) */
	uint64_t size;		/* RFC822.SIZE: with CRLF line ends */
	uint64_t psize;		/* bytes in the file (LF line ends) */
	time_t internaldate;	/* the file's mtime */
};

/* Open folder NAME; READONLY for EXAMINE (flags are not changed, \Recent
   not taken).  The sequence numbers are 1..mbox_count(). */
int mbox_open(struct mstore *st, const char *name, bool readonly,
    struct mbox **mb_r, char **error_r);
void mbox_close(struct mbox **mb);

const char *mbox_name(const struct mbox *mb);
bool mbox_readonly(const struct mbox *mb);
uint32_t mbox_uidvalidity(const struct mbox *mb);
uint32_t mbox_uidnext(const struct mbox *mb);
uint32_t mbox_count(const struct mbox *mb);
uint32_t mbox_recent(const struct mbox *mb);
/* The sequence number of the first message without \Seen, 0 if none. */
uint32_t mbox_first_unseen(const struct mbox *mb);
/* Message SEQ (1..mbox_count()); NULL when out of range. */
const struct mmsg *mbox_msg(const struct mbox *mb, uint32_t seq);
/* The sequence number of UID, 0 if not there. */
uint32_t mbox_seq_of_uid(const struct mbox *mb, uint32_t uid);

/* Keywords of the folder, in index order. */
unsigned mbox_keyword_count(const struct mbox *mb);
const char *mbox_keyword_name(const struct mbox *mb, unsigned i);
/* The index of keyword NAME (case-insensitive), added when CREATE and
   there is room; -1 when absent or full. */
int mbox_keyword_index(struct mbox *mb, const char *name, bool create);

/*
 * Bring the view up to date with the disk: mail delivered into new/ (moved
 * to cur/ and given UIDs, \Recent for this session unless readonly),
 * flags changed and messages expunged by other sessions.  Changes are
 * reported through CB before the view changes: EXPUNGE with the sequence
 * number it had (in decreasing order, as IMAP needs them), then FLAGS of
 * messages whose flags changed, then the new count through EXISTS when it
 * grew.  CB may be NULL.  EXPUNGE is called while the view still holds
 * the message; FLAGS and EXISTS after the view was updated, so
 * mbox_msg(seq) gives the new state there.  -1 with errno ESTALE when the
 * index was lost and the folder got a new UIDVALIDITY (end the session),
 * ENOENT when the folder was deleted.
 */
struct mbox_sync_cb {
	void (*expunge)(void *ctx, uint32_t seq);
	void (*flags)(void *ctx, uint32_t seq);
	void (*exists)(void *ctx, uint32_t count);
	void *ctx;
};
int mbox_sync(struct mbox *mb, const struct mbox_sync_cb *cb,
    char **error_r);

/* Open message SEQ for reading (the file as stored: LF line ends). */
int mbox_msg_open(struct mbox *mb, uint32_t seq, int *fd_r,
    char **error_r);

enum mbox_flag_op { MBOX_FLAGS_SET, MBOX_FLAGS_ADD, MBOX_FLAGS_REMOVE };
/* Change the flags (MF_*, MF_RECENT ignored) and keywords (bit mask) of
   message SEQ.  Refused (EROFS) on a read-only folder. */
int mbox_store(struct mbox *mb, uint32_t seq, enum mbox_flag_op op,
    unsigned flags, uint32_t keywords, char **error_r);

/*
 * Remove the messages with \Deleted (only those whose UID is in UIDS,
 * N_UIDS of them, when UIDS is not NULL: UID EXPUNGE), reporting each
 * through CB->expunge like mbox_sync().
 */
int mbox_expunge(struct mbox *mb, const uint32_t *uids, size_t n_uids,
    const struct mbox_sync_cb *cb, char **error_r);

/*
 * Copy message SEQ to folder DEST of the same store (a hard link when
 * possible), with its flags (\Recent set there).  The new UID and
 * DEST's UIDVALIDITY for COPYUID.
 */
int mbox_copy(struct mbox *mb, uint32_t seq, const char *dest,
    uint32_t *uidvalidity_r, uint32_t *uid_r, char **error_r);

/*
 * The folder's cache ("dirmail-cache", doc/mailstore.md): what the IMAP
 * engine computed from a message's file (a message never changes while
 * it has its UID), kept for later sessions.  Only a cache: every error is
 * ignored, and whatever it cannot vouch for reads as missing.
 */
enum mbox_cache_field {
	MBOX_CACHE_ENVELOPE,		/* the ENVELOPE list as FETCH sends it */
	MBOX_CACHE_BODYSTRUCTURE,	/* BODYSTRUCTURE, likewise */
	MBOX_CACHE_BODY,		/* BODY, likewise */
	MBOX_CACHE_SENT_DAY,		/* the Date: header's day (SEARCH
					   SENT*), as the caller encodes it */
	MBOX_CACHE_FIELDS
};
/* 1 with FIELD of message SEQ in *DATA_R and *LEN_R (valid until the
   next mbox_sync(), mbox_expunge() or mbox_close()), 0 when not cached. */
int mbox_cache_get(struct mbox *mb, uint32_t seq,
    enum mbox_cache_field field, const void **data_r, size_t *len_r);
/* Remember FIELD of message SEQ (LEN bytes of DATA, copied).  Written
   to the file in batches, at the latest by mbox_cache_flush(), the next
   mbox_sync() or mbox_close(). */
void mbox_cache_put(struct mbox *mb, uint32_t seq,
    enum mbox_cache_field field, const void *data, size_t len);
/* Write what was put so far, so that other sessions see it. */
void mbox_cache_flush(struct mbox *mb);

/* A file descriptor that becomes readable when the folder may have
   changed on disk (inotify on new/ and cur/), for IDLE; call
   mbox_watch_clear() after it fired, then mbox_sync().  -1 when the
   system has no inotify (then poll with mbox_sync()). */
int mbox_watch_fd(struct mbox *mb);
void mbox_watch_clear(struct mbox *mb);

#endif
