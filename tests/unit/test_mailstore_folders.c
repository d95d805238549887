/*
 * Unit tests of the mail store's folder names and folders
 * (src/mailstore): the name rules (modified UTF-7, no way out of the
 * root), CREATE/DELETE/RENAME, LIST attributes, subscriptions and the
 * special-use mailboxes made at first login.
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/xalloc.h"
#include "mailstore/mailstore.h"
#include "mstore_fixture.h"

#define root mstore_test_root

static void
test_name_valid(void **state)
{
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
		{ "INBOX", true },
		{ "Sent", true },
		{ "Lists.dev", true },
		{ "a b", true },
		{ "Entw&APw-rfe", true },		/* Entwürfe */
		{ "&ZeVnLIqe-", true },			/* 日本語 */
		{ "&2D3eAA-", true },			/* U+1F600, a pair */
		{ "Tom &- Jerry", true },
		{ "", false },
		{ ".", false },
		{ "..", false },
		{ "a..b", false },
		{ ".hidden", false },
		{ "trailing.", false },
		{ "../etc", false },
		{ "a/b", false },
		{ "/etc/passwd", false },
		{ "a\\b", false },
		{ "~root", false },
		{ "a*", false },
		{ "50%", false },
		{ "caf\xc3\xa9", false },		/* raw UTF-8 */
		{ "tab\there", false },
		{ "&", false },				/* unterminated */
		{ "&AGE", false },			/* no '-' */
		{ "&AGE-", false },			/* 'a' shifted */
		{ "&APw", false },
		{ "&APx-", false },			/* bad padding bits */
		{ "&2D0-", false },			/* lone surrogate */
		{ "&3gA-", false },			/* lone low surrogate */
		{ "&APw-&APw-", false },		/* two runs, not one */
		{ "&A*w-", false },
	};
	const char *why;
	char *big;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = mstore_name_valid(cases[i].name, &why);
		if (ok != cases[i].ok)
			fail_msg("\"%s\": got %d want %d", cases[i].name, ok,
			    cases[i].ok);
		if (!ok)
			assert_non_null(why);
	}
	big = xmalloc(300);
	memset(big, 'x', 299);
	big[299] = '\0';
	assert_false(mstore_name_valid(big, &why));
	big[255] = '\0';
	assert_true(mstore_name_valid(big, &why));
	free(big);
	assert_false(mstore_name_valid("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q",
	    &why));
}

/* The LIST result, as "name attrs" lines. */
struct listing {
	char names[32][64];
	unsigned attrs[32];
	unsigned n;
};

static void
list_cb(const char *name, unsigned attrs, void *ctx)
{
	struct listing *l = ctx;

	assert_true(l->n < 32);
	snprintf(l->names[l->n], sizeof(l->names[0]), "%s", name);
	l->attrs[l->n++] = attrs;
}

/* The attributes of NAME in a fresh listing, or -1 when not listed. */
static int
attrs_of(struct mstore *st, const char *name)
{
	struct listing l = { .n = 0 };
	char *error = NULL;

	if (mstore_list(st, list_cb, &l, &error) < 0)
		fail_msg("mstore_list: %s", error);
	assert_string_equal(l.names[0], "INBOX");
	for (unsigned i = 0; i < l.n; i++)
		if (strcmp(l.names[i], name) == 0)
			return (int)l.attrs[i];
	return -1;
}

static void
test_create_delete(void **state)
{
	struct mstore *st = mstore_test_open();
	char *error = NULL, *path;
	struct stat sb;

	(void)state;
	assert_int_equal(mstore_create(st, "Work", &error), 0);
	path = xasprintf("%s/.Work/maildirfolder", root);
	assert_int_equal(stat(path, &sb), 0);
	free(path);
	path = xasprintf("%s/.Work/cur", root);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	free(path);
	assert_int_equal(mstore_create(st, "Work", &error), -1);
	assert_int_equal(errno, EEXIST);
	free(error);
	assert_int_equal(mstore_create(st, "inbox", &error), -1);
	assert_int_equal(errno, EEXIST);
	free(error);
	assert_int_equal(mstore_create(st, "../x", &error), -1);
	assert_int_equal(errno, EINVAL);
	free(error);
	assert_int_equal(mstore_create(st, "Work.2024.", &error), 0);
	assert_int_equal(attrs_of(st, "Work"), MA_HASCHILDREN);
	assert_int_equal(attrs_of(st, "Work.2024"), MA_HASNOCHILDREN);

	/* Deleting a parent leaves it as \Noselect. */
	assert_int_equal(mstore_delete(st, "Work", &error), 0);
	assert_int_equal(attrs_of(st, "Work"), MA_NOSELECT | MA_HASCHILDREN);
	assert_int_equal(mstore_delete(st, "Work", &error), -1);
	free(error);
	assert_int_equal(mstore_delete(st, "Work.2024", &error), 0);
	assert_int_equal(attrs_of(st, "Work.2024"), -1);
	assert_int_equal(mstore_delete(st, "Nope", &error), -1);
	assert_int_equal(errno, ENOENT);
	free(error);
	assert_int_equal(mstore_delete(st, "INBOX", &error), -1);
	free(error);
	/* A level that exists only through a child. */
	assert_int_equal(mstore_create(st, "A.B.C", &error), 0);
	assert_int_equal(attrs_of(st, "A"), MA_NOSELECT | MA_HASCHILDREN);
	assert_int_equal(attrs_of(st, "A.B"), MA_NOSELECT | MA_HASCHILDREN);
	assert_int_equal(attrs_of(st, "INBOX"), MA_HASNOCHILDREN);
	mstore_close(&st);
}

static void
test_rename(void **state)
{
	struct mstore *st = mstore_test_open();
	struct mstore_status s;
	char *error = NULL;
	uint32_t uv, uid;

	(void)state;
	assert_int_equal(mstore_create(st, "Old", &error), 0);
	assert_int_equal(mstore_create(st, "Old.Kid", &error), 0);
	assert_int_equal(mstore_create(st, "Other", &error), 0);
	assert_int_equal(mstore_append(st, "Old.Kid", "x\n", 2, 0, NULL, 0,
	    &uv, &uid, &error), 0);
	assert_int_equal(mstore_rename(st, "Old", "Other", &error), -1);
	assert_int_equal(errno, EEXIST);
	free(error);
	assert_int_equal(mstore_rename(st, "Old", "Old.Kid.x", &error), -1);
	free(error);
	assert_int_equal(mstore_rename(st, "Gone", "New", &error), -1);
	assert_int_equal(errno, ENOENT);
	free(error);
	assert_int_equal(mstore_rename(st, "Old", "New", &error), 0);
	assert_int_equal(attrs_of(st, "Old"), -1);
	assert_int_equal(attrs_of(st, "New"), MA_HASCHILDREN);
	assert_int_equal(mstore_status(st, "New.Kid", &s, &error), 0);
	assert_int_equal(s.messages, 1);

	/* INBOX: its mail moves, INBOX stays, empty. */
	assert_int_equal(mstore_append(st, "INBOX", "a\n", 2, 0, NULL, 0,
	    &uv, &uid, &error), 0);
	assert_int_equal(mstore_append(st, "INBOX", "b\n", 2, 0, NULL, 0,
	    &uv, &uid, &error), 0);
	assert_int_equal(mstore_rename(st, "INBOX", "Saved", &error), 0);
	assert_int_equal(mstore_status(st, "INBOX", &s, &error), 0);
	assert_int_equal(s.messages, 0);
	assert_int_equal(mstore_status(st, "Saved", &s, &error), 0);
	assert_int_equal(s.messages, 2);
	assert_int_equal(mstore_status(st, "Nope", &s, &error), -1);
	assert_int_equal(errno, ENOENT);
	free(error);
	mstore_close(&st);
}

static void
test_subscriptions(void **state)
{
	struct mstore *st = mstore_test_open();
	char *error = NULL;

	(void)state;
	assert_int_equal(mstore_create(st, "Lists", &error), 0);
	assert_int_equal(mstore_subscribe(st, "Lists", true, &error), 0);
	assert_int_equal(mstore_subscribe(st, "Lists", true, &error), 0);
	assert_int_equal(mstore_subscribe(st, "Ghost", true, &error), 0);
	assert_int_equal(mstore_subscribe(st, "inbox", true, &error), 0);
	assert_int_equal(mstore_subscribe(st, "a/b", true, &error), -1);
	assert_int_equal(errno, EINVAL);
	free(error);
	assert_int_equal(attrs_of(st, "Lists"), MA_HASNOCHILDREN |
	    MA_SUBSCRIBED);
	assert_int_equal(attrs_of(st, "INBOX"), MA_HASNOCHILDREN |
	    MA_SUBSCRIBED);
	assert_true(attrs_of(st, "Ghost") & MA_NONEXISTENT);
	assert_int_equal(mstore_subscribe(st, "Lists", false, &error), 0);
	assert_int_equal(attrs_of(st, "Lists"), MA_HASNOCHILDREN);
	/* Kept on disk across a restart. */
	mstore_close(&st);
	st = mstore_test_open();
	assert_true(attrs_of(st, "Ghost") & MA_SUBSCRIBED);
	mstore_close(&st);
}

static void
test_auto_mailboxes(void **state)
{
	struct mstore *st = mstore_test_open();
	char *names[] = { "Drafts", "Sent", "Trash", "Junk", "Archive",
	    "Notes", NULL };
	char *error = NULL;

	(void)state;
	assert_int_equal(mstore_create(st, "Sent", &error), 0);
	assert_int_equal(mstore_auto_mailboxes(st, names, &error), 0);
	assert_int_equal(mstore_auto_mailboxes(st, names, &error), 0);
	assert_int_equal(attrs_of(st, "Drafts"), MA_HASNOCHILDREN |
	    MA_SUBSCRIBED | MA_DRAFTS);
	assert_int_equal(attrs_of(st, "Trash"), MA_HASNOCHILDREN |
	    MA_SUBSCRIBED | MA_TRASH);
	assert_int_equal(attrs_of(st, "Junk"), MA_HASNOCHILDREN |
	    MA_SUBSCRIBED | MA_JUNK);
	assert_int_equal(attrs_of(st, "Archive"), MA_HASNOCHILDREN |
	    MA_SUBSCRIBED | MA_ARCHIVE);
	/* Existing already: special use, not subscribed behind the user. */
	assert_int_equal(attrs_of(st, "Sent"), MA_HASNOCHILDREN | MA_SENT);
	assert_int_equal(attrs_of(st, "Notes"), MA_HASNOCHILDREN |
	    MA_SUBSCRIBED);
	mstore_close(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_valid),
		MSTORE_TEST(test_create_delete),
		MSTORE_TEST(test_rename),
		MSTORE_TEST(test_subscriptions),
		MSTORE_TEST(test_auto_mailboxes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
