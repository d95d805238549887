/*
 * The LDAP connection object: settings, lazy connection with failover
 * across URIs, StartTLS, simple bind, and the synchronous search.
 */

#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ldap.h>

#include "ldap/ldapc.h"
#include "ldap/ldapc_int.h"
#include "lib/str.h"
#include "lib/xalloc.h"

struct ldapc {
	char **uris;
	size_t nuris;
	time_t *down_until;	/* per URI: skip it until then */
	struct ldapc_ident id;	/* the bind, simple or SASL */
	bool start_tls;
	struct ldapc_tls tls;
	int version;
	int net_timeout;
	int op_timeout;
	int size_limit;
	int deref;

	LDAP *ld;		/* NULL when not connected */
	size_t cur;		/* the URI LD is connected to */
	time_t connected_at;
};

/* Return a copy of S, or NULL when S is NULL or empty. */
char *
ldapc_dup_nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

/* Parse a tls_require_cert level name. */
int
ldapc_tls_require_parse(const char *s, enum ldapc_tls_require *value_r)
{
	static const char *const names[] = {
		"never", "allow", "try", "demand", "hard",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i]) == 0) {
			*value_r = (enum ldapc_tls_require)i;
			return 0;
		}
	}
	return -1;
}

/* Check that URI is an ldap://, ldaps:// or ldapi:// URL libldap takes. */
static int
check_uri(const char *uri, char **error_r)
{
	LDAPURLDesc *desc;

	if (strncasecmp(uri, "ldap://", 7) != 0 &&
	    strncasecmp(uri, "ldaps://", 8) != 0 &&
	    strncasecmp(uri, "ldapi://", 8) != 0) {
		*error_r = xasprintf("\"%s\": not an ldap://, ldaps:// or "
		    "ldapi:// URI", uri);
		return -1;
	}
	if (ldap_url_parse(uri, &desc) != LDAP_URL_SUCCESS) {
		*error_r = xasprintf("\"%s\": bad LDAP URI", uri);
		return -1;
	}
	ldap_free_urldesc(desc);
	return 0;
}

/* Check the settings SET that do not depend on the network or files. */
int
ldapc_check_settings(const struct ldapc_settings *set, char **error_r)
{
	size_t i;

	if (set->uris == NULL || set->uris[0] == NULL) {
		*error_r = xstrdup("no LDAP server URI");
		return -1;
	}
	for (i = 0; set->uris[i] != NULL; i++)
		if (check_uri(set->uris[i], error_r) < 0)
			return -1;
	if (set->version != 2 && set->version != 3) {
		*error_r = xasprintf("LDAP version %d: use 2 or 3",
		    set->version);
		return -1;
	}
	if (set->start_tls && set->version != 3) {
		*error_r = xstrdup("StartTLS needs LDAP version 3");
		return -1;
	}
	if (set->sasl_mech != NULL && *set->sasl_mech != '\0' &&
	    set->version != 3) {
		*error_r = xstrdup("SASL binds need LDAP version 3");
		return -1;
	}
	if (set->net_timeout <= 0 || set->op_timeout <= 0 ||
	    set->size_limit < 0 || set->deref < 0 || set->deref > 3) {
		*error_r = xstrdup("bad timeout, size limit or deref value");
		return -1;
	}
	return 0;
}

/*
 * Ignore SIGPIPE unless the program chose what to do with it: libldap
 * writes to its sockets with write(2), and a server that goes away must
 * be a failed request, not a dead process.
 */
void
ldapc_ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
}

/* Check the settings and create an unconnected object. */
int
ldapc_new(const struct ldapc_settings *set, struct ldapc **conn_r,
    char **error_r)
{
	struct ldapc_tls tls;
	struct ldapc *conn;
	size_t i;

	if (ldapc_check_settings(set, error_r) < 0 ||
	    ldapc_tls_init(&tls, set, error_r) < 0)
		return -1;
	ldapc_ignore_sigpipe();
	conn = xcalloc(1, sizeof(*conn));
	conn->tls = tls;
	conn->nuris = strv_len(set->uris);
	conn->uris = xcalloc(conn->nuris + 1, sizeof(*conn->uris));
	for (i = 0; i < conn->nuris; i++)
		conn->uris[i] = xstrdup(set->uris[i]);
	conn->down_until = xcalloc(conn->nuris, sizeof(*conn->down_until));
	ldapc_ident_init(&conn->id, set);
	conn->start_tls = set->start_tls;
	conn->version = set->version;
	conn->net_timeout = set->net_timeout;
	conn->op_timeout = set->op_timeout;
	conn->size_limit = set->size_limit;
	conn->deref = set->deref;
	*conn_r = conn;
	return 0;
}

/* Close the current connection, if any. */
static void
conn_drop(struct ldapc *conn)
{
	if (conn->ld != NULL)
		ldap_unbind_ext_s(conn->ld, NULL, NULL);
	conn->ld = NULL;
}

/* Close the connection, wipe the password and free CONN. */
void
ldapc_free(struct ldapc **connp)
{
	struct ldapc *conn = *connp;

	if (conn == NULL)
		return;
	conn_drop(conn);
	ldapc_ident_clear(&conn->id);
	ldapc_tls_clear(&conn->tls);
	strv_free(&conn->uris);
	free(conn->down_until);
	free(conn);
	*connp = NULL;
}

/* Return the URI in use, or NULL. */
const char *
ldapc_current_uri(const struct ldapc *conn)
{
	return conn->ld != NULL ? conn->uris[conn->cur] : NULL;
}

/* Return "REASON (DIAGNOSTIC)" for the result code RC on LD, allocated. */
char *
ldapc_reason(LDAP *ld, int rc)
{
	char *diag = NULL;
	char *text;

	if (ld != NULL)
		(void)ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	if (diag != NULL && *diag != '\0' &&
	    strcmp(diag, "(unknown error code)") != 0)
		text = xasprintf("%s (%s)", ldap_err2string(rc), diag);
	else
		text = xstrdup(ldap_err2string(rc));
	if (diag != NULL)
		ldap_memfree(diag);
	return text;
}

/* Set one option of LD; 0, or -1 with WHAT and the code. */
static int
apply_opt(LDAP *ld, int opt, const void *value, const char *what,
    const char **what_r, int *rc_r)
{
	int rc = ldap_set_option(ld, opt, value);

	if (rc == LDAP_OPT_SUCCESS)
		return 0;
	*what_r = what;
	*rc_r = rc;
	return -1;
}

/* Give LD the TLS context of TLS's shared handle. */
static int
apply_shared_ctx(LDAP *ld, const struct ldapc_tls *tls, const char **what_r,
    int *rc_r)
{
	void *ctx = NULL;
	int rc;

	rc = ldap_get_option(tls->shared, LDAP_OPT_X_TLS_CTX, &ctx);
	if (rc == LDAP_OPT_SUCCESS && ctx == NULL)
		rc = LDAP_OPT_ERROR;
	if (rc != LDAP_OPT_SUCCESS) {
		*what_r = "the shared TLS context";
		*rc_r = rc;
		return -1;
	}
	return apply_opt(ld, LDAP_OPT_X_TLS_CTX, ctx, "the shared TLS "
	    "context", what_r, rc_r);
}

/* Give LD the TLS settings and a TLS context. */
int
ldapc_apply_tls(LDAP *ld, const struct ldapc_tls *tls, const char **what_r,
    int *rc_r)
{
	static const int levels[] = {
		[LDAPC_TLS_NEVER] = LDAP_OPT_X_TLS_NEVER,
		[LDAPC_TLS_ALLOW] = LDAP_OPT_X_TLS_ALLOW,
		[LDAPC_TLS_TRY] = LDAP_OPT_X_TLS_TRY,
		[LDAPC_TLS_DEMAND] = LDAP_OPT_X_TLS_DEMAND,
		[LDAPC_TLS_HARD] = LDAP_OPT_X_TLS_HARD,
	};
	int is_server = 0;

	if (apply_opt(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &levels[tls->require],
	    "tls_require_cert", what_r, rc_r) < 0)
		return -1;
	if (tls->ca_file != NULL && apply_opt(ld, LDAP_OPT_X_TLS_CACERTFILE,
	    tls->ca_file, "TLS CA file", what_r, rc_r) < 0)
		return -1;
	if (tls->ca_dir != NULL && apply_opt(ld, LDAP_OPT_X_TLS_CACERTDIR,
	    tls->ca_dir, "TLS CA directory", what_r, rc_r) < 0)
		return -1;
	if (tls->shared != NULL)
		return apply_shared_ctx(ld, tls, what_r, rc_r);
	return apply_opt(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server,
	    "a new TLS context", what_r, rc_r);
}

/* Set the option OPT of LD to VALUE; on failure describe it. */
static int
set_opt(LDAP *ld, int opt, const void *value, const char *what,
    char **error_r)
{
	int rc;

	if (apply_opt(ld, opt, value, what, &what, &rc) == 0)
		return 0;
	*error_r = xasprintf("cannot set %s: %s", what, ldap_err2string(rc));
	return -1;
}

/* Apply the TLS settings to LD and give it its own TLS context. */
static int
set_tls_options(struct ldapc *conn, LDAP *ld, char **error_r)
{
	const char *what;
	int rc;

	if (ldapc_apply_tls(ld, &conn->tls, &what, &rc) == 0)
		return 0;
	*error_r = xasprintf("cannot set %s: %s", what, ldap_err2string(rc));
	return -1;
}

/* Apply the protocol, timeout and search settings to LD. */
static int
set_options(struct ldapc *conn, LDAP *ld, char **error_r)
{
	struct timeval net = { conn->net_timeout, 0 };
	struct timeval op = { conn->op_timeout, 0 };

	if (set_opt(ld, LDAP_OPT_PROTOCOL_VERSION, &conn->version,
	    "the protocol version", error_r) < 0 ||
	    set_opt(ld, LDAP_OPT_NETWORK_TIMEOUT, &net, "the network timeout",
	    error_r) < 0 ||
	    set_opt(ld, LDAP_OPT_TIMEOUT, &op, "the timeout", error_r) < 0 ||
	    set_opt(ld, LDAP_OPT_DEREF, &conn->deref, "deref", error_r) < 0 ||
	    set_opt(ld, LDAP_OPT_SIZELIMIT, &conn->size_limit, "size limit",
	    error_r) < 0 ||
	    set_opt(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF, "referrals",
	    error_r) < 0 ||
	    set_opt(ld, LDAP_OPT_RESTART, LDAP_OPT_ON, "restart",
	    error_r) < 0)
		return -1;
	return set_tls_options(conn, ld, error_r);
}

/* Bind LD as the configured identity, if any. */
static int
conn_bind(struct ldapc *conn, LDAP *ld, char **error_r)
{
	struct berval cred;
	char *why;
	int rc;

	if (conn->id.sasl_mech != NULL)
		return ldapc_sasl_bind(ld, &conn->id, error_r);
	if (conn->id.dn == NULL)
		return 0;
	cred.bv_val = conn->id.pw;
	cred.bv_len = strlen(conn->id.pw);
	rc = ldap_sasl_bind_s(ld, conn->id.dn, LDAP_SASL_SIMPLE, &cred,
	    NULL, NULL, NULL);
	if (rc == LDAP_SUCCESS)
		return 0;
	why = ldapc_reason(ld, rc);
	*error_r = xasprintf("bind as \"%s\" failed: %s", conn->id.dn,
	    why);
	free(why);
	return -1;
}

/* Connect to URI number I: connect, StartTLS, bind.  LD in *LD_R. */
static int
conn_open_uri(struct ldapc *conn, size_t i, LDAP **ld_r, char **error_r)
{
	LDAP *ld = NULL;
	char *why;
	int rc;

	if ((rc = ldap_initialize(&ld, conn->uris[i])) != LDAP_SUCCESS) {
		*error_r = xasprintf("%s", ldap_err2string(rc));
		return -1;
	}
	if (set_options(conn, ld, error_r) < 0)
		goto fail;
	if ((rc = ldap_connect(ld)) != LDAP_SUCCESS) {
		why = ldapc_reason(ld, rc);
		*error_r = xasprintf("cannot connect: %s", why);
		free(why);
		goto fail;
	}
	if (conn->start_tls &&
	    (rc = ldap_start_tls_s(ld, NULL, NULL)) != LDAP_SUCCESS) {
		why = ldapc_reason(ld, rc);
		*error_r = xasprintf("StartTLS failed (%s): %s",
		    rc == LDAP_CONNECT_ERROR ? "TLS handshake or certificate "
		    "verification failed" : "refused by the server", why);
		free(why);
		goto fail;
	}
	if (conn_bind(conn, ld, error_r) < 0)
		goto fail;
	*ld_r = ld;
	return 0;
fail:
	ldap_unbind_ext_s(ld, NULL, NULL);
	return -1;
}

/* Try URI number I; on failure add its reason to ERRORS. */
static int
conn_try_uri(struct ldapc *conn, size_t i, time_t now, struct str *errors)
{
	char *error = NULL;

	if (conn_open_uri(conn, i, &conn->ld, &error) == 0) {
		conn->cur = i;
		conn->connected_at = now;
		conn->down_until[i] = 0;
		return 0;
	}
	conn->down_until[i] = now + LDAPC_RETRY_DOWN;
	str_appendf(errors, "%s%s: %s", errors->len > 0 ? "; " : "",
	    conn->uris[i], error);
	free(error);
	return -1;
}

/*
 * Make sure CONN is connected: first to each URI not marked down, in
 * order, then to those marked down.  A connection to a fallback URI is
 * dropped after LDAPC_RETRY_DOWN seconds so that the first is tried
 * again.
 */
static int
conn_ensure(struct ldapc *conn, char **error_r)
{
	struct str errors = STR_INIT;
	time_t now = time(NULL);
	bool *was_down;
	size_t i;
	int pass, r = -1;

	if (conn->ld != NULL && conn->cur > 0 &&
	    now - conn->connected_at >= LDAPC_RETRY_DOWN)
		conn_drop(conn);
	if (conn->ld != NULL)
		return 0;
	was_down = xcalloc(conn->nuris, sizeof(*was_down));
	for (i = 0; i < conn->nuris; i++)
		was_down[i] = conn->down_until[i] > now;
	for (pass = 0; pass < 2 && r < 0; pass++)
		for (i = 0; i < conn->nuris && r < 0; i++)
			if (was_down[i] == (pass == 1))
				r = conn_try_uri(conn, i, now, &errors);
	if (r < 0)
		*error_r = xasprintf("no LDAP server available: %s",
		    str_c(&errors));
	free(was_down);
	str_free(&errors);
	return r;
}

/* True when RC says the connection is unusable and worth retrying. */
static bool
rc_is_down(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT ||
	    rc == LDAP_CONNECT_ERROR;
}

/* Copy the values of the attribute NAME of entry E into ATTR. */
static bool
copy_attr(LDAP *ld, LDAPMessage *e, const char *name, struct ldapc_attr *attr)
{
	struct berval **vals = ldap_get_values_len(ld, e, name);
	size_t i, n;

	n = vals != NULL ? (size_t)ldap_count_values_len(vals) : 0;
	if (n == 0) {
		ldap_value_free_len(vals);
		return false;
	}
	attr->name = xstrdup(name);
	attr->values = xcalloc(n + 1, sizeof(*attr->values));
	for (i = 0; i < n; i++)
		attr->values[i] = xstrndup(vals[i]->bv_val, vals[i]->bv_len);
	attr->count = n;
	ldap_value_free_len(vals);
	return true;
}

/* Copy the DN and attributes of the entry E into ENTRY. */
void
ldapc_copy_entry(LDAP *ld, LDAPMessage *e, struct ldapc_entry *entry)
{
	BerElement *ber = NULL;
	char *dn, *name;
	size_t cap = 0;

	dn = ldap_get_dn(ld, e);
	entry->dn = xstrdup(dn != NULL ? dn : "");
	ldap_memfree(dn);
	for (name = ldap_first_attribute(ld, e, &ber); name != NULL;
	    name = ldap_next_attribute(ld, e, ber)) {
		if (entry->count == cap) {
			cap = cap ? cap * 2 : 8;
			entry->attrs = xreallocarray(entry->attrs, cap,
			    sizeof(*entry->attrs));
		}
		if (copy_attr(ld, e, name, &entry->attrs[entry->count]))
			entry->count++;
		ldap_memfree(name);
	}
	if (ber != NULL)
		ber_free(ber, 0);
}

/* Convert the search result MSG into a struct ldapc_result. */
static struct ldapc_result *
copy_result(LDAP *ld, LDAPMessage *msg)
{
	struct ldapc_result *res = xcalloc(1, sizeof(*res));
	LDAPMessage *e;
	int n = ldap_count_entries(ld, msg);

	res->entries = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*res->entries));
	for (e = ldap_first_entry(ld, msg); e != NULL && res->count <
	    (size_t)n; e = ldap_next_entry(ld, e))
		ldapc_copy_entry(ld, e, &res->entries[res->count++]);
	return res;
}

/* Run QUERY once on the open connection; the libldap code. */
static int
search_once(struct ldapc *conn, const struct ldapc_query *query,
    LDAPMessage **msg_r)
{
	static const int scopes[] = {
		[LDAPC_SCOPE_BASE] = LDAP_SCOPE_BASE,
		[LDAPC_SCOPE_ONE] = LDAP_SCOPE_ONELEVEL,
		[LDAPC_SCOPE_SUB] = LDAP_SCOPE_SUBTREE,
	};
	struct timeval tv = { conn->op_timeout, 0 };

	*msg_r = NULL;
	return ldap_search_ext_s(conn->ld, query->base, scopes[query->scope],
	    query->filter, (char **)(uintptr_t)query->attrs, 0, NULL, NULL,
	    &tv, conn->size_limit, msg_r);
}

/* Search, reconnecting and retrying once if the server went away. */
int
ldapc_search(struct ldapc *conn, const struct ldapc_query *query,
    struct ldapc_result **result_r, char **error_r)
{
	LDAPMessage *msg;
	char *why;
	int attempt, rc;

	for (attempt = 0;; attempt++) {
		if (conn_ensure(conn, error_r) < 0)
			return -1;
		rc = search_once(conn, query, &msg);
		if (!rc_is_down(rc) || attempt == 1)
			break;
		ldap_msgfree(msg);
		conn_drop(conn);
	}
	if (rc == LDAP_NO_SUCH_OBJECT && query->base_may_be_missing)
		rc = LDAP_SUCCESS;
	if (rc == LDAP_SUCCESS) {
		*result_r = copy_result(conn->ld, msg);
		ldap_msgfree(msg);
		return 0;
	}
	why = ldapc_reason(conn->ld, rc);
	*error_r = xasprintf("%s: search \"%s\" under \"%s\" failed: %s",
	    conn->uris[conn->cur], query->filter, query->base, why);
	free(why);
	ldap_msgfree(msg);
	if (rc_is_down(rc))
		conn_drop(conn);
	return -1;
}

/* Return the values of ATTR in ENTRY, or NULL. */
char *const *
ldapc_entry_values(const struct ldapc_entry *entry, const char *attr)
{
	size_t i;

	for (i = 0; i < entry->count; i++)
		if (strcasecmp(entry->attrs[i].name, attr) == 0)
			return entry->attrs[i].values;
	return NULL;
}

/* Free the contents of ENTRY. */
static void
entry_free(struct ldapc_entry *entry)
{
	size_t i;

	for (i = 0; i < entry->count; i++) {
		free(entry->attrs[i].name);
		strv_free(&entry->attrs[i].values);
	}
	free(entry->attrs);
	free(entry->dn);
}

/* Free a search result. */
void
ldapc_result_free(struct ldapc_result **resultp)
{
	struct ldapc_result *res = *resultp;
	size_t i;

	if (res == NULL)
		return;
	for (i = 0; i < res->count; i++)
		entry_free(&res->entries[i]);
	free(res->entries);
	free(res);
	*resultp = NULL;
}

/* Bind as DN with PASSWORD on the open connection. */
static int
bind_user(struct ldapc *conn, const char *dn, const char *password)
{
	struct berval cred;

	cred.bv_val = (char *)(uintptr_t)password;
	cred.bv_len = strlen(password);
	return ldap_sasl_bind_s(conn->ld, dn, LDAP_SASL_SIMPLE, &cred, NULL,
	    NULL, NULL);
}

/* Check a password with a simple bind, retrying once. */
int
ldapc_check_password(struct ldapc *conn, const char *dn,
    const char *password, char **error_r)
{
	char *why;
	int attempt, rc;

	if (*password == '\0' || *dn == '\0')
		return 0;
	for (attempt = 0;; attempt++) {
		if (conn_ensure(conn, error_r) < 0)
			return -1;
		rc = bind_user(conn, dn, password);
		if (!rc_is_down(rc) || attempt == 1)
			break;
		conn_drop(conn);
	}
	if (rc == LDAP_SUCCESS)
		return 1;
	if (rc == LDAP_INVALID_CREDENTIALS)
		return 0;
	why = ldapc_reason(conn->ld, rc);
	*error_r = xasprintf("%s: bind as \"%s\" failed: %s",
	    conn->uris[conn->cur], dn, why);
	free(why);
	conn_drop(conn);
	return -1;
}
