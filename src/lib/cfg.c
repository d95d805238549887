/* The configuration engine: main.cf syntax checked against a table. */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/cfg.h"
#include "lib/cidr.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define CFG_MAX_DEPTH	100	/* nested $name expansions */
#define CFG_MAX_LINE	(1024 * 1024)	/* one logical line */

struct cfg_value {
	char *raw;		/* unexpanded text */
	char *origin;		/* "file:line", "command line" or "default" */
	bool set;		/* from the file or an override */
	char *expanded;		/* filled by the validation pass */
	char **list;		/* list types: the split words */
	long long num;		/* CFG_INT, CFG_DURATION; CFG_BOOL as 0/1 */
	uint64_t size;		/* CFG_SIZE */
};

/* A parameter the table does not know; kept for $name expansion. */
struct cfg_extra {
	char *name;
	char *raw;
};

struct cfg {
	const struct cfg_param *table;
	size_t n;
	char *path;
	struct cfg_value *vals;
	struct cfg_extra *extra;
	size_t n_extra;
};

/* Compare a name with a table row for bsearch(). */
static int
param_cmp(const void *key, const void *row)
{
	return strcmp(key, ((const struct cfg_param *)row)->name);
}

const struct cfg_param *
cfg_param_find(const struct cfg_param *table, size_t n, const char *name)
{
	return bsearch(name, table, n, sizeof(*table), param_cmp);
}

const char *
cfg_type_name(enum cfg_type type)
{
	static const char *const names[] = {
		[CFG_STRING] = "string", [CFG_BOOL] = "bool",
		[CFG_INT] = "integer", [CFG_SIZE] = "size",
		[CFG_DURATION] = "duration", [CFG_LIST] = "list",
		[CFG_CIDR_LIST] = "CIDR list", [CFG_TABLE_LIST] = "table list",
		[CFG_FILE] = "file",
	};

	return (size_t)type < sizeof(names) / sizeof(names[0]) ?
	    names[type] : "unknown";
}

/* Return the value slot of NAME, or NULL when the table lacks it. */
static struct cfg_value *
cfg_slot(const struct cfg *cfg, const char *name)
{
	const struct cfg_param *p = cfg_param_find(cfg->table, cfg->n, name);

	return p == NULL ? NULL : &cfg->vals[p - cfg->table];
}

/* Return the raw text of NAME for expansion, from the table or extras. */
static const char *
cfg_lookup_raw(const struct cfg *cfg, const char *name)
{
	struct cfg_value *v = cfg_slot(cfg, name);
	size_t i;

	if (v != NULL)
		return v->raw;
	for (i = 0; i < cfg->n_extra; i++)
		if (strcmp(cfg->extra[i].name, name) == 0)
			return cfg->extra[i].raw;
	return NULL;
}

static int expand_into(const struct cfg *, const char *, struct str *, int,
    const char **);

/*
 * Expand one "${name...}" or "$(name...)" form starting after the opening
 * bracket at *P; advance *P past the closing one.
 */
static int
expand_braced(const struct cfg *cfg, const char **p, char close,
    struct str *out, int depth, const char **error_r)
{
	const char *s = *p, *name_end, *end;
	char op = '\0';
	const char *value;
	char *name, *text = NULL;
	int level = 1, ret = 0;

	name_end = s;
	while (isalnum((unsigned char)*name_end) || *name_end == '_')
		name_end++;
	if (*name_end == '?' || *name_end == ':')
		op = *name_end;
	for (end = name_end; *end != '\0'; end++) {
		if (*end == (close == '}' ? '{' : '('))
			level++;
		else if (*end == close && --level == 0)
			break;
	}
	if (*end != close || name_end == s || (op == '\0' && end != name_end)) {
		*error_r = "bad $ expression";
		return -1;
	}
	name = xstrndup(s, (size_t)(name_end - s));
	value = cfg_lookup_raw(cfg, name);
	if (value == NULL)
		log_warning("%s: undefined parameter $%s", cfg->path, name);
	if (op != '\0') {
		struct str tmp = STR_INIT;
		bool empty;

		if (value != NULL &&
		    expand_into(cfg, value, &tmp, depth + 1, error_r) < 0)
			ret = -1;
		empty = tmp.len == 0;
		str_free(&tmp);
		text = xstrndup(name_end + 1, (size_t)(end - name_end - 1));
		if (ret == 0 && ((op == '?' && !empty) || (op == ':' && empty)))
			ret = expand_into(cfg, text, out, depth + 1, error_r);
	} else if (value != NULL) {
		ret = expand_into(cfg, value, out, depth + 1, error_r);
	}
	free(text);
	free(name);
	*p = end + 1;
	return ret;
}

/* Append TEXT to OUT with every $name expanded. */
static int
expand_into(const struct cfg *cfg, const char *text, struct str *out,
    int depth, const char **error_r)
{
	const char *p = text, *start;
	const char *value;
	char *name;

	if (depth > CFG_MAX_DEPTH) {
		*error_r = "$name expansion loops or nests too deep";
		return -1;
	}
	while (*p != '\0') {
		if (*p != '$') {
			start = p;
			while (*p != '\0' && *p != '$')
				p++;
			str_append_n(out, start, (size_t)(p - start));
			continue;
		}
		p++;
		if (*p == '$') {
			str_append_c(out, '$');
			p++;
		} else if (*p == '{' || *p == '(') {
			p++;
			if (expand_braced(cfg, &p, p[-1] == '{' ? '}' : ')',
			    out, depth, error_r) < 0)
				return -1;
		} else if (isalnum((unsigned char)*p) || *p == '_') {
			start = p;
			while (isalnum((unsigned char)*p) || *p == '_')
				p++;
			name = xstrndup(start, (size_t)(p - start));
			value = cfg_lookup_raw(cfg, name);
			if (value == NULL)
				log_warning("%s: undefined parameter $%s",
				    cfg->path, name);
			free(name);
			if (value != NULL &&
			    expand_into(cfg, value, out, depth + 1, error_r) < 0)
				return -1;
		} else {
			str_append_c(out, '$');
		}
	}
	return 0;
}

char *
cfg_expand(const struct cfg *cfg, const char *text)
{
	struct str out = STR_INIT;
	const char *error;

	if (expand_into(cfg, text, &out, 0, &error) < 0) {
		str_free(&out);
		return xstrdup(text);
	}
	return str_steal(&out);
}

char **
cfg_split_list(const char *value, bool comma_only)
{
	char **v = xcalloc(1, sizeof(*v));
	size_t n = 0;
	const char *p = value, *start, *end;
	int level;

	for (;;) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		if (*p == '{') {
			start = ++p;
			for (level = 1; *p != '\0'; p++) {
				if (*p == '{')
					level++;
				else if (*p == '}' && --level == 0)
					break;
			}
			end = p;
			if (*p == '}')
				p++;
		} else {
			start = p;
			while (*p != '\0' && *p != ',' &&
			    (comma_only || !isspace((unsigned char)*p)))
				p++;
			end = p;
		}
		while (end > start && isspace((unsigned char)end[-1]))
			end--;
		while (start < end && isspace((unsigned char)*start))
			start++;
		if (end == start)
			continue;
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = xstrndup(start, (size_t)(end - start));
		v[n] = NULL;
	}
	return v;
}

int
cfg_parse_bool(const char *s, bool *value_r, const char **error_r)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*value_r = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*value_r = false;
			return 0;
		}
	}
	*error_r = "not a boolean (use yes or no)";
	return -1;
}

/* Parse the leading unsigned decimal number of S; *END_R after it. */
static int
parse_number(const char *s, unsigned long long *value_r, const char **end_r,
    const char **error_r)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s)) {
		*error_r = "not a number";
		return -1;
	}
	errno = 0;
	*value_r = strtoull(s, &end, 10);
	if (errno == ERANGE || *value_r > LLONG_MAX) {
		*error_r = "number too large";
		return -1;
	}
	while (isspace((unsigned char)*end))
		end++;
	*end_r = end;
	return 0;
}

int
cfg_parse_int(const char *s, long long min, long long max,
    long long *value_r, const char **error_r)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0) {
		*error_r = "not a number";
		return -1;
	}
	if (n < min || n > max) {
		*error_r = "out of range";
		return -1;
	}
	*value_r = n;
	return 0;
}

int
cfg_parse_size(const char *s, uint64_t *value_r, const char **error_r)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {
		{ "", 1 }, { "b", 1 }, { "k", 1024 }, { "kb", 1024 },
		{ "m", 1024 * 1024 }, { "mb", 1024 * 1024 },
		{ "g", 1024ULL * 1024 * 1024 }, { "gb", 1024ULL * 1024 * 1024 },
		{ "t", 1024ULL * 1024 * 1024 * 1024 },
		{ "tb", 1024ULL * 1024 * 1024 * 1024 },
	};
	unsigned long long n;
	const char *end;
	size_t i;

	if (parse_number(s, &n, &end, error_r) < 0)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].suffix) != 0)
			continue;
		if (n > UINT64_MAX / units[i].mult) {
			*error_r = "size too large";
			return -1;
		}
		*value_r = n * units[i].mult;
		return 0;
	}
	*error_r = "bad size unit (use k, M or G)";
	return -1;
}

int
cfg_parse_duration(const char *s, char unit, long long *seconds_r,
    const char **error_r)
{
	static const struct {
		const char *word;
		long long secs;
	} units[] = {
		{ "s", 1 }, { "sec", 1 }, { "secs", 1 }, { "second", 1 },
		{ "seconds", 1 }, { "m", 60 }, { "min", 60 }, { "mins", 60 },
		{ "minute", 60 }, { "minutes", 60 }, { "h", 3600 },
		{ "hour", 3600 }, { "hours", 3600 }, { "d", 86400 },
		{ "day", 86400 }, { "days", 86400 }, { "w", 604800 },
		{ "week", 604800 }, { "weeks", 604800 },
	};
	char def[2] = { unit != 0 ? unit : 's', '\0' };
	unsigned long long n;
	const char *end;
	size_t i;

	if (parse_number(s, &n, &end, error_r) < 0)
		return -1;
	if (*end == '\0')
		end = def;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].word) != 0)
			continue;
		if (n > (unsigned long long)LLONG_MAX / units[i].secs) {
			*error_r = "duration too large";
			return -1;
		}
		*seconds_r = (long long)n * units[i].secs;
		return 0;
	}
	*error_r = "bad time unit (use s, m, h, d or w)";
	return -1;
}

/* Check a "type:name" table reference. */
static int
check_table(const char *s, const char **error_r)
{
	const char *p = s;

	if (!islower((unsigned char)*p)) {
		*error_r = "not a type:name table";
		return -1;
	}
	while (islower((unsigned char)*p) || isdigit((unsigned char)*p) ||
	    *p == '_' || *p == '-')
		p++;
	if (*p != ':' || p[1] == '\0') {
		*error_r = "not a type:name table";
		return -1;
	}
	return 0;
}

/* Check one element of a CIDR list: an address, a network, a file or a
   table. */
static int
check_cidr_item(const char *s, const char **error_r)
{
	struct cidr c;
	const char *why;

	if (*s == '!')
		s++;
	if (*s == '/' || cidr_parse(s, &c, &why) == 0)
		return 0;
	if (check_table(s, error_r) == 0)
		return 0;
	*error_r = why;
	return -1;
}

/* Check a CFG_STRING against the row's "a|b|c" choices. */
static int
check_choice(const struct cfg_param *p, const char *value,
    const char **error_r)
{
	const char *c = p->choices, *bar;
	size_t len = strlen(value);

	while (c != NULL) {
		bar = strchr(c, '|');
		if ((bar != NULL ? (size_t)(bar - c) : strlen(c)) == len &&
		    strncasecmp(c, value, len) == 0)
			return 0;
		c = bar != NULL ? bar + 1 : NULL;
	}
	*error_r = "not one of the allowed values";
	return -1;
}

/* Check a number against the row's bounds. */
static int
check_bounds(const struct cfg_param *p, long long n, const char **error_r)
{
	if (p->min == 0 && p->max == 0)
		return 0;
	if (n < p->min) {
		*error_r = "value below the minimum";
		return -1;
	}
	if (p->max != 0 && n > p->max) {
		*error_r = "value above the maximum";
		return -1;
	}
	return 0;
}

/* Check a list type: split it and check each word. */
static int
check_list(const struct cfg_param *p, struct cfg_value *v,
    const char **error_r)
{
	char **w;

	v->list = cfg_split_list(v->expanded, p->flags & CFG_F_COMMA_LIST);
	for (w = v->list; *w != NULL; w++) {
		if (p->type == CFG_CIDR_LIST &&
		    check_cidr_item(*w, error_r) < 0)
			return -1;
		if (p->type == CFG_TABLE_LIST && check_table(*w, error_r) < 0)
			return -1;
	}
	return 0;
}

/* Parse the expanded value of V by the row's type. */
static int
check_value(const struct cfg_param *p, struct cfg_value *v,
    const char **error_r)
{
	const char *s = v->expanded, *end;
	unsigned long long n;
	bool b;

	switch (p->type) {
	case CFG_STRING:
		return p->choices == NULL ? 0 : check_choice(p, s, error_r);
	case CFG_BOOL:
		if (cfg_parse_bool(s, &b, error_r) < 0)
			return -1;
		v->num = b;
		return 0;
	case CFG_INT:
		if (parse_number(s, &n, &end, error_r) < 0)
			return -1;
		if (*end != '\0') {
			*error_r = "not a number";
			return -1;
		}
		v->num = (long long)n;
		return check_bounds(p, v->num, error_r);
	case CFG_SIZE:
		if (cfg_parse_size(s, &v->size, error_r) < 0)
			return -1;
		return check_bounds(p, (long long)v->size, error_r);
	case CFG_DURATION:
		if (cfg_parse_duration(s, p->unit, &v->num, error_r) < 0)
			return -1;
		return check_bounds(p, v->num, error_r);
	case CFG_LIST:
	case CFG_CIDR_LIST:
	case CFG_TABLE_LIST:
		return check_list(p, v, error_r);
	case CFG_FILE:
		return 0;
	}
	return 0;
}

/* Expand and check every parameter. */
static int
cfg_validate(struct cfg *cfg, char **error_r)
{
	const struct cfg_param *p;
	struct cfg_value *v;
	struct str out;
	const char *why;
	char *text;
	size_t i;

	for (i = 0; i < cfg->n; i++) {
		p = &cfg->table[i];
		v = &cfg->vals[i];
		out = (struct str)STR_INIT;
		if (expand_into(cfg, v->raw, &out, 0, &why) == 0) {
			text = str_steal(&out);
			v->expanded = xstrdup(str_trim(text));
			free(text);
			if (check_value(p, v, &why) == 0)
				continue;
		}
		str_free(&out);
		*error_r = xasprintf("%s: %s: %s", v->origin, p->name, why);
		return -1;
	}
	return 0;
}

/* Set NAME to VALUE from ORIGIN; unknown names are warned about. */
static void
cfg_assign(struct cfg *cfg, const char *name, const char *value,
    const char *origin, bool is_default)
{
	struct cfg_value *v = cfg_slot(cfg, name);
	size_t i;

	if (v == NULL) {
		if (!is_default)
			log_warning("%s: %s: unknown parameter", origin, name);
		for (i = 0; i < cfg->n_extra; i++) {
			if (strcmp(cfg->extra[i].name, name) == 0) {
				free(cfg->extra[i].raw);
				cfg->extra[i].raw = xstrdup(value);
				return;
			}
		}
		cfg->extra = xreallocarray(cfg->extra, cfg->n_extra + 1,
		    sizeof(*cfg->extra));
		cfg->extra[cfg->n_extra].name = xstrdup(name);
		cfg->extra[cfg->n_extra++].raw = xstrdup(value);
		return;
	}
	free(v->raw);
	free(v->origin);
	v->raw = xstrdup(value);
	v->origin = xstrdup(origin);
	v->set = !is_default;
}

/* Split one logical "name = value" line and assign it. */
static int
cfg_parse_line(struct cfg *cfg, char *line, const char *origin,
    char **error_r)
{
	char *name = line, *eq, *end;

	eq = strchr(line, '=');
	if (eq == NULL) {
		*error_r = xasprintf("%s: missing '=' after parameter name",
		    origin);
		return -1;
	}
	*eq = '\0';
	name = str_trim(name);
	for (end = name; isalnum((unsigned char)*end) || *end == '_'; end++)
		;
	if (*name == '\0' || *end != '\0') {
		*error_r = xasprintf("%s: bad parameter name \"%s\"", origin,
		    name);
		return -1;
	}
	cfg_assign(cfg, name, str_trim(eq + 1), origin, false);
	return 0;
}

/* Read "name=value" pairs from a NULL-terminated vector. */
static int
cfg_assign_pairs(struct cfg *cfg, char *const *pairs, const char *origin,
    bool is_default, char **error_r)
{
	char *copy, *eq;

	for (; pairs != NULL && *pairs != NULL; pairs++) {
		copy = xstrdup(*pairs);
		eq = strchr(copy, '=');
		if (eq == NULL) {
			*error_r = xasprintf("%s: \"%s\": expected name=value",
			    origin, *pairs);
			free(copy);
			return -1;
		}
		*eq = '\0';
		cfg_assign(cfg, str_trim(copy), str_trim(eq + 1), origin,
		    is_default);
		free(copy);
	}
	return 0;
}

/* Parse the logical line in LOGICAL (started at LINENO), if any. */
static int
cfg_flush_line(struct cfg *cfg, struct str *logical, unsigned lineno,
    char **error_r)
{
	char *origin;
	int ret;

	if (logical->len == 0)
		return 0;
	origin = xasprintf("%s:%u", cfg->path, lineno);
	ret = cfg_parse_line(cfg, logical->s, origin, error_r);
	free(origin);
	str_truncate(logical, 0);
	return ret;
}

/* Read the file: comments, blank lines and continuation lines. */
static int
cfg_read_file(struct cfg *cfg, FILE *fp, char **error_r)
{
	struct str logical = STR_INIT;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0, start = 0;
	int ret = 0;

	while (ret == 0 && (len = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (line[strspn(line, " \t")] == '#' ||
		    line[strspn(line, " \t")] == '\0')
			continue;
		if (isspace((unsigned char)line[0])) {
			if (logical.len == 0) {
				*error_r = xasprintf("%s:%u: continuation "
				    "line without a parameter", cfg->path,
				    lineno);
				ret = -1;
				break;
			}
			str_append_c(&logical, ' ');
			str_append(&logical, str_trim(line));
		} else {
			ret = cfg_flush_line(cfg, &logical, start, error_r);
			start = lineno;
			str_append(&logical, line);
		}
		if (logical.len > CFG_MAX_LINE) {
			*error_r = xasprintf("%s:%u: line too long", cfg->path,
			    lineno);
			ret = -1;
		}
	}
	if (ret == 0)
		ret = cfg_flush_line(cfg, &logical, start, error_r);
	free(line);
	str_free(&logical);
	return ret;
}

int
cfg_load(const struct cfg_param *table, size_t n, const char *path,
    char *const *defaults, char *const *overrides, bool allow_missing,
    struct cfg **cfg_r, char **error_r)
{
	struct cfg *cfg = xcalloc(1, sizeof(*cfg));
	FILE *fp;
	size_t i;
	int ret = 0;

	cfg->table = table;
	cfg->n = n;
	cfg->path = xstrdup(path);
	cfg->vals = xcalloc(n, sizeof(*cfg->vals));
	for (i = 0; i < n; i++) {
		cfg->vals[i].raw = xstrdup(table[i].def);
		cfg->vals[i].origin = xstrdup("default");
	}
	ret = cfg_assign_pairs(cfg, defaults, "default", true, error_r);
	if (ret == 0 && (fp = fopen(path, "r")) != NULL) {
		ret = cfg_read_file(cfg, fp, error_r);
		fclose(fp);
	} else if (ret == 0 && !(errno == ENOENT && allow_missing)) {
		*error_r = xasprintf("%s: %s", path, strerror(errno));
		ret = -1;
	}
	if (ret == 0)
		ret = cfg_assign_pairs(cfg, overrides, "command line", false,
		    error_r);
	if (ret == 0)
		ret = cfg_validate(cfg, error_r);
	if (ret < 0) {
		cfg_free(&cfg);
		return -1;
	}
	*cfg_r = cfg;
	return 0;
}

void
cfg_free(struct cfg **cfgp)
{
	struct cfg *cfg = *cfgp;
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n; i++) {
		free(cfg->vals[i].raw);
		free(cfg->vals[i].origin);
		free(cfg->vals[i].expanded);
		strv_free(&cfg->vals[i].list);
	}
	for (i = 0; i < cfg->n_extra; i++) {
		free(cfg->extra[i].name);
		free(cfg->extra[i].raw);
	}
	free(cfg->extra);
	free(cfg->vals);
	free(cfg->path);
	free(cfg);
	*cfgp = NULL;
}

const char *
cfg_path(const struct cfg *cfg)
{
	return cfg->path;
}

/* Return the validated value of NAME, which must have type TYPE. */
static const struct cfg_value *
cfg_get(const struct cfg *cfg, const char *name, enum cfg_type type)
{
	const struct cfg_param *p = cfg_param_find(cfg->table, cfg->n, name);

	if (p == NULL)
		log_panic("unknown configuration parameter %s", name);
	if (p->type != type &&
	    !(type == CFG_LIST && (p->type == CFG_CIDR_LIST ||
	    p->type == CFG_TABLE_LIST)) &&
	    !(type == CFG_STRING && p->type == CFG_FILE))
		log_panic("parameter %s is a %s, not a %s", name,
		    cfg_type_name(p->type), cfg_type_name(type));
	return &cfg->vals[p - cfg->table];
}

const char *
cfg_str(const struct cfg *cfg, const char *name)
{
	return cfg_get(cfg, name, CFG_STRING)->expanded;
}

bool
cfg_bool(const struct cfg *cfg, const char *name)
{
	return cfg_get(cfg, name, CFG_BOOL)->num != 0;
}

long long
cfg_int(const struct cfg *cfg, const char *name)
{
	return cfg_get(cfg, name, CFG_INT)->num;
}

uint64_t
cfg_size(const struct cfg *cfg, const char *name)
{
	return cfg_get(cfg, name, CFG_SIZE)->size;
}

long long
cfg_duration(const struct cfg *cfg, const char *name)
{
	return cfg_get(cfg, name, CFG_DURATION)->num;
}

char *const *
cfg_list(const struct cfg *cfg, const char *name)
{
	return cfg_get(cfg, name, CFG_LIST)->list;
}

const char *
cfg_file(const struct cfg *cfg, const char *name)
{
	const char *s = cfg_get(cfg, name, CFG_FILE)->expanded;

	if (*s == '<')
		s++;
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

bool
cfg_is_set(const struct cfg *cfg, const char *name)
{
	const struct cfg_value *v = cfg_slot(cfg, name);

	return v != NULL && v->set;
}

const char *
cfg_raw(const struct cfg *cfg, const char *name, const char **origin_r)
{
	const struct cfg_value *v = cfg_slot(cfg, name);

	if (v == NULL)
		return NULL;
	if (origin_r != NULL)
		*origin_r = v->origin;
	return v->raw;
}

const char *
cfg_default_path(const char *path_opt, const char *default_path)
{
	const char *env;

	if (path_opt != NULL)
		return path_opt;
	env = getenv("DIRMAIL_CONFIG");
	if (env != NULL && *env != '\0')
		return env;
	return default_path;
}
