#ifndef DIRMAIL_LDAP_LDAPC_ASYNC_INT_H
#define DIRMAIL_LDAP_LDAPC_ASYNC_INT_H

/*
 * The asynchronous LDAP pool, internal to src/ldap: what its two halves
 * share.  ldapc_async.c holds the pool and its operations,
 * ldapc_setup.c sets a connection up (connect, TLS, service bind, with
 * failover across URIs).
 */

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <event2/event.h>
#include <ldap.h>

#include "ldap/ldapc.h"
#include "ldap/ldapc_int.h"
#include "lib/str.h"

/* A search, a user's bind, or the pool's own bind after connecting. */
enum op_kind { OP_SEARCH, OP_BIND, OP_SERVICE_BIND };

struct ldapc_op {
	struct ldapc_pool *pool;
	struct aconn *conn;		/* NULL while queued */
	TAILQ_ENTRY(ldapc_op) link;	/* in the pool's queue or CONN */
	enum op_kind kind;
	int msgid;
	bool retried;
	struct event *timer;
	char *base, *filter, **attrs;
	enum ldapc_scope scope;
	bool base_may_be_missing;
	struct ldapc_result *res;
	size_t res_cap;
	char *dn, *pw;
	ldapc_search_cb *search_cb;
	ldapc_bind_cb *bind_cb;
	void *ctx;
};

TAILQ_HEAD(op_list, ldapc_op);

/*
 * How far a connection is set up.  Every step waits in the event loop:
 * the TCP connect for the socket to become writable, StartTLS for its
 * reply, the service bind as an operation.  Only the TLS handshake
 * (inside ldap_install_tls(), bounded by net_timeout) and a SASL bind
 * (Cyrus SASL drives ldap_sasl_interactive_bind_s()) block.
 */
enum conn_state {
	CONN_CONNECTING,	/* the TCP connect is in progress */
	CONN_STARTTLS,		/* the StartTLS request is sent */
	CONN_BINDING,		/* the service bind is sent */
	CONN_READY,		/* bound as the pool's identity */
};

struct aconn {
	struct ldapc_pool *pool;
	LIST_ENTRY(aconn) link;
	LDAP *ld;		/* NULL between two URIs */
	size_t cur;		/* the URI it is connected to */
	time_t connected_at;
	struct event *ev;	/* the socket: writable, then readable */
	struct event *timer;	/* the connect and StartTLS time limit */
	enum conn_state state;
	bool implicit_tls;	/* an ldaps:// URI: TLS once connected */
	int tls_msgid;		/* the StartTLS request */
	/* Failover while setting up: the next URI to look at, whether
	   those marked down are tried now, those tried, what failed. */
	size_t next;
	bool try_down;
	bool *tried;
	struct str errors;
	struct op_list ops;
	size_t nops;
};

struct ldapc_pool {
	struct event_base *base;
	struct ldapc_settings set;	/* its strings: NULL, or below */
	char **uris;
	size_t nuris;
	time_t *down_until;
	struct ldapc_ident id;		/* the service bind */
	struct ldapc_tls tls;
	unsigned int max_conns, nconns;
	bool exclusive;
	LIST_HEAD(conn_list, aconn) conns;
	struct op_list queue;
	struct event *kick;
};

/* ldapc_async.c: the pool and its operations. */

/* Return "REASON (DIAGNOSTIC)" for RC, with DIAG_IN as the diagnostic or,
   when NULL, LD's (LD may be NULL); allocated. */
char *pool_reason(LDAP *ld, int rc, const char *diag_in);

/* Free OP, which must be in no list, wiping its password. */
void pool_op_free(struct ldapc_op *op);

/* Take OP out of its connection or the pool's queue; stop its timer. */
void pool_op_detach(struct ldapc_op *op);

/* Fail every operation queued on POOL with ERROR, calling back. */
void pool_fail_queue(struct ldapc_pool *pool, const char *error);

/* Have the event loop send POOL's queued operations, if there are any. */
void pool_kick(struct ldapc_pool *pool);

/* Event callback (ARG: the struct aconn): read what arrived on its socket
   and answer its operations. */
void aconn_input(evutil_socket_t fd, short what, void *arg);

/* Event callback (ARG: the struct ldapc_op): the operation timed out. */
void pool_op_timeout(evutil_socket_t fd, short what, void *arg);

/* Put OP on CONN and send it; false when CONN is unusable (OP stays on
   CONN). */
bool aconn_send(struct aconn *conn, struct ldapc_op *op);

/* ldapc_setup.c: setting a connection up. */

/* Open a new connection on POOL and start setting it up; when no URI can
   be set up, close it and fail POOL's queue. */
void aconn_open(struct ldapc_pool *pool);

/* Mark CONN ready for operations and kick the pool. */
void aconn_ready(struct aconn *conn);

/* Read the reply to CONN's StartTLS request, if it arrived; then make the
   handshake and bind, or fail over. */
void aconn_starttls_reply(struct aconn *conn);

/* Take CONN out of its pool and free it, with its handle and its service
   bind, if any; its other operations must be gone. */
void aconn_close(struct aconn *conn);

#endif
