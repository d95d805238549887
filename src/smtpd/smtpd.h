#ifndef DIRMAIL_SMTPD_SMTPD_H
#define DIRMAIL_SMTPD_SMTPD_H

/*
 * smtpd: the SMTP server of the 25, 587 and 465 listeners and of the local
 * pickup socket.  One process, one libevent loop, one struct session per
 * connection.
 *
 *	smtpd.c		main: settings, sockets, privileges, the loop
 *	session.c	connections: I/O, line reading, replies, errors, close
 *	commands.c	the command table and the envelope commands
 *	esmtp.c		MAIL and RCPT parameters (SIZE, BODY, DSN, ...)
 *	data.c		DATA and BDAT: the message into the queue file
 *	sasl.c		AUTH through the Dovecot auth protocol
 *	lookup.c	restriction checks in the lookup thread
 *	pickup.c	the local pickup socket: peer credentials, headers
 */

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>
#include <event2/bufferevent.h>
#include <openssl/ssl.h>

#include "global/resolve.h"
#include "smtpd/check.h"

struct cfg;
struct anvil;
struct auth_client;
struct queue_committer;
struct queue_file;
struct queue_spares;
struct pickup;
struct str;

/* Which listener a connection came in on. */
enum smtpd_port {
	PORT_MX,		/* smtpd_listen */
	PORT_SUBMISSION,	/* submission_listen: AUTH required */
	PORT_SMTPS,		/* smtps_listen: TLS from the first byte */
	PORT_PICKUP,		/* pickup_listen: local submission */
};

/* The server's settings and shared state. */
struct smtpd_server {
	struct event_base *base;
	const char *hostname;		/* myhostname */
	const char *myorigin;
	char *banner;			/* smtpd_banner, expanded */
	const char *queue_dir;
	SSL_CTX *tls;			/* NULL: no TLS */
	bool tls_required;		/* smtpd_tls_security_level = encrypt */
	bool tls_auth_only;
	bool sasl_enable;		/* smtpd_sasl_auth_enable (port 25) */
	bool broken_sasl;		/* broken_sasl_auth_clients */
	char *const *sasl_opts;		/* smtpd_sasl_security_options */
	char *const *sasl_tls_opts;	/* smtpd_sasl_tls_security_options */
	bool helo_required;
	bool vrfy_disabled;
	int forbid_bare_newline;	/* 0 no, 1 yes, 2 normalize */
	size_t line_limit;		/* line_length_limit */
	unsigned long long size_limit;	/* message_size_limit; 0 = none */
	unsigned long long header_limit;
	unsigned long long minfree;
	unsigned rcpt_limit;
	unsigned hard_errors, soft_errors, junk_limit;
	long error_sleep;		/* seconds */
	long timeout;			/* smtpd_timeout, seconds */
	unsigned conn_count_limit, conn_rate_limit;
	unsigned msg_rate_limit, auth_rate_limit;
	struct resolve *resolve;
	struct smtpd_checks *checks;
	struct anvil *anvil;
	struct auth_client *auth;	/* NULL: SASL off everywhere */
	struct queue_committer *committer;
	struct queue_spares *spares;	/* queue files made ahead */
};

extern struct smtpd_server smtpd;

/* What the session reads next. */
enum session_state {
	S_CMD,		/* command lines */
	S_AUTH,		/* a SASL response line */
	S_DATA,		/* message text after DATA */
	S_BDAT,		/* the bytes of a BDAT chunk */
	S_BUSY,		/* waiting for authd, the disk or a delay */
	S_CLOSING,	/* flushing the last reply */
};

/* Commands counted for the disconnect log line. */
enum smtpd_count {
	CNT_HELO, CNT_EHLO, CNT_STARTTLS, CNT_AUTH, CNT_MAIL, CNT_RCPT,
	CNT_BDAT, CNT_DATA, CNT_RSET, CNT_NOOP, CNT_VRFY, CNT_HELP, CNT_QUIT,
	CNT_UNKNOWN, CNT_MAX
};

/* What a lookup is about. */
enum lookup_kind {
	LK_CONNECT,	/* mynetworks, rate-limit exceptions, client checks */
	LK_HELO,
	LK_MAIL,
	LK_RCPT,	/* checks and the recipient's expansion */
	LK_DATA,
	LK_VRFY,	/* the recipient's validity only */
};

struct session;

/* One question for the lookup thread, with copies of what it needs. */
struct lookup {
	struct session *s;		/* NULL once the session is gone */
	enum lookup_kind kind;
	bool pickup;			/* the local pickup socket */
	struct check_state st;		/* points at the copies below */
	char *client_name, *client_addr, *helo, *sender, *rcpt;
	char *sasl_username;
	void (*then)(struct session *s, struct lookup *l);
	enum smtpd_count count;		/* the command, for the log counts */
	/* The answer. */
	bool trusted, exempt;		/* LK_CONNECT */
	int refused;			/* 1: REPLY holds the refusal (for a
					   pickup LK_RCPT: a table failed) */
	struct check_reply reply;
	struct rcpt_result result;	/* LK_RCPT, LK_VRFY */
};

/* One accepted recipient. */
struct session_rcpt {
	char *orcpt;		/* "rfc822;addr" (DSN ORCPT) or as given */
	char *notify;		/* DSN NOTIFY, or NULL */
	char **final;		/* after virtual alias expansion */
};

struct session {
	struct bufferevent *bev;	/* the top of the stack (TLS or not) */
	enum smtpd_port port;
	enum session_state state;
	struct event *resume_ev;	/* run the input loop again */
	struct event *delay_ev;		/* the error sleep */
	char client_addr[64];		/* "192.0.2.1", "::1" */
	char client_name[256];		/* verified name, or "unknown" */
	char *client_id;		/* "name[addr]" */
	unsigned client_port;
	char local_addr[64];
	unsigned local_port;
	bool anvil_counted;
	bool trusted;			/* mynetworks, or the pickup socket */
	bool rate_exempt;
	struct pickup *pickup;		/* pickup.c: the local client, or NULL */

	bool tls;			/* TLS is up (or being set up: 465) */
	SSL *ssl;
	bool tls_shut;			/* close_notify sent */
	unsigned close_polls;		/* session.c: waiting to close */
	char *helo;
	bool esmtp;
	char *sasl_username, *sasl_method;
	struct auth_client_request *auth_req;
	struct lookup *lookup;		/* the question being answered */
	char *rcpt_addr, *rcpt_orcpt, *rcpt_notify;	/* RCPT in progress */
	bool unauth_pipelining;		/* the command being handled */
	char *reject_all;		/* connect-time refusal (no delay) */
	char *pending;			/* replies held during an error sleep */
	bool output_full;		/* input stopped: replies unread */

	/* The transaction. */
	bool has_mail;
	char *sender;
	bool smtputf8, body_8bit;
	char *dsn_envid, *dsn_ret;
	struct session_rcpt *rcpts;
	size_t n_rcpts, rcpts_cap;
	unsigned rcpt_tries;

	/* Message text. */
	struct queue_file *qf;
	int data_state;			/* data.c's parser state */
	bool in_header;
	int header_nl;			/* data.c: blank-line detection */
	unsigned long long header_bytes, msg_bytes;
	const char *data_error;		/* the reply once the text ends */
	unsigned long long bdat_left;
	bool bdat_last, bdat_started, bdat_discard;
	bool commit_pending;		/* the queue file is being synced */
	char *queue_id;			/* of the message being received */
	char *bdat_reply;		/* the refusal of a discarded BDAT */
	bool bol_crlf;			/* data.c: the line began after CRLF */

	unsigned errors, junk;
	enum smtpd_count cmd_count;	/* the command being handled */
	unsigned count_ok[CNT_MAX], count_all[CNT_MAX];
};

/* session.c */

/* A new connection FD on the listener for PORT. */
void session_accept(int fd, enum smtpd_port port);
/* Queue one reply line (CRLF added). */
void session_reply(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* As session_reply() for a refusal: counts an error, drops the client
   after smtpd_hard_error_limit, slows it down after the soft limit. */
void session_reply_error(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Wait (stop reading input) until session_resume(). */
void session_pause(struct session *s);
/* Go back to state STATE and read input again (from the event loop). */
void session_resume(struct session *s, enum session_state state);
/* Send what is queued, then close. */
void session_close(struct session *s);
/* Forget the transaction (RSET, end of message, STARTTLS). */
void session_reset(struct session *s);
/* Log a refusal: "NOQUEUE: reject: STAGE from CLIENT: REPLY; from=<> to=<>
   proto=ESMTP helo=<h>". */
void session_log_reject(struct session *s, const char *stage,
    const char *reply, const char *rcpt);
/* "SMTP", "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA". */
const char *session_protocol(const struct session *s);
/* The TLS upgrade after "220 Ready to start TLS". */
void session_starttls(struct session *s);

/* commands.c */

/* Handle the command line LINE (NUL-terminated, no CRLF).  MORE tells
   whether more input was already buffered behind it. */
void command_dispatch(struct session *s, char *line, bool more);

/* esmtp.c */

/* Decode RFC 3461 xtext IN.  Allocated, or NULL when malformed. */
char *xtext_decode(const char *in);
/* Parse the MAIL parameters in ARGS into S.  Returns 0, or -1 after
   replying. */
int esmtp_mail_params(struct session *s, char *args,
    unsigned long long *size_r);
/* Parse the RCPT parameters ARGS.  Returns 0 with *ORCPT_R and *NOTIFY_R
   (allocated or NULL), or -1 after replying. */
int esmtp_rcpt_params(struct session *s, char *args, char **orcpt_r,
    char **notify_r);

/* data.c */

/* DATA: start the message (after checks). */
void data_start(struct session *s, char *args);
/* BDAT SIZE [LAST]. */
void bdat_start(struct session *s, char *args);
/* Feed the input buffer to the DATA or BDAT reader.  Returns false when
   it needs more input. */
bool data_input(struct session *s);
/* Drop a message being received (connection lost, RSET). */
void data_abort(struct session *s);

/* lookup.c */

/* Start and stop the lookup thread. */
void lookup_init(void);
void lookup_deinit(void);
/* Pause S, answer KIND for it (about RCPT for LK_RCPT and LK_VRFY) in
   the lookup thread, then call THEN(S, L) in the loop with S in S_CMD;
   S reads input again afterwards unless THEN paused or closed it. */
void lookup_start(struct session *s, enum lookup_kind kind, const char *rcpt,
    void (*then)(struct session *s, struct lookup *l));
/* Drop the answer S waits for (S goes away). */
void lookup_forget(struct session *s);

/* sasl.c */

/* The mechanisms S may use, space-separated, or NULL when AUTH is not
   offered.  Allocated. */
char *sasl_offer(struct session *s);
/* AUTH MECH [INITIAL]. */
void sasl_auth(struct session *s, char *args);
/* A response line while in S_AUTH. */
void sasl_response(struct session *s, char *line);
/* Drop a pending authentication. */
void sasl_abort(struct session *s);

/* pickup.c: connections on the pickup socket only. */

/* Read the client's uid and pid (SO_PEERCRED) from FD into S. */
void pickup_accept(struct session *s, int fd);
/* Free S's pickup state; a no-op when S has none. */
void pickup_free(struct session *s);
/* Write the uid= and login= attributes to QF and log "ID: uid=N
   from=<sender>". */
void pickup_envelope(struct session *s, struct queue_file *qf);
/* Append the local Received: header (with DATE) to H. */
void pickup_received(struct session *s, struct str *h, const char *date);
/* Hold the header of the new message back until its end is seen. */
void pickup_begin(struct session *s);
/* Message text for S's queue file (the header is held back). */
void pickup_write(struct session *s, const void *data, size_t len);
/* The text is complete: write what is held, with the added headers. */
void pickup_finish(struct session *s);
/* Drop what is held; a no-op for other sessions. */
void pickup_abort(struct session *s);

#endif
