/*
 * Unit tests of the SMTP client's parts without I/O
 * (src/delivery/smtp_proto.c, dns.c): nexthop syntax, multi-line replies
 * and their enhanced status codes, EHLO keywords, dot-stuffing across
 * buffer boundaries, xtext, the smtp_sasl_password_maps key order and MX
 * preference ordering with equal preferences shuffled.
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "delivery/dns.h"
#include "delivery/smtp_proto.h"
#include "lib/str.h"
#include "lib/xalloc.h"

static void
test_nexthop(void **state)
{
	static const struct {
		const char *in;
		bool lmtp;
		int ret;
		const char *host;
		unsigned port;
		bool mx, unix_path;
	} cases[] = {
		{ "example.com", false, 0, "example.com", 25, true, false },
		{ "example.com:2525", false, 0, "example.com", 2525, true,
		  false },
		{ "[mx.example.com]", false, 0, "mx.example.com", 25, false,
		  false },
		{ "[192.0.2.1]:587", false, 0, "192.0.2.1", 587, false, false },
		{ "[ipv6:2001:db8::1]:26", false, 0, "2001:db8::1", 26, false,
		  false },
		{ "[::1]", false, 0, "::1", 25, false, false },
		{ "unix:/run/dovecot/lmtp", true, 0, "/run/dovecot/lmtp", 24,
		  false, true },
		{ "/run/lmtp", true, 0, "/run/lmtp", 24, false, true },
		{ "inet:127.0.0.1:2424", true, 0, "127.0.0.1", 2424, false,
		  false },
		{ "lmtp.example.com", true, 0, "lmtp.example.com", 24, false,
		  false },
		{ "[lmtp.example.com]:25", true, 0, "lmtp.example.com", 25,
		  false, false },
		{ "", false, -1, NULL, 0, false, false },
		{ "[]", false, -1, NULL, 0, false, false },
		{ "[host", false, -1, NULL, 0, false, false },
		{ "[host]x", false, -1, NULL, 0, false, false },
		{ "host:0", false, -1, NULL, 0, false, false },
		{ "host:65536", false, -1, NULL, 0, false, false },
		{ "host:", false, -1, NULL, 0, false, false },
		{ ":25", false, -1, NULL, 0, false, false },
		{ "unix:", true, -1, NULL, 0, false, false },
	};
	struct smtp_nexthop nh;
	const char *error;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = smtp_nexthop_parse(cases[i].in, cases[i].lmtp,
		    cases[i].lmtp ? 24 : 25, &nh, &error);

		if (ret != cases[i].ret)
			fail_msg("%s: got %d", cases[i].in, ret);
		if (ret < 0) {
			assert_non_null(error);
			continue;
		}
		assert_string_equal(nh.host, cases[i].host);
		assert_int_equal(nh.port, cases[i].port);
		assert_int_equal(nh.mx, cases[i].mx);
		assert_int_equal(nh.unix_path, cases[i].unix_path);
		smtp_nexthop_clear(&nh);
	}
}

/* Feed the CRLF-less lines of TEXT (LF-separated) to R; the last result. */
static int
feed(struct smtp_reply *r, const char *text)
{
	char *copy = xstrdup(text), *line = copy, *nl;
	int ret = 0;

	for (;;) {
		nl = strchr(line, '\n');
		ret = smtp_reply_line(r, line, nl != NULL ?
		    (size_t)(nl - line) : strlen(line));
		if (nl == NULL || ret != 0)
			break;
		line = nl + 1;
	}
	free(copy);
	return ret;
}

static void
test_reply(void **state)
{
	struct smtp_reply r;
	char buf[16];
	char *mechs;
	unsigned long long size;
	unsigned f;

	(void)state;
	memset(&r, 0, sizeof(r));
	/* A multi-line reply is complete at the line with a space. */
	assert_int_equal(smtp_reply_line(&r, "550-5.1.1 first", 15), 0);
	assert_int_equal(smtp_reply_line(&r, "550 5.1.1 second", 16), 1);
	assert_int_equal(r.code, 550);
	assert_string_equal(r.dsn, "5.1.1");
	assert_string_equal(str_c(&r.text), "550-5.1.1 first 550 5.1.1 "
	    "second");

	/* No enhanced code: one from the class; a code of another class
	   than the reply is not taken. */
	smtp_reply_reset(&r);
	assert_int_equal(feed(&r, "451 try later"), 1);
	assert_string_equal(smtp_reply_dsn(&r, buf), "4.0.0");
	smtp_reply_reset(&r);
	assert_int_equal(feed(&r, "550 2.1.5 odd"), 1);
	assert_string_equal(smtp_reply_dsn(&r, buf), "5.0.0");
	smtp_reply_reset(&r);
	assert_int_equal(feed(&r, "250"), 1);
	assert_int_equal(r.code, 250);

	/* Malformed: no code, a changing code, junk after the code. */
	smtp_reply_reset(&r);
	assert_int_equal(feed(&r, "hello"), -1);
	smtp_reply_reset(&r);
	assert_int_equal(feed(&r, "250-a\n251 b"), -1);
	smtp_reply_reset(&r);
	assert_int_equal(feed(&r, "250x"), -1);

	/* EHLO keywords, AUTH in both spellings. */
	smtp_reply_reset(&r);
	assert_int_equal(feed(&r, "250-mx.example.com Hello\n250-PIPELINING\n"
	    "250-SIZE 10240000\n250-8BITMIME\n250-AUTH PLAIN LOGIN\n"
	    "250-AUTH=CRAM-MD5\n250-dsn\n250 STARTTLS"), 1);
	f = smtp_ehlo_features(&r, &mechs, &size);
	assert_int_equal(f, SMTP_FEAT_PIPELINING | SMTP_FEAT_SIZE |
	    SMTP_FEAT_8BITMIME | SMTP_FEAT_AUTH | SMTP_FEAT_DSN |
	    SMTP_FEAT_STARTTLS);
	assert_string_equal(mechs, "PLAIN LOGIN CRAM-MD5");
	assert_int_equal(size, 10240000);
	free(mechs);
	/* The greeting line is no keyword. */
	smtp_reply_reset(&r);
	assert_int_equal(feed(&r, "250 PIPELINING"), 1);
	assert_int_equal(smtp_ehlo_features(&r, &mechs, &size), 0);
	assert_int_equal(size, 0);
	assert_null(mechs);
	smtp_reply_free(&r);
}

static void
test_dot_stuff(void **state)
{
	static const struct {
		const char *chunks[4];
		const char *want;
	} cases[] = {
		{ { "a\r\n.b\r\n", NULL }, "a\r\n..b\r\n.\r\n" },
		{ { ".", "x\r\n", NULL }, "..x\r\n.\r\n" },
		{ { "a\r", "\n", ".b", NULL }, "a\r\n..b\r\n.\r\n" },
		{ { "end", NULL }, "end\r\n.\r\n" },
		{ { "..\r\n.\r\n", NULL }, "...\r\n..\r\n.\r\n" },
		{ { "", NULL }, ".\r\n" },
		{ { "x.\r\ny", NULL }, "x.\r\ny\r\n.\r\n" },
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct str out = STR_INIT;
		bool bol = true;

		for (j = 0; cases[i].chunks[j] != NULL; j++)
			smtp_dot_stuff(&out, cases[i].chunks[j],
			    strlen(cases[i].chunks[j]), &bol);
		smtp_dot_end(&out, bol);
		assert_string_equal(str_c(&out), cases[i].want);
		str_free(&out);
	}
}

static void
test_xtext(void **state)
{
	struct str out = STR_INIT;

	(void)state;
	smtp_xtext(&out, "a+b=c d\x01~");
	assert_string_equal(str_c(&out), "a+2Bb+3Dc+20d+01~");
	str_free(&out);
}

static void
test_sasl_keys(void **state)
{
	char **k;

	(void)state;
	k = smtp_sasl_keys("Mail.Example.COM", 587, "[mail.example.com]:587",
	    NULL);
	assert_int_equal(strv_len(k), 3);
	assert_string_equal(k[0], "[mail.example.com]:587");
	assert_string_equal(k[1], "[mail.example.com]");
	assert_string_equal(k[2], "mail.example.com");
	strv_free(&k);
	k = smtp_sasl_keys("mx1.example.net", 25, "example.net",
	    "example.net");
	assert_int_equal(strv_len(k), 4);
	assert_string_equal(k[0], "[mx1.example.net]:25");
	assert_string_equal(k[1], "[mx1.example.net]");
	assert_string_equal(k[2], "mx1.example.net");
	assert_string_equal(k[3], "example.net");
	assert_null(k[4]);
	strv_free(&k);
}

/* A predictable "random" source for the shuffle. */
static long counter;

static long
next_random(void)
{
	return counter++;
}

static void
test_mx_sort(void **state)
{
	struct dns_mx mx[5];
	bool first_seen[3] = { false, false, false };
	size_t i, run;

	(void)state;
	for (run = 0; run < 30; run++) {
		mx[0] = (struct dns_mx){ "c", 20 };
		mx[1] = (struct dns_mx){ "a", 10 };
		mx[2] = (struct dns_mx){ "d", 30 };
		mx[3] = (struct dns_mx){ "b1", 10 };
		mx[4] = (struct dns_mx){ "b2", 10 };
		counter = (long)run * 7;
		dns_mx_sort(mx, 5, next_random);
		for (i = 1; i < 5; i++)
			assert_true(mx[i - 1].pref <= mx[i].pref);
		assert_string_equal(mx[3].name, "c");
		assert_string_equal(mx[4].name, "d");
		/* Which of the three preference-10 hosts comes first. */
		first_seen[strcmp(mx[0].name, "a") == 0 ? 0 :
		    strcmp(mx[0].name, "b1") == 0 ? 1 : 2] = true;
	}
	/* Equal preferences are shuffled: each came first at least once. */
	assert_true(first_seen[0] && first_seen[1] && first_seen[2]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nexthop),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_dot_stuff),
		cmocka_unit_test(test_xtext),
		cmocka_unit_test(test_sasl_keys),
		cmocka_unit_test(test_mx_sort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
