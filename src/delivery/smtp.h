#ifndef DIRMAIL_DELIVERY_SMTP_H
#define DIRMAIL_DELIVERY_SMTP_H

/*
 * The smtp delivery agent: the SMTP and LMTP client behind qmgr's
 * transports smtp, relay and lmtp (doc/delivery-protocol.md).  One
 * process, one event loop: a delivery (one request of qmgr) resolves its
 * nexthop on a worker thread, then runs a session (one connection to a
 * server) through its states; sessions are kept idle for the next
 * delivery to the same nexthop.
 *
 *	smtp.c		main, the private/smtp socket, requests and replies
 *	smtp_deliver.c	a delivery: nexthop, addresses, results
 *	smtp_session.c	a connection: connect, greeting, EHLO, STARTTLS, cache
 *	smtp_xact.c	MAIL, RCPT, DATA, the message and its replies
 *	smtp_tls.c	client TLS: context, certificate checks, the log line
 *	smtp_sasl.c	AUTH through Cyrus SASL
 *	smtp_proto.c	what needs no I/O (smtp_proto.h)
 */

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>
#include <sasl/sasl.h>

#include "delivery/dns.h"
#include "delivery/smtp_proto.h"
#include "global/dproto.h"

struct event_base;
struct event;
struct bufferevent;
struct maplist;
struct worker;
struct cfg;

enum smtpc_tls_level {
	TLS_LEVEL_NONE,
	TLS_LEVEL_MAY,
	TLS_LEVEL_ENCRYPT,
	TLS_LEVEL_VERIFY,
	TLS_LEVEL_SECURE,
};

/* The agent's settings and shared state. */
struct smtpc_settings {
	struct event_base *base;
	struct worker *dns;
	const char *queue_dir;
	const char *helo_name;
	unsigned smtp_port, lmtp_port;
	long connect_timeout, helo_timeout, data_done_timeout, cache_time;
	enum smtpc_tls_level tls_level;
	SSL_CTX *tls_ctx;
	bool sasl_enable;
	struct maplist *sasl_maps;	/* used in the lookups thread only */
	struct worker *lookups;		/* one thread: table lookups */
	unsigned sasl_flags, sasl_tls_flags;	/* SASL_SEC_* */
};

extern struct smtpc_settings smtpc;

/* One recipient's result. */
struct smtpc_rcpt {
	int class;		/* 0 while unknown */
	char *dsn, *relay, *text;
};

struct smtpc_session;

/* One request of qmgr being delivered. */
struct delivery {
	struct dproto_request req;
	struct smtpc_rcpt *res;		/* one per req.rcpts */
	bool lmtp;
	struct smtp_nexthop nh;
	char *cache_key;		/* transport and nexthop */
	int fd;				/* the queue file */
	double arrival;			/* of the message, for delay= */
	struct dns_result dns;
	size_t next_addr;		/* the next of dns.t to try */
	size_t no_tls_addr;		/* 1 + the address where TLS failed */
	/* Why the last address failed, for when none is left. */
	int last_class;
	char *last_dsn, *last_text;
	struct smtpc_session *sess;
	/* Called once every recipient has its result. */
	void (*done)(struct delivery *d, void *ctx);
	void *ctx;
};

/* smtp_deliver.c */

/* Start delivering D (its request filled in); D->done runs at the end. */
void delivery_start(struct delivery *d);

/* Resolve D's nexthop and connect (when no idle connection served). */
void delivery_connect(struct delivery *d);

/* Free D (after its done callback, or when qmgr went away first). */
void delivery_free(struct delivery *d);

/* Give recipient I of D its result (the first one given wins). */
void delivery_set(struct delivery *d, size_t i, int class, const char *dsn,
    const char *relay, const char *text);

/* Give every recipient of D without a result this one. */
void delivery_set_all(struct delivery *d, int class, const char *dsn,
    const char *relay, const char *text);

/* The connection attempt at the current address failed before any
   recipient got a result: remember why and try the next address. */
void delivery_next_address(struct delivery *d, int class, const char *dsn,
    const char *text);

/* Every recipient has its result (or the session ended): report. */
void delivery_finish(struct delivery *d);

/* smtp_session.c */

/* Connect to address D->dns.t[I] (or D's UNIX socket) for D. */
void session_connect(struct delivery *d, size_t i);

/* Hand D an idle connection to its nexthop: true when there was one. */
bool session_reuse(struct delivery *d);

/* Close every idle connection (at exit). */
void session_cache_flush(void);

#endif
