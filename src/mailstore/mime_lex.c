/*
 * Header fields and the lexical pieces of structured header values
 * (RFC 5322 3.2, RFC 2045 5.1), shared by the MIME code.
 */

#include "config.h"

#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "mailstore/mime_int.h"

/* The end of the line starting at P: the byte after its LF, or END. */
static const char *
line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl == NULL ? end : nl + 1;
}

/* Is the line at P empty (the end of a header block)? */
static bool
line_is_blank(const char *p, const char *end)
{
	return *p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n');
}

bool
mime_field_next(const char *header, size_t len, size_t *pos,
    struct mime_field *f)
{
	const char *end = header + len, *p = header + *pos;

	while (p < end && !line_is_blank(p, end)) {
		const char *eol = line_end(p, end), *colon, *q;

		/* A field runs on over the lines that start with white
		   space (folding). */
		while (eol < end && (*eol == ' ' || *eol == '\t'))
			eol = line_end(eol, end);
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL || colon == p || *p == ' ' || *p == '\t') {
			p = eol;	/* not a field: skip the line */
			continue;
		}
		q = colon;
		while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
			q--;
		f->start = p;
		f->len = (size_t)(eol - p);
		f->name = p;
		f->name_len = (size_t)(q - p);
		f->value = colon + 1;
		f->value_len = (size_t)(eol - colon - 1);
		*pos = (size_t)(eol - header);
		return true;
	}
	*pos = (size_t)(p - header);
	return false;
}

bool
mime_field_is(const struct mime_field *f, const char *name)
{
	return strlen(name) == f->name_len &&
	    strncasecmp(f->name, name, f->name_len) == 0;
}

char *
mime_unfold(const char *v, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;
	size_t i;

	for (i = 0; i < len; i++) {
		if (v[i] != '\r' && v[i] != '\n')
			*o++ = v[i];
	}
	while (o > out && (o[-1] == ' ' || o[-1] == '\t'))
		o--;
	*o = '\0';
	o = out;
	while (*o == ' ' || *o == '\t')
		o++;
	if (o != out)
		memmove(out, o, strlen(o) + 1);
	return out;
}

bool
mime_is_token_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

void
mime_lex_cfws(struct mime_lex *lx)
{
	while (lx->p < lx->end) {
		const char *start;
		int depth;

		if (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r' ||
		    *lx->p == '\n') {
			lx->p++;
			continue;
		}
		if (*lx->p != '(')
			return;
		start = ++lx->p;
		for (depth = 1; lx->p < lx->end && depth > 0; lx->p++) {
			if (*lx->p == '\\' && lx->p + 1 < lx->end)
				lx->p++;
			else if (*lx->p == '(')
				depth++;
			else if (*lx->p == ')')
				depth--;
		}
		lx->comment = start;
		lx->comment_len = (size_t)(lx->p - start) - (depth == 0);
	}
}

bool
mime_lex_token(struct mime_lex *lx, struct str *out)
{
	const char *start;

	mime_lex_cfws(lx);
	start = lx->p;
	while (lx->p < lx->end && mime_is_token_char((unsigned char)*lx->p))
		lx->p++;
	if (lx->p == start)
		return false;
	str_append_n(out, start, (size_t)(lx->p - start));
	return true;
}

bool
mime_lex_quoted(struct mime_lex *lx, struct str *out)
{
	mime_lex_cfws(lx);
	if (lx->p >= lx->end || *lx->p != '"')
		return false;
	/* An empty quoted string still has to make OUT non-NULL. */
	str_append_n(out, "", 0);
	for (lx->p++; lx->p < lx->end && *lx->p != '"'; lx->p++) {
		if (*lx->p == '\\' && lx->p + 1 < lx->end)
			lx->p++;
		else if (*lx->p == '\r' || *lx->p == '\n')
			continue;
		str_append_c(out, *lx->p);
	}
	if (lx->p < lx->end)
		lx->p++;
	return true;
}

bool
mime_lex_char(struct mime_lex *lx, char c)
{
	mime_lex_cfws(lx);
	if (lx->p < lx->end && *lx->p == c) {
		lx->p++;
		return true;
	}
	return false;
}

unsigned int
mime_count_lf(const char *s, size_t len)
{
	unsigned int n = 0;
	const char *end = s + len, *nl;

	while (s < end && (nl = memchr(s, '\n', (size_t)(end - s))) != NULL) {
		n++;
		s = nl + 1;
	}
	return n;
}
