/*
 * Unit tests of the IMAP command grammar (src/imapd/imap_parse.c):
 * framing with literals and their limits, argument trees, nesting and
 * sequence sets.
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
#include <event2/buffer.h>

#include "imapd/imap_parse.h"
#include "lib/str.h"

/* Feed TEXT to a fresh reader; return the result and leave the rest in
   *IN. */
static enum imap_reader_result
feed(struct imap_reader *r, struct evbuffer *in, const char *text,
    const char **error_r)
{
	evbuffer_add(in, text, strlen(text));
	return imap_reader_feed(r, in, error_r);
}

static void
test_reader_simple(void **state)
{
	struct imap_reader r;
	struct evbuffer *in = evbuffer_new();
	const char *error = NULL;

	(void)state;
	imap_reader_init(&r, 1024, 100);
	assert_int_equal(feed(&r, in, "a1 NOOP", &error), IMAP_READER_MORE);
	assert_int_equal(feed(&r, in, "\r\na2", &error), IMAP_READER_DONE);
	assert_string_equal(str_c(&r.cmd), "a1 NOOP\r\n");
	imap_reader_reset(&r);
	assert_int_equal(feed(&r, in, " LOGOUT\n", &error), IMAP_READER_DONE);
	assert_string_equal(str_c(&r.cmd), "a2 LOGOUT\r\n");
	imap_reader_free(&r);
	evbuffer_free(in);
}

static void
test_reader_literals(void **state)
{
	struct imap_reader r;
	struct evbuffer *in = evbuffer_new();
	const char *error = NULL;

	(void)state;
	imap_reader_init(&r, 1024, 100);
	/* A synchronizing literal asks for "+ OK" before its bytes. */
	assert_int_equal(feed(&r, in, "a CREATE {3}\r\n", &error),
	    IMAP_READER_CONTINUE);
	assert_int_equal(feed(&r, in, "f\r", &error), IMAP_READER_MORE);
	assert_int_equal(feed(&r, in, "o\r\n", &error), IMAP_READER_DONE);
	assert_memory_equal(r.cmd.s, "a CREATE {3}\r\nf\ro\r\n", 19);
	imap_reader_reset(&r);
	/* LITERAL+ needs no continuation. */
	assert_int_equal(feed(&r, in, "b LOGIN {1+}\r\nx {2+}\r\nyz\r\n",
	    &error), IMAP_READER_DONE);
	assert_string_equal(str_c(&r.cmd), "b LOGIN {1+}\r\nx {2+}\r\nyz\r\n");
	imap_reader_free(&r);
	evbuffer_free(in);
}

static void
test_reader_limits(void **state)
{
	struct imap_reader r;
	struct evbuffer *in = evbuffer_new();
	const char *error = NULL;
	char big[3000];

	(void)state;
	imap_reader_init(&r, 1024, 100);
	/* APPEND's literal is bounded by the message size limit and
	   refused before any byte is read. */
	assert_int_equal(feed(&r, in, "t1 APPEND INBOX {4294967295}\r\n",
	    &error), IMAP_READER_REFUSE);
	assert_true(r.toobig);
	assert_string_equal(r.tag, "t1");
	imap_reader_reset(&r);
	assert_int_equal(feed(&r, in, "t2 APPEND INBOX {101}\r\n", &error),
	    IMAP_READER_REFUSE);
	imap_reader_reset(&r);
	assert_int_equal(feed(&r, in, "t3 APPEND INBOX {100}\r\n", &error),
	    IMAP_READER_CONTINUE);
	imap_reader_reset(&r);
	evbuffer_drain(in, evbuffer_get_length(in));
	/* Other commands: bounded by the line length. */
	assert_int_equal(feed(&r, in, "t4 LOGIN {1025}\r\n", &error),
	    IMAP_READER_REFUSE);
	assert_false(r.toobig);
	imap_reader_reset(&r);
	/* Literals add up: two of 600 bytes pass the 1024 of the line. */
	assert_int_equal(feed(&r, in, "t4 LOGIN {600+}\r\n", &error),
	    IMAP_READER_MORE);
	for (int i = 0; i < 600; i++)
		evbuffer_add(in, "a", 1);
	assert_int_equal(feed(&r, in, " {600}\r\n", &error),
	    IMAP_READER_REFUSE);
	imap_reader_reset(&r);
	/* A number that overflows is refused too. */
	assert_int_equal(feed(&r, in,
	    "t5 SELECT {99999999999999999999999}\r\n", &error),
	    IMAP_READER_DONE);
	imap_reader_reset(&r);
	/* A non-synchronizing literal that is too big ends the session. */
	assert_int_equal(feed(&r, in, "t6 APPEND INBOX {200+}\r\n", &error),
	    IMAP_READER_FATAL);
	imap_reader_reset(&r);
	/* So does a line longer than the limit. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(feed(&r, in, big, &error), IMAP_READER_FATAL);
	imap_reader_free(&r);
	evbuffer_free(in);
}

static void
test_parse_args(void **state)
{
	static const char cmd[] =
	    "a7 fetch 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.10>)"
	    " \"q\\\"s\\\\\" {3}\r\na\0b NIL\r\n";
	struct imap_cmd c;
	const char *error = NULL;

	(void)state;
	assert_int_equal(imap_parse(cmd, sizeof(cmd) - 1, &c, &error), 0);
	assert_string_equal(c.tag, "a7");
	assert_string_equal(c.name, "FETCH");
	assert_int_equal(c.count, 5);
	assert_int_equal(c.args[0].type, IMAP_ARG_ATOM);
	assert_string_equal(c.args[0].str, "1:*");
	assert_int_equal(c.args[1].type, IMAP_ARG_LIST);
	assert_int_equal(c.args[1].count, 2);
	assert_string_equal(c.args[1].list[1].str,
	    "BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.10>");
	assert_int_equal(c.args[2].type, IMAP_ARG_STRING);
	assert_string_equal(c.args[2].str, "q\"s\\");
	assert_int_equal(c.args[3].type, IMAP_ARG_LITERAL);
	assert_int_equal(c.args[3].len, 3);
	assert_memory_equal(c.args[3].str, "a\0b", 3);
	assert_true(imap_arg_atom_eq(&c.args[4], "nil"));
	imap_cmd_free(&c);
}

static void
test_parse_errors(void **state)
{
	static const struct {
		const char *cmd;
		const char *tag;	/* NULL: none could be read */
	} bad[] = {
		{ "", NULL },
		{ "a1", "a1" },
		{ "a1 NOOP (", "a1" },
		{ "a1 NOOP )", "a1" },
		{ "a1 NOOP \"abc", "a1" },
		{ "a1 NOOP \"a\\bc\"", "a1" },
		{ "a1 NOOP {5}\r\nab", "a1" },
		{ "a1 NOOP x[abc", "a1" },
		{ "a1 NOOP (a)(b)", "a1" },
	};
	struct imap_cmd c;
	const char *error;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		assert_int_equal(imap_parse(bad[i].cmd, strlen(bad[i].cmd), &c,
		    &error), -1);
		assert_non_null(error);
		if (bad[i].tag == NULL)
			assert_null(c.tag);
		else
			assert_string_equal(c.tag, bad[i].tag);
		imap_cmd_free(&c);
	}
}

static void
test_parse_nesting(void **state)
{
	struct str s = STR_INIT;
	struct imap_cmd c;
	const char *error = NULL;
	int i;

	(void)state;
	str_append(&s, "a SEARCH ");
	for (i = 0; i < IMAP_MAX_NESTING; i++)
		str_append_c(&s, '(');
	str_append(&s, "ALL");
	for (i = 0; i < IMAP_MAX_NESTING; i++)
		str_append_c(&s, ')');
	assert_int_equal(imap_parse(s.s, s.len, &c, &error), 0);
	imap_cmd_free(&c);
	str_truncate(&s, 0);
	str_append(&s, "a SEARCH ");
	for (i = 0; i < 10000; i++)
		str_append_c(&s, '(');
	assert_int_equal(imap_parse(s.s, s.len, &c, &error), -1);
	assert_string_equal(error, "Too deep nesting of lists");
	imap_cmd_free(&c);
	str_free(&s);
}

static void
test_seqset(void **state)
{
	struct imap_seqset set;

	(void)state;
	assert_int_equal(imap_seqset_parse("1:4,7,9:*", &set), 0);
	assert_true(imap_seqset_has(&set, 1, 20));
	assert_true(imap_seqset_has(&set, 4, 20));
	assert_false(imap_seqset_has(&set, 5, 20));
	assert_true(imap_seqset_has(&set, 7, 20));
	assert_true(imap_seqset_has(&set, 20, 20));
	imap_seqset_free(&set);
	/* Ranges in either order; "*" past the end still names the last
	   message. */
	assert_int_equal(imap_seqset_parse("5:2,30:*", &set), 0);
	assert_true(imap_seqset_has(&set, 3, 10));
	assert_true(imap_seqset_has(&set, 10, 10));
	assert_false(imap_seqset_has(&set, 9, 10));
	imap_seqset_free(&set);
	static const char *const bad[] = { "", "0", "1:", ":2", "1,,2",
	    "1:2:3", "a", "4294967296", "$", "1 2", "-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(imap_seqset_parse(bad[i], &set), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_simple),
		cmocka_unit_test(test_reader_literals),
		cmocka_unit_test(test_reader_limits),
		cmocka_unit_test(test_parse_args),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_nesting),
		cmocka_unit_test(test_seqset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
