/*
 * Unit tests for the configuration engine (src/lib/cfg.c), CIDR parsing
 * (src/lib/cidr.c) and dirmail's parameter table (src/global/params.c).
 * Configuration files are written to a temporary directory.
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

#include "global/params.h"
#include "lib/cfg.h"
#include "lib/cidr.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* Write TEXT to a new temporary file and return its path. */
static char *
write_tmp(const char *text)
{
	char *path = xstrdup("/tmp/dirmail-test-cfg.XXXXXX");
	int fd = mkstemp(path);
	FILE *fp;

	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return path;
}

/* Load TEXT with dirmail's table; return the config or NULL and error. */
static struct cfg *
load_text(const char *text, char *const *overrides, char **error_r)
{
	char *path = write_tmp(text);
	struct cfg *cfg = NULL;

	*error_r = NULL;
	if (dirmail_config_load(path, overrides, &cfg, error_r) < 0)
		cfg = NULL;
	unlink(path);
	free(path);
	return cfg;
}

/* The table must be sorted for bsearch, and every default must validate. */
static void
test_table_sorted_and_defaults_valid(void **state)
{
	struct cfg *cfg;
	char *error;
	size_t i;

	(void)state;
	for (i = 1; i < dirmail_params_count; i++)
		assert_true(strcmp(dirmail_params[i - 1].name,
		    dirmail_params[i].name) < 0);
	cfg = load_text("", NULL, &error);
	if (cfg == NULL)
		fail_msg("defaults do not validate: %s", error);
	assert_int_equal(strv_len(cfg_list(cfg, "smtpd_relay_restrictions")),
	    3);
	assert_string_equal(cfg_list(cfg, "mynetworks")[1], "[::1]/128");
	cfg_free(&cfg);
	assert_null(cfg);
}

static const struct {
	const char *name;
	const char *text;
	const char *param;
	const char *want;
} expand_cases[] = {
	{ "plain", "myorigin = example.org\n", "myorigin", "example.org" },
	{ "dollar name", "mydomain = ex.org\nmyorigin = $mydomain\n",
	    "myorigin", "ex.org" },
	{ "braces", "mydomain = ex.org\nmyorigin = mail.${mydomain}\n",
	    "myorigin", "mail.ex.org" },
	{ "parens", "mydomain = ex.org\nmyorigin = $(mydomain)x\n",
	    "myorigin", "ex.orgx" },
	{ "defined later", "myorigin = $mydomain\nmydomain = late.org\n",
	    "myorigin", "late.org" },
	{ "? non-empty", "relayhost = r\nmyorigin = ${relayhost?yes}\n",
	    "myorigin", "yes" },
	{ "? empty", "relayhost =\nmyorigin = a${relayhost?yes}\n",
	    "myorigin", "a" },
	{ ": empty", "relayhost =\nmyorigin = ${relayhost:no}\n",
	    "myorigin", "no" },
	{ "double dollar", "myorigin = a$$b\n", "myorigin", "a$b" },
	{ "continuation", "smtpd_banner = one\n  two\n\tthree\n",
	    "smtpd_banner", "one two three" },
	{ "comments and blanks", "# c\n\n  # indented comment\nmyorigin = x\n",
	    "myorigin", "x" },
	{ "user parameter", "site = corp.example\nmyorigin = $site\n",
	    "myorigin", "corp.example" },
	{ "default expands", "myhostname = h.ex.org\n", "smtpd_banner",
	    "h.ex.org ESMTP dirmail" },
	{ "dovecot file", "ssl_cert = </etc/ssl/c.pem\n", "ssl_cert",
	    "/etc/ssl/c.pem" },
};

/* $name expansion, continuation lines and comments. */
static void
test_expansion(void **state)
{
	struct cfg *cfg;
	char *error;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(expand_cases) / sizeof(expand_cases[0]); i++) {
		cfg = load_text(expand_cases[i].text, NULL, &error);
		if (cfg == NULL)
			fail_msg("%s: %s", expand_cases[i].name, error);
		if (strcmp(expand_cases[i].param, "ssl_cert") == 0)
			assert_string_equal(cfg_file(cfg, "ssl_cert"),
			    expand_cases[i].want);
		else if (strcmp(cfg_str(cfg, expand_cases[i].param),
		    expand_cases[i].want) != 0)
			fail_msg("%s: got \"%s\"", expand_cases[i].name,
			    cfg_str(cfg, expand_cases[i].param));
		cfg_free(&cfg);
	}
}

static const struct {
	const char *text;
	const char *want;	/* the error, after the file name */
} error_cases[] = {
	{ "smtpd_helo_required = maybe\n",
	    ":1: smtpd_helo_required: not a boolean (use yes or no)" },
	{ "\n\nmessage_size_limit = 10X\n",
	    ":3: message_size_limit: bad size unit (use k, M or G)" },
	{ "smtpd_timeout = 5 fortnights\n",
	    ":1: smtpd_timeout: bad time unit (use s, m, h, d or w)" },
	{ "smtpd_recipient_limit = 0\n",
	    ":1: smtpd_recipient_limit: value below the minimum" },
	{ "smtpd_recipient_limit = ten\n",
	    ":1: smtpd_recipient_limit: not a number" },
	{ "mynetworks = 10.0.0.0/8 300.1.1.1\n",
	    ":1: mynetworks: not an address or network" },
	{ "mynetworks = 10.0.0.1/8\n",
	    ":1: mynetworks: address has bits set outside the network mask" },
	{ "virtual_alias_maps = /etc/virtual\n",
	    ":1: virtual_alias_maps: not a type:name table" },
	{ "smtpd_tls_security_level = maybe\n",
	    ":1: smtpd_tls_security_level: not one of the allowed values" },
	{ "myorigin = $myorigin\n",
	    ":1: myorigin: $name expansion loops or nests too deep" },
	{ "this line has no equals sign\n",
	    ":1: missing '=' after parameter name" },
	{ "  leading = continuation\n",
	    ":1: continuation line without a parameter" },
	{ "bad-name = x\n", ":1: bad parameter name \"bad-name\"" },
};

/* A bad value names file, line and parameter. */
static void
test_errors(void **state)
{
	struct cfg *cfg;
	char *error;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		cfg = load_text(error_cases[i].text, NULL, &error);
		if (cfg != NULL)
			fail_msg("accepted: %s", error_cases[i].text);
		assert_non_null(strstr(error, "/tmp/dirmail-test-cfg."));
		if (strstr(error, error_cases[i].want) == NULL)
			fail_msg("want \"%s\", got \"%s\"", error_cases[i].want,
			    error);
		free(error);
	}
}

/* Overrides win over the file; a bad override names "command line". */
static void
test_overrides(void **state)
{
	char *good[] = { "myorigin=over.example", NULL };
	char *bad[] = { "smtpd_helo_required=perhaps", NULL };
	struct cfg *cfg;
	const char *origin;
	char *error;

	(void)state;
	cfg = load_text("myorigin = file.example\n", good, &error);
	assert_non_null(cfg);
	assert_string_equal(cfg_str(cfg, "myorigin"), "over.example");
	assert_true(cfg_is_set(cfg, "myorigin"));
	assert_false(cfg_is_set(cfg, "mydomain"));
	assert_string_equal(cfg_raw(cfg, "mydestination", &origin),
	    "$myhostname, localhost.$mydomain, localhost");
	assert_string_equal(origin, "default");
	cfg_free(&cfg);
	cfg = load_text("", bad, &error);
	assert_null(cfg);
	assert_string_equal(error, "command line: smtpd_helo_required: "
	    "not a boolean (use yes or no)");
	free(error);
}

/* Typed accessors. */
static void
test_types(void **state)
{
	struct cfg *cfg;
	char *error;
	char *const *list;

	(void)state;
	cfg = load_text("message_size_limit = 10M\n"
	    "smtpd_timeout = 2m\n"
	    "maximal_queue_lifetime = 3\n"
	    "auth_failure_delay = 2 secs\n"
	    "smtpd_helo_required = yes\n"
	    "smtpd_recipient_limit = 50\n"
	    "mydestination = a.example, b.example c.example,,\n"
	    "passdb = ldap:/etc/x.conf, static:uid=vmail gid=vmail\n"
	    "mynetworks = 127.0.0.0/8, [::1]/128 192.168.1.7 cidr:/etc/n\n",
	    NULL, &error);
	assert_non_null(cfg);
	assert_int_equal(cfg_size(cfg, "message_size_limit"), 10485760);
	assert_int_equal(cfg_duration(cfg, "smtpd_timeout"), 120);
	assert_int_equal(cfg_duration(cfg, "maximal_queue_lifetime"),
	    3 * 86400);
	assert_int_equal(cfg_duration(cfg, "auth_failure_delay"), 2);
	assert_true(cfg_bool(cfg, "smtpd_helo_required"));
	assert_int_equal(cfg_int(cfg, "smtpd_recipient_limit"), 50);
	list = cfg_list(cfg, "mydestination");
	assert_int_equal(strv_len(list), 3);
	assert_string_equal(list[2], "c.example");
	list = cfg_list(cfg, "passdb");
	assert_int_equal(strv_len(list), 2);
	assert_string_equal(list[1], "static:uid=vmail gid=vmail");
	assert_int_equal(strv_len(cfg_list(cfg, "mynetworks")), 4);
	cfg_free(&cfg);
}

static const struct {
	const char *value;
	bool comma_only;
	size_t n;
	const char *last;
} split_cases[] = {
	{ "", false, 0, NULL },
	{ " , ,", false, 0, NULL },
	{ "a b,c", false, 3, "c" },
	{ "a, { b c }, d", false, 3, "d" },
	{ "{ static:uid=x gid=y }", false, 1, "static:uid=x gid=y" },
	{ "x y, z", true, 2, "z" },
};

/* List splitting on commas and white space, with { } groups. */
static void
test_split(void **state)
{
	char **v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
		v = cfg_split_list(split_cases[i].value,
		    split_cases[i].comma_only);
		assert_int_equal(strv_len(v), split_cases[i].n);
		if (split_cases[i].last != NULL)
			assert_string_equal(v[split_cases[i].n - 1],
			    split_cases[i].last);
		strv_free(&v);
	}
	v = cfg_split_list("a, { b c }, d", false);
	assert_string_equal(v[1], "b c");
	strv_free(&v);
}

/* Size and duration units. */
static void
test_units(void **state)
{
	uint64_t size;
	long long secs;
	const char *why;

	(void)state;
	assert_int_equal(cfg_parse_size("10240000", &size, &why), 0);
	assert_int_equal(size, 10240000);
	assert_int_equal(cfg_parse_size("512k", &size, &why), 0);
	assert_int_equal(size, 524288);
	assert_int_equal(cfg_parse_size("1 G", &size, &why), 0);
	assert_int_equal(size, 1073741824);
	assert_int_equal(cfg_parse_size("-1", &size, &why), -1);
	assert_int_equal(cfg_parse_size("99999999999999999999", &size, &why),
	    -1);
	assert_int_equal(cfg_parse_size("17179869184G", &size, &why), -1);
	assert_int_equal(cfg_parse_duration("60s", 's', &secs, &why), 0);
	assert_int_equal(secs, 60);
	assert_int_equal(cfg_parse_duration("1h", 's', &secs, &why), 0);
	assert_int_equal(secs, 3600);
	assert_int_equal(cfg_parse_duration("2", 'm', &secs, &why), 0);
	assert_int_equal(secs, 120);
	assert_int_equal(cfg_parse_duration("1w", 's', &secs, &why), 0);
	assert_int_equal(secs, 604800);
	assert_int_equal(cfg_parse_duration("1 hour", 's', &secs, &why), 0);
	assert_int_equal(secs, 3600);
	assert_int_equal(cfg_parse_duration("s", 's', &secs, &why), -1);
}

static const struct {
	const char *net;
	const char *addr;
	bool match;
} cidr_cases[] = {
	{ "192.168.1.0/24", "192.168.1.77", true },
	{ "192.168.1.0/24", "192.168.2.1", false },
	{ "0.0.0.0/0", "203.0.113.9", true },
	{ "127.0.0.1", "127.0.0.1", true },
	{ "127.0.0.1", "127.0.0.2", false },
	{ "[::1]/128", "::1", true },
	{ "2001:db8::/32", "2001:db8:1::5", true },
	{ "2001:db8::/32", "2001:db9::5", false },
	{ "10.0.0.0/8", "::ffff:10.1.2.3", true },
	{ "10.0.0.0/8", "[::1]", false },
	{ "10.0.0.0/8", "not-an-address", false },
};

/* CIDR parsing and matching. */
static void
test_cidr(void **state)
{
	struct cidr c;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cidr_cases) / sizeof(cidr_cases[0]); i++) {
		assert_int_equal(cidr_parse(cidr_cases[i].net, &c, &why), 0);
		if (cidr_match_text(&c, cidr_cases[i].addr) !=
		    cidr_cases[i].match)
			fail_msg("%s ~ %s", cidr_cases[i].net,
			    cidr_cases[i].addr);
	}
	assert_int_equal(cidr_parse("10.0.0.0/33", &c, &why), -1);
	assert_int_equal(cidr_parse("10.0.0.0/", &c, &why), -1);
	assert_int_equal(cidr_parse("[10.0.0.1]", &c, &why), -1);
	assert_int_equal(cidr_parse("10.0.0.1/8", &c, &why), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_sorted_and_defaults_valid),
		cmocka_unit_test(test_expansion),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_cidr),
	};

	return cmocka_run_group_tests_name("cfg", tests, NULL, NULL);
}
