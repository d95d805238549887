/*
 * Content-Type and Content-Disposition values: type/subtype or the
 * disposition token, then parameters (RFC 2045 5.1, RFC 2183), with RFC
 * 2231 continuations joined.  Shared by mime_parse.c only.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "mailstore/mime.h"
#include "mailstore/mime_ctype.h"
#include "mailstore/mime_int.h"

/* One parameter as written, before continuations are joined. */
struct raw_param {
	char *base;		/* name without "*N" or "*" */
	char *value;
	int section;		/* -1 when not a continuation */
	bool extended;		/* the name ended in "*" */
};

/* Split NAME into its base, section number and extended flag. */
static void
split_name(char *name, struct raw_param *rp)
{
	char *star = strchr(name, '*'), *num, *endp;
	long n;

	rp->section = -1;
	rp->extended = false;
	if (star == NULL)
		return;
	num = star + 1;
	if (*num == '\0') {
		rp->extended = true;
		*star = '\0';
		return;
	}
	n = strtol(num, &endp, 10);
	if (endp == num || n < 0 || n > 999 || (*endp != '\0' &&
	    strcmp(endp, "*") != 0))
		return;		/* an odd name: keep it as it is */
	rp->section = (int)n;
	rp->extended = *endp == '*';
	*star = '\0';
}

/* Read one parameter value: a quoted string, a token or, for the
   malformed values real mail has (unquoted spaces, raw 8-bit), the raw
   text up to the next ';'. */
static char *
read_value(struct mime_lex *lx)
{
	struct str v = STR_INIT;
	const char *start;

	if (mime_lex_quoted(lx, &v))
		return str_steal(&v);
	mime_lex_cfws(lx);
	start = lx->p;
	while (lx->p < lx->end && *lx->p != ';')
		lx->p++;
	v.len = 0;
	str_append_n(&v, start, (size_t)(lx->p - start));
	while (v.len > 0 && (v.s[v.len - 1] == ' ' || v.s[v.len - 1] == '\t'))
		v.s[--v.len] = '\0';
	return str_steal(&v);
}

/* Percent-encode an unextended section that joins extended ones. */
static void
append_pct(struct str *out, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (mime_is_token_char(c) && c != '*' && c != '\'' && c != '%')
			str_append_c(out, (char)c);
		else
			str_appendf(out, "%%%02X", c);
	}
}

static int
cmp_section(const void *a, const void *b)
{
	const struct raw_param *x = *(struct raw_param *const *)a;
	const struct raw_param *y = *(struct raw_param *const *)b;

	if (x->section != y->section)
		return (x->section > y->section) - (x->section < y->section);
	return (x > y) - (x < y);	/* written order for duplicates */
}

/* Join the sections of RAW[0..N-1] whose base is BASE into one value. */
static void
join_sections(struct raw_param *raw, size_t n, const char *base,
    struct mime_param *out)
{
	struct raw_param **sec = xreallocarray(NULL, n, sizeof(*sec));
	struct str v = STR_INIT, name = STR_INIT;
	size_t i, ns = 0;
	bool ext = false;

	for (i = 0; i < n; i++) {
		if (raw[i].section >= 0 && strcasecmp(raw[i].base, base) == 0) {
			sec[ns++] = &raw[i];
			ext = ext || raw[i].extended;
		}
	}
	qsort(sec, ns, sizeof(*sec), cmp_section);
	if (ext && !sec[0]->extended)
		str_append(&v, "''");
	for (i = 0; i < ns; i++) {
		if (ext && !sec[i]->extended)
			append_pct(&v, sec[i]->value);
		else
			str_append(&v, sec[i]->value);
	}
	str_append(&name, base);
	if (ext)
		str_append_c(&name, '*');
	out->name = str_steal(&name);
	out->value = str_steal(&v);
	for (i = 0; i < ns; i++)
		sec[i]->section = -2;	/* consumed */
	free(sec);
}

/* Turn the raw parameters into the final list. */
static void
finish_params(struct raw_param *raw, size_t n, struct mime_param **params_r,
    size_t *n_r)
{
	struct mime_param *out = xcalloc(n + 1, sizeof(*out));
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (raw[i].section == -2)
			continue;
		if (raw[i].section >= 0) {
			join_sections(raw, n, raw[i].base, &out[k++]);
			continue;
		}
		out[k].name = xasprintf("%s%s", raw[i].base,
		    raw[i].extended ? "*" : "");
		out[k++].value = xstrdup(raw[i].value);
	}
	*params_r = out;
	*n_r = k;
}

void
mime_params_parse(struct mime_lex *lx, struct mime_param **params_r,
    size_t *n_r)
{
	struct raw_param *raw = xcalloc(MIME_MAX_PARAMS, sizeof(*raw));
	size_t n = 0, i;

	while (n < MIME_MAX_PARAMS && mime_lex_char(lx, ';')) {
		struct str name = STR_INIT;

		if (!mime_lex_token(lx, &name))
			continue;	/* ";;" or garbage: try the next */
		if (!mime_lex_char(lx, '=')) {
			str_free(&name);
			continue;
		}
		raw[n].value = read_value(lx);
		raw[n].base = str_steal(&name);
		split_name(raw[n].base, &raw[n]);
		n++;
	}
	finish_params(raw, n, params_r, n_r);
	for (i = 0; i < n; i++) {
		free(raw[i].base);
		free(raw[i].value);
	}
	free(raw);
}

bool
mime_ctype_parse(const char *value, char **type_r, char **subtype_r,
    struct mime_param **params_r, size_t *n_r)
{
	struct mime_lex lx = { value, value + strlen(value), NULL, 0 };
	struct str type = STR_INIT, subtype = STR_INIT;

	if (!mime_lex_token(&lx, &type) || !mime_lex_char(&lx, '/') ||
	    !mime_lex_token(&lx, &subtype)) {
		str_free(&type);
		str_free(&subtype);
		return false;
	}
	*type_r = str_steal(&type);
	*subtype_r = str_steal(&subtype);
	mime_params_parse(&lx, params_r, n_r);
	return true;
}

bool
mime_disposition_parse(const char *value, char **disp_r,
    struct mime_param **params_r, size_t *n_r)
{
	struct mime_lex lx = { value, value + strlen(value), NULL, 0 };
	struct str disp = STR_INIT;

	if (!mime_lex_token(&lx, &disp))
		return false;
	*disp_r = str_steal(&disp);
	mime_params_parse(&lx, params_r, n_r);
	return true;
}

void
mime_params_free(struct mime_param *params, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(params[i].name);
		free(params[i].value);
	}
	free(params);
}
