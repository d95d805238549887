/*
 * Access tables (Postfix access(5)): the keys a client, a host name or an
 * address is looked up under, and what the value found asks for.
 */

#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
	for (p = strchr(name, '.'); p != NULL && p[1] != '\0';
	    p = strchr(p + 1, '.')) {
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

int
check_access_addr(struct map *map, const char *addr, char **value_r,
    const char **error_r)
{
	const char *at = strrchr(addr, '@');
	char *key;
	int r;

	if (addr[0] == '\0')
		return map_lookup(map, "<>", value_r, error_r);
	r = map_lookup(map, addr, value_r, error_r);
	if (r != MAP_NOTFOUND || access_is_pattern(map) || at == NULL)
		return r;
	if (at[1] != '\0') {
		r = check_access_domain(map, at + 1, value_r, error_r);
		if (r != MAP_NOTFOUND)
			return r;
	}
	key = xstrndup(addr, (size_t)(at - addr) + 1);
	r = map_lookup(map, key, value_r, error_r);
	free(key);
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
