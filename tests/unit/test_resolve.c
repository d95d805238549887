/*
 * Unit tests for the recipient resolver (src/global/resolve.c): address
 * classes and sender-specified routing, virtual alias expansion and the
 * recipient tables, with texthash tables in a temporary directory and
 * lmdb tables that cannot answer.
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "global/addr.h"
#include "global/params.h"
#include "global/resolve.h"
#include "lib/cfg.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "testdir.h"

static const char base_cf[] =
    "myhostname = mail.example.org\n"
    "mydomain = example.org\n"
    "mydestination = $myhostname, localhost.$mydomain, localhost,"
    " example.org\n"
    "virtual_alias_domains = alias.example, catch.example, old.example\n"
    "virtual_mailbox_domains = virt.example\n"
    "relay_domains = relay.example, .sub.example\n"
    "alias_maps =\n"
    "local_recipient_maps = texthash:$queue_directory/local\n"
    "virtual_alias_maps = texthash:$queue_directory/valias\n"
    "virtual_mailbox_maps = texthash:$queue_directory/vmailbox\n"
    "recipient_delimiter = +\n";

static const char valias_text[] =
    "list@alias.example a@virt.example, b@virt.example  c@remote.example\n"
    "nested@alias.example list@alias.example,d@virt.example\n"
    "@catch.example catchall@virt.example\n"
    "vip@catch.example d@virt.example\n"
    "@old.example @virt.example\n"
    "self@virt.example self@virt.example, archive@virt.example\n"
    "loop1@alias.example loop2@alias.example\n"
    "loop2@alias.example loop1@alias.example\n"
    "chain1@alias.example chain2@alias.example\n"
    "chain2@alias.example chain3@alias.example\n"
    "chain3@alias.example d@virt.example\n"
    "dangling@alias.example nobody@alias.example\n"
    "mixed@alias.example nobody@virt.example, nobody@localhost\n"
    "route@alias.example u%remote.example@localhost\n"
    "postmaster root\n"
    "user@virt.example real@virt.example\n"
    "empty@alias.example ,\n"
    "bob@remote.example d@virt.example\n";

static const char vmailbox_text[] =
    "a@virt.example a\n" "b@virt.example b\n" "d@virt.example d\n"
    "catchall@virt.example catchall\n" "self@virt.example self\n"
    "archive@virt.example archive\n" "real@virt.example real\n";

static const char local_text[] = "root x\nbob x\n";

static const char relay_text[] = "known@relay.example x\n@all.sub.example x\n";

/* Write the tables and load a configuration: the base plus EXTRA. */
static struct cfg *
load_cfg(const char *extra)
{
	char *text, *path, *error, *defaults[2];
	struct cfg *cfg;

	free(testdir_write("valias", valias_text));
	free(testdir_write("vmailbox", vmailbox_text));
	free(testdir_write("local", local_text));
	free(testdir_write("relay", relay_text));
	text = xasprintf("%squeue_directory = %s\n%s", base_cf, testdir,
	    extra);
	path = testdir_write("dirmail.cf", text);
	defaults[0] = NULL;
	if (cfg_load(dirmail_params, dirmail_params_count, path, defaults,
	    NULL, false, &cfg, &error) < 0)
		fail_msg("%s", error);
	free(path);
	free(text);
	return cfg;
}

/* Start a resolver on the base configuration plus EXTRA. */
static struct resolve *
open_resolver(const char *extra, struct cfg **cfg_r)
{
	struct resolve *r;
	char *error;

	*cfg_r = load_cfg(extra);
	if (resolve_init(*cfg_r, &r, &error) < 0)
		fail_msg("resolve_init: %s", error);
	return r;
}

/* Resolve ADDR with the base configuration plus EXTRA into *RES (the
   caller clears it). */
static void
resolve_with(const char *extra, const char *addr, struct resolved *res)
{
	struct resolve *r;
	struct cfg *cfg;
	const char *error;

	r = open_resolver(extra, &cfg);
	if (resolve_addr(r, addr, res, &error) < 0)
		fail_msg("%s: %s", addr, error);
	resolve_free(&r);
	assert_null(r);
	cfg_free(&cfg);
}

static const struct {
	const char *extra;	/* configuration lines */
	const char *addr;
	enum addr_class class;
	const char *want;	/* the rewritten address */
	bool rewritten;
} addr_cases[] = {
	{ "", "u@localhost", ADDR_CLASS_LOCAL, "u@localhost", false },
	{ "", "u@LOCALHOST", ADDR_CLASS_LOCAL, "u@localhost", false },
	{ "", "u@Mail.Example.ORG.", ADDR_CLASS_LOCAL,
	    "u@mail.example.org", false },
	{ "", "u@example.org", ADDR_CLASS_LOCAL, "u@example.org", false },
	{ "", "u@sub.example.org", ADDR_CLASS_DEFAULT, "u@sub.example.org",
	    false },
	{ "", "u", ADDR_CLASS_LOCAL, "u", false },
	{ "", "u@alias.example", ADDR_CLASS_ALIAS, "u@alias.example", false },
	{ "", "u@virt.example", ADDR_CLASS_VIRTUAL, "u@virt.example", false },
	{ "", "u@relay.example", ADDR_CLASS_RELAY, "u@relay.example", false },
	{ "", "u@a.relay.example", ADDR_CLASS_RELAY, "u@a.relay.example",
	    false },
	{ "", "u@sub.example", ADDR_CLASS_DEFAULT, "u@sub.example", false },
	{ "", "u@a.sub.example", ADDR_CLASS_RELAY, "u@a.sub.example", false },
	{ "", "u@notrelay.example", ADDR_CLASS_DEFAULT, "u@notrelay.example",
	    false },
	{ "", "u@remote.example", ADDR_CLASS_DEFAULT, "u@remote.example",
	    false },
	/* The percent hack. */
	{ "", "u%remote.example@localhost", ADDR_CLASS_DEFAULT,
	    "u@remote.example", true },
	{ "", "u%remote.example%localhost@localhost", ADDR_CLASS_DEFAULT,
	    "u@remote.example", true },
	{ "", "u%virt.example@localhost", ADDR_CLASS_VIRTUAL,
	    "u@virt.example", true },
	{ "", "u%remote.example", ADDR_CLASS_DEFAULT, "u@remote.example",
	    true },
	{ "", "u%REMOTE.example@localhost", ADDR_CLASS_DEFAULT,
	    "u@remote.example", true },
	{ "", "%remote.example@localhost", ADDR_CLASS_LOCAL,
	    "%remote.example@localhost", false },
	{ "", "u%@localhost", ADDR_CLASS_LOCAL, "u%@localhost", false },
	{ "", "u%remote.example@virt.example", ADDR_CLASS_VIRTUAL,
	    "u%remote.example@virt.example", false },
	{ "allow_percent_hack = no\n", "u%remote.example@localhost",
	    ADDR_CLASS_LOCAL, "u%remote.example@localhost", false },
	/* Bang paths. */
	{ "", "remote.example!u@localhost", ADDR_CLASS_DEFAULT,
	    "u@remote.example", true },
	{ "", "a.example!b.example!u@localhost", ADDR_CLASS_DEFAULT,
	    "b.example!u@a.example", true },
	{ "", "localhost!remote.example!u@localhost", ADDR_CLASS_DEFAULT,
	    "u@remote.example", true },
	{ "", "remote.example!u%other.example@localhost", ADDR_CLASS_DEFAULT,
	    "u%other.example@remote.example", true },
	{ "", "remote.example!u", ADDR_CLASS_DEFAULT, "u@remote.example",
	    true },
	{ "", "!u@localhost", ADDR_CLASS_LOCAL, "!u@localhost", false },
	{ "swap_bangpath = no\n", "remote.example!u@localhost",
	    ADDR_CLASS_LOCAL, "remote.example!u@localhost", false },
	{ "swap_bangpath = no\n", "remote.example!u%other.example@localhost",
	    ADDR_CLASS_DEFAULT, "remote.example!u@other.example", true },
	/* A quoted local part that holds "@". */
	{ "", "u@remote.example@localhost", ADDR_CLASS_DEFAULT,
	    "u@remote.example", true },
	{ "", "u@REMOTE.example@example.org", ADDR_CLASS_DEFAULT,
	    "u@remote.example", true },
	{ "", "u@@localhost", ADDR_CLASS_LOCAL, "u@@localhost", false },
	{ "resolve_dequoted_address = no\n", "u@remote.example@localhost",
	    ADDR_CLASS_LOCAL, "u@remote.example@localhost", false },
	{ "resolve_dequoted_address = no\n",
	    "u%remote.example@remote.example@localhost", ADDR_CLASS_LOCAL,
	    "u%remote.example@remote.example@localhost", false },
	/* IP literals and numeric domains are never ours. */
	{ "", "u@[192.0.2.1]", ADDR_CLASS_DEFAULT, "u@[192.0.2.1]", false },
	{ "", "u@[127.0.0.1]", ADDR_CLASS_DEFAULT, "u@[127.0.0.1]", false },
	{ "", "u@[ipv6:2001:db8::1]", ADDR_CLASS_DEFAULT,
	    "u@[ipv6:2001:db8::1]", false },
	{ "", "u@192.0.2.1", ADDR_CLASS_DEFAULT, "u@192.0.2.1", false },
	{ "mydestination = localhost, 192.0.2.1\n", "u@192.0.2.1",
	    ADDR_CLASS_DEFAULT, "u@192.0.2.1", false },
	{ "", "u%192.0.2.1@localhost", ADDR_CLASS_DEFAULT, "u@192.0.2.1",
	    true },
	{ "", "u%[192.0.2.1]@localhost", ADDR_CLASS_DEFAULT,
	    "u@[192.0.2.1]", true },
	/* Domain lists from tables. */
	{ "virtual_mailbox_domains = texthash:$queue_directory/vmailbox\n",
	    "u@virt.example", ADDR_CLASS_DEFAULT, "u@virt.example", false },
	{ "virtual_alias_domains = texthash:$queue_directory/domains\n",
	    "u@tabled.example", ADDR_CLASS_ALIAS, "u@tabled.example", false },
	{ "relay_domains = texthash:$queue_directory/domains\n",
	    "u@x.tabled.example", ADDR_CLASS_RELAY, "u@x.tabled.example",
	    false },
	{ "relay_domains = texthash:$queue_directory/domains\n",
	    "u@x.dotted.example", ADDR_CLASS_RELAY, "u@x.dotted.example",
	    false },
	{ "relay_domains = texthash:$queue_directory/domains\n",
	    "u@dotted.example", ADDR_CLASS_DEFAULT, "u@dotted.example",
	    false },
};

/* Classes and sender-specified routing, option by option. */
static void
test_resolve_addr(void **state)
{
	struct resolved res;
	size_t i;

	(void)state;
	free(testdir_write("domains", "tabled.example x\n.dotted.example x\n"));
	for (i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
		resolve_with(addr_cases[i].extra, addr_cases[i].addr, &res);
		if (res.class != addr_cases[i].class ||
		    strcmp(res.addr, addr_cases[i].want) != 0 ||
		    res.rewritten != addr_cases[i].rewritten)
			fail_msg("%s%s: got %d %s %d, want %d %s %d",
			    addr_cases[i].extra, addr_cases[i].addr,
			    res.class, res.addr, res.rewritten,
			    addr_cases[i].class, addr_cases[i].want,
			    addr_cases[i].rewritten);
		resolved_clear(&res);
	}
}

static const struct {
	const char *extra;	/* configuration lines */
	const char *addr;
	enum addr_class class;
	bool routed;
} routed_cases[] = {
	/* Operators left in a local part outside the local domains. */
	{ "", "u%remote.example@virt.example", ADDR_CLASS_VIRTUAL, true },
	{ "", "remote.example!u@virt.example", ADDR_CLASS_VIRTUAL, true },
	{ "", "u@remote.example@virt.example", ADDR_CLASS_VIRTUAL, true },
	{ "", "u%remote.example@alias.example", ADDR_CLASS_ALIAS, true },
	{ "", "u!x@remote.example", ADDR_CLASS_DEFAULT, true },
	{ "", "remote.example!u%other.example@localhost",
	    ADDR_CLASS_DEFAULT, true },
	/* A relay domain's next hop could act on them: not relayed. */
	{ "", "u%remote.example@relay.example", ADDR_CLASS_DEFAULT, true },
	{ "", "u%remote.example@a.sub.example", ADDR_CLASS_DEFAULT, true },
	{ "", "remote.example!u@relay.example", ADDR_CLASS_DEFAULT, true },
	/* None left, or in a local domain (rewritten or kept). */
	{ "", "u@virt.example", ADDR_CLASS_VIRTUAL, false },
	{ "", "u.x+y@relay.example", ADDR_CLASS_RELAY, false },
	{ "", "u%virt.example@localhost", ADDR_CLASS_VIRTUAL, false },
	{ "", "u%@localhost", ADDR_CLASS_LOCAL, false },
	{ "allow_percent_hack = no\n", "u%remote.example@localhost",
	    ADDR_CLASS_LOCAL, false },
	{ "", "u@remote.example", ADDR_CLASS_DEFAULT, false },
};

/* Routing operators left after resolution: the "routed" flag. */
static void
test_resolve_routed(void **state)
{
	struct resolved res;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(routed_cases) / sizeof(routed_cases[0]); i++) {
		resolve_with(routed_cases[i].extra, routed_cases[i].addr, &res);
		if (res.class != routed_cases[i].class ||
		    res.routed != routed_cases[i].routed)
			fail_msg("%s%s: got %d %d, want %d %d",
			    routed_cases[i].extra, routed_cases[i].addr,
			    res.class, res.routed, routed_cases[i].class,
			    routed_cases[i].routed);
		resolved_clear(&res);
	}
}

static const struct {
	const char *path;
	enum addr_class class;
	const char *want;
} path_cases[] = {
	{ "<@localhost:u@remote.example>", ADDR_CLASS_DEFAULT,
	    "u@remote.example" },
	{ "<@remote.example:u@localhost>", ADDR_CLASS_LOCAL, "u@localhost" },
	{ "<\"u@remote.example\"@localhost>", ADDR_CLASS_DEFAULT,
	    "u@remote.example" },
	{ "<\"u%remote.example\"@localhost>", ADDR_CLASS_DEFAULT,
	    "u@remote.example" },
	{ "<U@LocalHost>", ADDR_CLASS_LOCAL, "U@localhost" },
	{ "<u@[192.0.2.1]>", ADDR_CLASS_DEFAULT, "u@[192.0.2.1]" },
};

/* Paths as a client sends them, parsed then resolved. */
static void
test_resolve_parsed(void **state)
{
	const char *rest, *error;
	struct resolved res;
	struct resolve *r;
	struct cfg *cfg;
	char *addr;
	size_t i;

	(void)state;
	r = open_resolver("", &cfg);
	for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		if (addr_parse_path(path_cases[i].path, false, false, &addr,
		    &rest, &error) < 0)
			fail_msg("%s: %s", path_cases[i].path, error);
		assert_int_equal(resolve_addr(r, addr, &res, &error), 0);
		if (res.class != path_cases[i].class ||
		    strcmp(res.addr, path_cases[i].want) != 0)
			fail_msg("%s: got %d %s", path_cases[i].path,
			    res.class, res.addr);
		resolved_clear(&res);
		free(addr);
	}
	resolve_free(&r);
	cfg_free(&cfg);
}

#define OK	RCPT_OK
#define UNKNOWN	RCPT_UNKNOWN
#define TEMP	RCPT_TEMPFAIL

static const struct {
	const char *extra;
	const char *addr;
	enum rcpt_status status;
	enum addr_class class;
	const char *want;	/* OK: the final addresses; UNKNOWN: the
				   table (l, a, v, r); TEMPFAIL: in error */
} rcpt_cases[] = {
	/* Virtual alias expansion. */
	{ "", "list@alias.example", OK, ADDR_CLASS_ALIAS,
	    "a@virt.example b@virt.example c@remote.example" },
	{ "", "LIST@Alias.Example", OK, ADDR_CLASS_ALIAS,
	    "a@virt.example b@virt.example c@remote.example" },
	{ "", "nested@alias.example", OK, ADDR_CLASS_ALIAS,
	    "a@virt.example d@virt.example b@virt.example c@remote.example" },
	{ "", "anyone@catch.example", OK, ADDR_CLASS_ALIAS,
	    "catchall@virt.example" },
	/* An unmatched extension goes on to the alias results (Postfix's
	   propagate_unmatched_extensions). */
	{ "", "vip@catch.example", OK, ADDR_CLASS_ALIAS, "d@virt.example" },
	{ "", "vip+tag@catch.example", OK, ADDR_CLASS_ALIAS,
	    "d+tag@virt.example" },
	{ "", "a@old.example", OK, ADDR_CLASS_ALIAS, "a@virt.example" },
	{ "", "zz@old.example", UNKNOWN, ADDR_CLASS_ALIAS, "v" },
	{ "", "self@virt.example", OK, ADDR_CLASS_VIRTUAL,
	    "self@virt.example archive@virt.example" },
	{ "", "chain1@alias.example", OK, ADDR_CLASS_ALIAS,
	    "d@virt.example" },
	{ "virtual_alias_recursion_limit = 2\n", "chain1@alias.example",
	    TEMP, ADDR_CLASS_ALIAS, "virtual alias expansion limit exceeded" },
	{ "virtual_alias_recursion_limit = 3\n", "chain1@alias.example",
	    OK, ADDR_CLASS_ALIAS, "d@virt.example" },
	{ "", "loop1@alias.example", TEMP, ADDR_CLASS_ALIAS,
	    "virtual alias expansion limit exceeded" },
	{ "virtual_alias_expansion_limit = 3\n", "list@alias.example", OK,
	    ADDR_CLASS_ALIAS,
	    "a@virt.example b@virt.example c@remote.example" },
	{ "virtual_alias_expansion_limit = 3\n", "nested@alias.example",
	    TEMP, ADDR_CLASS_ALIAS, "virtual alias expansion limit exceeded" },
	{ "", "unknown@alias.example", UNKNOWN, ADDR_CLASS_ALIAS, "a" },
	{ "", "dangling@alias.example", UNKNOWN, ADDR_CLASS_ALIAS, "a" },
	{ "", "empty@alias.example", UNKNOWN, ADDR_CLASS_ALIAS, "a" },
	{ "", "mixed@alias.example", UNKNOWN, ADDR_CLASS_ALIAS, "v" },
	{ "", "route@alias.example", OK, ADDR_CLASS_ALIAS,
	    "u%remote.example@localhost" },
	{ "", "user@virt.example", OK, ADDR_CLASS_VIRTUAL,
	    "real@virt.example" },
	{ "", "user+ext@virt.example", OK, ADDR_CLASS_VIRTUAL,
	    "real+ext@virt.example" },
	{ "recipient_delimiter =\n", "user+ext@virt.example", UNKNOWN,
	    ADDR_CLASS_VIRTUAL, "v" },
	/* Bare "user" keys only in local domains. */
	{ "", "postmaster@localhost", OK, ADDR_CLASS_LOCAL,
	    "root@mail.example.org" },
	{ "", "postmaster", OK, ADDR_CLASS_LOCAL, "root@mail.example.org" },
	{ "", "postmaster@virt.example", UNKNOWN, ADDR_CLASS_VIRTUAL, "v" },
	/* Virtual mailboxes. */
	{ "", "a@virt.example", OK, ADDR_CLASS_VIRTUAL, "a@virt.example" },
	{ "", "A@VIRT.example", OK, ADDR_CLASS_VIRTUAL, "A@virt.example" },
	{ "", "a+x@virt.example", OK, ADDR_CLASS_VIRTUAL,
	    "a+x@virt.example" },
	{ "", "nobody@virt.example", UNKNOWN, ADDR_CLASS_VIRTUAL, "v" },
	/* Local recipients. */
	{ "", "bob@mail.example.org", OK, ADDR_CLASS_LOCAL,
	    "bob@mail.example.org" },
	{ "", "bob+tag@localhost", OK, ADDR_CLASS_LOCAL,
	    "bob+tag@localhost" },
	{ "", "bob", OK, ADDR_CLASS_LOCAL, "bob@mail.example.org" },
	{ "", "nobody@localhost", UNKNOWN, ADDR_CLASS_LOCAL, "l" },
	{ "recipient_delimiter =\n", "bob+tag@localhost", UNKNOWN,
	    ADDR_CLASS_LOCAL, "l" },
	{ "local_recipient_maps =\n", "nobody@localhost", OK,
	    ADDR_CLASS_LOCAL, "nobody@localhost" },
	{ "", "u%remote.example@localhost", OK, ADDR_CLASS_DEFAULT,
	    "u%remote.example@localhost" },
	/* Keys quote the local part: no "bob@remote.example" alias. */
	{ "", "bob@remote.example@localhost", OK, ADDR_CLASS_DEFAULT,
	    "bob@remote.example@localhost" },
	{ "resolve_dequoted_address = no\n", "bob@remote.example@localhost",
	    UNKNOWN, ADDR_CLASS_LOCAL, "l" },
	/* Relay and remote recipients. */
	{ "", "anyone@relay.example", OK, ADDR_CLASS_RELAY,
	    "anyone@relay.example" },
	{ "relay_recipient_maps = texthash:$queue_directory/relay\n",
	    "known@relay.example", OK, ADDR_CLASS_RELAY,
	    "known@relay.example" },
	{ "relay_recipient_maps = texthash:$queue_directory/relay\n",
	    "known+x@relay.example", OK, ADDR_CLASS_RELAY,
	    "known+x@relay.example" },
	{ "relay_recipient_maps = texthash:$queue_directory/relay\n",
	    "other@relay.example", UNKNOWN, ADDR_CLASS_RELAY, "r" },
	{ "relay_recipient_maps = texthash:$queue_directory/relay\n",
	    "any@all.sub.example", OK, ADDR_CLASS_RELAY,
	    "any@all.sub.example" },
	{ "", "u@remote.example", OK, ADDR_CLASS_DEFAULT, "u@remote.example" },
	/* Tables that cannot answer. */
	{ "virtual_alias_maps = lmdb:$queue_directory/missing\n",
	    "a@virt.example", TEMP, ADDR_CLASS_VIRTUAL, "virtual_alias_maps" },
	{ "virtual_mailbox_maps = lmdb:$queue_directory/missing\n",
	    "a@virt.example", TEMP, ADDR_CLASS_VIRTUAL,
	    "virtual_mailbox_maps" },
	{ "local_recipient_maps = lmdb:$queue_directory/missing\n",
	    "bob@localhost", TEMP, ADDR_CLASS_LOCAL, "local_recipient_maps" },
	{ "local_recipient_maps = lmdb:$queue_directory/missing\n",
	    "mixed@alias.example", TEMP, ADDR_CLASS_ALIAS,
	    "local_recipient_maps" },
	{ "relay_recipient_maps = lmdb:$queue_directory/missing\n",
	    "known@relay.example", TEMP, ADDR_CLASS_RELAY,
	    "relay_recipient_maps" },
	{ "virtual_mailbox_domains = lmdb:$queue_directory/missing\n",
	    "a@virt.example", TEMP, ADDR_CLASS_LOCAL,
	    "virtual_mailbox_domains" },
	{ "relay_domains = lmdb:$queue_directory/missing\n",
	    "list@alias.example", TEMP, ADDR_CLASS_ALIAS, "relay_domains" },
};

/* Join the NULL-terminated vector V with spaces. */
static char *
join(char **v)
{
	struct str out = STR_INIT;
	size_t i;

	for (i = 0; v[i] != NULL; i++) {
		if (i > 0)
			str_append_c(&out, ' ');
		str_append(&out, v[i]);
	}
	return str_steal(&out);
}

/* Check what RES says of case I. */
static void
check_rcpt(size_t i, const struct rcpt_result *res)
{
	static const char tables[] = "lavr";
	const char *want = rcpt_cases[i].want;
	char *got;

	if (res->status != rcpt_cases[i].status ||
	    res->class != rcpt_cases[i].class)
		fail_msg("%s%s: status %d class %d (%s)", rcpt_cases[i].extra,
		    rcpt_cases[i].addr, res->status, res->class,
		    res->error != NULL ? res->error : "");
	switch (res->status) {
	case RCPT_OK:
		got = join(res->final);
		if (strcmp(got, want) != 0)
			fail_msg("%s: final \"%s\", want \"%s\"",
			    rcpt_cases[i].addr, got, want);
		free(got);
		break;
	case RCPT_UNKNOWN:
		assert_null(res->final);
		if (tables[res->unknown] != want[0])
			fail_msg("%s: unknown in %c, want %s",
			    rcpt_cases[i].addr, tables[res->unknown], want);
		break;
	case RCPT_TEMPFAIL:
		assert_null(res->final);
		if (res->error == NULL || strstr(res->error, want) == NULL)
			fail_msg("%s: error \"%s\", want \"%s\"",
			    rcpt_cases[i].addr, res->error, want);
		break;
	}
}

/* Recipients: expansion, the class tables and temporary failures. */
static void
test_resolve_recipient(void **state)
{
	struct rcpt_result res;
	struct resolve *r;
	struct cfg *cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rcpt_cases) / sizeof(rcpt_cases[0]); i++) {
		r = open_resolver(rcpt_cases[i].extra, &cfg);
		assert_int_equal(resolve_recipient(r, rcpt_cases[i].addr,
		    &res), rcpt_cases[i].status);
		check_rcpt(i, &res);
		rcpt_result_clear(&res);
		assert_null(res.final);
		resolve_free(&r);
		cfg_free(&cfg);
	}
}

static const struct {
	const char *addr;
	enum rcpt_status status;
} sender_cases[] = {
	{ "", RCPT_OK },
	{ "a@virt.example", RCPT_OK },
	{ "nobody@virt.example", RCPT_UNKNOWN },
	{ "list@alias.example", RCPT_OK },
	{ "nobody@alias.example", RCPT_UNKNOWN },
	{ "bob@localhost", RCPT_OK },
	{ "nobody@localhost", RCPT_UNKNOWN },
	{ "anyone@remote.example", RCPT_OK },
};

/* Senders: the same lookups; the null sender is always known. */
static void
test_resolve_sender(void **state)
{
	struct rcpt_result res;
	struct resolve *r;
	struct cfg *cfg;
	size_t i;

	(void)state;
	r = open_resolver("", &cfg);
	for (i = 0; i < sizeof(sender_cases) / sizeof(sender_cases[0]);
	    i++) {
		if (resolve_sender(r, sender_cases[i].addr, &res) !=
		    (int)sender_cases[i].status)
			fail_msg("%s: status %d", sender_cases[i].addr,
			    res.status);
		rcpt_result_clear(&res);
	}
	resolve_free(&r);
	cfg_free(&cfg);
}

/* A table that cannot be opened names its parameter. */
static void
test_resolve_init_error(void **state)
{
	struct resolve *r = NULL;
	struct cfg *cfg;
	char *error;

	(void)state;
	cfg = load_cfg("virtual_mailbox_maps = texthash:/nonexistent/t\n");
	assert_int_equal(resolve_init(cfg, &r, &error), -1);
	assert_null(r);
	assert_non_null(strstr(error, "virtual_mailbox_maps"));
	free(error);
	cfg_free(&cfg);
}

/* A table file that turns corrupt is a temporary failure, not unknown. */
static void
test_resolve_corrupt_table(void **state)
{
	struct rcpt_result res;
	struct resolve *r;
	struct cfg *cfg;
	char *db;

	(void)state;
	r = open_resolver("virtual_mailbox_maps = lmdb:$queue_directory/corrupt"
	    "\n", &cfg);
	db = testdir_write("corrupt.lmdb", "this is not an lmdb file, "
	    "only some text that is long enough to look like a header\n");
	assert_int_equal(resolve_recipient(r, "a@virt.example", &res),
	    RCPT_TEMPFAIL);
	assert_non_null(strstr(res.error, "virtual_mailbox_maps"));
	assert_null(res.final);
	rcpt_result_clear(&res);
	assert_null(res.error);
	free(db);
	resolve_free(&r);
	cfg_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_addr),
		cmocka_unit_test(test_resolve_routed),
		cmocka_unit_test(test_resolve_parsed),
		cmocka_unit_test(test_resolve_recipient),
		cmocka_unit_test(test_resolve_sender),
		cmocka_unit_test(test_resolve_init_error),
		cmocka_unit_test(test_resolve_corrupt_table),
	};

	return cmocka_run_group_tests_name("resolve", tests, testdir_setup,
	    testdir_teardown);
}
