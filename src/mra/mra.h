#ifndef DIRMAIL_MRA_MRA_H
#define DIRMAIL_MRA_MRA_H

/*
 * What imapd and pop3d share: the login side and the hand-over of a
 * logged-in session to a mail process that runs as the mailbox owner.
 *
 * Processes (doc/mra.md):
 *   login	the service's main process, dirmail_user: listeners, TLS,
 *		the protocol before login (CAPABILITY, STARTTLS/STLS, LOGIN,
 *		AUTHENTICATE, USER/PASS, AUTH...), authentication through
 *		authd's auth-client socket, then a byte proxy between the
 *		client (TLS or not) and the mail process.  One event loop,
 *		many connections.
 *   spawner	forked before the login process drops root; keeps root and
 *		only does this: given a finished login (authd's cookie), it
 *		asks authd's auth-userdb socket for the user (REQUEST, as
 *		Dovecot's master does), checks uid/gid against
 *		first_valid_uid/last_valid_uid, forks a mail process that
 *		becomes the owner (setgroups, setgid, setuid: never root) and
 *		calls the engine.  The login process can never choose a uid.
 *   mail	one per logged-in session: the protocol engine (imap or
 *		pop3) over a plaintext UNIX socket pair to the login process.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct cfg;

/* A logged-in session, as the engine gets it. */
struct mra_session {
	int fd;			/* the stream to the login process */
	const char *service;	/* "imap" or "pop3" */
	const char *user;	/* the login name authd returned */
	uid_t uid;
	gid_t gid;
	const char *home;	/* userdb home, "" when none */
	const char *mail;	/* the mail location, expanded and without
				   its "maildir:" prefix: the Maildir root */
	bool tls;		/* the client's connection is TLS */
	bool secured;		/* TLS or loopback */
	const char *rip, *lip;	/* client and local address */
	unsigned rport, lport;
	const char *mech;	/* how the user logged in: PLAIN, LOGIN,
				   USER (POP3 USER/PASS) */
	const char *login_tag;	/* IMAP: the tag of the LOGIN or
				   AUTHENTICATE to answer; NULL for POP3 */
	const unsigned char *input;	/* what the client sent after the
				   login command (pipelined), to be read
				   before anything from FD */
	size_t input_len;
	const struct cfg *cfg;
};

/*
 * The protocol engine: serve S to its end (the client logs out, the
 * connection closes, the autologout timer fires).  Called in the mail
 * process, already running as S->uid/S->gid.  It answers the login first
 * (IMAP: "TAG OK [CAPABILITY ...] Logged in"; POP3: "+OK Logged in.").
 * Returns the process's exit status.
 */
typedef int mra_engine_fn(struct mra_session *s);

/*
 * main() of imapd (SERVICE "imap") and pop3d ("pop3"): options and
 * configuration as every service (daemon_opts.h), the spawner, the
 * listeners dirmaild passed (imap_listen/imaps_listen or
 * pop3_listen/pop3s_listen), the login loop.  ENGINE runs in each mail
 * process.
 */
int mra_main(const char *service, int argc, char **argv,
    mra_engine_fn *engine);

#endif
