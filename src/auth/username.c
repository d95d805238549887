/* Login names: allowed characters, default realm, format, variables. */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/var_expand.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* Expand the Dovecot variables of TMPL for USER; "" on a bad template. */
char *
auth_var_expand(const char *tmpl, const char *user, const char *service)
{
	struct var_expand_auth va;
	struct var_expand_params params = { NULL, NULL, NULL, NULL };
	struct str out = STR_INIT;
	const char *error;

	var_expand_auth_init(&va, user, service, NULL, NULL, NULL);
	params.table = va.table;
	if (var_expand(&out, tmpl, &params, &error) < 0) {
		log_error("cannot expand \"%s\": %s", tmpl, error);
		str_truncate(&out, 0);
	}
	var_expand_auth_deinit(&va);
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
