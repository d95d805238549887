/*
 * Unit tests of the pieces both sides of the Dovecot auth protocol share:
 * tab-escaping and line splitting (src/lib/tabescape.c), the strict
 * number parser str_to_uint() (src/lib/str.c) and the bounded line
 * framing (src/global/authproto.c).
 */

#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "global/authproto.h"
#include "lib/str.h"
#include "lib/tabescape.h"
#include "lib/xalloc.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *name;
	const char *raw;
	const char *escaped;
} escape_cases[] = {
	{ "empty", "", "" },
	{ "plain", "plain", "plain" },
	{ "tab", "a\tb", "a\001tb" },
	{ "line ends", "line\nnext\r", "line\001nnext\001r" },
	{ "soh", "soh\001", "soh\0011" },
	{ "all four", "\001\t\n\r", "\0011\001t\001n\001r" },
	{ "escape letters alone", "1tnr0", "1tnr0" },
	{ "backslashes", "back\\slash\\t", "back\\slash\\t" },
	{ "8-bit", "caf\303\251", "caf\303\251" },
};

/* Every case escapes as the table says and unescapes back. */
static void
test_escape(void **state)
{
	struct str out = STR_INIT;
	char *copy;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(escape_cases); i++) {
		str_truncate(&out, 0);
		tab_escape(&out, escape_cases[i].raw);
		if (strcmp(str_c(&out), escape_cases[i].escaped) != 0)
			fail_msg("%s: escaped wrongly", escape_cases[i].name);
		copy = xstrdup(escape_cases[i].escaped);
		if (strcmp(tab_unescape(copy), escape_cases[i].raw) != 0)
			fail_msg("%s: unescaped wrongly", escape_cases[i].name);
		free(copy);
	}
	str_free(&out);
}

static const struct {
	const char *name;
	const char *escaped;
	const char *want;
} unescape_cases[] = {
	{ "unknown letters are themselves", "\001l\001x", "lx" },
	{ "0x01 escapes itself", "a\001\001b", "a\001b" },
	{ "lone 0x01 at the end is dropped", "end\001", "end" },
	{ "escaped NUL ends the value", "nul\0010cut", "nul" },
	{ "escaped NUL at the start", "\0010", "" },
	{ "escaped escape then 0", "a\00110", "a\0010" },
	{ "backslash is not an escape", "a\\tb", "a\\tb" },
};

/* Odd escapes decode the way Dovecot's do. */
static void
test_unescape(void **state)
{
	char *copy;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(unescape_cases); i++) {
		copy = xstrdup(unescape_cases[i].escaped);
		if (strcmp(tab_unescape(copy), unescape_cases[i].want) != 0)
			fail_msg("%s: got \"%s\"", unescape_cases[i].name, copy);
		free(copy);
	}
}

static const struct {
	const char *name;
	const char *line;
	size_t n;
	const char *joined;	/* the fields joined with '|' */
} split_cases[] = {
	{ "empty line", "", 1, "" },
	{ "one field", "DONE", 1, "DONE" },
	{ "three fields", "OK\t1\tuser=a", 3, "OK|1|user=a" },
	{ "empty fields kept", "a\t\tb\t", 4, "a||b|" },
	{ "only a tab", "\t", 2, "|" },
	{ "escaped tab does not split", "x\001ty\tz", 2, "x\ty|z" },
	{ "each field unescaped", "a\0010b\tc\001nd", 2, "a|c\nd" },
};

/* Lines split on TAB before their fields are unescaped. */
static void
test_split(void **state)
{
	struct str joined = STR_INIT;
	char *line, **v;
	size_t i, j, n;

	(void)state;
	for (i = 0; i < NELEM(split_cases); i++) {
		line = xstrdup(split_cases[i].line);
		v = tab_split(line, &n);
		str_truncate(&joined, 0);
		for (j = 0; v[j] != NULL; j++)
			str_appendf(&joined, "%s%s", j > 0 ? "|" : "", v[j]);
		if (n != split_cases[i].n || j != n ||
		    strcmp(str_c(&joined), split_cases[i].joined) != 0)
			fail_msg("%s: %zu fields \"%s\"", split_cases[i].name,
			    n, str_c(&joined));
		free(v);
		free(line);
	}
	str_free(&joined);
}

static const struct {
	const char *s;
	int ret;
	unsigned int want;
} uint_cases[] = {
	{ "0", 0, 0 },
	{ "1", 0, 1 },
	{ "42", 0, 42 },
	{ "0000000001", 0, 1 },
	{ "4294967295", 0, UINT_MAX },
	{ "4294967296", -1, 0 },
	{ "9999999999", -1, 0 },
	{ "00000000001", -1, 0 },	/* more than ten digits */
	{ "", -1, 0 },
	{ "-1", -1, 0 },
	{ "+1", -1, 0 },
	{ " 1", -1, 0 },
	{ "1 ", -1, 0 },
	{ "1a", -1, 0 },
	{ "0x10", -1, 0 },
	{ "1.5", -1, 0 },
};

/* Only plain decimal digits in range parse; a failure leaves *NUM_R. */
static void
test_str_to_uint(void **state)
{
	unsigned int v;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(uint_cases); i++) {
		v = 12345;
		if (str_to_uint(uint_cases[i].s, &v) != uint_cases[i].ret)
			fail_msg("\"%s\": wrong result", uint_cases[i].s);
		if (v != (uint_cases[i].ret == 0 ? uint_cases[i].want : 12345))
			fail_msg("\"%s\": got %u", uint_cases[i].s, v);
	}
}

static const struct {
	const char *name;
	const char *input;
	size_t max_line;
	const char *lines;	/* the lines read, each followed by '|' */
	bool too_long;		/* after the last line */
	size_t left;		/* bytes left in the buffer */
} line_cases[] = {
	{ "LF and CRLF", "a\nb\r\n", 16, "a|b|", false, 0 },
	{ "empty lines", "\n\r\n", 16, "||", false, 0 },
	{ "only one CR dropped", "a\r\r\n", 16, "a\r|", false, 0 },
	{ "bare CR is data", "a\rb\n", 16, "a\rb|", false, 0 },
	{ "incomplete line waits", "a\npart", 16, "a|", false, 4 },
	{ "longest line fits", "abc\n", 4, "abc|", false, 0 },
	{ "line at the limit", "abcd\n", 4, "", true, 5 },
	{ "partial at the limit", "abcd", 4, "", true, 4 },
	{ "partial under the limit", "abc", 4, "", false, 3 },
	{ "long line after a good one", "ok\nabcdef\n", 4, "ok|", true, 7 },
};

/* Lines come out without their end, up to the limit. */
static void
test_next_line(void **state)
{
	struct str got = STR_INIT;
	struct evbuffer *in;
	bool too_long;
	char *line;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(line_cases); i++) {
		in = evbuffer_new();
		assert_non_null(in);
		evbuffer_add(in, line_cases[i].input,
		    strlen(line_cases[i].input));
		str_truncate(&got, 0);
		while ((line = authproto_next_line(in, line_cases[i].max_line,
		    &too_long)) != NULL) {
			str_appendf(&got, "%s|", line);
			free(line);
		}
		if (strcmp(str_c(&got), line_cases[i].lines) != 0 ||
		    too_long != line_cases[i].too_long ||
		    evbuffer_get_length(in) != line_cases[i].left)
			fail_msg("%s: got \"%s\", too long %d", line_cases[i].name,
			    str_c(&got), too_long);
		evbuffer_free(in);
	}
	str_free(&got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_str_to_uint),
		cmocka_unit_test(test_next_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
