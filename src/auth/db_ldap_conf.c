/*
 * Dovecot's dovecot-ldap.conf.ext for the ldap passdb and userdb (see
 * db_ldap_conf.h).
 */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/db_ldap_conf.h"
#include "auth/var_expand.h"
#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* The longest logical line accepted, in bytes. */
#define LINE_MAX_LEN	(64 * 1024)

enum key_kind {
	K_STR,		/* any text */
	K_TEMPLATE,	/* text with %-variables */
	K_ATTRS,	/* an attribute list, parsed after reading */
	K_BOOL,
	K_INT,		/* within [min, max] */
	K_WORDS,	/* words separated by white space */
	K_DEREF,	/* never, searching, finding or always */
	K_SCOPE,	/* base, onelevel or subtree */
	K_TLSREQ,	/* never, allow, try, demand or hard */
	K_HOSTS,	/* the old "hosts": kept aside, made URIs */
};

struct conf_key {
	const char *name;
	enum key_kind kind;
	size_t off;
	const char *def;
	int min, max;
};

#define OFF(f)	offsetof(struct db_ldap_conf, f)

/* The settings we know, sorted by name, with Dovecot 2.3's defaults. */
static const struct conf_key conf_keys[] = {
	{ "auth_bind", K_BOOL, OFF(auth_bind), "no", 0, 0 },
	{ "auth_bind_userdn", K_TEMPLATE, OFF(auth_bind_userdn), "", 0, 0 },
	{ "base", K_TEMPLATE, OFF(base), "", 0, 0 },
	{ "blocking", K_BOOL, OFF(blocking), "no", 0, 0 },
	{ "debug_level", K_INT, OFF(debug_level), "0", 0, 1000 },
	{ "default_pass_scheme", K_STR, OFF(default_pass_scheme), "CRYPT",
	    0, 0 },
	{ "deref", K_DEREF, OFF(deref), "never", 0, 0 },
	{ "dn", K_STR, OFF(dn), "", 0, 0 },
	{ "dnpass", K_STR, OFF(dnpass), "", 0, 0 },
	{ "hosts", K_HOSTS, 0, "", 0, 0 },
	{ "iterate_attrs", K_ATTRS, OFF(iterate_attrs), "uid=user", 0, 0 },
	{ "iterate_filter", K_TEMPLATE, OFF(iterate_filter),
	    "(objectClass=posixAccount)", 0, 0 },
	{ "ldap_version", K_INT, OFF(ldap_version), "3", 2, 3 },
	{ "pass_attrs", K_ATTRS, OFF(pass_attrs),
	    "uid=user,userPassword=password", 0, 0 },
	{ "pass_filter", K_TEMPLATE, OFF(pass_filter),
	    "(&(objectClass=posixAccount)(uid=%u))", 0, 0 },
	{ "sasl_authz_id", K_STR, OFF(sasl_authz_id), "", 0, 0 },
	{ "sasl_bind", K_BOOL, OFF(sasl_bind), "no", 0, 0 },
	{ "sasl_mech", K_STR, OFF(sasl_mech), "", 0, 0 },
	{ "sasl_realm", K_STR, OFF(sasl_realm), "", 0, 0 },
	{ "scope", K_SCOPE, OFF(scope), "subtree", 0, 0 },
	{ "tls", K_BOOL, OFF(tls), "no", 0, 0 },
	{ "tls_ca_cert_dir", K_STR, OFF(tls_ca_cert_dir), "", 0, 0 },
	{ "tls_ca_cert_file", K_STR, OFF(tls_ca_cert_file), "", 0, 0 },
	{ "tls_cert_file", K_STR, OFF(tls_cert_file), "", 0, 0 },
	{ "tls_key_file", K_STR, OFF(tls_key_file), "", 0, 0 },
	{ "tls_require_cert", K_TLSREQ, OFF(tls_require_cert), "", 0, 0 },
	{ "uris", K_WORDS, OFF(uris), "", 0, 0 },
	{ "user_attrs", K_ATTRS, OFF(user_attrs),
	    "homeDirectory=home,uidNumber=uid,gidNumber=gid", 0, 0 },
	{ "user_filter", K_TEMPLATE, OFF(user_filter),
	    "(&(objectClass=posixAccount)(uid=%u))", 0, 0 },
};

#define NKEYS	(sizeof(conf_keys) / sizeof(conf_keys[0]))

/* A file being read: where each setting came from (0: default). */
struct conf_reader {
	const char *path;
	FILE *fp;
	unsigned lineno;
	unsigned line[NKEYS];
	char *hosts;
	char *buf;
	size_t bufsize;
	struct str logical;
};

/* Return the index of the setting NAME, or -1. */
static int
key_find(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(conf_keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Accept "%{ldap:attr}"; add ATTR to the vector at CONTEXT, if any. */
static int
check_ldap_var(const char *prefix, const char *name, void *context,
    const char **value_r, const char **error_r)
{
	char ***attrs = context;
	size_t i, n;

	(void)value_r;
	if (strcmp(prefix, "ldap") != 0 && strcmp(prefix, "ldap_multi") != 0) {
		*error_r = "unknown variable prefix (use %{ldap:attribute})";
		return -1;
	}
	if (*name == '\0') {
		*error_r = "%{ldap:} needs an attribute name";
		return -1;
	}
	if (attrs == NULL)
		return 0;
	n = strv_len(*attrs);
	for (i = 0; i < n; i++)
		if (strcasecmp((*attrs)[i], name) == 0)
			return 0;
	*attrs = xreallocarray(*attrs, n + 2, sizeof(**attrs));
	(*attrs)[n] = xstrdup(name);
	(*attrs)[n + 1] = NULL;
	return 0;
}

/*
 * Check that TEMPLATE uses only known variables; add its %{ldap:attr}
 * names to *ATTRS when ATTRS is not NULL.
 */
static int
check_template(const char *template, char ***attrs, const char **error_r)
{
	struct var_expand_auth auth;
	struct var_expand_entry table[VAR_EXPAND_AUTH_COUNT + 2];
	struct var_expand_params params;
	struct str out = STR_INIT;
	int r;

	var_expand_auth_init(&auth, NULL, NULL, NULL, NULL, NULL);
	memcpy(table, auth.table, sizeof(auth.table));
	/* %$: the attribute's own value, in the old "attr=name=template". */
	table[VAR_EXPAND_AUTH_COUNT] = (struct var_expand_entry){ '$', NULL,
	    NULL };
	table[VAR_EXPAND_AUTH_COUNT + 1] = (struct var_expand_entry){ '\0',
	    NULL, NULL };
	params = (struct var_expand_params){ table, check_ldap_var, attrs,
	    NULL };
	r = var_expand(&out, template, &params, error_r);
	str_free(&out);
	var_expand_auth_deinit(&auth);
	return r;
}

/* Add the attribute ATTR to FIELDS's search list, once. */
static void
add_search_attr(struct db_ldap_fields *fields, const char *attr)
{
	const char *error;
	char *t = xasprintf("%%{ldap:%s}", attr);

	(void)check_template(t, &fields->search_attrs, &error);
	free(t);
}

/* Parse one ITEM of an attribute list into a new field of FIELDS. */
static int
field_parse(struct db_ldap_fields *fields, char *item, const char **error_r)
{
	struct db_ldap_field f = { NULL, NULL, NULL };
	char *eq, *name = item;

	if (*item != '=') {
		if ((eq = strchr(item, '=')) == NULL) {
			f.ldap_attr = xstrdup(str_trim(item));
			f.name = xstrdup(f.ldap_attr);
			goto add;
		}
		*eq = '\0';
		f.ldap_attr = xstrdup(str_trim(item));
		name = eq;
	}
	if ((eq = strchr(name + 1, '=')) != NULL) {
		*eq = '\0';
		f.template = xstrdup(str_trim(eq + 1));
	} else if (f.ldap_attr == NULL) {
		*error_r = "\"=name\" needs a template: \"=name=template\"";
		return -1;
	}
	f.name = xstrdup(str_trim(name + 1));
add:
	fields->fields = xreallocarray(fields->fields, fields->count + 1,
	    sizeof(*fields->fields));
	fields->fields[fields->count++] = f;
	if (*f.name == '\0' || (f.ldap_attr != NULL && *f.ldap_attr == '\0')) {
		*error_r = "empty attribute or field name";
		return -1;
	}
	if (f.ldap_attr != NULL)
		add_search_attr(fields, f.ldap_attr);
	if (f.template != NULL &&
	    check_template(f.template, &fields->search_attrs, error_r) < 0)
		return -1;
	return 0;
}

/* Return the end of the list item at P: a comma outside %{...}, or NUL. */
static char *
item_end(char *p)
{
	int depth = 0;

	for (; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == '{')
			depth++;
		else if (*p == '}' && depth > 0)
			depth--;
		else if (*p == ',' && depth == 0)
			break;
	}
	return p;
}

/* Parse an attribute list. */
int
db_ldap_fields_parse(const char *attrs, struct db_ldap_fields *fields,
    const char **error_r)
{
	char *copy = xstrdup(attrs), *p = copy, *end, *item;
	bool last = false;
	int r = 0;

	memset(fields, 0, sizeof(*fields));
	fields->search_attrs = xcalloc(1, sizeof(*fields->search_attrs));
	while (!last && r == 0) {
		end = item_end(p);
		last = *end == '\0';
		*end = '\0';
		item = str_trim(p);
		if (*item != '\0')
			r = field_parse(fields, item, error_r);
		p = end + 1;
	}
	free(copy);
	if (r < 0)
		db_ldap_fields_clear(fields);
	return r;
}

/* Free an attribute list. */
void
db_ldap_fields_clear(struct db_ldap_fields *fields)
{
	size_t i;

	for (i = 0; i < fields->count; i++) {
		free(fields->fields[i].ldap_attr);
		free(fields->fields[i].name);
		free(fields->fields[i].template);
	}
	free(fields->fields);
	strv_free(&fields->search_attrs);
	memset(fields, 0, sizeof(*fields));
}

/* Parse an integer within [MIN, MAX]. */
static int
parse_int(const char *s, int min, int max, int *value_r, const char **why)
{
	long long n;

	if (cfg_parse_int(s, min, max, &n, why) < 0)
		return -1;
	*value_r = (int)n;
	return 0;
}

/* Return the index of S in the NULL-terminated WORDS, or -1. */
static int
word_index(const char *s, const char *const *words)
{
	int i;

	for (i = 0; words[i] != NULL; i++)
		if (strcasecmp(s, words[i]) == 0)
			return i;
	return -1;
}

/* Parse never, searching, finding or always. */
static int
parse_deref(const char *s, int *value_r, const char **why)
{
	static const char *const words[] = { "never", "searching", "finding",
	    "always", NULL };

	if ((*value_r = word_index(s, words)) < 0) {
		*why = "use never, searching, finding or always";
		return -1;
	}
	return 0;
}

/* Parse base, onelevel or subtree. */
static int
parse_scope(const char *s, enum ldapc_scope *value_r, const char **why)
{
	static const char *const words[] = { "base", "onelevel", "subtree",
	    NULL };
	static const enum ldapc_scope scopes[] = { LDAPC_SCOPE_BASE,
	    LDAPC_SCOPE_ONE, LDAPC_SCOPE_SUB };
	int i;

	if ((i = word_index(s, words)) < 0) {
		*why = "use base, onelevel or subtree";
		return -1;
	}
	*value_r = scopes[i];
	return 0;
}

/* Parse a tls_require_cert level; "" leaves libldap's default. */
static int
parse_tlsreq(struct db_ldap_conf *conf, const char *s, const char **why)
{
	conf->tls_require_cert_set = *s != '\0';
	if (*s == '\0') {
		conf->tls_require_cert = LDAPC_TLS_DEMAND;
		return 0;
	}
	if (ldapc_tls_require_parse(s, &conf->tls_require_cert) < 0) {
		*why = "use never, hard, demand, allow or try";
		return -1;
	}
	return 0;
}

/* Store the string S in the char * field at P. */
static void
set_str(void *p, const char *s)
{
	char **field = p;

	if (*field != NULL)
		explicit_bzero(*field, strlen(*field));
	free(*field);
	*field = xstrdup(s);
}

/* Parse the value S of the setting K into CONF. */
static int
key_set(struct db_ldap_conf *conf, struct conf_reader *rd,
    const struct conf_key *k, const char *s, const char **why)
{
	void *p = (char *)conf + k->off;

	switch (k->kind) {
	case K_HOSTS:
		set_str(&rd->hosts, s);
		return 0;
	case K_TEMPLATE:
		if (check_template(s, NULL, why) < 0)
			return -1;
		/* FALLTHROUGH */
	case K_STR:
	case K_ATTRS:
		set_str(p, s);
		return 0;
	case K_WORDS:
		strv_free(p);
		*(char ***)p = cfg_split_list(s, false);
		return 0;
	case K_BOOL:
		return cfg_parse_bool(s, p, why);
	case K_INT:
		return parse_int(s, k->min, k->max, p, why);
	case K_DEREF:
		return parse_deref(s, p, why);
	case K_SCOPE:
		return parse_scope(s, p, why);
	case K_TLSREQ:
		return parse_tlsreq(conf, s, why);
	}
	return -1;
}

/* Remove matching quotes around VALUE in place, undoing "\" escapes. */
static void
unquote(char *value)
{
	size_t len = strlen(value);
	char *src, *dst;

	if (len < 2 || (value[0] != '"' && value[0] != '\'') ||
	    value[len - 1] != value[0])
		return;
	value[len - 1] = '\0';
	for (src = value + 1, dst = value; *src != '\0'; src++) {
		if (*src == '\\' && src[1] != '\0')
			src++;
		*dst++ = *src;
	}
	*dst = '\0';
}

/* Cut LINE at a "#" outside quotes, as Dovecot does. */
static void
strip_comment(struct conf_reader *rd, char *line)
{
	char quote = '\0', *p;

	for (p = line; *p != '\0'; p++) {
		if (quote != '\0') {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == quote)
				quote = '\0';
		} else if (*p == '"' || *p == '\'')
			quote = *p;
		else if (*p == '#') {
			if (p > line && !isspace((unsigned char)p[-1]))
				log_warning("%s:%u: \"#\" starts a comment; "
				    "quote the value if it belongs to it",
				    rd->path, rd->lineno);
			*p = '\0';
			return;
		}
	}
}

/*
 * Read the next logical line into RD->logical.  Returns 1, 0 at the
 * end, or -1 with a message.
 */
static int
read_line(struct conf_reader *rd, unsigned *lineno_r, char **error_r)
{
	ssize_t n;
	char *line;

	str_truncate(&rd->logical, 0);
	*lineno_r = 0;
	for (;;) {
		if ((n = getline(&rd->buf, &rd->bufsize, rd->fp)) < 0) {
			if (ferror(rd->fp)) {
				*error_r = xasprintf("%s: read error: %s",
				    rd->path, strerror(errno));
				return -1;
			}
			return *lineno_r != 0;
		}
		rd->lineno++;
		while (n > 0 && (rd->buf[n - 1] == '\n' ||
		    rd->buf[n - 1] == '\r'))
			rd->buf[--n] = '\0';
		line = rd->buf;
		while (isspace((unsigned char)*line))
			line++;
		if (*lineno_r == 0 && (*line == '#' || *line == '\0'))
			continue;
		if (*lineno_r == 0)
			*lineno_r = rd->lineno;
		strip_comment(rd, line);
		str_append(&rd->logical, line);
		if (rd->logical.len > LINE_MAX_LEN) {
			*error_r = xasprintf("%s:%u: line too long", rd->path,
			    *lineno_r);
			return -1;
		}
		n = (ssize_t)rd->logical.len;
		if (n == 0 || rd->logical.s[n - 1] != '\\')
			return 1;
		str_truncate(&rd->logical, (size_t)n - 1);
	}
}

/* Parse one logical "key = value" LINE into CONF. */
static int
conf_line(struct db_ldap_conf *conf, struct conf_reader *rd, char *line,
    unsigned lineno, char **error_r)
{
	char *eq = strchr(line, '='), *name, *value;
	const char *why;
	int i;

	if (eq == NULL || eq == line) {
		*error_r = xasprintf("%s:%u: expected \"key = value\"",
		    rd->path, lineno);
		return -1;
	}
	*eq = '\0';
	name = str_trim(line);
	value = str_trim(eq + 1);
	unquote(value);
	if ((i = key_find(name)) < 0) {
		log_warning("%s:%u: %s: unknown setting", rd->path, lineno,
		    name);
		return 0;
	}
	if (key_set(conf, rd, &conf_keys[i], value, &why) < 0) {
		/* Never echo a value: it may be the password. */
		*error_r = xasprintf("%s:%u: %s: %s", rd->path, lineno, name,
		    why);
		return -1;
	}
	rd->line[i] = lineno;
	return 0;
}

/* Set every setting of CONF to its default. */
static void
conf_defaults(struct db_ldap_conf *conf, struct conf_reader *rd)
{
	const char *why;
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (key_set(conf, rd, &conf_keys[i], conf_keys[i].def,
		    &why) < 0)
			log_panic("dovecot-ldap default %s: %s",
			    conf_keys[i].name, why);
}

/* Return "PATH:LINE" for the setting NAME, or PATH for a default. */
static char *
key_where(const struct conf_reader *rd, const char *name)
{
	unsigned line = rd->line[key_find(name)];

	return line > 0 ? xasprintf("%s:%u", rd->path, line) :
	    xstrdup(rd->path);
}

/* Set *ERROR_R to "WHERE(NAME): NAME: WHY"; return -1. */
static int
key_error(const struct conf_reader *rd, const char *name, const char *why,
    char **error_r)
{
	char *where = key_where(rd, name);

	*error_r = xasprintf("%s: %s: %s", where, name, why);
	free(where);
	return -1;
}

/* Make URIs of the old "hosts" setting when "uris" is not set. */
static int
conf_uris(struct db_ldap_conf *conf, struct conf_reader *rd,
    char **error_r)
{
	char **hosts;
	size_t i, n;

	if (strv_len(conf->uris) > 0)
		return 0;
	hosts = cfg_split_list(rd->hosts != NULL ? rd->hosts : "", false);
	n = strv_len(hosts);
	strv_free(&conf->uris);
	conf->uris = xcalloc(n + 1, sizeof(*conf->uris));
	for (i = 0; i < n; i++)
		conf->uris[i] = xasprintf("ldap://%s", hosts[i]);
	strv_free(&hosts);
	if (n == 0)
		return key_error(rd, "uris", "no LDAP server: set uris (or "
		    "hosts)", error_r);
	return 0;
}

/* Check the URIs' schemes. */
static int
conf_check_uris(struct db_ldap_conf *conf, struct conf_reader *rd,
    char **error_r)
{
	static const char *const schemes[] = { "ldap://", "ldaps://",
	    "ldapi://" };
	size_t i, j;

	for (i = 0; conf->uris[i] != NULL; i++) {
		for (j = 0; j < 3; j++)
			if (strncasecmp(conf->uris[i], schemes[j],
			    strlen(schemes[j])) == 0)
				break;
		if (j == 3)
			return key_error(rd, "uris", "use ldap://, ldaps:// "
			    "or ldapi:// URIs", error_r);
	}
	return 0;
}

/* Parse the three attribute lists. */
static int
conf_fields(struct db_ldap_conf *conf, struct conf_reader *rd,
    char **error_r)
{
	const char *why;

	if (db_ldap_fields_parse(conf->user_attrs, &conf->user_fields,
	    &why) < 0)
		return key_error(rd, "user_attrs", why, error_r);
	if (db_ldap_fields_parse(conf->pass_attrs, &conf->pass_fields,
	    &why) < 0)
		return key_error(rd, "pass_attrs", why, error_r);
	if (db_ldap_fields_parse(conf->iterate_attrs, &conf->iterate_fields,
	    &why) < 0)
		return key_error(rd, "iterate_attrs", why, error_r);
	return 0;
}

/* Check that the file VALUE of the key NAME, if set, can be read. */
static int
conf_check_file(struct conf_reader *rd, const char *name, const char *value,
    char **error_r)
{
	char *why;
	FILE *fp;

	if (*value == '\0')
		return 0;
	if ((fp = fopen(value, "r")) != NULL) {
		fclose(fp);
		return 0;
	}
	why = xasprintf("cannot read %s: %s", value, strerror(errno));
	key_error(rd, name, why, error_r);
	free(why);
	return -1;
}

/* The TLS client certificate: both files or neither, both readable. */
static int
conf_check_client_cert(struct db_ldap_conf *conf, struct conf_reader *rd,
    char **error_r)
{
	if (*conf->tls_cert_file != '\0' && *conf->tls_key_file == '\0')
		return key_error(rd, "tls_key_file", "needed with "
		    "tls_cert_file", error_r);
	if (*conf->tls_key_file != '\0' && *conf->tls_cert_file == '\0')
		return key_error(rd, "tls_cert_file", "needed with "
		    "tls_key_file", error_r);
	if (conf_check_file(rd, "tls_cert_file", conf->tls_cert_file,
	    error_r) < 0 || conf_check_file(rd, "tls_key_file",
	    conf->tls_key_file, error_r) < 0)
		return -1;
	return 0;
}

/* Check the rules that involve several settings. */
static int
conf_check(struct db_ldap_conf *conf, struct conf_reader *rd,
    char **error_r)
{
	if (conf_uris(conf, rd, error_r) < 0 ||
	    conf_check_uris(conf, rd, error_r) < 0 ||
	    conf_check_client_cert(conf, rd, error_r) < 0)
		return -1;
	/* As in Dovecot, a SASL bind makes the protocol version 3. */
	if (conf->sasl_bind)
		conf->ldap_version = 3;
	if (conf->tls && conf->ldap_version < 3)
		return key_error(rd, "tls", "needs ldap_version = 3", error_r);
	if (!conf->sasl_bind && *conf->dn != '\0' && *conf->dnpass == '\0')
		/* An empty simple bind is an anonymous bind that succeeds. */
		return key_error(rd, "dnpass", "empty, but dn is set",
		    error_r);
	if (conf->sasl_bind && *conf->sasl_mech == '\0')
		return key_error(rd, "sasl_mech", "needed with sasl_bind = "
		    "yes", error_r);
	return conf_fields(conf, rd, error_r);
}

/* Read every line of RD into CONF. */
static int
conf_read_lines(struct db_ldap_conf *conf, struct conf_reader *rd,
    char **error_r)
{
	unsigned lineno;
	int r;

	while ((r = read_line(rd, &lineno, error_r)) > 0)
		if (conf_line(conf, rd, rd->logical.s, lineno, error_r) < 0)
			return -1;
	return r;
}

/* Read a dovecot-ldap.conf.ext file into new settings. */
int
db_ldap_conf_read(const char *path, struct db_ldap_conf **conf_r,
    char **error_r)
{
	struct conf_reader rd;
	struct db_ldap_conf *conf;
	int r;

	memset(&rd, 0, sizeof(rd));
	rd.path = path;
	if ((rd.fp = fopen(path, "r")) == NULL) {
		*error_r = xasprintf("cannot open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	conf = xcalloc(1, sizeof(*conf));
	conf->path = xstrdup(path);
	conf_defaults(conf, &rd);
	r = conf_read_lines(conf, &rd, error_r);
	fclose(rd.fp);
	if (r == 0)
		r = conf_check(conf, &rd, error_r);
	if (rd.buf != NULL)
		explicit_bzero(rd.buf, rd.bufsize);
	free(rd.buf);
	str_wipe(&rd.logical);
	free(rd.hosts);
	if (r < 0) {
		db_ldap_conf_free(&conf);
		return -1;
	}
	*conf_r = conf;
	return 0;
}

/* Free the settings, wiping the password first. */
void
db_ldap_conf_free(struct db_ldap_conf **confp)
{
	struct db_ldap_conf *conf = *confp;
	size_t i;

	if (conf == NULL)
		return;
	if (conf->dnpass != NULL)
		explicit_bzero(conf->dnpass, strlen(conf->dnpass));
	for (i = 0; i < NKEYS; i++)
		if (conf_keys[i].kind == K_STR ||
		    conf_keys[i].kind == K_TEMPLATE ||
		    conf_keys[i].kind == K_ATTRS)
			free(*(char **)((char *)conf + conf_keys[i].off));
	strv_free(&conf->uris);
	db_ldap_fields_clear(&conf->user_fields);
	db_ldap_fields_clear(&conf->pass_fields);
	db_ldap_fields_clear(&conf->iterate_fields);
	free(conf->path);
	free(conf);
	*confp = NULL;
}
