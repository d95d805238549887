#ifndef DIRMAIL_AUTH_VAR_EXPAND_H
#define DIRMAIL_AUTH_VAR_EXPAND_H

/*
 * Dovecot 2.3 %-variables in templates such as user_filter or
 * auth_bind_userdn: "%u", "%Lu", "%{user}", "%U{domain}",
 * "%{ldap:homeDirectory}", "%{ldap:mail:default}" and "%%".
 *
 * A variable is "%", any number of modifiers ("L" lower case, "U" upper
 * case; ASCII only), then a letter or "{name}".  The caller supplies the
 * values in a table; "{prefix:name}" and "{prefix:name:default}" go to
 * a callback.  Every inserted value passes through the escape function
 * (e.g. RFC 4515 or RFC 4514 escaping for LDAP); literal text and "%%"
 * do not.  This module knows nothing of LDAP.
 */

#include <stddef.h>

#include "lib/str.h"

/* One variable: "%KEY" and/or "%{LONG_KEY}". */
struct var_expand_entry {
	char key;		/* '\0': no one-letter form */
	const char *long_key;	/* NULL: no long form */
	const char *value;	/* NULL expands to "" */
};

/*
 * Look up "%{PREFIX:NAME}".  Returns 1 with the value in *VALUE_R (it
 * must stay valid until var_expand() returns), 0 when there is no value
 * (the default, if the template gives one, else ""), or -1 with a
 * static reason in *ERROR_R (e.g. an unknown prefix).
 */
typedef int var_expand_func_t(const char *prefix, const char *name,
    void *context, const char **value_r, const char **error_r);

/* Append LEN bytes of VALUE to OUT, escaped. */
typedef void var_expand_escape_t(struct str *out, const void *value,
    size_t len);

struct var_expand_params {
	/* Ends with an entry whose key is '\0' and long_key NULL. */
	const struct var_expand_entry *table;
	var_expand_func_t *func;	/* NULL: "%{a:b}" is an error */
	void *context;			/* passed to FUNC */
	var_expand_escape_t *escape;	/* NULL: values copied as they are */
};

/*
 * Append TEMPLATE to OUT with its variables expanded.  Returns 0, or -1
 * with a reason in *ERROR_R for bad syntax or an unknown variable (OUT
 * is then left as it was).  The reason is static or in a buffer that
 * stays valid until the next call; it never holds a value.
 */
int var_expand(struct str *out, const char *template,
    const struct var_expand_params *params, const char **error_r);

/* The standard variables of an authentication request. */
enum {
	VAR_EXPAND_AUTH_USER,		/* %u %{user} */
	VAR_EXPAND_AUTH_USERNAME,	/* %n %{username} */
	VAR_EXPAND_AUTH_DOMAIN,		/* %d %{domain} */
	VAR_EXPAND_AUTH_SERVICE,	/* %s %{service} */
	VAR_EXPAND_AUTH_RIP,		/* %r %{rip} */
	VAR_EXPAND_AUTH_LIP,		/* %l %{lip} */
	VAR_EXPAND_AUTH_HOME,		/* %h %{home} */
	VAR_EXPAND_AUTH_COUNT
};

struct var_expand_auth {
	struct var_expand_entry table[VAR_EXPAND_AUTH_COUNT + 1];
	char *username;		/* the part of the user before the first "@" */
};

/*
 * Fill AUTH with the variables of a request.  USER is split at its first
 * "@" into %n and %d, as Dovecot does (%d is empty without one).  Any argument may be
 * NULL (the variable expands to "").  The strings are not copied, except
 * %n: free it with var_expand_auth_deinit().
 */
void var_expand_auth_init(struct var_expand_auth *auth, const char *user,
    const char *service, const char *rip, const char *lip,
    const char *home);

/* Free what var_expand_auth_init() allocated. */
void var_expand_auth_deinit(struct var_expand_auth *auth);

#endif
