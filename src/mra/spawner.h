#ifndef DIRMAIL_MRA_SPAWNER_H
#define DIRMAIL_MRA_SPAWNER_H

/*
 * The spawner (see mra.h and doc/mra.md) and the messages between it and
 * the login process, over a SOCK_SEQPACKET pair: one datagram per
 * message, so that no message is ever split or merged.
 *
 *   login -> spawner	a hand-over: the text header below, an LF, the
 *			client's pipelined input; the mail process's end of
 *			a new socket pair rides along (SCM_RIGHTS).
 *   mail  -> login	"OK\tSEQ\tMPID" once the mail process knows its
 *			user and is about to become it, or "FAIL\tSEQ\tWHY"
 *			(a temporary failure).  The mail process sends it on
 *			its copy of the spawner's socket and closes that.
 *   spawner -> login	"FAIL\tSEQ\tWHY" when it cannot even fork.
 */

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include "mra/mra.h"

struct cfg;

/* The largest message either way: the header and pipelined input. */
#define MRA_HANDOVER_MAX	(64 * 1024)

/* A finished login on its way to a mail process. */
struct mra_handover {
	unsigned long long seq;		/* the login process's number */
	unsigned int auth_id;		/* authd's request id */
	const char *cookie;		/* authd's connection cookie (hex) */
	const char *user;		/* as authd's OK named it (logs) */
	const char *mech;
	const char *tag;		/* "" for POP3 */
	const char *rip, *lip;
	unsigned rport, lport;
	bool tls, secured;
	const char *session_id;
	const unsigned char *input;
	size_t input_len;
};

/*
 * Fork the spawner, which stays root (call before dropping privileges
 * and before reading any secret a mail process must not inherit).  In
 * the spawner: close every other descriptor, reopen the log (FOREGROUND:
 * stderr), serve hand-overs for SERVICE with ENGINE until the login
 * process's end closes, then exit.  Returns the login process's end.
 */
int mra_spawner_start(const struct cfg *cfg, const char *service,
    mra_engine_fn *engine, bool foreground);

/* Send H with the mail process's socket FD on SOCK.  0, or -1 (errno). */
int mra_handover_send(int sock, const struct mra_handover *h, int fd);

/*
 * Parse the hand-over MSG (LEN bytes, NUL-terminated beyond, modified in
 * place) into *H, pointing into MSG.  0, or -1 when malformed.
 */
int mra_handover_parse(char *msg, size_t len, struct mra_handover *h);

/*
 * Parse a reply to the login process: 1 "OK" with *MPID_R, 0 "FAIL"
 * with *REASON_R (pointing into MSG), -1 malformed.  *SEQ_R either way.
 */
int mra_reply_parse(char *msg, unsigned long long *seq_r, pid_t *mpid_r,
    const char **reason_r);

/* Send "OK" or "FAIL" (REASON) for SEQ on SOCK.  Errors are ignored: the
   login process may be gone. */
void mra_reply_send(int sock, unsigned long long seq, pid_t mpid,
    const char *reason);

/* What a mail process needs from the spawner. */
struct mra_spawner {
	const struct cfg *cfg;
	const char *service;
	mra_engine_fn *engine;
	pid_t login_pid;
	int sock;			/* to the login process */
	int sigfd;			/* the spawner's SIGCHLD (blocked) */
	const char *userdb_path;	/* authd's auth-userdb socket */
};

/*
 * In a process the spawner just forked: ask authd for the user of H,
 * check it, tell the login process, become the user and run the engine
 * on FD.  Never returns.
 */
void mra_mail_process(const struct mra_spawner *sp,
    const struct mra_handover *h, int fd) __attribute__((noreturn));

#endif
