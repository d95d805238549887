/*
 * IMAP before login (RFC 3501, with SASL-IR, LITERAL+ and ID): the
 * greeting, CAPABILITY, NOOP, LOGOUT, ID, STARTTLS, LOGIN and
 * AUTHENTICATE.  Commands are collected whole, literals included, by a
 * resumable reader bounded by MRA_LINE_MAX and MRA_LITERAL_MAX, then
 * parsed; nothing after LOGIN or AUTHENTICATE is read here.
 */

#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "mra/login.h"

/* A complete command being parsed: tag, name, arguments, CRLF. */
struct imap_parser {
	const char *s;
	size_t len, pos;
};

/* What a command handler found. */
enum imap_ret {
	IMAP_DONE,		/* answered */
	IMAP_BAD,		/* a syntax error: BAD, and it counts */
	IMAP_CLOSE,		/* close the connection after the reply */
};

typedef enum imap_ret imap_cmd_fn(struct mra_conn *c, struct imap_parser *p);

/* Append the capabilities C has now to OUT. */
static void
imap_capability(const struct mra_conn *c, struct str *out)
{
	str_append(out, "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE "
	    "LITERAL+");
	if (mra.tls != NULL && !c->tls)
		str_append(out, " STARTTLS");
	if (mra_conn_plaintext_ok(c))
		str_append(out, " AUTH=PLAIN AUTH=LOGIN");
	else
		str_append(out, " LOGINDISABLED");
}

static void
imap_greet(struct mra_conn *c)
{
	struct str caps = STR_INIT;

	imap_capability(c, &caps);
	mra_conn_printf(c, "* OK [CAPABILITY %s] %s\r\n", str_c(&caps),
	    mra.greeting);
	str_free(&caps);
}

/* True at the CRLF that ends the command. */
static bool
at_end(const struct imap_parser *p)
{
	return p->pos + 2 == p->len;
}

/* Skip the space before another argument: 1, or 0 at the end, -1 on
   anything else. */
static int
next_arg(struct imap_parser *p)
{
	if (at_end(p))
		return 0;
	if (p->s[p->pos] != ' ')
		return -1;
	p->pos++;
	return at_end(p) ? -1 : 1;
}

/* An atom character (']' allowed, as in an astring). */
static bool
atom_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && strchr("(){%*\"\\", ch) == NULL;
}

/* Read a quoted string after its '"'.  Allocated, or NULL. */
static char *
read_quoted(struct imap_parser *p)
{
	struct str out = STR_INIT;
	unsigned char ch;

	for (p->pos++; p->pos < p->len; p->pos++) {
		ch = (unsigned char)p->s[p->pos];
		if (ch == '"') {
			p->pos++;
			str_append(&out, "");
			return str_steal(&out);
		}
		if (ch == '\\' && p->pos + 1 < p->len &&
		    (p->s[p->pos + 1] == '"' || p->s[p->pos + 1] == '\\'))
			ch = (unsigned char)p->s[++p->pos];
		else if (ch == '\\' || ch == '\r' || ch == '\n' || ch == '\0')
			break;
		str_append_c(&out, (char)ch);
	}
	str_wipe(&out);
	return NULL;
}

/* Read a literal at '{' (the reader checked its size).  Allocated, or
   NULL. */
static char *
read_literal(struct imap_parser *p)
{
	const char *start = p->s + p->pos + 1;
	char *end, *value;
	unsigned long n = strtoul(start, &end, 10);

	if (end == start || !isdigit((unsigned char)*start))
		return NULL;
	if (*end == '+')
		end++;
	if (strncmp(end, "}\r\n", 3) != 0)
		return NULL;
	p->pos = (size_t)(end + 3 - p->s);
	if (n > p->len - p->pos || memchr(p->s + p->pos, '\0', n) != NULL)
		return NULL;
	value = xstrndup(p->s + p->pos, n);
	p->pos += n;
	return value;
}

/* Read an astring argument.  Allocated, or NULL when invalid. */
static char *
read_astring(struct imap_parser *p)
{
	size_t start = p->pos;

	if (p->s[p->pos] == '"')
		return read_quoted(p);
	if (p->s[p->pos] == '{')
		return read_literal(p);
	while (p->pos < p->len && atom_char((unsigned char)p->s[p->pos]))
		p->pos++;
	if (p->pos == start)
		return NULL;
	return xstrndup(p->s + start, p->pos - start);
}

/* Free and wipe an argument that may hold a password. */
static void
wipe(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static enum imap_ret
cmd_capability(struct mra_conn *c, struct imap_parser *p)
{
	struct str caps = STR_INIT;

	if (!at_end(p))
		return IMAP_BAD;
	imap_capability(c, &caps);
	mra_conn_printf(c, "* CAPABILITY %s\r\n%s OK Pre-login capabilities "
	    "listed, post-login capabilities have more.\r\n", str_c(&caps),
	    c->tag);
	str_free(&caps);
	return IMAP_DONE;
}

static enum imap_ret
cmd_noop(struct mra_conn *c, struct imap_parser *p)
{
	if (!at_end(p))
		return IMAP_BAD;
	mra_conn_printf(c, "%s OK NOOP completed.\r\n", c->tag);
	return IMAP_DONE;
}

static enum imap_ret
cmd_logout(struct mra_conn *c, struct imap_parser *p)
{
	if (!at_end(p))
		return IMAP_BAD;
	mra_conn_printf(c, "* BYE Logging out\r\n%s OK Logout completed.\r\n",
	    c->tag);
	return IMAP_CLOSE;
}

/* ID (RFC 2971): the client's list is not kept. */
static enum imap_ret
cmd_id(struct mra_conn *c, struct imap_parser *p)
{
	const char *rest = p->s + p->pos;
	size_t len = p->len - p->pos;

	if (next_arg(p) <= 0)
		return IMAP_BAD;
	if (!(len == 6 && strncasecmp(rest, " NIL", 4) == 0) &&
	    !(len >= 5 && rest[1] == '(' && rest[len - 3] == ')' &&
	    memchr(rest + 2, '(', len - 5) == NULL))
		return IMAP_BAD;
	mra_conn_printf(c, "* ID (\"name\" \"dirmail\")\r\n%s OK ID "
	    "completed.\r\n", c->tag);
	return IMAP_DONE;
}

static enum imap_ret
cmd_starttls(struct mra_conn *c, struct imap_parser *p)
{
	if (!at_end(p))
		return IMAP_BAD;
	if (c->tls) {
		mra_conn_printf(c, "%s BAD TLS is already active.\r\n", c->tag);
		return IMAP_DONE;
	}
	if (mra.tls == NULL) {
		mra_conn_printf(c, "%s BAD TLS support isn't enabled.\r\n",
		    c->tag);
		return IMAP_DONE;
	}
	mra_conn_printf(c, "%s OK Begin TLS negotiation now.\r\n", c->tag);
	mra_conn_starttls(c);
	return IMAP_DONE;
}

/* Refuse a plaintext login on an unsecured connection.  True when it
   did. */
static bool
privacy_required(struct mra_conn *c)
{
	if (mra_conn_plaintext_ok(c))
		return false;
	mra_conn_printf(c, "%s NO [PRIVACYREQUIRED] Plaintext authentication "
	    "disallowed on non-secure (SSL/TLS) connections.\r\n", c->tag);
	return true;
}

/* LOGIN user password: PLAIN to authd. */
static enum imap_ret
cmd_login(struct mra_conn *c, struct imap_parser *p)
{
	char *user = NULL, *pass = NULL, *b64;
	struct str plain = STR_INIT;

	if (next_arg(p) <= 0 || (user = read_astring(p)) == NULL ||
	    next_arg(p) <= 0 || (pass = read_astring(p)) == NULL ||
	    !at_end(p)) {
		wipe(user);
		wipe(pass);
		return IMAP_BAD;
	}
	if (!privacy_required(c)) {
		str_append_c(&plain, '\0');
		str_append(&plain, user);
		str_append_c(&plain, '\0');
		str_append(&plain, pass);
		b64 = mra_base64(plain.s, plain.len);
		free(c->user);
		c->user = xstrdup(user);
		mra_auth_start(c, "PLAIN", b64, "PLAIN", "PLAIN");
		wipe(b64);
		str_wipe(&plain);
	}
	wipe(user);
	wipe(pass);
	return IMAP_DONE;
}

/* AUTHENTICATE mechanism [initial-response] (SASL-IR). */
static enum imap_ret
cmd_authenticate(struct mra_conn *c, struct imap_parser *p)
{
	char *mech = NULL, *ir = NULL;
	size_t start;

	if (next_arg(p) <= 0 || (mech = read_astring(p)) == NULL)
		return IMAP_BAD;
	if (next_arg(p) > 0) {
		start = p->pos;
		while (p->pos < p->len && atom_char((unsigned char)
		    p->s[p->pos]))
			p->pos++;
		ir = xstrndup(p->s + start, p->pos - start);
	}
	if (!at_end(p) || (ir != NULL && *ir == '\0')) {
		free(mech);
		wipe(ir);
		return IMAP_BAD;
	}
	str_lcase(mech);
	if (strcmp(mech, "plain") != 0 && strcmp(mech, "login") != 0)
		mra_conn_printf(c, "%s NO Unsupported authentication "
		    "mechanism.\r\n", c->tag);
	else if (!privacy_required(c)) {
		const char *name = strcmp(mech, "plain") == 0 ? "PLAIN" :
		    "LOGIN";

		mra_auth_start(c, name, ir == NULL ? NULL :
		    strcmp(ir, "=") == 0 ? "" : ir, name, name);
	}
	free(mech);
	wipe(ir);
	return IMAP_DONE;
}

static const struct {
	const char *name;
	imap_cmd_fn *fn;
} imap_cmds[] = {
	{ "CAPABILITY", cmd_capability },
	{ "NOOP", cmd_noop },
	{ "LOGOUT", cmd_logout },
	{ "ID", cmd_id },
	{ "STARTTLS", cmd_starttls },
	{ "LOGIN", cmd_login },
	{ "AUTHENTICATE", cmd_authenticate },
};

/* Parse and run the collected command.  -1 to close. */
static int
imap_command(struct mra_conn *c)
{
	struct imap_parser p = { c->cmd.s, c->cmd.len, 0 };
	enum imap_ret ret = IMAP_BAD;
	size_t i, start;

	free(c->tag);
	c->tag = NULL;
	while (p.pos < p.len && atom_char((unsigned char)p.s[p.pos]) &&
	    p.s[p.pos] != '+')
		p.pos++;
	if (p.pos > 0 && p.s[p.pos] == ' ') {
		c->tag = xstrndup(p.s, p.pos);
		start = ++p.pos;
		while (p.pos < p.len && isalpha((unsigned char)p.s[p.pos]))
			p.pos++;
		for (i = 0; i < sizeof(imap_cmds) / sizeof(imap_cmds[0]); i++)
			if (p.pos - start == strlen(imap_cmds[i].name) &&
			    strncasecmp(p.s + start, imap_cmds[i].name,
			    p.pos - start) == 0)
				break;
		if (i < sizeof(imap_cmds) / sizeof(imap_cmds[0]))
			ret = imap_cmds[i].fn(c, &p);
	}
	if (ret == IMAP_BAD) {
		mra_conn_printf(c, "%s BAD Error in IMAP command received by "
		    "server.\r\n", c->tag != NULL ? c->tag : "*");
		if (++c->bad_commands >= MRA_BAD_MAX) {
			mra_conn_printf(c, "* BYE Too many invalid IMAP "
			    "commands.\r\n");
			c->close_reason = "Too many invalid commands";
			return -1;
		}
	}
	return ret == IMAP_CLOSE ? -1 : 0;
}

/* A literal "{N}" or "{N+}" at the end of LINE: 1 with its size, 0 none,
   -1 for a size that does not parse. */
static int
literal_at_end(const char *line, size_t len, unsigned long long *size_r,
    bool *sync_r)
{
	const char *open, *end;
	char *stop;

	if (len < 3 || line[len - 1] != '}')
		return 0;
	for (open = line + len - 2; open > line && *open != '{'; open--)
		;
	if (*open != '{')
		return 0;
	end = line + len - 1;
	*sync_r = end[-1] != '+';
	if (!*sync_r)
		end--;
	if (end - open < 2 || end - open > 20 ||
	    !isdigit((unsigned char)open[1]))
		return -1;
	*size_r = strtoull(open + 1, &stop, 10);
	return stop == end ? 1 : -1;
}

/* The tag of the command collected so far, for a reply before it ends. */
static const char *
pending_tag(struct mra_conn *c)
{
	size_t n = strcspn(c->cmd.s, " \r");

	free(c->tag);
	c->tag = n > 0 ? xstrndup(c->cmd.s, n) : xstrdup("*");
	return c->tag;
}

/* The line just collected ends with a literal: expect its bytes.
   0, or -1 to close. */
static int
imap_literal(struct mra_conn *c, unsigned long long size, bool sync)
{
	if (size > MRA_LITERAL_MAX || c->cmd.len + size > MRA_LINE_MAX) {
		if (!sync) {
			/* Its bytes come anyway: the stream is lost. */
			mra_conn_printf(c, "* BYE Literal too large.\r\n");
			return -1;
		}
		mra_conn_printf(c, "%s NO [TOOBIG] Literal too large.\r\n",
		    pending_tag(c));
		str_wipe(&c->cmd);
		return ++c->bad_commands >= MRA_BAD_MAX ? -1 : 0;
	}
	if (sync)
		mra_conn_printf(c, "+ OK\r\n");
	c->literal_left = size;
	return 0;
}

/* Collect a whole command into c->cmd: 1 complete, 0 more is needed,
   -1 to close. */
static int
imap_collect(struct mra_conn *c)
{
	struct evbuffer *in = mra_conn_input(c);
	unsigned long long size;
	char *line, buf[1024];
	size_t len, n;
	bool sync;
	int ret;

	for (;;) {
		while (c->literal_left > 0) {
			n = c->literal_left < sizeof(buf) ? c->literal_left :
			    sizeof(buf);
			if ((n = evbuffer_remove(in, buf, n)) == 0 ||
			    n == (size_t)-1)
				return 0;
			str_append_n(&c->cmd, buf, n);
			explicit_bzero(buf, n);
			c->literal_left -= n;
		}
		if ((ret = mra_conn_read_line(c, &line, &len)) <= 0)
			return ret;
		str_append_n(&c->cmd, line, len);
		str_append(&c->cmd, "\r\n");
		ret = literal_at_end(line, len, &size, &sync);
		explicit_bzero(line, len);
		free(line);
		if (c->cmd.len > MRA_LINE_MAX || ret < 0) {
			mra_conn_printf(c, "* BYE %s\r\n", ret < 0 ?
			    "Invalid literal size." : "Too long argument.");
			return -1;
		}
		if (ret == 0)
			return 1;
		if (imap_literal(c, size, sync) < 0)
			return -1;
		if (c->cmd.len == 0)
			continue;	/* refused: a new command follows */
	}
}

/* The client's response to a challenge. */
static int
imap_response(struct mra_conn *c)
{
	char *line;
	size_t len;
	int ret;

	if ((ret = mra_conn_read_line(c, &line, &len)) <= 0)
		return ret;
	mra_auth_continue(c, line);
	explicit_bzero(line, len);
	free(line);
	return 1;
}

static int
imap_input(struct mra_conn *c)
{
	int ret;

	while (c->state == MRA_CMD || c->state == MRA_AUTH_RESPONSE) {
		if (c->state == MRA_AUTH_RESPONSE)
			ret = imap_response(c);
		else if ((ret = imap_collect(c)) > 0) {
			ret = imap_command(c) < 0 ? -1 : 1;
			str_wipe(&c->cmd);
		}
		if (ret <= 0)
			return ret;
	}
	return 0;
}

static void
imap_auth_reply(struct mra_conn *c, enum mra_auth_result result,
    const char *data)
{
	const char *tag = c->tag != NULL ? c->tag : "*";

	switch (result) {
	case MRA_AUTH_CONTINUE:
		mra_conn_printf(c, "+ %s\r\n", data != NULL ? data : "");
		return;
	case MRA_AUTH_OK:
		return;
	case MRA_AUTH_FAILED:
		mra_conn_printf(c, "%s NO [AUTHENTICATIONFAILED] "
		    "Authentication failed.\r\n", tag);
		break;
	case MRA_AUTH_TEMPFAIL:
		mra_conn_printf(c, "%s NO [UNAVAILABLE] Temporary "
		    "authentication failure.\r\n", tag);
		break;
	case MRA_AUTH_LIMIT:
		mra_conn_printf(c, "%s NO [LIMIT] Maximum number of "
		    "connections from user+IP exceeded "
		    "(mail_max_userip_connections=%u)\r\n", tag,
		    mra.max_userip);
		break;
	case MRA_AUTH_ABORTED:
		mra_conn_printf(c, "%s BAD Authentication aborted by "
		    "client.\r\n", tag);
		break;
	}
	free(c->tag);
	c->tag = NULL;
}

const struct mra_proto mra_imap_proto = {
	.name = "imap",
	.greet = imap_greet,
	.input = imap_input,
	.auth_reply = imap_auth_reply,
};
