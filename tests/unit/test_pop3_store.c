/*
 * The POP3 engine over the real mail store (src/mailstore): a Maildir
 * written as the local delivery agent writes it, then POP3 sessions on
 * it, checking the files after each: \Seen from RETR in the file name,
 * deletions only at QUIT, UIDLs that survive sessions, and a message
 * removed by another session while ours runs.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
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
#include "test_pop3_client.h"
#include "testdir.h"

static char *maildir;

static const char msg1[] = "Subject: one\n\nbody 1\n";
static const char msg2[] = "Subject: two\n\n.\nend\n";

/* Put TEXT into new/ as the local agent would. */
static void
deliver(const char *name, const char *text)
{
	char *path = xasprintf("%s/new/%s,S=%zu", maildir, name, strlen(text));
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	free(path);
}

/* How many files SUB (cur or new) holds, and how many of them end in
   SUFFIX. */
static int
count_files(const char *sub, const char *suffix, int *with_suffix)
{
	char *path = xasprintf("%s/%s", maildir, sub);
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	*with_suffix = 0;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name), sl = strlen(suffix);

		if (e->d_name[0] == '.')
			continue;
		n++;
		if (len >= sl && strcmp(e->d_name + len - sl, suffix) == 0)
			(*with_suffix)++;
	}
	closedir(d);
	free(path);
	return n;
}

static int
setup(void **state)
{
	const char *subs[] = { "", "/cur", "/new", "/tmp" };
	size_t i;

	testdir_setup(state);
	maildir = xasprintf("%s/Maildir-%d", testdir, rand());
	for (i = 0; i < 4; i++) {
		char *p = xasprintf("%s%s", maildir, subs[i]);

		assert_int_equal(mkdir(p, 0700), 0);
		free(p);
	}
	deliver("1700000000.M1P1Q1.host", msg1);
	deliver("1700000001.M2P1Q2.host", msg2);
	return 0;
}

static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", maildir);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(maildir);
	return testdir_teardown(state);
}

/* UIDL N of a new session: "+OK N uidl\r\n" */
static void
uidl(struct session *t, int n, char *buf, size_t size)
{
	char cmd[32];

	snprintf(cmd, sizeof(cmd), "UIDL %d\r\n", n);
	session_say(t, cmd);
	session_line(t, buf, size);
	assert_int_equal(strncmp(buf, "+OK ", 4), 0);
}

static void
test_sessions(void **state)
{
	char u1[128], u2[128], again[128], line[256];
	struct session *t;
	int seen;

	(void)state;
	/* RETR and DELE, then the connection is lost. */
	t = session_start(maildir, "STAT\r\n");
	session_expect(t, "+OK Logged in.\r\n");
	session_expect(t, "+OK 2 48\r\n");
	uidl(t, 1, u1, sizeof(u1));
	uidl(t, 2, u2, sizeof(u2));
	assert_string_not_equal(u1 + 6, u2 + 6);
	session_say(t, "RETR 2\r\nDELE 1\r\n");
	session_expect(t, "+OK 24 octets\r\n");
	session_expect(t, "Subject: two\r\n");
	session_expect(t, "\r\n");
	session_expect(t, "..\r\n");
	session_expect(t, "end\r\n");
	session_expect(t, ".\r\n");
	session_expect(t, "+OK Marked to be deleted.\r\n");
	shutdown(t->client, SHUT_WR);
	assert_int_equal(session_finish(t), 0);
	assert_int_equal(count_files("cur", ":2,S", &seen) +
	    count_files("new", ":2,S", &seen), 2);
	assert_int_equal(count_files("cur", ":2,S", &seen), 2);
	assert_int_equal(seen, 1);

	/* The same UIDLs; DELE and QUIT remove the file. */
	t = session_start(maildir, NULL);
	session_expect(t, "+OK Logged in.\r\n");
	uidl(t, 1, again, sizeof(again));
	assert_string_equal(again, u1);
	session_say(t, "DELE 1\r\nQUIT\r\n");
	session_expect(t, "+OK Marked to be deleted.\r\n");
	session_expect(t, "+OK Logging out.\r\n");
	assert_int_equal(session_finish(t), 0);
	assert_int_equal(count_files("cur", ":2,S", &seen), 1);
	assert_int_equal(seen, 1);

	/* Message 2 is now message 1, with its UIDL. */
	t = session_start(maildir, "STAT\r\n");
	session_expect(t, "+OK Logged in.\r\n");
	session_expect(t, "+OK 1 24\r\n");
	uidl(t, 1, again, sizeof(again));
	assert_string_equal(again + 6, u2 + 6);
	session_say(t, "QUIT\r\n");
	session_line(t, line, sizeof(line));
	assert_string_equal(line, "+OK Logging out.\r\n");
	assert_int_equal(session_finish(t), 0);
}

/* A message another session removes after our login is unavailable;
   the others still are. */
static void
test_expunged_by_another(void **state)
{
	struct session *t;
	char *cmd;

	(void)state;
	t = session_start(maildir, NULL);
	session_expect(t, "+OK Logged in.\r\n");
	session_say(t, "STAT\r\n");
	session_expect(t, "+OK 2 48\r\n");
	cmd = xasprintf("rm -f '%s'/cur/1700000000.*", maildir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	session_say(t, "RETR 1\r\nLIST 2\r\nQUIT\r\n");
	session_expect(t, "-ERR Message is deleted.\r\n");
	session_expect(t, "+OK 2 24\r\n");
	session_expect(t, "+OK Logging out.\r\n");
	assert_int_equal(session_finish(t), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sessions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_expunged_by_another,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
