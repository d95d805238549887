/*
 * The auth-userdb protocol (Dovecot's auth-master): USER and PASS
 * lookups, LIST iteration and the master's REQUEST for a finished login.
 * Every userdb answer (USER, REQUEST) is checked against
 * first_valid_uid and last_valid_uid.
 */

#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/cache.h"
#include "auth/db.h"
#include "auth/fields.h"
#include "auth/lineconn.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/tabescape.h"
#include "lib/xalloc.h"

#define USERDB_MAX_LINE		16384

enum udb_state {
	UDB_WANT_VERSION,
	UDB_READY,
};

struct udb_client;

/* What a request looks up. */
enum udb_kind {
	UDB_USER,	/* USER: the userdb */
	UDB_PASS,	/* PASS: the passdb, without a password */
	UDB_REQUEST,	/* REQUEST: the userdb, for a finished login */
};

static const char *const udb_kind_names[] = {
	"userdb lookup", "passdb lookup", "master request",
};

struct udb_req {
	struct udb_client *client;
	unsigned int id;
	enum udb_kind kind;
	char *user;
	struct db_lookup *lookup;
};

struct udb_client {
	struct lineconn *conn;
	enum udb_state state;
	struct udb_req **reqs;
	size_t n_reqs;
};

typedef int udb_cmd_fn(struct udb_client *c, char **args, size_t n);

static udb_cmd_fn udb_cmd_user, udb_cmd_pass, udb_cmd_list, udb_cmd_flush,
    udb_cmd_request;

static const struct {
	const char *name;
	udb_cmd_fn *handler;
	enum udb_state state;
} udb_cmds[] = {
	{ "USER", udb_cmd_user, UDB_READY },
	{ "PASS", udb_cmd_pass, UDB_READY },
	{ "LIST", udb_cmd_list, UDB_READY },
	{ "CACHE-FLUSH", udb_cmd_flush, UDB_READY },
	{ "REQUEST", udb_cmd_request, UDB_READY },
};

/* Send LINE and an LF. */
static void
udb_send(struct udb_client *c, const char *line)
{
	lineconn_write(c->conn, line, strlen(line));
	lineconn_write(c->conn, "\n", 1);
}

/* Forget and free R. */
static void
udb_req_free(struct udb_req *r)
{
	struct udb_client *c = r->client;
	size_t i;

	for (i = 0; i < c->n_reqs; i++) {
		if (c->reqs[i] == r) {
			c->reqs[i] = c->reqs[--c->n_reqs];
			break;
		}
	}
	db_lookup_abort(&r->lookup);
	free(r->user);
	free(r);
}

/*
 * Check the uid of a userdb answer (mail_uid already applied) against
 * first_valid_uid and last_valid_uid, as Dovecot's mail processes do.
 * 0 (also when there is no uid), or -1 with a message in *ERROR_R (free
 * it).
 */
static int
udb_uid_check(const struct auth_fields *fields, char **error_r)
{
	const char *value = fields_get(fields, "uid");
	unsigned int uid;

	if (value == NULL || *value == '\0')
		return 0;
	if (str_to_uint(value, &uid) < 0) {
		*error_r = xasprintf("Invalid uid %.64s from userdb lookup "
		    "(not a number nor a known user)", value);
		return -1;
	}
	if (uid < auth_set.first_valid_uid ||
	    (auth_set.last_valid_uid != 0 && uid > auth_set.last_valid_uid)) {
		*error_r = xasprintf("Mail access for users with UID %u not "
		    "permitted (see %s in config file, uid from userdb "
		    "lookup)", uid, uid < auth_set.first_valid_uid ?
		    "first_valid_uid" : "last_valid_uid");
		return -1;
	}
	return 0;
}

/* Append the reply to R to LINE; return the outcome for the log. */
static const char *
udb_reply(struct udb_req *r, enum db_result result, const char *backend,
    const struct auth_fields *fields, const char *error, struct str *line)
{
	char *uid_error = NULL;

	if (result == DB_OK && r->kind != UDB_PASS &&
	    udb_uid_check(fields, &uid_error) < 0) {
		log_warning("%s %s: %s", udb_kind_names[r->kind], r->user,
		    uid_error);
		str_appendf(line, "FAIL\t%u\treason=", r->id);
		tab_escape(line, uid_error);
		free(uid_error);
		return "refused";
	}
	if (result == DB_OK) {
		str_appendf(line, r->kind == UDB_PASS ? "PASS\t%u\tuser=" :
		    "USER\t%u\t", r->id);
		tab_escape(line, r->user);
		fields_append_line(line, fields);
		return "found";
	}
	if (result == DB_TEMPFAIL) {
		log_warning("%s %s: %s (%s)", udb_kind_names[r->kind], r->user,
		    error != NULL ? error : "temporary failure", backend);
		str_appendf(line, "FAIL\t%u\treason=%s", r->id,
		    "Temporary lookup failure");
		return "tempfail";
	}
	str_appendf(line, "NOTFOUND\t%u", r->id);
	return "notfound";
}

/* The lookup of R answered. */
static void
udb_looked_up(enum db_result result, const char *backend,
    const struct auth_fields *fields, const char *error, void *ctx)
{
	struct udb_req *r = ctx;
	struct str line = STR_INIT;
	const char *outcome;

	r->lookup = NULL;
	outcome = udb_reply(r, result, backend, fields, error, &line);
	log_info("%s: user=<%s>, result=%s, backend=%s",
	    udb_kind_names[r->kind], r->user, outcome, backend);
	udb_send(r->client, str_c(&line));
	str_free(&line);
	udb_req_free(r);
}

/* Start the lookup KIND of USER (already normalised) for request ID. */
static void
udb_start(struct udb_client *c, unsigned int id, const char *user,
    const struct db_info *info, enum udb_kind kind)
{
	struct udb_req *r = xcalloc(1, sizeof(*r));

	r->client = c;
	r->id = id;
	r->kind = kind;
	r->user = xstrdup(user);
	c->reqs = xreallocarray(c->reqs, c->n_reqs + 1, sizeof(*c->reqs));
	c->reqs[c->n_reqs++] = r;
	r->lookup = kind == UDB_PASS ? passdb_lookup(r->user, NULL, info,
	    udb_looked_up, r) : userdb_lookup(r->user, info, udb_looked_up, r);
}

/* Parse "ID USER params"; start the lookup KIND. */
static int
udb_lookup(struct udb_client *c, char **args, size_t n, enum udb_kind kind)
{
	struct db_info info = { NULL, "", "", AUTH_REPLY_DEADLINE_MS };
	size_t i;
	char *id_end, *user;
	unsigned long id;

	if (n < 3 || (id = strtoul(args[1], &id_end, 10)) == 0 ||
	    *id_end != '\0' || id > 0xffffffffUL)
		return -1;
	for (i = 3; i < n; i++) {
		if (strncmp(args[i], "service=", 8) == 0)
			info.service = args[i] + 8;
		else if (strncmp(args[i], "protocol=", 9) == 0)
			info.service = args[i] + 9;
		else if (strncmp(args[i], "rip=", 4) == 0)
			info.rip = args[i] + 4;
		else if (strncmp(args[i], "lip=", 4) == 0)
			info.lip = args[i] + 4;
	}
	if (info.service == NULL)
		return -1;
	if (auth_username_normalize(args[2], &user) < 0)
		user = xstrdup(args[2]);
	udb_start(c, (unsigned int)id, user, &info, kind);
	free(user);
	return 0;
}

/* USER id user service=... */
static int
udb_cmd_user(struct udb_client *c, char **args, size_t n)
{
	return udb_lookup(c, args, n, UDB_USER);
}

/* PASS id user service=... */
static int
udb_cmd_pass(struct udb_client *c, char **args, size_t n)
{
	return udb_lookup(c, args, n, UDB_PASS);
}

struct udb_list_ctx {
	struct udb_client *client;
	const char *id;
	const char *mask;
};

/* Send one LIST line. */
static void
udb_list_one(const char *user, void *arg)
{
	struct udb_list_ctx *ctx = arg;
	struct str line = STR_INIT;

	if (ctx->mask != NULL && fnmatch(ctx->mask, user, 0) != 0)
		return;
	str_appendf(&line, "LIST\t%s\t", ctx->id);
	tab_escape(&line, user);
	udb_send(ctx->client, str_c(&line));
	str_free(&line);
}

/* LIST id [user=MASK] */
static int
udb_cmd_list(struct udb_client *c, char **args, size_t n)
{
	struct udb_list_ctx ctx = { c, NULL, NULL };
	char *line;
	size_t i;
	int ret;

	if (n < 2 || *args[1] == '\0' ||
	    strspn(args[1], "0123456789") != strlen(args[1]))
		return -1;
	ctx.id = args[1];
	for (i = 2; i < n; i++)
		if (strncmp(args[i], "user=", 5) == 0)
			ctx.mask = args[i] + 5;
	ret = userdb_iterate(udb_list_one, &ctx);
	line = xasprintf("DONE\t%s\t%s", args[1], ret < 0 ? "fail" : "");
	udb_send(c, line);
	free(line);
	return 0;
}

/* CACHE-FLUSH id [user]: a dirmail extension, answered OK id count. */
static int
udb_cmd_flush(struct udb_client *c, char **args, size_t n)
{
	char *user = NULL, *line;
	unsigned int count;

	if (n < 2 || *args[1] == '\0' ||
	    strspn(args[1], "0123456789") != strlen(args[1]))
		return -1;
	if (n >= 3 && *args[2] != '\0' &&
	    auth_username_normalize(args[2], &user) < 0)
		user = xstrdup(args[2]);
	count = auth_cache_flush(user);
	log_info("cache flush: user=<%s>, entries=%u",
	    user != NULL ? user : "*", count);
	line = xasprintf("OK\t%s\t%u", args[1], count);
	udb_send(c, line);
	free(line);
	free(user);
	return 0;
}

/* REQUEST id client-pid client-id cookie [params]: the userdb record of
   a finished login, once. */
static int
udb_cmd_request(struct udb_client *c, char **args, size_t n)
{
	unsigned int id, pid, client_id;
	struct auth_login *login;
	struct db_info info;
	const char *error;
	char *line;

	if (n < 5 || str_to_uint(args[1], &id) < 0 ||
	    str_to_uint(args[2], &pid) < 0 ||
	    str_to_uint(args[3], &client_id) < 0 ||
	    strlen(args[4]) != 2 * AUTH_COOKIE_SIZE ||
	    strspn(args[4], "0123456789abcdefABCDEF") != 2 * AUTH_COOKIE_SIZE)
		return -1;
	if (auth_login_take(pid, args[4], client_id, &login, &error) < 0) {
		log_warning("master request %u.%u: %s", pid, client_id, error);
		line = xasprintf("FAIL\t%u", id);
		udb_send(c, line);
		free(line);
		return 0;
	}
	info.service = login->service;
	info.rip = login->rip;
	info.lip = login->lip;
	info.timeout_ms = AUTH_REPLY_DEADLINE_MS;
	udb_start(c, id, login->user, &info, UDB_REQUEST);
	auth_login_free(&login);
	return 0;
}

/* Handle one input line. */
static int
udb_input(char *line, void *arg)
{
	struct udb_client *c = arg;
	size_t n, i;
	char **args = tab_split(line, &n);
	int ret = -1;

	if (c->state == UDB_WANT_VERSION) {
		if (n >= 3 && strcmp(args[0], "VERSION") == 0 &&
		    strcmp(args[1], "1") == 0) {
			c->state = UDB_READY;
			ret = 0;
		}
	} else {
		for (i = 0; i < sizeof(udb_cmds) / sizeof(udb_cmds[0]); i++)
			if (strcmp(args[0], udb_cmds[i].name) == 0 &&
			    udb_cmds[i].state == c->state)
				ret = udb_cmds[i].handler(c, args, n);
	}
	if (ret < 0)
		log_warning("userdb client: bad input: %.40s", args[0]);
	free(args);
	return ret;
}

/* The connection ended: drop everything pending. */
static void
udb_closed(const char *reason, void *arg)
{
	struct udb_client *c = arg;

	log_debug("userdb client: %s", reason);
	while (c->n_reqs > 0)
		udb_req_free(c->reqs[c->n_reqs - 1]);
	free(c->reqs);
	free(c);
}

/* Serve the new connection FD. */
void
auth_userdb_accept(int fd)
{
	struct udb_client *c = xcalloc(1, sizeof(*c));
	char *hello;

	c->conn = lineconn_new(auth_base, fd, USERDB_MAX_LINE, udb_input,
	    udb_closed, c);
	if (c->conn == NULL) {
		close(fd);
		free(c);
		return;
	}
	hello = xasprintf("VERSION\t1\t1\nSPID\t%ld\n", (long)getpid());
	lineconn_write(c->conn, hello, strlen(hello));
	free(hello);
}
