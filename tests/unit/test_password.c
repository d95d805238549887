/*
 * Unit tests for the password schemes of src/auth/password.c.  The
 * vectors were made with slappasswd(8), openssl-passwd(1), Python's
 * hashlib and crypt(3), all for the password "secret" (salted digests
 * with the salt 01 02 03 04 05 06 07 08 unless slappasswd chose it).
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "auth/password.h"

struct verify_case {
	const char *name;
	const char *stored;
	const char *default_scheme;	/* NULL: CRYPT */
	int want_good;			/* result for "secret" */
	int want_bad;			/* result for "Secret" */
};

#define GOOD(n, s)	{ n, s, NULL, 1, 0 }
#define BAD(n, s)	{ n, s, NULL, -1, -1 }

static const struct verify_case verify_cases[] = {
	GOOD("PLAIN", "{PLAIN}secret"),
	GOOD("plain lower case", "{plain}secret"),
	GOOD("CLEAR", "{CLEAR}secret"),
	GOOD("CLEARTEXT", "{CLEARTEXT}secret"),
	{ "PLAIN longer", "{PLAIN}secret2", NULL, 0, 0 },
	{ "PLAIN prefix only", "{PLAIN}secre", NULL, 0, 0 },
	GOOD("SHA slappasswd", "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="),
	GOOD("SHA hex", "{SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4"),
	GOOD("SHA.HEX", "{SHA.HEX}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4"),
	GOOD("SHA.b64", "{sha.b64}5en6G6MezRroT3XKqkdPOmY/BfQ="),
	GOOD("SSHA slappasswd", "{SSHA}0l3Z+SQT63F1QBISX5h6cW0225EfS/C3"),
	GOOD("SSHA hashlib", "{SSHA}lHFzXul4wnzRItssVcTnvXWRjNgBAgMEBQYHCA=="),
	GOOD("SSHA.HEX", "{SSHA.HEX}9471735ee978c27cd122db2c55c4e7bd75918c"
	    "d80102030405060708"),
	GOOD("SHA256", "{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols="),
	GOOD("SHA256 hex", "{SHA256}2bb80d537b1da3e38bd30361aa855686bde0ea"
	    "cd7162fef6a25fe97bf527a25b"),
	GOOD("SSHA256", "{SSHA256}A7N1lAy5bBb4T6qH9e85zAvHBmzNPhRFbZ105DjjW"
	    "DIBAgMEBQYHCA=="),
	GOOD("SHA512", "{SHA512}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWg"
	    "s5WtNZKnvCXdhztmeD2cmW192CF5bDufKRpayrW/isg=="),
	GOOD("SSHA512", "{SSHA512}KO8EsMPQTwZrxxbOkDAOOXEeVCc2grMQg1pnZwZhC"
	    "1bBQLby8zCmFn7qTZRvoTd+yQdROQQNYHWpTUST4zjTdQECAwQFBgcI"),
	GOOD("SMD5", "{SMD5}yeWhvSFtvhMX4jDO9I847gECAwQFBgcI"),
	GOOD("PLAIN-MD5", "{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69"),
	GOOD("LDAP-MD5", "{LDAP-MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ=="),
	GOOD("CRYPT DES slappasswd", "{CRYPT}.rW3XyUabkC9c"),
	GOOD("CRYPT $6$", "{CRYPT}$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuH"
	    "wwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"),
	GOOD("SHA512-CRYPT", "{SHA512-CRYPT}$6$saltsalt$TVLlQcbpFVof5W3Yz4DT"
	    "P6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5"
	    "hVO1"),
	GOOD("bare $6$ by default", "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRst"
	    "iNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"),
	GOOD("SHA256-CRYPT", "{SHA256-CRYPT}$5$saltsalt$0IyaXrmV7.sGNS6tirgq"
	    "HLqX/G.FBvgkYA.lpPdS5sA"),
	GOOD("MD5-CRYPT", "{MD5-CRYPT}$1$saltsalt$9xy1btjgzLYfb7hivXtC//"),
	GOOD("MD5 is MD5-CRYPT", "{MD5}$1$saltsalt$9xy1btjgzLYfb7hivXtC//"),
	GOOD("BLF-CRYPT", "{BLF-CRYPT}$2b$05$abcdefghijklmnopqrstuuOQiyCxlgf"
	    "/oeuTqixKmWdcYUh4Hjl0a"),
	GOOD("bare $2b$", "$2b$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmW"
	    "dcYUh4Hjl0a"),
	GOOD("bare yescrypt", "$y$j9T$saltsaltsaltsalt$.Zt5W26jjocuW0wIHGgB"
	    "6AJelofw6GEpOypHGyow2y5"),
	{ "default scheme SSHA", "lHFzXul4wnzRItssVcTnvXWRjNgBAgMEBQYHCA==",
	    "SSHA", 1, 0 },
	{ "default scheme PLAIN", "secret", "PLAIN", 1, 0 },
	{ "prefix beats default", "{PLAIN}secret", "SSHA", 1, 0 },
	{ "empty PLAIN never matches", "{PLAIN}", NULL, 0, 0 },
	{ "empty SSHA never matches", "{SSHA}", NULL, 0, 0 },
	{ "empty default never matches", "", NULL, 0, 0 },
	BAD("unknown scheme", "{ROT13}frperg"),
	{ "unknown default scheme", "secret", "ROT13", -1, -1 },
	{ "bare text under CRYPT", "secret", NULL, 0, 0 },
	BAD("unterminated prefix", "{SSHA"),
	BAD("bad base64", "{SSHA}lHFzXul4wnzRItss!cTnvXWRjNgBAgMEBQYHCA=="),
	BAD("base64 not padded", "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ"),
	BAD("padding inside", "{SHA}5en6G6MezRroT3XKqkdP=mY/BfQ="),
	BAD("SHA too short", "{SHA}5en6G6MezRroT3XKqkdPOmY="),
	BAD("SSHA without salt", "{SSHA}5en6G6MezRroT3XKqkdPOmY/BfQ="),
	BAD("SSHA512 too short", "{SSHA512}KO8EsMPQTwZrxxbO"),
	BAD("bad hex", "{SHA.HEX}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05fz"),
	BAD("odd hex", "{SHA.HEX}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f"),
	BAD("SHA512-CRYPT with a $1$ hash",
	    "{SHA512-CRYPT}$1$saltsalt$9xy1btjgzLYfb7hivXtC//"),
	BAD("unsupported crypt", "{CRYPT}$9$nothing$here"),
	BAD("crypt garbage", "{CRYPT}!"),
};

/* Each stored hash: the right password, a wrong one, malformed values. */
static void
test_verify(void **state)
{
	const struct verify_case *c;
	const char *error;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(verify_cases) / sizeof(verify_cases[0]); i++) {
		c = &verify_cases[i];
		error = NULL;
		r = password_verify("secret", c->stored, c->default_scheme,
		    &error);
		if (r != c->want_good)
			fail_msg("%s: \"secret\" gave %d, want %d (%s)",
			    c->name, r, c->want_good, error ? error : "");
		if (r < 0 && (error == NULL || strstr(error, "secret")))
			fail_msg("%s: no reason, or the password in it",
			    c->name);
		r = password_verify("Secret", c->stored, c->default_scheme,
		    &error);
		if (r != c->want_bad)
			fail_msg("%s: \"Secret\" gave %d, want %d", c->name,
			    r, c->want_bad);
	}
}

/* An empty password never matches, not even an empty PLAIN one. */
static void
test_empty_password(void **state)
{
	const char *error;

	(void)state;
	assert_int_equal(password_verify("", "{PLAIN}", NULL, &error), 0);
	assert_int_equal(password_verify("", "{PLAIN}secret", NULL, &error),
	    0);
	assert_int_equal(password_verify("", "{SHA}2jmj7l5rSw0yVb/vlWAYkK/YB"
	    "wk=", NULL, &error), 0);
}

/* Hashes we make verify, differ each time and carry their scheme. */
static void
test_generate(void **state)
{
	static const char *const names[] = { "SSHA", "SSHA256", "SSHA512",
	    "SHA256-CRYPT", "SHA512-CRYPT", "BLF-CRYPT", "PLAIN", "ssha" };
	const char *error;
	char *a, *b, prefix[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		a = password_generate(names[i], "p\xc3\xa4ss word", &error);
		b = password_generate(names[i], "p\xc3\xa4ss word", &error);
		if (a == NULL || b == NULL)
			fail_msg("%s: %s", names[i], error);
		snprintf(prefix, sizeof(prefix), "{%s}", names[i]);
		assert_int_equal(strncasecmp(a, prefix, strlen(prefix)), 0);
		assert_int_equal(password_verify("p\xc3\xa4ss word", a, NULL,
		    &error), 1);
		assert_int_equal(password_verify("p\xc3\xa4ss Word", a, NULL,
		    &error), 0);
		if (strcasecmp(names[i], "PLAIN") != 0)
			assert_string_not_equal(a, b);
		free(a);
		free(b);
	}
}

/* Schemes that cannot be generated are refused with a reason. */
static void
test_generate_refused(void **state)
{
	static const char *const names[] = { "SHA", "CRYPT", "MD5-CRYPT",
	    "ROT13", "" };
	const char *error;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		error = NULL;
		if (password_generate(names[i], "secret", &error) != NULL)
			fail_msg("%s: generated", names[i]);
		assert_non_null(error);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_empty_password),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_generate_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
