#ifndef DIRMAIL_GLOBAL_ADDR_H
#define DIRMAIL_GLOBAL_ADDR_H

/*
 * SMTP addresses: parsing RFC 5321 paths into dirmail's internal form,
 * and quoting them back for the wire.  No table lookups here.
 *
 * The internal form, used everywhere in dirmail: the local part unquoted
 * (an RFC 5321 quoted-string with its quotes and backslash escapes
 * removed), then "@", then the domain folded to lower case.  The null
 * sender is "".  An address without "@" is a bare local part.
 */

#include <stdbool.h>

/*
 * Parse an RFC 5321 path from TEXT (what follows "MAIL FROM:" or "RCPT TO:",
 * white space after the colon allowed): "<local@domain>", "<>" (only when
 * ALLOW_NULL), a source route "<@a,@b:local@domain>" (stripped), a quoted
 * local part "<\"john doe\"@example.com>", an IP literal domain "[192.0.2.1]"
 * or "[IPv6:2001:db8::1]" kept as written (lower case).  Also accepts an
 * address without angle brackets when nothing else follows it (Postfix does).
 * UTF-8 in the local part or domain is accepted only when UTF8_OK.
 * Returns 0 with *ADDR_R (allocated, internal form) and *REST_R pointing into
 * TEXT at the ESMTP parameters after the path (leading spaces skipped), or
 * -1 with a static reason in *ERROR_R ("Bad address syntax", ...).
 */
int addr_parse_path(const char *text, bool allow_null, bool utf8_ok,
    char **addr_r, const char **rest_r, const char **error_r);

/* Quote ADDR (internal form) for the wire, for logs and reply texts: the
   local part gets RFC 5321 quotes when it needs them.  Allocated. */
char *addr_external(const char *addr);

/* Split ADDR at its last "@": local part (allocated) and domain (pointer into
   ADDR, or NULL when there is none). */
char *addr_split(const char *addr, const char **domain_r);

#endif
