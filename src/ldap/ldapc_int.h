#ifndef DIRMAIL_LDAP_LDAPC_INT_H
#define DIRMAIL_LDAP_LDAPC_INT_H

/* Shared by the synchronous and asynchronous halves of the LDAP client;
   not for use outside src/ldap. */

#include <ldap.h>

#include "ldap/ldapc.h"

/* Copy the DN and the non-empty attributes of entry E into ENTRY, which
   must be zeroed. */
void ldapc_copy_entry(LDAP *ld, LDAPMessage *e, struct ldapc_entry *entry);

/*
 * Give LD the TLS settings (certificate requirement, CA file and
 * directory, either may be NULL) and a TLS context of its own.  Returns
 * 0, or -1 with the name of the setting that failed in *WHAT_R and the
 * libldap code in *RC_R.
 */
int ldapc_apply_tls(LDAP *ld, enum ldapc_tls_require require,
    const char *ca_file, const char *ca_dir, const char **what_r,
    int *rc_r);

#endif
