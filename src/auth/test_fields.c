/* Unit tests of authd's tab-escaping, line splitting, base64 and fields. */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/fields.h"
#include "lib/xalloc.h"

static const struct {
	const char *raw;
	const char *escaped;
} escape_cases[] = {
	{ "plain", "plain" },
	{ "a\tb", "a\001tb" },
	{ "line\nnext\r", "line\001nnext\001r" },
	{ "soh\001", "soh\0011" },
	{ "back\\slash\\t", "back\\slash\\t" },
};

/* Every case escapes as the table says and comes back unchanged. */
static void
test_escape_roundtrip(void **state)
{
	struct str out = STR_INIT;
	char *copy;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(escape_cases) / sizeof(escape_cases[0]); i++) {
		str_truncate(&out, 0);
		tab_escape(&out, escape_cases[i].raw);
		assert_string_equal(str_c(&out), escape_cases[i].escaped);
		copy = xstrdup(escape_cases[i].escaped);
		assert_string_equal(tab_unescape(copy), escape_cases[i].raw);
		free(copy);
	}
	str_free(&out);
}

/* Unknown escapes yield the byte itself; a final 0x01 is dropped. */
static void
test_unescape_oddities(void **state)
{
	char a[] = "\001l\001x", b[] = "end\001";

	(void)state;
	assert_string_equal(tab_unescape(a), "lx");
	assert_string_equal(tab_unescape(b), "end");
}

/* A line splits on TAB before unescaping. */
static void
test_line_split(void **state)
{
	char line[] = "AUTH\t1\tPLAIN\tsession=a\001tb\t";
	size_t n;
	char **v = line_split(line, &n);

	(void)state;
	assert_int_equal(n, 5);
	assert_string_equal(v[3], "session=a\tb");
	assert_string_equal(v[4], "");
	assert_null(v[5]);
	free(v);
}

/* Only canonical padded base64 decodes. */
static void
test_base64(void **state)
{
	static const char *const bad[] = { "AGFsaWNlAHNlY3JldA", "!!!!",
	    "A===", "AB=C", "ABC", "AB CD" };
	struct str out = STR_INIT;
	size_t i;

	(void)state;
	assert_int_equal(b64_decode("AGFsaWNlAHNlY3JldA==", &out), 0);
	assert_int_equal(out.len, 13);
	assert_memory_equal(out.s, "\0alice\0secret", 13);
	str_truncate(&out, 0);
	b64_encode(&out, "\0alice\0secret", 13);
	assert_string_equal(str_c(&out), "AGFsaWNlAHNlY3JldA==");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		str_truncate(&out, 0);
		assert_int_equal(b64_decode(bad[i], &out), -1);
	}
	str_truncate(&out, 0);
	assert_int_equal(b64_decode("", &out), 0);
	assert_int_equal(out.len, 0);
	str_free(&out);
}

/* Later values replace earlier ones; output is escaped. */
static void
test_fields(void **state)
{
	struct auth_fields f = { NULL, NULL, 0 };
	struct str out = STR_INIT;

	(void)state;
	fields_parse(&f, "uid=1 gid=2  home=/h nologin");
	fields_set(&f, "uid", "7");
	fields_set(&f, "x", "a\tb");
	assert_string_equal(fields_get(&f, "uid"), "7");
	assert_string_equal(fields_get(&f, "nologin"), "");
	assert_null(fields_get(&f, "none"));
	fields_append_line(&out, &f);
	assert_string_equal(str_c(&out),
	    "\tuid=7\tgid=2\thome=/h\tnologin=\tx=a\001tb");
	fields_clear(&f);
	str_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_roundtrip),
		cmocka_unit_test(test_unescape_oddities),
		cmocka_unit_test(test_line_split),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
