/*
 * Unit tests of the folder cache (src/mailstore/cache*.c, the file
 * "dirmail-cache"): values kept across opens, seen by a second session,
 * a damaged file (garbage, cut short, foreign) read as far as it is
 * good and then repaired, expunged messages forgotten and compacted
 * away, a lost index invalidating everything, the size bound.
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <fcntl.h>
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
static unsigned deliveries;

/* Deliver N small messages into INBOX's new/. */
static void
deliver(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct timeval tv;
		char *path;
		FILE *fp;

		gettimeofday(&tv, NULL);
		path = xasprintf("%s/new/%lld.M%ldP%ldQ%u.testhost", root,
		    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
		    ++deliveries);
		fp = fopen(path, "w");
		assert_non_null(fp);
		fprintf(fp, "Subject: %u\n\nbody\n", deliveries);
		assert_int_equal(fclose(fp), 0);
		free(path);
	}
}

static struct mbox *
open_inbox(struct mstore *st)
{
	struct mbox *mb;
	char *error = NULL;

	if (mbox_open(st, "INBOX", false, &mb, &error) < 0)
		fail_msg("mbox_open: %s", error);
	return mb;
}

/* The value we cache for message SEQ's FIELD: its UID, the field and
   padding to LEN bytes. */
static char *
value(const struct mbox *mb, uint32_t seq, unsigned field, size_t len)
{
	char *v = xmalloc(len + 1);
	int n = snprintf(v, len + 1, "uid %u field %u ",
	    mbox_msg(mb, seq)->uid, field);

	memset(v + n, 'x', len - (size_t)n);
	v[len] = '\0';
	return v;
}

static void
put_all(struct mbox *mb, size_t len)
{
	for (uint32_t seq = 1; seq <= mbox_count(mb); seq++)
		for (unsigned f = 0; f < MBOX_CACHE_FIELDS; f++) {
			char *v = value(mb, seq, f, len);
			mbox_cache_put(mb, seq, f, v, len);
			free(v);
		}
}

/* How many of MB's values are cached, each checked to be right. */
static unsigned
count_cached(struct mbox *mb, size_t len)
{
	unsigned n = 0;

	for (uint32_t seq = 1; seq <= mbox_count(mb); seq++)
		for (unsigned f = 0; f < MBOX_CACHE_FIELDS; f++) {
			const void *data;
			size_t dlen;
			char *v;

			if (mbox_cache_get(mb, seq, f, &data, &dlen) == 0)
				continue;
			v = value(mb, seq, f, len);
			assert_int_equal(dlen, len);
			assert_memory_equal(data, v, len);
			free(v);
			n++;
		}
	return n;
}

static char *
cache_file(void)
{
	return xasprintf("%s/dirmail-cache", root);
}

static off_t
cache_size(void)
{
	char *path = cache_file();
	struct stat sb;

	if (stat(path, &sb) < 0)
		sb.st_size = -1;
	free(path);
	return sb.st_size;
}

static void
test_kept_across_opens(void **state)
{
	struct mstore *st = mstore_test_open();
	struct mbox *mb;
	const void *data;
	size_t len;

	(void)state;
	deliver(20);
	mb = open_inbox(st);
	assert_int_equal(mbox_cache_get(mb, 1, MBOX_CACHE_ENVELOPE, &data,
	    &len), 0);
	put_all(mb, 100);
	assert_int_equal(count_cached(mb, 100), 20 * MBOX_CACHE_FIELDS);
	/* Out of range: ignored. */
	mbox_cache_put(mb, 21, MBOX_CACHE_BODY, "x", 1);
	mbox_cache_put(mb, 1, MBOX_CACHE_FIELDS, "x", 1);
	assert_int_equal(mbox_cache_get(mb, 0, MBOX_CACHE_BODY, &data, &len),
	    0);
	mbox_close(&mb);
	assert_true(cache_size() > 20 * MBOX_CACHE_FIELDS * 100);

	mb = open_inbox(st);
	assert_int_equal(count_cached(mb, 100), 20 * MBOX_CACHE_FIELDS);
	mbox_close(&mb);
	mstore_close(&st);
}

static void
test_two_sessions(void **state)
{
	struct mstore *st = mstore_test_open();
	struct mbox *a, *b;
	char *error = NULL;

	(void)state;
	deliver(10);
	a = open_inbox(st);
	b = open_inbox(st);
	assert_int_equal(count_cached(b, 50), 0);
	put_all(a, 50);
	mbox_cache_flush(a);
	/* B reads only what was appended since. */
	deliver(1);
	assert_int_equal(mbox_sync(b, NULL, &error), 0);
	assert_int_equal(count_cached(b, 50), 10 * MBOX_CACHE_FIELDS);
	/* Both append; a third session sees both. */
	put_all(b, 50);
	mbox_close(&b);
	mbox_close(&a);
	a = open_inbox(st);
	assert_int_equal(count_cached(a, 50), 11 * MBOX_CACHE_FIELDS);
	mbox_close(&a);
	mstore_close(&st);
}

enum damage { GARBAGE, CUT, HEADER, FOREIGN };

static void
damage_file(enum damage how)
{
	char *path = cache_file();
	off_t size = cache_size();
	int fd = open(path, O_WRONLY | O_APPEND);
	char junk[4096];

	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	switch (how) {
	case GARBAGE:
		assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
		break;
	case CUT:
		assert_int_equal(ftruncate(fd, size / 2 + 3), 0);
		break;
	case HEADER:
		assert_int_equal(ftruncate(fd, 5), 0);
		break;
	case FOREIGN:
		assert_int_equal(ftruncate(fd, 0), 0);
		assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
		break;
	}
	close(fd);
	free(path);
}

static void
test_damaged(void **state)
{
	static const struct {
		enum damage how;
		unsigned min, max;	/* values still found */
	} cases[] = {
		{ GARBAGE, 40, 40 }, { CUT, 12, 32 }, { HEADER, 0, 0 },
		{ FOREIGN, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mstore *st;
		struct mbox *mb;
		unsigned n, count;
		char *path = cache_file(), *error = NULL;

		(void)unlink(path);
		free(path);
		st = mstore_test_open();
		if (i == 0)
			deliver(10);
		mb = open_inbox(st);
		put_all(mb, 80);
		mbox_close(&mb);
		damage_file(cases[i].how);

		mb = open_inbox(st);
		n = count_cached(mb, 80);
		assert_in_range(n, cases[i].min, cases[i].max);
		/* What is missing is put again, with a new message's: the
		   file is rewritten without the damage. */
		deliver(1);
		assert_int_equal(mbox_sync(mb, NULL, &error), 0);
		count = mbox_count(mb);
		put_all(mb, 80);
		mbox_close(&mb);
		assert_int_equal(cache_size(),
		    16 + count * MBOX_CACHE_FIELDS * (20 + 80));
		mb = open_inbox(st);
		assert_int_equal(count_cached(mb, 80),
		    count * MBOX_CACHE_FIELDS);
		mbox_close(&mb);
		mstore_close(&st);
	}
}

static void
test_expunge_and_compact(void **state)
{
	struct mstore *st = mstore_test_open();
	struct mbox *mb;
	char *error = NULL;
	off_t before;

	(void)state;
	deliver(200);
	mb = open_inbox(st);
	put_all(mb, 1000);
	mbox_cache_flush(mb);
	before = cache_size();
	assert_true(before > 200 * 4 * 1000);
	for (uint32_t seq = 1; seq <= 150; seq++)
		assert_int_equal(mbox_store(mb, seq, MBOX_FLAGS_ADD,
		    MF_DELETED, 0, &error), 0);
	assert_int_equal(mbox_expunge(mb, NULL, 0, NULL, &error), 0);
	assert_int_equal(mbox_count(mb), 50);
	/* Three quarters were garbage: rewritten without them. */
	assert_true(cache_size() < before / 3);
	assert_int_equal(count_cached(mb, 1000), 50 * MBOX_CACHE_FIELDS);
	mbox_close(&mb);
	mb = open_inbox(st);
	assert_int_equal(count_cached(mb, 1000), 50 * MBOX_CACHE_FIELDS);
	mbox_close(&mb);
	mstore_close(&st);
}

static void
test_lost_index(void **state)
{
	struct mstore *st = mstore_test_open();
	struct mbox *mb;
	char *path;

	(void)state;
	deliver(5);
	mb = open_inbox(st);
	put_all(mb, 30);
	mbox_close(&mb);
	/* New UIDVALIDITY: the same UIDs may be other messages now. */
	path = xasprintf("%s/dirmail-uidlist", root);
	assert_int_equal(unlink(path), 0);
	free(path);
	mb = open_inbox(st);
	assert_int_equal(count_cached(mb, 30), 0);
	put_all(mb, 30);
	mbox_close(&mb);
	mb = open_inbox(st);
	assert_int_equal(count_cached(mb, 30), 5 * MBOX_CACHE_FIELDS);
	mbox_close(&mb);
	mstore_close(&st);
}

static void
test_size_bound(void **state)
{
	struct mstore *st = mstore_test_open();
	struct mbox *mb;
	size_t big = 256 * 1024 + 1;
	char *v = xcalloc(1, big);
	const void *data;
	size_t len;

	(void)state;
	deliver(1);
	mb = open_inbox(st);
	mbox_cache_put(mb, 1, MBOX_CACHE_ENVELOPE, v, big);
	assert_int_equal(mbox_cache_get(mb, 1, MBOX_CACHE_ENVELOPE, &data,
	    &len), 0);
	mbox_cache_put(mb, 1, MBOX_CACHE_ENVELOPE, v, big - 1);
	assert_int_equal(mbox_cache_get(mb, 1, MBOX_CACHE_ENVELOPE, &data,
	    &len), 1);
	assert_int_equal(len, big - 1);
	mbox_close(&mb);
	free(v);
	mstore_close(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		MSTORE_TEST(test_kept_across_opens),
		MSTORE_TEST(test_two_sessions),
		MSTORE_TEST(test_damaged),
		MSTORE_TEST(test_expunge_and_compact),
		MSTORE_TEST(test_lost_index),
		MSTORE_TEST(test_size_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
