/*
 * Unit tests for the ldap table's configuration file and its "%"
 * expansions (src/maps/map_ldap.c through map_ldap_conf.h).  Lookups
 * against a real slapd are in tests/integration/test_ldap_table.py.
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "maps/map_ldap_conf.h"

static char *tmpdir;

struct expand_case {
	const char *name;
	const char *fmt;
	const char *key;
	const char *value;	/* NULL: query_filter mode */
	enum ldap_table_escape esc;
	const char *want;	/* NULL: suppressed */
};

#define F	LDAP_TABLE_ESC_FILTER
#define N	LDAP_TABLE_ESC_NONE
#define D	LDAP_TABLE_ESC_DN

static const struct expand_case expand_cases[] = {
	{ "default filter", "(mailacceptinggeneralid=%s)",
	    "alice@example.com", NULL, F,
	    "(mailacceptinggeneralid=alice@example.com)" },
	{ "%S is %s in a filter", "(mail=%S)", "a@b", NULL, F, "(mail=a@b)" },
	{ "local part", "(uid=%u)", "alice@example.com", NULL, F,
	    "(uid=alice)" },
	{ "local part of a bare key", "(uid=%u)", "alice", NULL, F,
	    "(uid=alice)" },
	{ "empty local part", "(uid=%u)", "@example.com", NULL, F, NULL },
	{ "%U empty local part", "(uid=%U)", "@example.com", NULL, F, NULL },
	{ "domain", "(dc=%d)", "alice@example.com", NULL, F,
	    "(dc=example.com)" },
	{ "no domain", "(dc=%d)", "alice", NULL, F, NULL },
	{ "empty domain", "(dc=%d)", "alice@", NULL, F, NULL },
	{ "labels", "%1/%2/%3", "u@mail.example.com", NULL, F,
	    "com/example/mail" },
	{ "too few labels", "(dc=%3)", "u@example.com", NULL, F, NULL },
	{ "label of a bare key", "(dc=%1)", "alice", NULL, F, NULL },
	{ "last @ splits", "%u|%d", "a@b@example.com", NULL, F,
	    "a@b|example.com" },
	{ "literal percent", "(x=%%s)", "k", NULL, F, "(x=%s)" },
	{ "injection in %s", "(mail=%s)", "*)(uid=*", NULL, F,
	    "(mail=\\2a\\29\\28uid=\\2a)" },
	{ "injection in %u", "(uid=%u)", "*)(|(uid=*@example.com", NULL, F,
	    "(uid=\\2a\\29\\28|\\28uid=\\2a)" },
	{ "backslash in a key", "(uid=%s)", "a\\2a", NULL, F,
	    "(uid=a\\5c2a)" },
	{ "star alone", "(uid=%s)", "*", NULL, F, "(uid=\\2a)" },
	{ "template stars are kept", "(mail=*@%d)", "u@x.org", NULL, F,
	    "(mail=*@x.org)" },
	{ "DN escaping", "ou=%d,dc=x", "u@a,b", NULL, D, "ou=a\\,b,dc=x" },
	{ "result value", "%s", "k@example.com", "alice", N, "alice" },
	{ "result not escaped", "%s", "k", "*(x)", N, "*(x)" },
	{ "result local part", "%u@other.org", "k@example.com",
	    "alice@example.com", N, "alice@other.org" },
	{ "result domain missing", "%d", "k@example.com", "alice", N, NULL },
	{ "result with key parts", "%s:%U:%D:%1", "k@example.com", "v", N,
	    "v:k:example.com:com" },
	{ "result with missing key part", "%s@%D", "k", "v", N, NULL },
};

/* Every expansion case, appended after existing text. */
static void
test_expand(void **state)
{
	const struct expand_case *c;
	struct str out = STR_INIT;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(expand_cases) / sizeof(expand_cases[0]); i++) {
		c = &expand_cases[i];
		str_truncate(&out, 0);
		str_append(&out, "pre:");
		r = ldap_table_expand(&out, c->fmt, c->key, c->value, c->esc);
		if (c->want == NULL && r != 0)
			fail_msg("%s: not suppressed: \"%s\"", c->name,
			    str_c(&out));
		if (c->want == NULL && strcmp(str_c(&out), "pre:") != 0)
			fail_msg("%s: left \"%s\"", c->name, str_c(&out));
		if (c->want != NULL && r != 1)
			fail_msg("%s: suppressed", c->name);
		if (c->want != NULL && strcmp(str_c(&out) + 4, c->want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", c->name,
			    str_c(&out) + 4, c->want);
	}
	str_free(&out);
}

/* Only known expansions are accepted. */
static void
test_check_format(void **state)
{
	static const char *const good[] = {
		"", "(uid=%u)", "%s %u %d %S %U %D %1 %9 %%", "100%%",
	};
	static const char *const bad[] = {
		"%x", "(uid=%)", "abc%", "%0", "%%%",
	};
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (ldap_table_check_format(good[i], &why) != 0)
			fail_msg("\"%s\" refused: %s", good[i], why);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ldap_table_check_format(bad[i], &why) == 0)
			fail_msg("\"%s\" accepted", bad[i]);
}

/* Write TEXT to a new file in the temporary directory; return its path. */
static char *
write_conf(const char *text)
{
	static unsigned n;
	char *path = xasprintf("%s/t%u.cf", tmpdir, n++);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	return path;
}

/* Read TEXT as a table file or fail the test. */
static struct ldap_table_conf *
read_ok(const char *text)
{
	struct ldap_table_conf *conf;
	char *path = write_conf(text), *error;

	if (ldap_table_conf_read(path, &conf, &error) < 0)
		fail_msg("%s", error);
	free(path);
	return conf;
}

/* An empty file gives Postfix's defaults. */
static void
test_conf_defaults(void **state)
{
	struct ldap_table_conf *conf = read_ok("# nothing\n");

	(void)state;
	assert_string_equal(conf->uris[0], "ldap://localhost:389/");
	assert_null(conf->uris[1]);
	assert_string_equal(conf->query_filter,
	    "(mailacceptinggeneralid=%s)");
	assert_string_equal(conf->result_attribute[0], "maildrop");
	assert_null(conf->result_attribute[1]);
	assert_null(conf->special_result_attribute[0]);
	assert_string_equal(conf->result_format, "%s");
	assert_string_equal(conf->search_base, "");
	assert_int_equal(conf->scope, LDAPC_SCOPE_SUB);
	assert_int_equal(conf->version, 3);
	assert_int_equal(conf->timeout, 10);
	assert_true(conf->bind);
	assert_false(conf->start_tls);
	assert_int_equal(conf->tls_require_cert, LDAPC_TLS_DEMAND);
	assert_int_equal(conf->size_limit, 0);
	assert_int_equal(conf->recursion_limit, 1000);
	assert_null(conf->domain[0]);
	ldap_table_conf_free(&conf);
	assert_null(conf);
}

/* Every setting, continuation lines, comments, and server_host forms. */
static void
test_conf_values(void **state)
{
	struct ldap_table_conf *conf = read_ok(
	    "# a comment\n"
	    "server_host = ldap1.example.com, ldap2.example.com:1389\n"
	    "    ldaps://ldap3.example.com/\n"
	    "\tldapi://%2Frun%2Fslapd%2Fldapi [::1] [::1]:636\n"
	    "server_port = 3389\n"
	    "search_base = ou=people,dc=example,dc=com\n"
	    "scope = one\n"
	    "query_filter = (&(objectClass=dirmailUser)\n"
	    "  (mail=%s))\n"
	    "result_attribute = maildrop, mail\n"
	    "special_result_attribute = member\n"
	    "leaf_result_attribute = mail\n"
	    "result_format = %u@example.net\n"
	    "domain = example.com example.org\n"
	    "bind = no\n"
	    "bind_dn = cn=dirmail,dc=example,dc=com\n"
	    "bind_pw = secret\n"
	    "start_tls = yes\n"
	    "tls_require_cert = no\n"
	    "version = 3\n"
	    "timeout = 1m\n"
	    "expansion_limit = 5\n"
	    "dereference = 3\n"
	    "recursion_limit = 4\n");
	static const char *const uris[] = {
		"ldap://ldap1.example.com:3389/",
		"ldap://ldap2.example.com:1389/",
		"ldaps://ldap3.example.com/",
		"ldapi://%2Frun%2Fslapd%2Fldapi",
		"ldap://[::1]:3389/",
		"ldap://[::1]:636/",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(uris) / sizeof(uris[0]); i++)
		assert_string_equal(conf->uris[i], uris[i]);
	assert_null(conf->uris[i]);
	assert_int_equal(conf->scope, LDAPC_SCOPE_ONE);
	assert_string_equal(conf->query_filter,
	    "(&(objectClass=dirmailUser) (mail=%s))");
	assert_string_equal(conf->result_attribute[1], "mail");
	assert_string_equal(conf->domain[1], "example.org");
	assert_false(conf->bind);
	assert_true(conf->start_tls);
	assert_int_equal(conf->tls_require_cert, LDAPC_TLS_NEVER);
	assert_int_equal(conf->timeout, 60);
	/* size_limit defaults to expansion_limit, as in Postfix. */
	assert_int_equal(conf->size_limit, 5);
	assert_int_equal(conf->dereference, 3);
	assert_int_equal(conf->recursion_limit, 4);
	ldap_table_conf_free(&conf);
}

struct conf_error_case {
	const char *text;
	const char *want;	/* in the message, after the path */
};

static const struct conf_error_case conf_errors[] = {
	{ "scope = deep\n", ":1: scope: " },
	{ "# c\nversion = 4\n", ":2: version: " },
	{ "server_port = 0\n", ":1: server_port: " },
	{ "timeout = soon\n", ":1: timeout: " },
	{ "timeout = 0\n", ":1: timeout: " },
	{ "query_filter = (uid=%x)\n", ":1: query_filter: " },
	{ "result_format = %\n", ":1: result_format: " },
	{ "bind = maybe\n", ":1: bind: " },
	{ "start_tls = sometimes\n", ":1: start_tls: " },
	{ "tls_require_cert = perhaps\n", ":1: tls_require_cert: " },
	{ "tls_ca_cert_file = /nonexistent/ca.pem\n",
	    ":1: tls_ca_cert_file: " },
	{ "dereference = 4\n", ":1: dereference: " },
	{ "size_limit = -1\n", ":1: size_limit: " },
	{ "\n\nstart_tls = yes\nversion = 2\n", ":3: start_tls: " },
	{ "bind_dn = cn=x,dc=example,dc=com\n", ":1: bind_dn: " },
	{ "server_host = http://ldap.example.com/\n", ":1: server_host: " },
	{ "server_host = ,\n", ":1: server_host: " },
	{ "no equals sign\n", ":1: expected" },
};

/* A bad value stops the open with file:line: name: reason. */
static void
test_conf_errors(void **state)
{
	struct ldap_table_conf *conf = NULL;
	char *path, *error, *want;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(conf_errors) / sizeof(conf_errors[0]); i++) {
		path = write_conf(conf_errors[i].text);
		if (ldap_table_conf_read(path, &conf, &error) == 0)
			fail_msg("\"%s\" accepted", conf_errors[i].text);
		want = xasprintf("%s%s", path, conf_errors[i].want);
		if (strncmp(error, want, strlen(want)) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s...\"",
			    conf_errors[i].text, error, want);
		free(want);
		free(error);
		free(path);
	}
}

/* A bad value is never echoed: it might be the password. */
static void
test_conf_error_hides_value(void **state)
{
	struct ldap_table_conf *conf;
	char *path = write_conf("bind = s3cr3t-value\n"), *error;

	(void)state;
	assert_int_equal(ldap_table_conf_read(path, &conf, &error), -1);
	assert_null(strstr(error, "s3cr3t"));
	free(error);
	free(path);
}

/* Unknown names are warnings, not errors; a missing file is an error. */
static void
test_conf_unknown_and_missing(void **state)
{
	struct ldap_table_conf *conf;
	char *error, *path;

	(void)state;
	conf = read_ok("debuglevel = 0\nresult_attribute = uid\n");
	assert_string_equal(conf->result_attribute[0], "uid");
	ldap_table_conf_free(&conf);
	path = xasprintf("%s/missing.cf", tmpdir);
	assert_int_equal(ldap_table_conf_read(path, &conf, &error), -1);
	assert_non_null(strstr(error, path));
	free(error);
	free(path);
}

/* The domain restriction. */
static void
test_domain(void **state)
{
	struct ldap_table_conf *conf;

	(void)state;
	conf = read_ok("domain = example.com, Example.ORG\n");
	assert_true(ldap_table_domain_ok(conf, "alice@example.com"));
	assert_true(ldap_table_domain_ok(conf, "bob@example.org"));
	assert_true(ldap_table_domain_ok(conf, "@example.com"));
	assert_false(ldap_table_domain_ok(conf, "alice@example.net"));
	assert_false(ldap_table_domain_ok(conf, "alice@sub.example.com"));
	assert_false(ldap_table_domain_ok(conf, "alice"));
	assert_false(ldap_table_domain_ok(conf, "alice@"));
	ldap_table_conf_free(&conf);
	conf = read_ok("\n");
	assert_true(ldap_table_domain_ok(conf, "alice"));
	assert_true(ldap_table_domain_ok(conf, "alice@anything.example"));
	ldap_table_conf_free(&conf);
}

/* Make the temporary directory. */
static int
setup(void **state)
{
	char tmpl[] = "/tmp/test_ldap_table.XXXXXX";

	(void)state;
	if (mkdtemp(tmpl) == NULL)
		return -1;
	tmpdir = xstrdup(tmpl);
	return 0;
}

/* Remove the temporary directory and its files. */
static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	int r = system(cmd);

	(void)state;
	free(cmd);
	free(tmpdir);
	return r == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_check_format),
		cmocka_unit_test(test_conf_defaults),
		cmocka_unit_test(test_conf_values),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_conf_error_hides_value),
		cmocka_unit_test(test_conf_unknown_and_missing),
		cmocka_unit_test(test_domain),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
