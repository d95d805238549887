/*
 * Scenario tests of the POP3 engine (src/pop3d/pop3_engine.c) over a
 * socket pair, as a client talks to it: the engine runs in a thread
 * against a small in-memory stand-in for the mail store defined here
 * (messages with LF line ends, UIDs, flags), so that what the engine
 * asks of the store (\Seen, \Deleted, expunge by UID) can be checked.
 */

#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>

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

#include "global/params.h"
#include "lib/cfg.h"
#include "lib/xalloc.h"
#include "mailstore/mailstore.h"
#include "pop3d/pop3.h"
#include "test_pop3_client.h"

/* The stand-in store: one INBOX. */
#define FAKE_MAX	8
static struct {
	struct mmsg msg[FAKE_MAX];
	const char *text[FAKE_MAX];
	uint32_t count;
	unsigned expunge_calls;
} fake;

struct mstore { int unused; };
struct mbox { int unused; };
static struct mstore the_store;
static struct mbox the_box;

static void
fake_add(const char *text)
{
	struct mmsg *m = &fake.msg[fake.count];
	size_t lf = 0, i;

	for (i = 0; text[i] != '\0'; i++)
		lf += text[i] == '\n';
	m->uid = fake.count == 0 ? 7 : fake.msg[fake.count - 1].uid + 3;
	m->psize = strlen(text);
	m->size = m->psize + lf;
	fake.text[fake.count++] = text;
}

int
mstore_open(const char *root, struct mstore **st_r, char **error_r)
{
	(void)root;
	(void)error_r;
	*st_r = &the_store;
	return 0;
}

void
mstore_close(struct mstore **st)
{
	*st = NULL;
}

int
mbox_open(struct mstore *st, const char *name, bool readonly,
    struct mbox **mb_r, char **error_r)
{
	(void)st;
	(void)readonly;
	(void)error_r;
	assert_string_equal(name, "INBOX");
	*mb_r = &the_box;
	return 0;
}

void
mbox_close(struct mbox **mb)
{
	*mb = NULL;
}

uint32_t
mbox_uidvalidity(const struct mbox *mb)
{
	(void)mb;
	return 0x5a2b3c4d;
}

uint32_t
mbox_count(const struct mbox *mb)
{
	(void)mb;
	return fake.count;
}

const struct mmsg *
mbox_msg(const struct mbox *mb, uint32_t seq)
{
	(void)mb;
	return seq >= 1 && seq <= fake.count ? &fake.msg[seq - 1] : NULL;
}

uint32_t
mbox_seq_of_uid(const struct mbox *mb, uint32_t uid)
{
	uint32_t i;

	(void)mb;
	for (i = 0; i < fake.count; i++)
		if (fake.msg[i].uid == uid)
			return i + 1;
	return 0;
}

int
mbox_sync(struct mbox *mb, const struct mbox_sync_cb *cb, char **error_r)
{
	(void)mb;
	(void)cb;
	(void)error_r;
	return 0;
}

int
mbox_msg_open(struct mbox *mb, uint32_t seq, int *fd_r, char **error_r)
{
	int fd = memfd_create("msg", 0);
	const char *t = fake.text[seq - 1];

	(void)mb;
	if (fd < 0 || write(fd, t, strlen(t)) != (ssize_t)strlen(t) ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		*error_r = xstrdup("memfd failed");
		return -1;
	}
	*fd_r = fd;
	return 0;
}

int
mbox_store(struct mbox *mb, uint32_t seq, enum mbox_flag_op op,
    unsigned flags, uint32_t keywords, char **error_r)
{
	(void)mb;
	(void)keywords;
	(void)error_r;
	assert_int_equal(op, MBOX_FLAGS_ADD);
	fake.msg[seq - 1].flags |= flags;
	return 0;
}

int
mbox_expunge(struct mbox *mb, const uint32_t *uids, size_t n_uids,
    const struct mbox_sync_cb *cb, char **error_r)
{
	uint32_t i, j = 0;
	size_t k;

	(void)mb;
	(void)cb;
	(void)error_r;
	fake.expunge_calls++;
	for (i = 0; i < fake.count; i++) {
		bool gone = false;

		for (k = 0; k < n_uids; k++)
			gone |= uids[k] == fake.msg[i].uid &&
			    (fake.msg[i].flags & MF_DELETED) != 0;
		if (!gone) {
			fake.msg[j] = fake.msg[i];
			fake.text[j++] = fake.text[i];
		}
	}
	fake.count = j;
	return 0;
}

static int
setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	fake_add("Subject: one\n\nbody 1\n");
	fake_add("Subject: two\n\n.\n.dot\nlast\n");
	return 0;
}

static void
test_transaction(void **state)
{
	struct session *t = session_start("/nonexistent", NULL);

	(void)state;
	session_expect(t, "+OK Logged in.\r\n");
	session_say(t, "STAT\r\nLIST\r\nLIST 2\r\nUIDL\r\nUIDL 1\r\n");
	session_expect(t, "+OK 2 55\r\n");
	session_expect(t, "+OK 2 messages:\r\n");
	session_expect(t, "1 24\r\n");
	session_expect(t, "2 31\r\n");
	session_expect(t, ".\r\n");
	session_expect(t, "+OK 2 31\r\n");
	session_expect(t, "+OK\r\n");
	session_expect(t, "1 000000075a2b3c4d\r\n");
	session_expect(t, "2 0000000a5a2b3c4d\r\n");
	session_expect(t, ".\r\n");
	session_expect(t, "+OK 1 000000075a2b3c4d\r\n");
	session_say(t, "RETR 2\r\n");
	session_expect(t, "+OK 31 octets\r\n");
	session_expect(t, "Subject: two\r\n");
	session_expect(t, "\r\n");
	session_expect(t, "..\r\n");
	session_expect(t, "..dot\r\n");
	session_expect(t, "last\r\n");
	session_expect(t, ".\r\n");
	session_say(t, "top 1 0\r\nDELE 1\r\nRETR 1\r\nSTAT\r\n");
	session_expect(t, "+OK\r\n");
	session_expect(t, "Subject: one\r\n");
	session_expect(t, "\r\n");
	session_expect(t, ".\r\n");
	session_expect(t, "+OK Marked to be deleted.\r\n");
	session_expect(t, "-ERR Message is deleted.\r\n");
	session_expect(t, "+OK 1 31\r\n");
	session_say(t, "RETR 3\r\nRETR x\r\nUSER bob\r\nFOO\r\nNOOP\r\nQUIT\r\n");
	session_expect(t, "-ERR There's no message 3.\r\n");
	session_expect(t, "-ERR Invalid message number: x\r\n");
	session_expect(t, "-ERR Already logged in.\r\n");
	session_expect(t, "-ERR Unknown command: FOO\r\n");
	session_expect(t, "+OK\r\n");
	session_expect(t, "+OK Logging out.\r\n");
	assert_int_equal(session_finish(t), 0);
	/* Message 1 is gone; message 2, retrieved, is \Seen. */
	assert_int_equal(fake.count, 1);
	assert_int_equal(fake.msg[0].uid, 10);
	assert_int_equal(fake.msg[0].flags, MF_SEEN);
}

/* A lost connection deletes nothing; RSET undoes DELE. */
static void
test_no_quit_no_delete(void **state)
{
	struct session *t = session_start("/nonexistent",
	    "DELE 1\r\nDELE 2\r\nRSET\r\nDELE 2\r\n");

	(void)state;
	session_expect(t, "+OK Logged in.\r\n");
	session_expect(t, "+OK Marked to be deleted.\r\n");
	session_expect(t, "+OK Marked to be deleted.\r\n");
	session_expect(t, "+OK\r\n");
	session_expect(t, "+OK Marked to be deleted.\r\n");
	shutdown(t->client, SHUT_WR);
	assert_int_equal(session_finish(t), 0);
	assert_int_equal(fake.count, 2);
	assert_int_equal(fake.expunge_calls, 0);
	assert_int_equal(fake.msg[0].flags | fake.msg[1].flags, 0);
}

/* Commands pipelined with the login come first, then the socket. */
static void
test_pipelined_input(void **state)
{
	struct session *t = session_start("/nonexistent", "STAT\r\nDELE 1\r\n");

	(void)state;
	session_say(t, "QUIT\r\n");
	session_expect(t, "+OK Logged in.\r\n");
	session_expect(t, "+OK 2 55\r\n");
	session_expect(t, "+OK Marked to be deleted.\r\n");
	session_expect(t, "+OK Logging out.\r\n");
	assert_int_equal(session_finish(t), 0);
	assert_int_equal(fake.count, 1);
}

/* An overlong line is refused without running it; too many bad
   commands end the session. */
static void
test_limits(void **state)
{
	struct session *t = session_start("/nonexistent", NULL);
	char big[3000];
	int i;

	(void)state;
	memset(big, 'x', sizeof(big));
	memcpy(big, "DELE 1 ", 7);
	big[sizeof(big) - 2] = '\r';
	big[sizeof(big) - 1] = '\n';
	session_expect(t, "+OK Logged in.\r\n");
	assert_int_equal(write(t->client, big, sizeof(big)),
	    (ssize_t)sizeof(big));
	session_expect(t, "-ERR Command line too long.\r\n");
	session_say(t, "STAT\r\n");
	session_expect(t, "+OK 2 55\r\n");
	for (i = 0; i < 18; i++) {
		session_say(t, "BAD\r\n");
		session_expect(t, "-ERR Unknown command: BAD\r\n");
	}
	session_say(t, "BAD\r\n");
	session_expect(t, "-ERR Unknown command: BAD\r\n");
	session_expect(t, "-ERR Too many bad commands.\r\n");
	assert_int_equal(session_finish(t), 0);
	assert_int_equal(fake.count, 2);
}

/* A message larger than the output limit is streamed whole, in order,
   with pipelined commands after it answered after it. */
static void
test_big_message(void **state)
{
	const size_t lines = 200000;
	char *text = xmalloc(lines * 16 + 32), *p = text, line[2048];
	struct session *t;
	size_t i, got = 0;

	(void)state;
	p += sprintf(p, "Subject: big\n\n");
	for (i = 0; i < lines; i++)
		p += sprintf(p, "%s%09zu\n", i % 7 == 0 ? "." : "x", i);
	fake_add(text);
	t = session_start("/nonexistent", NULL);
	session_expect(t, "+OK Logged in.\r\n");
	session_say(t, "RETR 3\r\nNOOP\r\n");
	session_expect(t, "+OK 2400016 octets\r\n");
	session_expect(t, "Subject: big\r\n");
	session_expect(t, "\r\n");
	for (i = 0; i < lines; i++) {
		char want[32];

		snprintf(want, sizeof(want), "%s%09zu\r\n",
		    i % 7 == 0 ? ".." : "x", i);
		assert_non_null(fgets(line, sizeof(line), t->in));
		assert_string_equal(line, want);
		got++;
	}
	assert_int_equal(got, lines);
	session_expect(t, ".\r\n");
	session_expect(t, "+OK\r\n");
	session_say(t, "QUIT\r\n");
	session_expect(t, "+OK Logging out.\r\n");
	assert_int_equal(session_finish(t), 0);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_transaction, setup),
		cmocka_unit_test_setup(test_no_quit_no_delete, setup),
		cmocka_unit_test_setup(test_pipelined_input, setup),
		cmocka_unit_test_setup(test_limits, setup),
		cmocka_unit_test_setup(test_big_message, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
