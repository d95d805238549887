/* Dovecot %-variables in templates (see var_expand.h). */

#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/var_expand.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* The longest "%{...}" name quoted in an error. */
#define NAME_QUOTE_MAX	64

/* The case modifiers of one variable. */
enum var_case {
	CASE_KEEP,
	CASE_LOWER,
	CASE_UPPER,
};

/* Where error messages that name a variable are built. */
static char error_buf[NAME_QUOTE_MAX + 32];

/* Set *ERROR_R to "unknown variable %{NAME}" (LEN bytes of NAME). */
static int
unknown_long(const char *name, size_t len, const char **error_r)
{
	if (len > NAME_QUOTE_MAX)
		len = NAME_QUOTE_MAX;
	snprintf(error_buf, sizeof(error_buf), "unknown variable %%{%.*s}",
	    (int)len, name);
	*error_r = error_buf;
	return -1;
}

/* Set *ERROR_R to "unknown variable %C". */
static int
unknown_short(char c, const char **error_r)
{
	if (isprint((unsigned char)c))
		snprintf(error_buf, sizeof(error_buf),
		    "unknown variable %%%c", c);
	else
		snprintf(error_buf, sizeof(error_buf),
		    "unknown variable %%\\x%02x", (unsigned char)c);
	*error_r = error_buf;
	return -1;
}

/* Find the one-letter variable KEY; 0 when there is none. */
static int
find_short(const struct var_expand_entry *table, char key,
    const char **value_r)
{
	for (; table->key != '\0' || table->long_key != NULL; table++)
		if (table->key == key) {
			*value_r = table->value != NULL ? table->value : "";
			return 1;
		}
	return 0;
}

/* Find the long variable NAME (LEN bytes); 0 when there is none. */
static int
find_long(const struct var_expand_entry *table, const char *name,
    size_t len, const char **value_r)
{
	for (; table->key != '\0' || table->long_key != NULL; table++)
		if (table->long_key != NULL &&
		    strlen(table->long_key) == len &&
		    strncmp(table->long_key, name, len) == 0) {
			*value_r = table->value != NULL ? table->value : "";
			return 1;
		}
	return 0;
}

/*
 * Resolve "%{PREFIX:NAME[:DEFAULT]}" (SPEC, LEN bytes) through the
 * callback.  The value goes to *VALUE_R, possibly held in TMP.
 */
static int
find_func(const struct var_expand_params *params, const char *spec,
    size_t len, struct str *tmp, const char **value_r, const char **error_r)
{
	const char *colon = memchr(spec, ':', len), *def;
	char *prefix, *name;
	size_t name_len;
	int r;

	if (params->func == NULL)
		return unknown_long(spec, len, error_r);
	prefix = xstrndup(spec, (size_t)(colon - spec));
	name_len = len - (size_t)(colon + 1 - spec);
	def = memchr(colon + 1, ':', name_len);
	if (def != NULL)
		name_len = (size_t)(def - (colon + 1));
	name = xstrndup(colon + 1, name_len);
	r = params->func(prefix, name, params->context, value_r, error_r);
	free(prefix);
	free(name);
	if (r == 0) {
		str_truncate(tmp, 0);
		if (def != NULL)
			str_append_n(tmp, def + 1,
			    (size_t)(spec + len - (def + 1)));
		*value_r = str_c(tmp);
	}
	return r < 0 ? -1 : 0;
}

/* Append VALUE to OUT with the case change CASE and the escaping. */
static void
append_value(struct str *out, const char *value, enum var_case vcase,
    const struct var_expand_params *params)
{
	struct str tmp = STR_INIT;
	size_t i;

	str_append(&tmp, value);
	for (i = 0; i < tmp.len; i++)
		if (vcase == CASE_LOWER)
			tmp.s[i] = (char)tolower((unsigned char)tmp.s[i]);
		else if (vcase == CASE_UPPER)
			tmp.s[i] = (char)toupper((unsigned char)tmp.s[i]);
	if (params->escape != NULL)
		params->escape(out, str_c(&tmp), tmp.len);
	else
		str_append_n(out, str_c(&tmp), tmp.len);
	str_wipe(&tmp);
}

/*
 * Expand the variable after a "%" at *P into OUT and move *P past it.
 * Returns 0, or -1 with a reason.
 */
static int
expand_one(struct str *out, const char **p,
    const struct var_expand_params *params, const char **error_r)
{
	struct str tmp = STR_INIT;
	enum var_case vcase = CASE_KEEP;
	const char *s = *p, *end, *value;
	size_t len;
	int r = 0;

	for (; *s == 'L' || *s == 'U'; s++)
		vcase = *s == 'L' ? CASE_LOWER : CASE_UPPER;
	if (*s == '\0') {
		*error_r = "incomplete variable at the end of the template";
		return -1;
	}
	if (*s != '{') {
		if (!find_short(params->table, *s, &value))
			return unknown_short(*s, error_r);
		*p = s + 1;
	} else {
		if ((end = strchr(s, '}')) == NULL) {
			*error_r = "unterminated %{";
			return -1;
		}
		len = (size_t)(end - (s + 1));
		if (memchr(s + 1, ':', len) != NULL)
			r = find_func(params, s + 1, len, &tmp, &value,
			    error_r);
		else if (!find_long(params->table, s + 1, len, &value))
			r = unknown_long(s + 1, len, error_r);
		*p = end + 1;
	}
	if (r == 0)
		append_value(out, value, vcase, params);
	str_wipe(&tmp);
	return r;
}

/* Expand the variables of a template. */
int
var_expand(struct str *out, const char *template,
    const struct var_expand_params *params, const char **error_r)
{
	size_t mark = out->len;
	const char *p = template;

	str_append_n(out, "", 0);
	while (*p != '\0') {
		if (*p != '%') {
			str_append_c(out, *p++);
			continue;
		}
		p++;
		if (*p == '%') {
			str_append_c(out, '%');
			p++;
		} else if (expand_one(out, &p, params, error_r) < 0) {
			str_truncate(out, mark);
			return -1;
		}
	}
	return 0;
}

/* Fill the table of a request's variables. */
void
var_expand_auth_init(struct var_expand_auth *auth, const char *user,
    const char *service, const char *rip, const char *lip, const char *home)
{
	const char *at = user != NULL ? strchr(user, '@') : NULL;
	struct var_expand_entry *t;

	memset(auth, 0, sizeof(*auth));
	t = auth->table;
	auth->username = at != NULL ? xstrndup(user, (size_t)(at - user)) :
	    xstrdup(user);
	t[VAR_EXPAND_AUTH_USER] = (struct var_expand_entry){ 'u', "user",
	    user };
	t[VAR_EXPAND_AUTH_USERNAME] = (struct var_expand_entry){ 'n',
	    "username", auth->username };
	t[VAR_EXPAND_AUTH_DOMAIN] = (struct var_expand_entry){ 'd', "domain",
	    at != NULL ? at + 1 : NULL };
	t[VAR_EXPAND_AUTH_SERVICE] = (struct var_expand_entry){ 's',
	    "service", service };
	t[VAR_EXPAND_AUTH_RIP] = (struct var_expand_entry){ 'r', "rip", rip };
	t[VAR_EXPAND_AUTH_LIP] = (struct var_expand_entry){ 'l', "lip", lip };
	t[VAR_EXPAND_AUTH_HOME] = (struct var_expand_entry){ 'h', "home",
	    home };
}

/* Free the copy of %n. */
void
var_expand_auth_deinit(struct var_expand_auth *auth)
{
	free(auth->username);
	auth->username = NULL;
}
