/*
 * The asynchronous LDAP client: a bounded pool of connections driven by
 * libevent, searches multiplexed by message id, exclusive connections
 * for password binds, per-operation timeouts, failover across URIs.
 * Setting a connection up is in ldapc_setup.c.
 */

#include "config.h"

#include <sys/queue.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <ldap.h>

#include "ldap/ldapc.h"
#include "ldap/ldapc_async_int.h"
#include "ldap/ldapc_int.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* Searches sent on one shared connection before another is opened. */
#define POOL_PIPELINE	16

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
char *
pool_reason(LDAP *ld, int rc, const char *diag_in)
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
void
pool_op_free(struct ldapc_op *op)
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
void
pool_op_detach(struct ldapc_op *op)
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
	pool_op_free(op);
}

/* Fail every queued operation with ERROR. */
void
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
			pool_op_free(op);
		else if (!op->retried) {
			op->retried = true;
			TAILQ_INSERT_TAIL(&pool->queue, op, link);
		} else
			TAILQ_INSERT_TAIL(&failed, op, link);
	}
	aconn_close(conn);
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

	pool_op_detach(op);
	if (op->kind == OP_SEARCH) {
		if (rc == LDAP_NO_SUCH_OBJECT && op->base_may_be_missing)
			rc = LDAP_SUCCESS;
		ret = rc == LDAP_SUCCESS ? 0 : -1;
	} else
		ret = rc == LDAP_SUCCESS ? 1 :
		    rc == LDAP_INVALID_CREDENTIALS ? 0 : -1;
	if (ret < 0) {
		why = pool_reason(NULL, rc, diag);
		error = xasprintf("%s: %s failed: %s", pool->uris[conn->cur],
		    op->kind == OP_SEARCH ? "search" : "bind", why);
	}
	if (op->kind == OP_SERVICE_BIND && ret == 1)
		aconn_ready(conn);
	if (op->kind == OP_SERVICE_BIND && ret != 1) {
		aconn_close(conn);
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
void
aconn_input(evutil_socket_t fd, short what, void *arg)
{
	struct aconn *conn = arg;
	struct timeval zero = { 0, 0 };
	LDAPMessage *msg;
	char *error, *why;
	bool last;
	int rc;

	(void)fd, (void)what;
	if (conn->state == CONN_STARTTLS) {
		aconn_starttls_reply(conn);
		return;
	}
	for (;;) {
		msg = NULL;
		rc = ldap_result(conn->ld, LDAP_RES_ANY, LDAP_MSG_ONE, &zero,
		    &msg);
		if (rc == 0)
			return;
		if (rc < 0) {
			why = pool_reason(conn->ld, LDAP_SERVER_DOWN, NULL);
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
void
pool_op_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct ldapc_op *op = arg;
	struct ldapc_pool *pool = op->pool;
	struct aconn *conn = op->conn;
	char *error;

	(void)fd, (void)what;
	if (conn == NULL) {
		pool_op_detach(op);
		op_finish(op, -1, "timed out waiting for an LDAP connection");
		return;
	}
	error = xasprintf("%s: no answer within %d seconds",
	    pool->uris[conn->cur], pool->set.op_timeout);
	(void)ldap_abandon_ext(conn->ld, op->msgid, NULL, NULL);
	pool_op_detach(op);
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
bool
aconn_send(struct aconn *conn, struct ldapc_op *op)
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
			aconn_close(conn);	/* back to the first URI */
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
			pool_op_detach(op);
			op_finish(op, 0, NULL);
			continue;
		}
		if ((conn = pool_pick(pool, &opening)) != NULL) {
			TAILQ_REMOVE(&pool->queue, op, link);
			if (!aconn_send(conn, op))
				conn_broken(conn, "cannot send the request");
			continue;
		}
		if (opening || pool->nconns >= pool->max_conns)
			return;
		aconn_open(pool);
	}
}

/* Run pool_dispatch() from the event loop. */
void
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
			pool_op_detach(op);
			pool_op_free(op);
		}
		aconn_close(conn);
	}
	while ((op = TAILQ_FIRST(&pool->queue)) != NULL) {
		pool_op_detach(op);
		pool_op_free(op);
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
	op->timer = evtimer_new(pool->base, pool_op_timeout, op);
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
	pool_op_detach(op);
	if (conn != NULL && op->kind == OP_BIND)
		conn_broken(conn, "bind abandoned");
	pool_op_free(op);
	pool_kick(pool);
}
