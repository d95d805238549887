/*
 * Unit tests of sendmail's parsers: RFC 5322 address lists for -t
 * (src/tools/sendmail_addr.c) and the aliases(5) source format that
 * newaliases builds (src/maps/aliases.c).
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "maps/aliases.h"
#include "tests/unit/testdir.h"
#include "tools/sendmail.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *name;
	const char *in;
	int n;			/* -1: an error */
	const char *want;	/* the addresses joined with '|' */
} list_cases[] = {
	{ "bare address", "bob@example.com", 1, "bob@example.com" },
	{ "list", "a@x.org, b@y.org", 2, "a@x.org|b@y.org" },
	{ "display names", "Bob Smith <bob@x.org>, \"Doe, J.\" <j@y.org>", 2,
	    "bob@x.org|j@y.org" },
	{ "comments", "bob@x.org (Bob (the (nested)) one), (c) e@y.org", 2,
	    "bob@x.org|e@y.org" },
	{ "comment inside an address", "bob(c)@(d)x.org", 1, "bob@x.org" },
	{ "folded", "a@x.org,\r\n\tb@y.org,\n  Carol\r\n <c@z.org>", 3,
	    "a@x.org|b@y.org|c@z.org" },
	{ "group", "friends: a@x.org, B <b@y.org>;, c@z.org", 3,
	    "a@x.org|b@y.org|c@z.org" },
	{ "empty group", "undisclosed-recipients:;", 0, "" },
	{ "group without its semicolon", "team: a@x.org", 1, "a@x.org" },
	{ "empty members", " , a@x.org,, ,", 1, "a@x.org" },
	{ "empty", "", 0, "" },
	{ "quoted local part", "\"john doe\"@x.org", 1,
	    "\"john doe\"@x.org" },
	{ "quoted pair kept", "<\"a\\\"b\"@x.org>", 1, "\"a\\\"b\"@x.org" },
	{ "specials in a quoted name", "\"<a@b>, c\" <d@e.org>", 1,
	    "d@e.org" },
	{ "source route", "<@relay.org,@r2.org:bob@x.org>", 1, "bob@x.org" },
	{ "domain literal", "bob@[192.0.2.1]", 1, "bob@[192.0.2.1]" },
	{ "obsolete dots", "john . doe @ x . org", 1, "john.doe@x.org" },
	{ "bare local part", "alice", 1, "alice" },
	{ "dot in display name", "John Q. Public <jqp@x.org>", 1,
	    "jqp@x.org" },
	{ "unclosed angle", "Bob <bob@x.org", -1, "" },
	{ "unclosed quote", "\"bob@x.org", -1, "" },
	{ "unclosed comment", "bob@x.org (oops", -1, "" },
	{ "stray closing angle", "bob@x.org>", -1, "" },
	{ "nested groups", "a: b: c@x.org;;", -1, "" },
	{ "semicolon outside a group", "a@x.org; b@y.org", -1, "" },
};

/* Each list yields the addresses of the table, or an error. */
static void
test_addr_list(void **state)
{
	struct str joined = STR_INIT;
	const char *why = NULL;
	char **list;
	size_t i, j;
	int n;

	(void)state;
	for (i = 0; i < NELEM(list_cases); i++) {
		list = NULL;
		n = sendmail_addr_list(list_cases[i].in, &list, &why);
		if (n != list_cases[i].n)
			fail_msg("%s: %d addresses, want %d",
			    list_cases[i].name, n, list_cases[i].n);
		if (n < 0) {
			assert_non_null(why);
			strv_free(&list);
			continue;
		}
		str_truncate(&joined, 0);
		for (j = 0; list != NULL && list[j] != NULL; j++)
			str_appendf(&joined, "%s%s", j > 0 ? "|" : "",
			    list[j]);
		if (strcmp(str_c(&joined), list_cases[i].want) != 0)
			fail_msg("%s: got \"%s\"", list_cases[i].name,
			    str_c(&joined));
		strv_free(&list);
	}
	str_free(&joined);
}

/* Addresses append to what the list already holds. */
static void
test_addr_list_appends(void **state)
{
	char **list = NULL;
	const char *why;

	(void)state;
	assert_int_equal(sendmail_addr_list("a@x.org", &list, &why), 1);
	assert_int_equal(sendmail_addr_list("b@y.org, c@z.org", &list, &why),
	    2);
	assert_int_equal(strv_len(list), 3);
	assert_string_equal(list[2], "c@z.org");
	strv_free(&list);
}

/* Header field lines and names. */
static void
test_fields(void **state)
{
	(void)state;
	assert_true(sendmail_is_field("To: x", 5));
	assert_true(sendmail_is_field("X-Thing:", 8));
	assert_false(sendmail_is_field(":x", 2));
	assert_false(sendmail_is_field("no colon", 8));
	assert_false(sendmail_is_field("two words: x", 12));
	assert_false(sendmail_is_field("To: x", 2));	/* length counts */
	assert_string_equal(sendmail_field_value("bcc: a@b\r\n", "Bcc"),
	    " a@b\r\n");
	assert_null(sendmail_field_value("Bccx: a", "Bcc"));
	assert_null(sendmail_field_value("To: a", "Bcc"));
}

/* From: names are quoted when they need it, and never break the line. */
static void
test_name_addr(void **state)
{
	static const struct {
		const char *name, *want;
	} cases[] = {
		{ "Alice Example", "Alice Example <a@x.org>" },
		{ "Doe, John", "\"Doe, John\" <a@x.org>" },
		{ "J. Doe", "\"J. Doe\" <a@x.org>" },
		{ "say \"hi\"", "\"say \\\"hi\\\"\" <a@x.org>" },
		{ "evil\r\nBcc: x", "\"evilBcc: x\" <a@x.org>" },
	};
	struct str out = STR_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		str_truncate(&out, 0);
		sendmail_name_addr(&out, cases[i].name, "a@x.org");
		assert_string_equal(str_c(&out), cases[i].want);
	}
	str_free(&out);
}

static const struct {
	const char *name;
	const char *line;
	int ret;
	const char *key, *value;
} alias_cases[] = {
	{ "plain", "root: admin", 1, "root", "admin" },
	{ "folded name", "PostMaster: root", 1, "postmaster", "root" },
	{ "list kept as written", "staff:a, b,c", 1, "staff", "a, b,c" },
	{ "space before the colon", "name : x", 1, "name", "x" },
	{ "quoted name", "\"John Doe\": john", 1, "john doe", "john" },
	{ "quoted colon", "\"a:b\": x", 1, "a:b", "x" },
	{ "escaped quote", "\"a\\\"b\": x", 1, "a\"b", "x" },
	{ "include", "list: :include:/etc/list", 1, "list",
	    ":include:/etc/list" },
	{ "command", "prog: \"|/usr/bin/prog arg\"", 1, "prog",
	    "\"|/usr/bin/prog arg\"" },
	{ "no colon", "name value", 0, NULL, NULL },
	{ "no name", ": value", 0, NULL, NULL },
	{ "no value", "name:   ", 0, NULL, NULL },
	{ "unclosed quote", "\"name: x", 0, NULL, NULL },
};

/* One logical line each. */
static void
test_aliases_split(void **state)
{
	char *key, *value, *error = NULL;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < NELEM(alias_cases); i++) {
		key = value = NULL;
		r = aliases_split("aliases", 1, alias_cases[i].line, &key,
		    &value, &error);
		if (r != alias_cases[i].ret)
			fail_msg("%s: returned %d", alias_cases[i].name, r);
		if (r == 1) {
			assert_string_equal(key, alias_cases[i].key);
			assert_string_equal(value, alias_cases[i].value);
		}
		free(key);
		free(value);
		assert_null(error);
	}
}

/* A whole file: comments, continuation lines, bad lines, duplicates. */
static void
test_aliases_load(void **state)
{
	struct mapfile *mf;
	char *path, *error;

	(void)state;
	path = testdir_write("aliases",
	    "# comment\n"
	    "root: admin\n"
	    "staff: a,\n"
	    "  b,\n"
	    "\tc\n"
	    "   # indented comment\n"
	    "\n"
	    "bad line\n"
	    "ROOT: second\n"
	    "\"x y\": z\n");
	assert_int_equal(aliases_load(path, &mf, &error), 0);
	assert_int_equal(mf->count, 3);
	assert_string_equal(mapfile_find(mf, "root"), "admin");
	assert_string_equal(mapfile_find(mf, "staff"), "a, b, c");
	assert_string_equal(mapfile_find(mf, "x y"), "z");
	assert_null(mapfile_find(mf, "bad"));
	mapfile_free(&mf);
	free(path);
}

/* A missing file is an error naming it. */
static void
test_aliases_missing(void **state)
{
	struct mapfile *mf = NULL;
	char *error = NULL, *path = xasprintf("%s/none", testdir);

	(void)state;
	assert_int_equal(aliases_load(path, &mf, &error), -1);
	assert_non_null(strstr(error, path));
	free(error);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_list),
		cmocka_unit_test(test_addr_list_appends),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_name_addr),
		cmocka_unit_test(test_aliases_split),
		cmocka_unit_test(test_aliases_load),
		cmocka_unit_test(test_aliases_missing),
	};

	return cmocka_run_group_tests(tests, testdir_setup, testdir_teardown);
}
