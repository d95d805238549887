/*
 * Unit tests of qmgr's transport resolution (src/queue/qmgr_transport.c):
 * transport_maps keys and values, the address classes with their default
 * transports, relayhost; and the back-off and expiry rules.
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "global/params.h"
#include "lib/cfg.h"
#include "lib/xalloc.h"
#include "queue/qmgr_transport.h"
#include "testdir.h"

static const char base_cf[] =
    "myhostname = mail.example.org\n"
    "mydomain = example.org\n"
    "mydestination = $myhostname, localhost\n"
    "virtual_mailbox_domains = virt.example\n"
    "virtual_alias_domains = alias.example\n"
    "relay_domains = relay.example\n"
    "alias_maps =\n"
    "local_recipient_maps =\n";

static const char transport_text[] =
    "special@virt.example lmtp:unix:/run/dovecot/lmtp\n"
    "gw.example smtp:[gw.example.net]:2525\n"
    ".sub.example relay:\n"
    "lmtp.example lmtp:inet:lmtp.example.net:24\n"
    "bounce.example error:5.1.1 gone away\n"
    "sink.example discard:\n"
    "nohop.example :[nexthop.example.net]\n"
    "odd.example bogus:x\n";

/* A configuration of the base, transport_maps (when MAPS) and EXTRA. */
static struct qmgr_transports *
open_transports(bool maps, const char *extra, struct cfg **cfg_r)
{
	struct qmgr_transports *t;
	char *text, *path, *error, *defaults[1] = { NULL };

	free(testdir_write("transport", transport_text));
	text = xasprintf("%squeue_directory = %s\n%s%s", base_cf, testdir,
	    maps ? "transport_maps = texthash:$queue_directory/transport\n" :
	    "", extra);
	path = testdir_write("dirmail.cf", text);
	if (cfg_load(dirmail_params, dirmail_params_count, path, defaults,
	    NULL, false, cfg_r, &error) < 0)
		fail_msg("%s", error);
	if (qmgr_transports_init(*cfg_r, &t, &error) < 0)
		fail_msg("qmgr_transports_init: %s", error);
	free(path);
	free(text);
	return t;
}

struct route_case {
	const char *addr;
	const char *transport, *nexthop;
	enum qmgr_agent agent;
};

/* Check every case of CASES (N of them) against one configuration. */
static void
check_routes(bool maps, const char *extra, const struct route_case *cases,
    size_t n)
{
	struct qmgr_transports *t;
	struct qmgr_route route;
	const char *error;
	struct cfg *cfg;
	size_t i;

	t = open_transports(maps, extra, &cfg);
	for (i = 0; i < n; i++) {
		if (qmgr_route_find(t, cases[i].addr, &route, &error) < 0)
			fail_msg("%s: %s", cases[i].addr, error);
		if (strcmp(route.transport, cases[i].transport) != 0 ||
		    strcmp(route.nexthop, cases[i].nexthop) != 0 ||
		    route.agent != cases[i].agent)
			fail_msg("%s: got %s:%s (%d), want %s:%s (%d)",
			    cases[i].addr, route.transport, route.nexthop,
			    route.agent, cases[i].transport, cases[i].nexthop,
			    cases[i].agent);
		qmgr_route_clear(&route);
	}
	qmgr_transports_free(&t);
	assert_null(t);
	cfg_free(&cfg);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
test_address_classes(void **state)
{
	static const struct route_case cases[] = {
		{ "root@mail.example.org", "local", "mail.example.org",
		  QMGR_AGENT_LOCAL },
		{ "root@localhost", "local", "mail.example.org",
		  QMGR_AGENT_LOCAL },
		{ "a@virt.example", "virtual", "virt.example",
		  QMGR_AGENT_LOCAL },
		{ "a@relay.example", "relay", "relay.example",
		  QMGR_AGENT_SMTP },
		{ "a@remote.example", "smtp", "remote.example",
		  QMGR_AGENT_SMTP },
		{ "left@alias.example", "error",
		  "User unknown in virtual alias table", QMGR_AGENT_ERROR },
	};

	(void)state;
	check_routes(false, "", cases, N(cases));
}

static void
test_relayhost_and_transports(void **state)
{
	static const struct route_case cases[] = {
		{ "a@remote.example", "smtp", "[smarthost.example]:587",
		  QMGR_AGENT_SMTP },
		{ "a@relay.example", "relay", "[smarthost.example]:587",
		  QMGR_AGENT_SMTP },
		{ "a@virt.example", "lmtp", "unix:/run/lmtp",
		  QMGR_AGENT_SMTP },
		{ "root@localhost", "local", "mail.example.org",
		  QMGR_AGENT_LOCAL },
	};

	(void)state;
	check_routes(false, "relayhost = [smarthost.example]:587\n"
	    "virtual_transport = lmtp:unix:/run/lmtp\n", cases, N(cases));
}

static void
test_transport_maps(void **state)
{
	static const struct route_case cases[] = {
		/* The full address before the domain. */
		{ "special@virt.example", "lmtp", "unix:/run/dovecot/lmtp",
		  QMGR_AGENT_SMTP },
		{ "other@virt.example", "virtual", "virt.example",
		  QMGR_AGENT_LOCAL },
		{ "a@gw.example", "smtp", "[gw.example.net]:2525",
		  QMGR_AGENT_SMTP },
		/* "gw.example" does not match a subdomain; ".sub.example"
		   matches every subdomain but not sub.example itself. */
		{ "a@x.gw.example", "smtp", "x.gw.example", QMGR_AGENT_SMTP },
		{ "a@x.y.sub.example", "relay", "x.y.sub.example",
		  QMGR_AGENT_SMTP },
		{ "a@sub.example", "smtp", "sub.example", QMGR_AGENT_SMTP },
		{ "a@lmtp.example", "lmtp", "inet:lmtp.example.net:24",
		  QMGR_AGENT_SMTP },
		{ "a@bounce.example", "error", "5.1.1 gone away",
		  QMGR_AGENT_ERROR },
		{ "a@sink.example", "discard", "", QMGR_AGENT_DISCARD },
		/* An empty transport keeps the class's. */
		{ "a@nohop.example", "smtp", "[nexthop.example.net]",
		  QMGR_AGENT_SMTP },
		{ "a@odd.example", "bogus", "x", QMGR_AGENT_NONE },
		/* Keys are case-insensitive. */
		{ "A@GW.Example", "smtp", "[gw.example.net]:2525",
		  QMGR_AGENT_SMTP },
	};

	(void)state;
	check_routes(true, "", cases, N(cases));
}

static void
test_wildcard(void **state)
{
	static const struct route_case cases[] = {
		{ "a@gw.example", "smtp", "[gw.example.net]:2525",
		  QMGR_AGENT_SMTP },
		{ "a@anything.example", "smtp", "[catchall.example]",
		  QMGR_AGENT_SMTP },
	};
	char *path;

	(void)state;
	/* "*" is looked up last. */
	path = testdir_write("transport2", "gw.example smtp:[gw.example.net]"
	    ":2525\n* smtp:[catchall.example]\n");
	free(path);
	check_routes(false, "transport_maps = "
	    "texthash:$queue_directory/transport2\n", cases, N(cases));
}

static void
test_table_failure_defers(void **state)
{
	struct qmgr_transports *t;
	struct qmgr_route route;
	const char *error = NULL;
	struct cfg *cfg;

	(void)state;
	/* An lmdb table whose file is missing cannot answer. */
	t = open_transports(false, "transport_maps = "
	    "lmdb:$queue_directory/missing\n", &cfg);
	assert_int_equal(qmgr_route_find(t, "a@remote.example", &route,
	    &error), -1);
	assert_non_null(error);
	qmgr_transports_free(&t);
	cfg_free(&cfg);
}

static void
test_backoff(void **state)
{
	static const struct {
		double age;
		long long want;
	} cases[] = {
		{ 0, 300 }, { 10.5, 300 }, { 300, 300 }, { 1000.9, 1000 },
		{ 3999, 3999 }, { 4000, 4000 }, { 90000, 4000 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N(cases); i++)
		assert_int_equal(qmgr_backoff(cases[i].age, 300, 4000),
		    cases[i].want);
}

static void
test_expired_dsn(void **state)
{
	char buf[16];

	(void)state;
	assert_string_equal(qmgr_expired_dsn("4.4.1", buf, sizeof(buf)),
	    "5.4.1");
	assert_string_equal(qmgr_expired_dsn("4.3.0", buf, sizeof(buf)),
	    "5.3.0");
	assert_string_equal(qmgr_expired_dsn("", buf, sizeof(buf)), "5.4.7");
	assert_string_equal(qmgr_expired_dsn(NULL, buf, sizeof(buf)),
	    "5.4.7");
}

static void
test_agents(void **state)
{
	(void)state;
	assert_int_equal(qmgr_agent_of("local"), QMGR_AGENT_LOCAL);
	assert_int_equal(qmgr_agent_of("virtual"), QMGR_AGENT_LOCAL);
	assert_int_equal(qmgr_agent_of("relay"), QMGR_AGENT_SMTP);
	assert_int_equal(qmgr_agent_of("lmtp"), QMGR_AGENT_SMTP);
	assert_int_equal(qmgr_agent_of("error"), QMGR_AGENT_ERROR);
	assert_int_equal(qmgr_agent_of("discard"), QMGR_AGENT_DISCARD);
	assert_int_equal(qmgr_agent_of("uucp"), QMGR_AGENT_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address_classes),
		cmocka_unit_test(test_relayhost_and_transports),
		cmocka_unit_test(test_transport_maps),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_table_failure_defers),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_expired_dsn),
		cmocka_unit_test(test_agents),
	};

	return cmocka_run_group_tests(tests, testdir_setup, testdir_teardown);
}
