#ifndef DIRMAIL_DELIVERY_SMTP_SESSION_H
#define DIRMAIL_DELIVERY_SMTP_SESSION_H

/*
 * One connection of the smtp agent to an SMTP or LMTP server, shared by
 * smtp_session.c (connection, greeting, EHLO, cache), smtp_xact.c (the
 * mail transaction), smtp_tls.c and smtp_sasl.c.
 */

#include <stdbool.h>
#include <stddef.h>

#include "delivery/smtp.h"

/* What the session waits for; changed only by session_enter(). */
enum smtpc_state {
	SS_CONNECT,	/* the TCP or UNIX connection */
	SS_GREETING,	/* 220 */
	SS_EHLO,	/* the reply to EHLO or LHLO */
	SS_HELO,	/* the reply to HELO */
	SS_STARTTLS,	/* the reply to STARTTLS */
	SS_TLS,		/* the TLS handshake */
	SS_LOOKUP,	/* smtp_sasl_password_maps, in the lookup thread */
	SS_AUTH,	/* a reply during AUTH */
	SS_RSET,	/* the reply to RSET before a reused transaction */
	SS_XACT,	/* replies to MAIL, RCPT, DATA */
	SS_BODY,	/* sending the message */
	SS_DOT,		/* the reply (LMTP: replies) to the final dot */
	SS_IDLE,	/* in the cache */
	SS_QUIT,	/* the reply to QUIT */
};

struct smtpc_session {
	struct bufferevent *bev;
	enum smtpc_state state;
	struct delivery *d;		/* NULL while idle */
	bool lmtp;
	char *name;			/* host name, or the socket path */
	char *desc;			/* "name[addr]", or the path */
	char *relay;			/* "name[addr]:port", or the path */
	char *tls_name;			/* the name the certificate must
					   hold, or NULL */
	struct event *timer;
	struct smtp_reply reply;
	unsigned feats;			/* SMTP_FEAT_* */
	char *mechs;			/* AUTH mechanisms offered */
	unsigned long long size_max;	/* SIZE offered, 0: no limit */
	bool tls, tls_wanted, helo_tried, broken;
	/* The transaction: MAIL, one RCPT per recipient, DATA. */
	size_t n_sent, n_replied;
	size_t *accepted, n_accepted;	/* recipients RCPT accepted */
	size_t n_dot;			/* LMTP replies after the dot */
	unsigned long long body_off;
	bool bol;
	/* AUTH */
	sasl_conn_t *sasl;
	char *sasl_user, *sasl_pass;	/* wiped when freed */
	struct sasl_lookup *lookup;	/* out in the lookup thread */
	bool auth_done;			/* AUTH done or not wanted */
	/* The connection cache. */
	char *cache_key;
	struct smtpc_session *next;
};

/* Change S's state and arm its timer for TIMEOUT seconds (0: none). */
void session_enter(struct smtpc_session *s, enum smtpc_state state,
    long timeout);

/* Send one command line (CRLF added); VISIBLE false keeps it out of the
   debug log (credentials). */
void session_send(struct smtpc_session *s, bool visible, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/*
 * S failed: CLASS/DSN/TEXT go to the recipients without a result (before
 * the transaction: the next address is tried first).  S is freed.
 */
void session_fail(struct smtpc_session *s, int class, const char *dsn,
    const char *text);

/* S failed because of the reply it just read to COMMAND (before any
   recipient was concerned): "host X said: ... (in reply to COMMAND)". */
void session_fail_reply(struct smtpc_session *s, const char *command);

/* EHLO (and TLS, AUTH) are done: go on with the next step. */
void session_ready(struct smtpc_session *s);

/* The delivery of S is over: report it, keep S for reuse or close it. */
void session_release(struct smtpc_session *s);

/* The text of S's last reply for a result: "host X said: REPLY (in reply
   to COMMAND command)".  Allocated. */
char *session_said(struct smtpc_session *s, const char *command);

/* Install S's callbacks on its bufferevent (again after STARTTLS). */
void session_set_callbacks(struct smtpc_session *s);

/* smtp_xact.c: start the transaction; a reply; more of the message. */
void xact_begin(struct smtpc_session *s);
void xact_reply(struct smtpc_session *s);
void xact_dot_reply(struct smtpc_session *s);
void xact_write_more(struct smtpc_session *s);

/* smtp_tls.c */
/* The client context for LEVEL and CAFILE, or NULL with *ERROR_R. */
SSL_CTX *tls_client_ctx(const char *cafile, char **error_r);
/* Start the handshake on S (after the 220 to STARTTLS). */
void tls_start(struct smtpc_session *s);
/* The handshake finished: check the certificate, log, EHLO again. */
void tls_connected(struct smtpc_session *s);

/* smtp_sasl.c */
/* Start AUTH on S when it is configured and offered: true when started
   (the credentials are looked up in smtpc.lookups, then replies go to
   sasl_reply(); without credentials the transaction begins). */
bool sasl_begin(struct smtpc_session *s);
void sasl_reply(struct smtpc_session *s);
/* Free S's SASL state, wiping the password. */
void sasl_session_free(struct smtpc_session *s);

#endif
