/*
 * Unit tests for src/global/auth_client.c.  The server is a fake: a
 * forked child that plays a script on a UNIX socket in a temporary
 * directory ("expect this line, send that line, close"), strictly: an
 * unexpected line makes it exit non-zero, which the test checks.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "global/auth_client.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "testdir.h"

/* One step of the fake server's script. */
struct step {
	char op;	/* A accept, H handshake, S send, E expect, C close,
			   P pause TEXT milliseconds */
	const char *text;
};

#define END		{ 0, NULL }
#define HANDSHAKE	{ 'A', NULL }, { 'H', NULL }

static const char std_handshake[] =
    "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\n"
    "SPID\t4242\nCUID\t1\nCOOKIE\t0123456789abcdef0123456789abcdef\nDONE\n";

/* What the callbacks of one request saw. */
struct result {
	struct auth_client_request *req;
	const char *const *conts;	/* responses to CONTINUEs */
	int calls;
	enum auth_client_status status[4];
	char data[4][64];
	char fields[4][512];		/* joined with '|' */
	int order;			/* when the last callback ran */
	struct auth_client_request **abort_other;	/* abort it on TEMPFAIL */
	struct auth_client **free_client;	/* free it in the callback */
};

static struct event_base *base;
static int order_counter;
static int sock_counter;

/* The fake server: read one line from FD into BUF (LF removed); 0 at
   EOF, -1 on error. */
static int
fake_readln(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;
	char c;

	while ((r = read(fd, &c, 1)) == 1) {
		if (c == '\n') {
			buf[n] = '\0';
			return 1;
		}
		if (n + 1 < size)
			buf[n++] = c;
	}
	return r == 0 && n == 0 ? 0 : -1;
}

/* The fake server: does LINE match WANT (a trailing '*' matches any
   rest)? */
static int
fake_match(const char *line, const char *want)
{
	size_t len = strlen(want);

	if (len > 0 && want[len - 1] == '*')
		return strncmp(line, want, len - 1) == 0;
	return strcmp(line, want) == 0;
}

/* The fake server: send TEXT and an LF. */
static void
fake_send(int fd, const char *text)
{
	struct str s = STR_INIT;

	str_append(&s, text);
	str_append_c(&s, '\n');
	if (write(fd, s.s, s.len) != (ssize_t)s.len)
		_exit(90);
	str_free(&s);
}

/* The fake server: expect the line WANT on FD. */
static void
fake_expect(int fd, const char *want, int step)
{
	char line[20000];

	if (fake_readln(fd, line, sizeof(line)) != 1 ||
	    !fake_match(line, want)) {
		fprintf(stderr, "fake server step %d: want \"%s\", got "
		    "\"%.80s\"\n", step, want, line);
		_exit(10 + step);
	}
}

/* The fake server: run STEPS on the listening socket LFD, then wait for
   the client to close (any further line is an error). */
static void
fake_run(int lfd, const struct step *steps)
{
	char line[20000];
	int fd = -1, i;

	alarm(10);
	for (i = 0; steps[i].op != 0; i++) {
		switch (steps[i].op) {
		case 'A':
			if ((fd = accept(lfd, NULL, NULL)) < 0)
				_exit(91);
			break;
		case 'H':
			if (write(fd, std_handshake, strlen(std_handshake)) < 0)
				_exit(92);
			/* FALLTHROUGH */
		case 'h':
			if (steps[i].text != NULL)
				fake_send(fd, steps[i].text);
			fake_expect(fd, "VERSION\t1\t2", i);
			fake_expect(fd, "CPID\t*", i);
			break;
		case 'S':
			fake_send(fd, steps[i].text);
			break;
		case 'E':
			fake_expect(fd, steps[i].text, i);
			break;
		case 'C':
			close(fd);
			fd = -1;
			break;
		case 'P':
			usleep((useconds_t)atoi(steps[i].text) * 1000);
			break;
		}
	}
	if (fd >= 0 && fake_readln(fd, line, sizeof(line)) == 1) {
		fprintf(stderr, "fake server: unexpected \"%.80s\"\n", line);
		_exit(99);
	}
	_exit(0);
}

/* Listen on a new UNIX socket in the test directory; its path in
   *PATH_R. */
static int
fake_listen(char **path_r)
{
	struct sockaddr_un sun;
	int fd;

	*path_r = xasprintf("%s/auth-%d", testdir, ++sock_counter);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", *path_r);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

/* Start a fake server playing STEPS; returns its pid and the socket
   path in *PATH_R. */
static pid_t
fake_start(const struct step *steps, char **path_r)
{
	int lfd = fake_listen(path_r);
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		fake_run(lfd, steps);
	close(lfd);
	return pid;
}

/* Run the event loop for MS milliseconds. */
static void
run_for(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* Wait for the fake server and check that its script went through.
   The loop runs meanwhile: libevent closes a freed connection from it. */
static void
fake_finish(pid_t pid)
{
	int status;
	pid_t ret;

	while ((ret = waitpid(pid, &status, WNOHANG)) == 0)
		run_for(10);
	assert_int_equal(ret, pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Record a callback in the struct result CTX. */
static void
record_cb(enum auth_client_status status, const char *data,
    const char *const *fields, void *ctx)
{
	struct result *res = ctx;
	int i = res->calls++;

	assert_true(i < 4);
	res->status[i] = status;
	snprintf(res->data[i], sizeof(res->data[i]), "%s",
	    data != NULL ? data : "(null)");
	res->fields[i][0] = '\0';
	for (; *fields != NULL; fields++) {
		if (res->fields[i][0] != '\0')
			strcat(res->fields[i], "|");
		strncat(res->fields[i], *fields,
		    sizeof(res->fields[i]) - strlen(res->fields[i]) - 2);
	}
	res->order = ++order_counter;
	if (status == AUTH_CLIENT_CONTINUE && res->conts != NULL &&
	    *res->conts != NULL)
		auth_client_continue(res->req, *res->conts++);
	if (status == AUTH_CLIENT_TEMPFAIL && res->abort_other != NULL)
		auth_client_abort(res->abort_other);
	if (res->free_client != NULL)
		auth_client_free(res->free_client);
}

/* Start a request that records into RES. */
static void
start_req(struct auth_client *c, const struct auth_request_info *info,
    struct result *res)
{
	res->req = auth_client_start(c, info, record_cb, res);
}

/* End a test: free the client, check the fake server, free the path. */
static void
finish(struct auth_client **c, pid_t pid, char **path)
{
	auth_client_free(c);
	fake_finish(pid);
	free(*path);
	*path = NULL;
}

/* Has RES ended (OK, FAIL or TEMPFAIL)? */
static int
result_ended(const struct result *res)
{
	return res->calls > 0 && res->status[res->calls - 1] !=
	    AUTH_CLIENT_CONTINUE;
}

/* Run the event loop until every result in RES (NULL-terminated) has
   ended or MS milliseconds have passed. */
static void
run_until_ended(struct result *const *res, int ms)
{
	struct timeval tick = { 0, 20000 };
	struct result *const *p;
	int waited, all;

	for (waited = 0; waited < ms; waited += 20) {
		for (all = 1, p = res; *p != NULL; p++)
			all &= result_ended(*p);
		if (all)
			return;
		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
	}
}

/* A PLAIN or LOGIN request with nothing but the service. */
static struct auth_request_info
basic_info(const char *mech, const char *resp)
{
	struct auth_request_info info;

	memset(&info, 0, sizeof(info));
	info.mech = mech;
	info.service = "smtp";
	info.initial_resp = resp;
	return info;
}

/* Return the monotonic clock in milliseconds. */
static long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The handshake: mechanisms with their flags; unknown lines and flags
   ignored; a mechanism not offered never reaches the server. */
static void
test_handshake_mechs(void **state)
{
	static const struct step steps[] = {
		{ 'A', NULL },
		{ 'h', "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\n"
		    "MECH\tANONYMOUS\tanonymous\nMECH\tAPOP\tprivate\tdictionary"
		    "\nMECH\tX-WEIRD\tfuture-flag\nFOO\tbar\nMECH\tCRAM-MD5\n"
		    "SPID\t1\nCUID\t7\nCOOKIE\tabc\nDONE" },
		END
	};
	struct auth_request_info info = basic_info("DIGEST-MD5", NULL);
	struct result res = { 0 }, *all[] = { &res, NULL };
	const struct auth_mech *m;
	struct auth_client *c;
	char *path;
	size_t n;
	pid_t pid = fake_start(steps, &path);

	(void)state;
	c = auth_client_new(base, path);
	assert_int_equal(auth_client_mechs(c, 2000, &m, &n), 0);
	assert_int_equal(n, 5);
	assert_string_equal(m[0].name, "PLAIN");
	assert_true(m[0].plaintext && !m[0].anonymous && !m[0].private_);
	assert_string_equal(m[1].name, "ANONYMOUS");
	assert_true(m[1].anonymous && !m[1].plaintext);
	assert_string_equal(m[2].name, "APOP");
	assert_true(m[2].private_ && !m[2].plaintext);
	assert_string_equal(m[3].name, "X-WEIRD");
	assert_true(!m[3].plaintext && !m[3].anonymous && !m[3].private_);
	assert_string_equal(m[4].name, "CRAM-MD5");
	/* Connected: a second call does not block and answers the same. */
	assert_int_equal(auth_client_mechs(c, 0, &m, &n), 0);
	assert_int_equal(n, 5);
	start_req(c, &info, &res);
	assert_non_null(res.req);
	run_until_ended(all, 2000);
	assert_int_equal(res.calls, 1);
	assert_int_equal(res.status[0], AUTH_CLIENT_FAIL);
	assert_string_equal(res.fields[0],
	    "reason=Unsupported authentication mechanism");
	finish(&c, pid, &path);
	assert_null(c);
}

struct bad_handshake {
	const char *name;
	const char *text;	/* sent instead of the handshake */
	int close;		/* close after sending it */
};

static const struct bad_handshake bad_handshakes[] = {
	{ "major 2", "VERSION\t2\t0\nMECH\tPLAIN\nDONE", 0 },
	{ "no VERSION", "MECH\tPLAIN\nDONE", 0 },
	{ "no MECH", "VERSION\t1\t2\nSPID\t1\nDONE", 0 },
	{ "userdb socket (no DONE)", "VERSION\t1\t1\nSPID\t1", 0 },
	{ "closed early", "VERSION\t1\t2\nMECH\tPLAIN", 1 },
	{ "empty MECH", "VERSION\t1\t2\nMECH\t\nDONE", 0 },
};

/* A bad or unfinished handshake: -1 within the bound, and no AUTH. */
static void
test_bad_handshake(void **state)
{
	struct step steps[] = { { 'A', NULL }, { 'h', NULL }, END, END };
	const struct auth_mech *m;
	struct auth_client *c;
	size_t i, n;
	char *path;
	long start;
	pid_t pid;

	(void)state;
	for (i = 0; i < sizeof(bad_handshakes) / sizeof(bad_handshakes[0]);
	    i++) {
		steps[1].text = bad_handshakes[i].text;
		steps[2].op = bad_handshakes[i].close ? 'C' : 0;
		pid = fake_start(steps, &path);
		c = auth_client_new(base, path);
		start = ms_now();
		if (auth_client_mechs(c, 300, &m, &n) != -1)
			fail_msg("%s: handshake accepted",
			    bad_handshakes[i].name);
		assert_true(ms_now() - start < 1000);
		finish(&c, pid, &path);
	}
}

/* PLAIN with an initial response and every connection detail. */
static void
test_plain_ok(void **state)
{
	static const struct step steps[] = {
		HANDSHAKE,
		{ 'E', "AUTH\t1\tPLAIN\tservice=smtp\tsecured\tlip=127.0.0.1"
		    "\trip=192.0.2.7\tlport=587\trport=40000"
		    "\tresp=AGFsaWNlAHNlY3JldA==" },
		{ 'S', "OK\t1\tuser=alice\t" },
		END
	};
	struct auth_request_info info = basic_info("PLAIN",
	    "AGFsaWNlAHNlY3JldA==");
	struct result res = { 0 }, *all[] = { &res, NULL };
	struct auth_client *c;
	char *path, *url;
	pid_t pid = fake_start(steps, &path);

	(void)state;
	info.secured = true;
	info.local_ip = "127.0.0.1";
	info.remote_ip = "192.0.2.7";
	info.local_port = 587;
	info.remote_port = 40000;
	url = xasprintf("unix:%s", path);
	c = auth_client_new(base, url);
	free(url);
	start_req(c, &info, &res);
	assert_non_null(res.req);
	run_until_ended(all, 2000);
	assert_int_equal(res.calls, 1);
	assert_int_equal(res.status[0], AUTH_CLIENT_OK);
	assert_string_equal(res.fields[0], "user=alice");
	assert_string_equal(res.data[0], "(null)");
	finish(&c, pid, &path);
}

/* LOGIN: two challenges, two responses, then OK; an empty initial
   response is sent as "resp=". */
static void
test_login_conts(void **state)
{
	static const struct step steps[] = {
		HANDSHAKE,
		{ 'E', "AUTH\t1\tLOGIN\tservice=smtp" },
		{ 'S', "CONT\t1\tVXNlcm5hbWU6" },
		{ 'E', "CONT\t1\tYm9i" },
		{ 'S', "CONT\t1\tUGFzc3dvcmQ6" },
		{ 'E', "CONT\t1\taHVudGVyMg==" },
		{ 'S', "OK\t1\tuser=bob" },
		{ 'E', "AUTH\t2\tPLAIN\tservice=smtp\tresp=" },
		{ 'S', "CONT\t2\t" },
		{ 'E', "CANCEL\t2" },
		END
	};
	static const char *const conts[] = { "Ym9i", "aHVudGVyMg==", NULL };
	struct auth_request_info info = basic_info("LOGIN", NULL);
	struct result res = { 0 }, res2 = { 0 }, *all[] = { &res, NULL };
	struct auth_client *c;
	char *path;
	pid_t pid = fake_start(steps, &path);

	(void)state;
	c = auth_client_new(base, path);
	res.conts = conts;
	start_req(c, &info, &res);
	run_until_ended(all, 2000);
	assert_int_equal(res.calls, 3);
	assert_int_equal(res.status[0], AUTH_CLIENT_CONTINUE);
	assert_string_equal(res.data[0], "VXNlcm5hbWU6");
	assert_int_equal(res.status[1], AUTH_CLIENT_CONTINUE);
	assert_string_equal(res.data[1], "UGFzc3dvcmQ6");
	assert_int_equal(res.status[2], AUTH_CLIENT_OK);
	assert_string_equal(res.fields[2], "user=bob");
	info = basic_info("PLAIN", "");
	start_req(c, &info, &res2);
	while (res2.calls == 0 && order_counter < 1000)
		run_for(20);
	assert_int_equal(res2.status[0], AUTH_CLIENT_CONTINUE);
	assert_string_equal(res2.data[0], "");
	auth_client_abort(&res2.req);
	run_for(50);
	finish(&c, pid, &path);
}

struct reply_case {
	const char *cmd;
	const char *rest;	/* after the id */
	enum auth_client_status want;
	const char *fields;
};

static const struct reply_case reply_cases[] = {
	{ "FAIL", "\tuser=alice\treason=Bad\001tthing", AUTH_CLIENT_FAIL,
	    "user=alice|reason=Bad\tthing" },
	{ "FAIL", "", AUTH_CLIENT_FAIL, "" },
	{ "FAIL", "\tuser=\tcode=temp_fail\treason=LDAP down",
	    AUTH_CLIENT_TEMPFAIL, "user=|code=temp_fail|reason=LDAP down" },
	{ "FAIL", "\ttemp", AUTH_CLIENT_TEMPFAIL, "temp" },
	{ "FAIL", "\tcode=authz_fail", AUTH_CLIENT_FAIL, "code=authz_fail" },
	{ "OK", "\tuser=a\001tb\001nc\0011\001xd\001", AUTH_CLIENT_OK,
	    "user=a\tb\nc\001xd" },
	{ "OK", "\tuser=nul\0010cut", AUTH_CLIENT_OK, "user=nul" },
	{ "OK", "\tuser=carol\tanonymous\r", AUTH_CLIENT_OK,
	    "user=carol|anonymous" },
	{ "OK", "\treason=no user field", AUTH_CLIENT_TEMPFAIL,
	    "reason=no user field" },
};

#define N_REPLY (sizeof(reply_cases) / sizeof(reply_cases[0]))

/* Replies and their status and unescaped fields, table-driven over one
   connection; unknown replies and replies to unknown ids are ignored. */
static void
test_replies(void **state)
{
	struct step steps[2 + 3 * N_REPLY + 1];
	struct auth_request_info info = basic_info("PLAIN", "AA==");
	struct result res[N_REPLY], *all[N_REPLY + 1];
	char *texts[2 * N_REPLY], *path;
	struct auth_client *c;
	size_t i, k = 0;
	pid_t pid;

	(void)state;
	memset(res, 0, sizeof(res));
	steps[k++] = (struct step){ 'A', NULL };
	steps[k++] = (struct step){ 'H', NULL };
	for (i = 0; i < N_REPLY; i++) {
		texts[2 * i] = xasprintf("AUTH\t%zu\tPLAIN\tservice=smtp"
		    "\tresp=AA==", i + 1);
		texts[2 * i + 1] = xasprintf("%s\t%zu%s", reply_cases[i].cmd,
		    i + 1, reply_cases[i].rest);
		steps[k++] = (struct step){ 'E', texts[2 * i] };
		steps[k++] = (struct step){ 'S', i % 2 == 0 ?
		    "CANCELLED\t999" : "OK\t4000\tuser=evil" };
		steps[k++] = (struct step){ 'S', texts[2 * i + 1] };
	}
	steps[k] = (struct step)END;
	pid = fake_start(steps, &path);
	c = auth_client_new(base, path);
	for (i = 0; i < N_REPLY; i++) {
		all[0] = &res[i];
		all[1] = NULL;
		start_req(c, &info, &res[i]);
		run_until_ended(all, 2000);
		if (res[i].calls != 1 || res[i].status[0] !=
		    reply_cases[i].want || strcmp(res[i].fields[0],
		    reply_cases[i].fields) != 0)
			fail_msg("reply %zu: %d calls, status %d, fields "
			    "\"%s\"", i, res[i].calls, res[i].status[0],
			    res[i].fields[0]);
	}
	finish(&c, pid, &path);
	for (i = 0; i < 2 * N_REPLY; i++)
		free(texts[i]);
}

/* Two requests in flight answered in reverse order. */
static void
test_reverse_order(void **state)
{
	static const struct step steps[] = {
		HANDSHAKE,
		{ 'E', "AUTH\t1\tPLAIN\tservice=smtp\trip=192.0.2.1\tresp=AA==" },
		{ 'E', "AUTH\t2\tPLAIN\tservice=smtp\trip=192.0.2.2\tresp=AA==" },
		{ 'S', "FAIL\t2\treason=second" },
		{ 'S', "OK\t1\tuser=first" },
		END
	};
	struct auth_request_info info = basic_info("PLAIN", "AA==");
	struct result r1 = { 0 }, r2 = { 0 }, *all[] = { &r1, &r2, NULL };
	struct auth_client *c;
	char *path;
	pid_t pid = fake_start(steps, &path);

	(void)state;
	c = auth_client_new(base, path);
	info.remote_ip = "192.0.2.1";
	start_req(c, &info, &r1);
	info.remote_ip = "192.0.2.2";
	start_req(c, &info, &r2);
	run_until_ended(all, 2000);
	assert_int_equal(r1.calls, 1);
	assert_int_equal(r2.calls, 1);
	assert_int_equal(r2.status[0], AUTH_CLIENT_FAIL);
	assert_string_equal(r2.fields[0], "reason=second");
	assert_int_equal(r1.status[0], AUTH_CLIENT_OK);
	assert_string_equal(r1.fields[0], "user=first");
	assert_true(r2.order < r1.order);
	finish(&c, pid, &path);
}

/* Values with TAB, LF, CR and 0x01 are escaped and cannot add fields. */
static void
test_escape_values(void **state)
{
	static const struct step steps[] = {
		HANDSHAKE,
		{ 'E', "AUTH\t1\tPLAIN\tservice=sm\001ttp\tlip=1.2.3.4\001t"
		    "secured\trip=a\001nAUTH\0011\001r\tresp=AA==" },
		{ 'S', "CONT\t1\t" },
		{ 'E', "CONT\t1\tx\001ty\001nz" },
		{ 'S', "OK\t1\tuser=u" },
		END
	};
	static const char *const conts[] = { "x\ty\nz", NULL };
	struct auth_request_info info = basic_info("PLAIN", "AA==");
	struct result res = { 0 }, *all[] = { &res, NULL };
	struct auth_client *c;
	char *path;
	pid_t pid = fake_start(steps, &path);

	(void)state;
	info.service = "sm\ttp";
	info.local_ip = "1.2.3.4\tsecured";
	info.remote_ip = "a\nAUTH\001\r";
	c = auth_client_new(base, path);
	res.conts = conts;
	start_req(c, &info, &res);
	run_until_ended(all, 2000);
	assert_int_equal(res.calls, 2);
	assert_int_equal(res.status[1], AUTH_CLIENT_OK);
	finish(&c, pid, &path);
}

/* Abort sends CANCEL, and a late reply to it reaches no callback. */
static void
test_abort(void **state)
{
	static const struct step steps[] = {
		HANDSHAKE,
		{ 'E', "AUTH\t1\tLOGIN\tservice=smtp" },
		{ 'S', "CONT\t1\tVXNlcm5hbWU6" },
		{ 'E', "CANCEL\t1" },
		{ 'S', "FAIL\t1\treason=Authentication request timed out" },
		{ 'E', "AUTH\t2\tPLAIN\tservice=smtp\tresp=AA==" },
		{ 'E', "CANCEL\t2" },
		{ 'E', "AUTH\t3\tPLAIN\tservice=smtp\tresp=AA==" },
		{ 'S', "OK\t2\tuser=late" },
		{ 'S', "OK\t3\tuser=u" },
		END
	};
	struct auth_request_info info = basic_info("LOGIN", NULL);
	struct result r1 = { 0 }, r2 = { 0 }, r3 = { 0 };
	struct result *all[] = { &r3, NULL };
	struct auth_client *c;
	char *path;
	pid_t pid = fake_start(steps, &path);

	(void)state;
	c = auth_client_new(base, path);
	start_req(c, &info, &r1);
	while (r1.calls == 0 && order_counter < 1000)
		run_for(20);
	auth_client_abort(&r1.req);
	assert_null(r1.req);
	info = basic_info("PLAIN", "AA==");
	start_req(c, &info, &r2);
	auth_client_abort(&r2.req);
	auth_client_abort(&r2.req);	/* NULL: ignored */
	start_req(c, &info, &r3);
	run_until_ended(all, 2000);
	assert_int_equal(r1.calls, 1);
	assert_int_equal(r2.calls, 0);
	assert_int_equal(r3.calls, 1);
	assert_int_equal(r3.status[0], AUTH_CLIENT_OK);
	finish(&c, pid, &path);
}

/* The connection closes with two requests in flight: both TEMPFAIL (a
   callback may abort the other one); the next use after a second
   reconnects, with ids from 1 again. */
static void
test_close_and_reconnect(void **state)
{
	static const struct step steps[] = {
		HANDSHAKE,
		{ 'E', "AUTH\t1\tPLAIN\tservice=smtp\tresp=AA==" },
		{ 'E', "AUTH\t2\tPLAIN\tservice=smtp\tresp=AA==" },
		{ 'E', "AUTH\t3\tPLAIN\tservice=smtp\tresp=AA==" },
		{ 'C', NULL },
		HANDSHAKE,
		{ 'E', "AUTH\t1\tPLAIN\tservice=smtp\tresp=AA==" },
		{ 'S', "OK\t1\tuser=again" },
		END
	};
	struct auth_request_info info = basic_info("PLAIN", "AA==");
	struct result r1 = { 0 }, r2 = { 0 }, r3 = { 0 }, r4 = { 0 };
	struct result *all[] = { &r1, &r3, NULL }, *all4[] = { &r4, NULL };
	struct auth_client *c;
	char *path;
	pid_t pid = fake_start(steps, &path);

	(void)state;
	c = auth_client_new(base, path);
	start_req(c, &info, &r1);
	start_req(c, &info, &r2);
	start_req(c, &info, &r3);
	r1.abort_other = &r2.req;
	run_until_ended(all, 2000);
	assert_int_equal(r1.calls, 1);
	assert_int_equal(r1.status[0], AUTH_CLIENT_TEMPFAIL);
	assert_int_equal(r2.calls, 0);
	assert_int_equal(r3.calls, 1);
	assert_int_equal(r3.status[0], AUTH_CLIENT_TEMPFAIL);
	/* Less than a second after the last connect: not yet. */
	assert_null(auth_client_start(c, &info, record_cb, &r4));
	usleep(1100 * 1000);
	start_req(c, &info, &r4);
	assert_non_null(r4.req);
	run_until_ended(all4, 2000);
	assert_int_equal(r4.status[0], AUTH_CLIENT_OK);
	assert_string_equal(r4.fields[0], "user=again");
	finish(&c, pid, &path);
}

/* Malformed or oversize replies drop the connection: TEMPFAIL for all;
   a reply of 16383 bytes is still read. */
static void
test_bad_replies(void **state)
{
	static const char *const bad[] = { "OK\tabc\tuser=x", "OK",
	    "CONT\t1", "FAIL\t0", "OK\t4294967296\tuser=x", NULL };
	struct step steps[] = {
		HANDSHAKE,
		{ 'E', "AUTH\t1\tPLAIN\tservice=smtp\tresp=AA==" },
		{ 'E', "AUTH\t2\tPLAIN\tservice=smtp\tresp=AA==" },
		{ 'S', NULL },
		END
	};
	struct auth_request_info info = basic_info("PLAIN", "AA==");
	struct result r1, r2, *all[] = { &r1, &r2, NULL };
	struct auth_client *c;
	struct str big = STR_INIT;
	char *path;
	size_t i;
	pid_t pid;

	(void)state;
	str_append(&big, "OK\t1\tuser=");
	while (big.len < 16383)
		str_append_c(&big, 'x');
	for (i = 0; i <= 6; i++) {
		if (i == 5)
			str_append_c(&big, 'x');	/* 16384: too long */
		if (i == 6) {
			/* 16383 bytes before the LF: a valid reply. */
			str_truncate(&big, 16383);
			all[1] = NULL;
		}
		steps[4].text = i < 5 ? bad[i] : big.s;
		memset(&r1, 0, sizeof(r1));
		memset(&r2, 0, sizeof(r2));
		pid = fake_start(steps, &path);
		c = auth_client_new(base, path);
		start_req(c, &info, &r1);
		start_req(c, &info, &r2);
		run_until_ended(all, 2000);
		assert_int_equal(r1.calls, 1);
		assert_int_equal(r1.status[0], i == 6 ? AUTH_CLIENT_OK :
		    AUTH_CLIENT_TEMPFAIL);
		if (i < 6)
			assert_int_equal(r2.status[0], AUTH_CLIENT_TEMPFAIL);
		finish(&c, pid, &path);
	}
	str_free(&big);
}

/* No answer in time: TEMPFAIL and CANCEL. */
static void
test_timeout(void **state)
{
	static const struct step steps[] = {
		HANDSHAKE,
		{ 'E', "AUTH\t1\tPLAIN\tservice=smtp\tresp=AA==" },
		{ 'E', "CANCEL\t1" },
		{ 'S', "OK\t1\tuser=late" },
		{ 'E', "AUTH\t2\tPLAIN\tservice=smtp\tresp=AA==" },
		{ 'S', "OK\t2\tuser=ok" },
		END
	};
	struct auth_request_info info = basic_info("PLAIN", "AA==");
	struct result r1 = { 0 }, r2 = { 0 }, *all[] = { &r1, NULL };
	struct result *all2[] = { &r2, NULL };
	struct auth_client *c;
	char *path;
	long start;
	pid_t pid = fake_start(steps, &path);

	(void)state;
	c = auth_client_new(base, path);
	auth_client_set_timeout(c, 200);
	start = ms_now();
	start_req(c, &info, &r1);
	run_until_ended(all, 2000);
	assert_true(ms_now() - start >= 190);
	assert_int_equal(r1.calls, 1);
	assert_int_equal(r1.status[0], AUTH_CLIENT_TEMPFAIL);
	assert_string_equal(r1.fields[0],
	    "reason=Authentication server timed out");
	start_req(c, &info, &r2);
	run_until_ended(all2, 2000);
	assert_int_equal(r2.status[0], AUTH_CLIENT_OK);
	assert_int_equal(r1.calls, 1);
	finish(&c, pid, &path);
}

/* A request line too long for the server fails here, and the
   connection stays up for the others; so does a missing service. */
static void
test_request_too_long(void **state)
{
	static const struct step steps[] = {
		HANDSHAKE,
		{ 'E', "AUTH\t2\tPLAIN\tservice=smtp\tresp=AA==" },
		{ 'S', "OK\t2\tuser=ok" },
		END
	};
	struct auth_request_info info = basic_info("PLAIN", NULL);
	struct result r1 = { 0 }, r2 = { 0 }, r3 = { 0 };
	struct result *all[] = { &r1, &r2, &r3, NULL };
	struct auth_client *c;
	struct str big = STR_INIT;
	char *path;
	pid_t pid = fake_start(steps, &path);

	(void)state;
	while (big.len < 16384)
		str_append(&big, "QUFB");
	info.initial_resp = big.s;
	c = auth_client_new(base, path);
	start_req(c, &info, &r1);
	info = basic_info("PLAIN", "AA==");
	info.service = NULL;
	start_req(c, &info, &r2);
	info = basic_info("PLAIN", "AA==");
	start_req(c, &info, &r3);
	run_until_ended(all, 2000);
	assert_int_equal(r1.status[0], AUTH_CLIENT_FAIL);
	assert_string_equal(r1.fields[0], "reason=Response too long");
	assert_int_equal(r2.status[0], AUTH_CLIENT_FAIL);
	assert_int_equal(r3.status[0], AUTH_CLIENT_OK);
	finish(&c, pid, &path);
	str_free(&big);
}

/* A callback may free the client, with more replies waiting. */
static void
test_free_in_callback(void **state)
{
	static const struct step steps[] = {
		HANDSHAKE,
		{ 'E', "AUTH\t1\tPLAIN\tservice=smtp\tresp=AA==" },
		{ 'E', "AUTH\t2\tPLAIN\tservice=smtp\tresp=AA==" },
		{ 'S', "OK\t1\tuser=a\nOK\t2\tuser=b" },
		END
	};
	struct auth_request_info info = basic_info("PLAIN", "AA==");
	struct result r1 = { 0 }, r2 = { 0 }, *all[] = { &r1, NULL };
	struct auth_client *c;
	char *path;
	pid_t pid = fake_start(steps, &path);

	(void)state;
	c = auth_client_new(base, path);
	start_req(c, &info, &r1);
	start_req(c, &info, &r2);
	r1.free_client = &c;
	run_until_ended(all, 2000);
	assert_int_equal(r1.calls, 1);
	assert_null(c);
	run_for(50);
	assert_int_equal(r2.calls, 0);
	finish(&c, pid, &path);	/* C is NULL already */
}

/* An unreachable server: -1 and NULL at once, for every path form. */
static void
test_unreachable(void **state)
{
	/* Each a prefix, then the test directory unless NULL, then a
	   suffix. */
	static const char *const forms[][3] = {
		{ "", "", "/nonexistent" },
		{ "unix:", "", "/nonexistent" },
		{ "", "", "/refused" },
		{ "inet:127.0.0.1:1", NULL, "" },
		{ "inet:[::1", NULL, "" },
		{ "inet:nohost", NULL, "" },
	};
	struct auth_request_info info = basic_info("PLAIN", "AA==");
	struct result res = { 0 };
	const struct auth_mech *m;
	struct auth_client *c;
	struct sockaddr_un sun;
	char *path;
	size_t i, n;
	long start;
	int fd;

	(void)state;
	/* A socket file that nobody listens on: ECONNREFUSED. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/refused", testdir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		path = xasprintf("%s%s%s", forms[i][0], forms[i][1] != NULL ?
		    testdir : "", forms[i][2]);
		c = auth_client_new(base, path);
		start = ms_now();
		assert_int_equal(auth_client_mechs(c, 5000, &m, &n), -1);
		assert_null(auth_client_start(c, &info, record_cb, &res));
		assert_true(ms_now() - start < 200);
		auth_client_free(&c);
		free(path);
	}
	unlink(sun.sun_path);
	assert_int_equal(res.calls, 0);
}

/* Create the event base. */
static int
setup(void **state)
{
	base = event_base_new();
	return base != NULL ? testdir_setup(state) : -1;
}

/* Free the event base. */
static int
teardown(void **state)
{
	event_base_free(base);
	return testdir_teardown(state);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_mechs),
		cmocka_unit_test(test_bad_handshake),
		cmocka_unit_test(test_plain_ok),
		cmocka_unit_test(test_login_conts),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_reverse_order),
		cmocka_unit_test(test_escape_values),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_close_and_reconnect),
		cmocka_unit_test(test_bad_replies),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_request_too_long),
		cmocka_unit_test(test_free_in_callback),
		cmocka_unit_test(test_unreachable),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
