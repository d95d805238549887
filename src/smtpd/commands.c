/*
 * The SMTP command table and the commands that build the envelope:
 * HELO, EHLO, MAIL, RCPT, RSET, NOOP, QUIT, VRFY, HELP, STARTTLS.
 */

#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "global/addr.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "queue/queue.h"
#include "smtpd/anvil.h"
#include "smtpd/smtpd.h"

#define CMD_JUNK	0x01	/* counts towards smtpd_junk_command_limit */
#define CMD_PRE_TLS	0x02	/* allowed before STARTTLS when TLS is
				   required */
#define CMD_LAST	0x04	/* must end a pipeline: nothing may be sent
				   behind it before its reply */
#define CMD_NO_REJECT	0x08	/* works even for a refused client */

struct smtpd_cmd {
	const char *name;
	enum smtpd_count count;
	unsigned flags;
	void (*handler)(struct session *s, char *args);
};

static void cmd_helo(struct session *s, char *args);
static void cmd_ehlo(struct session *s, char *args);
static void cmd_mail(struct session *s, char *args);
static void cmd_rcpt(struct session *s, char *args);
static void cmd_data(struct session *s, char *args);
static void cmd_bdat(struct session *s, char *args);
static void cmd_rset(struct session *s, char *args);
static void cmd_noop(struct session *s, char *args);
static void cmd_quit(struct session *s, char *args);
static void cmd_vrfy(struct session *s, char *args);
static void cmd_help(struct session *s, char *args);
static void cmd_starttls(struct session *s, char *args);
static void cmd_auth(struct session *s, char *args);

static const struct smtpd_cmd smtpd_cmds[] = {
	{ "HELO", CNT_HELO, CMD_PRE_TLS | CMD_LAST, cmd_helo },
	{ "EHLO", CNT_EHLO, CMD_PRE_TLS | CMD_LAST, cmd_ehlo },
	{ "STARTTLS", CNT_STARTTLS, CMD_PRE_TLS | CMD_LAST | CMD_NO_REJECT,
	    cmd_starttls },
	{ "AUTH", CNT_AUTH, CMD_LAST, cmd_auth },
	{ "MAIL", CNT_MAIL, 0, cmd_mail },
	{ "RCPT", CNT_RCPT, 0, cmd_rcpt },
	{ "DATA", CNT_DATA, CMD_LAST, cmd_data },
	{ "BDAT", CNT_BDAT, 0, cmd_bdat },
	{ "RSET", CNT_RSET, CMD_PRE_TLS | CMD_JUNK | CMD_NO_REJECT,
	    cmd_rset },
	{ "NOOP", CNT_NOOP, CMD_PRE_TLS | CMD_JUNK | CMD_NO_REJECT,
	    cmd_noop },
	{ "QUIT", CNT_QUIT, CMD_PRE_TLS | CMD_LAST | CMD_NO_REJECT,
	    cmd_quit },
	{ "VRFY", CNT_VRFY, CMD_JUNK, cmd_vrfy },
	{ "HELP", CNT_HELP, CMD_PRE_TLS | CMD_JUNK | CMD_NO_REJECT,
	    cmd_help },
};

/* Find the command NAME. */
static const struct smtpd_cmd *
command_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(smtpd_cmds) / sizeof(smtpd_cmds[0]); i++)
		if (strcasecmp(smtpd_cmds[i].name, name) == 0)
			return &smtpd_cmds[i];
	return NULL;
}

/* Split LINE into the command word and its arguments. */
static char *
command_split(char *line, char **args_r)
{
	char *p = line;

	while (*p != '\0' && *p != ' ')
		p++;
	if (*p == ' ')
		*p++ = '\0';
	while (*p == ' ')
		p++;
	*args_r = p;
	return line;
}

/* Dispatch one command line. */
void
command_dispatch(struct session *s, char *line, bool more)
{
	const struct smtpd_cmd *cmd;
	char *args, *name;
	unsigned before;

	log_debug("%s: > %s", s->client_id, strncasecmp(line, "AUTH ", 5) ==
	    0 ? "AUTH ..." : line);
	name = command_split(line, &args);
	if ((cmd = command_find(name)) == NULL) {
		s->count_all[CNT_UNKNOWN]++;
		session_reply_error(s, "502 5.5.2 Error: command not "
		    "recognized");
		return;
	}
	s->count_all[cmd->count]++;
	s->unauth_pipelining = more && ((cmd->flags & CMD_LAST) || !s->esmtp);
	if ((cmd->flags & CMD_JUNK) && ++s->junk > smtpd.junk_limit)
		s->errors++;
	if (smtpd.tls_required && !s->tls && s->port != PORT_PICKUP &&
	    !(cmd->flags & CMD_PRE_TLS)) {
		session_reply_error(s, "530 5.7.0 Must issue a STARTTLS "
		    "command first");
		return;
	}
	if (s->reject_all != NULL && !(cmd->flags & CMD_NO_REJECT) &&
	    cmd->count != CNT_EHLO && cmd->count != CNT_HELO) {
		session_reply_error(s, "%s", s->reject_all);
		return;
	}
	before = s->errors;
	s->cmd_count = cmd->count;
	cmd->handler(s, args);
	/* A command waiting for a lookup is counted when it is answered. */
	if (s->errors == before && s->lookup == NULL)
		s->count_ok[cmd->count]++;
}

/* Reply with a restriction's refusal and log it. */
static void
command_refuse(struct session *s, const char *stage, struct check_reply *r,
    const char *rcpt)
{
	char *text = xasprintf("%d %s %s", r->code, r->dsn, r->text);

	session_log_reject(s, stage, text, rcpt);
	session_reply_error(s, "%s", text);
	free(text);
	check_reply_clear(r);
}

/* The EHLO reply: the extensions. */
static void
command_ehlo_reply(struct session *s)
{
	char *mechs;

	session_reply(s, "250-%s", smtpd.hostname);
	session_reply(s, "250-PIPELINING");
	if (smtpd.size_limit > 0)
		session_reply(s, "250-SIZE %llu", smtpd.size_limit);
	else
		session_reply(s, "250-SIZE");
	if (smtpd.tls != NULL && !s->tls && s->port != PORT_PICKUP)
		session_reply(s, "250-STARTTLS");
	if ((mechs = sasl_offer(s)) != NULL) {
		session_reply(s, "250-AUTH %s", mechs);
		if (smtpd.broken_sasl)
			session_reply(s, "250-AUTH=%s", mechs);
		free(mechs);
	}
	session_reply(s, "250-ENHANCEDSTATUSCODES");
	session_reply(s, "250-8BITMIME");
	session_reply(s, "250-DSN");
	session_reply(s, "250-SMTPUTF8");
	session_reply(s, "250 CHUNKING");
}

/* The HELO restrictions answered. */
static void
command_hello_checked(struct session *s, struct lookup *l)
{
	if (l->refused)
		command_refuse(s, s->esmtp ? "EHLO" : "HELO", &l->reply, NULL);
	else if (s->esmtp)
		command_ehlo_reply(s);
	else
		session_reply(s, "250 %s", smtpd.hostname);
}

/* HELO and EHLO: a new greeting resets the transaction. */
static void
command_hello(struct session *s, char *args, bool esmtp)
{
	if (*args == '\0') {
		session_reply_error(s, "501 5.5.4 Syntax: %s hostname",
		    esmtp ? "EHLO" : "HELO");
		return;
	}
	args[strcspn(args, " ")] = '\0';
	session_reset(s);
	free(s->helo);
	s->helo = xstrdup(args);
	s->esmtp = esmtp;
	lookup_start(s, LK_HELO, NULL, command_hello_checked);
}

/* HELO name. */
static void
cmd_helo(struct session *s, char *args)
{
	command_hello(s, args, false);
}

/* EHLO name. */
static void
cmd_ehlo(struct session *s, char *args)
{
	command_hello(s, args, true);
}

/* Is ADDR pure ASCII? */
static bool
command_ascii(const char *addr)
{
	for (; *addr != '\0'; addr++)
		if ((unsigned char)*addr >= 0x80)
			return false;
	return true;
}

/* May S start a transaction at all?  False after replying. */
static bool
command_mail_allowed(struct session *s)
{
	if (smtpd.helo_required && s->helo == NULL) {
		session_reply_error(s, "503 5.5.1 Error: send HELO/EHLO first");
		return false;
	}
	if (s->has_mail) {
		session_reply_error(s, "503 5.5.1 Error: nested MAIL command");
		return false;
	}
	if ((s->port == PORT_SUBMISSION || s->port == PORT_SMTPS) &&
	    s->sasl_username == NULL) {
		session_reply_error(s, "530 5.7.0 Authentication required");
		return false;
	}
	return true;
}

/* Is there room and is the client within its message rate?  False after
   replying. */
static bool
command_mail_limits(struct session *s, unsigned long long size)
{
	unsigned long long minfree = smtpd.minfree;
	const char *why;

	if (smtpd.size_limit > 0 && size > smtpd.size_limit) {
		session_reply_error(s, "552 5.3.4 Message size exceeds fixed "
		    "limit");
		return false;
	}
	if (minfree == 0)
		minfree = 2 * smtpd.size_limit;
	if (queue_space_ok(smtpd.queue_dir, size, minfree, &why) != 1) {
		log_warning("not enough free space in %s for a message from "
		    "%s", smtpd.queue_dir, s->client_id);
		session_reply(s, "452 4.3.1 Insufficient system storage");
		return false;
	}
	if (!s->rate_exempt && s->port != PORT_PICKUP &&
	    smtpd.msg_rate_limit > 0 &&
	    anvil_message(smtpd.anvil, s->client_addr) >
	    smtpd.msg_rate_limit) {
		log_warning("Message delivery request rate limit exceeded "
		    "from %s for service smtp", s->client_id);
		session_reply_error(s, "450 4.7.1 Error: too much mail from %s",
		    s->client_addr);
		return false;
	}
	return true;
}

/* Strip "FROM:" or "TO:" from ARGS.  NULL when it is not there. */
static char *
command_path_arg(char *args, const char *word)
{
	size_t n = strlen(word);

	if (strncasecmp(args, word, n) != 0)
		return NULL;
	return args + n;
}

/* The sender restrictions answered. */
static void
command_mail_checked(struct session *s, struct lookup *l)
{
	if (l->refused) {
		command_refuse(s, "MAIL", &l->reply, NULL);
		session_reset(s);
		return;
	}
	session_reply(s, "250 2.1.0 Ok");
}

/* MAIL FROM:<address> [parameters]. */
static void
cmd_mail(struct session *s, char *args)
{
	unsigned long long size = 0;
	const char *rest, *why;
	char *path, *addr;

	if (!command_mail_allowed(s))
		return;
	if ((path = command_path_arg(args, "FROM:")) == NULL) {
		session_reply_error(s, "501 5.5.4 Syntax: MAIL "
		    "FROM:<address>");
		return;
	}
	if (addr_parse_path(path, true, true, &addr, &rest, &why) < 0) {
		session_reply_error(s, "501 5.1.7 Bad sender address syntax");
		return;
	}
	s->sender = addr;
	if (esmtp_mail_params(s, (char *)rest, &size) < 0 ||
	    !command_mail_limits(s, size)) {
		session_reset(s);
		return;
	}
	if (!s->smtputf8 && !command_ascii(addr)) {
		session_reply_error(s, "553 5.6.7 Must declare SMTPUTF8 to "
		    "send unicode address");
		session_reset(s);
		return;
	}
	s->has_mail = true;
	lookup_start(s, LK_MAIL, NULL, command_mail_checked);
}

/* Complete a bare local part.  False after replying. */
static bool
command_qualify(struct session *s, char **addr)
{
	char *full;

	if (strchr(*addr, '@') != NULL)
		return true;
	if (!s->trusted && s->sasl_username == NULL) {
		char *ext = addr_external(*addr);

		session_reply_error(s, "504 5.5.2 <%s>: Recipient address "
		    "rejected: need fully-qualified address", ext);
		free(ext);
		return false;
	}
	full = xasprintf("%s@%s", *addr, smtpd.myorigin);
	free(*addr);
	*addr = full;
	return true;
}

/* Add an accepted recipient. */
static void
command_add_rcpt(struct session *s, char *orcpt, char *notify,
    char **final)
{
	struct session_rcpt *r;

	if (s->n_rcpts == s->rcpts_cap) {
		s->rcpts_cap = s->rcpts_cap == 0 ? 8 : s->rcpts_cap * 2;
		s->rcpts = xreallocarray(s->rcpts, s->rcpts_cap,
		    sizeof(*s->rcpts));
	}
	r = &s->rcpts[s->n_rcpts++];
	r->orcpt = orcpt;
	r->notify = notify;
	r->final = final;
}

/* The recipient restrictions answered: keep the recipient or not. */
static void
command_rcpt_checked(struct session *s, struct lookup *l)
{
	char *ext;

	if (l->refused && l->pickup) {
		ext = addr_external(s->rcpt_addr);
		session_reply(s, "451 4.3.0 <%s>: Temporary lookup failure",
		    ext);
		free(ext);
	} else if (l->refused)
		command_refuse(s, "RCPT", &l->reply, s->rcpt_addr);
	else {
		command_add_rcpt(s, s->rcpt_orcpt, s->rcpt_notify,
		    l->result.final);
		l->result.final = NULL;
		s->rcpt_orcpt = s->rcpt_notify = NULL;
		session_reply(s, "250 2.1.5 Ok");
	}
	free(s->rcpt_addr);
	free(s->rcpt_orcpt);
	free(s->rcpt_notify);
	s->rcpt_addr = s->rcpt_orcpt = s->rcpt_notify = NULL;
}

/* RCPT TO:<address> [parameters]. */
static void
cmd_rcpt(struct session *s, char *args)
{
	char *path, *addr, *orcpt = NULL, *notify = NULL;
	const char *rest, *why;

	if (!s->has_mail) {
		session_reply_error(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	s->rcpt_tries++;
	if (s->n_rcpts >= smtpd.rcpt_limit) {
		session_reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	if ((path = command_path_arg(args, "TO:")) == NULL) {
		session_reply_error(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (addr_parse_path(path, false, s->smtputf8, &addr, &rest,
	    &why) < 0) {
		session_reply_error(s, "501 5.1.3 Bad recipient address "
		    "syntax");
		return;
	}
	if (!command_qualify(s, &addr) ||
	    esmtp_rcpt_params(s, (char *)rest, &orcpt, &notify) < 0) {
		free(addr);
		return;
	}
	s->rcpt_addr = addr;
	s->rcpt_orcpt = orcpt != NULL ? orcpt : xstrdup(addr);
	s->rcpt_notify = notify;
	lookup_start(s, LK_RCPT, addr, command_rcpt_checked);
}

/* DATA. */
static void
cmd_data(struct session *s, char *args)
{
	data_start(s, args);
}

/* BDAT size [LAST]. */
static void
cmd_bdat(struct session *s, char *args)
{
	bdat_start(s, args);
}

/* RSET. */
static void
cmd_rset(struct session *s, char *args)
{
	(void)args;
	session_reset(s);
	session_reply(s, "250 2.0.0 Ok");
}

/* NOOP. */
static void
cmd_noop(struct session *s, char *args)
{
	(void)args;
	session_reply(s, "250 2.0.0 Ok");
}

/* QUIT. */
static void
cmd_quit(struct session *s, char *args)
{
	(void)args;
	session_reply(s, "221 2.0.0 Bye");
	session_close(s);
}

/* The recipient tables answered a VRFY. */
static void
command_vrfy_checked(struct session *s, struct lookup *l)
{
	char *ext = addr_external(l->rcpt);

	switch (l->result.status) {
	case RCPT_OK:
		session_reply(s, "252 2.0.0 <%s>", ext);
		break;
	case RCPT_UNKNOWN:
		session_reply_error(s, "550 5.1.1 <%s>: Recipient address "
		    "rejected: User unknown", ext);
		break;
	default:
		session_reply(s, "451 4.3.0 <%s>: Temporary lookup failure",
		    ext);
	}
	free(ext);
}

/* VRFY address: 252 unless disable_vrfy_command = no. */
static void
cmd_vrfy(struct session *s, char *args)
{
	const char *rest, *why;
	char *addr;

	if (*args == '\0') {
		session_reply_error(s, "501 5.5.4 Syntax: VRFY address");
		return;
	}
	if (smtpd.vrfy_disabled) {
		session_reply(s, "252 2.0.0 Send some mail, I'll try my best");
		return;
	}
	if (addr_parse_path(args, false, true, &addr, &rest, &why) < 0) {
		session_reply_error(s, "501 5.1.3 Bad recipient address "
		    "syntax");
		return;
	}
	if (command_qualify(s, &addr))
		lookup_start(s, LK_VRFY, addr, command_vrfy_checked);
	free(addr);
}

/* HELP. */
static void
cmd_help(struct session *s, char *args)
{
	(void)args;
	session_reply(s, "214 2.0.0 Commands: HELO EHLO STARTTLS AUTH MAIL "
	    "RCPT DATA BDAT RSET NOOP QUIT VRFY HELP");
}

/* STARTTLS: discard pipelined plaintext, reply, then the handshake. */
static void
cmd_starttls(struct session *s, char *args)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	size_t junk;

	if (*args != '\0') {
		session_reply_error(s, "501 5.5.4 Syntax: STARTTLS");
		return;
	}
	if (s->tls) {
		session_reply_error(s, "554 5.5.1 Error: TLS already active");
		return;
	}
	if (smtpd.tls == NULL || s->port == PORT_PICKUP) {
		session_reply_error(s, "502 5.5.1 Error: command not "
		    "implemented");
		return;
	}
	if ((junk = evbuffer_get_length(in)) > 0) {
		log_warning("%s: %zu bytes of plaintext sent after STARTTLS "
		    "discarded", s->client_id, junk);
		evbuffer_drain(in, junk);
	}
	session_reply(s, "220 2.0.0 Ready to start TLS");
	session_starttls(s);
}

/* AUTH mechanism [initial-response]. */
static void
cmd_auth(struct session *s, char *args)
{
	sasl_auth(s, args);
}
