#ifndef DIRMAIL_MAILSTORE_IMAPSTR_H
#define DIRMAIL_MAILSTORE_IMAPSTR_H

/*
 * Writing IMAP strings (RFC 3501 4.3, 9): the shortest form the grammar
 * allows for each value.  A value that holds CR, LF, NUL or 8-bit bytes
 * (or is very long) becomes a literal "{n}\r\n" followed by the bytes;
 * otherwise a quoted string with '"' and '\' escaped.
 */

#include <stddef.h>

struct str;

/* Append S (LEN bytes) as a quoted string or a literal. */
void imap_append_string(struct str *out, const char *s, size_t len);

/* Append the C string S as a string, or NIL when S is NULL. */
void imap_append_nstring(struct str *out, const char *s);

/* Append S as an astring: a bare atom when it is one (non-empty, only
   ASTRING-CHARs, not "NIL"), else a string. */
void imap_append_astring(struct str *out, const char *s);

/* Append a mailbox name (LIST, LSUB, STATUS): an astring, and any name
   that is INBOX in some case is written INBOX. */
void imap_append_mailbox(struct str *out, const char *name);

#endif
