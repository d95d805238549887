/*
 * Unit tests of the MIME parser and the IMAP structures built from it
 * (src/mailstore/mime*.c): BODY, BODYSTRUCTURE and ENVELOPE of the
 * sample messages in tests/fixtures/mime, checked against RFC 3501 and
 * what Dovecot answers for the same shapes.  The samples are stored with
 * LF line ends and converted to CRLF here, as the IMAP engine does.
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "mailstore/mime.h"

/* Shared with test_mime_more.c, linked into the same program. */
void mime_fixture(const char *name, bool crlf, struct str *out);
int mime_more_tests(void);

/* Read sample NAME into OUT, with CRLF line ends when CRLF. */
void
mime_fixture(const char *name, bool crlf, struct str *out)
{
	char path[1024], buf[65536];
	FILE *f;
	size_t n, i;

	snprintf(path, sizeof(path), "%s/tests/fixtures/mime/%s", TOP_SRCDIR,
	    name);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	str_truncate(out, 0);
	str_append_n(out, "", 0);
	for (i = 0; i < n; i++) {
		if (crlf && buf[i] == '\n')
			str_append_c(out, '\r');
		str_append_c(out, buf[i]);
	}
}

struct want {
	const char *file;
	const char *body;
	const char *bodystructure;
	const char *envelope;
};

static const struct want wants[] = {
	{ "plain.eml",
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7bit\" "
	  "45 3)",
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7bit\" "
	  "45 3 NIL NIL NIL NIL)",
	  "(\"Mon, 7 Feb 1994 21:52:25 -0800 (PST)\" \"Tea at four\" "
	  "((\"Alice Liddell\" NIL \"alice\" \"example.com\")) "
	  "((\"Alice Liddell\" NIL \"alice\" \"example.com\")) "
	  "((\"Alice Liddell\" NIL \"alice\" \"example.com\")) "
	  "((\"Hatter, Mad\" NIL \"hatter\" \"example.org\")"
	  "(\"The March Hare\" NIL \"march.hare\" \"example.org\")) "
	  "((\"Dormouse\" NIL \"dormouse\" \"example.org\")) NIL NIL "
	  "\"<B27397-0100000@example.com>\")" },
	{ "alternative.eml",
	  "((\"text\" \"plain\" (\"charset\" \"iso-8859-1\") NIL NIL "
	  "\"quoted-printable\" 21 0)(\"text\" \"html\" (\"charset\" "
	  "\"utf-8\") NIL NIL \"quoted-printable\" 34 0) \"alternative\")",
	  "((\"text\" \"plain\" (\"charset\" \"iso-8859-1\") NIL NIL "
	  "\"quoted-printable\" 21 0 NIL NIL NIL NIL)(\"text\" \"html\" "
	  "(\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 34 0 NIL NIL "
	  "NIL NIL) \"alternative\" (\"boundary\" \"=_alt_42\") NIL NIL NIL)",
	  "(\"Tue, 1 Oct 2024 09:30:00 +0200\" \"=?ISO-8859-1?Q?Caf=E9?= "
	  "=?ISO-8859-1?Q?_cr=E8me?=\" "
	  "((\"=?UTF-8?Q?Ren=C3=A9_Dupont?=\" NIL \"rene\" \"example.fr\")) "
	  "((\"=?UTF-8?Q?Ren=C3=A9_Dupont?=\" NIL \"rene\" \"example.fr\")) "
	  "((\"=?UTF-8?Q?Ren=C3=A9_Dupont?=\" NIL \"rene\" \"example.fr\")) "
	  "((NIL NIL \"team\" \"example.com\")) NIL NIL NIL "
	  "\"<alt-1@example.fr>\")" },
	{ "mixed_attach.eml",
	  "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 26 1)"
	  "(\"application\" \"pdf\" (\"name\" \"report.pdf\") "
	  "\"<part1.abc@example.com>\" \"Quarterly report\" \"base64\" 38) "
	  "\"mixed\")",
	  "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 26 1 "
	  "NIL NIL NIL NIL)(\"application\" \"pdf\" (\"name\" \"report.pdf\") "
	  "\"<part1.abc@example.com>\" \"Quarterly report\" \"base64\" 38 NIL "
	  "(\"attachment\" (\"filename\" \"report.pdf\" \"size\" \"12\")) NIL "
	  "NIL) \"mixed\" (\"boundary\" \"----=_Part_0_1\") NIL NIL NIL)",
	  "(\"2 Oct 2024 10:00 GMT\" \"Report\" "
	  "((NIL NIL \"bob\" \"example.com\")) "
	  "((NIL NIL \"bob\" \"example.com\")) "
	  "((NIL NIL \"bob\" \"example.com\")) "
	  "((NIL NIL \"carol\" \"example.com\")) NIL NIL NIL NIL)" },
	{ "nested.eml",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "12 1)(\"message\" \"rfc822\" NIL NIL \"forwarded message\" \"7bit\" "
	  "448 (\"Tue, 2 Oct 2024 08:00:00 +0000\" \"Plans\" "
	  "((\"Frank\" NIL \"frank\" \"example.org\")) "
	  "((\"Frank\" NIL \"frank\" \"example.org\")) "
	  "((\"Frank\" NIL \"frank\" \"example.org\")) "
	  "((\"Dave\" NIL \"dave\" \"example.net\")(NIL NIL \"Group\" NIL)"
	  "(NIL NIL \"a\" \"example.org\")(NIL NIL \"b\" \"example.org\")"
	  "(NIL NIL NIL NIL)) NIL NIL \"<x@example.org>\" "
	  "\"<plans@example.org>\") ((\"text\" \"plain\" (\"charset\" "
	  "\"us-ascii\") NIL NIL \"7bit\" 19 0)(\"text\" \"html\" "
	  "(\"charset\" \"us-ascii\") NIL NIL \"7bit\" 15 0) \"alternative\") "
	  "18) \"mixed\")",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "12 1 NIL NIL NIL NIL)(\"message\" \"rfc822\" NIL NIL "
	  "\"forwarded message\" \"7bit\" 448 (\"Tue, 2 Oct 2024 08:00:00 "
	  "+0000\" \"Plans\" ((\"Frank\" NIL \"frank\" \"example.org\")) "
	  "((\"Frank\" NIL \"frank\" \"example.org\")) "
	  "((\"Frank\" NIL \"frank\" \"example.org\")) "
	  "((\"Dave\" NIL \"dave\" \"example.net\")(NIL NIL \"Group\" NIL)"
	  "(NIL NIL \"a\" \"example.org\")(NIL NIL \"b\" \"example.org\")"
	  "(NIL NIL NIL NIL)) NIL NIL \"<x@example.org>\" "
	  "\"<plans@example.org>\") ((\"text\" \"plain\" (\"charset\" "
	  "\"us-ascii\") NIL NIL \"7bit\" 19 0 NIL NIL NIL NIL)(\"text\" "
	  "\"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 15 0 NIL NIL "
	  "NIL NIL) \"alternative\" (\"boundary\" \"inner\") NIL NIL NIL) 18 "
	  "NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"outer\") NIL NIL NIL)",
	  "(\"Wed, 3 Oct 2024 12:00:00 -0500\" \"Fwd: Plans\" "
	  "((\"Dave\" NIL \"dave\" \"example.net\")) "
	  "((\"Dave\" NIL \"dave\" \"example.net\")) "
	  "((\"Dave\" NIL \"dave\" \"example.net\")) "
	  "((NIL NIL \"eve\" \"example.net\")) NIL NIL NIL NIL)" },
	{ "noend.eml",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "5 0)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "22 1) \"mixed\")",
	  NULL,
	  "(NIL \"truncated\" ((NIL NIL \"gina\" \"example.com\")) "
	  "((NIL NIL \"gina\" \"example.com\")) "
	  "((NIL NIL \"gina\" \"example.com\")) NIL NIL NIL NIL NIL)" },
	{ "rfc2231.eml",
	  "((\"application\" \"octet-stream\" (\"name*\" "
	  "\"utf-8''%E2%82%AC%20rates.pdf\") NIL NIL \"7bit\" 4) \"mixed\")",
	  "((\"application\" \"octet-stream\" (\"name*\" "
	  "\"utf-8''%E2%82%AC%20rates.pdf\") NIL NIL \"7bit\" 4 NIL "
	  "(\"attachment\" (\"filename\" \"very long name.txt\")) "
	  "(\"en\" \"fr\") \"http://example.com/rates.pdf\") \"mixed\" "
	  "(\"boundary\" \"b1\") NIL NIL NIL)",
	  NULL },
	{ "eightbit.eml",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "19 1)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "19 1 NIL NIL NIL NIL)",
	  "(NIL \"no type\" ((NIL NIL \"ivan\" \"example.com\")) "
	  "((NIL NIL \"ivan\" \"example.com\")) "
	  "((NIL NIL \"ivan\" \"example.com\")) NIL NIL NIL NIL NIL)" },
};

/* Check one sample's BODY, BODYSTRUCTURE and ENVELOPE. */
static void
check_want(const struct want *w)
{
	struct str msg = STR_INIT, out = STR_INIT;
	struct mime_part *root;

	mime_fixture(w->file, true, &msg);
	root = mime_parse(msg.s, msg.len);
	mime_bodystructure(&out, root, false);
	assert_string_equal(str_c(&out), w->body);
	if (w->bodystructure != NULL) {
		str_truncate(&out, 0);
		mime_bodystructure(&out, root, true);
		assert_string_equal(str_c(&out), w->bodystructure);
	}
	if (w->envelope != NULL) {
		str_truncate(&out, 0);
		mime_envelope(&out, msg.s + root->hdr_off, root->hdr_len);
		assert_string_equal(str_c(&out), w->envelope);
	}
	mime_free(&root);
	assert_null(root);
	str_free(&msg);
	str_free(&out);
}

static void
test_samples(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(wants) / sizeof(wants[0]); i++)
		check_want(&wants[i]);
}

/* With bare LF line ends the structure is the same; sizes shrink by one
   per line. */
static void
test_bare_lf(void **state)
{
	struct str msg = STR_INIT, out = STR_INIT;
	struct mime_part *root;

	(void)state;
	mime_fixture("mixed_attach.eml", false, &msg);
	root = mime_parse(msg.s, msg.len);
	mime_bodystructure(&out, root, false);
	assert_string_equal(str_c(&out),
	    "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 25 1)"
	    "(\"application\" \"pdf\" (\"name\" \"report.pdf\") "
	    "\"<part1.abc@example.com>\" \"Quarterly report\" \"base64\" 37) "
	    "\"mixed\")");
	mime_free(&root);
	str_free(&msg);
	str_free(&out);
}

/* Parse TEXT (a C string) and return its BODYSTRUCTURE. */
static char *
bs_of(const char *text, bool extended)
{
	struct mime_part *root = mime_parse(text, strlen(text));
	struct str out = STR_INIT;

	mime_bodystructure(&out, root, extended);
	mime_free(&root);
	return str_steal(&out);
}

static void
test_edge_shapes(void **state)
{
	char *s;

	(void)state;
	/* A multipart without any part: an empty text/plain, as Dovecot. */
	s = bs_of("Content-Type: multipart/mixed; boundary=x\r\n\r\n"
	    "no parts here\r\n", false);
	assert_string_equal(s, "((\"text\" \"plain\" (\"charset\" "
	    "\"us-ascii\") NIL NIL \"7bit\" 0 0) \"mixed\")");
	free(s);
	/* No blank line: all header, empty body. */
	s = bs_of("Subject: x\r\n", false);
	assert_string_equal(s, "(\"text\" \"plain\" (\"charset\" "
	    "\"us-ascii\") NIL NIL \"7bit\" 0 0)");
	free(s);
	/* An invalid Content-Type and encoding fall back to the defaults. */
	s = bs_of("Content-Type: garbage\r\nContent-Transfer-Encoding: "
	    "?bad x\r\n\r\nhi\r\n", false);
	assert_string_equal(s, "(\"text\" \"plain\" (\"charset\" "
	    "\"us-ascii\") NIL NIL \"7bit\" 4 1)");
	free(s);
	/* multipart/digest parts default to message/rfc822. */
	s = bs_of("Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n"
	    "\r\nSubject: in\r\n\r\nbody\r\n--d--\r\n", false);
	assert_string_equal(s, "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" "
	    "19 (NIL \"in\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" "
	    "\"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 4 0) 2) "
	    "\"digest\")");
	free(s);
	/* Folded Content-Type, boundary with trailing white space on the
	   delimiter line, a quoted value with an escaped quote, 8-bit
	   parameter value as a literal. */
	s = bs_of("Content-Type: multipart/mixed;\r\n\tboundary=\"a b\"\r\n"
	    "\r\npre\r\n--a b  \r\nContent-Type: text/plain; x=\"q\\\"t\"; "
	    "name=caf\xc3\xa9\r\n\r\nhi\r\n--a b--\r\nepilogue\r\n", false);
	assert_string_equal(s, "((\"text\" \"plain\" (\"x\" \"q\\\"t\" "
	    "\"name\" {5}\r\ncaf\xc3\xa9 \"charset\" \"us-ascii\") NIL NIL "
	    "\"7bit\" 2 0) \"mixed\")");
	free(s);
}

/* Nested deeper than MIME_MAX_DEPTH: the parts beyond become text. */
static void
test_depth_limit(void **state)
{
	struct str msg = STR_INIT;
	struct mime_part *root, *p;
	unsigned int i, depth = 0;

	(void)state;
	for (i = 0; i < 150; i++)
		str_appendf(&msg, "Content-Type: multipart/mixed; "
		    "boundary=b%u\r\n\r\n--b%u\r\n", i, i);
	str_append(&msg, "\r\nleaf\r\n");
	root = mime_parse(msg.s, msg.len);
	for (p = root; p->children != NULL; p = p->children)
		depth++;
	assert_int_equal(depth, MIME_MAX_DEPTH - 1);
	assert_string_equal(p->type, "text");
	assert_false(p->multipart);
	mime_free(&root);
	str_free(&msg);
}

/* More than MIME_MAX_PARTS parts: the tree stops growing. */
static void
test_part_limit(void **state)
{
	struct str msg = STR_INIT;
	struct mime_part *root;
	unsigned int i;

	(void)state;
	str_append(&msg, "Content-Type: multipart/mixed; boundary=z\r\n\r\n");
	for (i = 0; i < MIME_MAX_PARTS + 50; i++)
		str_append(&msg, "--z\r\n\r\nx\r\n");
	str_append(&msg, "--z--\r\n");
	root = mime_parse(msg.s, msg.len);
	assert_int_equal(root->nchildren, MIME_MAX_PARTS - 1);
	mime_free(&root);
	str_free(&msg);
}

/* Random mutations of every sample: parsing and writing everything must
   neither crash nor trip the sanitizers. */
static void
test_fuzz(void **state)
{
	static const char *const files[] = {
		"plain.eml", "alternative.eml", "mixed_attach.eml",
		"nested.eml", "noend.eml", "rfc2231.eml", "eightbit.eml",
	};
	static const char junk[] = "\r\n-;:=\"\\()<>@,*%'?\0 \xff";
	struct str msg = STR_INIT, out = STR_INIT;
	unsigned int seed = 12345, round, k;
	size_t f;

	(void)state;
	for (round = 0; round < 3000; round++) {
		struct mime_part *root;

		f = round % (sizeof(files) / sizeof(files[0]));
		mime_fixture(files[f], round % 2 == 0, &msg);
		for (k = 0; k < 1 + round % 8; k++) {
			seed = seed * 1103515245 + 12345;
			msg.s[(seed >> 8) % msg.len] =
			    junk[(seed >> 20) % (sizeof(junk) - 1)];
		}
		seed = seed * 1103515245 + 12345;
		if (round % 5 == 0)
			str_truncate(&msg, (seed >> 8) % msg.len);
		root = mime_parse(msg.s, msg.len);
		str_truncate(&out, 0);
		mime_bodystructure(&out, root, true);
		mime_envelope(&out, msg.s + root->hdr_off, root->hdr_len);
		(void)mime_search_text(msg.s, msg.len, root, "plan", true);
		assert_true(out.len > 0);
		mime_free(&root);
	}
	str_free(&msg);
	str_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_edge_shapes),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_part_limit),
		cmocka_unit_test(test_fuzz),
	};
	int ret = cmocka_run_group_tests(tests, NULL, NULL);

	return ret != 0 ? ret : mime_more_tests();
}
