/*
 * texthash:FILE: a Postfix table source file read into memory when the
 * table is opened (as Postfix's texthash); no index file is needed.
 */

#include "config.h"

#include <stdlib.h>

#include "lib/xalloc.h"
#include "maps/drivers.h"
#include "maps/mapfile.h"

/* Read MAP->name into memory. */
static int
texthash_open(struct map *map, char **error_r)
{
	struct mapfile *mapfile;

	if (mapfile_load(map->name, &mapfile, error_r) < 0)
		return -1;
	map->ctx = mapfile;
	return 0;
}

/* Find KEY (already folded) in the sorted entries. */
static int
texthash_lookup(struct map *map, const char *key, char **value_r)
{
	const char *value = mapfile_find(map->ctx, key);

	if (value == NULL)
		return MAP_NOTFOUND;
	*value_r = xstrdup(value);
	return MAP_FOUND;
}

/* Free the entries. */
static void
texthash_close(struct map *map)
{
	struct mapfile *mapfile = map->ctx;

	mapfile_free(&mapfile);
	map->ctx = NULL;
}

const struct map_driver map_driver_texthash = {
	.type = "texthash",
	.flags = 0,
	.open = texthash_open,
	.lookup = texthash_lookup,
	.close = texthash_close,
};
