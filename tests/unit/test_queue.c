/*
 * Unit tests for the queue (src/queue): the file writer, the group-commit
 * workers on a real event_base, the reader on valid and damaged files, the
 * queue directories, the free-space check and the qmgr wake-up.
 *
 * "test_queue --bench DIR [SECONDS]" measures commits per second with 1,
 * 10 and 50 concurrent writers in DIR instead of running the tests.
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "queue/queue.h"
#include "queue/queue_int.h"
#include "testdir.h"

/* What one commit callback saw. */
struct result {
	int called;
	int status;
	int error_no;
	char *error;
};

static struct event_base *base;
/* Set by a test, read by the workers in the fsync() wrapper below. */
static int dir_fsync_delay_us;	/* sleep before each directory fsync */
static int dir_fsync_errno;	/* fail directory fsyncs with this */
static int file_fsync_errno;	/* fail file fsyncs with this */
static struct queue_committer *qc;
static char *qdir;
static int n_done;		/* callbacks so far */

int __real_fsync(int fd);
int __wrap_fsync(int fd);

/*
 * The queue library's fsync() (linked with --wrap=fsync): slow or failing
 * on request, to prove the group commit and the error paths.
 */
int
__wrap_fsync(int fd)
{
	struct stat sb;
	int dir = fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode);
	int fail = dir ? dir_fsync_errno : file_fsync_errno;

	if (fail != 0) {
		errno = fail;
		return -1;
	}
	if (dir && dir_fsync_delay_us > 0)
		usleep((useconds_t)dir_fsync_delay_us);
	return __real_fsync(fd);
}

/* Remove one entry of a tree (nftw callback). */
static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Keep the loop from blocking forever while a test waits. */
static void
tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Per test: a fresh queue directory, event base and committer. */
static int
setup(void **state)
{
	char *error = NULL;

	(void)state;
	qdir = xasprintf("%s/queue", testdir);
	if (queue_dirs_create(qdir, (uid_t)-1, (gid_t)-1, &error) < 0)
		fail_msg("%s", error);
	base = event_base_new();
	assert_non_null(base);
	qc = queue_committer_new(base, 4);
	n_done = 0;
	/* Named ".ID" files, which the tests can see; test_anonymous()
	   checks the O_TMPFILE files. */
	queue_tmpfile_wanted = false;
	dir_fsync_delay_us = dir_fsync_errno = file_fsync_errno = 0;
	return 0;
}

/* Per test: free everything and remove the queue directory. */
static int
teardown(void **state)
{
	(void)state;
	queue_committer_free(&qc);
	event_base_free(base);
	nftw(qdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(qdir);
	return 0;
}

/* The commit callback: remember what it was told. */
static void
on_commit(int status, const char *error, void *ctx)
{
	struct result *r = ctx;

	r->called++;
	r->status = status;
	r->error_no = queue_committer_errno(qc);
	free(r->error);
	r->error = xstrdup(error);
	n_done++;
}

/* Run the loop until WANT callbacks have run (30 s at most). */
static void
run_until(int want)
{
	struct timeval tv = { 0, 50000 };
	struct event *ev = event_new(base, -1, EV_PERSIST, tick, NULL);
	time_t end = time(NULL) + 30;

	event_add(ev, &tv);
	while (n_done < want && time(NULL) < end)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(ev);
	assert_int_equal(n_done, want);
}

/* Start a queue file or fail the test. */
static struct queue_file *
create_or_fail(void)
{
	struct queue_file *qf;
	char *error;

	if (queue_file_create(qdir, &qf, &error) < 0)
		fail_msg("%s", error);
	return qf;
}

/* Write the arrival time record as smtpd does. */
static void
write_arrival(struct queue_file *qf)
{
	struct timeval tv;
	char buf[64];

	gettimeofday(&tv, NULL);
	snprintf(buf, sizeof(buf), "%lld.%06ld", (long long)tv.tv_sec,
	    (long)tv.tv_usec);
	queue_file_record(qf, 'T', buf, strlen(buf));
}

/* Write a small envelope with sender SENDER and one recipient. */
static void
small_envelope(struct queue_file *qf, const char *sender)
{
	write_arrival(qf);
	queue_file_record(qf, 'S', sender, strlen(sender));
	queue_file_recipient(qf, NULL, NULL, "bob@example.org");
	queue_file_begin_content(qf);
}

/* Commit QF and wait for its callback; return the result in *R. */
static void
commit_and_wait(struct queue_file **qf, struct result *r)
{
	queue_file_commit(qc, qf, on_commit, r);
	assert_null(*qf);
	run_until(n_done + 1);
	assert_int_equal(r->called, 1);
}

/* The path of ID in incoming/ (free it). */
static char *
incoming(const char *id, int dot)
{
	return xasprintf("%s/incoming/%s%s", qdir, dot ? "." : "", id);
}

/* The number of entries (dot files too) in incoming/. */
static int
count_incoming(void)
{
	char *path = xasprintf("%s/incoming", qdir);
	DIR *dir = opendir(path);
	struct dirent *d;
	int n = 0;

	assert_non_null(dir);
	while ((d = readdir(dir)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			n++;
	closedir(dir);
	free(path);
	return n;
}

/* Read the whole file PATH into *LEN bytes (free the result). */
static char *
slurp(const char *path, size_t *len)
{
	struct stat sb;
	char *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0 && fstat(fd, &sb) == 0);
	buf = xmalloc((size_t)sb.st_size + 1);
	assert_int_equal(read(fd, buf, (size_t)sb.st_size), sb.st_size);
	close(fd);
	*len = (size_t)sb.st_size;
	return buf;
}

/* Write LEN bytes of DATA to PATH. */
static void
spit(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Read PATH, which must be valid (free the result). */
static struct queue_envelope *
read_or_fail(const char *path)
{
	struct queue_envelope *env;
	char *error;

	if (queue_envelope_read(path, &env, &error) < 0)
		fail_msg("%s", error);
	return env;
}

/* Check that PATH reads as an error; return the message (free it). */
static char *
read_error(const char *path)
{
	struct queue_envelope *env = NULL;
	char *error = NULL;

	if (queue_envelope_read(path, &env, &error) == 0)
		fail_msg("%s: read as valid", path);
	assert_null(env);
	assert_non_null(error);
	return error;
}

/* Check that the content of ENV in PATH is WANT (LEN bytes). */
static void
check_content(const char *path, const struct queue_envelope *env,
    const char *want, size_t len)
{
	size_t flen;
	char *data = slurp(path, &flen);

	assert_int_equal(env->content_length, len);
	assert_true(env->content_offset + len <= flen);
	assert_memory_equal(data + env->content_offset, want, len);
	free(data);
}

/* The attributes the round trip writes, in order. */
static const char *const attrs[][2] = {
	{ "client_name", "mx.example.net" },
	{ "client_address", "192.0.2.7" },
	{ "client_port", "50123" },
	{ "helo_name", "mx.example.net" },
	{ "protocol", "ESMTPSA" },
	{ "sasl_method", "PLAIN" },
	{ "sasl_username", "alice" },
	{ "body", "8BITMIME" },
	{ "smtputf8", "1" },
	{ "dsn_envid", "QQ314159" },
	{ "dsn_ret", "HDRS" },
	{ "size", "" },
};

/* The recipients the round trip writes. */
static const struct {
	const char *orcpt, *notify, *final;
} rcpts[] = {
	{ "rfc822;Bob@Example.ORG", "SUCCESS,FAILURE", "bob@example.org" },
	{ NULL, NULL, "carol@example.net" },
	{ "rfc822;dave@example.net", NULL, "dave@example.net" },
	{ NULL, "NEVER", "erin@example.net" },
};

/* Make content of LEN bytes: a Received: header, then numbered lines. */
static char *
make_content(size_t len)
{
	struct str s = STR_INIT;
	unsigned n = 0;

	str_append(&s, "Received: from mx.example.net\r\n\tby us; now\r\n\r\n");
	while (s.len < len)
		str_appendf(&s, "line %u of the body\r\n", n++);
	str_truncate(&s, len);
	return str_steal(&s);
}

/* Check ENV against what test_round_trip wrote. */
static void
check_round_trip_envelope(const struct queue_envelope *env, const char *id)
{
	struct timeval tv;
	size_t i;

	gettimeofday(&tv, NULL);
	assert_string_equal(env->id, id);
	assert_string_equal(env->sender, "alice@example.org");
	assert_true(env->arrival > tv.tv_sec - 60 &&
	    env->arrival <= tv.tv_sec + 1);
	assert_int_equal(strv_len(env->attrs), 12);
	for (i = 0; i < 12; i++) {
		assert_string_equal(queue_envelope_attr(env, attrs[i][0]),
		    attrs[i][1]);
	}
	assert_null(queue_envelope_attr(env, "client"));
	assert_int_equal(env->n_rcpts, 4);
	for (i = 0; i < 4; i++) {
		if (rcpts[i].orcpt == NULL)
			assert_null(env->rcpts[i].orcpt);
		else
			assert_string_equal(env->rcpts[i].orcpt,
			    rcpts[i].orcpt);
		if (rcpts[i].notify == NULL)
			assert_null(env->rcpts[i].notify);
		else
			assert_string_equal(env->rcpts[i].notify,
			    rcpts[i].notify);
		assert_string_equal(env->rcpts[i].final, rcpts[i].final);
	}
}

/* Every record kind and 200 KiB of content survive a commit and a read. */
static void
test_round_trip(void **state)
{
	struct queue_file *qf = create_or_fail();
	struct queue_envelope *env;
	struct result r = { 0 };
	size_t i, len = 200 * 1024 + 17;
	char *content = make_content(len), *path, *tmp;
	char id[QUEUE_ID_MAX + 1];

	(void)state;
	snprintf(id, sizeof(id), "%s", queue_file_id(qf));
	assert_true(queue_id_valid(id, strlen(id)));
	queue_file_record(qf, 'S', "alice@example.org", 17);
	write_arrival(qf);
	for (i = 0; i < 12; i++)
		queue_file_attr(qf, attrs[i][0], attrs[i][1]);
	for (i = 0; i < 4; i++)
		queue_file_recipient(qf, rcpts[i].orcpt, rcpts[i].notify,
		    rcpts[i].final);
	queue_file_begin_content(qf);
	/* Uneven pieces, one larger than the write buffer. */
	queue_file_write(qf, content, 1000);
	queue_file_write(qf, content + 1000, 100 * 1024);
	queue_file_write(qf, content + 1000 + 100 * 1024,
	    len - 1000 - 100 * 1024);
	assert_int_equal(queue_file_size(qf), len);
	assert_int_equal(queue_file_error(qf), 0);
	commit_and_wait(&qf, &r);
	assert_int_equal(r.status, 0);
	assert_null(r.error);
	path = incoming(id, 0);
	tmp = incoming(id, 1);
	assert_int_equal(access(tmp, F_OK), -1);
	env = read_or_fail(path);
	check_round_trip_envelope(env, id);
	check_content(path, env, content, len);
	queue_envelope_free(&env);
	assert_null(env);
	free(path);
	free(tmp);
	free(content);
}

/* Envelope values and content that look like records forge nothing. */
static void
test_no_forging(void **state)
{
	static const char sender[] = "x@y\nR3:a@b\nM0:\n";
	static const char content[] = "R5:x\r\n\nE0:\nM0:\nR3:a@b\nE0:\n";
	struct queue_file *qf = create_or_fail();
	struct queue_envelope *env;
	struct result r = { 0 };
	char *path = incoming(queue_file_id(qf), 0);

	(void)state;
	write_arrival(qf);
	queue_file_record(qf, 'S', sender, strlen(sender));
	queue_file_attr(qf, "helo_name", "h\nA5:x=evl\nE0:");
	queue_file_recipient(qf, "rfc822;a\nR1:z", NULL, "b@c\n");
	queue_file_begin_content(qf);
	queue_file_write(qf, content, strlen(content));
	commit_and_wait(&qf, &r);
	assert_int_equal(r.status, 0);
	env = read_or_fail(path);
	assert_string_equal(env->sender, sender);
	assert_int_equal(strv_len(env->attrs), 1);
	assert_string_equal(queue_envelope_attr(env, "helo_name"),
	    "h\nA5:x=evl\nE0:");
	assert_int_equal(env->n_rcpts, 1);
	assert_string_equal(env->rcpts[0].orcpt, "rfc822;a\nR1:z");
	assert_string_equal(env->rcpts[0].final, "b@c\n");
	check_content(path, env, content, strlen(content));
	queue_envelope_free(&env);
	free(path);
}

/* Compare two ids for qsort. */
static int
cmp_ids(const void *a, const void *b)
{
	return strcmp(a, b);
}

#define N_CONCURRENT 200

/* Commit N_CONCURRENT files at once; all complete with distinct ids. */
static void
commit_many(void)
{
	static char ids[N_CONCURRENT][QUEUE_ID_MAX + 1];
	static struct result r[N_CONCURRENT];
	struct queue_file *qf;
	char *path;
	int i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < N_CONCURRENT; i++) {
		qf = create_or_fail();
		snprintf(ids[i], sizeof(ids[i]), "%s", queue_file_id(qf));
		small_envelope(qf, "s@example.org");
		queue_file_write(qf, ids[i], strlen(ids[i]));
		queue_file_commit(qc, &qf, on_commit, &r[i]);
	}
	run_until(n_done + N_CONCURRENT);
	for (i = 0; i < N_CONCURRENT; i++) {
		assert_int_equal(r[i].called, 1);
		assert_int_equal(r[i].status, 0);
		path = incoming(ids[i], 0);
		assert_int_equal(access(path, F_OK), 0);
		free(path);
	}
	qsort(ids, N_CONCURRENT, sizeof(ids[0]), cmp_ids);
	for (i = 1; i < N_CONCURRENT; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
}

/*
 * 200 commits at once all complete, with distinct ids; while a directory
 * fsync runs, the renames that follow wait for one shared fsync.
 */
static void
test_concurrent(void **state)
{
	unsigned long long syncs;

	(void)state;
	commit_many();
	assert_int_equal(count_incoming(), N_CONCURRENT);
	syncs = queue_committer_dir_syncs(qc);
	print_message("%d commits, %llu directory fsyncs\n", N_CONCURRENT,
	    syncs);
	assert_true(syncs <= N_CONCURRENT);
	dir_fsync_delay_us = 10000;
	commit_many();
	assert_int_equal(count_incoming(), 2 * N_CONCURRENT);
	syncs = queue_committer_dir_syncs(qc) - syncs;
	print_message("%d commits, %llu slow directory fsyncs\n",
	    N_CONCURRENT, syncs);
	assert_true(syncs < N_CONCURRENT / 2);
}

/* A failed fsync of the file or of the directory leaves no file. */
static void
test_fsync_error(void **state)
{
	struct queue_file *qf;
	struct result r;
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		memset(&r, 0, sizeof(r));
		file_fsync_errno = i == 0 ? EIO : 0;
		dir_fsync_errno = i == 1 ? EIO : 0;
		qf = create_or_fail();
		small_envelope(qf, "a@b");
		commit_and_wait(&qf, &r);
		assert_int_equal(r.status, -1);
		assert_int_equal(r.error_no, EIO);
		assert_non_null(strstr(r.error, i == 0 ? "fsync: " :
		    "fsync directory: "));
		free(r.error);
		assert_int_equal(count_incoming(), 0);
	}
}

#define N_MIXED 20

/*
 * Commits queued behind each other where some fail (their file vanished
 * before the rename): the failures are reported alone, the others still
 * commit, and nothing is reported twice or lost.
 */
static void
test_failures_among_many(void **state)
{
	static char ids[N_MIXED][QUEUE_ID_MAX + 1];
	static struct result r[N_MIXED];
	struct queue_file *qf;
	char *path;
	int i;

	(void)state;
	memset(r, 0, sizeof(r));
	for (i = 0; i < N_MIXED; i++) {
		qf = create_or_fail();
		snprintf(ids[i], sizeof(ids[i]), "%s", queue_file_id(qf));
		small_envelope(qf, "s@example.org");
		if (i % 5 == 0) {
			path = incoming(ids[i], 1);
			assert_int_equal(unlink(path), 0);
			free(path);
		}
		queue_file_commit(qc, &qf, on_commit, &r[i]);
	}
	run_until(n_done + N_MIXED);
	for (i = 0; i < N_MIXED; i++) {
		assert_int_equal(r[i].called, 1);
		assert_int_equal(r[i].status, i % 5 == 0 ? -1 : 0);
		if (i % 5 == 0) {
			assert_non_null(strstr(r[i].error, "rename: "));
			free(r[i].error);
		}
	}
	assert_int_equal(count_incoming(), N_MIXED - N_MIXED / 5);
}

/*
 * Anonymous (O_TMPFILE) files: nothing is in the directory until the
 * commit links the file under its name; an abort or a crash (the file
 * never committed) leaves nothing; a name already taken fails the commit.
 */
static void
test_anonymous(void **state)
{
	struct queue_file *qf;
	struct queue_envelope *env;
	struct result r;
	char *path, *error = NULL;

	(void)state;
	queue_tmpfile_wanted = true;
	qf = create_or_fail();
	if (queue_file_tmp_path(qf) != NULL) {
		queue_file_abort(&qf);
		skip();		/* this file system has no O_TMPFILE */
	}
	assert_int_equal(count_incoming(), 0);
	path = incoming(queue_file_id(qf), 0);
	small_envelope(qf, "a@b");
	memset(&r, 0, sizeof(r));
	commit_and_wait(&qf, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(count_incoming(), 1);
	assert_int_equal(queue_envelope_read(path, &env, &error), 0);
	queue_envelope_free(&env);
	assert_int_equal(unlink(path), 0);
	free(path);

	qf = create_or_fail();
	queue_file_abort(&qf);
	qf = create_or_fail();
	small_envelope(qf, "a@b");
	queue_file_release(&qf);	/* as if the process died */
	assert_int_equal(count_incoming(), 0);

	qf = create_or_fail();
	path = incoming(queue_file_id(qf), 0);
	close(open(path, O_WRONLY | O_CREAT | O_EXCL, 0600));
	small_envelope(qf, "a@b");
	memset(&r, 0, sizeof(r));
	commit_and_wait(&qf, &r);
	assert_int_equal(r.status, -1);
	assert_non_null(strstr(r.error, "link: "));
	free(r.error);
	assert_int_equal(count_incoming(), 1);	/* the other file, untouched */
	free(path);
}

/* Commit a valid file and return its path (free it). */
static char *
valid_file(void)
{
	struct queue_file *qf = create_or_fail();
	struct result r = { 0 };
	char *path = incoming(queue_file_id(qf), 0);

	write_arrival(qf);
	queue_file_record(qf, 'S', "", 0);
	queue_file_attr(qf, "protocol", "ESMTP");
	queue_file_recipient(qf, "rfc822;b@x", "DELAY", "b@x");
	queue_file_begin_content(qf);
	queue_file_write(qf, "Subject: t\r\n\r\nhi\r\n", 18);
	commit_and_wait(&qf, &r);
	assert_int_equal(r.status, 0);
	return path;
}

/* Every truncation of a valid file, and every single-byte change, is safe. */
static void
test_truncated_and_flipped(void **state)
{
	static const char flips[] = { '\0', '\n', '9', 'R', ':' };
	char *path = valid_file(), *bad = incoming("BAD", 0), *copy, *err;
	struct queue_envelope *env;
	size_t len, i, j;
	char *data = slurp(path, &len);

	(void)state;
	for (i = 0; i < len; i++) {
		spit(bad, data, i);
		free(read_error(bad));
	}
	/* A changed byte must not crash the reader; it may still be valid. */
	copy = xmalloc(len);
	for (i = 0; i < len; i++) {
		for (j = 0; j < sizeof(flips); j++) {
			memcpy(copy, data, len);
			copy[i] = flips[j];
			spit(bad, copy, len);
			err = NULL;
			env = NULL;
			if (queue_envelope_read(bad, &env, &err) == 0)
				queue_envelope_free(&env);
			free(err);
		}
	}
	free(copy);
	free(data);
	free(bad);
	free(path);
}

/* Build a file from ENVELOPE (LEN bytes) and CONTENT with a right header. */
static void
build_file(const char *path, const char *envelope, size_t len,
    const char *content)
{
	struct str s = STR_INIT;

	str_appendf(&s, "DMQ1 %020zu %020zu\n", strlen(content),
	    QF_HEADER_LEN + len);
	str_append_n(&s, envelope, len);
	str_append(&s, content);
	str_append(&s, "E0:\n");
	spit(path, s.s, s.len);
	str_free(&s);
}

#define HEAD "T17:1700000000.123456\nI18:0123456789ABCDEF01\n"

/* Hand-built envelopes: valid ones and every kind of damage. */
static const struct {
	const char *name;
	const char *envelope;
	size_t len;		/* 0: strlen */
	const char *want;	/* NULL: valid; else part of the error */
} envelopes[] = {
	{ "minimal", HEAD "S0:\nR3:a@b\nM0:\n", 0, NULL },
	{ "attrs anywhere", "A3:a=b\n" HEAD "S0:\nA2:c=\nR3:a@b\nM0:\n", 0,
	    NULL },
	{ "no sender", HEAD "R3:a@b\nM0:\n", 0, "missing" },
	{ "no recipient", HEAD "S0:\nM0:\n", 0, "no recipients" },
	{ "no M", HEAD "S0:\nR3:a@b\nA3:a=b\n", 0, "no M record" },
	{ "two senders", HEAD "S0:\nS0:\nR3:a@b\nM0:\n", 0, "duplicate" },
	{ "two ids", HEAD "I18:0123456789ABCDEF02\nS0:\nR3:a@b\nM0:\n", 0,
	    "duplicate" },
	{ "open group", HEAD "S0:\nO3:a@b\nM0:\n", 0, "unfinished" },
	{ "attr in group", HEAD "S0:\nO3:a@b\nA3:a=b\nR3:a@b\nM0:\n", 0,
	    "unfinished" },
	{ "two O", HEAD "S0:\nO1:a\nO1:b\nR3:a@b\nM0:\n", 0, "unfinished" },
	{ "N then O", HEAD "S0:\nN5:NEVER\nO1:a\nR3:a@b\nM0:\n", 0,
	    "unfinished" },
	{ "two N", HEAD "S0:\nN5:NEVER\nN5:DELAY\nR3:a@b\nM0:\n", 0,
	    "second N" },
	{ "M not last", HEAD "S0:\nM0:\nR3:a@b\n", 0, "no recipients" },
	{ "M with data", HEAD "S0:\nR3:a@b\nM1:x\n", 0, "content does not" },
	{ "unknown type", HEAD "S0:\nX1:x\nR3:a@b\nM0:\n", 0, "unknown" },
	{ "lower-case type", HEAD "s0:\nR3:a@b\nM0:\n", 0, "type" },
	{ "length too long", HEAD "S99:x\nR3:a@b\nM0:\n", 0, "longer" },
	{ "leading zero", HEAD "S01:x\nR3:a@b\nM0:\n", 0, "length" },
	{ "no digits", HEAD "S:x\nR3:a@b\nM0:\n", 0, "length" },
	{ "huge length", HEAD "S99999999999999999999:x\nR3:a@b\nM0:\n", 0,
	    "length" },
	{ "no newline", HEAD "S1:xyR3:a@b\nM0:\n", 0, "newline" },
	{ "NUL", HEAD "S1:\0\nR3:a@b\nM0:\n", sizeof(HEAD) + 15, "NUL" },
	{ "bad id", "T1:1\nI3:abc\nS0:\nR3:a@b\nM0:\n", 0, "queue id" },
	{ "bad arrival", "T3:1.5\nI12:0123456789AB\nS0:\nR3:a@b\nM0:\n", 0,
	    "arrival" },
	{ "bad attribute", HEAD "S0:\nA3:abc\nR3:a@b\nM0:\n", 0, "attribute" },
	{ "empty attr name", HEAD "S0:\nA2:=x\nR3:a@b\nM0:\n", 0,
	    "attribute" },
};

/* Hand-built envelopes read as valid or fail with the expected reason. */
static void
test_envelope_grammar(void **state)
{
	struct queue_envelope *env;
	char *path = incoming("HAND", 0), *error;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(envelopes) / sizeof(envelopes[0]); i++) {
		len = envelopes[i].len != 0 ? envelopes[i].len :
		    strlen(envelopes[i].envelope);
		build_file(path, envelopes[i].envelope, len, "body\r\n");
		if (envelopes[i].want == NULL) {
			env = read_or_fail(path);
			assert_int_equal(env->n_rcpts, 1);
			queue_envelope_free(&env);
			continue;
		}
		error = read_error(path);
		if (strstr(error, envelopes[i].want) == NULL)
			fail_msg("%s: got \"%s\", want \"%s\"",
			    envelopes[i].name, error, envelopes[i].want);
		free(error);
	}
	free(path);
}

/* Replace LEN bytes at OFF in a copy of a valid file; want error WANT. */
static void
check_patched(const char *path, size_t off, const char *bytes, size_t len,
    const char *want)
{
	size_t flen;
	char *data = slurp(path, &flen), *bad = incoming("PATCHED", 0), *error;

	assert_true(off + len <= flen);
	memcpy(data + off, bytes, len);
	spit(bad, data, flen);
	error = read_error(bad);
	if (strstr(error, want) == NULL)
		fail_msg("got \"%s\", want \"%s\"", error, want);
	free(error);
	free(data);
	free(bad);
}

/* A 0/0 header, wrong lengths, a bad magic, garbage: all errors. */
static void
test_damaged_header(void **state)
{
	char *path = valid_file(), *bad = incoming("GARBAGE", 0), *error;
	char zeros[43], digits[21];
	size_t len;
	char *data = slurp(path, &len);
	unsigned long long clen;

	(void)state;
	memset(zeros, '0', sizeof(zeros));
	zeros[20] = ' ';
	check_patched(path, 5, zeros, 41, "incomplete");
	/* The content length one more, then one less, than the file holds. */
	clen = strtoull(data + 5, NULL, 10);
	snprintf(digits, sizeof(digits), "%020llu", clen + 1);
	check_patched(path, 5, digits, 20, "does not match");
	snprintf(digits, sizeof(digits), "%020llu", clen - 1);
	check_patched(path, 5, digits, 20, "does not match");
	check_patched(path, 0, "DMQ2", 4, "bad header");
	check_patched(path, 30, "x", 1, "bad header");
	check_patched(path, len - 4, "E1:\n", 4, "no end record");
	spit(bad, "garbage\n", 8);
	free(read_error(bad));
	spit(bad, "", 0);
	free(read_error(bad));
	error = read_error(qdir);
	free(error);
	error = read_error("/nonexistent/queue/file");
	assert_non_null(strstr(error, "No such file"));
	free(error);
	free(data);
	free(bad);
	free(path);
}

/* Abort removes the temporary file and writes nothing under the id. */
static void
test_abort(void **state)
{
	struct queue_file *qf = create_or_fail();
	char *tmp = incoming(queue_file_id(qf), 1);

	(void)state;
	assert_int_equal(access(tmp, F_OK), 0);
	small_envelope(qf, "a@b");
	queue_file_write(qf, "x\r\n", 3);
	queue_file_abort(&qf);
	assert_null(qf);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(count_incoming(), 0);
	queue_file_abort(&qf);
	free(tmp);
}

/* Make the descriptor of QF write to /dev/full. */
static void
break_fd(struct queue_file *qf)
{
	int full = open("/dev/full", O_WRONLY);

	assert_true(full >= 0);
	assert_true(dup2(full, queue_file_fd(qf)) >= 0);
	close(full);
}

/* A write error (ENOSPC) fails the commit and leaves no file. */
static void
test_write_error(void **state)
{
	static const size_t sizes[] = { 10, 300 * 1024 };
	struct queue_file *qf;
	struct result r;
	char *content;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		memset(&r, 0, sizeof(r));
		qf = create_or_fail();
		break_fd(qf);
		small_envelope(qf, "a@b");
		content = make_content(sizes[i]);
		queue_file_write(qf, content, sizes[i]);
		free(content);
		/* Large content reaches the disk before the commit. */
		assert_int_equal(queue_file_error(qf), i == 0 ? 0 : ENOSPC);
		commit_and_wait(&qf, &r);
		assert_int_equal(r.status, -1);
		assert_int_equal(r.error_no, ENOSPC);
		assert_non_null(strstr(r.error, "No space left"));
		free(r.error);
		assert_int_equal(count_incoming(), 0);
	}
	assert_int_equal(queue_committer_errno(qc), 0);
}

/* One call of a misuse case: a record, or 'a' attribute NAME=x, 'w' write. */
struct misuse_op {
	char type;
	const char *data;
	size_t len;		/* 0: strlen */
};

/* Calls that break the envelope: the last one, not before, sets EINVAL. */
static const struct {
	const char *name;
	struct misuse_op ops[3];
} misuses[] = {
	{ "I from the caller", { { 'I', "0123456789AB", 0 } } },
	{ "M from the caller", { { 'M', "", 0 } } },
	{ "bad arrival", { { 'T', "1.5", 0 } } },
	{ "second arrival", { { 'T', "1.000000", 0 }, { 'T', "2", 0 } } },
	{ "NUL in sender", { { 'S', "a\0b", 3 } } },
	{ "= in attribute name", { { 'a', "a=b", 0 } } },
	{ "empty attribute name", { { 'a', "", 0 } } },
	{ "content first", { { 'w', "x", 0 } } },
	{ "unknown type", { { 'X', "x", 0 } } },
	{ "A in a group", { { 'O', "x", 0 }, { 'A', "a=b", 0 } } },
};

/* Do one misuse call on QF. */
static void
misuse_call(struct queue_file *qf, const struct misuse_op *op)
{
	size_t len = op->len != 0 ? op->len : strlen(op->data);

	if (op->type == 'a')
		queue_file_attr(qf, op->data, "x");
	else if (op->type == 'w')
		queue_file_write(qf, op->data, len);
	else
		queue_file_record(qf, op->type, op->data, len);
}

/* Every misuse of the writer sets EINVAL at the call that breaks it. */
static void
test_writer_misuse(void **state)
{
	struct queue_file *qf;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(misuses) / sizeof(misuses[0]); i++) {
		qf = create_or_fail();
		for (j = 0; j < 3 && misuses[i].ops[j].type != 0; j++) {
			if (queue_file_error(qf) != 0)
				fail_msg("%s: error before call %zu",
				    misuses[i].name, j);
			misuse_call(qf, &misuses[i].ops[j]);
		}
		if (queue_file_error(qf) != EINVAL)
			fail_msg("%s: no EINVAL", misuses[i].name);
		queue_file_abort(&qf);
	}
	assert_int_equal(count_incoming(), 0);
}

/* A record after the content, or no recipients, fails the commit. */
static void
test_envelope_incomplete(void **state)
{
	struct queue_file *qf;
	struct result r = { 0 };

	(void)state;
	qf = create_or_fail();
	small_envelope(qf, "a@b");
	queue_file_record(qf, 'S', "c@d", 3);
	assert_int_equal(queue_file_error(qf), EINVAL);
	queue_file_abort(&qf);

	qf = create_or_fail();
	write_arrival(qf);
	queue_file_record(qf, 'S', "a@b", 3);
	queue_file_begin_content(qf);
	assert_int_equal(queue_file_error(qf), EINVAL);
	commit_and_wait(&qf, &r);
	assert_int_equal(r.status, -1);
	assert_int_equal(r.error_no, EINVAL);
	free(r.error);
	assert_int_equal(count_incoming(), 0);
}

/* A cancelled commit still commits, but its callback is not called. */
static void
test_cancel(void **state)
{
	struct queue_file *qf1, *qf2;
	struct result r1 = { 0 }, r2 = { 0 };
	char *path;

	(void)state;
	/* One worker: jobs finish in order. */
	queue_committer_free(&qc);
	qc = queue_committer_new(base, 1);
	qf1 = create_or_fail();
	qf2 = create_or_fail();
	path = incoming(queue_file_id(qf1), 0);
	small_envelope(qf1, "a@b");
	small_envelope(qf2, "a@b");
	queue_file_commit(qc, &qf1, on_commit, &r1);
	queue_file_commit(qc, &qf2, on_commit, &r2);
	queue_commit_cancel(qc, &r1);
	run_until(1);
	assert_int_equal(r1.called, 0);
	assert_int_equal(r2.called, 1);
	assert_int_equal(r2.status, 0);
	assert_int_equal(access(path, F_OK), 0);
	free(path);
}

/* Freeing the committer finishes the jobs in flight. */
static void
test_free_waits(void **state)
{
	struct queue_file *qf;
	struct result r[10];
	char *paths[10];
	int i;

	(void)state;
	memset(r, 0, sizeof(r));
	for (i = 0; i < 10; i++) {
		qf = create_or_fail();
		paths[i] = incoming(queue_file_id(qf), 0);
		small_envelope(qf, "a@b");
		queue_file_commit(qc, &qf, on_commit, &r[i]);
	}
	queue_committer_free(&qc);
	assert_null(qc);
	for (i = 0; i < 10; i++) {
		assert_int_equal(access(paths[i], F_OK), 0);
		assert_int_equal(r[i].called, 0);
		free(paths[i]);
	}
	assert_int_equal(count_incoming(), 10);
}

/* Check that QDIR/NAME has type TYPE and permissions MODE. */
static void
check_mode(const char *name, mode_t type, mode_t mode)
{
	char *path = xasprintf("%s/%s", qdir, name);
	struct stat sb;

	assert_int_equal(lstat(path, &sb), 0);
	assert_int_equal(sb.st_mode & S_IFMT, type);
	if ((sb.st_mode & 07777) != mode)
		fail_msg("%s: mode %o, want %o", name,
		    (unsigned)(sb.st_mode & 07777), (unsigned)mode);
	free(path);
}

/* The directories and the FIFO exist with their modes; bad entries fail. */
static void
test_dirs(void **state)
{
	static const char *const subdirs[] = { "incoming", "active",
	    "deferred", "hold", "corrupt", "bounce", "spare" };
	char *error = NULL, *path;
	struct stat sb;
	size_t i;

	(void)state;
	for (i = 0; i < 7; i++)
		check_mode(subdirs[i], S_IFDIR, 0700);
	check_mode("public", S_IFDIR, 0710);
	check_mode("public/qmgr", S_IFIFO, 0620);
	assert_int_equal(queue_dirs_create(qdir, (uid_t)-1, (gid_t)-1,
	    &error), 0);
	if (geteuid() == 0) {
		assert_int_equal(queue_dirs_create(qdir, 65534, 65534,
		    &error), 0);
		path = xasprintf("%s/hold", qdir);
		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(sb.st_uid, 65534);
		free(path);
	}
	path = xasprintf("%s/hold", qdir);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(symlink("/tmp", path), 0);
	assert_int_equal(queue_dirs_create(qdir, (uid_t)-1, (gid_t)-1,
	    &error), -1);
	assert_non_null(strstr(error, "hold"));
	free(error);
	free(path);
}

/* queue_space_ok: room, no room, overflow and a missing directory. */
static void
test_space(void **state)
{
	const char *error = NULL;

	(void)state;
	assert_int_equal(queue_space_ok(qdir, 1000, 0, &error), 1);
	assert_int_equal(queue_space_ok(qdir, 0, ULLONG_MAX / 2, &error), 0);
	assert_int_equal(queue_space_ok(qdir, ULLONG_MAX, 10, &error), 0);
	assert_int_equal(queue_space_ok("/nonexistent/q", 0, 0, &error), -1);
	assert_non_null(error);
}

/* queue_notify with no reader, with a reader, and with a file instead. */
static void
test_notify(void **state)
{
	char *fifo = xasprintf("%s/public/qmgr", qdir);
	char buf[8];
	int fd;
	struct stat sb;

	(void)state;
	queue_notify(qdir);
	fd = open(fifo, O_RDONLY | O_NONBLOCK);
	assert_true(fd >= 0);
	queue_notify(qdir);
	queue_notify(qdir);
	assert_int_equal(read(fd, buf, sizeof(buf)), 2);
	assert_true(read(fd, buf, sizeof(buf)) <= 0);
	close(fd);
	/* A regular file in its place is never written to. */
	assert_int_equal(unlink(fifo), 0);
	spit(fifo, "", 0);
	queue_notify(qdir);
	assert_int_equal(stat(fifo, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	/* No FIFO at all is not an error either. */
	assert_int_equal(unlink(fifo), 0);
	queue_notify(qdir);
	free(fifo);
}

/* Commit a message with CONTENT; return the path of the new file. */
static char *
commit_content(struct queue_file *qf, const char *content)
{
	struct result r = { 0 };
	char *path = incoming(queue_file_id(qf), 0);

	small_envelope(qf, "a@x");
	queue_file_write(qf, content, strlen(content));
	commit_and_wait(&qf, &r);
	assert_int_equal(r.status, 0);
	return path;
}

/* The inode number of PATH. */
static ino_t
inode_of(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_ino;
}

/*
 * A retired file comes back as a new message: same inode, the new
 * content only (a shorter message cuts the old tail), no dot file left;
 * a full spare/ or a file with two links is not reused.
 */
static void
test_reuse(void **state)
{
	char *big = make_content(100 * 1024), *path, *path2, *path3, *spare;
	char *other;
	struct queue_envelope *env;
	struct queue_file *qf;
	struct stat sb;
	ino_t ino;
	int i, fd;

	(void)state;
	path = commit_content(create_or_fail(), big);
	ino = inode_of(path);
	assert_int_equal(queue_file_retire(qdir, path, -1), 0);
	assert_int_equal(access(path, F_OK), -1);
	spare = xasprintf("%s/spare/0", qdir);
	assert_int_equal(inode_of(spare), ino);

	assert_int_equal(queue_file_reuse(qdir, spare, &qf), 0);
	assert_int_equal(access(spare, F_OK), -1);
	assert_int_equal(count_incoming(), 1);	/* incoming/.ID */
	path2 = commit_content(qf, "short\r\n");
	assert_int_equal(inode_of(path2), ino);
	assert_int_equal(stat(path2, &sb), 0);
	assert_true(sb.st_size < 1024);		/* the old tail is gone */
	env = read_or_fail(path2);
	check_content(path2, env, "short\r\n", 7);
	assert_string_equal(env->sender, "a@x");
	queue_envelope_free(&env);
	assert_int_equal(count_incoming(), 1);
	/* A spare taken by someone else first. */
	assert_int_equal(queue_file_reuse(qdir, spare, &qf), 1);

	/* A large file retired with its descriptor is emptied. */
	path3 = commit_content(create_or_fail(), big);
	fd = open(path3, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(queue_file_retire(qdir, path3, fd), 0);
	close(fd);
	free(path3);
	path3 = xasprintf("%s/spare/1", qdir);
	assert_int_equal(stat(path3, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	free(path3);

	/* Retiring a file that is gone. */
	assert_int_equal(queue_file_retire(qdir, path, -1), -1);
	assert_int_equal(errno, ENOENT);
	/* With every name in spare/ taken, the file is simply removed. */
	for (i = 1; i < QUEUE_SPARE_SLOTS; i++) {
		free(spare);
		spare = xasprintf("%s/spare/%d", qdir, i);
		spit(spare, "", 0);
	}
	free(spare);
	spare = xasprintf("%s/spare/0", qdir);
	spit(spare, "", 0);
	assert_int_equal(queue_file_retire(qdir, path2, -1), 0);
	assert_int_equal(access(path2, F_OK), -1);
	assert_int_equal(count_incoming(), 0);

	/* A spare with a second link (not ours alone) is dropped. */
	other = xasprintf("%s/other", testdir);
	assert_int_equal(link(spare, other), 0);
	assert_int_equal(queue_file_reuse(qdir, spare, &qf), 1);
	assert_int_equal(access(spare, F_OK), -1);
	assert_int_equal(count_incoming(), 0);
	assert_int_equal(access(other, F_OK), 0);
	unlink(other);
	free(other);
	free(spare);
	free(path);
	free(path2);
	free(big);
}

/* Run the Python reader on ARGS; return its output (free it). */
static char *
python_reader(const char *args)
{
	struct str out = STR_INIT;
	char *cmd, line[1024];
	FILE *fp;

	if (system("python3 -c '' 2>/dev/null") != 0)
		skip();
	cmd = xasprintf("python3 %s/tests/integration/queuefile.py %s",
	    TOP_SRCDIR, args);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL)
		str_append(&out, line);
	pclose(fp);
	free(cmd);
	return str_steal(&out);
}

/* The Python reader reads and lists what the C writer wrote. */
static void
test_python_reader(void **state)
{
	char *path = valid_file(), *out, *want, *args;
	struct queue_file *unfinished = create_or_fail();

	(void)state;
	out = python_reader(path);
	want = xasprintf("%s <> b@x 18\n", strrchr(path, '/') + 1);
	assert_string_equal(out, want);
	free(want);
	free(out);
	/* The file being written (a dot file) is not listed. */
	args = xasprintf("--list %s", qdir);
	out = python_reader(args);
	want = xasprintf("incoming %s\n", strrchr(path, '/') + 1);
	assert_string_equal(out, want);
	queue_file_abort(&unfinished);
	free(args);
	free(want);
	free(out);
	free(path);
}

/* The Python reader accepts and refuses the same envelopes as the C one. */
static void
test_python_grammar(void **state)
{
	struct str args = STR_INIT;
	char *path, *out, *line, *saveptr = NULL;
	size_t i, n = sizeof(envelopes) / sizeof(envelopes[0]);

	(void)state;
	for (i = 0; i < n; i++) {
		path = xasprintf("%s/incoming/CASE%02zu", qdir, i);
		build_file(path, envelopes[i].envelope, envelopes[i].len != 0 ?
		    envelopes[i].len : strlen(envelopes[i].envelope), "b\r\n");
		str_appendf(&args, "%s ", path);
		free(path);
	}
	out = python_reader(str_c(&args));
	line = strtok_r(out, "\n", &saveptr);
	for (i = 0; i < n; i++, line = strtok_r(NULL, "\n", &saveptr)) {
		assert_non_null(line);
		/* Errors are "PATH: reason", envelopes "ID <sender> ...". */
		if ((line[0] == '/') != (envelopes[i].want != NULL))
			fail_msg("%s: Python says \"%s\"", envelopes[i].name,
			    line);
	}
	free(out);
	str_free(&args);
}

/* One simulated session of the benchmark: write a message, commit, again. */
struct bench_writer {
	unsigned long long done;
	int stop;
};

static void bench_start(struct bench_writer *w);

/* Benchmark commit callback: count and start the next message. */
static void
bench_done(int status, const char *error, void *ctx)
{
	struct bench_writer *w = ctx;

	if (status != 0)
		fprintf(stderr, "commit: %s\n", error);
	w->done++;
	n_done++;
	if (!w->stop)
		bench_start(w);
}

/* Write one 4 KiB message as smtpd would and commit it. */
static void
bench_start(struct bench_writer *w)
{
	static char *content;
	struct queue_file *qf = create_or_fail();

	if (content == NULL)
		content = make_content(4096);
	write_arrival(qf);
	queue_file_record(qf, 'S', "sender@example.org", 18);
	queue_file_attr(qf, "client_address", "192.0.2.1");
	queue_file_attr(qf, "protocol", "ESMTP");
	queue_file_recipient(qf, NULL, NULL, "rcpt@example.org");
	queue_file_begin_content(qf);
	queue_file_write(qf, content, 4096);
	queue_file_commit(qc, &qf, bench_done, w);
}

/* Run N writers for SECONDS with THREADS workers; print the rate. */
static void
bench_run(int n, double seconds, unsigned threads)
{
	struct bench_writer *w = xcalloc((size_t)n, sizeof(*w));
	struct timeval t0, t1;
	unsigned long long total = 0;
	double dt;
	int i;

	setup(NULL);
	queue_committer_free(&qc);
	qc = queue_committer_new(base, threads);
	gettimeofday(&t0, NULL);
	for (i = 0; i < n; i++)
		bench_start(&w[i]);
	do {
		event_base_loop(base, EVLOOP_ONCE);
		gettimeofday(&t1, NULL);
		dt = (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_usec - t0.tv_usec) / 1e6;
	} while (dt < seconds);
	for (i = 0; i < n; i++) {
		w[i].stop = 1;
		total += w[i].done;
	}
	printf("%2u threads, %2d writers: %6llu commits in %.2f s = "
	    "%6.0f/s, %6llu directory fsyncs\n", threads, n, total, dt,
	    (double)total / dt, queue_committer_dir_syncs(qc));
	/* The messages in flight finish before the directory goes. */
	teardown(NULL);
	free(w);
}

/* "--bench DIR [SECONDS [THREADS]]": measure commit rates in DIR/queue. */
static int
bench(const char *dir, double seconds, unsigned threads)
{
	static const int writers[] = { 1, 10, 50 };
	size_t i;

	testdir = xstrdup(dir);
	for (i = 0; i < sizeof(writers) / sizeof(writers[0]); i++)
		bench_run(writers[i], seconds, threads);
	free(testdir);
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_forging, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_anonymous, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures_among_many, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fsync_error, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_truncated_and_flipped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_envelope_grammar, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_damaged_header, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_writer_misuse, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_envelope_incomplete, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_waits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dirs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_python_reader, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_python_grammar, setup,
		    teardown),
	};

	if (argc >= 3 && strcmp(argv[1], "--bench") == 0)
		return bench(argv[2], argc > 3 ? atof(argv[3]) : 3.0,
		    argc > 4 ? (unsigned)atoi(argv[4]) : 4);
	return cmocka_run_group_tests(tests, testdir_setup, testdir_teardown);
}
