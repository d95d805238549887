#ifndef DIRMAIL_LDAP_LDAPC_INT_H
#define DIRMAIL_LDAP_LDAPC_INT_H

/* Shared by the synchronous and asynchronous halves of the LDAP client;
   not for use outside src/ldap. */

#include <ldap.h>

#include "ldap/ldapc.h"

/* Copy the DN and the non-empty attributes of entry E into ENTRY, which
   must be zeroed. */
void ldapc_copy_entry(LDAP *ld, LDAPMessage *e, struct ldapc_entry *entry);

/* Return a copy of S (allocated), or NULL when S is NULL or empty. */
char *ldapc_dup_nonempty(const char *s);

/* Check the settings SET that need neither the network nor a file: 0,
   or -1 with a reason in *ERROR_R (allocated). */
int ldapc_check_settings(const struct ldapc_settings *set, char **error_r);

/* Ignore SIGPIPE unless the program chose what to do with it: a server
   that goes away must fail a request, not kill the process. */
void ldapc_ignore_sigpipe(void);

/* Return "REASON (DIAGNOSTIC)" for the libldap code RC on LD (which may
   be NULL), allocated. */
char *ldapc_reason(LDAP *ld, int rc);

/* The TLS settings of a connection (ldapc_tls.c). */
struct ldapc_tls {
	enum ldapc_tls_require require;
	char *ca_file;		/* NULL: libldap's default */
	char *ca_dir;		/* NULL: libldap's default */
	LDAP *shared;		/* with a client certificate: a handle
				   (never connected) holding the TLS
				   context all connections share */
};

/*
 * Copy the TLS settings of SET into TLS (zeroed here).  With a client
 * certificate, read it and its key now into a TLS context (with the CA
 * settings) that connections made later, maybe with fewer privileges,
 * share.  Both files or neither must be set; the key must be unencrypted
 * PEM and belong to the certificate (the first PEM certificate of its
 * file).  Returns 0, or -1 with a reason naming the file in *ERROR_R
 * (allocated; TLS left empty).
 */
int ldapc_tls_init(struct ldapc_tls *tls, const struct ldapc_settings *set,
    char **error_r);

/* Free what TLS holds, wiping the key, and zero it. */
void ldapc_tls_clear(struct ldapc_tls *tls);

/*
 * Give LD the TLS settings TLS (certificate requirement, CA file and
 * directory) and a TLS context: TLS's shared one (with the client
 * certificate) if it has one, else a context of its own.  Returns 0, or -1 with the name of the setting that failed in *WHAT_R
 * and the libldap code in *RC_R.
 */
int ldapc_apply_tls(LDAP *ld, const struct ldapc_tls *tls,
    const char **what_r, int *rc_r);

/* The identity a connection binds as (ldapc_sasl.c). */
struct ldapc_ident {
	char *dn;		/* simple: the DN; SASL: the authentication
				   id; NULL: none */
	char *pw;		/* NULL when there is no bind at all */
	char *sasl_mech;	/* NULL: a simple bind (when DN is set) */
	char *sasl_realm;	/* NULL: the mechanism's default */
	char *sasl_authz_id;	/* NULL: none */
};

/* Copy the bind settings of SET into ID (zeroed here). */
void ldapc_ident_init(struct ldapc_ident *id, const struct ldapc_settings *set);

/* Wipe the password, free what ID holds and zero it. */
void ldapc_ident_clear(struct ldapc_ident *id);

/*
 * Bind LD with ID's SASL mechanism (ID->sasl_mech must be set), answering
 * the mechanism's questions from ID: DN as the authentication id, PW as
 * the password, the realm and the authorization id.  Synchronous,
 * bounded by LD's LDAP_OPT_TIMEOUT for each round trip.  Returns 0, or
 * -1 with a reason (never the password) in *ERROR_R (allocated).
 */
int ldapc_sasl_bind(LDAP *ld, const struct ldapc_ident *id, char **error_r);

#endif
