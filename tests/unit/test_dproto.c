/*
 * Unit tests of the delivery protocol's lines (src/global/dproto.c): a
 * request and a reply written and read back, with values that hold the
 * separators, and the malformed lines a reader must refuse.
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

#include "global/dproto.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* Feed the lines of TEXT to FEED until it fails; return its last result. */
static int
feed_lines(const char *text, int (*feed)(void *, char *, const char **),
    void *obj, const char **error_r)
{
	char *copy = xstrdup(text), *line = copy, *nl;
	int ret = 0;

	while ((nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		ret = feed(obj, line, error_r);
		if (ret < 0)
			break;
		line = nl + 1;
	}
	free(copy);
	return ret;
}

static int
feed_req(void *obj, char *line, const char **error_r)
{
	return dproto_request_line(obj, line, error_r);
}

static int
feed_reply(void *obj, char *line, const char **error_r)
{
	return dproto_reply_line(obj, line, error_r);
}

static void
test_request_round_trip(void **state)
{
	struct dproto_rcpt rcpts[2] = {
		{ 0, "bob@example.com", "rfc822;Bob\t@Example.COM", "" },
		{ 7, "\"c\\nd\"@example.com", "", "SUCCESS,FAILURE" },
	};
	char *attrs[] = { "protocol=ESMTP", "helo_name=a\nb", NULL };
	struct dproto_request req = {
		.queue_id = "18A3F0C2B1D4E5F601",
		.path = "/q/active/18A3F0C2B1D4E5F601",
		.offset = 233, .length = 18446744073709551615ULL,
		.transport = "virtual", .nexthop = "", .sender = "",
		.attrs = attrs, .n_attrs = 2, .rcpts = rcpts, .n_rcpts = 2,
	}, got = { 0 };
	struct str out = STR_INIT;
	const char *error = NULL;

	(void)state;
	dproto_request_write(&out, &req);
	assert_null(strchr(str_c(&out), '\r'));
	assert_int_equal(feed_lines(str_c(&out), feed_req, &got, &error), 1);
	assert_true(got.done);
	assert_string_equal(got.queue_id, req.queue_id);
	assert_string_equal(got.path, req.path);
	assert_true(got.offset == 233);
	assert_true(got.length == 18446744073709551615ULL);
	assert_string_equal(got.transport, "virtual");
	assert_string_equal(got.sender, "");
	assert_int_equal(got.n_attrs, 2);
	assert_string_equal(dproto_request_attr(&got, "helo_name"), "a\nb");
	assert_null(dproto_request_attr(&got, "helo"));
	assert_int_equal(got.n_rcpts, 2);
	assert_int_equal(got.rcpts[1].index, 7);
	assert_string_equal(got.rcpts[0].orcpt, "rfc822;Bob\t@Example.COM");
	assert_string_equal(got.rcpts[1].final, "\"c\\nd\"@example.com");
	assert_string_equal(got.rcpts[1].notify, "SUCCESS,FAILURE");
	dproto_request_clear(&got);
	str_free(&out);
}

static void
test_request_refused(void **state)
{
	static const char *const bad[] = {
		"R\t0\ta@b\t\t\n.\n",			/* no D first */
		"D\tID\t/p\t1\t2\tlocal\t\t\n.\n",	/* no recipient */
		"D\tID\trelative\t1\t2\tlocal\t\t\nR\t0\ta@b\t\t\n.\n",
		"D\tID\t/p\t-1\t2\tlocal\t\t\nR\t0\ta@b\t\t\n.\n",
		"D\tID\t/p\t1\t2\tlocal\t\t\nR\t0\ta@b\t\t\nR\t0\tc@d\t\t\n",
		"D\tID\t/p\t1\t2\tlocal\t\t\nA\tnoequals\n",
		"D\tID\t/p\t1\t2\tlocal\t\t\nX\t1\n",
		"D\tID\t/p\t1\t2\tlocal\t\t\nR\t4294967296\ta@b\t\t\n",
		"D\tID\t/p\t1\t2\tlocal\t\t\nR\t0\ta@b\t\t\n.\nR\t1\tx\t\t\n",
	};
	struct dproto_request got;
	const char *error;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&got, 0, sizeof(got));
		error = NULL;
		assert_int_equal(feed_lines(bad[i], feed_req, &got, &error),
		    -1);
		assert_non_null(error);
		dproto_request_clear(&got);
	}
}

static void
test_reply_round_trip(void **state)
{
	struct dproto_reply got = { 0 };
	const struct dproto_status *st;
	struct str out = STR_INIT;
	const char *error = NULL;

	(void)state;
	dproto_forward_write(&out, 3, "x@example.org");
	dproto_status_write(&out, 1, 5, "5.1.1", "virtual",
	    "unknown user:\t\"carol\"");
	dproto_forward_write(&out, 3, "y@example.org");
	dproto_status_write(&out, 3, 2, "2.0.0", "local", "forwarded");
	dproto_reply_end(&out);
	assert_int_equal(feed_lines(str_c(&out), feed_reply, &got, &error),
	    1);
	assert_int_equal(got.n_st, 2);
	st = dproto_reply_find(&got, 1);
	assert_non_null(st);
	assert_int_equal(st->class, 5);
	assert_string_equal(st->text, "unknown user:\t\"carol\"");
	assert_null(st->forward);
	st = dproto_reply_find(&got, 3);
	assert_int_equal(st->n_forward, 2);
	assert_string_equal(st->forward[1], "y@example.org");
	assert_null(st->forward[2]);
	assert_null(dproto_reply_find(&got, 0));
	dproto_reply_clear(&got);
	str_free(&out);
}

static void
test_reply_refused(void **state)
{
	static const char *const bad[] = {
		"S\t1\t3\t3.0.0\tr\tt\n",		/* class 3 */
		"S\t1\t2\t2.0.0\tr\n",			/* field missing */
		"S\t1\t2\t2.0.0\tr\tt\nS\t1\t4\t4.0.0\tr\tt\n",
		"S\t1\t2\t2.0.0\tr\tt\nF\t1\ta@b\n",	/* F after its S */
		"F\t2\ta@b\n.\n",			/* F without S */
		"Q\n",
	};
	struct dproto_reply got;
	const char *error;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&got, 0, sizeof(got));
		error = NULL;
		assert_int_equal(feed_lines(bad[i], feed_reply, &got, &error),
		    -1);
		assert_non_null(error);
		dproto_reply_clear(&got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_request_refused),
		cmocka_unit_test(test_reply_round_trip),
		cmocka_unit_test(test_reply_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
