#ifndef DIRMAIL_LIB_CFG_H
#define DIRMAIL_LIB_CFG_H

/*
 * The configuration engine: Postfix main.cf syntax checked against a
 * table of parameters.
 *
 * Syntax: "name = value" lines; a line that starts with white space
 * continues the previous one; "#" starts a comment line; "$name",
 * "${name}" and "$(name)" expand to another parameter's value,
 * "${name?text}" to TEXT when NAME is not empty, "${name:text}" to TEXT
 * when it is empty, and "$$" to "$".  Expansion happens when a value is
 * used, so parameters may refer to parameters defined later.
 *
 * The table knows nothing of mail; the program passes it in (see
 * global/params.h for dirmail's own).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum cfg_type {
	CFG_STRING,	/* any text */
	CFG_BOOL,	/* yes/no, true/false, on/off, 1/0 */
	CFG_INT,	/* a decimal integer within [min, max] */
	CFG_SIZE,	/* bytes: "10240000", "10M", "512k", "1 G" */
	CFG_DURATION,	/* "60s", "2m", "1h", "5d", "1w", "30 secs"; a bare
			   number is in the parameter's default unit */
	CFG_LIST,	/* words separated by commas and/or white space;
			   "{ a b }" groups words that hold white space */
	CFG_CIDR_LIST,	/* a list of addresses, networks (1.2.3.0/24,
			   [::1]/128) and type:table entries */
	CFG_TABLE_LIST,	/* a list of type:name lookup tables */
	CFG_FILE,	/* a path; Dovecot's "</path" form is accepted */
};

/* Flags of a parameter. */
#define CFG_F_COMMA_LIST	0x01	/* a list split on commas only */
#define CFG_F_SECRET		0x02	/* never printed in full */

struct cfg_param {
	const char *name;
	enum cfg_type type;
	const char *def;	/* default, in config syntax; may use $name */
	long long min;		/* CFG_INT/SIZE/DURATION bounds; */
	long long max;		/* min == max == 0: no bounds */
	char unit;		/* CFG_DURATION default unit: 's','m','h','d' */
	unsigned flags;
	const char *choices;	/* CFG_STRING: "a|b|c", the allowed values */
	const char *help;	/* one line, no final period */
};

struct cfg;

/*
 * Read PATH and check every value against TABLE (N rows, sorted by name).
 * DEFAULTS, when not NULL, is a NULL-terminated list of "name=value"
 * strings that replace the table's defaults for values computed at run
 * time (e.g. the host name).  OVERRIDES, when not NULL, is a NULL-terminated list of "name=value"
 * strings that win over the file (the -o option).  A missing file is an
 * error unless ALLOW_MISSING is true.  Unknown parameters are logged as
 * warnings "file:line: name: unknown parameter".
 *
 * Returns 0 and the new configuration in *CFG_R, or -1 with a message of
 * the form "file:line: name: reason" in *ERROR_R (free it).
 */
int cfg_load(const struct cfg_param *table, size_t n, const char *path,
    char *const *defaults, char *const *overrides, bool allow_missing, struct cfg **cfg_r,
    char **error_r);

/* Free a configuration and NULL *CFG. */
void cfg_free(struct cfg **cfg);

/* Return the path the configuration was read from. */
const char *cfg_path(const struct cfg *cfg);

/*
 * Accessors.  NAME must be in the table with the matching type: anything
 * else is a bug and panics.  Values are expanded; returned pointers stay
 * valid until cfg_free().
 */
const char *cfg_str(const struct cfg *cfg, const char *name);
bool cfg_bool(const struct cfg *cfg, const char *name);
long long cfg_int(const struct cfg *cfg, const char *name);
uint64_t cfg_size(const struct cfg *cfg, const char *name);
/* Duration in seconds. */
long long cfg_duration(const struct cfg *cfg, const char *name);
/* A CFG_LIST, CFG_CIDR_LIST or CFG_TABLE_LIST split into words;
   NULL-terminated, never NULL. */
char *const *cfg_list(const struct cfg *cfg, const char *name);
/* The path of a CFG_FILE parameter, without Dovecot's "<". */
const char *cfg_file(const struct cfg *cfg, const char *name);

/* True when NAME was set in the file or by an override. */
bool cfg_is_set(const struct cfg *cfg, const char *name);

/*
 * Return the raw (unexpanded) value of NAME, and where it came from in
 * *ORIGIN_R ("file:line", "override" or "default").  NULL for a name not
 * in the table.
 */
const char *cfg_raw(const struct cfg *cfg, const char *name,
    const char **origin_r);

/* Return the table row for NAME, or NULL. */
const struct cfg_param *cfg_param_find(const struct cfg_param *table,
    size_t n, const char *name);

/*
 * Expand $name references in TEXT against CFG.  Returns a new string.
 */
char *cfg_expand(const struct cfg *cfg, const char *text);

/*
 * Split a list value as CFG_LIST does (COMMA_ONLY as CFG_F_COMMA_LIST).
 * Returns a NULL-terminated vector (free with strv_free()).
 */
char **cfg_split_list(const char *value, bool comma_only);

/*
 * Parsers shared with other file formats.  Each returns 0 and the value,
 * or -1 with a static reason in *ERROR_R.
 */
int cfg_parse_bool(const char *s, bool *value_r, const char **error_r);
/* A whole decimal integer (leading "-" allowed) within [MIN, MAX]. */
int cfg_parse_int(const char *s, long long min, long long max,
    long long *value_r, const char **error_r);
int cfg_parse_size(const char *s, uint64_t *value_r, const char **error_r);
int cfg_parse_duration(const char *s, char unit, long long *seconds_r,
    const char **error_r);

/* Return the name of TYPE ("string", "bool", ...). */
const char *cfg_type_name(enum cfg_type type);

/*
 * Return the configuration file a program should read: PATH_OPT (its -c
 * option) when not NULL, else $DIRMAIL_CONFIG when set, else DEFAULT_PATH.
 */
const char *cfg_default_path(const char *path_opt, const char *default_path);

#endif
