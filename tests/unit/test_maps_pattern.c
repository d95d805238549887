/*
 * Unit tests for the pattern table drivers: cidr (src/maps/map_cidr.c)
 * and regexp (src/maps/map_regexp.c).  Table files are written to a
 * temporary directory.
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <regex.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/xalloc.h"
#include "maps/maps.h"
#include "testdir.h"

/* Open TYPE:(a file holding TEXT) or fail the test with the error. */
static struct map *
open_text(const char *type, const char *text)
{
	char *path = testdir_write(type, text);
	char *spec = xasprintf("%s:%s", type, path), *error;
	struct map *map;

	if (map_open(spec, &map, &error) < 0)
		fail_msg("%s: %s", spec, error);
	unlink(path);
	free(spec);
	free(path);
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
		fail_msg("\"%s\": error %s", key, why);
	if (want == NULL && r != MAP_NOTFOUND)
		fail_msg("\"%s\": found \"%s\"", key, value);
	if (want != NULL && r != MAP_FOUND)
		fail_msg("\"%s\": not found, want \"%s\"", key, want);
	if (want != NULL && strcmp(value, want) != 0)
		fail_msg("\"%s\": got \"%s\", want \"%s\"", key, value, want);
	free(value);
}

/*
 * Open TYPE:(a file holding TEXT), expect it to fail, and check that the
 * error names "file:WANT" (WANT starts with the line number).
 */
static void
check_open_error(const char *type, const char *text, const char *want)
{
	char *path = testdir_write(type, text);
	char *spec = xasprintf("%s:%s", type, path);
	char *full = xasprintf("%s:%s", path, want), *error;
	struct map *map;

	if (map_open(spec, &map, &error) == 0)
		fail_msg("accepted: %s", text);
	if (strstr(error, full) == NULL)
		fail_msg("want \"%s\", got \"%s\"", full, error);
	free(error);
	free(full);
	free(spec);
	unlink(path);
	free(path);
}

static const char cidr_text[] =
    "# networks, first match wins\n"
    "192.0.2.0/24\t\tNET24\n"
    "192.0.2.128/25\t\tSHADOWED\n"
    "10.0.0.1 HOST\n"
    "2001:db8::/32 V6\n"
    "[2001:db8:1::]/48 SHADOWED6\n"
    "[::1] LOOP6\n"
    "198.51.100.0/24 two\n"
    "  words\n"
    "0.0.0.0/0 ANY4\n";

static const struct {
	const char *key;
	const char *want;
} cidr_cases[] = {
	{ "192.0.2.5", "NET24" },
	{ "192.0.2.130", "NET24" },	/* file order, not longest prefix */
	{ "10.0.0.1", "HOST" },
	{ "10.0.0.2", "ANY4" },
	{ "198.51.100.7", "two words" },
	{ "2001:db8:1::5", "V6" },
	{ "2001:DB8::1", "V6" },
	{ "[2001:db8::1]", "V6" },
	{ "::1", "LOOP6" },
	{ "::2", NULL },
	{ "::ffff:10.0.0.1", "HOST" },	/* IPv4-mapped */
	{ "not-an-address", NULL },
	{ "alice@example.com", NULL },
	{ "", NULL },
};

/* cidr: IPv4 and IPv6, brackets, first match in file order. */
static void
test_cidr(void **state)
{
	struct map *map = open_text("cidr", cidr_text);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cidr_cases) / sizeof(cidr_cases[0]); i++)
		check_lookup(map, cidr_cases[i].key, cidr_cases[i].want);
	map_close(&map);
}

/* cidr: a bad line stops the open with file:line. */
static void
test_cidr_errors(void **state)
{
	(void)state;
	check_open_error("cidr", "10.0.0.0/8 OK\n192.0.2.1/24 X\n",
	    "2: bad network \"192.0.2.1/24\": address has bits set");
	check_open_error("cidr", "300.1.1.1 X\n", "1: bad network");
	check_open_error("cidr", "10.0.0.0/33 X\n", "1: bad network");
	check_open_error("cidr", "# c\n\n10.0.0.0/8\n",
	    "3: network \"10.0.0.0/8\" has no result");
	check_open_error("cidr", "  10.0.0.0/8 X\n",
	    "1: continuation line");
}

static const char regexp_text[] =
    "# first match wins\n"
    "/^(.*)@example\\.com$/\tlocal:$1\n"
    "/^postmaster@/i\tCASE\n"
    "/^(a)(b)?c\\.x$/\t[$1][$2][${1}][$(1)]$$\n"
    "/a+b/x\tBASIC\n"
    "if /\\.org$/\n"
    "/^admin@/\tORG-ADMIN\n"
    "if !/@test\\./\n"
    "/^root@/\tORG-ROOT\n"
    "endif\n"
    "endif\n"
    "/^admin@/\tADMIN\n"
    "/^root@/\tROOT\n"
    "!/\\./\tNODOT $$\n"
    "|^pipe|\tDELIM\n"
    "/a\\/b/\tSLASH\n";

static const struct {
	const char *key;
	const char *want;
} regexp_cases[] = {
	{ "joe@example.com", "local:joe" },
	{ "JOE@EXAMPLE.COM", "local:JOE" },	/* case-insensitive, kept */
	{ "postmaster@foo.net", "CASE" },
	{ "Postmaster@foo.net", NULL },		/* "i" makes it exact */
	{ "ac.x", "[a][][a][a]$" },		/* unmatched group: empty */
	{ "ABC.x", "[A][B][A][A]$" },
	{ "xa+b.y", "BASIC" },			/* "x": basic syntax */
	{ "aab.y", NULL },
	{ "admin@foo.org", "ORG-ADMIN" },
	{ "admin@foo.net", "ADMIN" },
	{ "root@foo.org", "ORG-ROOT" },
	{ "root@test.org", "ROOT" },	/* inner if skipped */
	{ "root@foo.net", "ROOT" },
	{ "test@foo.org", NULL },
	{ "nodot", "NODOT $" },
	{ "pipe.x", "DELIM" },
	{ "a/b.c", "SLASH" },
	{ "", NULL },
};

/* regexp: flags, groups, negation, if/endif, other delimiters. */
static void
test_regexp(void **state)
{
	struct map *map = open_text("regexp", regexp_text);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(regexp_cases) / sizeof(regexp_cases[0]); i++)
		check_lookup(map, regexp_cases[i].key, regexp_cases[i].want);
	map_close(&map);
	/* "m": "^" and "$" match at line breaks inside the key. */
	map = open_text("regexp", "/^second$/m MULTI\n/^first/ FIRST\n");
	check_lookup(map, "first\nsecond", "MULTI");
	map_close(&map);
	map = open_text("regexp", "/^second$/ MULTI\n/^first/ FIRST\n");
	check_lookup(map, "first\nsecond", "FIRST");
	map_close(&map);
}

/* regexp: a bad line stops the open with file:line and the reason. */
static void
test_regexp_errors(void **state)
{
	char why[256], *want;
	regex_t re;
	int rc;

	(void)state;
	rc = regcomp(&re, "a(", REG_EXTENDED | REG_ICASE);
	assert_int_not_equal(rc, 0);
	regerror(rc, &re, why, sizeof(why));
	want = xasprintf("2: bad regular expression: %s", why);
	check_open_error("regexp", "/ok/ OK\n/a(/ X\n", want);
	free(want);
	check_open_error("regexp", "/a(b)/ $2\n", "1: the result refers to "
	    "a group that the pattern does not have");
	check_open_error("regexp", "!/a(b)/ $1\n", "1: the result of a "
	    "negated pattern cannot use $1..$9");
	check_open_error("regexp", "/a/ cost $5x\n", "1: the result refers");
	check_open_error("regexp", "/a/ $x\n", "1: bad $ in the result");
	check_open_error("regexp", "/abc/q X\n", "1: unknown pattern flag: q");
	check_open_error("regexp", "/abc/\n", "1: pattern without a result");
	check_open_error("regexp", "/abc X\n", "1: pattern without its "
	    "closing delimiter");
	check_open_error("regexp", "abc X\n", "1: expected /pattern/");
	check_open_error("regexp", "# c\nif /a/\n/b/ X\n",
	    "2: \"if\" without \"endif\"");
	check_open_error("regexp", "/b/ X\nendif\n",
	    "2: \"endif\" without \"if\"");
	check_open_error("regexp", "if /a/ X\n/b/ Y\nendif\n",
	    "1: text after the pattern of \"if\"");
}

/* Pattern tables see the whole address once in map_lookup_addr(). */
static void
test_pattern_addr(void **state)
{
	struct map *map = open_text("regexp", "/^bob$/ USER\n"
	    "/^@example\\.com$/ DOMAIN\n/^(.*)@example\\.net$/ R:$1\n");
	const char *why;
	char *value;

	(void)state;
	assert_int_equal(map_lookup_addr(map, "Bob@Example.NET", true, &value,
	    &why), MAP_FOUND);
	assert_string_equal(value, "R:Bob");	/* not folded */
	free(value);
	assert_int_equal(map_lookup_addr(map, "bob@example.com", true, &value,
	    &why), MAP_NOTFOUND);
	map_close(&map);
	map = open_text("cidr", "192.0.2.0/24 NET\n");
	assert_int_equal(map_lookup_addr(map, "192.0.2.9", true, &value,
	    &why), MAP_FOUND);
	assert_string_equal(value, "NET");
	free(value);
	map_close(&map);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_cidr_errors),
		cmocka_unit_test(test_regexp),
		cmocka_unit_test(test_regexp_errors),
		cmocka_unit_test(test_pattern_addr),
	};

	return cmocka_run_group_tests_name("maps_pattern", tests,
	    testdir_setup, testdir_teardown);
}
