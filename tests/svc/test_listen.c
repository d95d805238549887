/*
 * Unit tests for listener specs (src/lib/listen.c): the parser, table
 * driven, and opening UNIX-domain sockets in a temporary directory.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/listen.h"
#include "lib/xalloc.h"

/* A spec that fails with ERROR. */
#define ERR(spec, error) \
	{ spec, error, LISTEN_INET, NULL, NULL, NULL, 0, NULL, NULL }

static const struct {
	const char *spec;
	const char *error;	/* NULL: parses */
	enum listen_type type;
	const char *host, *port, *path;
	mode_t mode;
	const char *user, *group;
} parse_cases[] = {
	{ "25", NULL, LISTEN_INET, NULL, "25", NULL, 0, NULL, NULL },
	{ "127.0.0.1:2525", NULL, LISTEN_INET, "127.0.0.1", "2525", NULL, 0,
	  NULL, NULL },
	{ "inet:mail.example.com:587", NULL, LISTEN_INET,
	  "mail.example.com", "587", NULL, 0, NULL, NULL },
	{ "*:465", NULL, LISTEN_INET, NULL, "465", NULL, 0, NULL, NULL },
	{ "[::1]:143", NULL, LISTEN_INET, "::1", "143", NULL, 0, NULL, NULL },
	{ "inet:[::]:993", NULL, LISTEN_INET, "::", "993", NULL, 0, NULL,
	  NULL },
	{ "unix:/run/x", NULL, LISTEN_UNIX, NULL, NULL, "/run/x", 0666,
	  NULL, NULL },
	{ "unix:/run/x:0600", NULL, LISTEN_UNIX, NULL, NULL, "/run/x", 0600,
	  NULL, NULL },
	{ "unix:/run/x:660:mail", NULL, LISTEN_UNIX, NULL, NULL, "/run/x",
	  0660, "mail", NULL },
	{ "unix:/run/x::mail:staff", NULL, LISTEN_UNIX, NULL, NULL, "/run/x",
	  0666, "mail", "staff" },
	ERR("", "empty listener"),
	ERR("0", "the port must be a number from 1 to 65535"),
	ERR("65536", "the port must be a number from 1 to 65535"),
	ERR("127.0.0.1:", "missing port number"),
	ERR("127.0.0.1:smtp", "the port must be a number from 1 to 65535"),
	ERR(":25", "missing host before the port"),
	ERR("::1:25", "an IPv6 address needs brackets, e.g. [::1]:25"),
	ERR("[::1]", "missing :PORT after the IPv6 address"),
	ERR("[::1:25", "missing ] after the IPv6 address"),
	ERR("[1.2.3.4]:25", "not an IPv6 address between [ and ]"),
	ERR("bad host:25", "bad character in the host name"),
	ERR("unix:", "the socket path must be absolute"),
	ERR("unix:run/x", "the socket path must be absolute"),
	ERR("unix:/run/x:0999", "the mode must be octal, e.g. 0660"),
	ERR("unix:/run/x:1777", "the mode must be at most 0777"),
	ERR("unix:/run/x:0600:a b", "bad character in the user or group name"),
	ERR("unix:/run/x:0600:u:g:extra",
	    "too many fields: unix:PATH[:MODE[:USER[:GROUP]]]"),
};

/* Compare two optional strings. */
static void
assert_opt_string(const char *want, const char *got, const char *spec)
{
	if (want == NULL && got == NULL)
		return;
	if (want == NULL || got == NULL || strcmp(want, got) != 0)
		fail_msg("%s: want \"%s\", got \"%s\"", spec,
		    want != NULL ? want : "(null)", got != NULL ? got : "(null)");
}

/* Every spec of the table parses, or fails with its message. */
static void
test_parse(void **state)
{
	struct listen_spec r;
	const char *why;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		why = NULL;
		ret = listen_parse(parse_cases[i].spec, &r, &why);
		if (parse_cases[i].error != NULL) {
			if (ret != -1 || strcmp(why, parse_cases[i].error) != 0)
				fail_msg("%s: want error \"%s\", got \"%s\"",
				    parse_cases[i].spec, parse_cases[i].error,
				    why != NULL ? why : "success");
			continue;
		}
		if (ret != 0)
			fail_msg("%s: %s", parse_cases[i].spec, why);
		assert_int_equal(r.type, parse_cases[i].type);
		assert_opt_string(parse_cases[i].host, r.host,
		    parse_cases[i].spec);
		assert_opt_string(parse_cases[i].port, r.port,
		    parse_cases[i].spec);
		assert_opt_string(parse_cases[i].path, r.path,
		    parse_cases[i].spec);
		assert_opt_string(parse_cases[i].user, r.user,
		    parse_cases[i].spec);
		assert_opt_string(parse_cases[i].group, r.group,
		    parse_cases[i].spec);
		if (r.type == LISTEN_UNIX)
			assert_int_equal(r.mode, parse_cases[i].mode);
		listen_spec_clear(&r);
	}
}

/* Addresses compare on host and port, or path, not mode or owner. */
static void
test_same_address(void **state)
{
	static const struct {
		const char *a, *b;
		bool same;
	} cases[] = {
		{ "127.0.0.1:25", "inet:127.0.0.1:025", true },
		{ "25", "*:25", true },
		{ "25", "0.0.0.0:25", false },
		{ "127.0.0.1:25", "127.0.0.1:26", false },
		{ "unix:/run/x:0600", "unix:/run/x:0666:mail", true },
		{ "unix:/run/x", "unix:/run/y", false },
	};
	struct listen_spec a, b;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(listen_parse(cases[i].a, &a, &why), 0);
		assert_int_equal(listen_parse(cases[i].b, &b, &why), 0);
		if (listen_same_address(&a, &b) != cases[i].same)
			fail_msg("%s vs %s", cases[i].a, cases[i].b);
		listen_spec_clear(&a);
		listen_spec_clear(&b);
	}
}

/* Parse SPEC, which must be valid, into *R. */
static void
parse_ok(const char *spec, struct listen_spec *r)
{
	const char *why;

	if (listen_parse(spec, r, &why) < 0)
		fail_msg("%s: %s", spec, why);
}

/* Leave a socket file at PATH that nobody listens on. */
static void
make_stale_socket(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
}

/* A UNIX-domain socket gets its mode and flags; a stale file is
   replaced, a live socket or a plain file is not; close removes it. */
static void
test_open_unix(void **state)
{
	char dir[] = "/tmp/dirmail-test-listen.XXXXXX", *path, *spec_text;
	struct listen_spec spec;
	struct listen_fds fds, fds2;
	struct stat st;
	char *error;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/sock", dir);
	spec_text = xasprintf("unix:%s:0640", path);
	parse_ok(spec_text, &spec);
	make_stale_socket(path);
	assert_int_equal(listen_open(&spec, (uid_t)-1, (gid_t)-1, &fds,
	    &error), 0);
	assert_int_equal(fds.count, 1);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_true(fcntl(fds.fds[0], F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(fds.fds[0], F_GETFL) & O_NONBLOCK);
	/* Someone listens: a second open must not take the path over. */
	assert_int_equal(listen_open(&spec, (uid_t)-1, (gid_t)-1, &fds2,
	    &error), -1);
	assert_non_null(strstr(error, "in use by another process"));
	free(error);
	listen_close(&spec, &fds, true);
	assert_int_equal(stat(path, &st), -1);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(listen_open(&spec, (uid_t)-1, (gid_t)-1, &fds,
	    &error), -1);
	assert_non_null(strstr(error, "is not a socket"));
	free(error);
	unlink(path);
	rmdir(dir);
	listen_spec_clear(&spec);
	free(spec_text);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_same_address),
		cmocka_unit_test(test_open_unix),
	};

	return cmocka_run_group_tests_name("listen", tests, NULL, NULL);
}
