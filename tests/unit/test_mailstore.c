/*
 * Unit tests of the mail store's folders at work (src/mailstore): mail
 * delivered into new/ as the local agent writes it, UIDs that survive a
 * restart, a lost index, two sessions on one folder, two processes
 * assigning UIDs at once, APPEND/COPY/STORE/EXPUNGE, keywords, the
 * inotify watch and a 10,000-message folder.
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/xalloc.h"
#include "mailstore/mailstore.h"
#include "mstore_fixture.h"

#define root mstore_test_root
static unsigned deliveries;

/* Write TEXT into DIR/new/ as the local delivery agent names it. */
static void
deliver_to(const char *dir, const char *text)
{
	struct timeval tv;
	char *path;
	FILE *fp;

	gettimeofday(&tv, NULL);
	path = xasprintf("%s/new/%lld.M%ldP%ldQ%u.testhost,S=%zu", dir,
	    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
	    ++deliveries, strlen(text));
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	free(path);
}

static void
deliver(const char *text)
{
	deliver_to(root, text);
}

static struct mbox *
open_box(struct mstore *st, const char *name, bool readonly)
{
	struct mbox *mb;
	char *error = NULL;

	if (mbox_open(st, name, readonly, &mb, &error) < 0)
		fail_msg("mbox_open %s: %s", name, error);
	return mb;
}

/* Count the files in ROOT/SUB. */
static unsigned
count_files(const char *dir, const char *sub)
{
	char *path = xasprintf("%s/%s", dir, sub);
	DIR *d = opendir(path);
	struct dirent *de;
	unsigned n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	free(path);
	return n;
}

/* What a session's sync reported. */
struct events {
	uint32_t expunged[64];
	unsigned n_expunged;
	uint32_t flagged[64];
	unsigned n_flagged;
	uint32_t exists;
};

static void
ev_expunge(void *ctx, uint32_t seq)
{
	struct events *ev = ctx;

	ev->expunged[ev->n_expunged++] = seq;
}

static void
ev_flags(void *ctx, uint32_t seq)
{
	struct events *ev = ctx;

	ev->flagged[ev->n_flagged++] = seq;
}

static void
ev_exists(void *ctx, uint32_t count)
{
	((struct events *)ctx)->exists = count;
}

static void
sync_events(struct mbox *mb, struct events *ev)
{
	struct mbox_sync_cb cb = { ev_expunge, ev_flags, ev_exists, ev };
	char *error = NULL;

	memset(ev, 0, sizeof(*ev));
	if (mbox_sync(mb, &cb, &error) < 0)
		fail_msg("mbox_sync: %s", error);
}

static void
test_deliver_and_sync(void **state)
{
	struct mstore *st = mstore_test_open();
	struct mbox *mb;
	const struct mmsg *m;

	(void)state;
	deliver("Subject: one\n\nbody\n");
	deliver("Subject: two\n\nbody\n");
	deliver("Subject: three\n\nbody\n");
	mb = open_box(st, "inbox", false);
	assert_int_equal(mbox_count(mb), 3);
	assert_int_equal(mbox_recent(mb), 3);
	assert_int_equal(mbox_uidnext(mb), 4);
	assert_int_equal(mbox_first_unseen(mb), 1);
	assert_true(mbox_uidvalidity(mb) > 0);
	for (uint32_t i = 1; i <= 3; i++) {
		m = mbox_msg(mb, i);
		assert_int_equal(m->uid, i);
		assert_true(m->flags & MF_RECENT);
	}
	m = mbox_msg(mb, 2);
	assert_int_equal(m->psize, strlen("Subject: two\n\nbody\n"));
	assert_int_equal(m->size, m->psize + 3);	/* three CRLFs */
	assert_null(mbox_msg(mb, 4));
	assert_int_equal(mbox_seq_of_uid(mb, 3), 3);
	assert_int_equal(mbox_seq_of_uid(mb, 9), 0);
	/* Taken from new/ into cur/. */
	assert_int_equal(count_files(root, "new"), 0);
	assert_int_equal(count_files(root, "cur"), 3);
	/* Junk that is no Maildir file is ignored. */
	char *junk = xasprintf("%s/cur/.hidden", root);
	close(open(junk, O_CREAT | O_WRONLY, 0600));
	free(junk);
	mbox_close(&mb);
	mb = open_box(st, "INBOX", false);
	assert_int_equal(mbox_count(mb), 3);
	assert_int_equal(mbox_recent(mb), 0);	/* taken by the first */
	mbox_close(&mb);
	mstore_close(&st);
}

static void
test_restart_keeps_uids(void **state)
{
	struct mstore *st = mstore_test_open();
	struct mbox *mb;
	uint32_t uv;

	(void)state;
	deliver("a\n");
	deliver("b\n");
	mb = open_box(st, "INBOX", false);
	uv = mbox_uidvalidity(mb);
	mbox_close(&mb);
	mstore_close(&st);

	deliver("c\n");
	st = mstore_test_open();
	mb = open_box(st, "INBOX", false);
	assert_int_equal(mbox_uidvalidity(mb), uv);
	assert_int_equal(mbox_count(mb), 3);
	assert_int_equal(mbox_msg(mb, 3)->uid, 3);
	assert_int_equal(mbox_recent(mb), 1);
	assert_true(mbox_msg(mb, 3)->flags & MF_RECENT);
	mbox_close(&mb);

	/* A line cut by a crash while it was appended is not there. */
	char *path = xasprintf("%s/dirmail-uidlist", root);
	FILE *fp = fopen(path, "a");
	fputs("77 1 1 1 cut", fp);
	fclose(fp);
	deliver("d\n");
	mb = open_box(st, "INBOX", false);
	assert_int_equal(mbox_uidvalidity(mb), uv);
	assert_int_equal(mbox_count(mb), 4);
	assert_int_equal(mbox_msg(mb, 4)->uid, 4);
	mbox_close(&mb);
	fp = fopen(path, "r");
	char line[256];
	while (fgets(line, sizeof(line), fp) != NULL)
		assert_non_null(strchr(line, '\n'));
	fclose(fp);
	free(path);
	mstore_close(&st);
	/* And a new process sees the same. */
	st = mstore_test_open();
	mb = open_box(st, "INBOX", false);
	assert_int_equal(mbox_uidvalidity(mb), uv);
	assert_int_equal(mbox_msg(mb, 4)->uid, 4);
	assert_int_equal(mbox_uidnext(mb), 5);
	mbox_close(&mb);
	mstore_close(&st);
}

static void
test_lost_index(void **state)
{
	struct mstore *st = mstore_test_open();
	struct mbox *mb;
	char *path = xasprintf("%s/dirmail-uidlist", root), *error = NULL;
	uint32_t uv1, uv2;
	FILE *fp;

	(void)state;
	deliver("a\n");
	deliver("b\n");
	mb = open_box(st, "INBOX", false);
	uv1 = mbox_uidvalidity(mb);
	mbox_close(&mb);
	assert_int_equal(unlink(path), 0);
	mb = open_box(st, "INBOX", false);
	uv2 = mbox_uidvalidity(mb);
	assert_int_not_equal(uv1, uv2);
	assert_int_equal(mbox_count(mb), 2);
	assert_int_equal(mbox_msg(mb, 2)->uid, 2);
	/* A session holding the old view is told, not lied to. */
	fp = fopen(path, "w");
	fputs("dirmail-uidlist 1 garbage\n", fp);
	fclose(fp);
	deliver("c\n");
	assert_int_equal(mbox_sync(mb, NULL, &error), -1);
	assert_int_equal(errno, ESTALE);
	free(error);
	mbox_close(&mb);
	mb = open_box(st, "INBOX", false);
	assert_int_not_equal(mbox_uidvalidity(mb), uv2);
	assert_int_equal(mbox_count(mb), 3);
	mbox_close(&mb);
	free(path);
	mstore_close(&st);
}

static void
test_two_sessions(void **state)
{
	struct mstore *st = mstore_test_open();
	struct mbox *a, *b;
	struct events ev;
	char *error = NULL;

	(void)state;
	for (int i = 0; i < 5; i++)
		deliver("Subject: x\n\nhello\n");
	a = open_box(st, "INBOX", false);
	b = open_box(st, "INBOX", false);
	assert_int_equal(mbox_count(b), 5);
	assert_int_equal(mbox_recent(b), 0);

	/* Flags changed by A reach B. */
	assert_int_equal(mbox_store(a, 2, MBOX_FLAGS_ADD, MF_SEEN |
	    MF_FLAGGED, 0, &error), 0);
	sync_events(b, &ev);
	assert_int_equal(ev.n_flagged, 1);
	assert_int_equal(ev.flagged[0], 2);
	assert_int_equal(mbox_msg(b, 2)->flags, MF_SEEN | MF_FLAGGED);
	/* A's own sync does not report its own change again. */
	sync_events(a, &ev);
	assert_int_equal(ev.n_flagged, 0);

	/* Expunges by A: B hears them in decreasing order. */
	for (uint32_t s = 2; s <= 4; s += 2)
		assert_int_equal(mbox_store(a, s, MBOX_FLAGS_ADD, MF_DELETED,
		    0, &error), 0);
	sync_events(b, &ev);
	assert_int_equal(ev.n_flagged, 2);
	assert_int_equal(mbox_expunge(a, NULL, 0, NULL, &error), 0);
	assert_int_equal(mbox_count(a), 3);
	sync_events(b, &ev);
	assert_int_equal(ev.n_expunged, 2);
	assert_int_equal(ev.expunged[0], 4);
	assert_int_equal(ev.expunged[1], 2);
	assert_int_equal(mbox_count(b), 3);
	assert_int_equal(mbox_msg(b, 2)->uid, 3);

	/* New mail: EXISTS in both. */
	deliver("new\n");
	sync_events(b, &ev);
	assert_int_equal(ev.exists, 4);
	assert_int_equal(mbox_msg(b, 4)->uid, 6);
	assert_true(mbox_msg(b, 4)->flags & MF_RECENT);
	sync_events(a, &ev);
	assert_int_equal(ev.exists, 4);
	assert_false(mbox_msg(a, 4)->flags & MF_RECENT);

	/* A file removed behind both sessions' backs is an expunge. */
	int fd;
	assert_int_equal(mbox_msg_open(a, 1, &fd, &error), 0);
	close(fd);
	char *cur = xasprintf("%s/cur", root);
	DIR *d = opendir(cur);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, "Q") != NULL && strstr(de->d_name,
		    ":2,") != NULL && strchr(strstr(de->d_name, ":2,"), 'S') ==
		    NULL) {
			char *p = xasprintf("%s/%s", cur, de->d_name);
			unlink(p);
			free(p);
			break;
		}
	}
	closedir(d);
	free(cur);
	sync_events(a, &ev);
	assert_int_equal(ev.n_expunged, 1);
	assert_int_equal(mbox_count(a), 3);
	mbox_close(&a);
	mbox_close(&b);
	mstore_close(&st);
}

static void
test_readonly(void **state)
{
	struct mstore *st = mstore_test_open();
	struct mbox *mb;
	char *error = NULL;
	struct mstore_status status;

	(void)state;
	deliver("a\n");
	deliver("b\n");
	mb = open_box(st, "INBOX", true);
	assert_true(mbox_readonly(mb));
	assert_int_equal(mbox_count(mb), 2);
	assert_int_equal(mbox_recent(mb), 0);
	assert_int_equal(count_files(root, "new"), 2);
	assert_int_equal(mbox_store(mb, 1, MBOX_FLAGS_ADD, MF_SEEN, 0,
	    &error), -1);
	assert_int_equal(errno, EROFS);
	free(error);
	assert_int_equal(mstore_status(st, "INBOX", &status, &error), 0);
	assert_int_equal(status.messages, 2);
	assert_int_equal(status.recent, 2);
	assert_int_equal(status.unseen, 2);
	assert_int_equal(status.uidnext, 3);
	assert_int_equal(status.uidvalidity, mbox_uidvalidity(mb));
	mbox_close(&mb);
	/* The UIDs given while read-only hold once taken into cur/. */
	mb = open_box(st, "INBOX", false);
	assert_int_equal(mbox_msg(mb, 2)->uid, 2);
	assert_int_equal(mbox_recent(mb), 2);
	mbox_close(&mb);
	mstore_close(&st);
}

/* Deliver or append N messages from a child process. */
static void
child_work(int n, bool append)
{
	struct mstore *st = mstore_test_open();
	struct mbox *mb;
	char *error = NULL;
	uint32_t uv, uid;

	for (int i = 0; i < n; i++) {
		if (append) {
			if (mstore_append(st, "INBOX", "x\r\n", 3, 0, NULL, 0,
			    &uv, &uid, &error) < 0)
				_exit(1);
			continue;
		}
		deliver("y\n");
		if (mbox_open(st, "INBOX", false, &mb, &error) < 0)
			_exit(2);
		mbox_close(&mb);
	}
	mstore_close(&st);
	_exit(0);
}

static void
test_concurrent_uids(void **state)
{
	struct mstore *st = mstore_test_open();
	struct mbox *mb;
	pid_t pids[4];
	int status;

	(void)state;
	/* Two deliver and sync (racing to move new/ to cur/), two append. */
	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			child_work(30, i % 2 != 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	mb = open_box(st, "INBOX", false);
	assert_int_equal(mbox_count(mb), 120);
	/* Every message one UID, no UID twice: strictly increasing. */
	for (uint32_t i = 2; i <= 120; i++)
		assert_true(mbox_msg(mb, i)->uid > mbox_msg(mb, i - 1)->uid);
	assert_int_equal(mbox_uidnext(mb), 121);
	mbox_close(&mb);
	mstore_close(&st);
}

static void
test_vanished(void **state)
{
	struct mstore *st = mstore_test_open();
	struct mbox *mb;
	struct events ev;
	char *error = NULL, *path;
	FILE *fp;
	int fd;

	(void)state;
	/* A message of another program, with a flag letter we do not know. */
	path = xasprintf("%s/cur/1700000000.other:2,PS", root);
	fp = fopen(path, "w");
	fputs("x\n", fp);
	fclose(fp);
	deliver("gone soon\n");
	mb = open_box(st, "INBOX", false);
	assert_int_equal(mbox_count(mb), 2);
	assert_int_equal(mbox_msg(mb, 1)->flags, MF_SEEN | MF_RECENT);
	assert_int_equal(mbox_msg(mb, 1)->size, 3);
	assert_int_equal(mbox_store(mb, 1, MBOX_FLAGS_ADD, MF_FLAGGED, 0,
	    &error), 0);
	free(path);
	path = xasprintf("%s/cur/1700000000.other:2,FPS", root);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(unlink(path), 0);
	free(path);
	/* Gone behind the session's back: a clear error, then EXPUNGE. */
	assert_int_equal(mbox_msg_open(mb, 1, &fd, &error), -1);
	assert_int_equal(errno, ENOENT);
	free(error);
	assert_int_equal(mbox_store(mb, 1, MBOX_FLAGS_ADD, MF_SEEN, 0,
	    &error), 0);
	assert_int_equal(mbox_msg_open(mb, 3, &fd, &error), -1);
	free(error);
	sync_events(mb, &ev);
	assert_int_equal(ev.n_expunged, 1);
	assert_int_equal(ev.expunged[0], 1);
	assert_int_equal(mbox_count(mb), 1);
	mbox_close(&mb);
	mstore_close(&st);
}

static void
test_append_store_copy(void **state)
{
	struct mstore *st = mstore_test_open();
	struct mbox *mb, *arch;
	char *error = NULL, *kws[] = { "$Forwarded", "Work", NULL };
	const char *msg = "Subject: hi\r\n\r\nline\r\n";
	uint32_t uv, uid, uv2, uid2;
	const struct mmsg *m;
	char buf[64];
	ssize_t n;
	int fd;

	(void)state;
	assert_int_equal(mstore_create(st, "Archive", &error), 0);
	assert_int_equal(mstore_append(st, "INBOX", msg, strlen(msg),
	    MF_SEEN | MF_FLAGGED, kws, 1000000000, &uv, &uid, &error), 0);
	assert_int_equal(uid, 1);
	assert_int_equal(mstore_append(st, "Nope", msg, strlen(msg), 0, NULL,
	    0, &uv, &uid, &error), -1);
	assert_int_equal(errno, ENOENT);
	free(error);
	mb = open_box(st, "INBOX", false);
	assert_int_equal(mbox_uidvalidity(mb), uv);
	m = mbox_msg(mb, 1);
	assert_int_equal(m->uid, 1);
	assert_int_equal(m->flags, MF_SEEN | MF_FLAGGED | MF_RECENT);
	assert_int_equal(m->keywords, 3);
	assert_string_equal(mbox_keyword_name(mb, 0), "$Forwarded");
	assert_string_equal(mbox_keyword_name(mb, 1), "Work");
	assert_int_equal(m->psize, strlen(msg) - 3);	/* stored with LF */
	assert_int_equal(m->size, strlen(msg));
	assert_int_equal(m->internaldate, 1000000000);
	assert_int_equal(mbox_msg_open(mb, 1, &fd, &error), 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(n, (ssize_t)strlen(msg) - 3);
	assert_memory_equal(buf, "Subject: hi\n\nline\n", (size_t)n);

	/* STORE renames with the info letters in order. */
	assert_int_equal(mbox_store(mb, 1, MBOX_FLAGS_REMOVE, MF_FLAGGED, 1,
	    &error), 0);
	assert_int_equal(mbox_store(mb, 1, MBOX_FLAGS_ADD, MF_ANSWERED |
	    MF_DRAFT, 0, &error), 0);
	assert_int_equal(mbox_msg(mb, 1)->flags, MF_SEEN | MF_ANSWERED |
	    MF_DRAFT | MF_RECENT);
	assert_int_equal(mbox_msg(mb, 1)->keywords, 2);
	char *cur = xasprintf("%s/cur", root);
	DIR *d = opendir(cur);
	struct dirent *de;
	bool found = false;
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ":2,DRSb") != NULL)
			found = true;
	closedir(d);
	free(cur);
	assert_true(found);
	assert_int_equal(mbox_store(mb, 1, MBOX_FLAGS_SET, MF_SEEN, 0,
	    &error), 0);
	assert_int_equal(mbox_msg(mb, 1)->flags, MF_SEEN | MF_RECENT);

	/* COPY: a new UID in the target, flags and keywords carried. */
	assert_int_equal(mbox_store(mb, 1, MBOX_FLAGS_ADD, 0, 2, &error), 0);
	assert_int_equal(mbox_copy(mb, 1, "Archive", &uv2, &uid2, &error), 0);
	assert_int_equal(uid2, 1);
	assert_int_equal(mbox_copy(mb, 1, "Archive", &uv2, &uid2, &error), 0);
	assert_int_equal(uid2, 2);
	assert_int_equal(mbox_copy(mb, 1, "Missing", &uv2, &uid2, &error), -1);
	assert_int_equal(errno, ENOENT);
	free(error);
	arch = open_box(st, "Archive", false);
	assert_int_equal(mbox_uidvalidity(arch), uv2);
	assert_int_equal(mbox_count(arch), 2);
	assert_int_equal(mbox_msg(arch, 2)->uid, 2);
	assert_int_equal(mbox_msg(arch, 2)->flags, MF_SEEN | MF_RECENT);
	assert_int_equal(mbox_keyword_count(arch), 1);
	assert_string_equal(mbox_keyword_name(arch, 0), "Work");
	assert_int_equal(mbox_msg(arch, 2)->keywords, 1);
	assert_int_equal(mbox_msg(arch, 2)->internaldate, 1000000000);

	/* UID EXPUNGE only takes the UIDs given. */
	uint32_t only = 2;
	for (uint32_t s = 1; s <= 2; s++)
		assert_int_equal(mbox_store(arch, s, MBOX_FLAGS_ADD,
		    MF_DELETED, 0, &error), 0);
	assert_int_equal(mbox_expunge(arch, &only, 1, NULL, &error), 0);
	assert_int_equal(mbox_count(arch), 1);
	assert_int_equal(mbox_msg(arch, 1)->uid, 1);
	char *adir = xasprintf("%s/.Archive", root);
	assert_int_equal(count_files(adir, "cur"), 1);
	free(adir);
	assert_int_equal(count_files(root, "cur"), 1);
	mbox_close(&arch);
	mbox_close(&mb);
	mstore_close(&st);
}

static void
test_keywords(void **state)
{
	struct mstore *st = mstore_test_open();
	struct mbox *a, *b;
	struct events ev;
	char name[16], *error = NULL;

	(void)state;
	deliver("a\n");
	a = open_box(st, "INBOX", false);
	b = open_box(st, "INBOX", false);
	assert_int_equal(mbox_keyword_index(a, "Work", false), -1);
	assert_int_equal(mbox_keyword_index(a, "Work", true), 0);
	assert_int_equal(mbox_keyword_index(a, "work", true), 0);
	assert_int_equal(mbox_keyword_index(a, "bad word", true), -1);
	assert_int_equal(mbox_keyword_index(a, "\\Seen", true), -1);
	for (int i = 1; i < MSTORE_MAX_KEYWORDS; i++) {
		snprintf(name, sizeof(name), "kw%d", i);
		assert_int_equal(mbox_keyword_index(a, name, true), i);
	}
	assert_int_equal(mbox_keyword_index(a, "onemore", true), -1);
	assert_int_equal(mbox_keyword_count(a), MSTORE_MAX_KEYWORDS);
	assert_int_equal(mbox_store(a, 1, MBOX_FLAGS_ADD, 0, 1u << 25,
	    &error), 0);
	/* The other session learns the names and the flag. */
	sync_events(b, &ev);
	assert_int_equal(ev.n_flagged, 1);
	assert_int_equal(mbox_keyword_count(b), MSTORE_MAX_KEYWORDS);
	assert_string_equal(mbox_keyword_name(b, 25), "kw25");
	assert_int_equal(mbox_msg(b, 1)->keywords, 1u << 25);
	assert_null(mbox_keyword_name(b, 26));
	mbox_close(&a);
	mbox_close(&b);
	mstore_close(&st);
}

static void
test_watch(void **state)
{
	struct mstore *st = mstore_test_open();
	struct mbox *mb = open_box(st, "INBOX", false);
	struct pollfd pfd;
	struct events ev;

	(void)state;
	pfd.fd = mbox_watch_fd(mb);
	assert_true(pfd.fd >= 0);
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 0), 0);
	deliver("hello\n");
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	mbox_watch_clear(mb);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	sync_events(mb, &ev);
	assert_int_equal(ev.exists, 1);
	mbox_close(&mb);
	mstore_close(&st);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_big_folder(void **state)
{
	struct mstore *st = mstore_test_open();
	struct mbox *mb;
	struct events ev;
	double t0, first, again, sync;

	(void)state;
	for (int i = 0; i < 10000; i++)
		deliver("Subject: bulk\n\nsome text\n");
	t0 = now_s();
	mb = open_box(st, "INBOX", false);
	first = now_s() - t0;
	assert_int_equal(mbox_count(mb), 10000);
	mbox_close(&mb);
	t0 = now_s();
	mb = open_box(st, "INBOX", false);
	again = now_s() - t0;
	assert_int_equal(mbox_count(mb), 10000);
	assert_int_equal(mbox_msg(mb, 10000)->uid, 10000);
	assert_int_equal(mbox_seq_of_uid(mb, 5000), 5000);
	t0 = now_s();
	sync_events(mb, &ev);
	sync = now_s() - t0;
	print_message("10,000 messages: first open %.3f s, reopen %.3f s, "
	    "sync %.3f s\n", first, again, sync);
	assert_true(first < 2.0);
	assert_true(again < 2.0);
	mbox_close(&mb);
	mstore_close(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		MSTORE_TEST(test_deliver_and_sync),
		MSTORE_TEST(test_restart_keeps_uids),
		MSTORE_TEST(test_lost_index),
		MSTORE_TEST(test_two_sessions),
		MSTORE_TEST(test_readonly),
		MSTORE_TEST(test_concurrent_uids),
		MSTORE_TEST(test_vanished),
		MSTORE_TEST(test_append_store_copy),
		MSTORE_TEST(test_keywords),
		MSTORE_TEST(test_watch),
		MSTORE_TEST(test_big_folder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
