#ifndef DIRMAIL_POP3D_POP3_INT_H
#define DIRMAIL_POP3D_POP3_INT_H

/*
 * Inside the POP3 engine: the session, shared by the protocol side
 * (pop3_engine.c) and the mailbox side (pop3_mailbox.c).
 */

#include <stdbool.h>
#include <stdint.h>

#include "lib/str.h"
#include "mra/mra.h"
#include "pop3d/pop3_text.h"

/* One message of the list as it was at login. */
struct pop3_msg {
	uint32_t uid;
	uint64_t size;		/* octets with CRLF line ends */
	bool deleted;		/* DELE'd in this session */
	bool seen;		/* RETR'd: gets \Seen at the end */
};

enum pop3_state {
	POP3_TRANSACTION,
	POP3_UPDATE,		/* QUIT: deletions being applied */
	POP3_CLOSING,		/* flushing the last reply */
};

struct pop3 {
	struct mra_session *s;
	struct event_base *base;
	struct bufferevent *bev;
	struct mstore *store;
	struct mbox *mbox;
	enum pop3_state state;
	const char *uidl_format;

	struct pop3_msg *msgs;
	uint32_t count;		/* messages at login */
	uint32_t uidvalidity;
	uint64_t size;		/* their total size */

	unsigned bad;		/* bad commands so far */
	bool skipping;		/* dropping the rest of an overlong line */
	bool eof;		/* the client closed its side */
	bool quit;		/* QUIT was given: deletions applied */

	/* The message being sent by RETR or TOP. */
	int msg_fd;
	bool msg_top;
	struct pop3_stuff stuff;
	struct str chunk;

	/* Counts for the logout line, as Dovecot logs them. */
	unsigned top_count, retr_count, expunged;
	uint64_t top_bytes, retr_bytes;
	const char *reason;	/* why the session ended */
	int status;
};

/* Open INBOX and take its message list as it is now (P->msgs, count,
   size, uidvalidity).  Returns 0, or -1 with the error logged. */
int pop3_mailbox_open(struct pop3 *p);

/*
 * Apply the session's changes to INBOX: \Seen on what was retrieved,
 * and with EXPUNGE (QUIT) the removal of what was deleted
 * (P->expunged counts it).  Returns 0, or -1 when the deletions failed.
 */
int pop3_mailbox_update(struct pop3 *p, bool expunge);

/* The UIDL format to use: pop3_uidl_format, or Dovecot's default when
   the configured one cannot give valid UIDLs (logged). */
const char *pop3_uidl_format(const struct mra_session *s);

#endif
