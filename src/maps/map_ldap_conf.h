#ifndef DIRMAIL_MAPS_MAP_LDAP_CONF_H
#define DIRMAIL_MAPS_MAP_LDAP_CONF_H

/*
 * The inside of the ldap table (map_ldap.c), declared here for its unit
 * tests: the Postfix ldap_table(5) configuration file and the "%"
 * expansions of query_filter, search_base and result_format.  Nothing
 * else should include this header: use map_open("ldap:FILE").
 */

#include <stdbool.h>

#include "ldap/ldapc.h"
#include "lib/str.h"

struct ldap_table_conf {
	char **server_host;	/* as given */
	char **uris;		/* server_host made URIs with server_port */
	int server_port;
	char *search_base;
	enum ldapc_scope scope;
	char *query_filter;
	char **result_attribute;
	char **special_result_attribute;
	char **leaf_result_attribute;
	char **terminal_result_attribute;
	char *result_format;
	char **domain;		/* empty: every key is looked up */
	bool bind;
	char *bind_dn;		/* empty: anonymous */
	char *bind_pw;		/* wiped when freed */
	bool start_tls;
	enum ldapc_tls_require tls_require_cert;
	char *tls_ca_cert_file;
	char *tls_ca_cert_dir;
	int version;
	int timeout;		/* seconds */
	int size_limit;		/* 0: none; default expansion_limit */
	int dereference;
	int recursion_limit;
	int expansion_limit;	/* 0: none */
};

/*
 * Read the ldap_table(5) file PATH: "name = value" lines, "#" comments,
 * continuation lines starting with white space.  Unknown names are
 * logged as warnings "file:line: name: unknown parameter".  Returns 0
 * and the settings (defaults filled in) in *CONF_R, or -1 with
 * "file:line: name: reason" (or a reason naming the file) in *ERROR_R
 * (allocated).
 */
int ldap_table_conf_read(const char *path, struct ldap_table_conf **conf_r,
    char **error_r);

/* Free CONF (wiping the password) and NULL *CONF. */
void ldap_table_conf_free(struct ldap_table_conf **conf);

/*
 * Check that FMT holds only the expansions %s %u %d %S %U %D %1..%9 and
 * %%.  Returns 0, or -1 with a static reason in *ERROR_R.
 */
int ldap_table_check_format(const char *fmt, const char **error_r);

/* How ldap_table_expand() escapes what it inserts. */
enum ldap_table_escape {
	LDAP_TABLE_ESC_NONE,	/* result_format */
	LDAP_TABLE_ESC_FILTER,	/* query_filter: RFC 4515 */
	LDAP_TABLE_ESC_DN,	/* search_base: RFC 4514 */
};

/*
 * Append FMT to OUT with its expansions, as Postfix does.  With VALUE
 * NULL (query_filter, search_base), %s %u %d and %S %U %D are parts of
 * KEY; with a VALUE (result_format), %s %u %d are parts of VALUE and
 * %S %U %D parts of KEY.  %1..%9 are the labels of KEY's domain from
 * the right.  %u is the local part (the whole string when it has no
 * "@"), %d the domain.  Returns 1, or 0 when a part is missing (no
 * domain for %d or %1, an empty local part for %u, too few labels): the
 * query is then suppressed (or the value skipped), and OUT is left as
 * it was.
 */
int ldap_table_expand(struct str *out, const char *fmt, const char *key,
    const char *value, enum ldap_table_escape esc);

/*
 * True when KEY may be looked up under CONF's domain restriction: no
 * restriction, or KEY is user@domain with a listed domain.
 */
bool ldap_table_domain_ok(const struct ldap_table_conf *conf,
    const char *key);

#endif
