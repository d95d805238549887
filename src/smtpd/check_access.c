/*
 * What the restrictions look up: access tables (Postfix access(5)), with
 * the keys a client, a host name or an address is looked up under and
 * what the value found asks for; client network lists; host-name syntax
 * and the DNS.
 */

#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/cidr.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "maps/maps.h"
#include "smtpd/check.h"

/* True when MAP matches patterns rather than looking keys up. */
static bool
access_is_pattern(const struct map *map)
{
	return (map->drv->flags & MAP_DRV_PATTERN) != 0;
}

int
check_access_domain(struct map *map, const char *name, char **value_r,
    const char **error_r)
{
	const char *p;
	int r;

	r = map_lookup(map, name, value_r, error_r);
	if (r != MAP_NOTFOUND || access_is_pattern(map))
		return r;
	/* Each parent domain, as "example.com" (Postfix's default: a domain
	   matches its subdomains) and as ".example.com". */
	for (p = strchr(name, '.'); p != NULL && p[1] != '\0';
	    p = strchr(p + 1, '.')) {
		r = map_lookup(map, p + 1, value_r, error_r);
		if (r == MAP_NOTFOUND)
			r = map_lookup(map, p, value_r, error_r);
		if (r != MAP_NOTFOUND)
			return r;
	}
	return MAP_NOTFOUND;
}

/* Look the address ADDR up, then its shorter prefixes: one octet or one
   colon-separated group less each time. */
static int
access_lookup_ip(struct map *map, const char *addr, char **value_r,
    const char **error_r)
{
	char delim = strchr(addr, ':') != NULL ? ':' : '.';
	char *key = xstrdup(addr), *p;
	int r;

	for (;;) {
		r = MAP_NOTFOUND;
		if (key[0] != '\0' && key[strlen(key) - 1] != delim)
			r = map_lookup(map, key, value_r, error_r);
		if (r != MAP_NOTFOUND || access_is_pattern(map) ||
		    (p = strrchr(key, delim)) == NULL)
			break;
		*p = '\0';
	}
	free(key);
	return r;
}

int
check_access_client(struct map *map, const char *name, const char *addr,
    char **value_r, const char **error_r)
{
	int r;

	if (name != NULL && strcmp(name, "unknown") != 0) {
		r = check_access_domain(map, name, value_r, error_r);
		if (r != MAP_NOTFOUND)
			return r;
	}
	return access_lookup_ip(map, addr, value_r, error_r);
}

/* Return ADDR without its address extension, or NULL. */
char *
check_strip_extension(const char *addr, const char *delim)
{
	const char *at = strrchr(addr, '@');
	size_t local = at != NULL ? (size_t)(at - addr) : strlen(addr), n;

	if (delim == NULL || *delim == '\0')
		return NULL;
	n = strcspn(addr, delim);
	if (n == 0 || n >= local)
		return NULL;
	return xasprintf("%.*s%s", (int)n, addr, at != NULL ? at : "");
}

/* Look KEY up, then BARE (KEY without its extension) unless NULL. */
static int
access_lookup_bare(struct map *map, const char *key, const char *bare,
    char **value_r, const char **error_r)
{
	int r = map_lookup(map, key, value_r, error_r);

	if (r == MAP_NOTFOUND && bare != NULL)
		r = map_lookup(map, bare, value_r, error_r);
	return r;
}

/* The "user@" key of ADDR (allocated), or NULL when ADDR is NULL or has
   no "@". */
static char *
access_user_key(const char *addr)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;

	return at != NULL ? xstrndup(addr, (size_t)(at - addr) + 1) : NULL;
}

int
check_access_addr(struct map *map, const char *addr, const char *delim,
    char **value_r, const char **error_r)
{
	const char *at = strrchr(addr, '@');
	char *bare, *user, *bare_user;
	int r;

	if (addr[0] == '\0')
		return map_lookup(map, "<>", value_r, error_r);
	if (access_is_pattern(map))
		return map_lookup(map, addr, value_r, error_r);
	bare = check_strip_extension(addr, delim);
	r = access_lookup_bare(map, addr, bare, value_r, error_r);
	if (r == MAP_NOTFOUND && at != NULL && at[1] != '\0')
		r = check_access_domain(map, at + 1, value_r, error_r);
	if (r == MAP_NOTFOUND && at != NULL) {
		user = access_user_key(addr);
		bare_user = access_user_key(bare);
		r = access_lookup_bare(map, user, bare_user, value_r, error_r);
		free(user);
		free(bare_user);
	}
	free(bare);
	return r;
}

/* True when S starts with an enhanced status code "d.d{1,3}.d{1,3}"
   followed by white space or the end; its length in *LEN_R. */
static bool
access_dsn(const char *s, size_t *len_r)
{
	size_t i = 1, n, part;

	if (s[0] != '2' && s[0] != '4' && s[0] != '5')
		return false;
	for (part = 0; part < 2; part++) {
		if (s[i++] != '.')
			return false;
		for (n = 0; isdigit((unsigned char)s[i]) && n < 3; n++)
			i++;
		if (n == 0)
			return false;
	}
	if (s[i] != '\0' && !isspace((unsigned char)s[i]))
		return false;
	*len_r = i;
	return true;
}

/* Fill the code, the DSN and the text of a refusal with CODE and TEXT: the
   DSN from the start of TEXT when it has one, in CODE's class. */
static enum access_action
access_refuse(int code, const char *text, int *code_r, char *dsn_r,
    const char **text_r)
{
	size_t len;

	while (isspace((unsigned char)*text))
		text++;
	*code_r = code;
	if (access_dsn(text, &len)) {
		memcpy(dsn_r, text, len);
		dsn_r[len] = '\0';
		text += len;
		while (isspace((unsigned char)*text))
			text++;
	} else
		strcpy(dsn_r, "x.7.1");
	dsn_r[0] = (char)('0' + code / 100);
	*text_r = text;
	return ACCESS_REFUSE;
}

/* True when the first word of VALUE, LEN bytes long, is WORD. */
static bool
access_word(const char *value, size_t len, const char *word)
{
	return len == strlen(word) && strncasecmp(value, word, len) == 0;
}

enum access_action
check_access_parse(const char *value, int reject_code, int defer_code,
    int *code_r, char *dsn_r, const char **text_r)
{
	size_t len = strcspn(value, " \t"), digits;
	const char *rest = value + len;

	while (*rest == ' ' || *rest == '\t')
		rest++;
	digits = strspn(value, "0123456789");
	if (digits > 0 && value[digits] == '\0')
		return ACCESS_PERMIT;
	if (access_word(value, len, "OK") || access_word(value, len, "PERMIT"))
		return *rest == '\0' ? ACCESS_PERMIT : ACCESS_INVALID;
	if (access_word(value, len, "DUNNO"))
		return *rest == '\0' ? ACCESS_DUNNO : ACCESS_INVALID;
	if (access_word(value, len, "REJECT"))
		return access_refuse(reject_code, rest, code_r, dsn_r, text_r);
	if (access_word(value, len, "DEFER"))
		return access_refuse(defer_code, rest, code_r, dsn_r, text_r);
	if (access_word(value, len, "WARN")) {
		*text_r = rest;
		return ACCESS_WARN;
	}
	if (digits == 3 && len == 3 && (value[0] == '4' || value[0] == '5') &&
	    *rest != '\0')
		return access_refuse(atoi(value), rest, code_r, dsn_r, text_r);
	return ACCESS_INVALID;
}

/* Open the networks of the file PATH into L. */
static int
netlist_add_file(struct check_netlist *l, const char *path, bool neg,
    const char *param, char **error_r);

/* True when WORD is a "type:name" table spec of a known type. */
static bool
is_table_spec(const char *word)
{
	size_t len = strcspn(word, ":");
	char *type;
	bool ret;

	if (word[len] != ':' || len == 0)
		return false;
	type = xstrndup(word, len);
	ret = map_driver_find(type) != NULL;
	free(type);
	return ret;
}

/* Add one word of a CIDR list to L. */
int
check_netlist_add(struct check_netlist *l, const char *word, const char *param,
    char **error_r)
{
	struct check_net e = { .neg = word[0] == '!' };
	const char *why, *w = word + e.neg;
	char *err;

	if (*w == '/')
		return netlist_add_file(l, w, e.neg, param, error_r);
	if (is_table_spec(w)) {
		if (map_open(w, &e.map, &err) < 0) {
			*error_r = xasprintf("%s: %s", param, err);
			free(err);
			return -1;
		}
	} else if (cidr_parse(w, &e.net, &why) < 0) {
		*error_r = xasprintf("%s: \"%s\": %s", param, w, why);
		return -1;
	}
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = e;
	return 0;
}

static int
netlist_add_file(struct check_netlist *l, const char *path, bool neg,
    const char *param, char **error_r)
{
	FILE *fp = fopen(path, "r");
	char line[1024], *w, *save;
	int ret = 0;

	if (fp == NULL) {
		*error_r = xasprintf("%s: %s: %m", param, path);
		return -1;
	}
	while (ret == 0 && fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "#")] = '\0';
		for (w = strtok_r(line, " \t\r\n,", &save); w != NULL &&
		    ret == 0; w = strtok_r(NULL, " \t\r\n,", &save)) {
			char *neg_w = neg ? xasprintf("!%s", w) : xstrdup(w);

			ret = check_netlist_add(l, neg_w, param, error_r);
			free(neg_w);
		}
	}
	fclose(fp);
	return ret;
}

/* Free the entries of L. */
void
check_netlist_free(struct check_netlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		map_close(&l->v[i].map);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Does ADDR match L?  The first entry that matches decides; a negated
   entry that matches means no.  Returns 1, 0, or -1 on a table error. */
int
check_netlist_match(const struct check_netlist *l, const char *addr)
{
	const char *why;
	char *value;
	size_t i;
	int r;

	for (i = 0; i < l->n; i++) {
		const struct check_net *e = &l->v[i];

		if (e->map == NULL)
			r = cidr_match_text(&e->net, addr);
		else {
			r = map_lookup(e->map, addr, &value, &why);
			if (r == MAP_FOUND)
				free(value);
			if (r == MAP_ERROR) {
				log_warning("%s: %s", e->map->spec, why);
				return -1;
			}
		}
		if (r)
			return e->neg ? 0 : 1;
	}
	return 0;
}

/* True when NAME is a syntactically valid host name: labels of letters,
   digits, "-" and "_", not all numeric. */
static bool
valid_hostname(const char *name)
{
	size_t len = 0, total = strlen(name);
	bool alpha = false;
	const char *p;

	if (total == 0 || total > 255)
		return false;
	for (p = name; ; p++) {
		if (*p == '.' || *p == '\0') {
			if (len == 0 || len > 63 || p[-1] == '-' ||
			    p[-len] == '-')
				return false;
			if (*p == '\0')
				break;
			len = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
		alpha |= !isdigit((unsigned char)*p);
		len++;
	}
	return alpha;
}

/* True when NAME is "[IPv4]" or "[IPv6:addr]". */
static bool
valid_literal(const char *name)
{
	size_t len = strlen(name);
	uint8_t bytes[16];
	char *inner;
	int family, r;

	if (len < 3 || name[0] != '[' || name[len - 1] != ']')
		return false;
	inner = xstrndup(name + 1, len - 2);
	if (strncasecmp(inner, "IPv6:", 5) == 0)
		r = cidr_parse_addr(inner + 5, &family, bytes) == 0 &&
		    family == AF_INET6;
	else
		r = cidr_parse_addr(inner, &family, bytes) == 0 &&
		    family == AF_INET;
	free(inner);
	return r;
}

/* True when NAME is a bare IP address. */
static bool
valid_ipaddr(const char *name)
{
	uint8_t bytes[16];
	int family;

	return name[0] != '[' && cidr_parse_addr(name, &family, bytes) == 0;
}

/* Return NAME without one trailing dot (allocated). */
char *
check_strip_dot(const char *name)
{
	size_t len = strlen(name);

	return xstrndup(name, len > 1 && name[len - 1] == '.' ? len - 1 : len);
}

bool
check_valid_helo(const char *helo)
{
	char *name = check_strip_dot(helo);
	bool ok = name[0] == '[' ? valid_literal(name) :
	    valid_hostname(name) || valid_ipaddr(name);

	free(name);
	return ok;
}

/* True when NAME is a fully-qualified host name or an address. */
bool
check_is_fqdn(const char *name)
{
	char *n = check_strip_dot(name);
	bool ok = n[0] == '[' ? valid_literal(n) : valid_ipaddr(n) ||
	    (valid_hostname(n) && strchr(n, '.') != NULL);

	free(n);
	return ok;
}

/* True when DOMAIN is under the reserved top-level domain "invalid"
   (RFC 6761), which never resolves. */
static bool
domain_is_invalid(const char *domain)
{
	size_t len = strlen(domain);

	if (len > 0 && domain[len - 1] == '.')
		len--;
	return (len == 7 || (len > 7 && domain[len - 8] == '.')) &&
	    strncasecmp(domain + len - 7, "invalid", 7) == 0;
}

/* Does DOMAIN have an MX, A or AAAA record?  One attempt, a short
   timeout.  Returns 1, 0 (no such domain or no such records), or -1
   (a temporary failure). */
int
check_dns_domain(const char *domain)
{
	static const int types[] = { ns_t_mx, ns_t_a, ns_t_aaaa };
	struct __res_state rs;
	unsigned char answer[1024];
	size_t i;
	int ret = 0;

	if (domain_is_invalid(domain))
		return 0;
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) < 0)
		return -1;
	rs.retrans = 3;
	rs.retry = 1;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (res_nquery(&rs, domain, ns_c_in, types[i], answer,
		    sizeof(answer)) >= 0) {
			ret = 1;
			break;
		}
		if (rs.res_h_errno == HOST_NOT_FOUND)
			break;
		if (rs.res_h_errno != NO_DATA) {
			ret = -1;
			break;
		}
	}
	res_nclose(&rs);
	return ret;
}
