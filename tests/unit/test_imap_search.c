/*
 * Unit tests of SEARCH (src/imapd/imap_search.c): every RFC 3501 key
 * over a small folder held in memory, nesting, OR/NOT, sequence and UID
 * sets, charsets and the errors a client gets for bad criteria.
 */

#define _GNU_SOURCE	/* timegm */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "imapd/imap_parse.h"
#include "imapd/imap_search.h"
#include "lib/str.h"
#include "mailstore/mailstore.h"
#include "mailstore/mime.h"

struct tmsg {
	uint32_t uid;
	unsigned flags;
	uint32_t keywords;
	const char *date;	/* internal date, UTC */
	const char *text;
	struct mime_part *root;
};

static struct tmsg folder[] = {
	{ 10, MF_SEEN | MF_ANSWERED, 0x1, "2024-02-01 10:00:00",
	    "From: Alice <alice@example.com>\r\n"
	    "To: bob@example.com\r\n"
	    "Cc: carol@example.com\r\n"
	    "Subject: Quarterly report\r\n"
	    "Date: Thu, 1 Feb 2024 09:00:00 +0000\r\n"
	    "X-Tag: red\r\n"
	    "\r\n"
	    "The numbers look good.\r\n", NULL },
	{ 11, MF_RECENT, 0, "2024-02-02 10:00:00",
	    "From: bob@example.com\r\n"
	    "To: alice@example.com\r\n"
	    "Bcc: dave@example.com\r\n"
	    "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n"
	    "Date: Fri, 2 Feb 2024 23:30:00 -0500\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n"
	    "TGFuZ2UgbmljaHQgZ2VzZWhlbi4=\r\n", NULL },
	{ 15, MF_DELETED | MF_FLAGGED | MF_DRAFT | MF_SEEN | MF_RECENT, 0x2,
	    "2024-03-01 00:30:00",
	    "From: carol@example.com\r\n"
	    "Subject: Draft\r\n"
	    "\r\n"
	    "A longer body so that this message is the largest of the "
	    "three, with padding padding padding padding.\r\n", NULL },
};
#define N_MSGS (sizeof(folder) / sizeof(folder[0]))

static int
load(void *ctx, const char **data_r, size_t *len_r,
    const struct mime_part **root_r)
{
	struct tmsg *m = ctx;

	if (m->root == NULL)
		m->root = mime_parse(m->text, strlen(m->text));
	*data_r = m->text;
	*len_r = strlen(m->text);
	*root_r = m->root;
	return 0;
}

static int
keyword(void *ctx, const char *name)
{
	(void)ctx;
	if (strcmp(name, "$Important") == 0)
		return 0;
	if (strcmp(name, "Todo") == 0)
		return 1;
	return -1;
}

static time_t
utc(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	assert_non_null(strptime(s, "%Y-%m-%d %H:%M:%S", &tm));
	return timegm(&tm);
}

/* Run "SEARCH CRITERIA" over the folder; the matches as "1 3" (sequence
   numbers), or "BAD"/"BADCHARSET". */
static void
search(const char *criteria, char *out, size_t size)
{
	struct imap_search_env env = { N_MSGS, 15, keyword, NULL };
	struct imap_search *s;
	struct imap_cmd cmd;
	const char *error;
	char *text;
	int ret;

	assert_true(asprintf(&text, "a SEARCH %s\r\n", criteria) > 0);
	assert_int_equal(imap_parse(text, strlen(text), &cmd, &error), 0);
	free(text);
	ret = imap_search_parse(cmd.args, cmd.count, &env, &s, &error);
	imap_cmd_free(&cmd);
	if (ret < 0) {
		snprintf(out, size, "%s", ret == -2 ? "BADCHARSET" : "BAD");
		return;
	}
	out[0] = '\0';
	for (uint32_t i = 0; i < N_MSGS; i++) {
		struct imap_search_msg m = { i + 1, folder[i].uid,
		    folder[i].flags, folder[i].keywords,
		    strlen(folder[i].text), utc(folder[i].date), load,
		    &folder[i], NULL, NULL };

		if (imap_search_match(s, &m))
			snprintf(out + strlen(out), size - strlen(out), "%s%u",
			    out[0] != '\0' ? " " : "", i + 1);
	}
	imap_search_free(&s);
}

static void
test_keys(void **state)
{
	static const struct {
		const char *criteria;
		const char *want;
	} cases[] = {
		{ "ALL", "1 2 3" },
		{ "ANSWERED", "1" }, { "UNANSWERED", "2 3" },
		{ "DELETED", "3" }, { "UNDELETED", "1 2" },
		{ "DRAFT", "3" }, { "UNDRAFT", "1 2" },
		{ "FLAGGED", "3" }, { "UNFLAGGED", "1 2" },
		{ "SEEN", "1 3" }, { "UNSEEN", "2" },
		{ "RECENT", "2 3" }, { "NEW", "2" }, { "OLD", "1" },
		{ "KEYWORD $Important", "1" }, { "KEYWORD Todo", "3" },
		{ "KEYWORD Unknown", "" }, { "UNKEYWORD Todo", "1 2" },
		{ "UNKEYWORD Unknown", "1 2 3" },
		{ "FROM alice", "1" }, { "FROM \"BOB@example\"", "2" },
		{ "TO alice", "2" }, { "CC carol", "1" }, { "BCC dave", "2" },
		{ "SUBJECT report", "1" },
		{ "CHARSET UTF-8 SUBJECT {6}\r\nGR\xc3\x9c\xc3\x9f", "2" },
		{ "HEADER X-Tag red", "1" }, { "HEADER X-Tag \"\"", "1" },
		{ "BODY numbers", "1" }, { "BODY \"nicht gesehen\"", "2" },
		{ "BODY Quarterly", "" }, { "TEXT Quarterly", "1" },
		{ "LARGER 170", "1 2" }, { "SMALLER 170", "3" },
		{ "BEFORE 2-Feb-2024", "1" }, { "ON 2-Feb-2024", "2" },
		{ "SINCE 2-Feb-2024", "2 3" },
		/* The Date: header as written: 2 Feb 23:30 -0500. */
		{ "SENTON 2-Feb-2024", "2" }, { "SENTBEFORE 2-Feb-2024", "1" },
		{ "SENTSINCE 1-Mar-2024", "3" },
		{ "1:2", "1 2" }, { "2:*", "2 3" }, { "3:1", "1 2 3" },
		{ "UID 11:15", "2 3" }, { "UID 12:*", "3" },
		{ "NOT SEEN", "2" }, { "OR ANSWERED DRAFT", "1 3" },
		{ "OR (SEEN FLAGGED) NEW", "2 3" },
		{ "(((SEEN)))", "1 3" },
		{ "SEEN NOT DELETED FROM alice", "1" },
		{ "charset us-ascii ALL", "1 2 3" },
		{ "CHARSET KOI8-R ALL", "BADCHARSET" },
		{ "", "BAD" }, { "FOO", "BAD" }, { "FROM", "BAD" },
		{ "OR SEEN", "BAD" }, { "NOT", "BAD" },
		{ "BEFORE 32-Feb-2024", "BAD" }, { "ON yesterday", "BAD" },
		{ "LARGER x", "BAD" }, { "UID 0", "BAD" }, { "()", "BAD" },
	};
	char got[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		search(cases[i].criteria, got, sizeof(got));
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("SEARCH %s: got \"%s\", want \"%s\"",
			    cases[i].criteria, got, cases[i].want);
	}
}

static void
test_nesting(void **state)
{
	struct str s = STR_INIT;
	char got[64];

	(void)state;
	/* NOT NOT NOT ... deeper than the limit is refused, not a stack
	   overflow. */
	for (int i = 0; i < 5000; i++)
		str_append(&s, "NOT ");
	str_append(&s, "ALL");
	search(s.s, got, sizeof(got));
	assert_string_equal(got, "BAD");
	str_free(&s);
}

static int
teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_MSGS; i++)
		mime_free(&folder[i].root);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_nesting),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, teardown);
}
