/*
 * The IMAP engine's session: the event loop on the stream to the login
 * process, command framing and dispatch through the command table, the
 * untagged updates of the selected folder, output flow control, the
 * autologout timer and the logout line.
 */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "global/params.h"
#include "imapd/imap.h"
#include "imapd/imap_int.h"
#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mailstore/mailstore.h"
#include "mailstore/mime.h"
#include "mra/mra.h"

/* Command flags. */
#define CF_SELECTED	0x01	/* needs a selected folder */
#define CF_SYNC		0x02	/* may report every change, EXPUNGE too */
#define CF_NO_EXPUNGE	0x04	/* FETCH, STORE, SEARCH: no EXPUNGE
				   unless under UID */
#define CF_UID		0x08	/* may follow UID */
#define CF_UID_ONLY	0x10	/* only after UID (UID EXPUNGE) */

struct imap_command {
	const char *name;
	imap_cmd_fn *fn;
	unsigned flags;
};

static imap_cmd_fn cmd_capability, cmd_noop, cmd_logout, cmd_namespace,
    cmd_id, cmd_enable, cmd_logged_in;

static const struct imap_command commands[] = {
	{ "APPEND", imap_cmd_append, CF_SYNC },
	{ "AUTHENTICATE", cmd_logged_in, 0 },
	{ "CAPABILITY", cmd_capability, 0 },
	{ "CHECK", cmd_noop, CF_SELECTED | CF_SYNC },
	{ "CLOSE", imap_cmd_close, CF_SELECTED },
	{ "COPY", imap_cmd_copy, CF_SELECTED | CF_SYNC | CF_UID },
	{ "CREATE", imap_cmd_create, CF_SYNC },
	{ "DELETE", imap_cmd_delete, CF_SYNC },
	{ "ENABLE", cmd_enable, 0 },
	{ "EXAMINE", imap_cmd_examine, 0 },
	{ "EXPUNGE", imap_cmd_expunge, CF_SELECTED | CF_SYNC | CF_UID },
	{ "FETCH", imap_cmd_fetch, CF_SELECTED | CF_NO_EXPUNGE | CF_UID },
	{ "ID", cmd_id, 0 },
	{ "IDLE", imap_cmd_idle, CF_SYNC },
	{ "LIST", imap_cmd_list, CF_SYNC },
	{ "LOGIN", cmd_logged_in, 0 },
	{ "LOGOUT", cmd_logout, 0 },
	{ "LSUB", imap_cmd_lsub, CF_SYNC },
	{ "MOVE", imap_cmd_move, CF_SELECTED | CF_SYNC | CF_UID },
	{ "NAMESPACE", cmd_namespace, CF_SYNC },
	{ "NOOP", cmd_noop, CF_SYNC },
	{ "RENAME", imap_cmd_rename, CF_SYNC },
	{ "SEARCH", imap_cmd_search, CF_SELECTED | CF_NO_EXPUNGE | CF_UID },
	{ "SELECT", imap_cmd_select, 0 },
	{ "STARTTLS", cmd_logged_in, 0 },
	{ "STATUS", imap_cmd_status, CF_SYNC },
	{ "STORE", imap_cmd_store, CF_SELECTED | CF_NO_EXPUNGE | CF_UID },
	{ "SUBSCRIBE", imap_cmd_subscribe, CF_SYNC },
	{ "UNSELECT", imap_cmd_unselect, CF_SELECTED },
	{ "UNSUBSCRIBE", imap_cmd_unsubscribe, CF_SYNC },
};


void
imap_send(struct imap_client *c, const char *data, size_t len)
{
	if (c->state == IMAP_STATE_LOGOUT && c->bev == NULL)
		return;
	bufferevent_write(c->bev, data, len);
	c->out_bytes += len;
}

void
imap_puts(struct imap_client *c, const char *text)
{
	imap_send(c, text, strlen(text));
}

void
imap_sendf(struct imap_client *c, const char *fmt, ...)
{
	char *text;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		log_fatal("out of memory");
	imap_send(c, text, (size_t)n);
	free(text);
}

size_t
imap_output_pending(const struct imap_client *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

bool
imap_output_full(const struct imap_client *c)
{
	return imap_output_pending(c) > IMAP_OUTPUT_MAX;
}

void
imap_tagged(struct imap_client *c, const char *tag, const char *text)
{
	if (c->mb != NULL && c->sync == IMAP_SYNC_FULL)
		imap_sync_send(c, c->sync_uid);
	imap_sendf(c, "%s %s\r\n", tag, text);
}

void
imap_tagged_error(struct imap_client *c, const char *tag, char *error,
    int err)
{
	/* The store's message names the folder and says what is wrong
	   with it; anything else is ours to log, not the client's. */
	switch (err) {
	case ENOENT:
		imap_sendf(c, "%s NO [NONEXISTENT] %s\r\n", tag, error);
		break;
	case EEXIST:
		imap_sendf(c, "%s NO [ALREADYEXISTS] %s\r\n", tag, error);
		break;
	case EINVAL:
		imap_sendf(c, "%s NO [CANNOT] %s\r\n", tag, error);
		break;
	case EROFS:
		imap_sendf(c, "%s NO [CANNOT] Mailbox is read-only.\r\n", tag);
		break;
	default:
		log_error("imap(%s): %s", c->s->user, error);
		imap_sendf(c, "%s NO [SERVERBUG] Internal error occurred. "
		    "Refer to server log for more information.\r\n", tag);
	}
	free(error);
}

/* What one sync found, sent once the view has settled. */
struct sync_ctx {
	struct imap_client *c;
	uint32_t *flags;
	size_t nflags;
	uint32_t exists;
	bool grew;
};

static void
sync_expunge(void *ctx, uint32_t seq)
{
	struct sync_ctx *sc = ctx;

	imap_sendf(sc->c, "* %u EXPUNGE\r\n", seq);
	/* A flag change noted before belongs to a higher number now. */
	for (size_t i = 0; i < sc->nflags; i++) {
		if (sc->flags[i] == seq)
			sc->flags[i] = 0;
		else if (sc->flags[i] > seq)
			sc->flags[i]--;
	}
}

static void
sync_flags(void *ctx, uint32_t seq)
{
	struct sync_ctx *sc = ctx;

	sc->flags = xreallocarray(sc->flags, sc->nflags + 1, sizeof(seq));
	sc->flags[sc->nflags++] = seq;
}

static void
sync_exists(void *ctx, uint32_t count)
{
	struct sync_ctx *sc = ctx;

	sc->exists = count;
	sc->grew = true;
}

void
imap_sync_send(struct imap_client *c, bool uid)
{
	struct sync_ctx sc = { .c = c };
	struct mbox_sync_cb cb = { sync_expunge, sync_flags, sync_exists, &sc };
	char *error = NULL;
	struct str out = STR_INIT;

	if (c->mb == NULL)
		return;
	if (mbox_sync(c->mb, &cb, &error) < 0) {
		int err = errno;

		log_error("imap(%s): sync %s: %s", c->s->user,
		    mbox_name(c->mb), error);
		free(error);
		if (err == ESTALE || err == ENOENT) {
			/* The client's view cannot be kept: end the session
			   as Dovecot does. */
			imap_puts(c, err == ESTALE ? "* BYE Mailbox UIDVALIDITY "
			    "changed\r\n" : "* BYE Selected mailbox was "
			    "deleted, have to disconnect.\r\n");
			imap_close(c);
		}
	}
	imap_msg_cache_clear(c);
	for (size_t i = 0; i < sc.nflags; i++) {
		const struct mmsg *m = mbox_msg(c->mb, sc.flags[i]);

		if (sc.flags[i] == 0 || m == NULL)
			continue;
		str_truncate(&out, 0);
		str_appendf(&out, "* %u FETCH (", sc.flags[i]);
		if (uid)
			str_appendf(&out, "UID %u ", m->uid);
		str_append(&out, "FLAGS ");
		imap_append_flags(c, &out, m);
		str_append(&out, ")\r\n");
		imap_send(c, out.s, out.len);
	}
	if (sc.grew)
		imap_sendf(c, "* %u EXISTS\r\n", sc.exists);
	if (mbox_recent(c->mb) != c->last_recent || sc.grew) {
		c->last_recent = mbox_recent(c->mb);
		imap_sendf(c, "* %u RECENT\r\n", c->last_recent);
	}
	str_free(&out);
	free(sc.flags);
}

static void
cmd_capability(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	(void)args, (void)count, (void)uid;
	imap_sendf(c, "* CAPABILITY %s\r\n", IMAP_CAPABILITIES);
	imap_tagged(c, tag, "OK Capability completed.");
}

static void
cmd_noop(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	(void)args, (void)count, (void)uid;
	imap_tagged(c, tag, "OK NOOP completed.");
}

static void
cmd_logout(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	(void)args, (void)count, (void)uid;
	imap_puts(c, "* BYE Logging out\r\n");
	imap_tagged(c, tag, "OK Logout completed.");
	log_info("imap(%s): Logged out in=%llu out=%llu deleted=%u "
	    "expunged=%u", c->s->user, (unsigned long long)c->in_bytes,
	    (unsigned long long)c->out_bytes, c->deleted, c->expunged);
	imap_close(c);
}

static void
cmd_namespace(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	(void)args, (void)count, (void)uid;
	imap_puts(c, "* NAMESPACE ((\"\" \".\")) NIL NIL\r\n");
	imap_tagged(c, tag, "OK Namespace completed.");
}

static void
cmd_id(struct imap_client *c, const char *tag, const struct imap_arg *args,
    size_t count, bool uid)
{
	(void)uid;
	if (count != 1 || (args[0].type != IMAP_ARG_LIST &&
	    !imap_arg_atom_eq(&args[0], "NIL"))) {
		imap_tagged(c, tag, "BAD Invalid parameters");
		return;
	}
	imap_puts(c, "* ID (\"name\" \"dirmail\")\r\n");
	imap_tagged(c, tag, "OK ID completed.");
}

static void
cmd_enable(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	(void)args, (void)uid;
	if (count == 0) {
		imap_tagged(c, tag, "BAD Missing capabilities");
		return;
	}
	/* None of the extensions ENABLE can turn on is offered. */
	imap_puts(c, "* ENABLED\r\n");
	imap_tagged(c, tag, "OK Enabled.");
}

static void
cmd_logged_in(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	(void)args, (void)count, (void)uid;
	imap_tagged(c, tag, "BAD Command not allowed after login.");
}

static const struct imap_command *
command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Run one framed command. */
static void
command_run(struct imap_client *c, const char *text, size_t len)
{
	const struct imap_command *cmd;
	const struct imap_arg *args;
	struct imap_cmd pc;
	const char *error;
	size_t count;
	bool uid = false;

	if (imap_parse(text, len, &pc, &error) < 0) {
		imap_sendf(c, "%s BAD Error in IMAP command: %s\r\n",
		    pc.tag != NULL ? pc.tag : "*", error);
		imap_cmd_free(&pc);
		return;
	}
	args = pc.args;
	count = pc.count;
	cmd = command_find(pc.name);
	if (cmd != NULL && (cmd->flags & CF_UID_ONLY))
		cmd = NULL;
	if (strcmp(pc.name, "UID") == 0) {
		char *sub = xstrdup(count > 0 && args[0].type == IMAP_ARG_ATOM ?
		    args[0].str : "");

		for (char *p = sub; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
		cmd = command_find(sub);
		free(sub);
		if (cmd == NULL || (cmd->flags & (CF_UID | CF_UID_ONLY)) == 0) {
			imap_sendf(c, "%s BAD Unknown UID command\r\n", pc.tag);
			imap_cmd_free(&pc);
			return;
		}
		uid = true;
		args++;
		count--;
	}
	if (cmd == NULL) {
		imap_sendf(c, "%s BAD Error in IMAP command %s: Unknown "
		    "command.\r\n", pc.tag, pc.name);
	} else if ((cmd->flags & CF_SELECTED) && c->mb == NULL) {
		imap_sendf(c, "%s BAD No mailbox selected.\r\n", pc.tag);
	} else {
		c->sync = (cmd->flags & CF_SYNC) ||
		    ((cmd->flags & CF_NO_EXPUNGE) && uid) ?
		    IMAP_SYNC_FULL : IMAP_SYNC_NONE;
		c->sync_uid = uid;
		cmd->fn(c, pc.tag, args, count, uid);
	}
	imap_cmd_free(&pc);
}

/* Drop the connection once the output is sent. */
void
imap_close(struct imap_client *c)
{
	c->state = IMAP_STATE_LOGOUT;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	if (imap_output_pending(c) == 0)
		event_base_loopbreak(c->base);
}

/* Handle what has come from the client, command after command, until
   input runs out or a command is left running. */
static void
client_input_run(struct imap_client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	const char *error = "";

	while (c->state != IMAP_STATE_LOGOUT && c->resume == NULL) {
		if (c->idling) {
			size_t len;
			char *line = evbuffer_readln(in, &len,
			    EVBUFFER_EOL_CRLF);

			if (line == NULL)
				break;
			imap_idle_input(c, line, len);
			free(line);
			continue;
		}
		switch (imap_reader_feed(&c->reader, in, &error)) {
		case IMAP_READER_MORE:
			return;
		case IMAP_READER_CONTINUE:
			imap_puts(c, "+ OK\r\n");
			break;
		case IMAP_READER_REFUSE:
			if (c->reader.toobig)
				imap_sendf(c, "%s NO [TOOBIG] %s\r\n",
				    c->reader.tag, error);
			else
				imap_sendf(c, "%s BAD %s\r\n", c->reader.tag,
				    error);
			imap_reader_reset(&c->reader);
			break;
		case IMAP_READER_FATAL:
			imap_sendf(c, "* BYE %s\r\n", error);
			log_info("imap(%s): Disconnected: %s in=%llu out=%llu",
			    c->s->user, error,
			    (unsigned long long)c->in_bytes,
			    (unsigned long long)c->out_bytes);
			imap_close(c);
			return;
		case IMAP_READER_DONE:
			command_run(c, c->reader.cmd.s, c->reader.cmd.len);
			imap_reader_reset(&c->reader);
			break;
		}
	}
}

/* Handle the input and note how much of it is left for later. */
static void
client_input(struct imap_client *c)
{
	client_input_run(c);
	c->in_left = evbuffer_get_length(bufferevent_get_input(c->bev));
}

static void
autologout_reset(struct imap_client *c)
{
	struct timeval tv = {
		(time_t)cfg_duration(c->s->cfg, "imap_autologout"), 0 };

	evtimer_add(c->autologout, &tv);
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct imap_client *c = arg;

	struct evbuffer *in = bufferevent_get_input(bev);

	/* Count each byte once, though a partial command stays in the
	   buffer across reads. */
	c->in_bytes += evbuffer_get_length(in) - c->in_left;
	autologout_reset(c);
	client_input(c);
	if (c->state != IMAP_STATE_LOGOUT && imap_output_full(c)) {
		log_info("imap(%s): Disconnected: output buffer full",
		    c->s->user);
		event_base_loopbreak(c->base);
	}
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	struct imap_client *c = arg;

	(void)bev;
	if (c->resume != NULL && c->resume(c)) {
		c->resume = NULL;
		client_input(c);
	}
	if (c->state == IMAP_STATE_LOGOUT && imap_output_pending(c) == 0)
		event_base_loopbreak(c->base);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct imap_client *c = arg;

	(void)bev;
	if (c->state != IMAP_STATE_LOGOUT)
		log_info("imap(%s): Disconnected: %s in=%llu out=%llu "
		    "deleted=%u expunged=%u", c->s->user,
		    (what & BEV_EVENT_TIMEOUT) ? "Output timeout" :
		    "Connection closed", (unsigned long long)c->in_bytes,
		    (unsigned long long)c->out_bytes, c->deleted, c->expunged);
	event_base_loopbreak(c->base);
}

static void
on_autologout(evutil_socket_t fd, short what, void *arg)
{
	struct imap_client *c = arg;

	(void)fd, (void)what;
	imap_puts(c, "* BYE Disconnected for inactivity.\r\n");
	log_info("imap(%s): Disconnected for inactivity in=%llu out=%llu",
	    c->s->user, (unsigned long long)c->in_bytes,
	    (unsigned long long)c->out_bytes);
	imap_close(c);
}

/* Open the store and create the special-use folders; false when the
   mail cannot be served. */
static bool
store_open(struct imap_client *c)
{
	char *error = NULL;

	if (mstore_open(c->s->mail, &c->st, &error) < 0) {
		log_error("imap(%s): %s: %s", c->s->user, c->s->mail, error);
		free(error);
		return false;
	}
	if (mstore_auto_mailboxes(c->st, cfg_list(c->s->cfg,
	    "mail_auto_mailboxes"), &error) < 0) {
		log_warning("imap(%s): mail_auto_mailboxes: %s", c->s->user,
		    error);
		free(error);
	}
	return true;
}

static int
client_setup(struct imap_client *c, struct mra_session *s)
{
	struct timeval wt = { IMAP_WRITE_TIMEOUT_SECS, 0 };

	c->s = s;
	c->exit_status = 0;
	if ((c->base = event_base_new()) == NULL)
		log_fatal("event_base_new failed");
	c->bev = bufferevent_socket_new(c->base, s->fd, 0);
	if (c->bev == NULL)
		log_fatal("bufferevent_socket_new failed");
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, IMAP_OUTPUT_LOW, 0);
	bufferevent_set_timeouts(c->bev, NULL, &wt);
	c->autologout = evtimer_new(c->base, on_autologout, c);
	imap_reader_init(&c->reader,
	    (size_t)cfg_size(s->cfg, "imap_max_line_length"),
	    cfg_size(s->cfg, "message_size_limit"));
	imap_reader_reset(&c->reader);
	c->idle_notify_secs = (long)cfg_duration(s->cfg,
	    "imap_idle_notify_interval");
	return 0;
}

static void
client_free(struct imap_client *c)
{
	imap_idle_stop(c);
	free(c->idle_tag);
	imap_unselect(c);
	imap_msg_cache_clear(c);
	mstore_close(&c->st);
	imap_reader_free(&c->reader);
	if (c->resume_abort != NULL)
		c->resume_abort(c);
	event_free(c->autologout);
	bufferevent_free(c->bev);
	event_base_free(c->base);
}

int
imap_engine(struct mra_session *s)
{
	struct imap_client c;
	const char *tag = s->login_tag != NULL ? s->login_tag : "*";

	memset(&c, 0, sizeof(c));
	client_setup(&c, s);
	if (!store_open(&c)) {
		imap_sendf(&c, "%s NO [UNAVAILABLE] Mailbox is unavailable."
		    "\r\n* BYE Logging out\r\n", tag);
		imap_close(&c);
		event_base_dispatch(c.base);
		client_free(&c);
		return 1;
	}
	imap_sendf(&c, "%s OK [CAPABILITY %s] Logged in\r\n", tag,
	    IMAP_CAPABILITIES);
	bufferevent_enable(c.bev, EV_READ | EV_WRITE);
	autologout_reset(&c);
	if (s->input_len > 0) {
		evbuffer_add(bufferevent_get_input(c.bev), s->input,
		    s->input_len);
		on_read(c.bev, &c);
	}
	if (c.state != IMAP_STATE_LOGOUT || imap_output_pending(&c) > 0)
		event_base_dispatch(c.base);
	client_free(&c);
	return c.exit_status;
}
