/*
 * The bind identity of a connection and the SASL bind through Cyrus
 * SASL (libldap's ldap_sasl_interactive_bind_s()).
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldap.h>
#include <sasl/sasl.h>

#include "ldap/ldapc.h"
#include "ldap/ldapc_int.h"
#include "lib/xalloc.h"

/* Copy the bind identity of SET into ID. */
void
ldapc_ident_init(struct ldapc_ident *id, const struct ldapc_settings *set)
{
	memset(id, 0, sizeof(*id));
	id->dn = ldapc_dup_nonempty(set->bind_dn);
	id->sasl_mech = ldapc_dup_nonempty(set->sasl_mech);
	if (id->dn != NULL || id->sasl_mech != NULL)
		id->pw = xstrdup(set->bind_pw != NULL ? set->bind_pw : "");
	if (id->sasl_mech != NULL) {
		id->sasl_realm = ldapc_dup_nonempty(set->sasl_realm);
		id->sasl_authz_id = ldapc_dup_nonempty(set->sasl_authz_id);
	}
}

/* Wipe the password and free what ID holds. */
void
ldapc_ident_clear(struct ldapc_ident *id)
{
	if (id->pw != NULL) {
		explicit_bzero(id->pw, strlen(id->pw));
		free(id->pw);
	}
	free(id->dn);
	free(id->sasl_mech);
	free(id->sasl_realm);
	free(id->sasl_authz_id);
	memset(id, 0, sizeof(*id));
}

/* Return the configured answer to the SASL callback ID, or NULL. */
static const char *
interact_value(const struct ldapc_ident *ident, unsigned long cb_id)
{
	switch (cb_id) {
	case SASL_CB_AUTHNAME:
		return ident->dn;
	case SASL_CB_PASS:
		return ident->pw;
	case SASL_CB_GETREALM:
		return ident->sasl_realm;
	case SASL_CB_USER:
		return ident->sasl_authz_id;
	default:
		return NULL;
	}
}

/*
 * Answer the mechanism's questions from the identity DEFAULTS: "dn" is
 * the authentication id, "dnpass" the password; an unset value is the
 * mechanism's default, or empty (no authorization id: act as oneself).
 */
static int
sasl_interact(LDAP *ld, unsigned flags, void *defaults, void *in)
{
	const struct ldapc_ident *ident = defaults;
	sasl_interact_t *it;
	const char *value;

	(void)ld, (void)flags;
	for (it = in; it->id != SASL_CB_LIST_END; it++) {
		value = interact_value(ident, it->id);
		if (value == NULL)
			value = it->defresult != NULL ? it->defresult : "";
		it->result = value;
		it->len = (unsigned)strlen(value);
	}
	return LDAP_SUCCESS;
}

/* Bind LD with ID's SASL mechanism. */
int
ldapc_sasl_bind(LDAP *ld, const struct ldapc_ident *id, char **error_r)
{
	char *why;
	int rc;

	rc = ldap_sasl_interactive_bind_s(ld, NULL, id->sasl_mech, NULL,
	    NULL, LDAP_SASL_QUIET, sasl_interact, (void *)(uintptr_t)id);
	if (rc == LDAP_SUCCESS)
		return 0;
	why = ldapc_reason(ld, rc);
	if (id->dn != NULL)
		*error_r = xasprintf("SASL %s bind as \"%s\" failed: %s",
		    id->sasl_mech, id->dn, why);
	else
		*error_r = xasprintf("SASL %s bind failed: %s",
		    id->sasl_mech, why);
	free(why);
	return -1;
}
