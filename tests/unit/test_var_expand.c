/* Unit tests for the Dovecot %-variables of src/auth/var_expand.c. */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/var_expand.h"
#include "lib/str.h"

struct expand_case {
	const char *template;
	const char *want;	/* NULL: an error */
	const char *error;	/* part of the reason, when WANT is NULL */
};

static const struct expand_case plain_cases[] = {
	{ "", "", NULL },
	{ "no variables", "no variables", NULL },
	{ "%u", "Alice.Smith@Example.COM", NULL },
	{ "%n", "Alice.Smith", NULL },
	{ "%d", "Example.COM", NULL },
	{ "%s", "imap", NULL },
	{ "%r", "192.0.2.1", NULL },
	{ "%l", "198.51.100.2", NULL },
	{ "%h", "/home/alice", NULL },
	{ "%{user}", "Alice.Smith@Example.COM", NULL },
	{ "%{username}", "Alice.Smith", NULL },
	{ "%{domain}", "Example.COM", NULL },
	{ "%{service}", "imap", NULL },
	{ "%{rip}", "192.0.2.1", NULL },
	{ "%{lip}", "198.51.100.2", NULL },
	{ "%{home}", "/home/alice", NULL },
	{ "%Lu", "alice.smith@example.com", NULL },
	{ "%Ln", "alice.smith", NULL },
	{ "%Ud", "EXAMPLE.COM", NULL },
	{ "%L{user}", "alice.smith@example.com", NULL },
	{ "%U{username}", "ALICE.SMITH", NULL },
	{ "%UL{domain}", "example.com", NULL },
	{ "%%", "%", NULL },
	{ "100%%%n", "100%Alice.Smith", NULL },
	{ "%%u", "%u", NULL },
	{ "(&(objectClass=posixAccount)(uid=%n))",
	    "(&(objectClass=posixAccount)(uid=Alice.Smith))", NULL },
	{ "uid=%Ln,ou=people,dc=%Ld", "uid=alice.smith,ou=people,"
	    "dc=example.com", NULL },
	{ "%{ldap:homeDirectory}", "/srv/mail/alice", NULL },
	{ "/var/mail/%{ldap:uid}/Maildir", "/var/mail/alice/Maildir", NULL },
	{ "%U{ldap:uid}", "ALICE", NULL },
	{ "[%{ldap:missing}]", "[]", NULL },
	{ "%{ldap:missing:/var/empty}", "/var/empty", NULL },
	{ "%{ldap:uid:nobody}", "alice", NULL },
	{ "%{ldap:empty:x}", "", NULL },
	{ "%{ldap:missing:a:b}", "a:b", NULL },
	{ "%x", NULL, "unknown variable %x" },
	{ "%p", NULL, "unknown variable %p" },
	{ "%E", NULL, "unknown variable %E" },
	{ "%{nosuch}", NULL, "unknown variable %{nosuch}" },
	{ "%{}", NULL, "unknown variable %{}" },
	{ "%{User}", NULL, "unknown variable %{User}" },
	{ "%{other:uid}", NULL, "unknown prefix" },
	{ "%", NULL, "end of the template" },
	{ "abc%L", NULL, "end of the template" },
	{ "%{user", NULL, "unterminated" },
};

static const struct expand_case escaped_cases[] = {
	{ "%u", "[Alice.Smith@Example.COM]", NULL },
	{ "uid=%n,dc=%d", "uid=[Alice.Smith],dc=[Example.COM]", NULL },
	{ "%%", "%", NULL },
	{ "%Ln", "[alice.smith]", NULL },
	{ "%{ldap:uid}", "[alice]", NULL },
	{ "%{ldap:missing:dflt}", "[dflt]", NULL },
	{ "%{ldap:missing}", "[]", NULL },
	{ "%d%d", "[Example.COM][Example.COM]", NULL },
};

/* The ldap: callback: a few attributes of a fake entry. */
static int
lookup_ldap(const char *prefix, const char *name, void *context,
    const char **value_r, const char **error_r)
{
	static const char *const attrs[][2] = {
		{ "homeDirectory", "/srv/mail/alice" },
		{ "uid", "alice" },
		{ "empty", "" },
	};
	size_t i;

	if (strcmp(prefix, "ldap") != 0) {
		*error_r = "unknown prefix";
		return -1;
	}
	if (context != NULL)
		(*(int *)context)++;
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (strcmp(attrs[i][0], name) == 0) {
			*value_r = attrs[i][1];
			return 1;
		}
	return 0;
}

/* An escape function that shows where values were inserted. */
static void
bracket(struct str *out, const void *value, size_t len)
{
	str_append_c(out, '[');
	str_append_n(out, value, len);
	str_append_c(out, ']');
}

/* Run CASES through var_expand() with the variables of a request. */
static void
run_cases(const struct expand_case *cases, size_t n,
    var_expand_escape_t *escape)
{
	struct var_expand_auth auth;
	struct var_expand_params params;
	struct str out = STR_INIT;
	const char *error;
	size_t i;
	int r;

	var_expand_auth_init(&auth, "Alice.Smith@Example.COM", "imap",
	    "192.0.2.1", "198.51.100.2", "/home/alice");
	params = (struct var_expand_params){ auth.table, lookup_ldap, NULL,
	    escape };
	for (i = 0; i < n; i++) {
		str_truncate(&out, 0);
		str_append(&out, "pre:");
		error = NULL;
		r = var_expand(&out, cases[i].template, &params, &error);
		if (cases[i].want == NULL) {
			if (r != -1)
				fail_msg("\"%s\": gave \"%s\", want an error",
				    cases[i].template, str_c(&out));
			if (error == NULL || !strstr(error, cases[i].error))
				fail_msg("\"%s\": reason \"%s\", want \"%s\"",
				    cases[i].template, error, cases[i].error);
			assert_string_equal(str_c(&out), "pre:");
		} else {
			if (r != 0)
				fail_msg("\"%s\": %s", cases[i].template,
				    error);
			if (strcmp(str_c(&out) + 4, cases[i].want) != 0)
				fail_msg("\"%s\": gave \"%s\", want \"%s\"",
				    cases[i].template, str_c(&out) + 4,
				    cases[i].want);
		}
	}
	str_free(&out);
	var_expand_auth_deinit(&auth);
}

/* Each variable, modifier and syntax error, without escaping. */
static void
test_plain(void **state)
{
	(void)state;
	run_cases(plain_cases, sizeof(plain_cases) / sizeof(plain_cases[0]),
	    NULL);
}

/* The escape function sees every inserted value, and nothing else. */
static void
test_escaped(void **state)
{
	(void)state;
	run_cases(escaped_cases,
	    sizeof(escaped_cases) / sizeof(escaped_cases[0]), bracket);
}

/* A user without a domain: %n is the user, %d is empty. */
static void
test_no_domain(void **state)
{
	struct var_expand_auth auth;
	struct var_expand_params params = { NULL, NULL, NULL, bracket };
	struct str out = STR_INIT;
	const char *error;

	(void)state;
	var_expand_auth_init(&auth, "bob", NULL, NULL, NULL, NULL);
	params.table = auth.table;
	assert_int_equal(var_expand(&out, "%u|%n|%d|%s|%r|%h", &params,
	    &error), 0);
	assert_string_equal(str_c(&out), "[bob]|[bob]|[]|[]|[]|[]");
	/* Without a callback, a prefixed name is unknown. */
	assert_int_equal(var_expand(&out, "%{ldap:uid}", &params, &error),
	    -1);
	assert_non_null(strstr(error, "%{ldap:uid}"));
	var_expand_auth_deinit(&auth);
	str_free(&out);
}

/* Usernames that look like injections reach the escape function whole. */
static void
test_injection(void **state)
{
	static const char *const users[] = {
		"*)(uid=*", "x,ou=admins", "%u", "a%%b", "%{ldap:uid}",
		"\\2a", "a}b{c", "evil@dom)(|(x=*",
	};
	struct var_expand_auth auth;
	struct var_expand_params params = { NULL, lookup_ldap, NULL,
	    bracket };
	struct str out = STR_INIT, want = STR_INIT;
	const char *error;
	size_t i;
	int calls = 0;

	(void)state;
	params.context = &calls;
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		var_expand_auth_init(&auth, users[i], NULL, NULL, NULL, NULL);
		params.table = auth.table;
		str_truncate(&out, 0);
		str_truncate(&want, 0);
		assert_int_equal(var_expand(&out, "(uid=%u)", &params,
		    &error), 0);
		str_appendf(&want, "(uid=[%s])", users[i]);
		assert_string_equal(str_c(&out), str_c(&want));
		var_expand_auth_deinit(&auth);
	}
	/* A value is never expanded again. */
	assert_int_equal(calls, 0);
	str_free(&out);
	str_free(&want);
}

/* A table entry with only a long name, or only a letter. */
static void
test_custom_table(void **state)
{
	static const struct var_expand_entry table[] = {
		{ '\0', "mailbox", "INBOX" },
		{ 'x', NULL, "ex" },
		{ '\0', NULL, NULL },
	};
	struct var_expand_params params = { table, NULL, NULL, NULL };
	struct str out = STR_INIT;
	const char *error;

	(void)state;
	assert_int_equal(var_expand(&out, "%{mailbox}/%x/%Ux", &params,
	    &error), 0);
	assert_string_equal(str_c(&out), "INBOX/ex/EX");
	assert_int_equal(var_expand(&out, "%{x}", &params, &error), -1);
	assert_int_equal(var_expand(&out, "%u", &params, &error), -1);
	str_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_escaped),
		cmocka_unit_test(test_no_domain),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_custom_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
