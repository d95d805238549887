#ifndef DIRMAIL_MRA_LOGIN_H
#define DIRMAIL_MRA_LOGIN_H

/*
 * Inside the login process of imapd and pop3d (see mra.h and
 * doc/mra.md): the server state, one client connection, the pre-login
 * protocols that drive it, authentication, the hand-over to the spawner
 * and the proxy.  Internal to src/mra.
 */

#include <sys/queue.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

#include "lib/str.h"
#include "mra/mra.h"

struct bufferevent;
struct event;
struct event_base;
struct evconnlistener;
struct auth_client;
struct auth_client_request;
struct mra_conn;

/* The longest command line before login (Dovecot: 8 KiB). */
#define MRA_LINE_MAX		8192
/* The largest IMAP literal before login. */
#define MRA_LITERAL_MAX		4096
/* Invalid commands before the connection is closed. */
#define MRA_BAD_MAX		10
/* Failed logins on one connection before it is closed. */
#define MRA_AUTH_FAIL_MAX	3
/* How long a connection may stay without logging in (Dovecot's 3 min). */
#define MRA_LOGIN_TIMEOUT_SECS	180
/* Proxy: stop reading one side while the other's output holds this. */
#define MRA_PROXY_HIGH		(256 * 1024)
/* ... and read again once it is down to this. */
#define MRA_PROXY_LOW		(64 * 1024)

/* What the client's credentials gave. */
enum mra_auth_result {
	MRA_AUTH_OK,		/* handed over: the engine answers */
	MRA_AUTH_FAILED,	/* wrong credentials */
	MRA_AUTH_TEMPFAIL,	/* authd or the spawner could not */
	MRA_AUTH_LIMIT,		/* mail_max_userip_connections */
	MRA_AUTH_CONTINUE,	/* a SASL challenge to relay */
	MRA_AUTH_ABORTED,	/* the client said "*" */
};

/* A pre-login protocol: IMAP or POP3. */
struct mra_proto {
	const char *name;		/* "imap" */
	/* Send the greeting. */
	void (*greet)(struct mra_conn *c);
	/* Handle input: consume complete commands from the client's input
	   buffer while the connection is in MRA_CMD.  Returns -1 to close. */
	int (*input)(struct mra_conn *c);
	/* An authentication started by the protocol ended with RESULT;
	   DATA is the base64 challenge for MRA_AUTH_CONTINUE. */
	void (*auth_reply)(struct mra_conn *c, enum mra_auth_result result,
	    const char *data);
};

extern const struct mra_proto mra_imap_proto;
extern const struct mra_proto mra_pop3_proto;

enum mra_state {
	MRA_CMD,		/* reading commands */
	MRA_AUTH,		/* waiting for authd or the spawner */
	MRA_AUTH_RESPONSE,	/* waiting for the client's SASL response */
	MRA_PROXY,		/* logged in: copying bytes */
	MRA_CLOSING,		/* flushing the last reply */
};

struct mra_conn {
	TAILQ_ENTRY(mra_conn) link;
	enum mra_state state;
	struct bufferevent *bev;	/* the client (TLS filter on top) */
	SSL *ssl;			/* NULL: plaintext */
	bool tls, secured;
	bool tls_shut;			/* close_notify sent */
	bool logged;			/* the disconnect line is out */
	const char *close_reason;	/* why the server closed, for the log */
	char rip[64], lip[64];
	unsigned rport, lport;
	char session_id[24];
	time_t started;
	struct event *timer;		/* pre-login timeout; close polls */
	struct event *resume_ev;	/* runs the protocol from the loop */
	int close_polls;
	unsigned bad_commands;
	unsigned auth_attempts, auth_failures;

	/* Protocol state. */
	struct str cmd;			/* IMAP: the command read so far */
	size_t literal_left;		/* IMAP: literal bytes still due */
	char *tag;			/* IMAP: the command being answered */
	char *pop3_user;		/* POP3: the USER argument */

	/* The authentication in progress or done. */
	struct auth_client_request *authreq;
	unsigned int auth_id;
	char *mech;			/* how the client logged in (session) */
	char *log_method;		/* method= in the log */
	char *user;			/* as given, then as authd returned it */
	unsigned long long spawn_seq;	/* the hand-over waiting, or 0 */
	int mail_fd;			/* its socket until it answers, or -1 */

	/* The proxy. */
	struct bufferevent *mail;	/* the mail process's socket */
	pid_t mpid;
	uint64_t bytes_in, bytes_out;
	bool client_eof, mail_eof;
};

TAILQ_HEAD(mra_conn_list, mra_conn);

/* The login process. */
struct mra_server {
	const char *service;		/* "imap", "pop3" */
	const struct mra_proto *proto;
	const struct cfg *cfg;
	struct event_base *base;
	SSL_CTX *tls;			/* NULL: no TLS */
	bool ssl_required;
	bool disable_plaintext;
	const char *greeting;
	unsigned max_userip;		/* 0: no limit */
	struct auth_client *auth;
	int spawner_fd;			/* -1: the spawner is gone */
	struct event *spawner_ev;
	struct evconnlistener **listeners;
	size_t n_listeners;
	struct mra_conn_list conns;
	unsigned long long next_seq;
	pid_t pid;
};

extern struct mra_server mra;

/* conn.c */

/* Serve the accepted client socket FD; IMPLICIT_TLS for imaps/pop3s. */
void mra_conn_accept(int fd, bool implicit_tls);

/* Queue FMT for the client (the protocol adds its line ends). */
void mra_conn_printf(struct mra_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Queue LEN bytes of BUF for the client. */
void mra_conn_write(struct mra_conn *c, const void *buf, size_t len);

/* The client's input buffer. */
struct evbuffer *mra_conn_input(struct mra_conn *c);

/*
 * The next line of input, without its line end (CRLF or LF), allocated
 * into *LINE_R with its length in *LEN_R.  Returns 1 with a line, 0 when
 * none is complete yet, -1 when the line is longer than MRA_LINE_MAX (an
 * error was logged; close the connection).
 */
int mra_conn_read_line(struct mra_conn *c, char **line_r, size_t *len_r);

/*
 * Start TLS after the protocol's "go ahead" reply was queued: plaintext
 * already read after the command is discarded, never executed.
 */
void mra_conn_starttls(struct mra_conn *c);

/* Close after the queued output went out. */
void mra_conn_close(struct mra_conn *c);

/* True when plaintext mechanisms (LOGIN, USER/PASS, AUTH PLAIN) may be
   used on C now. */
bool mra_conn_plaintext_ok(const struct mra_conn *c);

/* Process input again from the event loop (after a state change). */
void mra_conn_resume(struct mra_conn *c);

/* The proxy of C ended: flush what the client still has to get, then
   close. */
void mra_conn_end_proxy(struct mra_conn *c);

/* Free C now, logging how it ended; REASON for a pre-login disconnect. */
void mra_conn_free(struct mra_conn *c, const char *reason);

/* login.c */

/*
 * Authenticate C with MECH ("PLAIN", "LOGIN"; any case) and the base64
 * initial response IR (NULL: none, "" empty).  LOG_METHOD is how the log
 * names it, SESSION_MECH what the engine gets.  The outcome comes back
 * through the protocol's auth_reply().
 */
void mra_auth_start(struct mra_conn *c, const char *mech, const char *ir,
    const char *log_method, const char *session_mech);

/* The client's base64 RESP to a challenge ("*": abort). */
void mra_auth_continue(struct mra_conn *c, const char *resp);

/* Forget C's authentication (the connection is going). */
void mra_auth_abort(struct mra_conn *c);

/* The spawner's socket has a reply (or closed). */
void mra_spawner_input(int fd, short what, void *arg);

/* base64 of LEN bytes of DATA, allocated. */
char *mra_base64(const void *data, size_t len);

/* proxy.c */

/* Copy bytes between C's client and its mail process on FD. */
void mra_proxy_start(struct mra_conn *c, int fd);

/* Sessions of USER from RIP being served or handed over. */
unsigned mra_userip_count(const char *user, const char *rip);

/* Without the spawner, end the loop once no session is left. */
void mra_proxy_check_exit(void);

#endif
