/*
 * The auth-client protocol server (Dovecot 1.2): handshake, AUTH, CONT,
 * CANCEL, many requests in flight per connection.
 */

#include "config.h"

#include <sys/random.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/fields.h"
#include "auth/lineconn.h"
#include "global/authproto.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/tabescape.h"
#include "lib/xalloc.h"

enum client_state {
	CLIENT_WANT_VERSION,
	CLIENT_WANT_CPID,
	CLIENT_READY,
};

struct auth_client {
	struct lineconn *conn;
	enum client_state state;
	unsigned int minor;
	unsigned int cuid;
	unsigned int pid;	/* from CPID */
	unsigned char cookie[AUTH_COOKIE_SIZE];
	struct auth_request **reqs;
	size_t n_reqs;
};

/* A command handler: 0 to go on, -1 to close the connection. */
typedef int client_cmd_fn(struct auth_client *c, char **args, size_t n);

static client_cmd_fn cmd_auth, cmd_cont, cmd_cancel;

static const struct {
	const char *name;
	client_cmd_fn *handler;
	enum client_state state;	/* the state it is allowed in */
} client_cmds[] = {
	{ "AUTH", cmd_auth, CLIENT_READY },
	{ "CONT", cmd_cont, CLIENT_READY },
	{ "CANCEL", cmd_cancel, CLIENT_READY },
};

static unsigned int cuid_counter;

/* Send LINE and an LF. */
void
auth_client_send(struct auth_client *c, const char *line)
{
	lineconn_write(c->conn, line, strlen(line));
	lineconn_write(c->conn, "\n", 1);
}

/* The client's minor version. */
unsigned int
auth_client_minor(const struct auth_client *c)
{
	return c->minor;
}

/* The client's CPID. */
unsigned int
auth_client_pid(const struct auth_client *c)
{
	return c->pid;
}

/* The cookie sent to C. */
const unsigned char *
auth_client_cookie(const struct auth_client *c)
{
	return c->cookie;
}

/* Change the state of C. */
static void
client_enter_state(struct auth_client *c, enum client_state state)
{
	log_debug("client %u: state %d -> %d", c->cuid, c->state, state);
	c->state = state;
}

/* Send VERSION, MECH, SPID, CUID, COOKIE and DONE. */
static void
client_handshake(struct auth_client *c)
{
	struct str out = STR_INIT;
	char *const *m;
	const struct mech *mech;
	size_t i;

	if (getrandom(c->cookie, sizeof(c->cookie), 0) !=
	    (ssize_t)sizeof(c->cookie))
		log_fatal("getrandom: %m");
	str_append(&out, "VERSION\t1\t2\n");
	for (m = auth_set.mechanisms; *m != NULL; m++) {
		if ((mech = mech_find(*m)) == NULL)
			continue;
		str_appendf(&out, "MECH\t%s%s%s\n", mech->name,
		    *mech->flags != '\0' ? "\t" : "", mech->flags);
	}
	str_appendf(&out, "SPID\t%ld\nCUID\t%u\nCOOKIE\t", (long)getpid(),
	    c->cuid);
	for (i = 0; i < sizeof(c->cookie); i++)
		str_appendf(&out, "%02x", c->cookie[i]);
	str_append(&out, "\nDONE\n");
	lineconn_write(c->conn, str_c(&out), out.len);
	str_free(&out);
}

/* Return the pending request ID of C, or NULL. */
static struct auth_request *
client_find(struct auth_client *c, unsigned int id)
{
	size_t i;

	for (i = 0; i < c->n_reqs; i++)
		if (auth_request_id(c->reqs[i]) == id)
			return c->reqs[i];
	return NULL;
}

/* Forget REQ. */
void
auth_client_forget(struct auth_client *c, struct auth_request *req)
{
	size_t i;

	for (i = 0; i < c->n_reqs; i++) {
		if (c->reqs[i] == req) {
			c->reqs[i] = c->reqs[--c->n_reqs];
			return;
		}
	}
}

/* Parse the optional AUTH parameters ARGS[3..]; -1 for a bad line. */
static int
auth_params(char **args, size_t n, struct auth_request_info *info,
    const char **resp_r)
{
	size_t i;

	for (i = 3; i < n; i++) {
		if (*resp_r != NULL)
			return -1;	/* nothing may follow resp= */
		if (strncmp(args[i], "service=", 8) == 0)
			info->service = args[i] + 8;
		else if (strncmp(args[i], "protocol=", 9) == 0)
			info->service = args[i] + 9;
		else if (strncmp(args[i], "lip=", 4) == 0)
			info->lip = args[i] + 4;
		else if (strncmp(args[i], "rip=", 4) == 0)
			info->rip = args[i] + 4;
		else if (strcmp(args[i], "secured") == 0 ||
		    strncmp(args[i], "secured=", 8) == 0)
			info->secured = true;
		else if (strcmp(args[i], "no-penalty") == 0)
			info->no_penalty = true;
		else if (strcmp(args[i], "nologin") == 0)
			info->nologin = true;
		else if (strncmp(args[i], "resp=", 5) == 0)
			*resp_r = args[i] + 5;
	}
	return info->service == NULL ? -1 : 0;
}

/* AUTH id mech [params] [resp=...] */
static int
cmd_auth(struct auth_client *c, char **args, size_t n)
{
	struct auth_request_info info = { NULL, "", "", false, false, false };
	struct auth_request *req;
	const char *resp = NULL;
	unsigned int id;

	if (n < 3 || str_to_uint(args[1], &id) < 0 || id == 0 ||
	    *args[2] == '\0')
		return -1;
	if (auth_params(args, n, &info, &resp) < 0)
		return -1;
	if (client_find(c, id) != NULL) {
		log_warning("client %u: duplicate request id %u", c->cuid, id);
		return -1;
	}
	if (!mech_enabled(args[2]) || mech_find(args[2]) == NULL) {
		log_warning("client %u: unsupported mechanism %.64s",
		    c->cuid, args[2]);
		return -1;
	}
	/* An empty resp= means "no initial response" before 1.2. */
	if (resp != NULL && *resp == '\0' && c->minor < 2)
		resp = NULL;
	req = auth_request_new(c, id, args[2], &info);
	c->reqs = xreallocarray(c->reqs, c->n_reqs + 1, sizeof(*c->reqs));
	c->reqs[c->n_reqs++] = req;
	auth_request_start(req, resp);
	return 0;
}

/* CONT id data */
static int
cmd_cont(struct auth_client *c, char **args, size_t n)
{
	struct auth_request *req;
	unsigned int id;
	char *line;

	if (n < 3 || str_to_uint(args[1], &id) < 0 || id == 0)
		return -1;
	req = client_find(c, id);
	if (req == NULL) {
		line = xasprintf("FAIL\t%u\treason=Authentication request "
		    "timed out", id);
		auth_client_send(c, line);
		free(line);
		return 0;
	}
	if (!auth_request_wants_cont(req)) {
		line = xasprintf("FAIL\t%u\treason=Unexpected continuation",
		    id);
		auth_client_send(c, line);
		free(line);
		auth_client_forget(c, req);
		auth_request_free(&req);
		return 0;
	}
	auth_request_cont(req, args[2]);
	return 0;
}

/* CANCEL id */
static int
cmd_cancel(struct auth_client *c, char **args, size_t n)
{
	struct auth_request *req;
	unsigned int id;

	if (n < 2 || str_to_uint(args[1], &id) < 0)
		return -1;
	if ((req = client_find(c, id)) != NULL) {
		auth_client_forget(c, req);
		auth_request_free(&req);
	}
	return 0;
}

/* The handshake lines VERSION and CPID. */
static int
client_handshake_input(struct auth_client *c, char **args, size_t n)
{
	unsigned int major, minor, pid;

	if (c->state == CLIENT_WANT_VERSION) {
		if (n != 3 || strcmp(args[0], "VERSION") != 0 ||
		    str_to_uint(args[1], &major) < 0 ||
		    str_to_uint(args[2], &minor) < 0 || major != 1)
			return -1;
		c->minor = minor;
		client_enter_state(c, CLIENT_WANT_CPID);
		return 0;
	}
	if (n != 2 || strcmp(args[0], "CPID") != 0 ||
	    str_to_uint(args[1], &pid) < 0 || pid == 0)
		return -1;
	c->pid = pid;
	client_enter_state(c, CLIENT_READY);
	return 0;
}

/* Handle one input line. */
static int
client_input(char *line, void *ctx)
{
	struct auth_client *c = ctx;
	size_t n, i;
	char **args = tab_split(line, &n);
	int ret = -1;

	if (c->state != CLIENT_READY) {
		ret = client_handshake_input(c, args, n);
	} else {
		for (i = 0; i < sizeof(client_cmds) / sizeof(client_cmds[0]);
		    i++) {
			if (strcmp(args[0], client_cmds[i].name) == 0 &&
			    c->state == client_cmds[i].state) {
				ret = client_cmds[i].handler(c, args, n);
				break;
			}
		}
	}
	if (ret < 0)
		log_warning("client %u: bad input: %.40s", c->cuid,
		    args[0] != NULL ? args[0] : "");
	free(args);
	return ret;
}

/* Drop every request of C and free it. */
static void
client_destroy(struct auth_client *c)
{
	struct auth_request *req;

	while (c->n_reqs > 0) {
		req = c->reqs[--c->n_reqs];
		auth_request_free(&req);
	}
	auth_login_forget_client(c);
	explicit_bzero(c->cookie, sizeof(c->cookie));
	free(c->reqs);
	free(c);
}

/* The connection ended. */
static void
client_closed(const char *reason, void *ctx)
{
	struct auth_client *c = ctx;

	log_debug("client %u: %s", c->cuid, reason);
	client_destroy(c);
}

/* Close C now. */
void
auth_client_close(struct auth_client *c, const char *reason)
{
	log_info("client %u: closing connection: %s", c->cuid, reason);
	lineconn_free(&c->conn);
	client_destroy(c);
}

/* Serve the new connection FD. */
void
auth_client_accept(int fd)
{
	struct auth_client *c = xcalloc(1, sizeof(*c));

	c->cuid = ++cuid_counter;
	c->conn = lineconn_new(auth_base, fd, AUTHPROTO_MAX_LINE, client_input,
	    client_closed, c);
	if (c->conn == NULL) {
		close(fd);
		free(c);
		return;
	}
	client_handshake(c);
}
