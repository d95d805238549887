/*
 * Unit tests of the POP3 engine's text side (src/pop3d/pop3_text.c):
 * command lines, message numbers, UIDL formats, and the conversion of a
 * stored message into a RETR or TOP response, fed whole and byte by
 * byte.
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
#include "pop3d/pop3_text.h"

static const struct {
	const char *line, *name, *args;	/* name NULL: refused */
} split_cases[] = {
	{ "STAT", "STAT", "" },
	{ "stat", "STAT", "" },
	{ "ReTr 1", "RETR", "1" },
	{ "TOP 1 10", "TOP", "1 10" },
	{ "  list   3  ", "LIST", "3" },
	{ "LIST\t2", "LIST", "2" },
	{ "", NULL, NULL },
	{ "   ", NULL, NULL },
	{ "RETR1", NULL, NULL },
	{ "R3TR 1", NULL, NULL },
	{ "VERYLONGNAME 1", NULL, NULL },
	{ "\x01STAT", NULL, NULL },
};

static void
test_cmd_split(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
		char *line = strdup(split_cases[i].line), *name, *args;
		int r = pop3_cmd_split(line, &name, &args);

		if (split_cases[i].name == NULL) {
			assert_int_equal(r, -1);
		} else {
			assert_int_equal(r, 0);
			assert_string_equal(name, split_cases[i].name);
			assert_string_equal(args, split_cases[i].args);
		}
		free(line);
	}
}

static void
test_arg_num(void **state)
{
	const char *args = " 12  7";
	uint64_t n = 0;

	(void)state;
	assert_int_equal(pop3_arg_num(&args, UINT32_MAX, &n), 0);
	assert_int_equal(n, 12);
	assert_int_equal(pop3_arg_num(&args, UINT32_MAX, &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(pop3_arg_num(&args, UINT32_MAX, &n), 1);

	args = "4294967295";
	assert_int_equal(pop3_arg_num(&args, UINT32_MAX, &n), 0);
	assert_int_equal(n, UINT32_MAX);
	args = "4294967296";
	assert_int_equal(pop3_arg_num(&args, UINT32_MAX, &n), -1);
	args = "99999999999999999999999";
	assert_int_equal(pop3_arg_num(&args, INT64_MAX, &n), -1);
	args = "-1";
	assert_int_equal(pop3_arg_num(&args, UINT32_MAX, &n), -1);
	args = "1x";
	assert_int_equal(pop3_arg_num(&args, UINT32_MAX, &n), -1);
	args = "x";
	assert_int_equal(pop3_arg_num(&args, UINT32_MAX, &n), -1);
}

static const struct {
	const char *format;
	uint32_t uid, uidvalidity;
	const char *want;	/* NULL: refused */
} uidl_cases[] = {
	{ "%08Xu%08Xv", 1, 0x5a2b3c4d, "000000015a2b3c4d" },
	{ "%08Xu%08Xv", 0xdeadbeef, 1, "deadbeef00000001" },
	{ "%u.%v", 42, 1700000000, "42.1700000000" },
	{ "%v-%u", 3, 9, "9-3" },
	{ "%Xu", 255, 1, "ff" },
	{ "%%%u", 7, 1, "%7" },
	{ "x%010u", 7, 1, "x0000000007" },
	{ "%m", 1, 1, NULL },
	{ "%", 1, 1, NULL },
	{ "", 1, 1, NULL },
	{ "a b%u", 1, 1, NULL },
	{ "%70u%u", 1, 1, NULL },
	{ "%999u", 1, 1, NULL },
};

static void
test_uidl(void **state)
{
	char buf[POP3_UIDL_MAX + 1];
	const char *error;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(uidl_cases) / sizeof(uidl_cases[0]); i++) {
		int r = pop3_uidl_expand(uidl_cases[i].format,
		    uidl_cases[i].uid, uidl_cases[i].uidvalidity, buf, &error);

		if (uidl_cases[i].want == NULL) {
			assert_int_equal(r, -1);
		} else {
			assert_int_equal(r, 0);
			assert_string_equal(buf, uidl_cases[i].want);
		}
	}
}

/* Convert IN as RETR (TOP_LINES < 0) or TOP would, in pieces of STEP
   bytes (0: all at once); return the response body. */
static char *
convert(const char *in, long long top_lines, size_t step)
{
	struct pop3_stuff st;
	struct str out = STR_INIT;
	size_t len = strlen(in), off = 0;

	pop3_stuff_init(&st, top_lines);
	while (off < len && !st.done) {
		size_t n = step == 0 || len - off < step ? len - off : step;
		size_t used = pop3_stuff(&st, in + off, n, &out);

		assert_true(used == n || st.done);
		off += used;
	}
	pop3_stuff_finish(&st, &out);
	return str_steal(&out);
}

static const struct {
	const char *in;
	long long top;
	const char *want;
} stuff_cases[] = {
	{ "Subject: a\n\nbody\n", -1, "Subject: a\r\n\r\nbody\r\n.\r\n" },
	{ "", -1, ".\r\n" },
	{ "no newline", -1, "no newline\r\n.\r\n" },
	{ "A: b\n\n.\n..x\n.\n", -1, "A: b\r\n\r\n..\r\n...x\r\n..\r\n.\r\n" },
	{ ".leading\n", -1, "..leading\r\n.\r\n" },
	{ "crlf\r\nkept\r\n", -1, "crlf\r\nkept\r\n.\r\n" },
	{ "bare\rcr\n", -1, "bare\rcr\r\n.\r\n" },
	{ "H: 1\nH: 2\n\nl1\nl2\nl3\n", 0, "H: 1\r\nH: 2\r\n\r\n.\r\n" },
	{ "H: 1\n\nl1\nl2\nl3\n", 2, "H: 1\r\n\r\nl1\r\nl2\r\n.\r\n" },
	{ "H: 1\n\nl1\n", 5, "H: 1\r\n\r\nl1\r\n.\r\n" },
	{ "H: 1\r\n\r\n.l1\r\nl2\r\n", 1, "H: 1\r\n\r\n..l1\r\n.\r\n" },
	{ "H: 1\nH: 2\n", 0, "H: 1\r\nH: 2\r\n.\r\n" },
};

static void
test_stuff(void **state)
{
	static const size_t steps[] = { 0, 1, 2, 3, 7 };
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(stuff_cases) / sizeof(stuff_cases[0]); i++) {
		for (j = 0; j < sizeof(steps) / sizeof(steps[0]); j++) {
			char *got = convert(stuff_cases[i].in,
			    stuff_cases[i].top, steps[j]);

			assert_string_equal(got, stuff_cases[i].want);
			free(got);
		}
	}
}

/* The size a RETR sends matches the CRLF size the store reports: the
   stored bytes plus one for every bare LF. */
static void
test_stuff_size(void **state)
{
	const char *in = "A: b\n\nline\nline2\n";
	char *got = convert(in, -1, 0);

	(void)state;
	/* Four bare LFs; the final ".\r\n" is not part of the message. */
	assert_int_equal(strlen(got) - 3, strlen(in) + 4);
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmd_split),
		cmocka_unit_test(test_arg_num),
		cmocka_unit_test(test_uidl),
		cmocka_unit_test(test_stuff),
		cmocka_unit_test(test_stuff_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
