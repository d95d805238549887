/* The lookup-table framework: the driver registry, maps and map lists. */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "maps/drivers.h"
#include "maps/maps.h"

static const struct map_driver *const map_drivers[] = {
	&map_driver_texthash,
	&map_driver_lmdb,
	&map_driver_cidr,
	&map_driver_regexp,
	&map_driver_ldap,
	&map_driver_unix,
};

struct maplist {
	struct map **maps;
	size_t count;
};

/*
 * Postfix's Berkeley DB types, which sites name in their main.cf
 * (alias_maps = hash:/etc/aliases): read as lmdb tables, FILE.lmdb built
 * by "dirmailctl map build" or newaliases, so the configuration works
 * unchanged.
 */
static bool
type_is_lmdb(const char *type, size_t len)
{
	return (len == 4 && strncmp(type, "lmdb", 4) == 0) ||
	    (len == 4 && strncmp(type, "hash", 4) == 0) ||
	    (len == 5 && strncmp(type, "btree", 5) == 0);
}

const char *
map_spec_lmdb_file(const char *spec)
{
	size_t len = strcspn(spec, ":");

	if (spec[len] != ':' || !type_is_lmdb(spec, len))
		return NULL;
	return spec + len + 1;
}

/* Return the driver registered for TYPE, or NULL. */
const struct map_driver *
map_driver_find(const char *type)
{
	size_t i;

	if (type_is_lmdb(type, strlen(type)))
		return &map_driver_lmdb;
	for (i = 0; i < sizeof(map_drivers) / sizeof(map_drivers[0]); i++)
		if (strcmp(map_drivers[i]->type, type) == 0)
			return map_drivers[i];
	return NULL;
}

/* Find the driver of SPEC ("type:name"); NULL with a message if none. */
static const struct map_driver *
spec_driver(const char *spec, char **error_r)
{
	const struct map_driver *drv;
	const char *colon = strchr(spec, ':');
	char *type;

	if (colon == NULL || colon == spec || colon[1] == '\0') {
		*error_r = xasprintf("table \"%s\": expected type:name",
		    spec);
		return NULL;
	}
	type = xstrndup(spec, (size_t)(colon - spec));
	if ((drv = map_driver_find(type)) == NULL)
		*error_r = xasprintf("table \"%s\": unknown table type "
		    "\"%s\"", spec, type);
	free(type);
	return drv;
}

/* Open tables whose lookups may block. */
static unsigned map_blocking_count;

/* Is a table open whose lookups may block? */
bool
map_blocking_open(void)
{
	return map_blocking_count > 0;
}

/* Open the table SPEC with its driver. */
int
map_open(const char *spec, struct map **map_r, char **error_r)
{
	const struct map_driver *drv;
	struct map *map;
	char *error = NULL;

	if ((drv = spec_driver(spec, error_r)) == NULL)
		return -1;
	map = xcalloc(1, sizeof(*map));
	map->drv = drv;
	map->spec = xstrdup(spec);
	map->name = xstrdup(strchr(spec, ':') + 1);
	if (drv->open(map, &error) < 0) {
		/* The message names the table, whatever the driver said. */
		*error_r = xasprintf("table %s: %s", spec,
		    error != NULL ? error : "cannot open");
		free(error);
		map->drv = NULL;
		map_close(&map);
		return -1;
	}
	if (drv->flags & MAP_DRV_BLOCKING)
		map_blocking_count++;
	*map_r = map;
	return 0;
}

/* Replace the message of MAP's last temporary failure. */
void
map_set_error(struct map *map, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	free(map->error);
	map->error = text != NULL ? text : xstrdup("lookup failed");
}

/* Look KEY up in MAP, folded unless the driver matches patterns. */
int
map_lookup(struct map *map, const char *key, char **value_r,
    const char **error_r)
{
	char *folded = NULL;
	int r;

	*value_r = NULL;
	free(map->error);
	map->error = NULL;
	if (*key == '\0')
		return MAP_NOTFOUND;
	if (!(map->drv->flags & MAP_DRV_NO_FOLD))
		key = folded = str_lcase(xstrdup(key));
	r = map->drv->lookup(map, key, value_r);
	free(folded);
	if (r == MAP_FOUND && *value_r == NULL)
		*value_r = xstrdup("");
	if (r == MAP_ERROR) {
		free(*value_r);
		*value_r = NULL;
		if (map->error == NULL)
			map_set_error(map, "%s: lookup failed", map->spec);
		*error_r = map->error;
	} else if (r != MAP_FOUND) {
		r = MAP_NOTFOUND;
	}
	return r;
}

/* Look ADDR up as user@domain, user (if BARE_USER), then @domain. */
int
map_lookup_addr(struct map *map, const char *addr, bool bare_user,
    char **value_r, const char **error_r)
{
	const char *at = strrchr(addr, '@');
	char *key;
	int r;

	r = map_lookup(map, addr, value_r, error_r);
	if (r != MAP_NOTFOUND || (map->drv->flags & MAP_DRV_PATTERN) ||
	    at == NULL)
		return r;
	if (bare_user && at > addr) {
		key = xstrndup(addr, (size_t)(at - addr));
		r = map_lookup(map, key, value_r, error_r);
		free(key);
		if (r != MAP_NOTFOUND)
			return r;
	}
	/* "@domain" is the whole address when the user part is empty. */
	if (at == addr || at[1] == '\0')
		return MAP_NOTFOUND;
	return map_lookup(map, at, value_r, error_r);
}

/* Close MAP with its driver and free it. */
void
map_close(struct map **mapp)
{
	struct map *map = *mapp;

	if (map == NULL)
		return;
	if (map->drv != NULL && (map->drv->flags & MAP_DRV_BLOCKING))
		map_blocking_count--;
	if (map->drv != NULL && map->drv->close != NULL)
		map->drv->close(map);
	free(map->spec);
	free(map->name);
	free(map->error);
	free(map);
	*mapp = NULL;
}

/* Open every table of SPECS in order. */
int
maplist_open(char *const *specs, struct maplist **list_r, char **error_r)
{
	struct maplist *list = xcalloc(1, sizeof(*list));
	size_t n = strv_len(specs);

	list->maps = xcalloc(n + 1, sizeof(*list->maps));
	for (; list->count < n; list->count++) {
		if (map_open(specs[list->count], &list->maps[list->count],
		    error_r) < 0) {
			maplist_close(&list);
			return -1;
		}
	}
	*list_r = list;
	return 0;
}

/* Look KEY up in each table until one finds it or fails. */
int
maplist_lookup(struct maplist *list, const char *key, char **value_r,
    const char **error_r)
{
	size_t i;
	int r;

	*value_r = NULL;
	for (i = 0; i < list->count; i++) {
		r = map_lookup(list->maps[i], key, value_r, error_r);
		if (r != MAP_NOTFOUND)
			return r;
	}
	return MAP_NOTFOUND;
}

/* Look ADDR up in each table until one finds it or fails. */
int
maplist_lookup_addr(struct maplist *list, const char *addr, bool bare_user,
    char **value_r, const char **error_r)
{
	size_t i;
	int r;

	*value_r = NULL;
	for (i = 0; i < list->count; i++) {
		r = map_lookup_addr(list->maps[i], addr, bare_user, value_r,
		    error_r);
		if (r != MAP_NOTFOUND)
			return r;
	}
	return MAP_NOTFOUND;
}

/* Close every table of LIST and free it. */
void
maplist_close(struct maplist **listp)
{
	struct maplist *list = *listp;
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < list->count; i++)
		map_close(&list->maps[i]);
	free(list->maps);
	free(list);
	*listp = NULL;
}
