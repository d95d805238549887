/* Escaping of values for LDAP search filters (RFC 4515) and DNs (RFC 4514). */

#include "config.h"

#include <string.h>

#include "ldap/ldapc.h"
#include "lib/str.h"

/* Append the byte C as a backslash and two lower-case hex digits. */
static void
append_hex(struct str *out, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char buf[3] = { '\\', hex[c >> 4], hex[c & 0x0f] };

	str_append_n(out, buf, sizeof(buf));
}

/* True for NUL, the other C0 control bytes and DEL. */
static int
is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Append VALUE to OUT escaped for a search filter (RFC 4515). */
void
ldapc_escape_filter_n(struct str *out, const void *value, size_t len)
{
	const unsigned char *p = value;
	size_t i;

	/* Make sure OUT holds a string even when VALUE is empty. */
	str_append_n(out, "", 0);
	for (i = 0; i < len; i++) {
		if (p[i] == '*' || p[i] == '(' || p[i] == ')' ||
		    p[i] == '\\' || is_control(p[i]))
			append_hex(out, p[i]);
		else
			str_append_c(out, (char)p[i]);
	}
}

/* Return VALUE escaped for a search filter, allocated. */
char *
ldapc_escape_filter(const char *value)
{
	struct str out = STR_INIT;

	ldapc_escape_filter_n(&out, value, strlen(value));
	return str_steal(&out);
}

/* True for the bytes RFC 4514 escapes anywhere in a value. */
static int
is_dn_special(unsigned char c)
{
	return strchr("\"+,;<>\\=", c) != NULL && c != '\0';
}

/* Append VALUE to OUT escaped as a DN attribute value (RFC 4514). */
void
ldapc_escape_dn_n(struct str *out, const void *value, size_t len)
{
	const unsigned char *p = value;
	size_t i;

	str_append_n(out, "", 0);
	for (i = 0; i < len; i++) {
		if (is_control(p[i]))
			append_hex(out, p[i]);
		else if (is_dn_special(p[i]) ||
		    (i == 0 && (p[i] == '#' || p[i] == ' ')) ||
		    (i == len - 1 && p[i] == ' ')) {
			str_append_c(out, '\\');
			str_append_c(out, (char)p[i]);
		} else
			str_append_c(out, (char)p[i]);
	}
}

/* Return VALUE escaped as a DN attribute value, allocated. */
char *
ldapc_escape_dn(const char *value)
{
	struct str out = STR_INIT;

	ldapc_escape_dn_n(&out, value, strlen(value));
	return str_steal(&out);
}
