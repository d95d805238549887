/*
 * The ldap passdb and userdb over the asynchronous LDAP client: DN
 * templates, search-then-bind, password lookups and user lookups.
 */

#include "config.h"

#include <sys/queue.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "auth/db_ldap.h"
#include "auth/db_ldap_conf.h"
#include "auth/password.h"
#include "auth/var_expand.h"
#include "ldap/ldapc.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* Seconds to connect, and for each bind or search. */
#define DB_LDAP_NET_TIMEOUT	3
#define DB_LDAP_OP_TIMEOUT	5
/* Connections for searches, and for user binds. */
#define DB_LDAP_SEARCH_CONNS	4
#define DB_LDAP_BIND_CONNS	8

struct ldap_req;

struct db_ldap {
	struct db_ldap_conf *conf;
	struct ldapc_pool *search;	/* bound as "dn" */
	struct ldapc_pool *bind;	/* auth_bind: users' binds */
	LIST_HEAD(req_list, ldap_req) reqs;
};

struct ldap_req {
	struct db_ldap *db;
	struct db_query *q;
	struct ldapc_op *op;
	LIST_ENTRY(ldap_req) link;
};

/* Start a request for Q. */
static struct ldap_req *
req_new(struct db_ldap *db, struct db_query *q)
{
	struct ldap_req *req = xcalloc(1, sizeof(*req));

	req->db = db;
	req->q = q;
	LIST_INSERT_HEAD(&db->reqs, req, link);
	return req;
}

/* Answer REQ's query with RESULT and free REQ. */
static void
req_done(struct ldap_req *req, enum db_result result, const char *error)
{
	struct db_query *q = req->q;

	LIST_REMOVE(req, link);
	free(req);
	if (error != NULL)
		q->error = error;
	db_query_done(q, result);
}

/* Log ERROR for USER and answer REQ with a temporary failure. */
static void
req_tempfail(struct ldap_req *req, const char *error)
{
	log_error("ldap %s: user %s: %s", req->db->conf->path, req->q->user,
	    error);
	req_done(req, DB_TEMPFAIL, "LDAP lookup failed");
}

/* %{ldap:NAME}: the first value of NAME in the entry CONTEXT. */
static int
ldap_var(const char *prefix, const char *name, void *context,
    const char **value_r, const char **error_r)
{
	const struct ldapc_entry *entry = context;
	char *const *values;

	if (strcmp(prefix, "ldap") != 0) {
		*error_r = "unknown variable prefix";
		return -1;
	}
	if (entry == NULL ||
	    (values = ldapc_entry_values(entry, name)) == NULL)
		return 0;
	*value_r = values[0];
	return 1;
}

/*
 * Expand TEMPLATE for Q, values escaped with ESCAPE, %{ldap:..} from
 * ENTRY and %$ as SELF.  0 and a new string in *OUT_R, or -1.
 */
static int
expand(const char *template, const struct db_query *q,
    var_expand_escape_t *escape, const struct ldapc_entry *entry,
    const char *self, char **out_r, const char **error_r)
{
	struct var_expand_auth auth;
	struct var_expand_entry table[VAR_EXPAND_AUTH_COUNT + 2];
	struct var_expand_params params;
	struct str out = STR_INIT;
	int r;

	var_expand_auth_init(&auth, q->user, q->service, q->rip, q->lip,
	    NULL);
	memcpy(table, auth.table, sizeof(auth.table));
	table[VAR_EXPAND_AUTH_COUNT] = (struct var_expand_entry){ '$', NULL,
	    self };
	table[VAR_EXPAND_AUTH_COUNT + 1] = (struct var_expand_entry){ '\0',
	    NULL, NULL };
	params = (struct var_expand_params){ table, ldap_var,
	    (void *)(uintptr_t)entry, escape };
	r = var_expand(&out, template, &params, error_r);
	var_expand_auth_deinit(&auth);
	*out_r = r == 0 ? xstrdup(out.s != NULL ? str_c(&out) : "") : NULL;
	str_free(&out);
	return r;
}

/* Wipe and free the secret S. */
static void
free_password(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* True when NAME is the passdb's password field. */
static bool
is_password_field(const char *name)
{
	return strcasecmp(name, "password") == 0 ||
	    strcasecmp(name, "password_noscheme") == 0;
}

/*
 * Set Q's fields from ENTRY as FL says.  A passdb password field goes
 * into *PASSWORD_R (when not NULL) instead.
 */
static void
fill_fields(const struct db_ldap_fields *fl, const struct ldapc_entry *e,
    struct db_query *q, char **password_r)
{
	const struct db_ldap_field *f;
	char *const *vals;
	const char *error;
	char *value;
	size_t i;

	for (i = 0; i < fl->count; i++) {
		f = &fl->fields[i];
		vals = f->ldap_attr != NULL ?
		    ldapc_entry_values(e, f->ldap_attr) : NULL;
		if (f->ldap_attr != NULL && vals == NULL)
			continue;
		if (f->template == NULL)
			value = xstrdup(vals[0]);
		else if (expand(f->template, q, NULL, e, vals != NULL ?
		    vals[0] : NULL, &value, &error) < 0)
			continue;
		if (password_r != NULL && is_password_field(f->name)) {
			free_password(*password_r);
			*password_r = value;
			continue;
		}
		fields_set(&q->fields, f->name, value);
		free(value);
	}
}

/* Build the search base for Q (DN-escaped values); NULL on error. */
static char *
search_base(struct ldap_req *req)
{
	const char *error;
	char *base;

	if (expand(req->db->conf->base, req->q, ldapc_escape_dn_n, NULL,
	    NULL, &base, &error) < 0) {
		req_tempfail(req, error);
		return NULL;
	}
	return base;
}

/* Search FILTER_TMPL (RFC 4515-escaped values) for REQ's user. */
static void
req_search(struct ldap_req *req, const char *filter_tmpl,
    char *const *attrs, ldapc_search_cb *cb)
{
	struct db_ldap_conf *conf = req->db->conf;
	struct ldapc_query query = { 0 };
	const char *error;
	char *base, *filter;

	if ((base = search_base(req)) == NULL)
		return;
	if (expand(filter_tmpl, req->q, ldapc_escape_filter_n, NULL, NULL,
	    &filter, &error) < 0) {
		free(base);
		req_tempfail(req, error);
		return;
	}
	query.base = base;
	query.scope = conf->scope;
	query.filter = filter;
	query.attrs = (const char *const *)attrs;
	req->op = ldapc_search_start(req->db->search, &query, cb, req);
	free(base);
	free(filter);
}

/* Check the search answer: 1 with the one entry, or 0 when answered. */
static int
one_entry(struct ldap_req *req, int ret, struct ldapc_result *res,
    const char *error, const char *what)
{
	char *msg;

	req->op = NULL;
	if (ret < 0) {
		req_tempfail(req, error);
		return 0;
	}
	if (res->count == 0) {
		req_done(req, DB_NOTFOUND, NULL);
		return 0;
	}
	if (res->count > 1) {
		msg = xasprintf("%s matched %zu entries, not one", what,
		    res->count);
		req_tempfail(req, msg);
		free(msg);
		return 0;
	}
	return 1;
}

/* The user bind answered. */
static void
bind_done(int ret, const char *error, void *ctx)
{
	struct ldap_req *req = ctx;

	req->op = NULL;
	if (ret < 0)
		req_tempfail(req, error);
	else
		req_done(req, ret == 1 ? DB_OK : DB_MISMATCH, NULL);
}

/* auth_bind = no: check the password read from the directory. */
static void
verify_stored(struct ldap_req *req, char *stored)
{
	const char *error;
	int r;

	if (stored == NULL) {
		log_info("ldap %s: user %s: no password in the entry",
		    req->db->conf->path, req->q->user);
		req_done(req, DB_MISMATCH, NULL);
		return;
	}
	r = password_verify(req->q->password, stored,
	    req->db->conf->default_pass_scheme, &error);
	free_password(stored);
	if (r < 0)
		req_tempfail(req, error);
	else
		req_done(req, r == 1 ? DB_OK : DB_MISMATCH, NULL);
}

/* The passdb search answered. */
static void
pass_search_done(int ret, struct ldapc_result *res, const char *error,
    void *ctx)
{
	struct ldap_req *req = ctx;
	struct db_ldap *db = req->db;
	char *stored = NULL;

	if (one_entry(req, ret, res, error, "pass_filter")) {
		fill_fields(&db->conf->pass_fields, &res->entries[0], req->q,
		    &stored);
		if (req->q->password == NULL) {
			free_password(stored);
			req_done(req, DB_OK, NULL);
		} else if (db->conf->auth_bind) {
			free_password(stored);
			req->op = ldapc_bind_start(db->bind,
			    res->entries[0].dn, req->q->password, bind_done,
			    req);
		} else
			verify_stored(req, stored);
	}
	ldapc_result_free(&res);
}

/* The DN template's entry, looked up without a password, answered. */
static void
dn_search_done(int ret, struct ldapc_result *res, const char *error,
    void *ctx)
{
	struct ldap_req *req = ctx;

	if (one_entry(req, ret, res, error, "auth_bind_userdn"))
		req_done(req, DB_OK, NULL);
	ldapc_result_free(&res);
}

/* auth_bind_userdn: bind as the DN made from the template. */
static void
dn_template(struct ldap_req *req)
{
	struct ldapc_query query = { 0 };
	const char *error;
	char *dn;

	if (expand(req->db->conf->auth_bind_userdn, req->q,
	    ldapc_escape_dn_n, NULL, NULL, &dn, &error) < 0) {
		req_tempfail(req, error);
		return;
	}
	if (req->q->password != NULL)
		req->op = ldapc_bind_start(req->db->bind, dn,
		    req->q->password, bind_done, req);
	else {
		query.base = dn;
		query.scope = LDAPC_SCOPE_BASE;
		query.filter = "(objectClass=*)";
		query.base_may_be_missing = true;
		req->op = ldapc_search_start(req->db->search, &query,
		    dn_search_done, req);
	}
	free(dn);
}

/* passdb: check Q's password (or look the user up without one). */
static void
passdb_ldap_verify(void *vdb, struct db_query *q)
{
	struct db_ldap *db = vdb;
	struct ldap_req *req;

	if (q->password != NULL && *q->password == '\0') {
		db_query_done(q, DB_MISMATCH);
		return;
	}
	req = req_new(db, q);
	if (db->conf->auth_bind && *db->conf->auth_bind_userdn != '\0')
		dn_template(req);
	else
		req_search(req, db->conf->pass_filter,
		    db->conf->pass_fields.search_attrs, pass_search_done);
}

/* The userdb search answered. */
static void
user_search_done(int ret, struct ldapc_result *res, const char *error,
    void *ctx)
{
	struct ldap_req *req = ctx;

	if (one_entry(req, ret, res, error, "user_filter")) {
		fill_fields(&req->db->conf->user_fields, &res->entries[0],
		    req->q, NULL);
		req_done(req, DB_OK, NULL);
	}
	ldapc_result_free(&res);
}

/* userdb: look Q's user up. */
static void
userdb_ldap_lookup(void *vdb, struct db_query *q)
{
	struct db_ldap *db = vdb;

	req_search(req_new(db, q), db->conf->user_filter,
	    db->conf->user_fields.search_attrs, user_search_done);
}

/* Fill SET from CONF. */
static void
conf_settings(const struct db_ldap_conf *conf, struct ldapc_settings *set)
{
	memset(set, 0, sizeof(*set));
	set->uris = conf->uris;
	set->bind_dn = conf->dn;
	set->bind_pw = conf->dnpass;
	set->start_tls = conf->tls;
	set->tls_require_cert = conf->tls_require_cert_set ?
	    conf->tls_require_cert : LDAPC_TLS_DEMAND;
	set->tls_ca_file = conf->tls_ca_cert_file;
	set->tls_ca_dir = conf->tls_ca_cert_dir;
	set->tls_cert_file = conf->tls_cert_file;
	set->tls_key_file = conf->tls_key_file;
	set->version = conf->ldap_version;
	if (conf->sasl_bind) {
		set->sasl_mech = conf->sasl_mech;
		set->sasl_realm = conf->sasl_realm;
		set->sasl_authz_id = conf->sasl_authz_id;
	}
	set->net_timeout = DB_LDAP_NET_TIMEOUT;
	set->op_timeout = DB_LDAP_OP_TIMEOUT;
	set->deref = conf->deref;
}

/* Replace *ERROR_R with "PATH: *ERROR_R". */
static void
prefix_error(const char *path, char **error_r)
{
	char *error = xasprintf("%s: %s", path, *error_r);

	free(*error_r);
	*error_r = error;
}

/*
 * Make DB's pools from SET: searches bound as "dn" (simple or SASL), and
 * with auth_bind a pool for users' binds, always simple binds, with no
 * service identity but the same TLS client certificate.
 */
static int
pools_new(struct db_ldap *db, struct ldapc_settings *set, char **error_r)
{
	if (ldapc_pool_new(auth_base, set, DB_LDAP_SEARCH_CONNS, false,
	    &db->search, error_r) < 0)
		return -1;
	set->bind_dn = set->bind_pw = NULL;
	set->sasl_mech = set->sasl_realm = set->sasl_authz_id = NULL;
	if (db->conf->auth_bind && ldapc_pool_new(auth_base, set,
	    DB_LDAP_BIND_CONNS, true, &db->bind, error_r) < 0)
		return -1;
	return 0;
}

/* Read the file ARGS and make the connection pools. */
static int
db_ldap_init(const char *args, void **db_r, char **error_r)
{
	struct ldapc_settings set;
	struct db_ldap *db = xcalloc(1, sizeof(*db));

	LIST_INIT(&db->reqs);
	if (db_ldap_conf_read(args, &db->conf, error_r) < 0)
		goto fail;
	conf_settings(db->conf, &set);
	if (pools_new(db, &set, error_r) < 0) {
		prefix_error(args, error_r);
		goto fail;
	}
	*db_r = db;
	return 0;
fail:
	ldapc_pool_free(&db->search);
	db_ldap_conf_free(&db->conf);
	free(db);
	return -1;
}

/* Drop every request (their lookups time out) and free DB. */
static void
db_ldap_deinit(void *vdb)
{
	struct db_ldap *db = vdb;
	struct ldap_req *req;

	while ((req = LIST_FIRST(&db->reqs)) != NULL) {
		ldapc_op_abort(&req->op);
		LIST_REMOVE(req, link);
		free(req);
	}
	ldapc_pool_free(&db->bind);
	ldapc_pool_free(&db->search);
	db_ldap_conf_free(&db->conf);
	free(db);
}

const struct passdb_driver passdb_ldap = {
	.name = "ldap",
	.init = db_ldap_init,
	.deinit = db_ldap_deinit,
	.verify = passdb_ldap_verify,
};

const struct userdb_driver userdb_ldap = {
	.name = "ldap",
	.init = db_ldap_init,
	.deinit = db_ldap_deinit,
	.lookup = userdb_ldap_lookup,
};
