/*
 * dirmailctl auth: talk to authd the way doveadm does.
 *
 *	dirmailctl auth test [-a SOCKET] USER [PASSWORD]
 *	dirmailctl auth lookup [-a SOCKET] USER
 *	dirmailctl auth list [-a SOCKET]
 *	dirmailctl auth cache flush [-a SOCKET] [USER]
 *
 * "test" authenticates with PLAIN on the auth-client socket (the first
 * unix: socket of auth_listen by default) and reads the password from
 * standard input when it is not given; "lookup" and "list" use the
 * auth-userdb socket (auth_userdb_listen), and so does "cache flush"
 * with the CACHE-FLUSH extension command.  Exit status: 0 success or
 * found, 1 failure or not found, 75 temporary failure.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/fields.h"
#include "global/params.h"
#include "lib/cfg.h"
#include "lib/listen.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "tools/ctl.h"

#define AUTH_USAGE \
	"usage: dirmailctl auth test [-a SOCKET] USER [PASSWORD]\n" \
	"       dirmailctl auth lookup [-a SOCKET] USER\n" \
	"       dirmailctl auth list [-a SOCKET]\n" \
	"       dirmailctl auth cache flush [-a SOCKET] [USER]\n"

#define AUTH_TIMEOUT_SECS	15

struct auth_conn {
	int fd;
	struct str in;
};

typedef int auth_cmd_fn(struct auth_conn *, int, char **);

/* Print the usage and return the usage status. */
static int
auth_usage(void)
{
	fputs(AUTH_USAGE, stderr);
	return CTL_EX_USAGE;
}

/* The path of the first unix: socket of listener parameter NAME. */
static char *
default_socket(const struct ctl_ctx *ctx, const char *name)
{
	struct listen_spec spec;
	struct cfg *cfg;
	char *const *w, *error, *path = NULL;
	const char *err;

	if (dirmail_config_load(ctx->config_path, ctx->overrides, &cfg,
	    &error) < 0) {
		log_error("%s", error);
		free(error);
		return NULL;
	}
	for (w = cfg_list(cfg, name); *w != NULL && path == NULL; w++) {
		if (listen_parse(*w, &spec, &err) == 0) {
			if (spec.type == LISTEN_UNIX)
				path = xstrdup(spec.path);
			listen_spec_clear(&spec);
		}
	}
	if (path == NULL)
		log_error("%s has no unix: socket; use -a SOCKET", name);
	cfg_free(&cfg);
	return path;
}

/* Connect to the UNIX-domain socket PATH ("unix:" prefix allowed). */
static int
auth_connect(const char *path, struct auth_conn *c)
{
	struct sockaddr_un sun;
	struct timeval tv = { AUTH_TIMEOUT_SECS, 0 };

	if (strncmp(path, "unix:", 5) == 0)
		path += 5;
	memset(c, 0, sizeof(*c));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_error("%s: path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		log_error("connect %s: %s", path, strerror(errno));
		if (c->fd >= 0)
			close(c->fd);
		return -1;
	}
	return 0;
}

/* Send TEXT whole. */
static int
auth_write(struct auth_conn *c, const char *text)
{
	size_t len = strlen(text), off = 0;
	ssize_t n;

	while (off < len) {
		n = write(c->fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_error("write to authd: %s", strerror(errno));
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Read the next line into a new string (without LF); NULL on EOF. */
static char *
auth_read_line(struct auth_conn *c)
{
	char buf[4096], *nl, *line;
	ssize_t n;

	while ((nl = c->in.s != NULL ? strchr(c->in.s, '\n') : NULL) ==
	    NULL) {
		n = read(c->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				log_error("read from authd: %s",
				    strerror(errno));
			return NULL;
		}
		str_append_n(&c->in, buf, (size_t)n);
	}
	line = xstrndup(c->in.s, (size_t)(nl - c->in.s));
	memmove(c->in.s, nl + 1, c->in.len - (size_t)(nl - c->in.s) - 1);
	str_truncate(&c->in, c->in.len - (size_t)(nl - c->in.s) - 1);
	return line;
}

/* Print the fields ARGS[FIRST..] as "  name=value". */
static void
print_fields(char **args, size_t first)
{
	for (; args[first] != NULL; first++)
		if (*args[first] != '\0')
			printf("  %s\n", args[first]);
}

/* Read the password from standard input into a new string. */
static char *
read_password(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (isatty(STDIN_FILENO))
		fputs("Password: ", stderr);
	n = getline(&line, &cap, stdin);
	if (n < 0) {
		free(line);
		return xstrdup("");
	}
	line[strcspn(line, "\r\n")] = '\0';
	return line;
}

/* Read the auth-client handshake up to DONE. */
static int
client_handshake(struct auth_conn *c)
{
	char buf[64], *line;
	int done = 0;

	snprintf(buf, sizeof(buf), "VERSION\t1\t2\nCPID\t%ld\n",
	    (long)getpid());
	if (auth_write(c, buf) < 0)
		return -1;
	while (!done && (line = auth_read_line(c)) != NULL) {
		done = strcmp(line, "DONE") == 0;
		free(line);
	}
	if (!done)
		log_error("authd closed the connection during the handshake");
	return done ? 0 : -1;
}

/* Send AUTH PLAIN for USER and PASSWORD. */
static int
send_plain(struct auth_conn *c, const char *user, const char *password)
{
	struct str raw = STR_INIT, line = STR_INIT;
	int ret;

	str_append_c(&raw, '\0');
	str_append(&raw, user);
	str_append_c(&raw, '\0');
	str_append(&raw, password);
	str_append(&line, "AUTH\t1\tPLAIN\tservice=doveadm\tresp=");
	b64_encode(&line, raw.s, raw.len);
	str_append_c(&line, '\n');
	ret = auth_write(c, str_c(&line));
	str_wipe(&raw);
	str_wipe(&line);
	return ret;
}

/* Print the OK/FAIL reply LINE for USER; return the exit status. */
static int
test_result(const char *user, char *line)
{
	size_t n, i;
	char **args = line_split(line, &n);
	int ret = 1;

	if (n >= 2 && strcmp(args[0], "OK") == 0) {
		printf("passdb: %s auth succeeded\n", user);
		ret = 0;
	} else {
		printf("passdb: %s auth failed\n", user);
		for (i = 2; i < n; i++)
			if (strcmp(args[i], "code=temp_fail") == 0 ||
			    strcmp(args[i], "temp") == 0)
				ret = CTL_EX_TEMPFAIL;
	}
	if (n > 2) {
		printf("extra fields:\n");
		print_fields(args, 2);
	}
	free(args);
	return ret;
}

/* auth test USER [PASSWORD] */
static int
auth_test(struct auth_conn *c, int argc, char **argv)
{
	char *password, *line = NULL;
	int ret = CTL_EX_TEMPFAIL;

	if (argc < 1 || argc > 2)
		return auth_usage();
	password = argc == 2 ? xstrdup(argv[1]) : read_password();
	if (client_handshake(c) == 0 && send_plain(c, argv[0], password) == 0) {
		while ((line = auth_read_line(c)) != NULL &&
		    strncmp(line, "OK\t1", 4) != 0 &&
		    strncmp(line, "FAIL\t1", 6) != 0)
			free(line);
		if (line != NULL)
			ret = test_result(argv[0], line);
		else
			printf("passdb: %s auth failed: connection to authd "
			    "lost (temporary failure)\n", argv[0]);
		free(line);
	}
	explicit_bzero(password, strlen(password));
	free(password);
	return ret;
}

/* Send VERSION on the userdb socket and skip the server's lines. */
static int
userdb_handshake(struct auth_conn *c)
{
	char *l1, *l2;
	int ret;

	if (auth_write(c, "VERSION\t1\t0\n") < 0)
		return -1;
	l1 = auth_read_line(c);
	l2 = l1 != NULL ? auth_read_line(c) : NULL;
	ret = l1 != NULL && l2 != NULL && strncmp(l1, "VERSION\t1\t", 10) == 0
	    ? 0 : -1;
	if (ret < 0)
		log_error("not an auth-userdb socket");
	free(l1);
	free(l2);
	return ret;
}

/* Print a USER reply as "field<TAB>value" lines. */
static int
lookup_result(const char *user, char *line)
{
	size_t n, i;
	char **args = line_split(line, &n), *eq;
	int ret = CTL_EX_TEMPFAIL;

	if (strcmp(args[0], "USER") == 0 && n >= 3) {
		printf("field\tvalue\nuser\t%s\n", args[2]);
		for (i = 3; i < n; i++) {
			if ((eq = strchr(args[i], '=')) != NULL)
				*eq++ = '\0';
			if (*args[i] != '\0')
				printf("%s\t%s\n", args[i], eq != NULL ? eq : "");
		}
		ret = 0;
	} else if (strcmp(args[0], "NOTFOUND") == 0) {
		printf("userdb lookup: user %s doesn't exist\n", user);
		ret = 1;
	} else
		printf("userdb lookup: user %s: temporary failure\n", user);
	free(args);
	return ret;
}

/* auth lookup USER */
static int
auth_lookup(struct auth_conn *c, int argc, char **argv)
{
	struct str req = STR_INIT;
	char *line;
	int ret = CTL_EX_TEMPFAIL;

	if (argc != 1)
		return auth_usage();
	if (userdb_handshake(c) < 0)
		return ret;
	str_append(&req, "USER\t1\t");
	tab_escape(&req, argv[0]);
	str_append(&req, "\tservice=doveadm\n");
	if (auth_write(c, str_c(&req)) == 0 &&
	    (line = auth_read_line(c)) != NULL) {
		ret = lookup_result(argv[0], line);
		free(line);
	}
	str_free(&req);
	return ret;
}

/* auth list */
static int
auth_list(struct auth_conn *c, int argc, char **argv)
{
	char *line, **args;
	size_t n;
	int ret = CTL_EX_TEMPFAIL;

	(void)argv;
	if (argc != 0)
		return auth_usage();
	if (userdb_handshake(c) < 0 || auth_write(c, "LIST\t1\n") < 0)
		return ret;
	while ((line = auth_read_line(c)) != NULL) {
		args = line_split(line, &n);
		if (strcmp(args[0], "LIST") == 0 && n >= 3)
			printf("%s\n", args[2]);
		else if (strcmp(args[0], "DONE") == 0)
			ret = n >= 3 && strcmp(args[2], "fail") == 0 ?
			    CTL_EX_TEMPFAIL : 0;
		free(args);
		free(line);
		if (ret != CTL_EX_TEMPFAIL)
			break;
	}
	return ret;
}

/* Print the CACHE-FLUSH reply LINE; return the exit status. */
static int
flush_result(char *line)
{
	size_t n;
	char **args = line_split(line, &n);
	int ret = CTL_EX_TEMPFAIL;

	if (n >= 3 && strcmp(args[0], "OK") == 0) {
		printf("%s cache entries flushed\n", args[2]);
		ret = 0;
	} else
		log_error("authd refused the cache flush");
	free(args);
	return ret;
}

/* auth cache flush [USER] */
static int
auth_cache(struct auth_conn *c, int argc, char **argv)
{
	struct str req = STR_INIT;
	char *line;
	int ret = CTL_EX_TEMPFAIL;

	if (argc < 1 || argc > 2 || strcmp(argv[0], "flush") != 0)
		return auth_usage();
	if (userdb_handshake(c) < 0)
		return ret;
	str_append(&req, "CACHE-FLUSH\t1");
	if (argc == 2) {
		str_append_c(&req, '\t');
		tab_escape(&req, argv[1]);
	}
	str_append_c(&req, '\n');
	if (auth_write(c, str_c(&req)) == 0 &&
	    (line = auth_read_line(c)) != NULL) {
		ret = flush_result(line);
		free(line);
	}
	str_free(&req);
	return ret;
}

static const struct {
	const char *name;
	auth_cmd_fn *fn;
	const char *listener;
} auth_cmds[] = {
	{ "test", auth_test, "auth_listen" },
	{ "lookup", auth_lookup, "auth_userdb_listen" },
	{ "list", auth_list, "auth_userdb_listen" },
	{ "cache", auth_cache, "auth_userdb_listen" },
};

/* dirmailctl auth ... */
int
ctl_auth_main(const struct ctl_ctx *ctx, int argc, char **argv)
{
	struct auth_conn c;
	char *path = NULL;
	size_t i;
	int ch, ret;

	if (argc < 2)
		return auth_usage();
	for (i = 0; i < sizeof(auth_cmds) / sizeof(auth_cmds[0]); i++)
		if (strcmp(argv[1], auth_cmds[i].name) == 0)
			break;
	if (i == sizeof(auth_cmds) / sizeof(auth_cmds[0]))
		return auth_usage();
	argc--;
	argv++;
	optind = 1;
	while ((ch = getopt(argc, argv, "a:")) != -1) {
		if (ch != 'a')
			return auth_usage();
		free(path);
		path = xstrdup(optarg);
	}
	if (path == NULL && (path = default_socket(ctx,
	    auth_cmds[i].listener)) == NULL)
		return CTL_EX_TEMPFAIL;
	if (auth_connect(path, &c) < 0) {
		free(path);
		return CTL_EX_TEMPFAIL;
	}
	ret = auth_cmds[i].fn(&c, argc - optind, argv + optind);
	close(c.fd);
	str_free(&c.in);
	free(path);
	return ret;
}
