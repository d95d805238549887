/*
 * regexp:FILE: Postfix regexp_table(5) with POSIX regular expressions.
 *
 *	/pattern/flags result		the result when KEY matches
 *	!/pattern/flags result		the result when KEY does not match
 *	if /pattern/flags  ...  endif	rules tried only when KEY matches
 *	if !/pattern/flags ...  endif	rules tried only when it does not
 *
 * Any character but a letter, a digit, white space or a backslash may
 * stand for "/".  Flags toggle case-insensitive matching ("i", on by
 * default), extended syntax ("x", on by default) and REG_NEWLINE ("m",
 * off by default).  In a result, $1..$9, ${1} and $(1) stand for what a
 * parenthesised group matched and $$ for "$".  The first rule that
 * matches, in file order, wins.
 */

#include "config.h"

#include <ctype.h>
#include <regex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "maps/drivers.h"
#include "maps/mapfile.h"

#define RX_MAX_GROUPS	9	/* $1..$9 */

enum rx_kind {
	RX_MATCH,
	RX_IF,
	RX_ENDIF,
};

struct rx_rule {
	enum rx_kind kind;
	bool negate;
	bool compiled;
	regex_t re;
	char *value;		/* RX_MATCH: the result */
	size_t endif;		/* RX_IF: the index of its endif */
};

struct rx_table {
	struct rx_rule *rules;
	size_t count;
	size_t cap;
};

/* The parser's state while a file is read. */
struct rx_parse {
	struct rx_table *table;
	const char *path;
	unsigned lineno;
	size_t *open_ifs;	/* indexes of the unmatched "if" rules */
	unsigned *open_lines;
	size_t depth;
	size_t depth_cap;
};

/* A pattern taken apart: "!/text/flags rest". */
struct rx_pattern {
	bool negate;
	char *text;
	int cflags;
	const char *rest;	/* the text after the pattern and its flags */
};

/* Free TABLE, its compiled patterns and results. */
static void
rx_table_free(struct rx_table *table)
{
	size_t i;

	for (i = 0; i < table->count; i++) {
		if (table->rules[i].compiled)
			regfree(&table->rules[i].re);
		free(table->rules[i].value);
	}
	free(table->rules);
	free(table);
}

/* Append an empty rule of KIND to TABLE and return it. */
static struct rx_rule *
rx_rule_new(struct rx_table *table, enum rx_kind kind)
{
	struct rx_rule *rule;

	if (table->count == table->cap) {
		table->cap = table->cap ? table->cap * 2 : 16;
		table->rules = xreallocarray(table->rules, table->cap,
		    sizeof(*table->rules));
	}
	rule = &table->rules[table->count++];
	memset(rule, 0, sizeof(*rule));
	rule->kind = kind;
	return rule;
}

/* Set an error message "file:line: ..." for the line being parsed. */
static int
rx_fail(struct rx_parse *ps, char **error_r, const char *what,
    const char *detail)
{
	*error_r = xasprintf("%s:%u: %s%s%s", ps->path, ps->lineno, what,
	    detail != NULL ? ": " : "", detail != NULL ? detail : "");
	return -1;
}

/* Apply the flag letters at *P to *CFLAGS; advance *P past them. */
static int
rx_parse_flags(struct rx_parse *ps, const char **p, int *cflags,
    char **error_r)
{
	char bad[2] = { 0, 0 };

	for (; **p != '\0' && !isspace((unsigned char)**p); (*p)++) {
		switch (**p) {
		case 'i':
			*cflags ^= REG_ICASE;
			break;
		case 'x':
			*cflags ^= REG_EXTENDED;
			break;
		case 'm':
			*cflags ^= REG_NEWLINE;
			break;
		default:
			bad[0] = **p;
			return rx_fail(ps, error_r, "unknown pattern flag",
			    bad);
		}
	}
	return 0;
}

/* Take "!/text/flags" at the start of S apart into PAT. */
static int
rx_parse_pattern(struct rx_parse *ps, const char *s, struct rx_pattern *pat,
    char **error_r)
{
	const char *start, *end;
	char delim;

	memset(pat, 0, sizeof(*pat));
	pat->cflags = REG_EXTENDED | REG_ICASE;
	if (*s == '!') {
		pat->negate = true;
		while (isspace((unsigned char)*++s))
			;
	}
	delim = *s;
	if (delim == '\0' || delim == '\\' || isalnum((unsigned char)delim) ||
	    isspace((unsigned char)delim))
		return rx_fail(ps, error_r, "expected /pattern/", NULL);
	for (start = end = s + 1; *end != '\0' && *end != delim; end++)
		if (*end == '\\' && end[1] != '\0')
			end++;
	if (*end != delim)
		return rx_fail(ps, error_r, "pattern without its closing "
		    "delimiter", NULL);
	pat->rest = end + 1;
	if (rx_parse_flags(ps, &pat->rest, &pat->cflags, error_r) < 0)
		return -1;
	while (isspace((unsigned char)*pat->rest))
		pat->rest++;
	pat->text = xstrndup(start, (size_t)(end - start));
	return 0;
}

/* Compile PAT into RULE; the error names the pattern and regerror(3). */
static int
rx_compile(struct rx_parse *ps, struct rx_rule *rule,
    const struct rx_pattern *pat, char **error_r)
{
	char why[256];
	int rc;

	rule->negate = pat->negate;
	rc = regcomp(&rule->re, pat->text, pat->cflags);
	if (rc != 0) {
		regerror(rc, &rule->re, why, sizeof(why));
		return rx_fail(ps, error_r, "bad regular expression", why);
	}
	rule->compiled = true;
	return 0;
}

/*
 * Decode the "$" reference at P (the text after the "$"): return the
 * group number 1..9, 0 for "$$", or -1 when malformed; the number of
 * bytes it takes after the "$" goes to *LEN_R.
 */
static int
rx_ref(const char *p, size_t *len_r)
{
	*len_r = 1;
	if (*p == '$')
		return 0;
	if (*p >= '1' && *p <= '9')
		return *p - '0';
	if ((*p == '{' || *p == '(') && p[1] >= '1' && p[1] <= '9' &&
	    p[2] == (*p == '{' ? '}' : ')')) {
		*len_r = 3;
		return p[1] - '0';
	}
	return -1;
}

/* Check the "$" references of VALUE against RULE's pattern. */
static int
rx_check_result(struct rx_parse *ps, const struct rx_rule *rule,
    const char *value, char **error_r)
{
	const char *p;
	size_t len;
	int n;

	for (p = strchr(value, '$'); p != NULL; p = strchr(p + len, '$')) {
		p++;
		if ((n = rx_ref(p, &len)) < 0)
			return rx_fail(ps, error_r, "bad $ in the result",
			    "use $1..$9, ${1}..${9} or $$");
		if (n > 0 && rule->negate)
			return rx_fail(ps, error_r, "the result of a negated "
			    "pattern cannot use $1..$9", NULL);
		if (n > 0 && (size_t)n > rule->re.re_nsub)
			return rx_fail(ps, error_r, "the result refers to a "
			    "group that the pattern does not have", NULL);
	}
	return 0;
}

/* True when LINE starts with the keyword KW (any case) and a space. */
static bool
is_keyword(const char *line, const char *kw)
{
	size_t n = strlen(kw);

	return strncasecmp(line, kw, n) == 0 &&
	    (line[n] == '\0' || isspace((unsigned char)line[n]));
}

/* Add a "/pattern/flags result" rule. */
static int
rx_add_match(struct rx_parse *ps, const char *line, char **error_r)
{
	struct rx_pattern pat;
	struct rx_rule *rule;
	int ret = -1;

	if (rx_parse_pattern(ps, line, &pat, error_r) < 0)
		return -1;
	if (*pat.rest == '\0') {
		rx_fail(ps, error_r, "pattern without a result", NULL);
		goto out;
	}
	if (pat.negate)
		pat.cflags |= REG_NOSUB;
	rule = rx_rule_new(ps->table, RX_MATCH);
	if (rx_compile(ps, rule, &pat, error_r) < 0 ||
	    rx_check_result(ps, rule, pat.rest, error_r) < 0)
		goto out;
	rule->value = xstrdup(pat.rest);
	ret = 0;
out:
	free(pat.text);
	return ret;
}

/* Add an "if /pattern/flags" rule; REST is the text after "if". */
static int
rx_add_if(struct rx_parse *ps, const char *rest, char **error_r)
{
	struct rx_pattern pat;
	struct rx_rule *rule;
	int ret = -1;

	while (isspace((unsigned char)*rest))
		rest++;
	if (rx_parse_pattern(ps, rest, &pat, error_r) < 0)
		return -1;
	if (*pat.rest != '\0') {
		rx_fail(ps, error_r, "text after the pattern of \"if\"", NULL);
		goto out;
	}
	pat.cflags |= REG_NOSUB;
	rule = rx_rule_new(ps->table, RX_IF);
	if (rx_compile(ps, rule, &pat, error_r) < 0)
		goto out;
	if (ps->depth == ps->depth_cap) {
		ps->depth_cap = ps->depth_cap ? ps->depth_cap * 2 : 8;
		ps->open_ifs = xreallocarray(ps->open_ifs, ps->depth_cap,
		    sizeof(*ps->open_ifs));
		ps->open_lines = xreallocarray(ps->open_lines, ps->depth_cap,
		    sizeof(*ps->open_lines));
	}
	ps->open_ifs[ps->depth] = ps->table->count - 1;
	ps->open_lines[ps->depth++] = ps->lineno;
	ret = 0;
out:
	free(pat.text);
	return ret;
}

/* Close the innermost "if"; REST is the text after "endif". */
static int
rx_add_endif(struct rx_parse *ps, const char *rest, char **error_r)
{
	if (*rest != '\0')
		return rx_fail(ps, error_r, "text after \"endif\"", NULL);
	if (ps->depth == 0)
		return rx_fail(ps, error_r, "\"endif\" without \"if\"", NULL);
	ps->table->rules[ps->open_ifs[--ps->depth]].endif = ps->table->count;
	rx_rule_new(ps->table, RX_ENDIF);
	return 0;
}

/* Parse one logical line. */
static int
rx_add_line(struct rx_parse *ps, const char *line, char **error_r)
{
	if (is_keyword(line, "endif"))
		return rx_add_endif(ps, line + 5, error_r);
	if (is_keyword(line, "if"))
		return rx_add_if(ps, line + 2, error_r);
	return rx_add_match(ps, line, error_r);
}

/* Read every rule of PS->path; check that each "if" has its "endif". */
static int
rx_read(struct rx_parse *ps, char **error_r)
{
	struct mapfile_reader *reader;
	const char *line;
	int r;

	if (mapfile_reader_open(ps->path, &reader, error_r) < 0)
		return -1;
	while ((r = mapfile_reader_next(reader, &line, &ps->lineno,
	    error_r)) > 0)
		if (rx_add_line(ps, line, error_r) < 0) {
			r = -1;
			break;
		}
	mapfile_reader_close(&reader);
	if (r == 0 && ps->depth > 0) {
		ps->lineno = ps->open_lines[ps->depth - 1];
		r = rx_fail(ps, error_r, "\"if\" without \"endif\"", NULL);
	}
	return r;
}

/* Compile every rule of MAP->name. */
static int
rx_open(struct map *map, char **error_r)
{
	struct rx_parse ps;
	int r;

	memset(&ps, 0, sizeof(ps));
	ps.table = xcalloc(1, sizeof(*ps.table));
	ps.path = map->name;
	r = rx_read(&ps, error_r);
	free(ps.open_ifs);
	free(ps.open_lines);
	if (r < 0) {
		rx_table_free(ps.table);
		return -1;
	}
	map->ctx = ps.table;
	return 0;
}

/* Return RULE's result with $N replaced by what group N of PM matched. */
static char *
rx_expand(const struct rx_rule *rule, const char *key, const regmatch_t *pm)
{
	struct str out = STR_INIT;
	const char *p = rule->value, *dollar;
	size_t len;
	int n;

	while ((dollar = strchr(p, '$')) != NULL) {
		str_append_n(&out, p, (size_t)(dollar - p));
		n = rx_ref(dollar + 1, &len);
		if (n <= 0)
			str_append_c(&out, '$');
		else if (pm[n].rm_so >= 0)
			str_append_n(&out, key + pm[n].rm_so,
			    (size_t)(pm[n].rm_eo - pm[n].rm_so));
		p = dollar + 1 + len;
	}
	str_append(&out, p);
	return str_steal(&out);
}

/* Match KEY against RULE: 1 when it matches, 0 when not, -1 on error. */
static int
rx_match(struct map *map, const struct rx_rule *rule, const char *key,
    regmatch_t *pm)
{
	size_t nmatch = 0;
	char why[256];
	int rc;

	if (rule->kind == RX_MATCH && !rule->negate)
		nmatch = RX_MAX_GROUPS + 1;
	rc = regexec(&rule->re, key, nmatch, nmatch ? pm : NULL, 0);
	if (rc == 0)
		return 1;
	if (rc == REG_NOMATCH)
		return 0;
	regerror(rc, &rule->re, why, sizeof(why));
	map_set_error(map, "%s: cannot match \"%s\": %s", map->name, key,
	    why);
	return -1;
}

/* Return the result of the first rule that matches KEY. */
static int
rx_lookup(struct map *map, const char *key, char **value_r)
{
	const struct rx_table *table = map->ctx;
	const struct rx_rule *rule;
	regmatch_t pm[RX_MAX_GROUPS + 1];
	size_t i;
	int m;

	for (i = 0; i < table->count; i++) {
		rule = &table->rules[i];
		if (rule->kind == RX_ENDIF)
			continue;
		if ((m = rx_match(map, rule, key, pm)) < 0)
			return MAP_ERROR;
		if ((m == 1) == rule->negate) {
			if (rule->kind == RX_IF)
				i = rule->endif;
			continue;
		}
		if (rule->kind == RX_MATCH) {
			*value_r = rx_expand(rule, key, pm);
			return MAP_FOUND;
		}
	}
	return MAP_NOTFOUND;
}

/* Free the compiled rules. */
static void
rx_close(struct map *map)
{
	if (map->ctx != NULL)
		rx_table_free(map->ctx);
	map->ctx = NULL;
}

const struct map_driver map_driver_regexp = {
	.type = "regexp",
	.flags = MAP_DRV_NO_FOLD | MAP_DRV_PATTERN,
	.open = rx_open,
	.lookup = rx_lookup,
	.close = rx_close,
};
