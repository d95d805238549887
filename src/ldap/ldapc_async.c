/*
 * The asynchronous LDAP client: a bounded pool of connections driven by
 * libevent, searches multiplexed by message id, exclusive connections
 * for password binds, per-operation timeouts, failover across URIs.
 */

#include "config.h"

#include <sys/queue.h>

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>
#include <ldap.h>

#include "ldap/ldapc.h"
#include "ldap/ldapc_int.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* Searches sent on one shared connection before another is opened. */
#define POOL_PIPELINE	16

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

static void pool_kick(struct ldapc_pool *);
static void conn_close(struct aconn *);
static void conn_ready(struct aconn *);
static void conn_starttls_reply(struct aconn *);
static void conn_input(evutil_socket_t, short, void *);
static void conn_writable(evutil_socket_t, short, void *);
static void op_timeout(evutil_socket_t, short, void *);

/* Wipe and free the string S. */
static void
free_secret(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Return "REASON (DIAGNOSTIC)" for RC on LD, allocated. */
static char *
reason(LDAP *ld, int rc, const char *diag_in)
{
	char *diag = NULL, *text;

	if (diag_in == NULL && ld != NULL)
		(void)ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	if (diag_in == NULL)
		diag_in = diag;
	if (diag_in != NULL && *diag_in != '\0')
		text = xasprintf("%s (%s)", ldap_err2string(rc), diag_in);
	else
		text = xstrdup(ldap_err2string(rc));
	ldap_memfree(diag);
	return text;
}

/* Free OP (not in any list). */
static void
op_free(struct ldapc_op *op)
{
	event_free(op->timer);
	free(op->base);
	free(op->filter);
	strv_free(&op->attrs);
	ldapc_result_free(&op->res);
	free(op->dn);
	free_secret(op->pw);
	free(op);
}

/* Take OP out of its connection or the queue. */
static void
op_detach(struct ldapc_op *op)
{
	if (op->conn != NULL) {
		TAILQ_REMOVE(&op->conn->ops, op, link);
		op->conn->nops--;
		op->conn = NULL;
	} else
		TAILQ_REMOVE(&op->pool->queue, op, link);
	evtimer_del(op->timer);
}

/* Give a detached OP its answer RET (ERROR when -1) and free it. */
static void
op_finish(struct ldapc_op *op, int ret, const char *error)
{
	struct ldapc_result *res = op->res;

	op->res = NULL;
	if (op->kind == OP_SEARCH) {
		if (ret < 0)
			ldapc_result_free(&res);
		op->search_cb(ret, res, error, op->ctx);
	} else if (op->kind == OP_BIND)
		op->bind_cb(ret, error, op->ctx);
	op_free(op);
}

/* Fail every queued operation with ERROR. */
static void
pool_fail_queue(struct ldapc_pool *pool, const char *error)
{
	struct op_list failed = TAILQ_HEAD_INITIALIZER(failed);
	struct ldapc_op *op;

	TAILQ_CONCAT(&failed, &pool->queue, link);
	while ((op = TAILQ_FIRST(&failed)) != NULL) {
		TAILQ_REMOVE(&failed, op, link);
		evtimer_del(op->timer);
		op_finish(op, -1, error);
	}
}

/* CONN broke: retry its operations once elsewhere, fail the others. */
static void
conn_broken(struct aconn *conn, const char *error)
{
	struct ldapc_pool *pool = conn->pool;
	struct op_list failed = TAILQ_HEAD_INITIALIZER(failed);
	struct ldapc_op *op;

	while ((op = TAILQ_FIRST(&conn->ops)) != NULL) {
		TAILQ_REMOVE(&conn->ops, op, link);
		conn->nops--;
		op->conn = NULL;
		if (op->kind == OP_SERVICE_BIND)
			op_free(op);
		else if (!op->retried) {
			op->retried = true;
			TAILQ_INSERT_TAIL(&pool->queue, op, link);
		} else
			TAILQ_INSERT_TAIL(&failed, op, link);
	}
	conn_close(conn);
	while ((op = TAILQ_FIRST(&failed)) != NULL) {
		TAILQ_REMOVE(&failed, op, link);
		evtimer_del(op->timer);
		op_finish(op, -1, error);
	}
	pool_kick(pool);
}

/* Append the entry E to the result being collected by OP. */
static void
op_add_entry(struct ldapc_op *op, LDAP *ld, LDAPMessage *e)
{
	struct ldapc_entry *entry;

	if (op->res->count == op->res_cap) {
		op->res_cap = op->res_cap ? op->res_cap * 2 : 2;
		op->res->entries = xreallocarray(op->res->entries,
		    op->res_cap, sizeof(*op->res->entries));
	}
	entry = &op->res->entries[op->res->count++];
	memset(entry, 0, sizeof(*entry));
	ldapc_copy_entry(ld, e, entry);
}

/* The final reply of OP's search or bind arrived with code RC. */
static void
op_done(struct ldapc_op *op, int rc, const char *diag)
{
	struct aconn *conn = op->conn;
	struct ldapc_pool *pool = op->pool;
	char *why = NULL, *error = NULL;
	int ret;

	op_detach(op);
	if (op->kind == OP_SEARCH) {
		if (rc == LDAP_NO_SUCH_OBJECT && op->base_may_be_missing)
			rc = LDAP_SUCCESS;
		ret = rc == LDAP_SUCCESS ? 0 : -1;
	} else
		ret = rc == LDAP_SUCCESS ? 1 :
		    rc == LDAP_INVALID_CREDENTIALS ? 0 : -1;
	if (ret < 0) {
		why = reason(NULL, rc, diag);
		error = xasprintf("%s: %s failed: %s", pool->uris[conn->cur],
		    op->kind == OP_SEARCH ? "search" : "bind", why);
	}
	if (op->kind == OP_SERVICE_BIND && ret == 1)
		conn_ready(conn);
	if (op->kind == OP_SERVICE_BIND && ret != 1) {
		conn_close(conn);
		pool_fail_queue(pool, error != NULL ? error :
		    "bind as the service account failed: invalid credentials");
	}
	op_finish(op, ret, error);
	free(why);
	free(error);
	pool_kick(pool);
}

/* Handle one message MSG read from CONN. */
static void
conn_message(struct aconn *conn, LDAPMessage *msg)
{
	struct ldapc_op *op;
	char *diag = NULL;
	int msgid = ldap_msgid(msg), type = ldap_msgtype(msg), err;

	for (op = TAILQ_FIRST(&conn->ops); op != NULL && op->msgid != msgid;
	    op = TAILQ_NEXT(op, link))
		;
	if (op == NULL)
		return;		/* abandoned */
	if (type == LDAP_RES_SEARCH_ENTRY && op->kind == OP_SEARCH) {
		op_add_entry(op, conn->ld, msg);
		return;
	}
	if (type != LDAP_RES_SEARCH_RESULT && type != LDAP_RES_BIND)
		return;		/* references and the like */
	if (ldap_parse_result(conn->ld, msg, &err, NULL, &diag, NULL, NULL,
	    0) != LDAP_SUCCESS)
		err = LDAP_DECODING_ERROR;
	op_done(op, err, diag);
	ldap_memfree(diag);
}

/* CONN's socket is readable: read every complete message. */
static void
conn_input(evutil_socket_t fd, short what, void *arg)
{
	struct aconn *conn = arg;
	struct timeval zero = { 0, 0 };
	LDAPMessage *msg;
	char *error, *why;
	bool last;
	int rc;

	(void)fd, (void)what;
	if (conn->state == CONN_STARTTLS) {
		conn_starttls_reply(conn);
		return;
	}
	for (;;) {
		msg = NULL;
		rc = ldap_result(conn->ld, LDAP_RES_ANY, LDAP_MSG_ONE, &zero,
		    &msg);
		if (rc == 0)
			return;
		if (rc < 0) {
			why = reason(conn->ld, LDAP_SERVER_DOWN, NULL);
			error = xasprintf("%s: connection lost: %s",
			    conn->pool->uris[conn->cur], why);
			conn_broken(conn, error);
			free(why);
			free(error);
			return;
		}
		/* A failed service bind closes CONN: stop reading then. */
		last = ldap_msgtype(msg) == LDAP_RES_BIND &&
		    conn->state != CONN_READY;
		conn_message(conn, msg);
		ldap_msgfree(msg);
		if (last)
			return;
	}
}

/* OP's time is up. */
static void
op_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct ldapc_op *op = arg;
	struct ldapc_pool *pool = op->pool;
	struct aconn *conn = op->conn;
	char *error;

	(void)fd, (void)what;
	if (conn == NULL) {
		op_detach(op);
		op_finish(op, -1, "timed out waiting for an LDAP connection");
		return;
	}
	error = xasprintf("%s: no answer within %d seconds",
	    pool->uris[conn->cur], pool->set.op_timeout);
	(void)ldap_abandon_ext(conn->ld, op->msgid, NULL, NULL);
	op_detach(op);
	/* A bind left pending leaves the identity unknown. */
	if (pool->exclusive || op->kind == OP_SERVICE_BIND) {
		if (op->kind == OP_SERVICE_BIND)
			pool_fail_queue(pool, error);
		conn_broken(conn, error);
	}
	op_finish(op, -1, error);
	free(error);
	pool_kick(pool);
}

/* Send OP on CONN; false when the connection is unusable. */
static bool
op_send(struct aconn *conn, struct ldapc_op *op)
{
	static const int scopes[] = {
		[LDAPC_SCOPE_BASE] = LDAP_SCOPE_BASE,
		[LDAPC_SCOPE_ONE] = LDAP_SCOPE_ONELEVEL,
		[LDAPC_SCOPE_SUB] = LDAP_SCOPE_SUBTREE,
	};
	struct ldapc_pool *pool = conn->pool;
	struct timeval tv = { pool->set.op_timeout, 0 };
	struct berval cred;
	int rc;

	op->conn = conn;
	TAILQ_INSERT_TAIL(&conn->ops, op, link);
	conn->nops++;
	if (op->kind == OP_SEARCH) {
		op->res = xcalloc(1, sizeof(*op->res));
		rc = ldap_search_ext(conn->ld, op->base, scopes[op->scope],
		    op->filter, op->attrs, 0, NULL, NULL, &tv,
		    pool->set.size_limit, &op->msgid);
	} else {
		cred.bv_val = op->pw;
		cred.bv_len = strlen(op->pw);
		rc = ldap_sasl_bind(conn->ld, op->dn, LDAP_SASL_SIMPLE, &cred,
		    NULL, NULL, &op->msgid);
	}
	if (op->kind == OP_SERVICE_BIND)
		evtimer_add(op->timer, &tv);
	return rc == LDAP_SUCCESS;
}

/* Apply POOL's settings to LD; the connect steps use net_timeout. */
static int
set_options(struct ldapc_pool *pool, LDAP *ld)
{
	struct timeval net = { pool->set.net_timeout, 0 };
	const char *what;
	int rc;

	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION,
	    &pool->set.version) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &net) !=
	    LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &net) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_CONNECT_ASYNC, LDAP_OPT_ON) !=
	    LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_DEREF, &pool->set.deref) !=
	    LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) !=
	    LDAP_OPT_SUCCESS)
		return -1;
	return ldapc_apply_tls(ld, &pool->tls, &what, &rc);
}

/*
 * Return URI (allocated), turned into an ldap:// URI with an explicit
 * port when it is an ldaps:// one (*TLS_R set then).  libldap makes the
 * TLS handshake of an ldaps:// URI inside the TCP connect and waits for
 * both; connecting in plain text and calling ldap_install_tls() once the
 * socket is writable makes the same handshake after a connect that the
 * event loop waits for.
 */
static char *
plain_uri(const char *uri, bool *tls_r)
{
	LDAPURLDesc *lud;
	char *text, *plain;

	*tls_r = false;
	if (ldap_url_parse(uri, &lud) != LDAP_URL_SUCCESS)
		return xstrdup(uri);
	if (strcasecmp(lud->lud_scheme, "ldaps") != 0) {
		ldap_free_urldesc(lud);
		return xstrdup(uri);
	}
	*tls_r = true;
	ber_memfree(lud->lud_scheme);
	lud->lud_scheme = ber_strdup("ldap");
	if (lud->lud_port == 0)
		lud->lud_port = LDAPS_PORT;
	text = ldap_url_desc2str(lud);
	plain = text != NULL ? xstrdup(text) : xstrdup(uri);
	ldap_memfree(text);
	ldap_free_urldesc(lud);
	return plain;
}

/* Start connecting a handle to URI I of POOL, without waiting (in plain
   text for ldaps://: see plain_uri()). */
static int
open_uri(struct ldapc_pool *pool, size_t i, LDAP **ld_r, bool *tls_r,
    char **error_r)
{
	LDAP *ld = NULL;
	char *uri, *why;
	int rc;

	uri = plain_uri(pool->uris[i], tls_r);
	rc = ldap_initialize(&ld, uri);
	free(uri);
	if (rc != LDAP_SUCCESS) {
		*error_r = xstrdup(ldap_err2string(rc));
		return -1;
	}
	if (set_options(pool, ld) < 0) {
		*error_r = xstrdup("cannot set the connection options");
		ldap_unbind_ext(ld, NULL, NULL);
		return -1;
	}
	/* With LDAP_OPT_CONNECT_ASYNC: 0 while the connect is pending. */
	if ((rc = ldap_connect(ld)) != LDAP_SUCCESS) {
		why = reason(ld, rc, NULL);
		*error_r = xasprintf("cannot connect: %s", why);
		free(why);
		ldap_unbind_ext(ld, NULL, NULL);
		return -1;
	}
	*ld_r = ld;
	return 0;
}

/* URI I failed while CONN was being set up: mark it down, say why. */
static void
uri_failed(struct aconn *conn, size_t i, const char *error)
{
	struct ldapc_pool *pool = conn->pool;

	pool->down_until[i] = time(NULL) + LDAPC_RETRY_DOWN;
	str_appendf(&conn->errors, "%s%s: %s", conn->errors.len > 0 ?
	    "; " : "", pool->uris[i], error);
}

/* Wait for CONN's new handle LD, connecting to URI I, to be writable. */
static void
conn_attach(struct aconn *conn, LDAP *ld, size_t i, bool implicit_tls)
{
	struct timeval net = { conn->pool->set.net_timeout, 0 };
	int fd = -1, flags;

	(void)ldap_get_option(ld, LDAP_OPT_DESC, &fd);
	if ((flags = fcntl(fd, F_GETFL)) >= 0)
		(void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	conn->ld = ld;
	conn->cur = i;
	conn->implicit_tls = implicit_tls;
	conn->state = CONN_CONNECTING;
	conn->ev = event_new(conn->pool->base, fd, EV_WRITE, conn_writable,
	    conn);
	event_add(conn->ev, NULL);
	evtimer_add(conn->timer, &net);
}

/*
 * Start setting CONN up on the next URI it has not tried: those not
 * marked down first, in order, then the others.  Returns false when
 * every URI failed.
 */
static bool
conn_start(struct aconn *conn)
{
	struct ldapc_pool *pool = conn->pool;
	LDAP *ld;
	char *error;
	bool tls;
	size_t i;

	for (;;) {
		if (conn->next == pool->nuris) {
			if (conn->try_down)
				return false;
			conn->try_down = true;
			conn->next = 0;
		}
		i = conn->next++;
		if (conn->tried[i] ||
		    (!conn->try_down && pool->down_until[i] > time(NULL)))
			continue;
		conn->tried[i] = true;
		if (open_uri(pool, i, &ld, &tls, &error) == 0) {
			conn_attach(conn, ld, i, tls);
			return true;
		}
		uri_failed(conn, i, error);
		free(error);
	}
}

/* Close CONN's handle, and the service bind sent on it, if any. */
static void
conn_detach(struct aconn *conn)
{
	struct ldapc_op *op;

	while ((op = TAILQ_FIRST(&conn->ops)) != NULL) {
		op_detach(op);
		op_free(op);
	}
	if (conn->ev != NULL)
		event_free(conn->ev);
	conn->ev = NULL;
	evtimer_del(conn->timer);
	if (conn->ld != NULL)
		ldap_unbind_ext(conn->ld, NULL, NULL);
	conn->ld = NULL;
}

/* No URI could be set up for CONN: close it and fail the queue. */
static void
conn_give_up(struct aconn *conn)
{
	struct ldapc_pool *pool = conn->pool;
	char *error;

	error = xasprintf("no LDAP server available: %s",
	    str_c(&conn->errors));
	conn_close(conn);
	pool_fail_queue(pool, error);
	free(error);
}

/* Setting CONN up on its URI failed with ERROR: fail over. */
static void
conn_setup_failed(struct aconn *conn, const char *error)
{
	uri_failed(conn, conn->cur, error);
	conn_detach(conn);
	if (!conn_start(conn))
		conn_give_up(conn);
}

/* As conn_setup_failed(), with "WHAT: " and the reason for RC. */
static void
conn_setup_failed_rc(struct aconn *conn, const char *what, int rc)
{
	char *why = reason(conn->ld, rc, NULL);
	char *error = xasprintf("%s: %s", what, why);

	conn_setup_failed(conn, error);
	free(why);
	free(error);
}

/* CONN is ready for operations. */
static void
conn_ready(struct aconn *conn)
{
	conn->state = CONN_READY;
	conn->connected_at = time(NULL);
	pool_kick(conn->pool);
}

/* Start binding CONN as the pool's identity. */
static bool
conn_service_bind(struct aconn *conn)
{
	struct ldapc_pool *pool = conn->pool;
	struct ldapc_op *op = xcalloc(1, sizeof(*op));

	op->pool = pool;
	op->kind = OP_SERVICE_BIND;
	op->dn = xstrdup(pool->id.dn);
	op->pw = xstrdup(pool->id.pw);
	op->timer = evtimer_new(pool->base, op_timeout, op);
	return op_send(conn, op);
}

/*
 * CONN is connected, and protected as configured: bind it as the pool's
 * identity.  A SASL bind blocks (libldap has no asynchronous
 * interactive bind); a simple bind is an operation like the others.
 */
static void
conn_secured(struct aconn *conn)
{
	struct ldapc_pool *pool = conn->pool;
	char *error;

	if (pool->id.sasl_mech != NULL &&
	    ldapc_sasl_bind(conn->ld, &pool->id, &error) < 0) {
		conn_setup_failed(conn, error);
		free(error);
		return;
	}
	pool->down_until[conn->cur] = 0;
	if (pool->id.dn == NULL || pool->id.sasl_mech != NULL) {
		conn_ready(conn);
		return;
	}
	conn->state = CONN_BINDING;
	if (!conn_service_bind(conn))
		conn_setup_failed(conn, "cannot send the bind");
}

/* Make the TLS handshake on CONN: blocking, bounded by net_timeout
   (libldap polls); false when it failed and CONN moved on. */
static bool
conn_install_tls(struct aconn *conn, const char *what)
{
	int rc;

	if ((rc = ldap_install_tls(conn->ld)) == LDAP_SUCCESS)
		return true;
	conn_setup_failed_rc(conn, what, rc);
	return false;
}

/* Send StartTLS on CONN; its reply arrives in conn_input(). */
static void
conn_send_starttls(struct aconn *conn)
{
	struct timeval net = { conn->pool->set.net_timeout, 0 };
	int rc;

	rc = ldap_start_tls(conn->ld, NULL, NULL, &conn->tls_msgid);
	if (rc != LDAP_SUCCESS) {
		conn_setup_failed_rc(conn, "StartTLS failed", rc);
		return;
	}
	conn->state = CONN_STARTTLS;
	evtimer_add(conn->timer, &net);
}

/* Read the reply to CONN's StartTLS request; then the handshake. */
static void
conn_starttls_reply(struct aconn *conn)
{
	struct timeval zero = { 0, 0 };
	LDAPMessage *msg = NULL;
	int rc, err;

	rc = ldap_result(conn->ld, conn->tls_msgid, LDAP_MSG_ALL, &zero, &msg);
	if (rc == 0)
		return;
	if (rc < 0) {
		conn_setup_failed_rc(conn, "StartTLS failed", LDAP_SERVER_DOWN);
		return;
	}
	if (ldap_parse_result(conn->ld, msg, &err, NULL, NULL, NULL, NULL,
	    1) != LDAP_SUCCESS)
		err = LDAP_DECODING_ERROR;
	if (err != LDAP_SUCCESS) {
		conn_setup_failed_rc(conn, "StartTLS failed", err);
		return;
	}
	evtimer_del(conn->timer);
	if (conn_install_tls(conn, "StartTLS failed"))
		conn_secured(conn);
}

/* CONN's socket is writable, or its connect timed out. */
static void
conn_writable(evutil_socket_t fd, short what, void *arg)
{
	struct aconn *conn = arg;
	socklen_t len = sizeof(int);
	char *error;
	int err = 0;

	(void)what;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		error = xasprintf("cannot connect: %s", strerror(err));
		conn_setup_failed(conn, error);
		free(error);
		return;
	}
	evtimer_del(conn->timer);
	event_free(conn->ev);
	conn->ev = event_new(conn->pool->base, fd, EV_READ | EV_PERSIST,
	    conn_input, conn);
	event_add(conn->ev, NULL);
	if (conn->implicit_tls && !conn_install_tls(conn,
	    "TLS handshake failed"))
		return;
	if (conn->pool->set.start_tls)
		conn_send_starttls(conn);
	else
		conn_secured(conn);
}

/* CONN's connect or StartTLS took longer than net_timeout. */
static void
conn_setup_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct aconn *conn = arg;
	char *error;

	(void)fd, (void)what;
	error = xasprintf("%s: no answer within %d seconds",
	    conn->state == CONN_CONNECTING ? "cannot connect" :
	    "StartTLS failed", conn->pool->set.net_timeout);
	conn_setup_failed(conn, error);
	free(error);
}

/* Open a new connection: start setting it up, or fail the queue. */
static void
conn_open(struct ldapc_pool *pool)
{
	struct aconn *conn = xcalloc(1, sizeof(*conn));

	conn->pool = pool;
	conn->tried = xcalloc(pool->nuris, sizeof(*conn->tried));
	conn->timer = evtimer_new(pool->base, conn_setup_timeout, conn);
	TAILQ_INIT(&conn->ops);
	LIST_INSERT_HEAD(&pool->conns, conn, link);
	pool->nconns++;
	if (!conn_start(conn))
		conn_give_up(conn);
}

/* Close CONN, whose operations are gone. */
static void
conn_close(struct aconn *conn)
{
	LIST_REMOVE(conn, link);
	conn->pool->nconns--;
	conn_detach(conn);
	event_free(conn->timer);
	str_free(&conn->errors);
	free(conn->tried);
	free(conn);
}

/* Return the least busy ready connection that may take another op. */
static struct aconn *
pool_pick(struct ldapc_pool *pool, bool *opening_r)
{
	struct aconn *conn, *next, *best = NULL;
	size_t limit = pool->exclusive ? 1 : POOL_PIPELINE;
	time_t now = time(NULL);

	*opening_r = false;
	for (conn = LIST_FIRST(&pool->conns); conn != NULL; conn = next) {
		next = LIST_NEXT(conn, link);
		if (conn->state == CONN_READY && conn->nops == 0 &&
		    conn->cur > 0 &&
		    now - conn->connected_at >= LDAPC_RETRY_DOWN) {
			conn_close(conn);	/* back to the first URI */
			continue;
		}
		if (conn->state != CONN_READY)
			*opening_r = true;
		else if (best == NULL || conn->nops < best->nops)
			best = conn;
	}
	if (best != NULL && best->nops < limit)
		return best;
	if (pool->nconns < pool->max_conns || pool->exclusive)
		return NULL;
	return best;
}

/* Send queued operations while connections can take them. */
static void
pool_dispatch(evutil_socket_t fd, short what, void *arg)
{
	struct ldapc_pool *pool = arg;
	struct ldapc_op *op;
	struct aconn *conn;
	bool opening;

	(void)fd, (void)what;
	while ((op = TAILQ_FIRST(&pool->queue)) != NULL) {
		if (op->kind == OP_BIND && op->pw == NULL) {
			op_detach(op);
			op_finish(op, 0, NULL);
			continue;
		}
		if ((conn = pool_pick(pool, &opening)) != NULL) {
			TAILQ_REMOVE(&pool->queue, op, link);
			if (!op_send(conn, op))
				conn_broken(conn, "cannot send the request");
			continue;
		}
		if (opening || pool->nconns >= pool->max_conns)
			return;
		conn_open(pool);
	}
}

/* Run pool_dispatch() from the event loop. */
static void
pool_kick(struct ldapc_pool *pool)
{
	if (!TAILQ_EMPTY(&pool->queue))
		event_active(pool->kick, EV_TIMEOUT, 0);
}

/* Create a pool. */
int
ldapc_pool_new(struct event_base *base, const struct ldapc_settings *set,
    unsigned int max_conns, bool exclusive, struct ldapc_pool **pool_r,
    char **error_r)
{
	struct ldapc_pool *pool;
	struct ldapc_tls tls;
	size_t i;

	if (ldapc_check_settings(set, error_r) < 0 ||
	    ldapc_tls_init(&tls, set, error_r) < 0)
		return -1;
	ldapc_ignore_sigpipe();
	pool = xcalloc(1, sizeof(*pool));
	pool->tls = tls;
	pool->base = base;
	pool->set = *set;
	pool->nuris = strv_len(set->uris);
	pool->uris = xcalloc(pool->nuris + 1, sizeof(*pool->uris));
	for (i = 0; i < pool->nuris; i++)
		pool->uris[i] = xstrdup(set->uris[i]);
	pool->set.uris = pool->uris;
	pool->down_until = xcalloc(pool->nuris, sizeof(*pool->down_until));
	ldapc_ident_init(&pool->id, set);
	pool->set.bind_dn = pool->set.bind_pw = NULL;
	pool->set.sasl_mech = pool->set.sasl_realm = NULL;
	pool->set.sasl_authz_id = NULL;
	pool->set.tls_ca_file = pool->set.tls_ca_dir = NULL;
	pool->set.tls_cert_file = pool->set.tls_key_file = NULL;
	pool->max_conns = max_conns > 0 ? max_conns : 1;
	pool->exclusive = exclusive;
	LIST_INIT(&pool->conns);
	TAILQ_INIT(&pool->queue);
	pool->kick = event_new(base, -1, 0, pool_dispatch, pool);
	*pool_r = pool;
	return 0;
}

/* Free the pool and everything in it, without calling back. */
void
ldapc_pool_free(struct ldapc_pool **poolp)
{
	struct ldapc_pool *pool = *poolp;
	struct ldapc_op *op;
	struct aconn *conn;

	if (pool == NULL)
		return;
	while ((conn = LIST_FIRST(&pool->conns)) != NULL) {
		while ((op = TAILQ_FIRST(&conn->ops)) != NULL) {
			op_detach(op);
			op_free(op);
		}
		conn_close(conn);
	}
	while ((op = TAILQ_FIRST(&pool->queue)) != NULL) {
		op_detach(op);
		op_free(op);
	}
	event_free(pool->kick);
	strv_free(&pool->uris);
	free(pool->down_until);
	ldapc_ident_clear(&pool->id);
	ldapc_tls_clear(&pool->tls);
	free(pool);
	*poolp = NULL;
}

/* Queue a new operation of KIND on POOL. */
static struct ldapc_op *
op_new(struct ldapc_pool *pool, enum op_kind kind, void *ctx)
{
	struct ldapc_op *op = xcalloc(1, sizeof(*op));
	struct timeval tv = { pool->set.op_timeout, 0 };

	op->pool = pool;
	op->kind = kind;
	op->ctx = ctx;
	op->timer = evtimer_new(pool->base, op_timeout, op);
	evtimer_add(op->timer, &tv);
	TAILQ_INSERT_TAIL(&pool->queue, op, link);
	pool_kick(pool);
	return op;
}

/* Start a search. */
struct ldapc_op *
ldapc_search_start(struct ldapc_pool *pool, const struct ldapc_query *query,
    ldapc_search_cb *cb, void *ctx)
{
	struct ldapc_op *op = op_new(pool, OP_SEARCH, ctx);
	size_t i, n = 0;

	op->search_cb = cb;
	op->base = xstrdup(query->base);
	op->filter = xstrdup(query->filter);
	op->scope = query->scope;
	op->base_may_be_missing = query->base_may_be_missing;
	if (query->attrs != NULL) {
		while (query->attrs[n] != NULL)
			n++;
		op->attrs = xcalloc(n + 1, sizeof(*op->attrs));
		for (i = 0; i < n; i++)
			op->attrs[i] = xstrdup(query->attrs[i]);
	}
	return op;
}

/* Start a password check. */
struct ldapc_op *
ldapc_bind_start(struct ldapc_pool *pool, const char *dn,
    const char *password, ldapc_bind_cb *cb, void *ctx)
{
	struct ldapc_op *op = op_new(pool, OP_BIND, ctx);

	op->bind_cb = cb;
	op->dn = xstrdup(dn);
	/* Empty: answered 0 from the loop, never an anonymous bind. */
	op->pw = *dn != '\0' && *password != '\0' ? xstrdup(password) : NULL;
	return op;
}

/* Cancel an operation without calling back. */
void
ldapc_op_abort(struct ldapc_op **opp)
{
	struct ldapc_op *op = *opp;
	struct ldapc_pool *pool;
	struct aconn *conn;

	if (op == NULL)
		return;
	*opp = NULL;
	pool = op->pool;
	conn = op->conn;
	if (conn != NULL)
		(void)ldap_abandon_ext(conn->ld, op->msgid, NULL, NULL);
	op_detach(op);
	if (conn != NULL && op->kind == OP_BIND)
		conn_broken(conn, "bind abandoned");
	op_free(op);
	pool_kick(pool);
}
