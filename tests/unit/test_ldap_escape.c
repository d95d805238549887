/*
 * Unit tests for the LDAP value escaping of src/ldap/escape.c: search
 * filter values (RFC 4515) and DN attribute values (RFC 4514).
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ldap/ldapc.h"
#include "lib/str.h"

struct escape_case {
	const char *name;
	const char *input;
	size_t len;		/* 0: strlen(input) */
	const char *want;
};

static const struct escape_case filter_cases[] = {
	{ "plain", "alice@example.com", 0, "alice@example.com" },
	{ "empty", "", 0, "" },
	{ "star", "*", 0, "\\2a" },
	{ "parentheses", "a(b)c", 0, "a\\28b\\29c" },
	{ "backslash", "a\\b", 0, "a\\5cb" },
	{ "injection", "*)(uid=*", 0, "\\2a\\29\\28uid=\\2a" },
	{ "injection with or", "x)(|(uid=*", 0, "x\\29\\28|\\28uid=\\2a" },
	{ "already escaped stays literal", "\\2a", 0, "\\5c2a" },
	{ "NUL in the middle", "a\0b", 3, "a\\00b" },
	{ "NUL alone", "\0", 1, "\\00" },
	{ "control bytes", "a\nb\rc\x7f", 0, "a\\0ab\\0dc\\7f" },
	{ "UTF-8 kept", "j\xc3\xb6rg@\xc3\xa9xample.com", 0,
	    "j\xc3\xb6rg@\xc3\xa9xample.com" },
	{ "DN specials are not filter specials", "a,b=c+d", 0, "a,b=c+d" },
	{ "spaces kept", " a b ", 0, " a b " },
};

static const struct escape_case dn_cases[] = {
	{ "plain", "alice", 0, "alice" },
	{ "empty", "", 0, "" },
	{ "comma", "Smith, Alice", 0, "Smith\\, Alice" },
	{ "every special", "\"+,;<>\\=", 0,
	    "\\\"\\+\\,\\;\\<\\>\\\\\\=" },
	{ "leading hash", "#admin", 0, "\\#admin" },
	{ "inner hash", "a#b", 0, "a#b" },
	{ "leading space", " alice", 0, "\\ alice" },
	{ "trailing space", "alice ", 0, "alice\\ " },
	{ "inner space", "a b", 0, "a b" },
	{ "single space", " ", 0, "\\ " },
	{ "two spaces", "  ", 0, "\\ \\ " },
	{ "NUL", "a\0b", 3, "a\\00b" },
	{ "newline", "a\nb", 0, "a\\0ab" },
	{ "injection", "x,ou=admins", 0, "x\\,ou\\=admins" },
	{ "filter specials are not DN specials", "*()", 0, "*()" },
	{ "UTF-8 kept", "J\xc3\xb6rg", 0, "J\xc3\xb6rg" },
};

/* Run the escaper ESC over CASES and compare with the expected text. */
static void
run_cases(const struct escape_case *cases, size_t n,
    void (*esc)(struct str *, const void *, size_t))
{
	struct str out = STR_INIT;
	size_t i, len;

	for (i = 0; i < n; i++) {
		len = cases[i].len ? cases[i].len : strlen(cases[i].input);
		str_truncate(&out, 0);
		esc(&out, cases[i].input, len);
		if (strcmp(str_c(&out), cases[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].name,
			    str_c(&out), cases[i].want);
	}
	str_free(&out);
}

/* Filter values: every special byte escaped, nothing else changed. */
static void
test_filter_escape(void **state)
{
	(void)state;
	run_cases(filter_cases, sizeof(filter_cases) / sizeof(filter_cases[0]),
	    ldapc_escape_filter_n);
}

/* DN values: RFC 4514 specials, leading/trailing rules and NUL. */
static void
test_dn_escape(void **state)
{
	(void)state;
	run_cases(dn_cases, sizeof(dn_cases) / sizeof(dn_cases[0]),
	    ldapc_escape_dn_n);
}

/* The C-string forms give the same answers and append nothing else. */
static void
test_string_forms(void **state)
{
	char *s;

	(void)state;
	s = ldapc_escape_filter("*)(uid=*");
	assert_string_equal(s, "\\2a\\29\\28uid=\\2a");
	free(s);
	s = ldapc_escape_dn(" #x ");
	assert_string_equal(s, "\\ #x\\ ");
	free(s);
	s = ldapc_escape_filter("");
	assert_string_equal(s, "");
	free(s);
}

/* Appending keeps what OUT already held. */
static void
test_append(void **state)
{
	struct str out = STR_INIT;

	(void)state;
	str_append(&out, "(uid=");
	ldapc_escape_filter_n(&out, "a*", 2);
	str_append(&out, ")");
	assert_string_equal(str_c(&out), "(uid=a\\2a)");
	str_free(&out);
}

/* Every byte value round-trips: no byte is dropped or left special. */
static void
test_all_bytes(void **state)
{
	struct str out = STR_INIT;
	unsigned char all[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)i;
	ldapc_escape_filter_n(&out, all, sizeof(all));
	assert_int_equal(strlen(str_c(&out)), out.len);
	for (i = 0; i < out.len; i++) {
		if (strchr("*()", out.s[i]) != NULL)
			fail_msg("unescaped '%c' at %zu", out.s[i], i);
		if (out.s[i] == '\\')
			assert_true(strchr("0123456789abcdef",
			    out.s[i + 1]) != NULL);
	}
	str_free(&out);
}

/* tls_require_cert names. */
static void
test_tls_require_parse(void **state)
{
	enum ldapc_tls_require v;

	(void)state;
	assert_int_equal(ldapc_tls_require_parse("never", &v), 0);
	assert_int_equal(v, LDAPC_TLS_NEVER);
	assert_int_equal(ldapc_tls_require_parse("Demand", &v), 0);
	assert_int_equal(v, LDAPC_TLS_DEMAND);
	assert_int_equal(ldapc_tls_require_parse("hard", &v), 0);
	assert_int_equal(v, LDAPC_TLS_HARD);
	assert_int_equal(ldapc_tls_require_parse("yes", &v), -1);
	assert_int_equal(ldapc_tls_require_parse("", &v), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_escape),
		cmocka_unit_test(test_dn_escape),
		cmocka_unit_test(test_string_forms),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_all_bytes),
		cmocka_unit_test(test_tls_require_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
