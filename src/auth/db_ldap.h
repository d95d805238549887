#ifndef DIRMAIL_AUTH_DB_LDAP_H
#define DIRMAIL_AUTH_DB_LDAP_H

/*
 * The ldap passdb and userdb ("ldap:/path/dovecot-ldap.conf.ext").
 *
 * passdb: with auth_bind = yes and auth_bind_userdn, a bind as the
 * expanded DN (no search); with auth_bind = yes otherwise, a search of
 * the user's DN with pass_filter as "dn", then a bind as that DN; with
 * auth_bind = no, pass_filter and pass_attrs, the "password" field
 * checked with password_verify().  userdb: user_filter and user_attrs.
 * Everything runs asynchronously on auth_base: searches on a pool of
 * connections bound as "dn" (a simple bind, or with sasl_bind = yes a
 * SASL bind with sasl_mech, made synchronously when a connection is set
 * up), user binds (always simple) on a pool of their own.  Both pools
 * offer the client certificate tls_cert_file/tls_key_file, read when
 * the database is opened.
 * Invalid credentials give DB_MISMATCH, no entry DB_NOTFOUND, anything
 * else (server down, timeout, TLS, several entries) DB_TEMPFAIL.
 */

#include "auth/db.h"

extern const struct passdb_driver passdb_ldap;
extern const struct userdb_driver userdb_ldap;

#endif
