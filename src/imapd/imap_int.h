#ifndef DIRMAIL_IMAPD_IMAP_INT_H
#define DIRMAIL_IMAPD_IMAP_INT_H

/*
 * What the IMAP engine's files share: the client, the command table's
 * handlers, the output helpers and the selected folder's updates.  Not
 * used outside src/imapd.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "imapd/imap_parse.h"
#include "lib/str.h"

struct bufferevent;
struct event;
struct event_base;
struct mbox;
struct mime_part;
struct mra_session;
struct mstore;

#define IMAP_CAPABILITIES "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE " \
	"IDLE LITERAL+ UIDPLUS MOVE NAMESPACE UNSELECT CHILDREN SPECIAL-USE"

/* FETCH stops producing above this much unsent output and resumes once
   the client has read it down to IMAP_OUTPUT_LOW. */
#define IMAP_OUTPUT_HIGH	(256 * 1024)
#define IMAP_OUTPUT_LOW		(64 * 1024)
/* A client that leaves this much unread output is dropped... */
#define IMAP_OUTPUT_MAX		(16 * 1024 * 1024)
/* ...and so is one that reads nothing of it for this long. */
#define IMAP_WRITE_TIMEOUT_SECS	(5 * 60)

enum imap_state {
	IMAP_STATE_AUTH,	/* logged in, no folder selected */
	IMAP_STATE_SELECTED,
	IMAP_STATE_LOGOUT,
};

struct imap_client;

/* A command that continues after its handler returned (FETCH with much
   output, IDLE): called when the output drained, or with INPUT when a
   line came (IDLE's DONE).  Returns true when the command finished. */
typedef bool imap_resume_fn(struct imap_client *c);

/* The message last read, in CRLF form, with its MIME tree. */
struct imap_msg_cache {
	uint32_t uid;
	char *data;
	size_t len;
	struct mime_part *root;	/* parsed when first needed */
};

struct imap_client {
	struct mra_session *s;
	struct event_base *base;
	struct bufferevent *bev;
	struct event *autologout;
	enum imap_state state;
	struct imap_reader reader;

	struct mstore *st;
	struct mbox *mb;		/* the selected folder */
	uint32_t last_recent;		/* RECENT last reported */

	/* A command in progress that has not finished yet. */
	imap_resume_fn *resume;
	void *resume_ctx;
	void (*resume_abort)(struct imap_client *c);	/* frees it */

	/* How the command running now syncs before its tagged reply. */
	enum { IMAP_SYNC_NONE, IMAP_SYNC_FULL } sync;
	bool sync_uid;			/* FETCH updates carry UID */

	/* IDLE */
	bool idling;
	char *idle_tag;
	struct event *idle_watch, *idle_notify, *idle_poll;
	long idle_notify_secs;

	struct imap_msg_cache cache;

	uint64_t in_bytes, out_bytes;
	size_t in_left;			/* input counted but not taken */
	unsigned deleted, expunged;	/* for the logout line */
	int exit_status;
};

/* A command handler: ARGS are the arguments after the name (after UID
   and the sub-command for UID commands).  Sends the tagged reply unless
   it set c->resume. */
typedef void imap_cmd_fn(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid);

/* Output: everything the engine sends goes through these. */
void imap_send(struct imap_client *c, const char *data, size_t len);
void imap_puts(struct imap_client *c, const char *text);
void imap_sendf(struct imap_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Send the untagged updates the running command allows, then
   "TAG TEXT" (TEXT starts with OK, NO or BAD). */
void imap_tagged(struct imap_client *c, const char *tag, const char *text);
/* Reply to a failed store call: NO with the code its errno suggests,
   and free ERROR. */
void imap_tagged_error(struct imap_client *c, const char *tag,
    char *error, int err);
/* End the session once the output is sent. */
void imap_close(struct imap_client *c);
/* Is the unsent output above the limit for a client that never reads? */
bool imap_output_full(const struct imap_client *c);
size_t imap_output_pending(const struct imap_client *c);

/* Select NAME (EXAMINE when READONLY); the replies are sent. */
void imap_select(struct imap_client *c, const char *tag, const char *name,
    bool readonly);
void imap_unselect(struct imap_client *c);

/*
 * Sync the selected folder and send what changed: EXPUNGE (only when
 * EXPUNGES: not during FETCH, STORE or SEARCH, whose caller then skips the
 * sync entirely), FETCH FLAGS (with UID when UID), EXISTS and RECENT.
 */
void imap_sync_send(struct imap_client *c, bool uid);

/* Append "(\Seen ... kw)" for message M of the selected folder. */
struct mmsg;
void imap_append_flags(struct imap_client *c, struct str *out,
    const struct mmsg *m);
/*
 * Parse a flag list (one flag or a parenthesised list) into MF_* bits
 * and, when MB is not NULL, keyword bits (keywords created as needed;
 * KEYWORDS_R may be NULL to collect names into NAMES_R instead).
 * Returns 0, or -1 with a static *ERROR_R.
 */
int imap_parse_flags(const struct imap_arg *arg, struct mbox *mb,
    unsigned *flags_r, uint32_t *keywords_r, char ***names_r,
    const char **error_r);

/*
 * The messages of the selected folder that SET (a sequence set, or a UID
 * set when UID) names, as sequence numbers in ascending order.  Returns
 * the count (the array in *SEQS_R, free it), or -1 when SET is not a set.
 */
ssize_t imap_seqs(struct imap_client *c, const char *set, bool uid,
    uint32_t **seqs_r);

/*
 * Message SEQ of the selected folder in CRLF form (cached); with ROOT_R
 * also its MIME tree.  Returns 0, or -1 when it cannot be read (expunged
 * meanwhile).
 */
int imap_msg_get(struct imap_client *c, uint32_t seq, const char **data_r,
    size_t *len_r, const struct mime_part **root_r);
void imap_msg_cache_clear(struct imap_client *c);

/* Command handlers. */
imap_cmd_fn imap_cmd_fetch;
imap_cmd_fn imap_cmd_search;
imap_cmd_fn imap_cmd_store;
imap_cmd_fn imap_cmd_copy;
imap_cmd_fn imap_cmd_move;
imap_cmd_fn imap_cmd_expunge;
imap_cmd_fn imap_cmd_idle;
imap_cmd_fn imap_cmd_append;
imap_cmd_fn imap_cmd_select;
imap_cmd_fn imap_cmd_examine;
imap_cmd_fn imap_cmd_create;
imap_cmd_fn imap_cmd_delete;
imap_cmd_fn imap_cmd_rename;
imap_cmd_fn imap_cmd_subscribe;
imap_cmd_fn imap_cmd_unsubscribe;
imap_cmd_fn imap_cmd_list;
imap_cmd_fn imap_cmd_lsub;
imap_cmd_fn imap_cmd_status;
imap_cmd_fn imap_cmd_close;
imap_cmd_fn imap_cmd_unselect;

/* IDLE: a line arrived while idling (DONE ends it). */
void imap_idle_input(struct imap_client *c, const char *line, size_t len);
void imap_idle_stop(struct imap_client *c);

#endif
