/*
 * Tests of the LDAP connection object (src/ldap/ldapc.c) against a real
 * slapd.  They need the server's address in the environment, as
 * tests/integration/slapd_fixture.py writes it (LDAP_URI, BASE,
 * BIND_DN, BIND_PW, DEAD_URI), and are skipped without it; the
 * integration test test_ldap_table.py runs this program with them.
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ldap/ldapc.h"
#include "lib/xalloc.h"

#define ALICE_DN	"uid=alice,ou=people,dc=example,dc=com"

/* Return the environment variable NAME, or skip the test. */
static const char *
env_or_skip(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		skip();
	return v;
}

/* Make a connection to URIS (NULL-terminated), bound as BIND_DN if set. */
static struct ldapc *
conn_make(char *const *uris, const char *bind_dn, const char *bind_pw)
{
	struct ldapc_settings set = {
		.uris = uris,
		.bind_dn = bind_dn,
		.bind_pw = bind_pw,
		.tls_require_cert = LDAPC_TLS_DEMAND,
		.version = 3,
		.net_timeout = 5,
		.op_timeout = 5,
	};
	struct ldapc *conn;
	char *error;

	if (ldapc_new(&set, &conn, &error) < 0)
		fail_msg("%s", error);
	return conn;
}

/* A search after a failover returns entries, DNs and values. */
static void
test_search_after_failover(void **state)
{
	char *uris[] = { (char *)(uintptr_t)env_or_skip("DEAD_URI"),
	    (char *)(uintptr_t)env_or_skip("LDAP_URI"), NULL };
	const char *const attrs[] = { "uid", "mailacceptinggeneralid", NULL };
	struct ldapc_query q = {
		.base = env_or_skip("BASE"),
		.scope = LDAPC_SCOPE_SUB,
		.filter = "(uid=alice)",
		.attrs = attrs,
	};
	struct ldapc_result *res;
	struct ldapc *conn;
	char *const *v;
	char *error;

	(void)state;
	conn = conn_make(uris, env_or_skip("BIND_DN"), env_or_skip("BIND_PW"));
	assert_null(ldapc_current_uri(conn));
	if (ldapc_search(conn, &q, &res, &error) < 0)
		fail_msg("%s", error);
	assert_string_equal(ldapc_current_uri(conn), uris[1]);
	assert_int_equal(res->count, 1);
	assert_string_equal(res->entries[0].dn, ALICE_DN);
	v = ldapc_entry_values(&res->entries[0], "MailAcceptingGeneralId");
	assert_non_null(v);
	assert_string_equal(v[0], "alice@example.com");
	assert_string_equal(v[1], "a.smith@example.com");
	assert_null(v[2]);
	assert_null(ldapc_entry_values(&res->entries[0], "userPassword"));
	ldapc_result_free(&res);
	assert_null(res);
	/* No entry is success with nothing in it. */
	q.filter = "(uid=nobody)";
	assert_int_equal(ldapc_search(conn, &q, &res, &error), 0);
	assert_int_equal(res->count, 0);
	ldapc_result_free(&res);
	ldapc_free(&conn);
	assert_null(conn);
}

/* A missing base is an error unless the query allows it. */
static void
test_missing_base(void **state)
{
	char *uris[] = { (char *)(uintptr_t)env_or_skip("LDAP_URI"), NULL };
	struct ldapc_query q = {
		.base = "ou=nowhere,dc=example,dc=com",
		.scope = LDAPC_SCOPE_BASE,
		.filter = "(objectClass=*)",
	};
	struct ldapc_result *res;
	struct ldapc *conn = conn_make(uris, NULL, NULL);
	char *error;

	(void)state;
	assert_int_equal(ldapc_search(conn, &q, &res, &error), -1);
	assert_non_null(strstr(error, "No such object"));
	free(error);
	q.base_may_be_missing = true;
	assert_int_equal(ldapc_search(conn, &q, &res, &error), 0);
	assert_int_equal(res->count, 0);
	ldapc_result_free(&res);
	ldapc_free(&conn);
}

/* Password checks: right, wrong, empty, unknown DN. */
static void
test_check_password(void **state)
{
	char *uris[] = { (char *)(uintptr_t)env_or_skip("LDAP_URI"), NULL };
	struct ldapc *conn = conn_make(uris, NULL, NULL);
	char *error = NULL;

	(void)state;
	assert_int_equal(ldapc_check_password(conn, ALICE_DN,
	    "alice-password", &error), 1);
	assert_int_equal(ldapc_check_password(conn, ALICE_DN,
	    "bob-password", &error), 0);
	/* An empty password would be an anonymous bind that succeeds. */
	assert_int_equal(ldapc_check_password(conn, ALICE_DN, "", &error), 0);
	assert_int_equal(ldapc_check_password(conn,
	    "uid=nobody,ou=people,dc=example,dc=com", "x", &error), 0);
	assert_int_equal(ldapc_check_password(conn, ALICE_DN,
	    "alice-password", &error), 1);
	assert_null(error);
	ldapc_free(&conn);
}

/* No server: every call is a temporary failure with a reason. */
static void
test_no_server(void **state)
{
	char *uris[] = { (char *)(uintptr_t)env_or_skip("DEAD_URI"), NULL };
	struct ldapc_query q = {
		.base = "dc=example,dc=com",
		.filter = "(uid=alice)",
	};
	struct ldapc *conn = conn_make(uris, "cn=x", "top-secret");
	struct ldapc_result *res;
	char *error;

	(void)state;
	assert_int_equal(ldapc_search(conn, &q, &res, &error), -1);
	assert_non_null(strstr(error, "no LDAP server available"));
	assert_null(strstr(error, "top-secret"));
	free(error);
	assert_int_equal(ldapc_check_password(conn, ALICE_DN, "pw", &error),
	    -1);
	free(error);
	ldapc_free(&conn);
}

/* Settings that cannot work are refused before any network traffic. */
static void
test_bad_settings(void **state)
{
	char *bad_uri[] = { "http://127.0.0.1/", NULL };
	char *good_uri[] = { "ldap://127.0.0.1/", NULL };
	struct ldapc_settings set = {
		.uris = bad_uri, .version = 3, .net_timeout = 1,
		.op_timeout = 1,
	};
	struct ldapc *conn;
	char *error;

	(void)state;
	assert_int_equal(ldapc_new(&set, &conn, &error), -1);
	free(error);
	set.uris = good_uri;
	set.version = 2;
	set.start_tls = true;
	assert_int_equal(ldapc_new(&set, &conn, &error), -1);
	free(error);
	set.version = 3;
	set.deref = 4;
	assert_int_equal(ldapc_new(&set, &conn, &error), -1);
	free(error);
	set.deref = 0;
	assert_int_equal(ldapc_new(&set, &conn, &error), 0);
	ldapc_free(&conn);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_settings),
		cmocka_unit_test(test_search_after_failover),
		cmocka_unit_test(test_missing_base),
		cmocka_unit_test(test_check_password),
		cmocka_unit_test(test_no_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
