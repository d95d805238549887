/*
 * cidr:FILE: Postfix cidr_table(5).  Each logical line is
 * "network/prefix result" (IPv4 or IPv6; a bare address is a network of
 * one; IPv6 may be written in brackets).  The key is an IP address; the
 * first network in file order that holds it gives the result.
 */

#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cidr.h"
#include "lib/xalloc.h"
#include "maps/drivers.h"
#include "maps/mapfile.h"

struct cidr_rule {
	struct cidr net;
	char *value;
};

struct cidr_table {
	struct cidr_rule *rules;
	size_t count;
	size_t cap;
};

/* Free TABLE and its rules. */
static void
cidr_table_free(struct cidr_table *table)
{
	size_t i;

	for (i = 0; i < table->count; i++)
		free(table->rules[i].value);
	free(table->rules);
	free(table);
}

/* Parse one logical LINE of PATH into a new rule of TABLE. */
static int
cidr_add_line(struct cidr_table *table, const char *path, const char *line,
    unsigned lineno, char **error_r)
{
	struct cidr net;
	const char *value, *why;
	size_t len = 0;
	char *text;
	int r;

	while (line[len] != '\0' && !isspace((unsigned char)line[len]))
		len++;
	for (value = line + len; isspace((unsigned char)*value); value++)
		;
	text = xstrndup(line, len);
	r = cidr_parse(text, &net, &why);
	if (r < 0)
		*error_r = xasprintf("%s:%u: bad network \"%s\": %s", path,
		    lineno, text, why);
	else if (*value == '\0')
		*error_r = xasprintf("%s:%u: network \"%s\" has no result",
		    path, lineno, text);
	free(text);
	if (r < 0 || *value == '\0')
		return -1;
	if (table->count == table->cap) {
		table->cap = table->cap ? table->cap * 2 : 16;
		table->rules = xreallocarray(table->rules, table->cap,
		    sizeof(*table->rules));
	}
	table->rules[table->count].net = net;
	table->rules[table->count].value = xstrdup(value);
	table->count++;
	return 0;
}

/* Read every rule of MAP->name. */
static int
cidr_open(struct map *map, char **error_r)
{
	struct mapfile_reader *reader;
	struct cidr_table *table;
	const char *line;
	unsigned lineno;
	int r;

	if (mapfile_reader_open(map->name, &reader, error_r) < 0)
		return -1;
	table = xcalloc(1, sizeof(*table));
	while ((r = mapfile_reader_next(reader, &line, &lineno,
	    error_r)) > 0)
		if (cidr_add_line(table, map->name, line, lineno,
		    error_r) < 0) {
			r = -1;
			break;
		}
	mapfile_reader_close(&reader);
	if (r < 0) {
		cidr_table_free(table);
		return -1;
	}
	map->ctx = table;
	return 0;
}

/* Return the result of the first network that holds the address KEY. */
static int
cidr_lookup(struct map *map, const char *key, char **value_r)
{
	const struct cidr_table *table = map->ctx;
	uint8_t addr[16];
	int family;
	size_t i;

	if (cidr_parse_addr(key, &family, addr) < 0)
		return MAP_NOTFOUND;
	for (i = 0; i < table->count; i++) {
		if (cidr_match(&table->rules[i].net, family, addr)) {
			*value_r = xstrdup(table->rules[i].value);
			return MAP_FOUND;
		}
	}
	return MAP_NOTFOUND;
}

/* Free the rules. */
static void
cidr_close(struct map *map)
{
	if (map->ctx != NULL)
		cidr_table_free(map->ctx);
	map->ctx = NULL;
}

const struct map_driver map_driver_cidr = {
	.type = "cidr",
	.flags = MAP_DRV_NO_FOLD | MAP_DRV_PATTERN,
	.open = cidr_open,
	.lookup = cidr_lookup,
	.close = cidr_close,
};
