/* Login names: allowed characters, default realm, format, variables. */

#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* Apply modifier MOD ('L', 'U' or 0) to VALUE and append it. */
static void
append_mod(struct str *out, const char *value, char mod)
{
	for (; *value != '\0'; value++) {
		if (mod == 'L')
			str_append_c(out, (char)tolower((unsigned char)*value));
		else if (mod == 'U')
			str_append_c(out, (char)toupper((unsigned char)*value));
		else
			str_append_c(out, *value);
	}
}

/* Return the value of variable NAME (a letter or long name), or NULL. */
static const char *
var_value(const char *name, size_t len, const char *user,
    const char *service, char **tmp)
{
	const char *at = strchr(user, '@');

	if ((len == 1 && *name == 'u') || (len == 4 &&
	    strncmp(name, "user", 4) == 0))
		return user;
	if ((len == 1 && *name == 'n') || (len == 8 &&
	    strncmp(name, "username", 8) == 0)) {
		*tmp = at != NULL ? xstrndup(user, (size_t)(at - user)) :
		    xstrdup(user);
		return *tmp;
	}
	if ((len == 1 && *name == 'd') || (len == 6 &&
	    strncmp(name, "domain", 6) == 0))
		return at != NULL ? at + 1 : "";
	if ((len == 1 && *name == 's') || (len == 7 &&
	    strncmp(name, "service", 7) == 0))
		return service != NULL ? service : "";
	return NULL;
}

/* Expand %u %n %d %s (with L/U modifiers, {long} names) in TMPL. */
char *
auth_var_expand(const char *tmpl, const char *user, const char *service)
{
	struct str out = STR_INIT;
	const char *p, *name, *value;
	char mod, *tmp;
	size_t len;

	for (p = tmpl; *p != '\0'; p++) {
		if (*p != '%' || p[1] == '\0') {
			str_append_c(&out, *p);
			continue;
		}
		p++;
		mod = (*p == 'L' || *p == 'U') ? *p++ : 0;
		if (*p == '{' && strchr(p, '}') != NULL) {
			name = p + 1;
			len = (size_t)(strchr(p, '}') - name);
			p = name + len;
		} else {
			name = p;
			len = 1;
		}
		tmp = NULL;
		value = var_value(name, len, user, service, &tmp);
		if (*name == '%' && len == 1)
			str_append_c(&out, '%');
		else if (value != NULL)
			append_mod(&out, value, mod);
		free(tmp);
		if (*p == '\0')
			break;
	}
	return str_steal(&out);
}

/* Normalise LOGIN; -1 when it holds a refused character. */
int
auth_username_normalize(const char *login, char **user_r)
{
	const char *chars = auth_set.username_chars;
	const char *p;
	char *with_realm;

	if (*login == '\0')
		return -1;
	for (p = login; *chars != '\0' && *p != '\0'; p++)
		if (strchr(chars, *p) == NULL)
			return -1;
	if (*auth_set.default_realm != '\0' && strchr(login, '@') == NULL)
		with_realm = xasprintf("%s@%s", login, auth_set.default_realm);
	else
		with_realm = xstrdup(login);
	*user_r = auth_var_expand(auth_set.username_format, with_realm, NULL);
	free(with_realm);
	if (**user_r == '\0') {
		free(*user_r);
		*user_r = NULL;
		return -1;
	}
	return 0;
}
