/*
 * The aliases(5) source format: "name: value" lines, read through the
 * table source reader of mapfile.c and built into lmdb by its builder.
 */

#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "maps/aliases.h"

/* Parse the quoted name at *P (after the opening quote) into OUT; *P
   ends after the closing quote.  -1 when the quote is not closed. */
static int
aliases_quoted(const char **p, struct str *out)
{
	const char *q = *p;

	for (; *q != '"'; q++) {
		if (*q == '\\' && q[1] != '\0')
			q++;
		if (*q == '\0')
			return -1;
		str_append_c(out, *q);
	}
	*p = q + 1;
	return 0;
}

/* The name at the start of LINE into OUT; *P is set after it (at the
   colon or at white space before it).  -1 when malformed. */
static int
aliases_name(const char *line, const char **p, struct str *out)
{
	const char *q = line;

	if (*q == '"') {
		q++;
		if (aliases_quoted(&q, out) < 0)
			return -1;
	} else {
		while (*q != '\0' && *q != ':' &&
		    !isspace((unsigned char)*q))
			str_append_c(out, *q++);
	}
	*p = q;
	return out->len > 0 ? 0 : -1;
}

/* Split one logical aliases line. */
int
aliases_split(const char *path, unsigned lineno, const char *line,
    char **name_r, char **value_r, char **error_r)
{
	struct str name = STR_INIT;
	const char *p;
	char *copy, *value;

	(void)error_r;
	if (aliases_name(line, &p, &name) < 0) {
		log_warning("%s:%u: need name:value pair", path, lineno);
		str_free(&name);
		return 0;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p != ':') {
		log_warning("%s:%u: need name:value pair", path, lineno);
		str_free(&name);
		return 0;
	}
	copy = xstrdup(p + 1);
	value = xstrdup(str_trim(copy));
	free(copy);
	if (*value == '\0') {
		log_warning("%s:%u: name \"%s\" has no value", path, lineno,
		    str_c(&name));
		free(value);
		str_free(&name);
		return 0;
	}
	*name_r = str_lcase(str_steal(&name));
	*value_r = value;
	return 1;
}

/* Read the aliases file PATH. */
int
aliases_load(const char *path, struct mapfile **mapfile_r, char **error_r)
{
	return mapfile_load_with(path, aliases_split, mapfile_r, error_r);
}

/* Build PATH.lmdb from the aliases file PATH. */
int
aliases_build_lmdb(const char *path, char **error_r)
{
	return mapfile_build_lmdb_with(path, aliases_split, error_r);
}
