/*
 * SMTP addresses: a strict RFC 5321 path parser that produces dirmail's
 * internal form, and the reverse quoting for the wire.
 */

#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "global/addr.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define ADDR_MAX_LEN	254	/* RFC 5321 4.5.3.1.3: path 256 with <> */
#define DOMAIN_MAX_LEN	255
#define LABEL_MAX_LEN	63

static const char err_syntax[] = "Bad address syntax";
static const char err_long[] = "Address too long";
static const char err_utf8[] =
    "Must declare SMTPUTF8 to send unicode address";

/* The parser's cursor, options and first error. */
struct parser {
	const char *p;
	bool utf8_ok;
	const char *error;
};

/* Record the first error of PS; always returns -1. */
static int
parse_fail(struct parser *ps, const char *error)
{
	if (ps->error == NULL)
		ps->error = error;
	return -1;
}

/* True for RFC 5321 atext (ASCII letters, digits and the specials). */
static bool
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Length of the well-formed UTF-8 sequence at P (2 to 4), or 0. */
static size_t
utf8_len(const unsigned char *p)
{
	size_t n, i;
	unsigned int cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/* Copy the UTF-8 character at the cursor to OUT; 0, or -1 if refused. */
static int
take_utf8(struct parser *ps, struct str *out)
{
	size_t n = utf8_len((const unsigned char *)ps->p);

	if (n == 0)
		return parse_fail(ps, err_syntax);
	if (!ps->utf8_ok)
		return parse_fail(ps, err_utf8);
	str_append_n(out, ps->p, n);
	ps->p += n;
	return 0;
}

/* Parse a quoted-string local part (cursor on the quote), unquoted. */
static int
parse_quoted(struct parser *ps, struct str *out)
{
	unsigned char c;
	size_t start = out->len;

	ps->p++;
	while ((c = (unsigned char)*ps->p) != '"') {
		if (c >= 0x80) {
			if (take_utf8(ps, out) < 0)
				return -1;
			continue;
		}
		if (c == '\\')
			c = (unsigned char)*++ps->p;
		if (c < 32 || c > 126)
			return parse_fail(ps, err_syntax);
		str_append_c(out, (char)c);
		ps->p++;
	}
	ps->p++;
	return out->len > start ? 0 : parse_fail(ps, err_syntax);
}

/* Parse a dot-string local part; dots are kept wherever they are. */
static int
parse_dot_string(struct parser *ps, struct str *out)
{
	unsigned char c;
	size_t start = out->len;

	while ((c = (unsigned char)*ps->p) != '\0') {
		if (c >= 0x80) {
			if (take_utf8(ps, out) < 0)
				return -1;
			continue;
		}
		if (!is_atext(c) && c != '.')
			break;
		str_append_c(out, (char)c);
		ps->p++;
	}
	return out->len > start ? 0 : parse_fail(ps, err_syntax);
}

/* Parse an address literal "[...]": IPv4 or "IPv6:", lower-cased. */
static int
parse_literal(struct parser *ps, struct str *out)
{
	const char *end = strchr(ps->p, ']');
	unsigned char buf[sizeof(struct in6_addr)];
	char *text;
	int ok;

	if (end == NULL || end - ps->p > 6 + INET6_ADDRSTRLEN)
		return parse_fail(ps, err_syntax);
	text = str_lcase(xstrndup(ps->p + 1, (size_t)(end - ps->p - 1)));
	if (strncmp(text, "ipv6:", 5) == 0)
		ok = inet_pton(AF_INET6, text + 5, buf);
	else
		ok = inet_pton(AF_INET, text, buf);
	if (ok == 1)
		str_appendf(out, "[%s]", text);
	free(text);
	if (ok != 1)
		return parse_fail(ps, err_syntax);
	ps->p = end + 1;
	return 0;
}

/* Parse one domain label; returns its length in bytes, or -1. */
static int
parse_label(struct parser *ps, struct str *out)
{
	size_t start = out->len;
	unsigned char c;

	while ((c = (unsigned char)*ps->p) != '\0') {
		if (c >= 0x80) {
			if (take_utf8(ps, out) < 0)
				return -1;
			continue;
		}
		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '-' && c != '_')
			break;
		str_append_c(out, (char)(c >= 'A' && c <= 'Z' ? c + 32 : c));
		ps->p++;
	}
	if (out->len == start || out->len - start > LABEL_MAX_LEN)
		return parse_fail(ps, err_syntax);
	return 0;
}

/* Parse a domain name or an address literal into OUT, lower-cased. */
static int
parse_domain(struct parser *ps, struct str *out)
{
	size_t start = out->len;

	if (*ps->p == '[')
		return parse_literal(ps, out);
	for (;;) {
		if (parse_label(ps, out) < 0)
			return -1;
		if (*ps->p != '.')
			break;
		str_append_c(out, '.');
		ps->p++;
	}
	if (out->len - start > DOMAIN_MAX_LEN)
		return parse_fail(ps, err_syntax);
	return 0;
}

/* Parse "local@domain" or a bare local part into OUT. */
static int
parse_mailbox(struct parser *ps, struct str *out)
{
	const char *start = ps->p;
	int ret;

	if (*ps->p == '"')
		ret = parse_quoted(ps, out);
	else
		ret = parse_dot_string(ps, out);
	if (ret < 0)
		return -1;
	if (*ps->p == '@') {
		str_append_c(out, '@');
		ps->p++;
		if (parse_domain(ps, out) < 0)
			return -1;
	}
	if (ps->p - start > ADDR_MAX_LEN)
		return parse_fail(ps, err_long);
	return 0;
}

/* Skip a source route "@a,@b:" (cursor on the first "@"). */
static int
skip_source_route(struct parser *ps)
{
	struct str scratch = STR_INIT;
	int ret = 0;

	for (;;) {
		ps->p++;
		if ((ret = parse_domain(ps, &scratch)) < 0)
			break;
		if (*ps->p == ':') {
			ps->p++;
			break;
		}
		if (ps->p[0] != ',' || ps->p[1] != '@') {
			ret = parse_fail(ps, err_syntax);
			break;
		}
		ps->p++;
	}
	str_free(&scratch);
	return ret;
}

/* Parse "<...>" (cursor on "<"); the path must end the text or a word. */
static int
parse_bracketed(struct parser *ps, bool allow_null, struct str *out)
{
	ps->p++;
	if (*ps->p == '>') {
		if (!allow_null)
			return parse_fail(ps, err_syntax);
	} else {
		if (*ps->p == '@' && skip_source_route(ps) < 0)
			return -1;
		if (parse_mailbox(ps, out) < 0)
			return -1;
		if (*ps->p != '>')
			return parse_fail(ps, err_syntax);
	}
	ps->p++;
	if (*ps->p != '\0' && *ps->p != ' ')
		return parse_fail(ps, err_syntax);
	return 0;
}

/* Parse a path into the internal form (see addr.h). */
int
addr_parse_path(const char *text, bool allow_null, bool utf8_ok,
    char **addr_r, const char **rest_r, const char **error_r)
{
	struct parser ps = { text, utf8_ok, NULL };
	struct str out = STR_INIT;
	int ret;

	while (*ps.p == ' ' || *ps.p == '\t')
		ps.p++;
	if (*ps.p == '<') {
		ret = parse_bracketed(&ps, allow_null, &out);
	} else {
		ret = parse_mailbox(&ps, &out);
		while (ret == 0 && (*ps.p == ' ' || *ps.p == '\t'))
			ps.p++;
		if (ret == 0 && *ps.p != '\0')
			ret = parse_fail(&ps, err_syntax);
	}
	if (ret < 0) {
		str_free(&out);
		*error_r = ps.error;
		return -1;
	}
	while (*ps.p == ' ')
		ps.p++;
	*addr_r = str_steal(&out);
	*rest_r = ps.p;
	return 0;
}

/* True when LOCAL (LEN bytes) is not a valid RFC 5321 dot-string. */
static bool
local_needs_quotes(const char *local, size_t len)
{
	size_t i;

	if (len == 0 || local[0] == '.' || local[len - 1] == '.')
		return true;
	for (i = 0; i < len; i++) {
		if ((unsigned char)local[i] >= 0x80)
			continue;
		if (local[i] == '.' ? local[i + 1] == '.' :
		    !is_atext((unsigned char)local[i]))
			return true;
	}
	return false;
}

/* Quote the local part of ADDR when it needs it (see addr.h). */
char *
addr_external(const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t len = at != NULL ? (size_t)(at - addr) : strlen(addr);
	struct str out = STR_INIT;
	size_t i;

	if (*addr == '\0' || !local_needs_quotes(addr, len))
		return xstrdup(addr);
	str_append_c(&out, '"');
	for (i = 0; i < len; i++) {
		if (addr[i] == '"' || addr[i] == '\\')
			str_append_c(&out, '\\');
		str_append_c(&out, addr[i]);
	}
	str_append_c(&out, '"');
	if (at != NULL)
		str_append(&out, at);
	return str_steal(&out);
}

/* Split ADDR at its last "@". */
char *
addr_split(const char *addr, const char **domain_r)
{
	const char *at = strrchr(addr, '@');

	if (at == NULL) {
		*domain_r = NULL;
		return xstrdup(addr);
	}
	*domain_r = at + 1;
	return xstrndup(addr, (size_t)(at - addr));
}
