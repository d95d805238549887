/*
 * Unit tests of the local agent's parts: the Maildir writer on a
 * temporary directory, mbox quoting, appending and locking, alias value
 * parsing, mail_location expansion and the Delivered-To loop check.
 */

#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "delivery/alias.h"
#include "delivery/local_msg.h"
#include "delivery/maildir.h"
#include "delivery/mbox.h"
#include "delivery/userdb.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "testdir.h"

/* The whole content of PATH (free it). */
static char *
slurp(const char *path)
{
	struct str s = STR_INIT;
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		str_append_n(&s, buf, (size_t)n);
	close(fd);
	return s.s != NULL ? str_steal(&s) : xstrdup("");
}

/* The number of entries of DIR, without . and .. */
static int
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void
test_maildir_first_delivery(void **state)
{
	char *dir = xasprintf("%s/a/b/Maildir", testdir), *path, *error;
	char *sub, *text;
	struct stat st;
	const char *base;

	(void)state;
	assert_int_equal(maildir_deliver(dir, "host", "X-A: 1\n", 7,
	    "Subject: s\n\nbody\n", 17, &path, &error), 0);
	sub = xasprintf("%s/tmp", dir);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(count_files(sub), 0);
	free(sub);
	sub = xasprintf("%s/cur", dir);
	assert_int_equal(stat(sub, &st), 0);
	free(sub);
	base = strrchr(path, '/') + 1;
	assert_non_null(strstr(path, "/new/"));
	assert_non_null(strstr(base, ".host,S=24"));
	assert_non_null(strchr(base, 'M'));
	assert_non_null(strchr(base, 'P'));
	assert_non_null(strchr(base, 'Q'));
	text = slurp(path);
	assert_string_equal(text, "X-A: 1\nSubject: s\n\nbody\n");
	free(text);
	free(path);
	/* A second one gets a name of its own. */
	assert_int_equal(maildir_deliver(dir, "host", "", 0, "x\n", 2, NULL,
	    &error), 0);
	sub = xasprintf("%s/new", dir);
	assert_int_equal(count_files(sub), 2);
	free(sub);
	free(dir);
}

static void
test_maildir_failure(void **state)
{
	char *file = testdir_write("not-a-dir", "x"), *dir, *error = NULL;

	(void)state;
	dir = xasprintf("%s/Maildir", file);
	assert_int_equal(maildir_deliver(dir, "h", "", 0, "x\n", 2, NULL,
	    &error), -1);
	assert_non_null(error);
	free(error);
	free(dir);
	free(file);
}

static void
test_maildir_host_escape(void **state)
{
	char *s = maildir_host_escape("a/b:c");

	(void)state;
	assert_string_equal(s, "a\\057b\\072c");
	free(s);
}

static void
test_mbox_quote(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "a\n", "a\n\n" },
		{ "From x\nFrom: y\n>From z\n", ">From x\nFrom: y\n>From z\n\n" },
		{ "no newline", "no newline\n\n" },
		{ "b\nFrom ", "b\n>From \n\n" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct str out = STR_INIT;

		mbox_quote(&out, cases[i].in, strlen(cases[i].in));
		assert_string_equal(str_c(&out), cases[i].want);
		str_free(&out);
	}
}

static void
test_mbox_from_line(void **state)
{
	char *l = mbox_from_line("", 0);

	(void)state;
	assert_true(strncmp(l, "From MAILER-DAEMON ", 19) == 0);
	/* "Day Mon dd hh:mm:ss yyyy\n" */
	assert_int_equal(strlen(l), 19 + 24 + 1);
	free(l);
}

/* Options for a file of our own, without waiting on locks. */
static struct mbox_opts
opts(void)
{
	return (struct mbox_opts){ .fcntl_lock = true, .dotlock = true,
	    .lock_attempts = 1, .uid = getuid(), .gid = getgid() };
}

static void
test_mbox_append_and_limit(void **state)
{
	char *path = xasprintf("%s/mbox", testdir), *error = NULL, *text;
	struct mbox_opts o = opts();
	struct stat st;

	(void)state;
	assert_int_equal(mbox_deliver(path, &o, "From a x\n", "H: 1\n",
	    "From me\n", 8, &error), 0);
	assert_int_equal(mbox_deliver(path, &o, "From b x\n", "", "two", 3,
	    &error), 0);
	text = slurp(path);
	assert_string_equal(text, "From a x\nH: 1\n>From me\n\n"
	    "From b x\ntwo\n\n");
	free(text);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	o.size_limit = (uint64_t)st.st_size + 5;
	assert_int_equal(mbox_deliver(path, &o, NULL, "", "too long\n", 9,
	    &error), MBOX_ERR_FULL);
	free(error);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 38);
	free(path);
}

static void
test_mbox_locked_and_bad_files(void **state)
{
	char *path = xasprintf("%s/locked", testdir), *lock, *link_path;
	char *error = NULL;
	struct mbox_opts o = opts();

	(void)state;
	lock = testdir_write("locked.lock", "");
	assert_int_equal(mbox_deliver(path, &o, NULL, "", "x\n", 2, &error),
	    MBOX_ERR_TEMP);
	assert_non_null(strstr(error, "lock"));
	free(error);
	unlink(lock);
	free(lock);
	link_path = xasprintf("%s/symlink", testdir);
	assert_int_equal(symlink(path, link_path), 0);
	assert_int_equal(mbox_deliver(link_path, &o, NULL, "", "x\n", 2,
	    &error), MBOX_ERR_BAD_FILE);
	free(error);
	unlink(link_path);
	free(link_path);
	free(path);
}

static void
test_alias_parse(void **state)
{
	static const char text[] =
	    "# a comment\n"
	    "alice, <bob@example.com>\n"
	    "\"|/usr/bin/prog -a, b\", |\"x y\", /var/log/f, /m/dir/,"
	    " :include:/etc/inc, \\carol\n";
	static const struct {
		enum alias_kind kind;
		const char *value;
	} want[] = {
		{ ALIAS_ADDRESS, "alice" },
		{ ALIAS_ADDRESS, "bob@example.com" },
		{ ALIAS_COMMAND, "/usr/bin/prog -a, b" },
		{ ALIAS_COMMAND, "x y" },
		{ ALIAS_FILE, "/var/log/f" },
		{ ALIAS_FILE, "/m/dir/" },
		{ ALIAS_INCLUDE, "/etc/inc" },
		{ ALIAS_SELF, "carol" },
	};
	struct alias_list l = { 0 };
	const char *err;
	size_t i;

	(void)state;
	assert_int_equal(alias_parse(text, &l, &err), 0);
	assert_int_equal(l.n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < l.n; i++) {
		assert_int_equal(l.items[i].kind, want[i].kind);
		assert_string_equal(l.items[i].value, want[i].value);
	}
	alias_list_clear(&l);
}

static void
test_alias_parse_errors(void **state)
{
	static const char *const bad[] = {
		"\"|unterminated", "|", ":include:relative", "a b@c",
	};
	struct alias_list l = { 0 };
	const char *err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(alias_parse(bad[i], &l, &err), -1);
		assert_non_null(err);
		alias_list_clear(&l);
	}
	assert_int_equal(alias_parse("# only\n\n", &l, &err), 0);
	assert_int_equal(l.n, 0);
}

static void
test_mail_location(void **state)
{
	static const struct {
		const char *loc, *login, *want;
	} ok[] = {
		{ "maildir:~/Maildir", "alice", "/home/a/Maildir" },
		{ "maildir:/var/vmail/%d/%n", "bob@ex.org", "/var/vmail/ex.org/bob" },
		{ "maildir:/var/vmail/%d/%n", "bob", "/var/vmail/rcpt.example/bob" },
		{ "maildir:/v/%Lu:LAYOUT=fs", "Bob@Ex.ORG", "/v/bob@ex.org" },
		{ "%h/mail/%%", "x", "/home/a/mail/%" },
		{ "/plain/%u", "x", "/plain/x" },
	};
	static const char *const bad[] = {
		"mbox:~/mail", "maildir:/x/%z", "maildir:Maildir",
		"maildir:/x/%u/../y",
	};
	const char *err;
	char *path;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(mail_location_expand(ok[i].loc, ok[i].login,
		    "rcpt.example", "/home/a", &path, &err), 0);
		assert_string_equal(path, ok[i].want);
		free(path);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(mail_location_expand(bad[i], "u", "d",
		    "/h", &path, &err), -1);
	assert_int_equal(mail_location_expand("~/Maildir", "u", "d", NULL,
	    &path, &err), -1);
}

static void
test_delivered_to_loop(void **state)
{
	static const char text[] =
	    "Received: x\r\n"
	    "Delivered-To: other@example.com\r\n"
	    "DELIVERED-TO:  <Alice@Example.COM> \r\n"
	    "\r\n"
	    "Delivered-To: body@example.com\r\n";
	struct local_msg msg;
	char *prefix;

	(void)state;
	local_msg_set(&msg, text, strlen(text));
	assert_null(strchr(msg.data, '\r'));
	assert_true(local_msg_delivered_to(&msg, "alice@example.com"));
	assert_true(local_msg_delivered_to(&msg, "other@example.com"));
	assert_false(local_msg_delivered_to(&msg, "body@example.com"));
	assert_false(local_msg_delivered_to(&msg, "alice@example.co"));
	local_msg_free(&msg);
	prefix = local_msg_prefix("", "bob@example.com");
	assert_string_equal(prefix, "Return-Path: <>\n"
	    "Delivered-To: bob@example.com\n");
	free(prefix);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maildir_first_delivery),
		cmocka_unit_test(test_maildir_failure),
		cmocka_unit_test(test_maildir_host_escape),
		cmocka_unit_test(test_mbox_quote),
		cmocka_unit_test(test_mbox_from_line),
		cmocka_unit_test(test_mbox_append_and_limit),
		cmocka_unit_test(test_mbox_locked_and_bad_files),
		cmocka_unit_test(test_alias_parse),
		cmocka_unit_test(test_alias_parse_errors),
		cmocka_unit_test(test_mail_location),
		cmocka_unit_test(test_delivered_to_loop),
	};

	return cmocka_run_group_tests(tests, testdir_setup, testdir_teardown);
}
