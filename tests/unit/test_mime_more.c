/*
 * Unit tests of FETCH sections, address lists in ENVELOPE, the SEARCH
 * helpers (header values, RFC 2047, decoded body text, dates) and IMAP
 * string writing.  Linked into test_mime with test_mime.c.
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "mailstore/imapstr.h"
#include "mailstore/mime.h"

void mime_fixture(const char *name, bool crlf, struct str *out);
int mime_more_tests(void);

/* Fetch SPEC from sample FILE (CRLF) and return a copy of the bytes. */
static char *
fetch(const char *file, const char *spec)
{
	struct str msg = STR_INIT, buf = STR_INIT;
	struct mime_section *sec;
	struct mime_part *root;
	const char *error, *data;
	size_t len;
	char *ret;

	mime_fixture(file, true, &msg);
	root = mime_parse(msg.s, msg.len);
	assert_int_equal(mime_section_parse(spec, &sec, &error), 0);
	mime_section_get(msg.s, msg.len, root, sec, &buf, &data, &len);
	ret = xstrndup(data, len);
	mime_section_free(&sec);
	assert_null(sec);
	mime_free(&root);
	str_free(&msg);
	str_free(&buf);
	return ret;
}

static const struct {
	const char *file, *spec, *want;
} sections[] = {
	{ "nested.eml", "1", "See below.\r\n" },
	{ "nested.eml", "1.MIME", "Content-Type: text/plain\r\n\r\n" },
	{ "nested.eml", "2.MIME", "Content-Type: message/rfc822\r\n"
	  "Content-Description: forwarded message\r\n\r\n" },
	{ "nested.eml", "2.1", "The plan is simple." },
	{ "nested.eml", "2.2", "<b>The plan</b>" },
	{ "nested.eml", "2.2.MIME",
	  "Content-Type: text/html; charset=us-ascii\r\n\r\n" },
	{ "nested.eml", "2.HEADER.FIELDS (subject \"To\")",
	  "To: Dave <dave@example.net>, Group: a@example.org, "
	  "b@example.org;\r\nSubject: Plans\r\n\r\n" },
	{ "nested.eml", "HEADER.FIELDS.NOT (From To Date Subject)",
	  "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
	  "boundary=\"outer\"\r\n\r\n" },
	{ "nested.eml", "HEADER.FIELDS (X-None)", "\r\n" },
	/* Parts that do not exist, and HEADER of a non-message part. */
	{ "nested.eml", "3", "" },
	{ "nested.eml", "1.1", "" },
	{ "nested.eml", "2.1.1", "" },
	{ "nested.eml", "1.HEADER", "" },
	{ "nested.eml", "1.TEXT", "" },
	/* A non-multipart message has exactly a part 1: its body. */
	{ "plain.eml", "1", "Hello Hatter,\r\n\r\nShall we have tea at "
	  "four?\r\n" },
	{ "plain.eml", "2", "" },
	{ "plain.eml", "TEXT", "Hello Hatter,\r\n\r\nShall we have tea at "
	  "four?\r\n" },
	{ "mixed_attach.eml", "2", "JVBERi0xLjQKJcK1wrYK\r\nSGVsbG8gd29ybGQ=" },
	{ "mixed_attach.eml", "2.MIME", "Content-Type: application/pdf; "
	  "name=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n"
	  "Content-Disposition: attachment; filename=\"report.pdf\"; "
	  "size=12\r\nContent-ID: <part1.abc@example.com>\r\n"
	  "Content-Description: Quarterly report\r\n\r\n" },
	{ "noend.eml", "2", "second, never closed\r\n" },
	/* A folded field is copied whole. */
	{ "eightbit.eml", "HEADER.FIELDS (X-FOLDED)",
	  "X-Folded: one\r\n  two\r\n\tthree\r\n\r\n" },
};

static void
test_sections(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		char *got = fetch(sections[i].file, sections[i].spec);

		if (strcmp(got, sections[i].want) != 0)
			fail_msg("%s [%s]: got \"%s\"", sections[i].file,
			    sections[i].spec, got);
		free(got);
	}
}

static void
test_section_whole_and_header(void **state)
{
	struct str msg = STR_INIT;
	char *got;

	(void)state;
	mime_fixture("nested.eml", true, &msg);
	got = fetch("nested.eml", "");
	assert_string_equal(got, msg.s);
	free(got);
	got = fetch("nested.eml", "2");
	assert_non_null(strstr(got, "From: Frank"));
	assert_int_equal(strncmp(got, "From: Frank", 11), 0);
	assert_string_equal(got + strlen(got) - 11, "--inner--\r\n");
	free(got);
	got = fetch("nested.eml", "2.TEXT");
	assert_int_equal(strncmp(got, "Inner preamble\r\n", 16), 0);
	free(got);
	got = fetch("nested.eml", "header");
	assert_string_equal(got + strlen(got) - 5, "\"\r\n\r\n");
	free(got);
	str_free(&msg);
}

static void
test_section_parse(void **state)
{
	static const struct {
		const char *spec, *name;
	} good[] = {
		{ "", "" }, { "header", "HEADER" }, { "Text", "TEXT" },
		{ "1", "1" }, { "1.2.3", "1.2.3" }, { "1.mime", "1.MIME" },
		{ "2.HEADER", "2.HEADER" }, { "2.TEXT", "2.TEXT" },
		{ "HEADER.FIELDS (From to)", "HEADER.FIELDS (FROM TO)" },
		{ "1.HEADER.FIELDS.NOT (\"X-A\")", "1.HEADER.FIELDS.NOT (X-A)" },
	};
	static const char *const bad[] = {
		"MIME", "0", "1.", "1..2", "01", "1.0", "2.MIME.1", "HEADERS",
		"HEADER.FIELDS", "HEADER.FIELDS ()", "HEADER.FIELDS (a",
		"HEADER.FIELDS (a:b)", "TEXT.1", "1 ", "x", "4294967296",
		"HEADER.FIELDS (\"a)",
	};
	struct mime_section *sec;
	const char *error = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct str name = STR_INIT;

		if (mime_section_parse(good[i].spec, &sec, &error) != 0)
			fail_msg("[%s] refused", good[i].spec);
		mime_section_name(&name, sec);
		assert_string_equal(str_c(&name), good[i].name);
		str_free(&name);
		mime_section_free(&sec);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		if (mime_section_parse(bad[i], &sec, &error) != -1)
			fail_msg("[%s] accepted", bad[i]);
		assert_non_null(error);
	}
}

/* The To: list of an ENVELOPE built from one header line. */
static char *
to_list(const char *to)
{
	struct str hdr = STR_INIT, out = STR_INIT;
	const char *p;
	char *ret;
	int i;

	str_appendf(&hdr, "To: %s\r\n\r\n", to);
	mime_envelope(&out, hdr.s, hdr.len);
	/* Skip date, subject, from, sender, reply-to: five NILs. */
	p = out.s + 1;
	for (i = 0; i < 5; i++)
		p = strchr(p, ' ') + 1;
	ret = xstrndup(p, strlen(p) - strlen(" NIL NIL NIL NIL)"));
	str_free(&hdr);
	str_free(&out);
	return ret;
}

static void
test_addresses(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "a@b.c", "((NIL NIL \"a\" \"b.c\"))" },
		{ "<a@b.c>", "((NIL NIL \"a\" \"b.c\"))" },
		{ "Joe Q. Public <john.q.public@example.com>",
		  "((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\"))" },
		{ "\"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
		  "((\"Giant; \\\"Big\\\" Box\" NIL \"sysservices\" "
		  "\"example.net\"))" },
		{ "Pete(A nice \\) chap) <pete(his account)@silly.test(his "
		  "host)>", "((\"Pete\" NIL \"pete\" \"silly.test\"))" },
		{ "jdoe@one.test (John Doe)",
		  "((\"John Doe\" NIL \"jdoe\" \"one.test\"))" },
		{ "<@route.a,@route.b:user@host.c>",
		  "((NIL \"@route.a,@route.b\" \"user\" \"host.c\"))" },
		{ "\"john doe\"@example.com",
		  "((NIL NIL \"john doe\" \"example.com\"))" },
		{ "a@[192.0.2.1]", "((NIL NIL \"a\" \"[192.0.2.1]\"))" },
		{ "undisclosed-recipients:;",
		  "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL))" },
		{ "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;"
		  ", x@y.z",
		  "((NIL NIL \"A Group\" NIL)(\"Ed Jones\" NIL \"c\" \"a.test\")"
		  "(NIL NIL \"joe\" \"where.test\")(\"John\" NIL \"jdoe\" "
		  "\"one.test\")(NIL NIL NIL NIL)(NIL NIL \"x\" \"y.z\"))" },
		{ "localonly", "((NIL NIL \"localonly\" \"MISSING_DOMAIN\"))" },
		{ "a@b.c,,  , d@e.f",
		  "((NIL NIL \"a\" \"b.c\")(NIL NIL \"d\" \"e.f\"))" },
		{ "", "NIL" },
		{ "Ren\xc3\xa9 <r@x.fr>",
		  "(({5}\r\nRen\xc3\xa9 NIL \"r\" \"x.fr\"))" },
		{ "\"unterminated <a@b.c>", "((NIL NIL \"unterminated <a@b.c>\" "
		  "\"MISSING_DOMAIN\"))" },
		{ ">>> <<< @@@ ;;; :::", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = to_list(cases[i].in);

		if (cases[i].want != NULL &&
		    strcmp(got, cases[i].want) != 0)
			fail_msg("[%s]: got %s", cases[i].in, got);
		free(got);
	}
}

static void
test_envelope_defaults(void **state)
{
	static const char hdr[] =
	    "From: a@b.c\r\nSender:\r\nReply-To: r@b.c\r\nSubject:\r\n"
	    "Subject: second\r\nSubject:\r\n  folded\r\n\r\n";
	struct str out = STR_INIT;

	(void)state;
	mime_envelope(&out, hdr, sizeof(hdr) - 1);
	/* Empty Sender is From; the first Subject counts, even empty. */
	assert_string_equal(str_c(&out), "(NIL \"\" ((NIL NIL \"a\" \"b.c\")) "
	    "((NIL NIL \"a\" \"b.c\")) ((NIL NIL \"r\" \"b.c\")) NIL NIL NIL "
	    "NIL NIL)");
	str_free(&out);
}

static void
test_header_values(void **state)
{
	static const char hdr[] =
	    "Received: from a\r\n\tby b\r\nSubject :  hello\r\n world  \r\n"
	    "received: from c\r\nnot a field\r\n\r\nReceived: body\r\n";
	char **v;

	(void)state;
	v = mime_header_values(hdr, sizeof(hdr) - 1, "RECEIVED");
	assert_int_equal(strv_len(v), 2);
	assert_string_equal(v[0], "from a\tby b");
	assert_string_equal(v[1], "from c");
	strv_free(&v);
	v = mime_header_values(hdr, sizeof(hdr) - 1, "subject");
	assert_string_equal(v[0], "hello world");
	strv_free(&v);
	v = mime_header_values(hdr, sizeof(hdr) - 1, "x-none");
	assert_non_null(v);
	assert_null(v[0]);
	strv_free(&v);
}

static void
test_decode_header(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "=?ISO-8859-1?Q?Caf=E9?= =?ISO-8859-1?Q?_cr=E8me?=",
		  "Caf\xc3\xa9 cr\xc3\xa8me" },
		{ "=?utf-8?B?UmFwcG9ydCDDqXTDqQ==?=", "Rapport \xc3\xa9t\xc3\xa9" },
		{ "plain =?UTF-8?Q?a_b?= tail", "plain a b tail" },
		{ "=?bogus-charset?Q?x?=", "x" },
		{ "=?utf-8?X?nope?=", "=?utf-8?X?nope?=" },
		{ "=?utf-8?Q?unterminated", "=?utf-8?Q?unterminated" },
		{ "=?utf-8*en?Q?lang?=", "lang" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct str out = STR_INIT;

		mime_decode_header(&out, cases[i].in);
		assert_string_equal(str_c(&out), cases[i].want);
		str_free(&out);
	}
}

static void
test_match(void **state)
{
	(void)state;
	assert_true(mime_match("Hello World", 11, "o wor"));
	assert_true(mime_match("K\xc3\x96LN", 5, "k\xc3\xb6ln"));
	assert_true(mime_match("\xd0\x9c\xd0\x98\xd0\xa0", 6,
	    "\xd0\xbc\xd0\xb8\xd1\x80"));	/* Cyrillic */
	assert_false(mime_match("Hello", 5, "help"));
	assert_true(mime_match("", 0, ""));
	assert_false(mime_match("ab", 1, "ab"));	/* length honoured */
}

/* SEARCH BODY/TEXT/HEADER against one sample. */
static bool
search(const char *file, const char *needle, bool text)
{
	struct str msg = STR_INIT;
	struct mime_part *root;
	bool ret;

	mime_fixture(file, true, &msg);
	root = mime_parse(msg.s, msg.len);
	ret = mime_search_text(msg.s, msg.len, root, needle, text);
	mime_free(&root);
	str_free(&msg);
	return ret;
}

static void
test_search(void **state)
{
	struct str msg = STR_INIT;

	(void)state;
	/* Quoted-printable in ISO-8859-1 and in UTF-8. */
	assert_true(search("alternative.eml", "CAF\xc3\x89 EST", false));
	assert_true(search("alternative.eml", "pr\xc3\xaat.</p>", false));
	/* Base64 attachments are not text; the text part is. */
	assert_false(search("mixed_attach.eml", "Hello world", false));
	assert_true(search("mixed_attach.eml", "attached REPORT", false));
	/* Inside a forwarded message, both parts. */
	assert_true(search("nested.eml", "plan is simple", false));
	assert_true(search("nested.eml", "<b>the plan", false));
	/* BODY leaves headers out, TEXT does not (and decodes them). */
	assert_false(search("nested.eml", "Fwd: Plans", false));
	assert_true(search("nested.eml", "fwd: plans", true));
	assert_true(search("alternative.eml", "ren\xc3\xa9 dupont", true));
	assert_true(search("eightbit.eml", "\xc3\xbc" "ber", false));
	assert_false(search("plain.eml", "coffee", true));

	mime_fixture("rfc2231.eml", true, &msg);
	assert_true(mime_search_header(msg.s, msg.len, "subject",
	    "rapport \xc3\xa9t\xc3\xa9"));
	assert_true(mime_search_header(msg.s, msg.len, "Subject", ""));
	assert_false(mime_search_header(msg.s, msg.len, "cc", ""));
	assert_false(mime_search_header(msg.s, msg.len, "from", "bob"));
	str_free(&msg);
}

static void
test_dates(void **state)
{
	static const struct {
		const char *in;
		time_t utc;
		int tz;
	} cases[] = {
		{ "Mon, 7 Feb 1994 21:52:25 -0800 (PST)", 760686745, -480 },
		{ "7 Feb 1994 21:52:25 -0800", 760686745, -480 },
		{ "Tue, 1 Oct 2024 09:30:00 +0200", 1727767800, 120 },
		{ "2 Oct 2024 10:00 GMT", 1727863200, 0 },
		{ "Wed, 02 Oct 24 10:00:00 EDT", 1727877600, -240 },
		{ "Sat, 1 Jan 99 00:00:00 +0000", 915148800, 0 },
		{ "Thu, 1 Jan 70 00:00:00", 0, 0 },
		{ " Fri ,  3  Mar  2000  01:02:03  Z ", 952045323, 0 },
		{ "3-Mar-2000 01:02:03 +0100", 952041723, 60 },
	};
	static const char *const bad[] = {
		"", "yesterday", "32 Jan 2020 00:00:00 +0000",
		"1 Foo 2020 00:00:00", "1 Jan 2020", "1 Jan 2020 25:00:00",
		"1 Jan 2020 10", "Mon,",
	};
	time_t t;
	int tz;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (mime_date_parse(cases[i].in, &t, &tz) != 0)
			fail_msg("[%s] refused", cases[i].in);
		assert_int_equal(t, cases[i].utc);
		assert_int_equal(tz, cases[i].tz);
	}
	/* SENTON compares the date as written: 23:30 -0800 on the 7th is
	   the 8th in UTC but the 7th here. */
	assert_int_equal(mime_date_parse("7 Feb 1994 23:30:00 -0800", &t, &tz),
	    0);
	assert_int_equal((t + tz * 60) / 86400, 760579200 / 86400);
	assert_int_equal(t / 86400, 760579200 / 86400 + 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (mime_date_parse(bad[i], &t, &tz) != -1)
			fail_msg("[%s] accepted", bad[i]);
	}
}

static void
test_imapstr(void **state)
{
	struct str out = STR_INIT;

	(void)state;
	imap_append_string(&out, "a \"b\" \\c", 8);
	str_append_c(&out, ' ');
	imap_append_string(&out, "line\r\nbreak", 11);
	str_append_c(&out, ' ');
	imap_append_string(&out, "nul\0x", 5);
	str_append_c(&out, ' ');
	imap_append_nstring(&out, NULL);
	str_append_c(&out, ' ');
	imap_append_nstring(&out, "");
	str_append_c(&out, ' ');
	imap_append_astring(&out, "atom]ok");
	str_append_c(&out, ' ');
	imap_append_astring(&out, "nil");
	str_append_c(&out, ' ');
	imap_append_astring(&out, "");
	str_append_c(&out, ' ');
	imap_append_astring(&out, "two words");
	str_append_c(&out, ' ');
	imap_append_mailbox(&out, "inbox");
	str_append_c(&out, ' ');
	imap_append_mailbox(&out, "Lists.dev");
	str_append_c(&out, ' ');
	imap_append_mailbox(&out, "&AOk-t&AOk- 50%");
	str_append_c(&out, ' ');
	imap_append_string(&out, "caf\xc3\xa9", 5);
	assert_int_equal(out.len, 123);
	assert_memory_equal(out.s, "\"a \\\"b\\\" \\\\c\" {11}\r\nline\r\nbreak "
	    "{5}\r\nnul\0x NIL \"\" atom]ok \"nil\" \"\" \"two words\" INBOX "
	    "Lists.dev \"&AOk-t&AOk- 50%\" {5}\r\ncaf\xc3\xa9", 123);
	str_free(&out);
}

int
mime_more_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_section_whole_and_header),
		cmocka_unit_test(test_section_parse),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_envelope_defaults),
		cmocka_unit_test(test_header_values),
		cmocka_unit_test(test_decode_header),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_search),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_imapstr),
	};

	return cmocka_run_group_tests_name("mime sections and search", tests,
	    NULL, NULL);
}
