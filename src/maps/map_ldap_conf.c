/*
 * The ldap table's configuration: Postfix ldap_table(5) files and the "%"
 * expansions of query_filter, search_base and result_format (see
 * map_ldap_conf.h).  The lookups are in map_ldap.c.
 */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ldap/ldapc.h"
#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "maps/map_ldap_conf.h"
#include "maps/mapfile.h"

enum key_kind {
	K_STR,		/* any text */
	K_FORMAT,	/* text with % expansions */
	K_LIST,		/* words separated by commas and/or spaces */
	K_BOOL,
	K_INT,		/* within [min, max] */
	K_SECS,		/* a duration within [min, max] seconds */
	K_SCOPE,	/* sub, one or base */
	K_TLSREQ,	/* yes/no, or a libldap level name */
	K_FILE,		/* a readable path, or empty */
};

struct conf_key {
	const char *name;
	enum key_kind kind;
	size_t off;
	const char *def;
	int min, max;
};

#define OFF(f)	offsetof(struct ldap_table_conf, f)

/* The settings of ldap_table(5) that we know, with their defaults. */
static const struct conf_key conf_keys[] = {
	{ "bind", K_BOOL, OFF(bind), "yes", 0, 0 },
	{ "bind_dn", K_STR, OFF(bind_dn), "", 0, 0 },
	{ "bind_pw", K_STR, OFF(bind_pw), "", 0, 0 },
	{ "dereference", K_INT, OFF(dereference), "0", 0, 3 },
	{ "domain", K_LIST, OFF(domain), "", 0, 0 },
	{ "expansion_limit", K_INT, OFF(expansion_limit), "0", 0, INT_MAX },
	{ "leaf_result_attribute", K_LIST, OFF(leaf_result_attribute), "",
	    0, 0 },
	{ "query_filter", K_FORMAT, OFF(query_filter),
	    "(mailacceptinggeneralid=%s)", 0, 0 },
	{ "recursion_limit", K_INT, OFF(recursion_limit), "1000", 1,
	    INT_MAX },
	{ "result_attribute", K_LIST, OFF(result_attribute), "maildrop",
	    0, 0 },
	{ "result_format", K_FORMAT, OFF(result_format), "%s", 0, 0 },
	{ "scope", K_SCOPE, OFF(scope), "sub", 0, 0 },
	{ "search_base", K_FORMAT, OFF(search_base), "", 0, 0 },
	{ "server_host", K_LIST, OFF(server_host), "localhost", 0, 0 },
	{ "server_port", K_INT, OFF(server_port), "389", 1, 65535 },
	{ "size_limit", K_INT, OFF(size_limit), "0", 0, INT_MAX },
	{ "special_result_attribute", K_LIST,
	    OFF(special_result_attribute), "", 0, 0 },
	{ "start_tls", K_BOOL, OFF(start_tls), "no", 0, 0 },
	{ "terminal_result_attribute", K_LIST,
	    OFF(terminal_result_attribute), "", 0, 0 },
	{ "timeout", K_SECS, OFF(timeout), "10", 1, 3600 },
	{ "tls_ca_cert_dir", K_FILE, OFF(tls_ca_cert_dir), "", 0, 0 },
	{ "tls_ca_cert_file", K_FILE, OFF(tls_ca_cert_file), "", 0, 0 },
	{ "tls_require_cert", K_TLSREQ, OFF(tls_require_cert), "yes", 0,
	    0 },
	{ "version", K_INT, OFF(version), "3", 2, 3 },
};

#define NKEYS	(sizeof(conf_keys) / sizeof(conf_keys[0]))

/* Where each setting came from while a file is read (0: default). */
struct conf_lines {
	unsigned line[NKEYS];
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

/* Parse sub, one or base. */
static int
parse_scope(const char *s, enum ldapc_scope *value_r, const char **why)
{
	if (strcasecmp(s, "sub") == 0)
		*value_r = LDAPC_SCOPE_SUB;
	else if (strcasecmp(s, "one") == 0)
		*value_r = LDAPC_SCOPE_ONE;
	else if (strcasecmp(s, "base") == 0)
		*value_r = LDAPC_SCOPE_BASE;
	else {
		*why = "use sub, one or base";
		return -1;
	}
	return 0;
}

/* Parse yes/no (demand/never, as Postfix) or a libldap level. */
static int
parse_tlsreq(const char *s, enum ldapc_tls_require *value_r,
    const char **why)
{
	bool b;

	if (cfg_parse_bool(s, &b, why) == 0) {
		*value_r = b ? LDAPC_TLS_DEMAND : LDAPC_TLS_NEVER;
		return 0;
	}
	if (ldapc_tls_require_parse(s, value_r) == 0)
		return 0;
	*why = "use yes or no (or never, allow, try, demand, hard)";
	return -1;
}

/* Parse a duration in seconds within [MIN, MAX]. */
static int
parse_secs(const char *s, int min, int max, int *value_r, const char **why)
{
	long long secs;

	if (cfg_parse_duration(s, 's', &secs, why) < 0)
		return -1;
	if (secs < min || secs > max) {
		*why = "out of range";
		return -1;
	}
	*value_r = (int)secs;
	return 0;
}

/* Store the string S in the char * field at P. */
static void
set_str(void *p, const char *s)
{
	char **field = p;

	free(*field);
	*field = xstrdup(s);
}

/* Store the list S in the char ** field at P. */
static void
set_list(void *p, const char *s)
{
	char ***field = p;

	strv_free(field);
	*field = cfg_split_list(s, false);
}

/* Check that the file S, when given, can be read. */
static int
check_file(const char *s, const char **why)
{
	if (*s != '\0' && access(s, R_OK) < 0) {
		*why = strerror(errno);
		return -1;
	}
	return 0;
}

/* Parse the value S of the setting K into CONF. */
static int
key_set(struct ldap_table_conf *conf, const struct conf_key *k,
    const char *s, const char **why)
{
	void *p = (char *)conf + k->off;

	switch (k->kind) {
	case K_FORMAT:
		if (ldap_table_check_format(s, why) < 0)
			return -1;
		/* FALLTHROUGH */
	case K_STR:
		set_str(p, s);
		return 0;
	case K_FILE:
		if (check_file(s, why) < 0)
			return -1;
		set_str(p, s);
		return 0;
	case K_LIST:
		set_list(p, s);
		return 0;
	case K_BOOL:
		return cfg_parse_bool(s, p, why);
	case K_INT:
		return parse_int(s, k->min, k->max, p, why);
	case K_SECS:
		return parse_secs(s, k->min, k->max, p, why);
	case K_SCOPE:
		return parse_scope(s, p, why);
	case K_TLSREQ:
		return parse_tlsreq(s, p, why);
	}
	return -1;
}

/* Parse one logical "name = value" LINE of PATH into CONF. */
static int
conf_line(struct ldap_table_conf *conf, struct conf_lines *lines,
    const char *path, const char *line, unsigned lineno, char **error_r)
{
	const char *eq = strchr(line, '='), *why;
	char *name_buf, *value_buf, *name, *value;
	int i, r = 0;

	if (eq == NULL || eq == line) {
		*error_r = xasprintf("%s:%u: expected \"name = value\"", path,
		    lineno);
		return -1;
	}
	name_buf = xstrndup(line, (size_t)(eq - line));
	value_buf = xstrdup(eq + 1);
	name = str_trim(name_buf);
	value = str_trim(value_buf);
	if ((i = key_find(name)) < 0)
		log_warning("%s:%u: %s: unknown parameter", path, lineno,
		    name);
	else if (key_set(conf, &conf_keys[i], value, &why) < 0) {
		/* Never echo a value: it may be the password. */
		*error_r = xasprintf("%s:%u: %s: %s", path, lineno, name, why);
		r = -1;
	} else
		lines->line[i] = lineno;
	explicit_bzero(value_buf, strlen(value_buf));
	free(name_buf);
	free(value_buf);
	return r;
}

/* Set every setting of CONF to its default. */
static void
conf_defaults(struct ldap_table_conf *conf)
{
	const char *why;
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (key_set(conf, &conf_keys[i], conf_keys[i].def, &why) < 0)
			log_panic("ldap table default %s: %s",
			    conf_keys[i].name, why);
}

/* Return the URI of the server_host entry HOST. */
static char *
host_uri(const char *host, int port)
{
	const char *colon = strrchr(host, ':');
	const char *bracket = strrchr(host, ']');
	bool has_port;

	if (strstr(host, "://") != NULL)
		return xstrdup(host);
	if (*host == '[')
		has_port = colon != NULL && bracket != NULL && colon > bracket;
	else
		has_port = colon != NULL;
	if (has_port)
		return xasprintf("ldap://%s/", host);
	return xasprintf("ldap://%s:%d/", host, port);
}

/* Turn server_host into URIs; check the schemes. */
static int
conf_uris(struct ldap_table_conf *conf, const char *where, char **error_r)
{
	size_t i, n = strv_len(conf->server_host);

	if (n == 0) {
		*error_r = xasprintf("%s: server_host: no server", where);
		return -1;
	}
	conf->uris = xcalloc(n + 1, sizeof(*conf->uris));
	for (i = 0; i < n; i++) {
		conf->uris[i] = host_uri(conf->server_host[i],
		    conf->server_port);
		if (strncasecmp(conf->uris[i], "ldap://", 7) != 0 &&
		    strncasecmp(conf->uris[i], "ldaps://", 8) != 0 &&
		    strncasecmp(conf->uris[i], "ldapi://", 8) != 0) {
			*error_r = xasprintf("%s: server_host: \"%s\": use a "
			    "host name or an ldap://, ldaps:// or ldapi:// "
			    "URI", where, conf->server_host[i]);
			return -1;
		}
	}
	return 0;
}

/* Return "PATH:LINE" for the setting NAME, or PATH when it is a default. */
static char *
key_where(const struct conf_lines *lines, const char *path, const char *name)
{
	unsigned line = lines->line[key_find(name)];

	return line > 0 ? xasprintf("%s:%u", path, line) : xstrdup(path);
}

/* Check the rules that involve several settings. */
static int
conf_check(struct ldap_table_conf *conf, const struct conf_lines *lines,
    const char *path, char **error_r)
{
	char *where;
	int r = 0;

	where = key_where(lines, path, "server_host");
	if (conf_uris(conf, where, error_r) < 0)
		r = -1;
	free(where);
	if (r == 0 && conf->start_tls && conf->version != 3) {
		where = key_where(lines, path, "start_tls");
		*error_r = xasprintf("%s: start_tls: needs version = 3",
		    where);
		free(where);
		r = -1;
	}
	if (r == 0 && conf->bind && *conf->bind_dn != '\0' &&
	    *conf->bind_pw == '\0') {
		/* An empty simple bind is an anonymous bind that succeeds. */
		where = key_where(lines, path, "bind_dn");
		*error_r = xasprintf("%s: bind_dn: bind_pw is empty", where);
		free(where);
		r = -1;
	}
	if (lines->line[key_find("size_limit")] == 0)
		conf->size_limit = conf->expansion_limit;
	return r;
}

/* Read an ldap_table(5) file into new settings. */
int
ldap_table_conf_read(const char *path, struct ldap_table_conf **conf_r,
    char **error_r)
{
	struct mapfile_reader *reader;
	struct ldap_table_conf *conf;
	struct conf_lines lines;
	const char *line;
	unsigned lineno;
	int r;

	if (mapfile_reader_open(path, &reader, error_r) < 0)
		return -1;
	conf = xcalloc(1, sizeof(*conf));
	memset(&lines, 0, sizeof(lines));
	conf_defaults(conf);
	while ((r = mapfile_reader_next(reader, &line, &lineno,
	    error_r)) > 0)
		if (conf_line(conf, &lines, path, line, lineno, error_r) < 0) {
			r = -1;
			break;
		}
	mapfile_reader_close(&reader);
	if (r == 0)
		r = conf_check(conf, &lines, path, error_r);
	if (r < 0) {
		ldap_table_conf_free(&conf);
		return -1;
	}
	*conf_r = conf;
	return 0;
}

/* Free the settings, wiping the password first. */
void
ldap_table_conf_free(struct ldap_table_conf **confp)
{
	struct ldap_table_conf *conf = *confp;

	if (conf == NULL)
		return;
	if (conf->bind_pw != NULL) {
		explicit_bzero(conf->bind_pw, strlen(conf->bind_pw));
		free(conf->bind_pw);
	}
	strv_free(&conf->server_host);
	strv_free(&conf->uris);
	free(conf->search_base);
	free(conf->query_filter);
	strv_free(&conf->result_attribute);
	strv_free(&conf->special_result_attribute);
	strv_free(&conf->leaf_result_attribute);
	strv_free(&conf->terminal_result_attribute);
	free(conf->result_format);
	strv_free(&conf->domain);
	free(conf->bind_dn);
	free(conf->tls_ca_cert_file);
	free(conf->tls_ca_cert_dir);
	free(conf);
	*confp = NULL;
}

/* Check the % expansions of a query_filter, search_base or result_format. */
int
ldap_table_check_format(const char *fmt, const char **error_r)
{
	for (; *fmt != '\0'; fmt++) {
		if (*fmt != '%')
			continue;
		fmt++;
		if (*fmt == '\0' || strchr("%sudSUD123456789", *fmt) == NULL) {
			*error_r = "bad % expansion (use %s, %u, %d, %S, %U, "
			    "%D, %1 to %9 or %%)";
			return -1;
		}
	}
	return 0;
}

/* Find the N-th label from the right of the domain after AT. */
static int
find_label(const char *at, int n, const char **p_r, size_t *len_r)
{
	const char *dom, *end, *p;

	if (at == NULL || at[1] == '\0')
		return 0;
	dom = at + 1;
	end = dom + strlen(dom);
	for (;;) {
		for (p = end; p > dom && p[-1] != '.'; p--)
			;
		if (--n == 0) {
			*p_r = p;
			*len_r = (size_t)(end - p);
			return *len_r > 0;
		}
		if (p == dom)
			return 0;
		end = p - 1;
	}
}

/* Find the part WHAT (s, u, d, 1..9) of SRC; 0 when it is missing. */
static int
find_part(const char *src, char what, const char **p_r, size_t *len_r)
{
	const char *at = strrchr(src, '@');

	switch (what) {
	case 's':
		*p_r = src;
		*len_r = strlen(src);
		return 1;
	case 'u':
		*p_r = src;
		*len_r = at != NULL ? (size_t)(at - src) : strlen(src);
		return *len_r > 0;
	case 'd':
		if (at == NULL || at[1] == '\0')
			return 0;
		*p_r = at + 1;
		*len_r = strlen(at + 1);
		return 1;
	default:
		return find_label(at, what - '0', p_r, len_r);
	}
}

/* Append LEN bytes at P to OUT with the escaping ESC. */
static void
append_escaped(struct str *out, const char *p, size_t len,
    enum ldap_table_escape esc)
{
	switch (esc) {
	case LDAP_TABLE_ESC_FILTER:
		ldapc_escape_filter_n(out, p, len);
		break;
	case LDAP_TABLE_ESC_DN:
		ldapc_escape_dn_n(out, p, len);
		break;
	case LDAP_TABLE_ESC_NONE:
		str_append_n(out, p, len);
		break;
	}
}

/* Expand FMT with parts of KEY (and VALUE) into OUT; 0: suppressed. */
int
ldap_table_expand(struct str *out, const char *fmt, const char *key,
    const char *value, enum ldap_table_escape esc)
{
	size_t mark = out->len, len;
	const char *src, *p;
	char c;

	str_append_n(out, "", 0);
	for (; *fmt != '\0'; fmt++) {
		if (*fmt != '%' || fmt[1] == '\0' || fmt[1] == '%') {
			str_append_c(out, *fmt);
			fmt += *fmt == '%' && fmt[1] == '%';
			continue;
		}
		c = *++fmt;
		src = value != NULL && islower((unsigned char)c) ? value : key;
		if (strchr("sudSUD123456789", c) == NULL)
			str_append_c(out, c);
		else if (find_part(src, (char)tolower((unsigned char)c), &p,
		    &len))
			append_escaped(out, p, len, esc);
		else {
			str_truncate(out, mark);
			return 0;
		}
	}
	return 1;
}

/* True when KEY's domain passes the domain restriction. */
bool
ldap_table_domain_ok(const struct ldap_table_conf *conf, const char *key)
{
	const char *at = strrchr(key, '@');
	size_t i;

	if (conf->domain == NULL || conf->domain[0] == NULL)
		return true;
	if (at == NULL || at[1] == '\0')
		return false;
	for (i = 0; conf->domain[i] != NULL; i++)
		if (strcasecmp(conf->domain[i], at + 1) == 0)
			return true;
	return false;
}
