/* Writing IMAP strings, atoms and mailbox names (RFC 3501 4.3, 9). */

#include "config.h"

#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "mailstore/imapstr.h"

/* Longer values go out as literals: some clients choke on very long
   quoted strings, and a literal costs nothing to parse. */
#define QUOTED_MAX	1024

/* Can S be sent as a quoted string? */
static bool
quotable(const char *s, size_t len)
{
	size_t i;

	if (len > QUOTED_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0' || c == '\r' || c == '\n' || c >= 0x80)
			return false;
	}
	return true;
}

void
imap_append_string(struct str *out, const char *s, size_t len)
{
	size_t i;

	if (!quotable(s, len)) {
		str_appendf(out, "{%zu}\r\n", len);
		str_append_n(out, s, len);
		return;
	}
	str_append_c(out, '"');
	for (i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			str_append_c(out, '\\');
		str_append_c(out, s[i]);
	}
	str_append_c(out, '"');
}

void
imap_append_nstring(struct str *out, const char *s)
{
	if (s == NULL)
		str_append(out, "NIL");
	else
		imap_append_string(out, s, strlen(s));
}

/* Is C an ASTRING-CHAR: any CHAR but atom-specials, or "]"? */
static bool
astring_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && strchr("(){%*\"\\", c) == NULL;
}

void
imap_append_astring(struct str *out, const char *s)
{
	const char *p;

	for (p = s; *p != '\0' && astring_char((unsigned char)*p); p++)
		;
	if (*p == '\0' && p != s && strcasecmp(s, "NIL") != 0)
		str_append(out, s);
	else
		imap_append_string(out, s, strlen(s));
}

void
imap_append_mailbox(struct str *out, const char *name)
{
	if (strcasecmp(name, "INBOX") == 0)
		str_append(out, "INBOX");
	else
		imap_append_astring(out, name);
}
