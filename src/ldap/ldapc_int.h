#ifndef DIRMAIL_LDAP_LDAPC_INT_H
#define DIRMAIL_LDAP_LDAPC_INT_H

/* Shared by the synchronous and asynchronous halves of the LDAP client;
   not for use outside src/ldap. */

#include <ldap.h>

#include "ldap/ldapc.h"

/* Copy the DN and the non-empty attributes of entry E into ENTRY, which
   must be zeroed. */
void ldapc_copy_entry(LDAP *ld, LDAPMessage *e, struct ldapc_entry *entry);

#endif
