/*
 * Unit tests for the dovecot-ldap.conf.ext reader of
 * src/auth/db_ldap_conf.c: the sample files in tests/fixtures/auth-ldap
 * and bad files written to a temporary directory.
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

#include "auth/db_ldap_conf.h"
#include "lib/xalloc.h"

/* Read the fixture NAME, which must be valid. */
static struct db_ldap_conf *
read_fixture(const char *name)
{
	struct db_ldap_conf *conf;
	char *path = xasprintf("%s/%s", AUTH_LDAP_FIXTURES, name), *error;

	if (db_ldap_conf_read(path, &conf, &error) < 0)
		fail_msg("%s", error);
	free(path);
	return conf;
}

/* Write TEXT to a new temporary file and return its path. */
static char *
write_temp(const char *text)
{
	char *path = xstrdup("/tmp/test_db_ldap_conf.XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	return path;
}

/* Assert that FIELD is ATTR -> NAME with TEMPLATE (NULLs allowed). */
static void
assert_field(const struct db_ldap_field *f, const char *attr,
    const char *name, const char *template)
{
	if (attr == NULL)
		assert_null(f->ldap_attr);
	else
		assert_string_equal(f->ldap_attr, attr);
	assert_string_equal(f->name, name);
	if (template == NULL)
		assert_null(f->template);
	else
		assert_string_equal(f->template, template);
}

/* Assert that the NULL-terminated ATTRS are WANT, joined with ",". */
static void
assert_attrs(char **attrs, const char *want)
{
	char buf[512] = "";
	size_t i;

	for (i = 0; attrs[i] != NULL; i++) {
		if (i > 0)
			strcat(buf, ",");
		strcat(buf, attrs[i]);
	}
	assert_string_equal(buf, want);
}

/* The RHEL seed's file: search then bind over ldaps. */
static void
test_rhel_seed(void **state)
{
	struct db_ldap_conf *conf = read_fixture("rhel-seed.conf.ext");

	(void)state;
	assert_string_equal(conf->uris[0], "ldaps://ldap1.example.com");
	assert_string_equal(conf->uris[1], "ldaps://ldap2.example.com:636");
	assert_null(conf->uris[2]);
	assert_string_equal(conf->dn, "");
	assert_string_equal(conf->dnpass, "");
	assert_true(conf->auth_bind);
	assert_string_equal(conf->auth_bind_userdn, "");
	assert_true(conf->tls_require_cert_set);
	assert_int_equal(conf->tls_require_cert, LDAPC_TLS_HARD);
	assert_false(conf->tls);
	assert_int_equal(conf->ldap_version, 3);
	assert_string_equal(conf->base, "ou=people,dc=example,dc=com");
	assert_int_equal(conf->scope, LDAPC_SCOPE_SUB);
	assert_int_equal(conf->deref, 0);
	assert_string_equal(conf->user_filter,
	    "(&(objectclass=posixAccount)(uid=%n))");
	assert_int_equal(conf->user_fields.count, 1);
	assert_field(&conf->user_fields.fields[0], NULL, "home",
	    "%{ldap:homeDirectory}");
	assert_attrs(conf->user_fields.search_attrs, "homeDirectory");
	assert_int_equal(conf->pass_fields.count, 2);
	assert_field(&conf->pass_fields.fields[0], "uid", "user", NULL);
	assert_field(&conf->pass_fields.fields[1], "userPassword",
	    "password", NULL);
	assert_attrs(conf->pass_fields.search_attrs, "uid,userPassword");
	assert_string_equal(conf->default_pass_scheme, "CRYPT");
	db_ldap_conf_free(&conf);
	assert_null(conf);
}

/* A DN template, old "hosts", continuation lines, indented keys. */
static void
test_dn_template(void **state)
{
	struct db_ldap_conf *conf = read_fixture("dn-template.conf.ext");
	const struct db_ldap_fields *uf = &conf->user_fields;

	(void)state;
	assert_string_equal(conf->uris[0], "ldap://ldap.example.com");
	assert_string_equal(conf->uris[1], "ldap://localhost:3890");
	assert_null(conf->uris[2]);
	assert_true(conf->tls);
	assert_false(conf->tls_require_cert_set);
	assert_string_equal(conf->auth_bind_userdn,
	    "uid=%n,ou=people,dc=example,dc=com");
	assert_int_equal(conf->scope, LDAPC_SCOPE_ONE);
	assert_true(conf->blocking);
	assert_int_equal(uf->count, 4);
	assert_field(&uf->fields[0], NULL, "home", "/var/mail/%{ldap:uid}");
	assert_field(&uf->fields[1], NULL, "uid", "vmail");
	assert_field(&uf->fields[2], NULL, "gid", "vmail");
	assert_field(&uf->fields[3], NULL, "mail", "maildir:~/Maildir");
	assert_attrs(uf->search_attrs, "uid");
	/* Defaults. */
	assert_string_equal(conf->pass_filter,
	    "(&(objectClass=posixAccount)(uid=%u))");
	assert_string_equal(conf->iterate_filter,
	    "(objectClass=inetOrgPerson)");
	assert_int_equal(conf->pass_fields.count, 2);
	db_ldap_conf_free(&conf);
}

/* The old attribute syntax, quoted values, comments, unknown keys. */
static void
test_old_attrs(void **state)
{
	struct db_ldap_conf *conf = read_fixture("old-attrs.conf.ext");
	const struct db_ldap_fields *uf = &conf->user_fields;
	const struct db_ldap_fields *pf = &conf->pass_fields;

	(void)state;
	assert_string_equal(conf->dnpass, "s3cret # not a comment");
	assert_string_equal(conf->default_pass_scheme, "SSHA");
	assert_false(conf->auth_bind);
	assert_string_equal(conf->user_filter,
	    "(&(objectClass=posixAccount)(|(uid=%u)(mail=%u)))");
	assert_string_equal(conf->sasl_realm, "EXAMPLE.COM");
	assert_int_equal(uf->count, 4);
	assert_field(&uf->fields[0], "homeDirectory", "home", NULL);
	assert_field(&uf->fields[3], "mail", "mail", "maildir:%$");
	assert_attrs(uf->search_attrs,
	    "homeDirectory,uidNumber,gidNumber,mail");
	assert_int_equal(pf->count, 3);
	assert_field(&pf->fields[2], NULL, "userdb_quota_rule",
	    "*:storage=%{ldap:quota:1G}");
	assert_attrs(pf->search_attrs, "uid,userPassword,quota");
	db_ldap_conf_free(&conf);
}

struct bad_case {
	const char *text;
	const char *error;	/* the whole message after the path */
};

static const struct bad_case bad_cases[] = {
	{ "uris = ldap://a\nscope = sub\n", ":2: scope: use base, onelevel "
	    "or subtree" },
	{ "uris = ldap://a\n\n# c\nderef = sometimes\n", ":4: deref: use "
	    "never, searching, finding or always" },
	{ "uris = ldap://a\ntls_require_cert = maybe\n", ":2: "
	    "tls_require_cert: use never, hard, demand, allow or try" },
	{ "uris = ldap://a\nldap_version = 4\n", ":2: ldap_version: out of "
	    "range" },
	{ "uris = ldap://a\nauth_bind = perhaps\n", ":2: auth_bind: " },
	{ "uris = ldap://a\ndebug_level = x\n", ":2: debug_level: not a "
	    "number" },
	{ "uris = ldap://a\nuser_filter = (uid=%x)\n", ":2: user_filter: "
	    "unknown variable %x" },
	{ "uris = ldap://a\nauth_bind_userdn = uid=%{nope}\n",
	    ":2: auth_bind_userdn: unknown variable %{nope}" },
	{ "uris = ldap://a\nuser_attrs = =home\n", ":2: user_attrs: " },
	{ "uris = ldap://a\nuser_attrs = =home=%{foo:bar}\n",
	    ":2: user_attrs: unknown variable prefix" },
	{ "uris = ldap://a\npass_attrs = uid=\n", ":2: pass_attrs: empty" },
	{ "uris = ldap://a\njust words\n", ":2: expected \"key = value\"" },
	{ "base = dc=x\n", ": uris: no LDAP server" },
	{ "uris = http://a\n", ":1: uris: use ldap://" },
	{ "uris = ldap://a\ndn = cn=x\n", ": dnpass: empty, but dn is set" },
	{ "uris = ldap://a\nldap_version = 2\ntls = yes\n", ":3: tls: needs "
	    "ldap_version = 3" },
	{ "uris = ldap://a\nsasl_bind = yes\n", ": sasl_mech: needed" },
	{ "uris = ldap://a\ntls_cert_file = /dev/null\n",
	    ": tls_key_file: needed with tls_cert_file" },
	{ "uris = ldap://a\ntls_key_file = /dev/null\n",
	    ": tls_cert_file: needed with tls_key_file" },
	{ "uris = ldap://a\ntls_cert_file = /nonexistent/c.pem\n"
	    "tls_key_file = /dev/null\n", ":2: tls_cert_file: cannot "
	    "read /nonexistent/c.pem: No such file" },
	{ "uris = ldap://a\ntls_cert_file = /dev/null\n"
	    "tls_key_file = /nonexistent/k.pem\n", ":3: tls_key_file: cannot "
	    "read /nonexistent/k.pem: No such file" },
};

/* Bad values: "file:line: key: reason", never the value itself. */
static void
test_bad(void **state)
{
	struct db_ldap_conf *conf = NULL;
	char *path, *error, *want;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		path = write_temp(bad_cases[i].text);
		error = NULL;
		if (db_ldap_conf_read(path, &conf, &error) == 0)
			fail_msg("case %zu: accepted", i);
		want = xasprintf("%s%s", path, bad_cases[i].error);
		if (strncmp(error, want, strlen(want)) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, error,
			    want);
		assert_null(conf);
		free(want);
		free(error);
		unlink(path);
		free(path);
	}
}

/* The dnpass never shows in an error, and a missing file is named. */
static void
test_secret_and_missing(void **state)
{
	struct db_ldap_conf *conf;
	char *path, *error;

	(void)state;
	path = write_temp("uris = ldap://a\ndnpass = hunter2\n"
	    "scope = hunter2\n");
	assert_int_equal(db_ldap_conf_read(path, &conf, &error), -1);
	assert_null(strstr(error, "hunter2"));
	free(error);
	unlink(path);
	assert_int_equal(db_ldap_conf_read(path, &conf, &error), -1);
	assert_non_null(strstr(error, path));
	free(error);
	free(path);
}

/* sasl_bind: no dnpass needed, version 3 forced, SASL keys kept. */
static void
test_sasl_bind(void **state)
{
	struct db_ldap_conf *conf;
	char *path, *error = NULL;

	(void)state;
	path = write_temp("uris = ldapi://%2Frun%2Fldapi\nldap_version = 2\n"
	    "sasl_bind = yes\nsasl_mech = GSSAPI\nsasl_realm = EXAMPLE.COM\n"
	    "sasl_authz_id = dn:cn=dirmail\ndn = dirmail\n"
	    "tls_cert_file = /dev/null\ntls_key_file = /dev/null\n");
	if (db_ldap_conf_read(path, &conf, &error) < 0)
		fail_msg("%s", error);
	assert_true(conf->sasl_bind);
	assert_int_equal(conf->ldap_version, 3);
	assert_string_equal(conf->sasl_mech, "GSSAPI");
	assert_string_equal(conf->sasl_realm, "EXAMPLE.COM");
	assert_string_equal(conf->sasl_authz_id, "dn:cn=dirmail");
	assert_string_equal(conf->dn, "dirmail");
	assert_string_equal(conf->dnpass, "");
	assert_string_equal(conf->tls_cert_file, "/dev/null");
	assert_string_equal(conf->tls_key_file, "/dev/null");
	db_ldap_conf_free(&conf);
	unlink(path);
	free(path);
}

/* Attribute lists: commas inside %{...} defaults, spaces, bare names. */
static void
test_fields_parse(void **state)
{
	struct db_ldap_fields f;
	const char *error;

	(void)state;
	assert_int_equal(db_ldap_fields_parse(" mail , =x=%{ldap:a:b,c},"
	    "=y=%{ldap:MAIL}%Lu,,", &f, &error), 0);
	assert_int_equal(f.count, 3);
	assert_field(&f.fields[0], "mail", "mail", NULL);
	assert_field(&f.fields[1], NULL, "x", "%{ldap:a:b,c}");
	assert_field(&f.fields[2], NULL, "y", "%{ldap:MAIL}%Lu");
	assert_attrs(f.search_attrs, "mail,a");
	db_ldap_fields_clear(&f);
	assert_int_equal(db_ldap_fields_parse("", &f, &error), 0);
	assert_int_equal(f.count, 0);
	assert_null(f.search_attrs[0]);
	db_ldap_fields_clear(&f);
	assert_int_equal(db_ldap_fields_parse("=uid", &f, &error), -1);
	assert_int_equal(db_ldap_fields_parse("==x", &f, &error), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rhel_seed),
		cmocka_unit_test(test_dn_template),
		cmocka_unit_test(test_old_attrs),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_secret_and_missing),
		cmocka_unit_test(test_sasl_bind),
		cmocka_unit_test(test_fields_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
