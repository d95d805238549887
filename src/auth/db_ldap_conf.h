#ifndef DIRMAIL_AUTH_DB_LDAP_CONF_H
#define DIRMAIL_AUTH_DB_LDAP_CONF_H

/*
 * Dovecot's dovecot-ldap.conf.ext, the settings of the ldap passdb and
 * userdb: "key = value" lines, "#" comments (outside quotes), values
 * optionally in matching double or single quotes, a trailing "\"
 * continuing a line.  Defaults are Dovecot 2.3's.
 */

#include <stdbool.h>
#include <stddef.h>

#include "ldap/ldapc.h"

/*
 * One field of a result: either the value of LDAP_ATTR copied into NAME,
 * or TEMPLATE (Dovecot %-variables, %{ldap:attr} included) expanded into
 * NAME.  From "=home=/var/mail/%{ldap:uid}" (Dovecot 2.3) or
 * "homeDirectory=home" and "attr=name=template" (older syntax).
 */
struct db_ldap_field {
	char *ldap_attr;	/* NULL for "=name=template" */
	char *name;		/* the dirmail/Dovecot field name */
	char *template;		/* NULL: copy LDAP_ATTR's value */
};

/* A parsed *_attrs setting. */
struct db_ldap_fields {
	struct db_ldap_field *fields;
	size_t count;
	char **search_attrs;	/* NULL-terminated, no duplicates (case-
				   insensitive): the attributes to request */
};

struct db_ldap_conf {
	char *path;
	char **uris;		/* from uris, or hosts made ldap:// URIs */
	char *dn;		/* "" : anonymous */
	char *dnpass;		/* wiped when freed */
	bool sasl_bind;		/* "dn" binds with SASL; forces
				   ldap_version = 3 */
	char *sasl_mech;	/* needed with sasl_bind */
	char *sasl_realm;
	char *sasl_authz_id;
	bool tls;		/* StartTLS */
	char *tls_ca_cert_file;
	char *tls_ca_cert_dir;
	char *tls_cert_file;	/* both or neither; checked readable */
	char *tls_key_file;
	bool tls_require_cert_set;	/* false: libldap's default */
	enum ldapc_tls_require tls_require_cert;
	int ldap_version;
	char *base;
	int deref;		/* 0 never, 1 searching, 2 finding, 3 always */
	enum ldapc_scope scope;
	bool auth_bind;
	char *auth_bind_userdn;	/* "": search the DN with pass_filter */
	char *user_attrs;
	char *user_filter;
	char *pass_attrs;
	char *pass_filter;
	char *iterate_attrs;
	char *iterate_filter;
	struct db_ldap_fields user_fields;
	struct db_ldap_fields pass_fields;
	struct db_ldap_fields iterate_fields;
	char *default_pass_scheme;
	bool blocking;		/* accepted, ignored */
	int debug_level;
};

/*
 * Read the dovecot-ldap.conf.ext file PATH.  Unknown keys are logged as
 * warnings "file:line: key: unknown setting".  Templates (filters,
 * auth_bind_userdn, attribute templates) are checked for unknown
 * variables.  Returns 0 and the settings, defaults filled in, in
 * *CONF_R, or -1 with "file:line: key: reason" (or a reason naming the
 * file) in *ERROR_R (allocated; the caller frees it).  No message holds
 * the value of dnpass.
 */
int db_ldap_conf_read(const char *path, struct db_ldap_conf **conf_r,
    char **error_r);

/* Free CONF (wiping dnpass) and NULL *CONF. */
void db_ldap_conf_free(struct db_ldap_conf **conf);

/*
 * Parse the attribute list ATTRS (user_attrs, pass_attrs or
 * iterate_attrs syntax) into FIELDS.  Returns 0, or -1 with a static
 * reason in *ERROR_R.  Free FIELDS with db_ldap_fields_clear().
 */
int db_ldap_fields_parse(const char *attrs, struct db_ldap_fields *fields,
    const char **error_r);

/* Free what FIELDS holds and clear it. */
void db_ldap_fields_clear(struct db_ldap_fields *fields);

#endif
