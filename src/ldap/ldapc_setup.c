/*
 * Setting up a connection of the asynchronous LDAP pool: the TCP
 * connect, TLS (ldaps:// or StartTLS) and the service bind, each step
 * waiting in the event loop, with failover across the pool's URIs.
 */

#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>
#include <ldap.h>

#include "ldap/ldapc.h"
#include "ldap/ldapc_async_int.h"
#include "ldap/ldapc_int.h"
#include "lib/str.h"
#include "lib/xalloc.h"

static void conn_writable(evutil_socket_t, short, void *);

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
		why = pool_reason(ld, rc, NULL);
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
		pool_op_detach(op);
		pool_op_free(op);
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
	aconn_close(conn);
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
	char *why = pool_reason(conn->ld, rc, NULL);
	char *error = xasprintf("%s: %s", what, why);

	conn_setup_failed(conn, error);
	free(why);
	free(error);
}

/* CONN is ready for operations. */
void
aconn_ready(struct aconn *conn)
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
	op->timer = evtimer_new(pool->base, pool_op_timeout, op);
	return aconn_send(conn, op);
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
		aconn_ready(conn);
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

/* Send StartTLS on CONN; its reply arrives in aconn_input(). */
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
void
aconn_starttls_reply(struct aconn *conn)
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
	    aconn_input, conn);
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
void
aconn_open(struct ldapc_pool *pool)
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
void
aconn_close(struct aconn *conn)
{
	LIST_REMOVE(conn, link);
	conn->pool->nconns--;
	conn_detach(conn);
	event_free(conn->timer);
	str_free(&conn->errors);
	free(conn->tried);
	free(conn);
}
