/*
 * ldap:FILE: Postfix ldap_table(5).  FILE holds "name = value" settings
 * (see map_ldap_conf.h); a lookup expands query_filter with the key,
 * searches, and joins the result attributes' values of every entry
 * found with ",".  DN-valued special_result_attribute values are looked
 * up in turn.  A server that cannot answer is MAP_ERROR, never
 * MAP_NOTFOUND.
 */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ldap/ldapc.h"
#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "maps/drivers.h"
#include "maps/map_ldap_conf.h"
#include "maps/mapfile.h"

/* An open table. */
struct ldap_table {
	struct ldap_table_conf *conf;
	struct ldapc *conn;
	char **attrs;		/* every attribute a lookup asks for */
};

/* One lookup in progress: the key, the values so far, the error. */
struct lookup {
	struct ldap_table *t;
	const char *key;
	struct str out;
	int count;
	char *error;
};

/* Add the words of LIST that are not yet in *V. */
static void
attrs_add(char ***v, size_t *n, char *const *list)
{
	size_t i, j;

	for (i = 0; list[i] != NULL; i++) {
		for (j = 0; j < *n; j++)
			if (strcasecmp((*v)[j], list[i]) == 0)
				break;
		if (j < *n)
			continue;
		*v = xreallocarray(*v, *n + 2, sizeof(**v));
		(*v)[(*n)++] = xstrdup(list[i]);
		(*v)[*n] = NULL;
	}
}

/* Return the attributes a lookup with CONF asks for. */
static char **
conf_attrs(const struct ldap_table_conf *conf)
{
	char **v = xcalloc(1, sizeof(*v));
	size_t n = 0;

	attrs_add(&v, &n, conf->result_attribute);
	attrs_add(&v, &n, conf->special_result_attribute);
	attrs_add(&v, &n, conf->leaf_result_attribute);
	attrs_add(&v, &n, conf->terminal_result_attribute);
	return v;
}

/* Add VALUE, formatted, to the result of LK. */
static int
add_value(struct lookup *lk, const char *value)
{
	const struct ldap_table_conf *conf = lk->t->conf;
	size_t mark = lk->out.len;

	if (lk->count > 0)
		str_append_c(&lk->out, ',');
	if (!ldap_table_expand(&lk->out, conf->result_format, lk->key, value,
	    LDAP_TABLE_ESC_NONE)) {
		str_truncate(&lk->out, mark);
		return 0;
	}
	lk->count++;
	if (conf->expansion_limit > 0 && lk->count > conf->expansion_limit) {
		lk->error = xasprintf("more than expansion_limit = %d values",
		    conf->expansion_limit);
		return -1;
	}
	return 0;
}

/* Add the values of the attributes NAMES of entry E. */
static int
add_attrs(struct lookup *lk, const struct ldapc_entry *e, char *const *names)
{
	char *const *vals;
	size_t i, j;

	for (i = 0; names[i] != NULL; i++) {
		if ((vals = ldapc_entry_values(e, names[i])) == NULL)
			continue;
		for (j = 0; vals[j] != NULL; j++)
			if (add_value(lk, vals[j]) < 0)
				return -1;
	}
	return 0;
}

/* True when entry E has a value of one of the attributes NAMES. */
static bool
has_any(const struct ldapc_entry *e, char *const *names)
{
	size_t i;

	for (i = 0; names[i] != NULL; i++)
		if (ldapc_entry_values(e, names[i]) != NULL)
			return true;
	return false;
}

static int search_collect(struct lookup *, const struct ldapc_query *, int);

/* Look up the entries named by the special attributes of E. */
static int
follow_special(struct lookup *lk, const struct ldapc_entry *e, int depth)
{
	char *const *names = lk->t->conf->special_result_attribute;
	struct ldapc_query q = {
		.scope = LDAPC_SCOPE_BASE,
		.filter = "(objectClass=*)",
		.attrs = (const char *const *)lk->t->attrs,
		.base_may_be_missing = true,
	};
	char *const *dns;
	size_t i, j;

	if (depth >= lk->t->conf->recursion_limit) {
		lk->error = xasprintf("\"%s\": more than recursion_limit = %d "
		    "levels", e->dn, lk->t->conf->recursion_limit);
		return -1;
	}
	for (i = 0; names[i] != NULL; i++) {
		if ((dns = ldapc_entry_values(e, names[i])) == NULL)
			continue;
		for (j = 0; dns[j] != NULL; j++) {
			q.base = dns[j];
			if (search_collect(lk, &q, depth + 1) < 0)
				return -1;
		}
	}
	return 0;
}

/* Add what entry E contributes, following its special attributes. */
static int
collect_entry(struct lookup *lk, const struct ldapc_entry *e, int depth)
{
	const struct ldap_table_conf *conf = lk->t->conf;

	if (has_any(e, conf->terminal_result_attribute))
		return add_attrs(lk, e, conf->terminal_result_attribute);
	if (add_attrs(lk, e, conf->result_attribute) < 0)
		return -1;
	if (!has_any(e, conf->special_result_attribute))
		return add_attrs(lk, e, conf->leaf_result_attribute);
	return follow_special(lk, e, depth);
}

/* Run QUERY and collect what every entry found contributes. */
static int
search_collect(struct lookup *lk, const struct ldapc_query *query, int depth)
{
	struct ldapc_result *res;
	size_t i;
	int r = 0;

	if (ldapc_search(lk->t->conn, query, &res, &lk->error) < 0)
		return -1;
	for (i = 0; i < res->count && r == 0; i++)
		r = collect_entry(lk, &res->entries[i], depth);
	ldapc_result_free(&res);
	return r;
}

/* Look KEY up: expand the filter, search, collect the values. */
static int
ldap_lookup(struct map *map, const char *key, char **value_r)
{
	struct ldap_table *t = map->ctx;
	const struct ldap_table_conf *conf = t->conf;
	struct lookup lk = { .t = t, .key = key, .out = STR_INIT };
	struct str filter = STR_INIT, base = STR_INIT;
	struct ldapc_query q;
	int r = MAP_NOTFOUND;

	if (!ldap_table_domain_ok(conf, key) ||
	    !ldap_table_expand(&filter, conf->query_filter, key, NULL,
	    LDAP_TABLE_ESC_FILTER) ||
	    !ldap_table_expand(&base, conf->search_base, key, NULL,
	    LDAP_TABLE_ESC_DN))
		goto done;
	q.base = str_c(&base);
	q.scope = conf->scope;
	q.filter = str_c(&filter);
	q.attrs = (const char *const *)t->attrs;
	q.base_may_be_missing = strchr(conf->search_base, '%') != NULL;
	if (search_collect(&lk, &q, 0) < 0) {
		map_set_error(map, "%s", lk.error);
		r = MAP_ERROR;
	} else if (lk.count > 0) {
		*value_r = str_steal(&lk.out);
		r = MAP_FOUND;
	}
done:
	free(lk.error);
	str_free(&lk.out);
	str_free(&filter);
	str_free(&base);
	return r;
}

/* Read the settings of MAP->name and make the (unconnected) client. */
static int
ldap_open(struct map *map, char **error_r)
{
	struct ldap_table_conf *conf;
	struct ldapc_settings set;
	struct ldap_table *t;

	if (ldap_table_conf_read(map->name, &conf, error_r) < 0)
		return -1;
	memset(&set, 0, sizeof(set));
	set.uris = conf->uris;
	set.bind_dn = conf->bind ? conf->bind_dn : NULL;
	set.bind_pw = conf->bind_pw;
	set.start_tls = conf->start_tls;
	set.tls_require_cert = conf->tls_require_cert;
	set.tls_ca_file = conf->tls_ca_cert_file;
	set.tls_ca_dir = conf->tls_ca_cert_dir;
	set.version = conf->version;
	set.net_timeout = conf->timeout;
	set.op_timeout = conf->timeout;
	set.size_limit = conf->size_limit;
	set.deref = conf->dereference;
	t = xcalloc(1, sizeof(*t));
	t->conf = conf;
	if (ldapc_new(&set, &t->conn, error_r) < 0) {
		ldap_table_conf_free(&t->conf);
		free(t);
		return -1;
	}
	t->attrs = conf_attrs(conf);
	map->ctx = t;
	return 0;
}

/* Disconnect and free everything. */
static void
ldap_close(struct map *map)
{
	struct ldap_table *t = map->ctx;

	if (t == NULL)
		return;
	ldapc_free(&t->conn);
	ldap_table_conf_free(&t->conf);
	strv_free(&t->attrs);
	free(t);
	map->ctx = NULL;
}

const struct map_driver map_driver_ldap = {
	.type = "ldap",
	.flags = MAP_DRV_BLOCKING,
	.open = ldap_open,
	.lookup = ldap_lookup,
	.close = ldap_close,
};
