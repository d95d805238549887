/*
 * Unit tests for the lookup-table framework (src/maps/maps.c), the table
 * source reader (mapfile.c) and the texthash and lmdb drivers.  Table
 * files are written to a temporary directory.
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "maps/mapfile.h"
#include "maps/maps.h"
#include "testdir.h"

/* Open SPEC or fail the test with the error. */
static struct map *
open_or_fail(const char *spec)
{
	struct map *map;
	char *error;

	if (map_open(spec, &map, &error) < 0)
		fail_msg("%s: %s", spec, error);
	return map;
}

/* Look KEY up in MAP and check the outcome WANT (NULL: not found). */
static void
check_lookup(struct map *map, const char *key, const char *want)
{
	const char *why = NULL;
	char *value;
	int r = map_lookup(map, key, &value, &why);

	if (r == MAP_ERROR)
		fail_msg("%s: \"%s\": error %s", map->spec, key, why);
	if (want == NULL && r != MAP_NOTFOUND)
		fail_msg("%s: \"%s\": found \"%s\"", map->spec, key, value);
	if (want != NULL && r != MAP_FOUND)
		fail_msg("%s: \"%s\": not found", map->spec, key);
	if (want != NULL && strcmp(value, want) != 0)
		fail_msg("%s: \"%s\": got \"%s\", want \"%s\"", map->spec,
		    key, value, want);
	free(value);
}

/* Run FN with stderr sent to a file; return what was written. */
static char *
capture_stderr(void (*fn)(void *), void *arg)
{
	char *path = xasprintf("%s/stderr.txt", testdir);
	int fd, saved;
	struct str out = STR_INIT;
	char buf[512];
	ssize_t n;

	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0 && saved >= 0);
	dup2(fd, 2);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		str_append_n(&out, buf, (size_t)n);
	close(fd);
	unlink(path);
	free(path);
	return str_steal(&out);
}

static const struct {
	const char *name;
	const char *text;
	const char *key;
	const char *want;	/* NULL: not found */
} parse_cases[] = {
	{ "simple", "a 1\nb 2\n", "b", "2" },
	{ "tab separator", "a\t1\n", "a", "1" },
	{ "comments and blanks", "# c\n\n   \n  # indented\na  1\n", "a",
	    "1" },
	{ "comment is not a value", "a 1\n# b 2\n", "b", NULL },
	{ "hash inside a value", "a 1 # 2\n", "a", "1 # 2" },
	{ "continuation", "a 1\n  2\n\t3\n", "a", "1 2 3" },
	{ "continuation across a comment", "a 1\n# c\n  2\n", "a", "1 2" },
	{ "continuation ends at a key", "a 1\n  2\nb 3\n", "b", "3" },
	{ "key folded", "Alice@Example.COM v\n", "alice@example.com", "v" },
	{ "value keeps case", "a MiXeD Case  \n", "a", "MiXeD Case" },
	{ "inner spaces kept", "a  x   y  \n", "a", "x   y" },
	{ "CRLF", "a 1\r\nb 2\r\n", "a", "1" },
	{ "no final newline", "a 1\nb 2", "b", "2" },
	{ "first duplicate wins", "a first\nb x\na second\n", "a", "first" },
	{ "absent key", "a 1\n", "b", NULL },
	{ "empty file", "", "a", NULL },
};

/* Logical lines, comments, continuation, folding and duplicates. */
static void
test_mapfile_parse(void **state)
{
	struct mapfile *mf;
	const char *got;
	char *path, *error;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		path = testdir_write("parse", parse_cases[i].text);
		if (mapfile_load(path, &mf, &error) < 0)
			fail_msg("%s: %s", parse_cases[i].name, error);
		got = mapfile_find(mf, parse_cases[i].key);
		if (parse_cases[i].want == NULL ? got != NULL :
		    got == NULL || strcmp(got, parse_cases[i].want) != 0)
			fail_msg("%s: got \"%s\"", parse_cases[i].name,
			    got != NULL ? got : "(not found)");
		mapfile_free(&mf);
		assert_null(mf);
		free(path);
	}
}

static const struct {
	const char *name;
	const char *text;
	const char *want;	/* the error, after the file name */
} parse_errors[] = {
	{ "key without value", "a 1\nlonely\n",
	    ":2: expected \"key value\", found a key without a value" },
	{ "key with blanks only", "a   \t \n",
	    ":1: expected \"key value\"" },
	{ "leading continuation", "  a 1\n",
	    ":1: continuation line without a line to continue" },
	{ "continued line counts from its start", "a 1\nb\n\n  \n",
	    ":2: expected \"key value\"" },
};

/* A bad line is an error naming file:line. */
static void
test_mapfile_errors(void **state)
{
	struct mapfile *mf = NULL;
	char *path, *error, *want;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(parse_errors) / sizeof(parse_errors[0]); i++) {
		path = testdir_write("bad", parse_errors[i].text);
		if (mapfile_load(path, &mf, &error) == 0)
			fail_msg("%s: accepted", parse_errors[i].name);
		want = xasprintf("%s%s", path, parse_errors[i].want);
		if (strstr(error, want) == NULL)
			fail_msg("%s: want \"%s\", got \"%s\"",
			    parse_errors[i].name, want, error);
		free(want);
		free(error);
		free(path);
	}
	path = xasprintf("%s/absent", testdir);
	assert_int_equal(mapfile_load(path, &mf, &error), -1);
	assert_non_null(strstr(error, path));
	assert_non_null(strstr(error, "No such file"));
	free(error);
	free(path);
}

/* Load the file at ARG, for capture_stderr(). */
static void
load_quietly(void *arg)
{
	struct mapfile *mf;
	char *error;

	if (mapfile_load(arg, &mf, &error) < 0)
		fail_msg("%s", error);
	mapfile_free(&mf);
}

/* A duplicate key is a warning that names file:line, as postmap does. */
static void
test_mapfile_duplicate_warning(void **state)
{
	char *path = testdir_write("dup", "a 1\nb 2\nA 3\n");
	char *err, *want;

	(void)state;
	err = capture_stderr(load_quietly, path);
	want = xasprintf("%s:3: duplicate entry \"a\"", path);
	if (strstr(err, want) == NULL || strstr(err, "warning") == NULL)
		fail_msg("want \"%s\", got \"%s\"", want, err);
	free(want);
	free(err);
	free(path);
}

/* texthash: folding, empty key, and open errors that name the table. */
static void
test_texthash(void **state)
{
	char *path = testdir_write("th", "alice@example.com A\nBob B\n");
	char *spec = xasprintf("texthash:%s", path), *error;
	struct map *map = open_or_fail(spec);

	(void)state;
	check_lookup(map, "alice@example.com", "A");
	check_lookup(map, "ALICE@Example.Com", "A");
	check_lookup(map, "bob", "B");
	check_lookup(map, "", NULL);
	check_lookup(map, "carol", NULL);
	map_close(&map);
	assert_null(map);
	unlink(path);
	assert_int_equal(map_open(spec, &map, &error), -1);
	assert_non_null(strstr(error, path));
	free(error);
	assert_int_equal(map_open("nosuch:/etc/x", &map, &error), -1);
	assert_non_null(strstr(error, "nosuch:/etc/x"));
	assert_non_null(strstr(error, "unknown table type"));
	free(error);
	assert_int_equal(map_open("/etc/aliases", &map, &error), -1);
	assert_non_null(strstr(error, "/etc/aliases"));
	free(error);
	free(spec);
	free(path);
}

static const struct {
	const char *addr;
	int bare_user;
	const char *want;	/* NULL: not found */
} addr_cases[] = {
	{ "alice@example.com", 1, "FULL" },	/* user@domain first */
	{ "alice@other.org", 1, "USER" },	/* then user */
	{ "alice@other.org", 0, NULL },		/* user only if ours */
	{ "bob@example.com", 1, "CATCHALL" },	/* then @domain */
	{ "bob@example.com", 0, "CATCHALL" },
	{ "Alice@Example.COM", 1, "FULL" },	/* folded */
	{ "ALICE@OTHER.ORG", 1, "USER" },
	{ "carol@elsewhere.net", 1, NULL },
	{ "alice", 0, "USER" },			/* no domain: as given */
	{ "@example.com", 1, "CATCHALL" },
	{ "alice@", 1, "USER" },
	{ "alice@", 0, NULL },
	{ "\"x@y\"@example.com", 1, "CATCHALL" },	/* last "@" */
	{ "", 1, NULL },
};

/* map_lookup_addr() follows Postfix's order for address keys. */
static void
test_lookup_addr(void **state)
{
	char *path = testdir_write("addr", "alice@example.com FULL\n"
	    "alice USER\n@example.com CATCHALL\n");
	char *spec = xasprintf("texthash:%s", path), *value;
	struct map *map = open_or_fail(spec);
	const char *why;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
		r = map_lookup_addr(map, addr_cases[i].addr,
		    addr_cases[i].bare_user, &value, &why);
		if (addr_cases[i].want == NULL ? r != MAP_NOTFOUND :
		    r != MAP_FOUND || strcmp(value, addr_cases[i].want) != 0)
			fail_msg("%s (bare_user %d): r %d, got \"%s\"",
			    addr_cases[i].addr, addr_cases[i].bare_user, r,
			    r == MAP_FOUND ? value : "");
		free(value);
	}
	map_close(&map);
	free(spec);
	free(path);
}

/* Build the lmdb table SOURCE or fail the test. */
static void
build_or_fail(const char *source)
{
	char *error;

	if (mapfile_build_lmdb(source, &error) < 0)
		fail_msg("build %s: %s", source, error);
}

/* Look KEY up and check that MAP answers MAP_ERROR naming WHAT. */
static void
check_error(struct map *map, const char *key, const char *what)
{
	const char *why;
	char *value;

	assert_int_equal(map_lookup(map, key, &value, &why), MAP_ERROR);
	assert_null(value);
	if (strstr(why, what) == NULL)
		fail_msg("want \"%s\" in \"%s\"", what, why);
}

/* Maplists: the first table that finds wins; the first error stops. */
static void
test_maplist(void **state)
{
	char *a = testdir_write("la", "k1 A1\nboth A\n");
	char *b = testdir_write("lb", "k2 B2\nboth B\n");
	char *broken = xasprintf("%s/never-built", testdir);
	char *db = xasprintf("%s.lmdb", broken);
	char *sa = xasprintf("texthash:%s", a);
	char *sb = xasprintf("texthash:%s", b);
	char *sx = xasprintf("lmdb:%s", broken);
	char *ok[] = { sa, sb, NULL };
	char *err_first[] = { sx, sa, NULL };
	char *err_last[] = { sa, sx, NULL };
	char *bad[] = { sa, "nosuch:x", NULL };
	char *none[] = { NULL };
	struct maplist *list;
	const char *why;
	char *value, *error;

	(void)state;
	assert_int_equal(maplist_open(ok, &list, &error), 0);
	assert_int_equal(maplist_lookup(list, "BOTH", &value, &why), MAP_FOUND);
	assert_string_equal(value, "A");
	free(value);
	assert_int_equal(maplist_lookup(list, "k2", &value, &why), MAP_FOUND);
	assert_string_equal(value, "B2");
	free(value);
	assert_int_equal(maplist_lookup(list, "k3", &value, &why),
	    MAP_NOTFOUND);
	assert_int_equal(maplist_lookup_addr(list, "k2@x.org", true, &value,
	    &why), MAP_FOUND);
	assert_string_equal(value, "B2");
	free(value);
	maplist_close(&list);
	assert_null(list);

	assert_int_equal(maplist_open(err_first, &list, &error), 0);
	assert_int_equal(maplist_lookup(list, "k1", &value, &why), MAP_ERROR);
	assert_non_null(strstr(why, db));
	assert_int_equal(maplist_lookup_addr(list, "k1@x.org", true, &value,
	    &why), MAP_ERROR);
	maplist_close(&list);

	assert_int_equal(maplist_open(err_last, &list, &error), 0);
	assert_int_equal(maplist_lookup(list, "k1", &value, &why), MAP_FOUND);
	free(value);
	assert_int_equal(maplist_lookup(list, "k2", &value, &why), MAP_ERROR);
	maplist_close(&list);

	assert_int_equal(maplist_open(bad, &list, &error), -1);
	assert_non_null(strstr(error, "nosuch:x"));
	free(error);
	assert_int_equal(maplist_open(none, &list, &error), 0);
	assert_int_equal(maplist_lookup(list, "k1", &value, &why),
	    MAP_NOTFOUND);
	maplist_close(&list);
	free(a), free(b), free(broken), free(db);
	free(sa), free(sb), free(sx);
}

/* Build, look up, rebuild: an open map sees the new table at once. */
static void
test_lmdb_rebuild(void **state)
{
	char *src = testdir_write("virtual", "alice@example.com alice\n"
	    "Bob@Example.com bob\n");
	char *spec = xasprintf("lmdb:%s", src);
	struct map *map;

	(void)state;
	build_or_fail(src);
	map = open_or_fail(spec);
	check_lookup(map, "alice@example.com", "alice");
	check_lookup(map, "BOB@example.com", "bob");
	check_lookup(map, "carol@example.com", NULL);
	free(testdir_write("virtual", "alice@example.com alice2\n"
	    "carol@example.com carol\n"));
	build_or_fail(src);
	check_lookup(map, "alice@example.com", "alice2");
	check_lookup(map, "carol@example.com", "carol");
	check_lookup(map, "bob@example.com", NULL);
	map_close(&map);
	free(spec);
	free(src);
}

/* A large value survives the source reader, texthash and lmdb. */
static void
test_large_value(void **state)
{
	struct str text = STR_INIT, value = STR_INIT;
	char *src, *spec;
	struct map *map;
	size_t i;

	(void)state;
	for (i = 0; i < 20000; i++)
		str_appendf(&value, "user%zu@example.com,", i);
	str_appendf(&text, "small s\nbig %s\n", str_c(&value));
	src = testdir_write("large", str_c(&text));
	build_or_fail(src);
	spec = xasprintf("lmdb:%s", src);
	map = open_or_fail(spec);
	check_lookup(map, "big", str_c(&value));
	check_lookup(map, "small", "s");
	map_close(&map);
	free(spec);
	spec = xasprintf("texthash:%s", src);
	map = open_or_fail(spec);
	check_lookup(map, "big", str_c(&value));
	map_close(&map);
	free(spec);
	free(src);
	str_free(&text);
	str_free(&value);
}

/* Count the entries of the temporary directory whose name has PREFIX. */
static int
count_files(const char *prefix)
{
	DIR *dir = opendir(testdir);
	struct dirent *d;
	int n = 0;

	assert_non_null(dir);
	while ((d = readdir(dir)) != NULL)
		if (strncmp(d->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(dir);
	return n;
}

/* A bad source names file:line and leaves the old table in service. */
static void
test_lmdb_build_errors(void **state)
{
	char *src = testdir_write("perm", "k v1\n");
	char *spec = xasprintf("lmdb:%s", src), *db, *error, *want;
	struct map *map;
	struct stat st;

	(void)state;
	assert_int_equal(chmod(src, 0640), 0);
	build_or_fail(src);
	db = xasprintf("%s.lmdb", src);
	assert_int_equal(stat(db, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	map = open_or_fail(spec);
	free(testdir_write("perm", "k v2\n\nbroken\n"));
	assert_int_equal(mapfile_build_lmdb(src, &error), -1);
	want = xasprintf("%s:3:", src);
	assert_non_null(strstr(error, want));
	free(want);
	free(error);
	check_lookup(map, "k", "v1");
	/* Neither temporary files nor lock files are left behind. */
	assert_int_equal(count_files("perm"), 2);
	map_close(&map);
	free(db);
	free(spec);
	free(src);
}

/* Replace PATH with LEN bytes of garbage. */
static void
write_garbage(const char *path, size_t len)
{
	char *tmp = xasprintf("%s.garbage", path);
	char *junk = xmalloc(len);
	FILE *fp = fopen(tmp, "w");

	memset(junk, 'x', len);
	assert_non_null(fp);
	assert_int_equal(fwrite(junk, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(rename(tmp, path), 0);
	free(junk);
	free(tmp);
}

/* Copy the first LEN bytes of FROM to a new file that replaces TO. */
static void
write_truncated_copy(const char *from, const char *to, size_t len)
{
	char *tmp = xasprintf("%s.part", to);
	char *buf = xmalloc(len);
	FILE *in = fopen(from, "r"), *out = fopen(tmp, "w");

	assert_true(in != NULL && out != NULL);
	assert_int_equal(fread(buf, 1, len, in), len);
	assert_int_equal(fwrite(buf, 1, len, out), len);
	fclose(in);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(rename(tmp, to), 0);
	free(buf);
	free(tmp);
}

/* A missing or corrupt FILE.lmdb is a temporary failure, never "not found". */
static void
test_lmdb_missing_and_corrupt(void **state)
{
	struct str text = STR_INIT;
	char *src, *spec, *db, *saved, *error;
	struct map *map;
	size_t i;

	(void)state;
	for (i = 0; i < 2000; i++)
		str_appendf(&text, "key%zu value%zu\n", i, i);
	src = testdir_write("gone", str_c(&text));
	spec = xasprintf("lmdb:%s", src);
	db = xasprintf("%s.lmdb", src);
	saved = xasprintf("%s.saved", db);
	map = open_or_fail(spec);	/* not built yet: open works */
	check_error(map, "key1", db);
	check_error(map, "key1", "dirmailctl map build");
	build_or_fail(src);
	check_lookup(map, "key1", "value1");
	assert_int_equal(link(db, saved), 0);
	assert_int_equal(unlink(db), 0);
	check_error(map, "key1", db);
	write_garbage(db, 8192);
	check_error(map, "key1", db);
	write_truncated_copy(saved, db, 8192);
	check_error(map, "key1", db);
	assert_int_equal(rename(saved, db), 0);
	check_lookup(map, "key1999", "value1999");
	map_close(&map);
	write_garbage(db, 100);
	assert_int_equal(map_open(spec, &map, &error), -1);
	assert_non_null(strstr(error, db));
	free(error);
	free(saved), free(db), free(spec), free(src);
	str_free(&text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapfile_parse),
		cmocka_unit_test(test_mapfile_errors),
		cmocka_unit_test(test_mapfile_duplicate_warning),
		cmocka_unit_test(test_texthash),
		cmocka_unit_test(test_lookup_addr),
		cmocka_unit_test(test_maplist),
		cmocka_unit_test(test_lmdb_rebuild),
		cmocka_unit_test(test_large_value),
		cmocka_unit_test(test_lmdb_build_errors),
		cmocka_unit_test(test_lmdb_missing_and_corrupt),
	};

	return cmocka_run_group_tests_name("maps", tests, testdir_setup,
	    testdir_teardown);
}
