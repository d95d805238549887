/*
 * Unit tests for the SMTP address parser (src/global/addr.c): valid and
 * invalid paths, the rest pointer, quoting for the wire and splitting.
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "global/addr.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define LONG63 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc"

static const struct {
	const char *text;
	bool allow_null, utf8_ok;
	const char *want;	/* internal form */
	const char *rest;	/* what *rest_r points at */
} valid_cases[] = {
	{ "<user@example.com>", false, false, "user@example.com", "" },
	{ "  <user@example.com>", false, false, "user@example.com", "" },
	{ "\t<user@example.com>", false, false, "user@example.com", "" },
	{ "<user@example.com> SIZE=100 BODY=8BITMIME", false, false,
	    "user@example.com", "SIZE=100 BODY=8BITMIME" },
	{ "<user@example.com>   SIZE=1", false, false, "user@example.com",
	    "SIZE=1" },
	{ "<User.Name@Example.COM>", false, false, "User.Name@example.com",
	    "" },
	{ "<>", true, false, "", "" },
	{ "<> SIZE=5", true, false, "", "SIZE=5" },
	{ "<@a.example,@b.example:u@c.example>", false, false,
	    "u@c.example", "" },
	{ "<@ours.example:u@remote.example>", false, false,
	    "u@remote.example", "" },
	{ "<\"john doe\"@example.com>", false, false, "john doe@example.com",
	    "" },
	{ "<\"a\\\"b\\\\c\"@example.com>", false, false,
	    "a\"b\\c@example.com", "" },
	{ "<\"u@remote\"@ours.example>", false, false, "u@remote@ours.example",
	    "" },
	{ "<\"plain\"@example.com>", false, false, "plain@example.com", "" },
	{ "<u@[192.0.2.1]>", false, false, "u@[192.0.2.1]", "" },
	{ "<u@[IPv6:2001:DB8::1]>", false, false, "u@[ipv6:2001:db8::1]", "" },
	{ "<u%remote@ours.example>", false, false, "u%remote@ours.example",
	    "" },
	{ "<remote!u@ours.example>", false, false, "remote!u@ours.example",
	    "" },
	{ "<u@192.0.2.1>", false, false, "u@192.0.2.1", "" },
	{ "<postmaster>", false, false, "postmaster", "" },
	{ "<a.b..c.@example.com>", false, false, "a.b..c.@example.com", "" },
	{ "<x-y_z@sub-1.ex_ample.com>", false, false,
	    "x-y_z@sub-1.ex_ample.com", "" },
	{ "user@example.com", false, false, "user@example.com", "" },
	{ "  user@Example.com  ", false, false, "user@example.com", "" },
	{ "<j\xc3\xb6rg@b\xc3\xbc" "cher.example>", false, true,
	    "j\xc3\xb6rg@b\xc3\xbc" "cher.example", "" },
	{ "<\"j\xc3\xb6 rg\"@example.com>", false, true,
	    "j\xc3\xb6 rg@example.com", "" },
	{ "<u@" LONG63 ".example>", false, false, "u@" LONG63 ".example",
	    "" },
	{ "<" LONG63 LONG63 "@example.com>", false, false,
	    LONG63 LONG63 "@example.com", "" },
};

static const struct {
	const char *text;
	bool allow_null, utf8_ok;
	const char *error;	/* NULL: "Bad address syntax" */
} invalid_cases[] = {
	{ "", true, true, NULL },
	{ "<>", false, false, NULL },
	{ "<@example.com>", false, false, NULL },
	{ "<\"\"@example.com>", false, false, NULL },
	{ "<u@>", false, false, NULL },
	{ "<u@remote.example@ours.example>", false, false, NULL },
	{ "<u@example.com.>", false, false, NULL },
	{ "<u@example.com..>", false, false, NULL },
	{ "<u@example..com>", false, false, NULL },
	{ "<u@.example.com>", false, false, NULL },
	{ "<u@" LONG63 "d.example>", false, false, NULL },
	{ "<u\x01v@example.com>", false, false, NULL },
	{ "<\"u\x01v\"@example.com>", false, false, NULL },
	{ "<\"u\tv\"@example.com>", false, false, NULL },
	{ "<u@exa\x7fmple.com>", false, false, NULL },
	{ "<\"unbalanced@example.com>", false, false, NULL },
	{ "<u@[192.0.2.1>", false, false, NULL },
	{ "<u@[192.0.2.300]>", false, false, NULL },
	{ "<u@[IPv6:zz::1]>", false, false, NULL },
	{ "<u@[tag:whatever]>", false, false, NULL },
	{ "<u@example.com", false, false, NULL },
	{ "u@example.com>", false, false, NULL },
	{ "<<u@example.com>>", false, false, NULL },
	{ "<u@example.com>SIZE=1", false, false, NULL },
	{ "u@example.com SIZE=1", false, false, NULL },
	{ "<u v@example.com>", false, false, NULL },
	{ "< u@example.com>", false, false, NULL },
	{ "<u\\v@example.com>", false, false, NULL },
	{ "<\"a\"b@example.com>", false, false, NULL },
	{ "<u(comment)@example.com>", false, false, NULL },
	{ "<@a.example:>", false, false, NULL },
	{ "<@a.example u@b.example>", false, false, NULL },
	{ "<@a.example,b.example:u@c.example>", false, false, NULL },
	{ "<j\xc3\xb6rg@example.com>", false, false,
	    "Must declare SMTPUTF8 to send unicode address" },
	{ "<u@b\xc3\xbc" "cher.example>", false, false,
	    "Must declare SMTPUTF8 to send unicode address" },
	{ "<u\xff@example.com>", false, true, NULL },
	{ "<u\xc3@example.com>", false, true, NULL },
	{ "<u\xed\xa0\x80@example.com>", false, true, NULL },
	{ "<u\xc0\xaf@example.com>", false, true, NULL },
	{ "<" LONG63 LONG63 LONG63 LONG63 "@example.com>", false, false,
	    "Address too long" },
};

/* Valid paths: the internal form and the rest pointer. */
static void
test_parse_valid(void **state)
{
	const char *rest, *error;
	char *addr;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
		const char *text = valid_cases[i].text;

		error = NULL;
		if (addr_parse_path(text, valid_cases[i].allow_null,
		    valid_cases[i].utf8_ok, &addr, &rest, &error) < 0)
			fail_msg("\"%s\": %s", text, error);
		if (strcmp(addr, valid_cases[i].want) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", text,
			    addr, valid_cases[i].want);
		if (strcmp(rest, valid_cases[i].rest) != 0 ||
		    rest < text || rest > text + strlen(text))
			fail_msg("\"%s\": rest \"%s\", want \"%s\"", text,
			    rest, valid_cases[i].rest);
		free(addr);
	}
}

/* Invalid paths fail with a static reason. */
static void
test_parse_invalid(void **state)
{
	const char *rest, *error, *want;
	char *addr = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]);
	    i++) {
		const char *text = invalid_cases[i].text;

		error = NULL;
		want = invalid_cases[i].error != NULL ?
		    invalid_cases[i].error : "Bad address syntax";
		if (addr_parse_path(text, invalid_cases[i].allow_null,
		    invalid_cases[i].utf8_ok, &addr, &rest, &error) == 0)
			fail_msg("\"%s\": accepted as \"%s\"", text, addr);
		if (error == NULL || strcmp(error, want) != 0)
			fail_msg("\"%s\": error \"%s\", want \"%s\"", text,
			    error != NULL ? error : "(null)", want);
	}
}

static const struct {
	const char *internal;
	const char *external;
} external_cases[] = {
	{ "", "" },
	{ "user@example.com", "user@example.com" },
	{ "first.last@example.com", "first.last@example.com" },
	{ "postmaster", "postmaster" },
	{ "john doe@example.com", "\"john doe\"@example.com" },
	{ "a\"b\\c@example.com", "\"a\\\"b\\\\c\"@example.com" },
	{ "u@remote@ours.example", "\"u@remote\"@ours.example" },
	{ "a..b@example.com", "\"a..b\"@example.com" },
	{ ".a@example.com", "\".a\"@example.com" },
	{ "a.@example.com", "\"a.\"@example.com" },
	{ "u%remote@ours.example", "u%remote@ours.example" },
	{ "remote!u@ours.example", "remote!u@ours.example" },
	{ "u@[ipv6:2001:db8::1]", "u@[ipv6:2001:db8::1]" },
	{ "j\xc3\xb6rg@example.com", "j\xc3\xb6rg@example.com" },
	{ "a,b@example.com", "\"a,b\"@example.com" },
};

/* Quoting for the wire, and parsing the result back. */
static void
test_external(void **state)
{
	const char *rest, *error;
	char *ext, *back, *path;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(external_cases) / sizeof(external_cases[0]);
	    i++) {
		ext = addr_external(external_cases[i].internal);
		assert_string_equal(ext, external_cases[i].external);
		path = xasprintf("<%s>", ext);
		if (addr_parse_path(path, true, true, &back, &rest,
		    &error) < 0)
			fail_msg("%s: %s", path, error);
		assert_string_equal(back, external_cases[i].internal);
		free(back);
		free(path);
		free(ext);
	}
}

static const struct {
	const char *addr;
	const char *local;
	const char *domain;	/* NULL: none */
} split_cases[] = {
	{ "user@example.com", "user", "example.com" },
	{ "u@remote@ours", "u@remote", "ours" },
	{ "postmaster", "postmaster", NULL },
	{ "", "", NULL },
	{ "u@", "u", "" },
};

/* Splitting at the last "@". */
static void
test_split(void **state)
{
	const char *domain;
	char *local;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
		local = addr_split(split_cases[i].addr, &domain);
		assert_string_equal(local, split_cases[i].local);
		if (split_cases[i].domain == NULL)
			assert_null(domain);
		else
			assert_string_equal(domain, split_cases[i].domain);
		free(local);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_external),
		cmocka_unit_test(test_split),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
