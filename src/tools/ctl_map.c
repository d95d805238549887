/*
 * dirmailctl map: build and query lookup tables, like postmap(1).
 *
 *	dirmailctl map build [-a] FILE|lmdb:FILE
 *	dirmailctl map query [-a] TABLE KEY
 *	dirmailctl map query [-a] TABLE -
 *
 * "build -a" reads FILE in the aliases(5) syntax, as newaliases does.
 * "query" exits 0 when the key is found (and prints the value), 1 when
 * it is not, and 75 on a temporary failure.  With "-" it reads one key
 * per line from standard input and answers each at once with one line:
 * "KEY<tab>VALUE" when found, "KEY" alone when not found, and
 * "KEY<tab>?" on a temporary failure (the reason goes to standard
 * error); it then exits 75 if any lookup failed, else 0 if any key was
 * found, else 1.
 */

#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "maps/aliases.h"
#include "maps/mapfile.h"
#include "maps/maps.h"
#include "tools/ctl.h"

#define MAP_USAGE \
	"usage: dirmailctl map build [-a] FILE|lmdb:FILE\n" \
	"       dirmailctl map query [-a] TABLE KEY|-\n"

/* Exit statuses of "map query", as postmap -q. */
#define QUERY_FOUND	0
#define QUERY_NOTFOUND	1

/* Print the usage of "map" and return the usage exit status. */
static int
map_usage(void)
{
	fputs(MAP_USAGE, stderr);
	return CTL_EX_USAGE;
}

/* Return the driver named by the "type:" prefix of SPEC, or NULL. */
static const struct map_driver *
spec_driver(const char *spec)
{
	const struct map_driver *drv;
	size_t len = strcspn(spec, ":");
	char *type;

	if (spec[len] != ':')
		return NULL;
	type = xstrndup(spec, len);
	drv = map_driver_find(type);
	free(type);
	return drv;
}

/* dirmailctl map build [-a] FILE: build FILE.lmdb. */
static int
map_build(int argc, char **argv)
{
	const char *source;
	char *error;
	bool aliases = argc == 3 && strcmp(argv[1], "-a") == 0;

	if (argc != 2 && !aliases)
		return map_usage();
	source = argv[aliases ? 2 : 1];
	if (map_spec_lmdb_file(source) != NULL)
		source = map_spec_lmdb_file(source);
	else if (spec_driver(source) != NULL) {
		log_error("%s: only lmdb tables are built", source);
		return CTL_EX_USAGE;
	}
	if (*source == '\0')
		return map_usage();
	if ((aliases ? aliases_build_lmdb(source, &error) :
	    mapfile_build_lmdb(source, &error)) < 0) {
		log_error("%s", error);
		free(error);
		return 1;
	}
	return 0;
}

/* Look KEY up in MAP; MAP_FOUND, MAP_NOTFOUND or MAP_ERROR as maps.h. */
static int
query_one(struct map *map, const char *key, bool addr, char **value_r)
{
	const char *why;
	int r;

	if (addr)
		r = map_lookup_addr(map, key, true, value_r, &why);
	else
		r = map_lookup(map, key, value_r, &why);
	if (r == MAP_ERROR)
		log_error("%s: %s: %s", map->spec, key, why);
	return r;
}

/* Answer one key per line of standard input; see the top of the file. */
static int
query_stream(struct map *map, bool addr)
{
	char *line = NULL, *value;
	size_t size = 0;
	ssize_t n;
	bool found = false, failed = false;
	int r;

	while ((n = getline(&line, &size, stdin)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		r = query_one(map, line, addr, &value);
		if (r == MAP_FOUND)
			printf("%s\t%s\n", line, value);
		else if (r == MAP_ERROR)
			printf("%s\t?\n", line);
		else
			printf("%s\n", line);
		fflush(stdout);
		found |= r == MAP_FOUND;
		failed |= r == MAP_ERROR;
		free(value);
	}
	free(line);
	if (failed)
		return CTL_EX_TEMPFAIL;
	return found ? QUERY_FOUND : QUERY_NOTFOUND;
}

/* Answer the single KEY. */
static int
query_key(struct map *map, const char *key, bool addr)
{
	char *value;
	int r;

	r = query_one(map, key, addr, &value);
	if (r == MAP_ERROR)
		return CTL_EX_TEMPFAIL;
	if (r == MAP_NOTFOUND)
		return QUERY_NOTFOUND;
	printf("%s\n", value);
	free(value);
	return fflush(stdout) == 0 ? QUERY_FOUND : CTL_EX_TEMPFAIL;
}

/* dirmailctl map query [-a] TABLE KEY|-. */
static int
map_query(int argc, char **argv)
{
	struct map *map;
	char *error;
	bool addr = false;
	int ch, ret;

	optind = 1;
	while ((ch = getopt(argc, argv, "+a")) != -1) {
		if (ch != 'a')
			return map_usage();
		addr = true;
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		return map_usage();
	if (map_open(argv[0], &map, &error) < 0) {
		log_error("%s", error);
		free(error);
		/* A table that exists but cannot be read defers mail. */
		return spec_driver(argv[0]) == NULL ? CTL_EX_USAGE :
		    CTL_EX_TEMPFAIL;
	}
	if (strcmp(argv[1], "-") == 0)
		ret = query_stream(map, addr);
	else
		ret = query_key(map, argv[1], addr);
	map_close(&map);
	return ret;
}

/* dirmailctl map: dispatch to "build" or "query". */
int
ctl_map_main(const struct ctl_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	if (argc < 2)
		return map_usage();
	if (strcmp(argv[1], "build") == 0)
		return map_build(argc - 1, argv + 1);
	if (strcmp(argv[1], "query") == 0)
		return map_query(argc - 1, argv + 1);
	return map_usage();
}
