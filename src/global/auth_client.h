#ifndef DIRMAIL_GLOBAL_AUTH_CLIENT_H
#define DIRMAIL_GLOBAL_AUTH_CLIENT_H

/*
 * An asynchronous client of the Dovecot auth-client protocol 1.2 (authd
 * or a real Dovecot auth socket) over libevent: one connection to the
 * server, many authentications in flight on it, replies in any order.
 *
 * Connecting and the handshake are done synchronously with a bound (a
 * local socket answers at once); everything after that is event driven.
 * The connection is opened on first use and again on the next use after
 * it dropped, at most once a second.  Writing to a peer that has gone
 * raises SIGPIPE: auth_client_new() ignores it unless the program has
 * chosen a handler.
 */

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct auth_client;
struct auth_client_request;

/* A mechanism the server offered. */
struct auth_mech {
	char *name;		/* "PLAIN" */
	bool plaintext;		/* MECH flag "plaintext" */
	bool anonymous;		/* "anonymous" */
	bool private_;		/* "private": never offered to clients */
};

enum auth_client_status {
	AUTH_CLIENT_OK,		/* authenticated; fields has user=... */
	AUTH_CLIENT_CONTINUE,	/* DATA is the base64 challenge to send */
	AUTH_CLIENT_FAIL,	/* wrong credentials (fields may have reason=) */
	AUTH_CLIENT_TEMPFAIL,	/* server unreachable, connection lost, timeout,
				   or FAIL with code=temp_fail */
};

/*
 * Called once per server reply, in the event loop.  FIELDS is a
 * NULL-terminated "key=value" array (unescaped), valid only during the
 * call.  After OK, FAIL or TEMPFAIL the request is gone.  DATA is the
 * challenge for CONTINUE and NULL otherwise.  A TEMPFAIL or FAIL made by
 * the client itself (timeout, lost connection, unsupported mechanism)
 * carries a "reason=" field.  The callback may start, continue and abort
 * requests, and may free the client.
 */
typedef void auth_client_cb(enum auth_client_status status,
    const char *data, const char *const *fields, void *ctx);

/* What the server is told about the login. */
struct auth_request_info {
	const char *mech;		/* "PLAIN" */
	const char *service;		/* "smtp" */
	const char *local_ip, *remote_ip;	/* may be NULL */
	unsigned local_port, remote_port;	/* 0: not sent */
	bool secured;			/* TLS, or a trusted local connection */
	const char *initial_resp;	/* base64, "" for an empty initial
					   response ("=" in SMTP), NULL none */
};

/*
 * A client for the auth socket PATH ("/run/dirmail/auth-client",
 * "unix:PATH" or "inet:HOST:PORT").  Connects lazily; never fails (a bad
 * PATH shows up as an unreachable server, with a log line).
 */
struct auth_client *auth_client_new(struct event_base *base, const char *path);

/* Cancel every request (their callbacks are not called) and free; NULLs
   *C. */
void auth_client_free(struct auth_client **c);

/*
 * Set how long a request waits for each server reply before it gets
 * TEMPFAIL and a CANCEL is sent (default 30000 milliseconds).
 */
void auth_client_set_timeout(struct auth_client *c, int timeout_ms);

/*
 * The mechanisms offered, connecting and completing the handshake first
 * when needed (bounded: at most TIMEOUT_MS milliseconds of blocking, used
 * only when not connected yet).  Returns 0 with *MECHS_R (owned by C,
 * valid until the next call) and *COUNT_R, or -1 when the server cannot
 * be reached (the caller then offers no AUTH).
 */
int auth_client_mechs(struct auth_client *c, int timeout_ms,
    const struct auth_mech **mechs_r, size_t *count_r);

/*
 * Start an authentication.  Returns a handle, or NULL when the server is
 * unreachable (then CB is not called; treat as TEMPFAIL).  INFO is copied.
 * A mechanism the server did not offer, a missing service or a line too
 * long for the server gets FAIL from the event loop, without reaching the
 * server.  The time waiting for the caller's response to a CONTINUE is
 * not limited here: abort the request when the client goes away.
 */
struct auth_client_request *auth_client_start(struct auth_client *c,
    const struct auth_request_info *info, auth_client_cb *cb, void *ctx);

/* Send the client's base64 response RESP to a CONTINUE. */
void auth_client_continue(struct auth_client_request *r, const char *resp);

/* Abandon R (sends CANCEL when the server knows it); CB is never called
   again.  NULLs *R; a NULL *R is ignored. */
void auth_client_abort(struct auth_client_request **r);

/*
 * What a master's REQUEST for a finished login names (the protocol's
 * login-to-master hand-over): the server's cookie on the current
 * connection (hex; NULL when not connected or none was sent), to be read
 * in the OK callback, and the id of R on the server (0 when R never
 * reached it), the same through every CONTINUE.  The third part is this
 * process's pid, sent as CPID.
 */
const char *auth_client_cookie(const struct auth_client *c);
unsigned int auth_client_request_id(const struct auth_client_request *r);

#endif
