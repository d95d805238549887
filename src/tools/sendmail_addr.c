/*
 * RFC 5322 address lists, for sendmail -t: the To:, Cc: and Bcc: headers
 * and the command line's recipients.  A small tokenizer (atoms, quoted
 * strings, domain literals, specials; comments and folding white space
 * dropped) and a parser that keeps each mailbox's addr-spec and drops
 * display names and groups' names.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "tools/sendmail.h"

enum tok_type { T_END, T_WORD, T_SPECIAL };

struct tok {
	enum tok_type type;
	char special;		/* T_SPECIAL */
	struct str text;	/* T_WORD: as it goes into an addr-spec */
};

/* RFC 5322 specials that separate words (the dot is one, so that
   "a . b" and "a.b" read the same). */
static bool
is_special(char c)
{
	return strchr("()<>[]:;@\\,.\"", c) != NULL;
}

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skip white space and (nested) comments at *P.  -1 for an unclosed
   comment. */
static int
skip_cfws(const char **p)
{
	const char *q = *p;
	int depth;

	for (;;) {
		while (is_wsp(*q))
			q++;
		if (*q != '(')
			break;
		for (depth = 0; *q != '\0'; q++) {
			if (*q == '\\' && q[1] != '\0')
				q++;
			else if (*q == '(')
				depth++;
			else if (*q == ')' && --depth == 0)
				break;
		}
		if (*q == '\0')
			return -1;
		q++;
	}
	*p = q;
	return 0;
}

/* Copy the quoted string or domain literal at *P (its opening CLOSE-
   matching delimiter first) into T, delimiters and escapes kept. */
static int
read_delimited(const char **p, char close, struct tok *t)
{
	const char *q = *p;

	str_append_c(&t->text, *q++);
	for (; *q != close; q++) {
		if (*q == '\0')
			return -1;
		if (*q == '\\' && q[1] != '\0')
			str_append_c(&t->text, *q++);
		/* Folding inside a quoted string is white space. */
		if (*q == '\r' || *q == '\n')
			continue;
		str_append_c(&t->text, *q);
	}
	str_append_c(&t->text, close);
	*p = q + 1;
	return 0;
}

/* The next token at *P into T.  -1 with *ERROR_R when malformed. */
static int
next_tok(const char **p, struct tok *t, const char **error_r)
{
	str_truncate(&t->text, 0);
	if (skip_cfws(p) < 0) {
		*error_r = "unbalanced parenthesis in comment";
		return -1;
	}
	if (**p == '\0') {
		t->type = T_END;
		return 0;
	}
	t->type = T_WORD;
	if (**p == '"' || **p == '[') {
		if (read_delimited(p, **p == '"' ? '"' : ']', t) < 0) {
			*error_r = **p == '"' ? "unterminated quoted string" :
			    "unterminated domain literal";
			return -1;
		}
		return 0;
	}
	if (is_special(**p)) {
		t->type = T_SPECIAL;
		t->special = *(*p)++;
		return 0;
	}
	while (**p != '\0' && !is_wsp(**p) && !is_special(**p))
		str_append_c(&t->text, *(*p)++);
	return 0;
}

/* The parser's state over one list. */
struct parser {
	const char *p;
	struct tok tok;
	struct str spec;	/* the words since the last separator */
	bool in_angle, in_group;
	char ***list;
	int added;
};

/* Add SPEC (if any) to the list and empty it. */
static void
emit(struct parser *ps)
{
	size_t n;

	if (ps->spec.len == 0)
		return;
	n = *ps->list != NULL ? strv_len(*ps->list) : 0;
	*ps->list = xreallocarray(*ps->list, n + 2, sizeof(char *));
	(*ps->list)[n] = str_steal(&ps->spec);
	(*ps->list)[n + 1] = NULL;
	ps->added++;
}

/* Handle one special character.  -1 with *ERROR_R when out of place. */
static int
on_special(struct parser *ps, char c, const char **error_r)
{
	switch (c) {
	case '<':
		if (ps->in_angle)
			goto bad;
		/* What came before was a display name. */
		str_truncate(&ps->spec, 0);
		ps->in_angle = true;
		return 0;
	case '>':
		if (!ps->in_angle)
			goto bad;
		ps->in_angle = false;
		/* A source route "@a,@b:" goes. */
		if (ps->spec.len > 0 && ps->spec.s[0] == '@') {
			const char *colon = strchr(ps->spec.s, ':');
			char *rest = xstrdup(colon != NULL ? colon + 1 : "");

			str_truncate(&ps->spec, 0);
			str_append(&ps->spec, rest);
			free(rest);
		}
		emit(ps);
		return 0;
	case ':':
		if (ps->in_angle) {
			str_append_c(&ps->spec, c);	/* source route */
			return 0;
		}
		if (ps->in_group)
			goto bad;
		/* The group's name goes. */
		str_truncate(&ps->spec, 0);
		ps->in_group = true;
		return 0;
	case ';':
		if (ps->in_angle || !ps->in_group)
			goto bad;
		emit(ps);
		ps->in_group = false;
		return 0;
	case ',':
		if (ps->in_angle) {
			str_append_c(&ps->spec, c);	/* source route */
			return 0;
		}
		emit(ps);
		return 0;
	case '@':
	case '.':
		str_append_c(&ps->spec, c);
		return 0;
	default:
		break;
	}
bad:
	*error_r = "malformed address list";
	return -1;
}

/* Parse an address list into *LIST. */
int
sendmail_addr_list(const char *text, char ***list, const char **error_r)
{
	struct parser ps = { .p = text, .list = list };
	int ret = -1;

	for (;;) {
		if (next_tok(&ps.p, &ps.tok, error_r) < 0)
			goto out;
		if (ps.tok.type == T_END)
			break;
		if (ps.tok.type == T_SPECIAL) {
			if (on_special(&ps, ps.tok.special, error_r) < 0)
				goto out;
			continue;
		}
		str_append(&ps.spec, str_c(&ps.tok.text));
	}
	if (ps.in_angle) {
		*error_r = "missing \">\"";
		goto out;
	}
	/* A group without its ";" is forgiven, as Postfix does. */
	emit(&ps);
	ret = ps.added;
out:
	str_free(&ps.tok.text);
	str_free(&ps.spec);
	return ret;
}

/* Is LINE the first line of a header field? */
bool
sendmail_is_field(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == ':')
			return i > 0;
		if (c <= ' ' || c >= 127)
			break;
	}
	return false;
}

/* The value of FIELD when it is named NAME. */
const char *
sendmail_field_value(const char *field, const char *name)
{
	size_t n = strlen(name);

	if (strncasecmp(field, name, n) != 0 || field[n] != ':')
		return NULL;
	return field + n + 1;
}

/* "Name <addr>", the name quoted when it holds specials. */
void
sendmail_name_addr(struct str *out, const char *name, const char *addr)
{
	const char *p;
	bool quote = false;

	/* A dot in a phrase is obsolete syntax: it is quoted too. */
	for (p = name; *p != '\0'; p++)
		if (is_special(*p) || *p == '\r' || *p == '\n')
			quote = true;
	if (!quote) {
		str_appendf(out, "%s <%s>", name, addr);
		return;
	}
	str_append_c(out, '"');
	for (p = name; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			str_append_c(out, '\\');
		if (*p != '\r' && *p != '\n')
			str_append_c(out, *p);
	}
	str_appendf(out, "\" <%s>", addr);
}
