#ifndef DIRMAIL_LDAP_LDAPC_H
#define DIRMAIL_LDAP_LDAPC_H

/*
 * The LDAP client shared by the ldap lookup table and, later, the LDAP
 * passdb and userdb of authd.  It wraps OpenLDAP's libldap and knows
 * nothing of mail.
 *
 * A "struct ldapc" is one logical connection: a list of server URIs
 * tried in order, one bind identity, one set of TLS and timeout
 * settings.  It connects lazily on the first request, keeps the
 * connection, and when the server goes away (LDAP_SERVER_DOWN,
 * LDAP_TIMEOUT, LDAP_CONNECT_ERROR) drops it, reconnects to the next
 * URI that answers and retries the request once.  A server that failed
 * is skipped for LDAPC_RETRY_DOWN seconds; a connection to any but the
 * first URI is dropped after that long, so the preferred server is used
 * again once it is back.  When no URI answers, the request fails with
 * -1: a directory that is down is a temporary failure, never "not
 * found".
 *
 * Secrets: the bind password (and the TLS client key) is copied into the
 * object, never logged or put in an error message, and wiped with
 * explicit_bzero() when the object is freed.
 *
 * Error messages (*ERROR_R) are allocated; the caller frees them.  They
 * name the server URI and libldap's reason, e.g. "ldap://h:389/: bind
 * failed: Invalid credentials".
 *
 * Asynchronous use (the daemons).  Every call here is synchronous and
 * bounded by the configured timeouts, which suits dirmailctl and a
 * worker process.  The event-loop variant will keep this object and
 * these settings and add, beside the synchronous calls:
 *
 *	ldapc_search_start(conn, &query, callback, ctx)
 *	ldapc_get_fd(conn)	the socket (LDAP_OPT_DESC) to watch with
 *				libevent
 *	ldapc_input(conn)	read what arrived (ldap_result() with a zero
 *				timeout) and call the callbacks with a
 *				struct ldapc_result, or with an error
 *
 * sending with ldap_search_ext() and matching replies by message id, so
 * many searches share one connection.  The connect, StartTLS and bind
 * steps become states of the same object.  Binds that check a user's
 * password change the connection's identity and cannot be pipelined
 * with searches, so authd will use a second struct ldapc, created
 * without a bind DN, for ldapc_check_password().  This is why searches
 * take a struct ldapc_query (the same one the asynchronous call will
 * take) and results come back as plain data owned by the caller.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

struct ldapc;

/* Seconds a failed server is skipped, and a fallback connection kept. */
#define LDAPC_RETRY_DOWN	60

/*
 * Append VALUE (LEN bytes, which may hold NULs) to OUT escaped for use
 * as an assertion value in a search filter (RFC 4515): "*", "(", ")",
 * "\", NUL, and any other control byte become "\XX" (two lower-case hex
 * digits).  Every byte is examined; other bytes, UTF-8 included, are
 * copied as they are.
 */
void ldapc_escape_filter_n(struct str *out, const void *value, size_t len);

/* Return VALUE escaped as ldapc_escape_filter_n() does (allocated). */
char *ldapc_escape_filter(const char *value);

/*
 * Append VALUE (LEN bytes) to OUT escaped as an attribute value of a
 * distinguished name (RFC 4514): '"', "+", ",", ";", "<", ">", "\" and
 * "=" get a backslash; a leading "#" or space and a trailing space get
 * a backslash; NUL and other control bytes become "\XX".  An empty
 * value stays empty.
 */
void ldapc_escape_dn_n(struct str *out, const void *value, size_t len);

/* Return VALUE escaped as ldapc_escape_dn_n() does (allocated). */
char *ldapc_escape_dn(const char *value);

/* Certificate checks, as libldap's LDAP_OPT_X_TLS_REQUIRE_CERT. */
enum ldapc_tls_require {
	LDAPC_TLS_NEVER,
	LDAPC_TLS_ALLOW,
	LDAPC_TLS_TRY,
	LDAPC_TLS_DEMAND,
	LDAPC_TLS_HARD,
};

/*
 * Parse "never", "allow", "try", "demand" or "hard" into *VALUE_R.
 * Returns 0, or -1 for anything else.
 */
int ldapc_tls_require_parse(const char *s, enum ldapc_tls_require *value_r);

enum ldapc_scope {
	LDAPC_SCOPE_BASE,
	LDAPC_SCOPE_ONE,
	LDAPC_SCOPE_SUB,
};

/* The settings of a connection; ldapc_new() copies what it needs. */
struct ldapc_settings {
	char *const *uris;	/* ldap://, ldaps://, ldapi:// URIs, tried
				   in order; NULL-terminated, at least one */
	const char *bind_dn;	/* NULL or "": no simple bind (anonymous);
				   with sasl_mech: the SASL authentication
				   id, if the mechanism wants one */
	const char *bind_pw;	/* the simple or SASL bind password */
	const char *sasl_mech;	/* NULL or "": simple bind; else bind with
				   this SASL mechanism (EXTERNAL, GSSAPI,
				   ...) through Cyrus SASL after connecting
				   (and StartTLS), bind_dn or not */
	const char *sasl_realm;		/* NULL: the mechanism's default */
	const char *sasl_authz_id;	/* NULL: act as the authenticated
					   identity */
	bool start_tls;		/* StartTLS after connecting; if it
				   fails, the server counts as failed:
				   there is no fallback to plain text */
	enum ldapc_tls_require tls_require_cert;
	const char *tls_ca_file;	/* NULL: libldap's default */
	const char *tls_ca_dir;		/* NULL: libldap's default */
	const char *tls_cert_file;	/* client certificate (PEM), or
					   NULL; needs tls_key_file */
	const char *tls_key_file;	/* its unencrypted PEM key; both are
					   read by ldapc_new() */
	int version;		/* protocol version: 2 or 3 */
	int net_timeout;	/* seconds to connect (and TLS handshake) */
	int op_timeout;		/* seconds for each bind or search */
	int size_limit;		/* entries per search; 0: no limit */
	int deref;		/* 0 never, 1 searching, 2 finding,
				   3 always */
};

/*
 * Check SET and create a connection object (no network traffic yet).
 * The TLS client certificate and key files, if set, are read now and
 * kept in memory.  Returns 0 and the object in *CONN_R, or -1 with a
 * reason in *ERROR_R (a bad URI or setting, an unreadable or bad
 * certificate or key file, a key that is not the certificate's).
 */
int ldapc_new(const struct ldapc_settings *set, struct ldapc **conn_r,
    char **error_r);

/* Close the connection, wipe the password and the TLS client key, free
   CONN and NULL *CONN. */
void ldapc_free(struct ldapc **conn);

/* Return the URI of the current connection, or NULL when none is open. */
const char *ldapc_current_uri(const struct ldapc *conn);

/* A search request. */
struct ldapc_query {
	const char *base;
	enum ldapc_scope scope;
	const char *filter;		/* already escaped */
	const char *const *attrs;	/* NULL-terminated; NULL: all */
	bool base_may_be_missing;	/* a base that does not exist gives
					   no entries instead of an error */
};

/* One attribute of an entry and its values (never empty). */
struct ldapc_attr {
	char *name;
	char **values;		/* NULL-terminated; a value holding a
				   NUL is cut there */
	size_t count;
};

struct ldapc_entry {
	char *dn;
	struct ldapc_attr *attrs;
	size_t count;
};

struct ldapc_result {
	struct ldapc_entry *entries;
	size_t count;
};

/*
 * Run QUERY on CONN, connecting (or reconnecting and retrying once, see
 * above) as needed.  Returns 0 with the entries (possibly none) in
 * *RESULT_R (free with ldapc_result_free()), or -1 with a reason in
 * *ERROR_R: no server answered, StartTLS or the bind failed, the search
 * failed, or it returned more than the size limit.  A base that does
 * not exist is an error too, unless QUERY->base_may_be_missing.
 */
int ldapc_search(struct ldapc *conn, const struct ldapc_query *query,
    struct ldapc_result **result_r, char **error_r);

/*
 * Return the values of the attribute ATTR (case-insensitive) of ENTRY
 * as a NULL-terminated vector owned by ENTRY, or NULL when it has none.
 */
char *const *ldapc_entry_values(const struct ldapc_entry *entry,
    const char *attr);

/* Free RESULT and NULL *RESULT. */
void ldapc_result_free(struct ldapc_result **result);

/*
 * Check a user's password with a simple bind as DN on CONN, which must
 * be a connection made for this purpose (created without a bind DN: its
 * identity changes).  An empty PASSWORD is refused without contacting
 * the server (an empty simple bind is an anonymous bind that
 * "succeeds").  Returns 1 when the password is right, 0 when the server
 * says the credentials are wrong (or PASSWORD is empty), or -1 with a
 * reason in *ERROR_R when no answer could be had.
 */
int ldapc_check_password(struct ldapc *conn, const char *dn,
    const char *password, char **error_r);

/*
 * The asynchronous client (ldapc_async.c), for programs that run a
 * libevent loop.  A pool holds up to MAX_CONNS connections to the same
 * servers with the same settings as a struct ldapc.  Searches are sent
 * with ldap_search_ext() and many share one connection, their replies
 * matched by message id when the socket is readable.  A pool made with
 * EXCLUSIVE set runs one operation at a time per connection: that is
 * the pool for binds that check users' passwords (a bind changes the
 * connection's identity, so it is never pipelined with anything); its
 * connections are kept open and rebound for the next login.  When every
 * connection is busy, operations queue in the pool.
 *
 * Setting a connection up waits in the event loop: the TCP connect
 * (LDAP_OPT_CONNECT_ASYNC: until the socket is writable), the StartTLS
 * request and reply, and a simple bind as set->bind_dn.  Two steps
 * block, because libldap has no asynchronous form of them: the TLS
 * handshake (after StartTLS, and for ldaps:// once the TCP connect is
 * done), bounded by net_timeout, and a SASL bind (set->sasl_mech: its
 * exchanges are driven by Cyrus SASL), each round trip bounded by
 * net_timeout.  The connect and the StartTLS reply are bounded by
 * net_timeout; a server that fails or stalls there is marked down and
 * the next URI is tried; when none is left the queued operations fail.
 * Operations wait in the pool's queue while a connection is set up.
 * Each operation is bounded by op_timeout: a server that does not
 * answer in time fails it.  A connection that breaks is dropped; its
 * operations are retried once on a new connection, which fails over to
 * the next URI as the synchronous client does.
 *
 * Callbacks are always called from the event loop, never from inside
 * the function that started the operation, and exactly once unless the
 * operation is aborted first.
 */
struct event_base;
struct ldapc_pool;
struct ldapc_op;

/* RET is 0 with RESULT (the callback owns it and frees it with
   ldapc_result_free()), or -1 with a reason in ERROR (NULL RESULT). */
typedef void ldapc_search_cb(int ret, struct ldapc_result *result,
    const char *error, void *ctx);

/* RET is 1 when the password was right, 0 when the server said the
   credentials are invalid, -1 with a reason in ERROR otherwise. */
typedef void ldapc_bind_cb(int ret, const char *error, void *ctx);

/*
 * Create a pool over BASE with SET (checked as by ldapc_new()).  No
 * network traffic yet.  Returns 0 and the pool in *POOL_R, or -1 with a
 * reason in *ERROR_R (allocated).
 */
int ldapc_pool_new(struct event_base *base, const struct ldapc_settings *set,
    unsigned int max_conns, bool exclusive, struct ldapc_pool **pool_r,
    char **error_r);

/* Abort every operation (no callback), close, wipe and NULL *POOL. */
void ldapc_pool_free(struct ldapc_pool **pool);

/* Start QUERY (copied) on POOL; CB gets the answer.  The handle stays
   valid until the callback is called or ldapc_op_abort(). */
struct ldapc_op *ldapc_search_start(struct ldapc_pool *pool,
    const struct ldapc_query *query, ldapc_search_cb *cb, void *ctx);

/*
 * Check PASSWORD for DN with a simple bind on POOL, which must be an
 * EXCLUSIVE pool made without a bind DN.  The password is copied and
 * wiped after use.  An empty DN or PASSWORD is answered 0 without
 * contacting the server.
 */
struct ldapc_op *ldapc_bind_start(struct ldapc_pool *pool, const char *dn,
    const char *password, ldapc_bind_cb *cb, void *ctx);

/* Cancel *OP: its callback is never called.  NULLs *OP. */
void ldapc_op_abort(struct ldapc_op **op);

#endif
