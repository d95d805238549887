#ifndef DIRMAIL_POP3D_POP3_H
#define DIRMAIL_POP3D_POP3_H

/*
 * The POP3 engine (RFC 1939, 2449): the TRANSACTION and UPDATE states of
 * a logged-in session, run in the mail process as the mailbox owner.
 * Everything before login (USER, PASS, AUTH, STLS, CAPA) is the login
 * side's (src/mra).
 */

#include "mra/mra.h"

/*
 * Serve S until the client quits, the connection closes or the
 * autologout timer fires.  Answers the login first ("+OK Logged in.",
 * or "-ERR [SYS/TEMP] ..." when INBOX cannot be opened), reads
 * S->input before anything from S->fd, and logs the session's counts at
 * the end.  The messages are INBOX as it was at login; deletions are
 * applied only at QUIT.  Returns the process's exit status.
 */
int pop3_engine(struct mra_session *s);

#endif
