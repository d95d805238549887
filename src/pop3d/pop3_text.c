/*
 * POP3 text: command lines, numbers, UIDLs and dot-stuffing.
 */

#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lib/str.h"
#include "pop3d/pop3_text.h"

/* The longest command name we take: RFC 2449 keywords are 3 or 4
   letters, extensions may be longer. */
#define POP3_NAME_MAX	8

/* Split a command line into name and arguments. */
int
pop3_cmd_split(char *line, char **name_r, char **args_r)
{
	char *p = line, *name, *end;
	size_t n;

	while (*p == ' ' || *p == '\t')
		p++;
	name = p;
	for (n = 0; isalpha((unsigned char)p[n]); n++)
		p[n] = (char)toupper((unsigned char)p[n]);
	if (n == 0 || n > POP3_NAME_MAX ||
	    (p[n] != '\0' && p[n] != ' ' && p[n] != '\t'))
		return -1;
	p += n;
	if (*p != '\0')
		*p++ = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	*name_r = name;
	*args_r = p;
	return 0;
}

/* Take one decimal number off the argument string. */
int
pop3_arg_num(const char **args, uint64_t max, uint64_t *num_r)
{
	const char *p = *args;
	uint64_t v = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0') {
		*args = p;
		return 1;
	}
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (*p != '\0' && *p != ' ' && *p != '\t')
		return -1;
	*args = p;
	*num_r = v;
	return 0;
}

/* Append one %-variable of the UIDL format; advance *FMT past it. */
static int
uidl_var(const char **fmt, uint32_t uid, uint32_t uidvalidity,
    struct str *out, const char **error_r)
{
	const char *p = *fmt;
	bool zero = false, hex = false;
	unsigned width = 0;
	uint32_t v;

	if (*p == '0') {
		zero = true;
		p++;
	}
	while (isdigit((unsigned char)*p)) {
		width = width * 10 + (unsigned)(*p++ - '0');
		if (width > POP3_UIDL_MAX) {
			*error_r = "field width too large";
			return -1;
		}
	}
	if (*p == 'X') {
		hex = true;
		p++;
	}
	switch (*p) {
	case 'u':
		v = uid;
		break;
	case 'v':
		v = uidvalidity;
		break;
	default:
		*error_r = "unknown variable (only %u and %v are known)";
		return -1;
	}
	/* Dovecot's X modifier prints lower-case hexadecimal. */
	str_appendf(out, hex ? (zero ? "%0*x" : "%*x") : (zero ? "%0*u" : "%*u"),
	    (int)width, (unsigned)v);
	*fmt = p + 1;
	return 0;
}

/* Expand the pop3_uidl_format for one message. */
int
pop3_uidl_expand(const char *format, uint32_t uid, uint32_t uidvalidity,
    char *buf, const char **error_r)
{
	struct str out = STR_INIT;
	const char *p = format;
	size_t i;

	while (*p != '\0') {
		if (*p != '%') {
			str_append_c(&out, *p++);
			continue;
		}
		p++;
		if (*p == '%') {
			str_append_c(&out, *p++);
			continue;
		}
		if (uidl_var(&p, uid, uidvalidity, &out, error_r) < 0) {
			str_free(&out);
			return -1;
		}
	}
	if (out.len == 0 || out.len > POP3_UIDL_MAX) {
		*error_r = out.len == 0 ? "the UIDL is empty" :
		    "the UIDL is longer than 70 characters";
		str_free(&out);
		return -1;
	}
	for (i = 0; i < out.len; i++) {
		if (out.s[i] < 0x21 || out.s[i] > 0x7e) {
			*error_r = "the UIDL may only hold printable characters "
			    "other than space";
			str_free(&out);
			return -1;
		}
	}
	memcpy(buf, out.s, out.len + 1);
	str_free(&out);
	return 0;
}

/* Start converting a message. */
void
pop3_stuff_init(struct pop3_stuff *st, long long top_lines)
{
	memset(st, 0, sizeof(*st));
	st->bol = true;
	st->limited = top_lines >= 0;
	st->lines_left = top_lines >= 0 ? (uint64_t)top_lines : 0;
}

/* At the start of a line: count it against TOP's limit and dot-stuff.
   Returns false when the limit is reached. */
static bool
stuff_line_start(struct pop3_stuff *st, char first, struct str *out)
{
	if (st->in_body && st->limited) {
		if (st->lines_left == 0) {
			st->done = true;
			return false;
		}
		st->lines_left--;
	}
	if (first == '.')
		str_append_c(out, '.');
	st->bol = false;
	st->line_len = 0;
	return true;
}

/* Convert a chunk of the stored message. */
size_t
pop3_stuff(struct pop3_stuff *st, const char *in, size_t len,
    struct str *out)
{
	size_t i = 0;

	while (i < len) {
		const char *nl;
		size_t seg;

		if (st->bol && !stuff_line_start(st, in[i], out))
			return i;
		nl = memchr(in + i, '\n', len - i);
		seg = nl != NULL ? (size_t)(nl - (in + i)) : len - i;
		str_append_n(out, in + i, seg);
		if (seg > 0)
			st->prev_cr = in[i + seg - 1] == '\r';
		st->line_len += seg;
		i += seg;
		if (nl == NULL)
			break;
		/* The line ends: CRLF whatever the store kept. */
		str_append(out, st->prev_cr ? "\n" : "\r\n");
		if (!st->in_body &&
		    st->line_len == (st->prev_cr ? 1u : 0u))
			st->in_body = true;
		st->prev_cr = false;
		st->bol = true;
		i++;
	}
	return i;
}

/* End the multi-line response. */
void
pop3_stuff_finish(struct pop3_stuff *st, struct str *out)
{
	if (!st->bol)
		str_append(out, st->prev_cr ? "\n" : "\r\n");
	st->bol = true;
	str_append(out, ".\r\n");
}
