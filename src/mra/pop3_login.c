/*
 * POP3 before login (RFC 1939, 2449, 2595, 5034): the greeting, CAPA,
 * STLS, USER/PASS, AUTH and QUIT.  One bounded line per command; nothing
 * after PASS or AUTH is read here.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "mra/login.h"

/* What a command handler found. */
enum pop3_ret {
	POP3_DONE,		/* answered */
	POP3_BAD,		/* -ERR for a bad command, and it counts */
	POP3_CLOSE,		/* close after the reply */
};

typedef enum pop3_ret pop3_cmd_fn(struct mra_conn *c, char *args);

static void
pop3_greet(struct mra_conn *c)
{
	mra_conn_printf(c, "+OK %s\r\n", mra.greeting);
}

static enum pop3_ret
cmd_capa(struct mra_conn *c, char *args)
{
	bool plain = mra_conn_plaintext_ok(c);

	if (*args != '\0')
		return POP3_BAD;
	mra_conn_printf(c, "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\n"
	    "PIPELINING\r\nAUTH-RESP-CODE\r\n%s%s%s.\r\n",
	    mra.tls != NULL && !c->tls ? "STLS\r\n" : "",
	    plain ? "USER\r\n" : "", plain ? "SASL PLAIN LOGIN\r\n" : "");
	return POP3_DONE;
}

static enum pop3_ret
cmd_stls(struct mra_conn *c, char *args)
{
	if (*args != '\0')
		return POP3_BAD;
	if (c->tls)
		mra_conn_printf(c, "-ERR TLS is already active.\r\n");
	else if (mra.tls == NULL)
		mra_conn_printf(c, "-ERR TLS support isn't enabled.\r\n");
	else {
		mra_conn_printf(c, "+OK Begin TLS negotiation now.\r\n");
		mra_conn_starttls(c);
	}
	return POP3_DONE;
}

/* Refuse a plaintext login on an unsecured connection.  True when it
   did. */
static bool
privacy_required(struct mra_conn *c)
{
	if (mra_conn_plaintext_ok(c))
		return false;
	mra_conn_printf(c, "-ERR [AUTH] Plaintext authentication disallowed "
	    "on non-secure (SSL/TLS) connections.\r\n");
	return true;
}

static enum pop3_ret
cmd_user(struct mra_conn *c, char *args)
{
	if (*args == '\0')
		return POP3_BAD;
	if (privacy_required(c))
		return POP3_DONE;
	free(c->pop3_user);
	c->pop3_user = xstrdup(args);
	mra_conn_printf(c, "+OK\r\n");
	return POP3_DONE;
}

static enum pop3_ret
cmd_pass(struct mra_conn *c, char *args)
{
	struct str plain = STR_INIT;
	char *b64;

	if (privacy_required(c))
		return POP3_DONE;
	if (c->pop3_user == NULL) {
		mra_conn_printf(c, "-ERR No username given.\r\n");
		return POP3_DONE;
	}
	str_append_c(&plain, '\0');
	str_append(&plain, c->pop3_user);
	str_append_c(&plain, '\0');
	str_append(&plain, args);
	b64 = mra_base64(plain.s, plain.len);
	str_wipe(&plain);
	free(c->user);
	c->user = c->pop3_user;
	c->pop3_user = NULL;
	mra_auth_start(c, "PLAIN", b64, "PLAIN", "USER");
	explicit_bzero(b64, strlen(b64));
	free(b64);
	return POP3_DONE;
}

/* AUTH [mechanism [initial-response]] (RFC 5034). */
static enum pop3_ret
cmd_auth(struct mra_conn *c, char *args)
{
	char *ir = strchr(args, ' ');
	const char *name;

	if (*args == '\0') {
		mra_conn_printf(c, "+OK\r\n%s.\r\n",
		    mra_conn_plaintext_ok(c) ? "PLAIN\r\nLOGIN\r\n" : "");
		return POP3_DONE;
	}
	if (ir != NULL) {
		*ir++ = '\0';
		if (*ir == '\0' || strchr(ir, ' ') != NULL)
			return POP3_BAD;
	}
	if (strcasecmp(args, "PLAIN") == 0)
		name = "PLAIN";
	else if (strcasecmp(args, "LOGIN") == 0)
		name = "LOGIN";
	else {
		mra_conn_printf(c, "-ERR Unsupported authentication "
		    "mechanism.\r\n");
		return POP3_DONE;
	}
	if (!privacy_required(c))
		mra_auth_start(c, name, ir == NULL ? NULL :
		    strcmp(ir, "=") == 0 ? "" : ir, name, name);
	return POP3_DONE;
}

static enum pop3_ret
cmd_quit(struct mra_conn *c, char *args)
{
	(void)args;
	mra_conn_printf(c, "+OK Logging out\r\n");
	return POP3_CLOSE;
}

static const struct {
	const char *name;
	pop3_cmd_fn *fn;
} pop3_cmds[] = {
	{ "CAPA", cmd_capa },
	{ "STLS", cmd_stls },
	{ "USER", cmd_user },
	{ "PASS", cmd_pass },
	{ "AUTH", cmd_auth },
	{ "QUIT", cmd_quit },
};

/* Run the command LINE.  -1 to close. */
static int
pop3_command(struct mra_conn *c, char *line)
{
	enum pop3_ret ret = POP3_BAD;
	char *args = strchr(line, ' ');
	size_t i;

	if (args != NULL)
		*args++ = '\0';
	else
		args = line + strlen(line);
	for (i = 0; i < sizeof(pop3_cmds) / sizeof(pop3_cmds[0]); i++)
		if (strcasecmp(line, pop3_cmds[i].name) == 0) {
			ret = pop3_cmds[i].fn(c, args);
			break;
		}
	if (ret == POP3_BAD) {
		mra_conn_printf(c, "-ERR Unknown command.\r\n");
		if (++c->bad_commands >= MRA_BAD_MAX) {
			mra_conn_printf(c, "-ERR Too many bad commands.\r\n");
			c->close_reason = "Too many invalid commands";
			return -1;
		}
	}
	return ret == POP3_CLOSE ? -1 : 0;
}

static int
pop3_input(struct mra_conn *c)
{
	char *line;
	size_t len;
	int ret;

	while (c->state == MRA_CMD || c->state == MRA_AUTH_RESPONSE) {
		if ((ret = mra_conn_read_line(c, &line, &len)) <= 0)
			return ret;
		if (memchr(line, '\0', len) != NULL)
			ret = pop3_command(c, (char[]){ "" });
		else if (c->state == MRA_AUTH_RESPONSE) {
			mra_auth_continue(c, line);
			ret = 0;
		} else
			ret = pop3_command(c, line);
		explicit_bzero(line, len);
		free(line);
		if (ret < 0)
			return -1;
	}
	return 0;
}

static void
pop3_auth_reply(struct mra_conn *c, enum mra_auth_result result,
    const char *data)
{
	switch (result) {
	case MRA_AUTH_CONTINUE:
		mra_conn_printf(c, "+ %s\r\n", data != NULL ? data : "");
		break;
	case MRA_AUTH_OK:
		break;
	case MRA_AUTH_FAILED:
		mra_conn_printf(c, "-ERR [AUTH] Authentication failed.\r\n");
		break;
	case MRA_AUTH_TEMPFAIL:
		mra_conn_printf(c, "-ERR [SYS/TEMP] Temporary authentication "
		    "failure.\r\n");
		break;
	case MRA_AUTH_LIMIT:
		mra_conn_printf(c, "-ERR [IN-USE] Maximum number of "
		    "connections from user+IP exceeded "
		    "(mail_max_userip_connections=%u)\r\n", mra.max_userip);
		break;
	case MRA_AUTH_ABORTED:
		mra_conn_printf(c, "-ERR Authentication aborted by client.\r\n");
		break;
	}
}

const struct mra_proto mra_pop3_proto = {
	.name = "pop3",
	.greet = pop3_greet,
	.input = pop3_input,
	.auth_reply = pop3_auth_reply,
};
