#ifndef DIRMAIL_MAPS_MAPS_H
#define DIRMAIL_MAPS_MAPS_H

/*
 * Lookup tables in the Postfix way: "type:name".
 *
 * A lookup has three outcomes, and callers must keep them apart: a table
 * that cannot answer (a directory that is down, a corrupt file) is a
 * temporary failure (4xx, mail deferred), never "not found" (5xx, mail
 * bounced).
 */

#include <stdbool.h>

#define MAP_ERROR	(-1)	/* temporary failure: try again later */
#define MAP_NOTFOUND	0
#define MAP_FOUND	1

struct map;

/* Driver flags. */
#define MAP_DRV_NO_FOLD	0x01	/* keys are passed as given (regexp, cidr) */
#define MAP_DRV_PATTERN	0x02	/* keys are matched, not looked up:
				   map_lookup_addr() does one lookup */
#define MAP_DRV_BLOCKING 0x04	/* a lookup may wait on a network server
				   (ldap): keep it off event loops */

/* A table driver: one static const instance per type. */
struct map_driver {
	const char *type;	/* "texthash", "lmdb", ... */
	unsigned flags;
	/* Open MAP->name; set MAP->ctx.  Returns 0, or -1 with a message
	   in *ERROR_R (allocated; the caller frees it). */
	int (*open)(struct map *map, char **error_r);
	/* Look KEY up.  Returns MAP_FOUND with an allocated *VALUE_R,
	   MAP_NOTFOUND, or MAP_ERROR with map_set_error() called. */
	int (*lookup)(struct map *map, const char *key, char **value_r);
	/* Release MAP->ctx. */
	void (*close)(struct map *map);
};

struct map {
	const struct map_driver *drv;
	char *spec;	/* "type:name" as given */
	char *name;	/* the part after the first colon */
	void *ctx;	/* the driver's state */
	char *error;	/* the last temporary failure's message */
};

/*
 * Open the table SPEC ("type:name").  Returns 0, or -1 with a message in
 * *ERROR_R (allocated) that names the table.
 */
int map_open(const char *spec, struct map **map_r, char **error_r);

/*
 * Look KEY up as given (keys are folded to lower case first unless the
 * driver says otherwise).  Returns MAP_FOUND with an allocated *VALUE_R,
 * MAP_NOTFOUND, or MAP_ERROR with a message in *ERROR_R that stays valid
 * until the next call on MAP.
 */
int map_lookup(struct map *map, const char *key, char **value_r,
    const char **error_r);

/*
 * Look an email address up with Postfix's rules for address keys:
 * "user@domain", then "user" (only when BARE_USER is true: the domain is
 * one of ours), then "@domain".  Pattern tables (regexp, cidr) see the
 * whole address once.  Results as map_lookup(); the first error stops.
 */
int map_lookup_addr(struct map *map, const char *addr, bool bare_user,
    char **value_r, const char **error_r);

/* Close MAP and NULL *MAP. */
void map_close(struct map **map);

/* Record a temporary failure's message on MAP (used by drivers). */
void map_set_error(struct map *map, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* True while a table whose driver has MAP_DRV_BLOCKING is open in this
   process: its lookups belong in a thread of their own. */
bool map_blocking_open(void);

/* Return the driver for TYPE, or NULL. */
const struct map_driver *map_driver_find(const char *type);

/*
 * When SPEC ("type:name") names an indexed table, lmdb: or Postfix's
 * hash: and btree: (read as lmdb), return its name, the source file
 * FILE of FILE.lmdb; otherwise NULL.
 */
const char *map_spec_lmdb_file(const char *spec);

/*
 * An ordered list of tables, as in "virtual_alias_maps = a, b": the first
 * table that finds the key wins; the first error stops the search.
 */
struct maplist;

/* Open every table of SPECS (NULL-terminated).  0, or -1 and *ERROR_R. */
int maplist_open(char *const *specs, struct maplist **list_r,
    char **error_r);
int maplist_lookup(struct maplist *list, const char *key, char **value_r,
    const char **error_r);
int maplist_lookup_addr(struct maplist *list, const char *addr,
    bool bare_user, char **value_r, const char **error_r);
void maplist_close(struct maplist **list);

#endif
