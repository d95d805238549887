#ifndef DIRMAIL_IMAPD_IMAP_H
#define DIRMAIL_IMAPD_IMAP_H

/*
 * The IMAP4rev1 engine (RFC 3501 with IDLE, UIDPLUS, MOVE, NAMESPACE, ID,
 * ENABLE, UNSELECT, CHILDREN, LITERAL+, SPECIAL-USE) that serves a
 * logged-in session in the mail process.
 */

struct mra_session;

/*
 * Serve S: answer the login ("TAG OK [CAPABILITY ...] Logged in"), run
 * the commands in S->input and then those read from S->fd until LOGOUT,
 * the end of the connection or the autologout timer.  Logs
 * "imap(USER): Logged out in=N out=M deleted=D expunged=E" at the end.
 * Returns the process's exit status.
 */
int imap_engine(struct mra_session *s);

#endif
