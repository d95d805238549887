/*
 * Unit tests for the SMTP restrictions (src/smtpd/check.c) and access
 * tables (check_access.c): each case loads a configuration, runs one
 * stage for one session state and compares the reply.
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

#include "global/params.h"
#include "global/resolve.h"
#include "lib/cfg.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "maps/maps.h"
#include "smtpd/check.h"
#include "testdir.h"

/* The configuration every case starts from; "@" stands for the test
   directory. */
static const char base_config[] =
    "myhostname = mx.example.com\n"
    "mydomain = example.com\n"
    "mydestination = example.com, localhost\n"
    "local_recipient_maps = texthash:@/local\n"
    "alias_maps =\n"
    "virtual_mailbox_domains = virt.example\n"
    "virtual_mailbox_maps = texthash:@/vmbox\n"
    "virtual_alias_domains = alias.example\n"
    "virtual_alias_maps = texthash:@/valias\n"
    "relay_domains = relay.example\n"
    "relay_recipient_maps = texthash:@/relayrcpt\n"
    "mynetworks = 127.0.0.0/8 !10.1.0.0/16 10.0.0.0/8\n"
    "smtpd_sender_login_maps = texthash:@/logins\n";

/* The tables the cases use. */
static const struct {
	const char *name, *text;
} tables[] = {
	{ "local", "alice x\nbob x\nu x\npostmaster x\n" },
	{ "vmbox", "aaa@virt.example aaa\n" },
	{ "valias", "info@alias.example aaa@virt.example\n" },
	{ "relayrcpt", "ok@relay.example x\n" },
	{ "logins", "bob@example.com alice2, carol\n"
	    "alice@example.com alice\n" },
	{ "client", "192.0.2.6 REJECT\n198.51.100 DEFER\n"
	    "203.0.113.5 OK\n10.9 550 5.7.0 network blocked\n"
	    "10.8.0.1 421 try later\n2001:db8:1 REJECT\n"
	    "host.bad.example REJECT\n.evil.example 554 Go away\n"
	    "192.0.2.7 DUNNO\n192.0.2 REJECT\n192.0.2.8 WARN suspicious\n"
	    "192.0.2.9 FROB\n192.0.2.10 12345\n192.0.2.12 PERMIT\n"
	    "192.0.2.13 DEFER 4.7.2 slow down\n" },
	{ "client.cidr", "192.0.2.0/24 REJECT cidr says no\n" },
	{ "exceptions.cidr", "198.51.100.0/24 OK\n" },
	{ "helo", "bad.example REJECT\n.worse.example REJECT\n" },
	{ "sender", "x@spam.example REJECT\nspam.example DEFER\n"
	    ".spam2.example REJECT\npostmaster@ OK\n<> REJECT no bounces\n"
	    "bad@ REJECT\ntext@t.example REJECT 5.7.9 custom text\n" },
	{ "rcpt", "openstack@example.com REJECT\n" },
	{ "broken", "key value\n" },	/* broken.lmdb is never built */
};

enum stage { CONNECT, HELO, MAIL, RCPT, DATA };

struct tcase {
	const char *name;
	const char *config;	/* lines after base_config */
	enum stage stage;
	const char *client_name, *client_addr, *helo, *sender, *rcpt, *sasl;
	bool pipelining;
	const char *want;	/* "CODE DSN TEXT", or NULL: accepted */
};

/* Return TEXT with every "@" replaced by the test directory. */
static char *
expand_dir(const char *text)
{
	struct str out = STR_INIT;

	for (; *text != '\0'; text++) {
		if (*text == '@' && (text[1] == '/'))
			str_append(&out, testdir);
		else
			str_append_c(&out, *text);
	}
	return str_steal(&out);
}

/* Load base_config plus EXTRA.  Returns 0, or -1 with *ERROR_R. */
static int
load(const char *extra, struct cfg **cfg_r, struct resolve **resolve_r,
    struct smtpd_checks **checks_r, char **error_r)
{
	char *text, *all = xasprintf("%s%s\n", base_config,
	    extra != NULL ? extra : "");
	char *path;
	int r;

	text = expand_dir(all);
	path = testdir_write("dirmail.cf", text);
	free(all), free(text);
	r = cfg_load(dirmail_params, dirmail_params_count, path, NULL, NULL,
	    false, cfg_r, error_r);
	free(path);
	if (r < 0)
		fail_msg("config: %s", *error_r);
	if (resolve_init(*cfg_r, resolve_r, error_r) < 0)
		fail_msg("resolve_init: %s", *error_r);
	r = smtpd_checks_init(*cfg_r, *resolve_r, checks_r, error_r);
	if (r < 0) {
		resolve_free(resolve_r);
		cfg_free(cfg_r);
	}
	return r;
}

/* Run the stage of T; return the reply as "CODE DSN TEXT" or NULL. */
static char *
run_stage(struct smtpd_checks *c, const struct tcase *t,
    struct rcpt_result *res)
{
	struct check_state s = {
		.client_name = t->client_name != NULL ? t->client_name :
		    "unknown",
		.client_addr = t->client_addr != NULL ? t->client_addr :
		    "192.0.2.99",
		.helo = t->helo, .sender = t->sender, .recipient = t->rcpt,
		.sasl_username = t->sasl, .unauth_pipelining = t->pipelining,
	};
	struct check_reply reply;
	char *got;
	int r = 0;

	memset(res, 0, sizeof(*res));
	switch (t->stage) {
	case CONNECT:
		r = smtpd_check_connect(c, &s, &reply);
		break;
	case HELO:
		r = smtpd_check_helo(c, &s, &reply);
		break;
	case MAIL:
		r = smtpd_check_mail(c, &s, &reply);
		break;
	case RCPT:
		r = smtpd_check_rcpt(c, &s, res, &reply);
		break;
	case DATA:
		r = smtpd_check_data(c, &s, &reply);
		break;
	}
	if (r == 0)
		return NULL;
	assert_int_equal(r, 1);
	got = xasprintf("%d %s %s", reply.code, reply.dsn, reply.text);
	check_reply_clear(&reply);
	assert_null(reply.text);
	return got;
}

/* Run the cases of CASES. */
static void
run_cases(const struct tcase *cases, size_t n)
{
	struct cfg *cfg;
	struct resolve *resolve;
	struct smtpd_checks *c;
	struct rcpt_result res;
	char *error, *got;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct tcase *t = &cases[i];

		if (load(t->config, &cfg, &resolve, &c, &error) < 0)
			fail_msg("%s: init: %s", t->name, error);
		got = run_stage(c, t, &res);
		if ((got == NULL) != (t->want == NULL) || (got != NULL &&
		    strcmp(got, t->want) != 0))
			fail_msg("%s: got \"%s\", want \"%s\"", t->name,
			    got != NULL ? got : "(accepted)",
			    t->want != NULL ? t->want : "(accepted)");
		free(got);
		rcpt_result_clear(&res);
		smtpd_checks_free(&c);
		assert_null(c);
		resolve_free(&resolve);
		cfg_free(&cfg);
	}
}

#define RUN(cases) run_cases(cases, sizeof(cases) / sizeof(cases[0]))

/* The client access table: keys, prefixes, names and actions. */
static const struct tcase client_cases[] = {
	{ "address REJECT", "smtpd_client_restrictions = "
	    "check_client_access texthash:@/client, defer", RCPT, NULL,
	    "192.0.2.6", NULL, "s@example.org", "alice@example.com", NULL,
	    false, "554 5.7.1 <unknown[192.0.2.6]>: Client host rejected: "
	    "Access denied" },
	{ "3-octet prefix DEFER", "smtpd_client_restrictions = "
	    "check_client_access texthash:@/client", RCPT, NULL,
	    "198.51.100.20", NULL, "s@example.org", "alice@example.com",
	    NULL, false, "450 4.7.1 <unknown[198.51.100.20]>: Client host "
	    "rejected: Access denied" },
	{ "2-octet prefix, NNN with DSN", "smtpd_client_restrictions = "
	    "check_client_access texthash:@/client", RCPT, NULL, "10.9.1.1",
	    NULL, "s@example.org", "alice@example.com", NULL, false,
	    "550 5.7.0 <unknown[10.9.1.1]>: Client host rejected: network "
	    "blocked" },
	{ "NNN without DSN", "smtpd_client_restrictions = "
	    "check_client_access texthash:@/client", RCPT, NULL, "10.8.0.1",
	    NULL, "s@example.org", "alice@example.com", NULL, false,
	    "421 4.7.1 <unknown[10.8.0.1]>: Client host rejected: try "
	    "later" },
	{ "DEFER with DSN and text", "smtpd_client_restrictions = "
	    "check_client_access texthash:@/client", RCPT, NULL,
	    "192.0.2.13", NULL, "s@example.org", "alice@example.com", NULL,
	    false, "450 4.7.2 <unknown[192.0.2.13]>: Client host rejected: "
	    "slow down" },
	{ "OK ends the list", "smtpd_client_restrictions = "
	    "check_client_access texthash:@/client, defer", RCPT, NULL,
	    "203.0.113.5", NULL, "s@example.org", "alice@example.com", NULL,
	    false, NULL },
	{ "PERMIT ends the list", "smtpd_client_restrictions = "
	    "check_client_access texthash:@/client, defer", RCPT, NULL,
	    "192.0.2.12", NULL, "s@example.org", "alice@example.com", NULL,
	    false, NULL },
	{ "all-numeric is OK", "smtpd_client_restrictions = "
	    "check_client_access texthash:@/client, defer", RCPT, NULL,
	    "192.0.2.10", NULL, "s@example.org", "alice@example.com", NULL,
	    false, NULL },
	{ "DUNNO stops the prefixes", "smtpd_client_restrictions = "
	    "check_client_access texthash:@/client, defer", RCPT, NULL,
	    "192.0.2.7", NULL, "s@example.org", "alice@example.com", NULL,
	    false, "450 4.7.1 <unknown[192.0.2.7]>: Client host rejected: "
	    "Access denied" },
	{ "WARN goes on", "smtpd_client_restrictions = "
	    "check_client_access texthash:@/client", RCPT, NULL,
	    "192.0.2.8", NULL, "s@example.org", "alice@example.com", NULL,
	    false, NULL },
	{ "unknown action", "smtpd_client_restrictions = "
	    "check_client_access texthash:@/client", RCPT, NULL,
	    "192.0.2.9", NULL, "s@example.org", "alice@example.com", NULL,
	    false, "451 4.3.5 Server configuration error" },
	{ "IPv6 prefix", "smtpd_client_restrictions = "
	    "check_client_access texthash:@/client", RCPT, NULL,
	    "2001:db8:1:2::5", NULL, "s@example.org", "alice@example.com",
	    NULL, false, "554 5.7.1 <unknown[2001:db8:1:2::5]>: Client host "
	    "rejected: Access denied" },
	{ "IPv6 not listed", "smtpd_client_restrictions = "
	    "check_client_access texthash:@/client", RCPT, NULL,
	    "2001:db8:2::1", NULL, "s@example.org", "alice@example.com",
	    NULL, false, NULL },
	{ "client name", "smtpd_client_restrictions = "
	    "check_client_access texthash:@/client", RCPT,
	    "host.bad.example", "198.18.0.1", NULL, "s@example.org",
	    "alice@example.com", NULL, false, "554 5.7.1 "
	    "<host.bad.example[198.18.0.1]>: Client host rejected: Access "
	    "denied" },
	{ "parent domain of the name, before the address",
	    "smtpd_client_restrictions = check_client_access "
	    "texthash:@/client", RCPT, "a.b.evil.example", "203.0.113.5",
	    NULL, "s@example.org", "alice@example.com", NULL, false,
	    "554 5.7.1 <a.b.evil.example[203.0.113.5]>: Client host "
	    "rejected: Go away" },
	{ "a domain key matches its subdomains", "smtpd_client_restrictions = "
	    "check_client_access texthash:@/client", RCPT,
	    "mx.host.bad.example", "198.18.0.1", NULL, "s@example.org",
	    "alice@example.com", NULL, false, "554 5.7.1 "
	    "<mx.host.bad.example[198.18.0.1]>: Client host rejected: Access "
	    "denied" },
	{ "the parent itself is no subdomain", "smtpd_client_restrictions = "
	    "check_client_access texthash:@/client", RCPT, "evil.example",
	    "198.18.0.1", NULL, "s@example.org", "alice@example.com", NULL,
	    false, NULL },
	{ "cidr table", "smtpd_client_restrictions = check_client_access "
	    "cidr:@/client.cidr", RCPT, "x.example.net", "192.0.2.50", NULL,
	    "s@example.org", "alice@example.com", NULL, false, "554 5.7.1 "
	    "<x.example.net[192.0.2.50]>: Client host rejected: cidr says "
	    "no" },
	{ "cidr table, no match", "smtpd_client_restrictions = "
	    "check_client_access cidr:@/client.cidr", RCPT, NULL,
	    "192.0.3.50", NULL, "s@example.org", "alice@example.com", NULL,
	    false, NULL },
	{ "lookup failure", "smtpd_client_restrictions = "
	    "check_client_access lmdb:@/broken, permit", RCPT, NULL,
	    "192.0.2.6", NULL, "s@example.org", "alice@example.com", NULL,
	    false, "451 4.3.0 <unknown[192.0.2.6]>: Temporary lookup "
	    "failure" },
	{ "access_map codes", "access_map_reject_code = 550\n"
	    "access_map_defer_code = 421\nsmtpd_client_restrictions = "
	    "check_client_access texthash:@/client", RCPT, NULL,
	    "198.51.100.1", NULL, "s@example.org", "alice@example.com",
	    NULL, false, "421 4.7.1 <unknown[198.51.100.1]>: Client host "
	    "rejected: Access denied" },
};

/* Client access lookups. */
static void
test_client_access(void **state)
{
	(void)state;
	RUN(client_cases);
}

/* Sender, recipient and HELO access tables. */
static const struct tcase addr_cases[] = {
	{ "full address", "smtpd_sender_restrictions = check_sender_access "
	    "texthash:@/sender", RCPT, NULL, NULL, NULL, "x@spam.example",
	    "alice@example.com", NULL, false, "554 5.7.1 <x@spam.example>: "
	    "Sender address rejected: Access denied" },
	{ "domain", "smtpd_sender_restrictions = check_sender_access "
	    "texthash:@/sender", RCPT, NULL, NULL, NULL, "y@spam.example",
	    "alice@example.com", NULL, false, "450 4.7.1 <y@spam.example>: "
	    "Sender address rejected: Access denied" },
	{ "domain before user@", "smtpd_sender_restrictions = "
	    "check_sender_access texthash:@/sender", RCPT, NULL, NULL, NULL,
	    "postmaster@spam.example", "alice@example.com", NULL, false,
	    "450 4.7.1 <postmaster@spam.example>: Sender address rejected: "
	    "Access denied" },
	{ "parent domain", "smtpd_sender_restrictions = check_sender_access "
	    "texthash:@/sender", RCPT, NULL, NULL, NULL,
	    "y@a.b.spam2.example", "alice@example.com", NULL, false,
	    "554 5.7.1 <y@a.b.spam2.example>: Sender address rejected: "
	    "Access denied" },
	{ "domain matches its subdomains", "smtpd_sender_restrictions = "
	    "check_sender_access texthash:@/sender", RCPT, NULL, NULL, NULL,
	    "y@mx.Spam.example", "alice@example.com", NULL, false,
	    "450 4.7.1 <y@mx.Spam.example>: Sender address rejected: Access "
	    "denied" },
	{ "user@", "smtpd_sender_restrictions = check_sender_access "
	    "texthash:@/sender, reject", RCPT, NULL, NULL, NULL,
	    "bad@good.example", "alice@example.com", NULL, false,
	    "554 5.7.1 <bad@good.example>: Sender address rejected: "
	    "Access denied" },
	{ "user@ OK", "smtpd_sender_restrictions = check_sender_access "
	    "texthash:@/sender, reject", RCPT, NULL, NULL, NULL,
	    "postmaster@good.example", "alice@example.com", NULL, false,
	    NULL },
	{ "null sender <>", "smtpd_sender_restrictions = "
	    "check_sender_access texthash:@/sender", RCPT, NULL, NULL, NULL,
	    "", "alice@example.com", NULL, false, "554 5.7.1 <>: Sender "
	    "address rejected: no bounces" },
	{ "REJECT text with DSN", "smtpd_sender_restrictions = "
	    "check_sender_access texthash:@/sender", RCPT, NULL, NULL, NULL,
	    "text@t.example", "alice@example.com", NULL, false,
	    "554 5.7.9 <text@t.example>: Sender address rejected: custom "
	    "text" },
	{ "sender access at MAIL without delay", "smtpd_delay_reject = no\n"
	    "smtpd_sender_restrictions = check_sender_access "
	    "texthash:@/sender", MAIL, NULL, NULL, NULL, "x@spam.example",
	    NULL, NULL, false, "554 5.7.1 <x@spam.example>: Sender address "
	    "rejected: Access denied" },
	{ "recipient access", "smtpd_recipient_restrictions = "
	    "check_recipient_access texthash:@/rcpt", RCPT, NULL,
	    "127.0.0.1", NULL, "s@example.org", "openstack@example.com",
	    NULL, false, "554 5.7.1 <openstack@example.com>: Recipient "
	    "address rejected: Access denied" },
	{ "helo access", "smtpd_helo_restrictions = check_helo_access "
	    "texthash:@/helo", RCPT, NULL, NULL, "bad.example",
	    "s@example.org", "alice@example.com", NULL, false, "554 5.7.1 "
	    "<bad.example>: Helo command rejected: Access denied" },
	{ "helo parent domain", "smtpd_delay_reject = no\n"
	    "smtpd_helo_restrictions = check_helo_access texthash:@/helo",
	    HELO, NULL, NULL, "mx.worse.example", NULL, NULL, NULL, false,
	    "554 5.7.1 <mx.worse.example>: Helo command rejected: Access "
	    "denied" },
	{ "helo subdomain of a domain key", "smtpd_helo_restrictions = "
	    "check_helo_access texthash:@/helo", RCPT, NULL, NULL,
	    "mx.bad.example.", "s@example.org", "alice@example.com", NULL,
	    false, "554 5.7.1 <mx.bad.example.>: Helo command rejected: Access "
	    "denied" },
	{ "no helo: skipped", "smtpd_helo_restrictions = check_helo_access "
	    "texthash:@/helo, reject_invalid_helo_hostname", RCPT, NULL,
	    NULL, NULL, "s@example.org", "alice@example.com", NULL, false,
	    NULL },
	{ "address without its extension, before the domain",
	    "recipient_delimiter = +\nsmtpd_sender_restrictions = "
	    "check_sender_access texthash:@/sender", RCPT, NULL, NULL, NULL,
	    "x+news@spam.example", "alice@example.com", NULL, false,
	    "554 5.7.1 <x+news@spam.example>: Sender address rejected: "
	    "Access denied" },
	{ "no recipient_delimiter: the extension stays",
	    "smtpd_sender_restrictions = check_sender_access "
	    "texthash:@/sender", RCPT, NULL, NULL, NULL,
	    "x+news@spam.example", "alice@example.com", NULL, false,
	    "450 4.7.1 <x+news@spam.example>: Sender address rejected: "
	    "Access denied" },
	{ "user@ without the extension", "recipient_delimiter = -+\n"
	    "smtpd_sender_restrictions = check_sender_access "
	    "texthash:@/sender, permit", RCPT, NULL, NULL, NULL,
	    "bad-1@good.example", "alice@example.com", NULL, false,
	    "554 5.7.1 <bad-1@good.example>: Sender address rejected: Access "
	    "denied" },
	{ "recipient with an extension", "recipient_delimiter = +\n"
	    "smtpd_recipient_restrictions = check_recipient_access "
	    "texthash:@/rcpt", RCPT, NULL, "127.0.0.1", NULL, "s@example.org",
	    "openstack+tag@example.com", NULL, false, "554 5.7.1 "
	    "<openstack+tag@example.com>: Recipient address rejected: Access "
	    "denied" },
	{ "sender table failure", "smtpd_sender_restrictions = "
	    "check_sender_access lmdb:@/broken", RCPT, NULL, NULL, NULL,
	    "x@y.example", "alice@example.com", NULL, false,
	    "451 4.3.0 <x@y.example>: Temporary lookup failure" },
};

/* Address and HELO access lookups. */
static void
test_addr_access(void **state)
{
	(void)state;
	RUN(addr_cases);
}

/* Relay control, with the router's tricks. */
static const struct tcase relay_cases[] = {
	{ "defer_unauth_destination", NULL, RCPT, NULL, NULL, NULL,
	    "s@example.org", "x@aol.com", NULL, false, "454 4.7.1 "
	    "<x@aol.com>: Relay access denied" },
	{ "reject_unauth_destination", "smtpd_relay_restrictions = "
	    "permit_mynetworks, reject_unauth_destination", RCPT, NULL, NULL,
	    NULL, "s@example.org", "x@aol.com", NULL, false, "554 5.7.1 "
	    "<x@aol.com>: Relay access denied" },
	{ "relay_domains_reject_code", "relay_domains_reject_code = 550\n"
	    "smtpd_relay_restrictions = reject_unauth_destination", RCPT,
	    NULL, NULL, NULL, "s@example.org", "x@aol.com", NULL, false,
	    "550 5.7.1 <x@aol.com>: Relay access denied" },
	{ "percent hack", NULL, RCPT, NULL, NULL, NULL, "s@example.org",
	    "u%remote.example@example.com", NULL, false, "454 4.7.1 "
	    "<u%remote.example@example.com>: Relay access denied" },
	{ "quoted @", NULL, RCPT, NULL, NULL, NULL, "s@example.org",
	    "u@remote.example@example.com", NULL, false, "454 4.7.1 "
	    "<\"u@remote.example\"@example.com>: Relay access denied" },
	{ "bang path", NULL, RCPT, NULL, NULL, NULL, "s@example.org",
	    "remote.example!u@example.com", NULL, false, "454 4.7.1 "
	    "<remote.example!u@example.com>: Relay access denied" },
	{ "percent hack from mynetworks", NULL, RCPT, NULL, "127.0.0.1",
	    NULL, "s@example.org", "u%remote.example@example.com", NULL,
	    false, NULL },
	{ "bang path after SASL", NULL, RCPT, NULL, NULL, NULL,
	    "s@example.org", "remote.example!u@example.com", "alice", false,
	    NULL },
	{ "remote from mynetworks", NULL, RCPT, NULL, "10.2.3.4", NULL,
	    "s@example.org", "x@aol.com", NULL, false, NULL },
	{ "negated network", NULL, RCPT, NULL, "10.1.3.4", NULL,
	    "s@example.org", "x@aol.com", NULL, false, "454 4.7.1 "
	    "<x@aol.com>: Relay access denied" },
	{ "ours: local", NULL, RCPT, NULL, NULL, NULL, "s@example.org",
	    "alice@example.com", NULL, false, NULL },
	{ "ours: relay_domains", NULL, RCPT, NULL, NULL, NULL,
	    "s@example.org", "ok@relay.example", NULL, false, NULL },
	{ "ours: virtual alias", NULL, RCPT, NULL, NULL, NULL,
	    "s@example.org", "info@alias.example", NULL, false, NULL },
	{ "permit_auth_destination", "smtpd_relay_restrictions = "
	    "permit_auth_destination, reject", RCPT, NULL, NULL, NULL,
	    "s@example.org", "aaa@virt.example", NULL, false, NULL },
	{ "permit_auth_destination, remote", "smtpd_relay_restrictions = "
	    "permit_auth_destination, reject", RCPT, NULL, NULL, NULL,
	    "s@example.org", "x@aol.com", NULL, false, "554 5.7.1 "
	    "<x@aol.com>: Recipient address rejected: Access denied" },
	{ "relay_domains table failure", "relay_domains = lmdb:@/broken",
	    RCPT, NULL, NULL, NULL, "s@example.org", "x@aol.com", NULL,
	    false, "451 4.3.0 <x@aol.com>: Temporary lookup failure" },
};

/* Relay control. */
static void
test_relay(void **state)
{
	(void)state;
	RUN(relay_cases);
}

/* Unlisted recipients and senders. */
static const struct tcase unlisted_cases[] = {
	{ "virtual mailbox", NULL, RCPT, NULL, NULL, NULL, "s@example.org",
	    "bbb@virt.example", NULL, false, "550 5.1.1 <bbb@virt.example>: "
	    "Recipient address rejected: User unknown in virtual mailbox "
	    "table" },
	{ "local", NULL, RCPT, NULL, NULL, NULL, "s@example.org",
	    "nobody@example.com", NULL, false, "550 5.1.1 "
	    "<nobody@example.com>: Recipient address rejected: User unknown "
	    "in local recipient table" },
	{ "virtual alias", NULL, RCPT, NULL, NULL, NULL, "s@example.org",
	    "nobody@alias.example", NULL, false, "550 5.1.1 "
	    "<nobody@alias.example>: Recipient address rejected: User "
	    "unknown in virtual alias table" },
	{ "relay recipient", "unknown_relay_recipient_reject_code = 450",
	    RCPT, NULL, NULL, NULL, "s@example.org", "nobody@relay.example",
	    NULL, false, "450 4.1.1 <nobody@relay.example>: Recipient "
	    "address rejected: User unknown in relay recipient table" },
	{ "even from mynetworks", NULL, RCPT, NULL, "127.0.0.1", NULL,
	    "s@example.org", "bbb@virt.example", NULL, false, "550 5.1.1 "
	    "<bbb@virt.example>: Recipient address rejected: User unknown "
	    "in virtual mailbox table" },
	{ "allowed", "smtpd_reject_unlisted_recipient = no", RCPT, NULL,
	    NULL, NULL, "s@example.org", "bbb@virt.example", NULL, false,
	    NULL },
	{ "explicit", "smtpd_reject_unlisted_recipient = no\n"
	    "smtpd_recipient_restrictions = reject_unlisted_recipient",
	    RCPT, NULL, NULL, NULL, "s@example.org", "bbb@virt.example",
	    NULL, false, "550 5.1.1 <bbb@virt.example>: Recipient address "
	    "rejected: User unknown in virtual mailbox table" },
	{ "table failure", "virtual_mailbox_maps = lmdb:@/broken", RCPT,
	    NULL, NULL, NULL, "s@example.org", "bbb@virt.example", NULL,
	    false, "451 4.3.0 <bbb@virt.example>: Temporary lookup "
	    "failure" },
	{ "table failure, unlisted allowed", "virtual_mailbox_maps = "
	    "lmdb:@/broken\nsmtpd_reject_unlisted_recipient = no", RCPT,
	    NULL, NULL, NULL, "s@example.org", "bbb@virt.example", NULL,
	    false, "451 4.3.0 <bbb@virt.example>: Temporary lookup "
	    "failure" },
	{ "sender", "smtpd_sender_restrictions = reject_unlisted_sender",
	    RCPT, NULL, NULL, NULL, "nobody@example.com",
	    "alice@example.com", NULL, false, "550 5.1.0 "
	    "<nobody@example.com>: Sender address rejected: User unknown in "
	    "local recipient table" },
	{ "sender known", "smtpd_sender_restrictions = "
	    "reject_unlisted_sender", RCPT, NULL, NULL, NULL,
	    "bob@example.com", "alice@example.com", NULL, false, NULL },
	{ "implicit sender check at MAIL", "smtpd_delay_reject = no\n"
	    "smtpd_reject_unlisted_sender = yes", MAIL, NULL, NULL, NULL,
	    "nobody@virt.example", NULL, NULL, false, "550 5.1.0 "
	    "<nobody@virt.example>: Sender address rejected: User unknown "
	    "in virtual mailbox table" },
	{ "null sender exempt", "smtpd_reject_unlisted_sender = yes", RCPT,
	    NULL, NULL, NULL, "", "alice@example.com", NULL, false, NULL },
};

/* Unlisted recipients and senders. */
static void
test_unlisted(void **state)
{
	(void)state;
	RUN(unlisted_cases);
}

/* The expansion handed back at RCPT. */
static void
test_rcpt_result(void **state)
{
	static const struct {
		const char *config, *rcpt, *final;
		int status;
	} cases[] = {
		{ NULL, "aaa@virt.example", "aaa@virt.example", RCPT_OK },
		{ NULL, "info@alias.example", "aaa@virt.example", RCPT_OK },
		{ "smtpd_reject_unlisted_recipient = no", "bbb@virt.example",
		    "bbb@virt.example", RCPT_UNKNOWN },
	};
	struct cfg *cfg;
	struct resolve *resolve;
	struct smtpd_checks *c;
	struct rcpt_result res;
	char *error, *got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tcase t = { "result", cases[i].config, RCPT, NULL,
		    NULL, NULL, "s@example.org", cases[i].rcpt, NULL, false,
		    NULL };

		assert_int_equal(load(t.config, &cfg, &resolve, &c, &error),
		    0);
		got = run_stage(c, &t, &res);
		assert_null(got);
		assert_int_equal(res.status, cases[i].status);
		assert_non_null(res.final);
		assert_string_equal(res.final[0], cases[i].final);
		assert_null(res.final[1]);
		rcpt_result_clear(&res);
		smtpd_checks_free(&c);
		resolve_free(&resolve);
		cfg_free(&cfg);
	}
}

/* HELO, sender and recipient syntax and DNS restrictions. */
static const struct tcase syntax_cases[] = {
	{ "invalid helo", "smtpd_helo_restrictions = "
	    "reject_invalid_helo_hostname", RCPT, NULL, NULL, "bad_helo!",
	    "s@example.org", "alice@example.com", NULL, false, "501 5.5.2 "
	    "<bad_helo!>: Helo command rejected: Invalid name" },
	{ "invalid helo, old name", "smtpd_delay_reject = no\n"
	    "smtpd_helo_restrictions = reject_invalid_hostname", HELO, NULL,
	    NULL, "a..b.example", NULL, NULL, NULL, false, "501 5.5.2 "
	    "<a..b.example>: Helo command rejected: Invalid name" },
	{ "invalid helo: leading hyphen", "smtpd_delay_reject = no\n"
	    "smtpd_helo_restrictions = reject_invalid_helo_hostname", HELO,
	    NULL, NULL, "-a.example", NULL, NULL, NULL, false, "501 5.5.2 "
	    "<-a.example>: Helo command rejected: Invalid name" },
	{ "invalid helo: bad literal", "smtpd_delay_reject = no\n"
	    "smtpd_helo_restrictions = reject_invalid_helo_hostname", HELO,
	    NULL, NULL, "[300.1.1.1]", NULL, NULL, NULL, false, "501 5.5.2 "
	    "<[300.1.1.1]>: Helo command rejected: Invalid name" },
	{ "valid helo literal", "smtpd_delay_reject = no\n"
	    "smtpd_helo_restrictions = reject_invalid_helo_hostname, "
	    "reject_non_fqdn_helo_hostname", HELO, NULL, NULL,
	    "[IPv6:2001:db8::1]", NULL, NULL, NULL, false, NULL },
	{ "valid helo address", "smtpd_delay_reject = no\n"
	    "smtpd_helo_restrictions = reject_invalid_helo_hostname, "
	    "reject_non_fqdn_helo_hostname", HELO, NULL, NULL, "192.0.2.1",
	    NULL, NULL, NULL, false, NULL },
	{ "valid helo name", "smtpd_delay_reject = no\n"
	    "smtpd_helo_restrictions = reject_invalid_helo_hostname, "
	    "reject_non_fqdn_helo_hostname", HELO, NULL, NULL,
	    "mail_1.example.org.", NULL, NULL, NULL, false, NULL },
	{ "non-fqdn helo", "smtpd_helo_restrictions = "
	    "reject_non_fqdn_helo_hostname", RCPT, NULL, NULL, "localhost",
	    "s@example.org", "alice@example.com", NULL, false, "504 5.5.2 "
	    "<localhost>: Helo command rejected: need fully-qualified "
	    "hostname" },
	{ "non-fqdn helo, old name, trailing dot", "smtpd_delay_reject = no\n"
	    "smtpd_helo_restrictions = reject_non_fqdn_hostname", HELO, NULL,
	    NULL, "localhost.", NULL, NULL, NULL, false, "504 5.5.2 "
	    "<localhost.>: Helo command rejected: need fully-qualified "
	    "hostname" },
	{ "non-fqdn sender", "smtpd_sender_restrictions = "
	    "reject_non_fqdn_sender", RCPT, NULL, NULL, NULL, "x",
	    "alice@example.com", NULL, false, "504 5.5.2 <x>: Sender address "
	    "rejected: need fully-qualified address" },
	{ "non-fqdn sender domain", "smtpd_sender_restrictions = "
	    "reject_non_fqdn_sender", RCPT, NULL, NULL, NULL, "x@localhost",
	    "alice@example.com", NULL, false, "504 5.5.2 <x@localhost>: "
	    "Sender address rejected: need fully-qualified address" },
	{ "non-fqdn: null sender", "smtpd_sender_restrictions = "
	    "reject_non_fqdn_sender", RCPT, NULL, NULL, NULL, "",
	    "alice@example.com", NULL, false, NULL },
	{ "non-fqdn: address literal", "smtpd_sender_restrictions = "
	    "reject_non_fqdn_sender", RCPT, NULL, NULL, NULL,
	    "x@[192.0.2.1]", "alice@example.com", NULL, false, NULL },
	{ "non-fqdn recipient", "smtpd_recipient_restrictions = "
	    "reject_non_fqdn_recipient", RCPT, NULL, "127.0.0.1", NULL,
	    "s@example.org", "y@host", NULL, false, "504 5.5.2 <y@host>: "
	    "Recipient address rejected: need fully-qualified address" },
	{ "non_fqdn_reject_code", "non_fqdn_reject_code = 550\n"
	    "smtpd_recipient_restrictions = reject_non_fqdn_recipient", RCPT,
	    NULL, "127.0.0.1", NULL, "s@example.org", "y@host", NULL, false,
	    "550 5.5.2 <y@host>: Recipient address rejected: need "
	    "fully-qualified address" },
	{ "unknown sender domain", "smtpd_sender_restrictions = "
	    "reject_unknown_sender_domain", RCPT, NULL, NULL, NULL,
	    "x@nx.invalid", "alice@example.com", NULL, false, "450 4.1.8 "
	    "<x@nx.invalid>: Sender address rejected: Domain not found" },
	{ "unknown sender domain, 5xx", "unknown_address_reject_code = 550\n"
	    "smtpd_sender_restrictions = reject_unknown_sender_domain", RCPT,
	    NULL, NULL, NULL, "x@nx.invalid", "alice@example.com", NULL,
	    false, "550 5.1.8 <x@nx.invalid>: Sender address rejected: "
	    "Domain not found" },
	{ "own sender domains are known", "smtpd_sender_restrictions = "
	    "reject_unknown_sender_domain", RCPT, NULL, NULL, NULL,
	    "x@virt.example", "alice@example.com", NULL, false, NULL },
	{ "unknown recipient domain", "smtpd_relay_restrictions = "
	    "reject_unknown_recipient_domain, permit_mynetworks, "
	    "reject_unauth_destination", RCPT, NULL, "127.0.0.1", NULL,
	    "s@example.org", "x@nx.invalid", NULL, false, "450 4.1.2 "
	    "<x@nx.invalid>: Recipient address rejected: Domain not found" },
	{ "own recipient domain", "smtpd_relay_restrictions = "
	    "reject_unknown_recipient_domain, permit_mynetworks, "
	    "reject_unauth_destination", RCPT, NULL, NULL, NULL,
	    "s@example.org", "ok@relay.example", NULL, false, NULL },
};

/* Syntax and DNS restrictions. */
static void
test_syntax(void **state)
{
	(void)state;
	RUN(syntax_cases);
}

/* Lists, stages, delay_reject and the plain restrictions. */
static const struct tcase list_cases[] = {
	{ "permit ends its own list only", "smtpd_client_restrictions = "
	    "permit\nsmtpd_sender_restrictions = reject", RCPT, NULL, NULL,
	    NULL, "x@y.example", "alice@example.com", NULL, false,
	    "554 5.7.1 <x@y.example>: Sender address rejected: Access "
	    "denied" },
	{ "relay permit, recipient reject", "smtpd_relay_restrictions = "
	    "permit_mynetworks, reject_unauth_destination\n"
	    "smtpd_recipient_restrictions = reject", RCPT, NULL,
	    "127.0.0.1", NULL, "s@example.org", "x@aol.com", NULL, false,
	    "554 5.7.1 <x@aol.com>: Recipient address rejected: Access "
	    "denied" },
	{ "reject ends everything", "smtpd_client_restrictions = defer\n"
	    "smtpd_relay_restrictions = reject", RCPT, NULL, NULL, NULL,
	    "s@example.org", "alice@example.com", NULL, false, "450 4.7.1 "
	    "<unknown[192.0.2.99]>: Client host rejected: Access denied" },
	{ "delayed: connect says nothing", "smtpd_client_restrictions = "
	    "reject", CONNECT, NULL, NULL, NULL, NULL, NULL, NULL, false,
	    NULL },
	{ "delayed: helo says nothing", "smtpd_helo_restrictions = reject",
	    HELO, NULL, NULL, "x.example", NULL, NULL, NULL, false, NULL },
	{ "delayed: mail says nothing", "smtpd_sender_restrictions = "
	    "reject", MAIL, NULL, NULL, "x.example", "s@example.org", NULL,
	    NULL, false, NULL },
	{ "delayed: rejected at rcpt", "smtpd_client_restrictions = "
	    "reject", RCPT, "mx.example.net", "192.0.2.99", NULL,
	    "s@example.org", "alice@example.com", NULL, false, "554 5.7.1 "
	    "<mx.example.net[192.0.2.99]>: Client host rejected: Access "
	    "denied" },
	{ "not delayed: connect", "smtpd_delay_reject = no\nreject_code = 550"
	    "\nsmtpd_client_restrictions = reject", CONNECT, NULL, NULL,
	    NULL, NULL, NULL, NULL, false, "550 5.7.1 "
	    "<unknown[192.0.2.99]>: Client host rejected: Access denied" },
	{ "not delayed: defer_code", "smtpd_delay_reject = no\n"
	    "defer_code = 421\nsmtpd_helo_restrictions = defer", HELO, NULL,
	    NULL, "x.example", NULL, NULL, NULL, false, "421 4.7.1 "
	    "<x.example>: Helo command rejected: Access denied" },
	{ "not delayed: not again at rcpt", "smtpd_delay_reject = no\n"
	    "smtpd_client_restrictions = reject", RCPT, NULL, NULL, NULL,
	    "s@example.org", "alice@example.com", NULL, false, NULL },
	{ "skipped at connect", "smtpd_delay_reject = no\n"
	    "smtpd_client_restrictions = reject_unlisted_recipient, "
	    "reject_non_fqdn_helo_hostname, reject_non_fqdn_sender, "
	    "reject_unauth_destination, check_sender_access "
	    "texthash:@/sender", CONNECT, NULL, NULL, NULL, NULL, NULL, NULL,
	    false, NULL },
	{ "permit_mynetworks in client list", "smtpd_delay_reject = no\n"
	    "smtpd_client_restrictions = permit_mynetworks, reject", CONNECT,
	    NULL, "::ffff:127.0.0.1", NULL, NULL, NULL, NULL, false, NULL },
	{ "permit_sasl_authenticated", "smtpd_sender_restrictions = "
	    "permit_sasl_authenticated, reject", RCPT, NULL, NULL, NULL,
	    "s@example.org", "alice@example.com", "alice", false, NULL },
	{ "data restrictions", "smtpd_data_restrictions = "
	    "reject_unauth_pipelining, permit", DATA, NULL, NULL, "x.example",
	    "s@example.org", NULL, NULL, false, NULL },
	{ "data: pipelining", "smtpd_data_restrictions = "
	    "reject_unauth_pipelining, permit", DATA, NULL, NULL, "x.example",
	    "s@example.org", NULL, NULL, true, "503 5.5.0 <DATA>: Data "
	    "command rejected: Improper use of SMTP command pipelining" },
	{ "data: reject", "smtpd_data_restrictions = reject", DATA, NULL,
	    NULL, "x.example", "s@example.org", NULL, NULL, false, "554 5.7.1 "
	    "<DATA>: Data command rejected: Access denied" },
	{ "rcpt: pipelining", "smtpd_recipient_restrictions = "
	    "reject_unauth_pipelining", RCPT, NULL, NULL, NULL,
	    "s@example.org", "alice@example.com", NULL, true, "503 5.5.0 "
	    "<alice@example.com>: Recipient address rejected: Improper use "
	    "of SMTP command pipelining" },
	{ "bare table in the sender list", "smtpd_sender_restrictions = "
	    "texthash:@/sender", RCPT, NULL, NULL, NULL, "x@spam.example",
	    "alice@example.com", NULL, false, "554 5.7.1 <x@spam.example>: "
	    "Sender address rejected: Access denied" },
	{ "bare table in the client list", "smtpd_client_restrictions = "
	    "cidr:@/client.cidr", RCPT, NULL, "192.0.2.50", NULL,
	    "s@example.org", "alice@example.com", NULL, false, "554 5.7.1 "
	    "<unknown[192.0.2.50]>: Client host rejected: cidr says no" },
	{ "bare table in the relay list", "smtpd_relay_restrictions = "
	    "texthash:@/rcpt, permit_mynetworks, reject_unauth_destination",
	    RCPT, NULL, "127.0.0.1", NULL, "s@example.org",
	    "openstack@example.com", NULL, false, "554 5.7.1 "
	    "<openstack@example.com>: Recipient address rejected: Access "
	    "denied" },
	{ "bare table in the helo list", "smtpd_helo_restrictions = "
	    "texthash:@/helo", RCPT, NULL, NULL, "x.worse.example",
	    "s@example.org", "alice@example.com", NULL, false, "554 5.7.1 "
	    "<x.worse.example>: Helo command rejected: Access denied" },
	{ "case-insensitive names", "smtpd_sender_restrictions = "
	    "Check_Sender_Access texthash:@/sender, REJECT", RCPT, NULL,
	    NULL, NULL, "x@spam.example", "alice@example.com", NULL, false,
	    "554 5.7.1 <x@spam.example>: Sender address rejected: Access "
	    "denied" },
};

/* Lists and stages. */
static void
test_lists(void **state)
{
	(void)state;
	RUN(list_cases);
}

/* reject_sender_login_mismatch. */
static const struct tcase login_cases[] = {
	{ "not owned", "smtpd_sender_restrictions = "
	    "reject_sender_login_mismatch", RCPT, NULL, NULL, NULL,
	    "bob@example.com", "alice@example.com", "alice", false,
	    "553 5.7.1 <bob@example.com>: Sender address rejected: not owned "
	    "by user alice" },
	{ "owned, second of two", "smtpd_sender_restrictions = "
	    "reject_sender_login_mismatch", RCPT, NULL, NULL, NULL,
	    "bob@example.com", "alice@example.com", "carol", false, NULL },
	{ "not in the table", "smtpd_sender_restrictions = "
	    "reject_sender_login_mismatch", RCPT, NULL, NULL, NULL,
	    "x@else.example", "alice@example.com", "alice", false,
	    "553 5.7.1 <x@else.example>: Sender address rejected: not owned "
	    "by user alice" },
	{ "not logged in", "smtpd_sender_restrictions = "
	    "reject_sender_login_mismatch", RCPT, NULL, NULL, NULL,
	    "bob@example.com", "alice@example.com", NULL, false,
	    "553 5.7.1 <bob@example.com>: Sender address rejected: not "
	    "logged in" },
	{ "unowned, anonymous", "smtpd_sender_restrictions = "
	    "reject_sender_login_mismatch", RCPT, NULL, NULL, NULL,
	    "x@else.example", "alice@example.com", NULL, false, NULL },
	{ "null sender", "smtpd_sender_restrictions = "
	    "reject_sender_login_mismatch", RCPT, NULL, NULL, NULL, "",
	    "alice@example.com", "alice", false, NULL },
	{ "owned without the extension", "recipient_delimiter = +\n"
	    "smtpd_sender_restrictions = reject_sender_login_mismatch", RCPT,
	    NULL, NULL, NULL, "alice+list@example.com", "bob@example.com",
	    "alice", false, NULL },
	{ "extension, not logged in", "recipient_delimiter = +\n"
	    "smtpd_sender_restrictions = reject_sender_login_mismatch", RCPT,
	    NULL, NULL, NULL, "alice+list@example.com", "bob@example.com",
	    NULL, false, "553 5.7.1 <alice+list@example.com>: Sender address "
	    "rejected: not logged in" },
	{ "extension, not owned", "recipient_delimiter = +\n"
	    "smtpd_sender_restrictions = reject_sender_login_mismatch", RCPT,
	    NULL, NULL, NULL, "alice+list@example.com", "bob@example.com",
	    "carol", false, "553 5.7.1 <alice+list@example.com>: Sender "
	    "address rejected: not owned by user carol" },
	{ "table failure", "smtpd_sender_login_maps = lmdb:@/broken\n"
	    "smtpd_sender_restrictions = reject_sender_login_mismatch", RCPT,
	    NULL, NULL, NULL, "bob@example.com", "alice@example.com",
	    "alice", false, "451 4.3.0 <bob@example.com>: Temporary lookup "
	    "failure" },
};

/* Sender login maps. */
static void
test_login_mismatch(void **state)
{
	(void)state;
	RUN(login_cases);
}

/* Bad configurations fail init with the parameter and the word. */
static void
test_init_errors(void **state)
{
	static const struct {
		const char *config, *want;
	} cases[] = {
		{ "smtpd_relay_restrictions =", "smtpd_relay_restrictions and "
		    "smtpd_recipient_restrictions: need "
		    "reject_unauth_destination or defer_unauth_destination" },
		{ "smtpd_relay_restrictions = permit_mynetworks",
		    "need reject_unauth_destination" },
		{ "smtpd_helo_restrictions = frobnicate",
		    "smtpd_helo_restrictions: unknown restriction "
		    "\"frobnicate\"" },
		{ "smtpd_sender_restrictions = check_sender_access",
		    "smtpd_sender_restrictions: check_sender_access needs" },
		{ "smtpd_client_restrictions = check_client_access "
		    "nosuch:/x", "smtpd_client_restrictions: " },
		{ "smtpd_data_restrictions = texthash:/x",
		    "smtpd_data_restrictions: unknown restriction "
		    "\"texthash:/x\"" },
		{ "smtpd_sender_restrictions = nosuch:/x",
		    "smtpd_sender_restrictions: " },
		{ "smtpd_data_restrictions = permit_mynetwork",
		    "smtpd_data_restrictions: unknown restriction "
		    "\"permit_mynetwork\"" },
	};
	struct cfg *cfg;
	struct resolve *resolve;
	struct smtpd_checks *c = NULL;
	char *error;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(load(cases[i].config, &cfg, &resolve, &c,
		    &error), -1);
		if (strstr(error, cases[i].want) == NULL)
			fail_msg("%s: got \"%s\"", cases[i].config, error);
		free(error);
	}
	/* Both lists set is fine too. */
	assert_int_equal(load("smtpd_relay_restrictions =\n"
	    "smtpd_recipient_restrictions = permit_mynetworks, reject",
	    &cfg, &resolve, &c, &error), 0);
	smtpd_checks_free(&c);
	resolve_free(&resolve);
	cfg_free(&cfg);
}

/* permit_mynetworks' and the rate-limit exceptions' answers. */
static void
test_networks(void **state)
{
	static const struct {
		const char *config, *addr;
		bool mynet, exempt;
	} cases[] = {
		{ NULL, "127.0.0.1", true, true },
		{ NULL, "10.2.3.4", true, true },
		{ NULL, "10.1.3.4", false, false },
		{ NULL, "192.0.2.1", false, false },
		{ NULL, "::1", false, false },
		{ "smtpd_client_event_limit_exceptions = "
		    "cidr:@/exceptions.cidr", "198.51.100.9", false, true },
		{ "smtpd_client_event_limit_exceptions = "
		    "cidr:@/exceptions.cidr", "127.0.0.1", true, false },
		{ "mynetworks = [2001:db8::]/32, @/nets", "2001:db8::5", true,
		    true },
		{ "mynetworks = [2001:db8::]/32, @/nets", "192.0.2.77", true,
		    true },
		{ "mynetworks = [2001:db8::]/32, @/nets", "192.0.2.78", false,
		    false },
		{ "mynetworks = lmdb:@/broken", "127.0.0.1", false, false },
	};
	struct cfg *cfg;
	struct resolve *resolve;
	struct smtpd_checks *c;
	char *error, *nets;
	size_t i;

	(void)state;
	nets = testdir_write("nets", "# trusted\n!192.0.2.78\n"
	    "192.0.2.0/24, 198.18.0.0/15\n");
	free(nets);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (load(cases[i].config, &cfg, &resolve, &c, &error) < 0)
			fail_msg("%zu: %s", i, error);
		if (smtpd_check_mynetworks(c, cases[i].addr) !=
		    cases[i].mynet ||
		    smtpd_check_rate_exempt(c, cases[i].addr) !=
		    cases[i].exempt)
			fail_msg("case %zu: %s", i, cases[i].addr);
		smtpd_checks_free(&c);
		resolve_free(&resolve);
		cfg_free(&cfg);
	}
	assert_int_equal(load("mynetworks = @/missing", &cfg, &resolve, &c,
	    &error), -1);
	assert_non_null(strstr(error, "mynetworks: "));
	assert_non_null(strstr(error, "/missing"));
	free(error);
}

/* Address extensions. */
static void
test_strip_extension(void **state)
{
	static const struct {
		const char *addr, *delim, *want;
	} cases[] = {
		{ "u+x@d.example", "+", "u@d.example" },
		{ "u+x+y@d.example", "+", "u@d.example" },
		{ "u-x+y@d.example", "+-", "u@d.example" },
		{ "u+@d.example", "+", "u@d.example" },
		{ "u+x", "+", "u" },
		{ "u@d.example", "+", NULL },
		{ "+x@d.example", "+", NULL },
		{ "u@d+x.example", "+", NULL },
		{ "u+x@d.example", "", NULL },
		{ "u+x@d.example", NULL, NULL },
	};
	size_t i;
	char *got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = check_strip_extension(cases[i].addr, cases[i].delim);
		if ((got == NULL) != (cases[i].want == NULL) ||
		    (got != NULL && strcmp(got, cases[i].want) != 0))
			fail_msg("\"%s\": got \"%s\"", cases[i].addr,
			    got != NULL ? got : "(none)");
		free(got);
	}
}

/* The values of access tables. */
static void
test_access_parse(void **state)
{
	static const struct {
		const char *value;
		enum access_action want;
		int code;
		const char *dsn, *text;
	} cases[] = {
		{ "OK", ACCESS_PERMIT, 0, NULL, NULL },
		{ "ok", ACCESS_PERMIT, 0, NULL, NULL },
		{ "PERMIT", ACCESS_PERMIT, 0, NULL, NULL },
		{ "12345", ACCESS_PERMIT, 0, NULL, NULL },
		{ "DUNNO", ACCESS_DUNNO, 0, NULL, NULL },
		{ "WARN be careful", ACCESS_WARN, 0, NULL, "be careful" },
		{ "REJECT", ACCESS_REFUSE, 554, "5.7.1", "" },
		{ "REJECT no way", ACCESS_REFUSE, 554, "5.7.1", "no way" },
		{ "REJECT 5.7.26 no way", ACCESS_REFUSE, 554, "5.7.26",
		    "no way" },
		{ "DEFER", ACCESS_REFUSE, 450, "4.7.1", "" },
		{ "DEFER 5.7.2 wait", ACCESS_REFUSE, 450, "4.7.2", "wait" },
		{ "550 gone", ACCESS_REFUSE, 550, "5.7.1", "gone" },
		{ "450 4.2.0 later", ACCESS_REFUSE, 450, "4.2.0", "later" },
		{ "521 5.x.1 odd", ACCESS_REFUSE, 521, "5.7.1", "5.x.1 odd" },
		{ "550", ACCESS_PERMIT, 0, NULL, NULL },
		{ "250 fine", ACCESS_INVALID, 0, NULL, NULL },
		{ "5500 text", ACCESS_INVALID, 0, NULL, NULL },
		{ "OK but", ACCESS_INVALID, 0, NULL, NULL },
		{ "HOLD", ACCESS_INVALID, 0, NULL, NULL },
		{ "reject_unauth_destination", ACCESS_INVALID, 0, NULL, NULL },
	};
	char dsn[16];
	const char *text;
	int code;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum access_action a;

		code = 0;
		text = NULL;
		a = check_access_parse(cases[i].value, 554, 450, &code, dsn,
		    &text);
		if (a != cases[i].want)
			fail_msg("\"%s\": action %d", cases[i].value, a);
		if (cases[i].code != 0 && (code != cases[i].code ||
		    strcmp(dsn, cases[i].dsn) != 0))
			fail_msg("\"%s\": %d %s", cases[i].value, code, dsn);
		if (cases[i].text != NULL &&
		    (text == NULL || strcmp(text, cases[i].text) != 0))
			fail_msg("\"%s\": text \"%s\"", cases[i].value, text);
	}
}

/* Write the tables. */
static int
setup(void **state)
{
	size_t i;

	if (testdir_setup(state) < 0)
		return -1;
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		free(testdir_write(tables[i].name, tables[i].text));
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_access_parse),
		cmocka_unit_test(test_strip_extension),
		cmocka_unit_test(test_client_access),
		cmocka_unit_test(test_addr_access),
		cmocka_unit_test(test_relay),
		cmocka_unit_test(test_unlisted),
		cmocka_unit_test(test_rcpt_result),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_login_mismatch),
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test(test_networks),
	};

	return cmocka_run_group_tests(tests, setup, testdir_teardown);
}
