/*
 * The POP3 engine: one logged-in session in its mail process.  Commands
 * are read from a bounded line reader and run in order as they arrive
 * (PIPELINING); a message is streamed from its file in chunks, and input
 * is not read while the output buffer is full, so a client that does not
 * read cannot make us hold more than a few hundred kilobytes.
 */

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "mailstore/mailstore.h"
#include "pop3d/pop3.h"
#include "pop3d/pop3_int.h"
#include "pop3d/pop3_text.h"

/* The longest command line taken.  RFC 2449 allows 255 octets; clients
   that send a little more still get an answer. */
#define POP3_LINE_MAX		512
/* Bad commands before we give up on the client (Dovecot's count). */
#define POP3_MAX_BAD		20
/* Output buffered before we stop producing more. */
#define POP3_OUT_HIGH		(256 * 1024)
/* Input buffered before we stop reading from the client. */
#define POP3_IN_HIGH		(64 * 1024)
/* How long the last reply may take to leave once we are closing. */
#define POP3_CLOSE_WAIT		30
/* How much of a message file is read at once. */
#define POP3_CHUNK		(64 * 1024)

struct pop3_cmd {
	const char *name;
	/* Returns 0, or -1 for a bad command (counted towards the limit). */
	int (*run)(struct pop3 *p, const char *args);
};

static void pop3_pump(struct pop3 *p);

/* Queue one reply line (CRLF added). */
static void __attribute__((format(printf, 2, 3)))
reply(struct pop3 *p, const char *fmt, ...)
{
	struct evbuffer *out = bufferevent_get_output(p->bev);
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

/* Stop reading, flush what is queued, then end the loop. */
static void
pop3_close(struct pop3 *p, const char *reason)
{
	if (p->state == POP3_CLOSING)
		return;
	p->state = POP3_CLOSING;
	if (p->reason == NULL)
		p->reason = reason;
	bufferevent_disable(p->bev, EV_READ);
	bufferevent_setwatermark(p->bev, EV_WRITE, 0, 0);
	if (evbuffer_get_length(bufferevent_get_output(p->bev)) == 0)
		event_base_loopexit(p->base, NULL);
	else	/* the last words get a little while to leave, no more */
		event_base_loopexit(p->base,
		    &(struct timeval){ POP3_CLOSE_WAIT, 0 });
}

/* Count a bad command; too many end the session. */
static int
pop3_bad(struct pop3 *p)
{
	if (++p->bad >= POP3_MAX_BAD) {
		reply(p, "-ERR Too many bad commands.");
		pop3_close(p, "Disconnected: Too many bad commands");
	}
	return -1;
}

/*
 * Parse a message number off *ARGS and find the message, answering the
 * client when there is none.  Returns the index, or -1 after an -ERR
 * (*BAD_R set when the argument was not even a number).
 */
static long
msg_arg(struct pop3 *p, const char **args, bool *bad_r)
{
	const char *start = *args;
	uint64_t n;

	*bad_r = false;
	if (pop3_arg_num(args, UINT32_MAX, &n) != 0) {
		reply(p, "-ERR Invalid message number: %.64s", start);
		*bad_r = true;
		return -1;
	}
	if (n == 0 || n > p->count) {
		reply(p, "-ERR There's no message %llu.",
		    (unsigned long long)n);
		return -1;
	}
	if (p->msgs[n - 1].deleted) {
		reply(p, "-ERR Message is deleted.");
		return -1;
	}
	return (long)(n - 1);
}

/* Whether only blanks are left of ARGS; answers -ERR otherwise. */
static bool
args_end(struct pop3 *p, const char *args)
{
	args += strspn(args, " \t");
	if (*args == '\0')
		return true;
	reply(p, "-ERR Too many arguments.");
	return false;
}

/* Parse "[msg]": *INDEX_R -1 when absent.  Returns 1 when the command
   may go on, 0 after an -ERR, -1 for a bad command. */
static int
opt_msg_arg(struct pop3 *p, const char *args, long *index_r)
{
	bool bad;

	*index_r = -1;
	if (args[strspn(args, " \t")] == '\0')
		return 1;
	if ((*index_r = msg_arg(p, &args, &bad)) < 0)
		return bad ? -1 : 0;
	if (!args_end(p, args))
		return -1;
	return 1;
}

/* STAT: the messages not deleted and their size. */
static int
cmd_stat(struct pop3 *p, const char *args)
{
	uint64_t size = 0;
	uint32_t i, n = 0;

	if (!args_end(p, args))
		return -1;
	for (i = 0; i < p->count; i++) {
		if (!p->msgs[i].deleted) {
			n++;
			size += p->msgs[i].size;
		}
	}
	reply(p, "+OK %u %llu", n, (unsigned long long)size);
	return 0;
}

/* LIST [msg]: sizes in octets. */
static int
cmd_list(struct pop3 *p, const char *args)
{
	struct evbuffer *out = bufferevent_get_output(p->bev);
	uint32_t i, n = 0;
	long idx;
	int r;

	if ((r = opt_msg_arg(p, args, &idx)) <= 0)
		return r;
	if (idx >= 0) {
		reply(p, "+OK %ld %llu", idx + 1,
		    (unsigned long long)p->msgs[idx].size);
		return 0;
	}
	for (i = 0; i < p->count; i++)
		n += !p->msgs[i].deleted;
	reply(p, "+OK %u messages:", n);
	for (i = 0; i < p->count; i++) {
		if (!p->msgs[i].deleted)
			evbuffer_add_printf(out, "%u %llu\r\n", i + 1,
			    (unsigned long long)p->msgs[i].size);
	}
	reply(p, ".");
	return 0;
}

/* The UIDL of message IDX into BUF. */
static void
msg_uidl(struct pop3 *p, uint32_t idx, char *buf)
{
	const char *error;

	/* The format was checked at login. */
	if (pop3_uidl_expand(p->uidl_format, p->msgs[idx].uid,
	    p->uidvalidity, buf, &error) < 0)
		log_panic("pop3_uidl_format: %s", error);
}

/* UIDL [msg]: unique ids that stay the same across sessions. */
static int
cmd_uidl(struct pop3 *p, const char *args)
{
	struct evbuffer *out = bufferevent_get_output(p->bev);
	char uidl[POP3_UIDL_MAX + 1];
	uint32_t i;
	long idx;
	int r;

	if ((r = opt_msg_arg(p, args, &idx)) <= 0)
		return r;
	if (idx >= 0) {
		msg_uidl(p, (uint32_t)idx, uidl);
		reply(p, "+OK %ld %s", idx + 1, uidl);
		return 0;
	}
	reply(p, "+OK");
	for (i = 0; i < p->count; i++) {
		if (p->msgs[i].deleted)
			continue;
		msg_uidl(p, i, uidl);
		evbuffer_add_printf(out, "%u %s\r\n", i + 1, uidl);
	}
	reply(p, ".");
	return 0;
}

/* Start sending message IDX: the whole of it, or its header and
   TOP_LINES lines of its body when TOP_LINES >= 0. */
static void
msg_send(struct pop3 *p, long idx, long long top_lines)
{
	struct pop3_msg *m = &p->msgs[idx];
	uint32_t seq = mbox_seq_of_uid(p->mbox, m->uid);
	char *error = NULL;
	int fd;

	if (seq == 0 || mbox_msg_open(p->mbox, seq, &fd, &error) < 0) {
		/* Expunged by another session since our login. */
		if (seq != 0 && errno != ENOENT) {
			log_error("pop3(%s): open of message uid %u: %s",
			    p->s->user, m->uid, error);
			reply(p, "-ERR [SYS/TEMP] Couldn't read the message.");
		} else
			reply(p, "-ERR Message is deleted.");
		free(error);
		return;
	}
	if (top_lines < 0) {
		reply(p, "+OK %llu octets", (unsigned long long)m->size);
		m->seen = true;
		p->retr_count++;
	} else {
		reply(p, "+OK");
		p->top_count++;
	}
	p->msg_fd = fd;
	p->msg_top = top_lines >= 0;
	pop3_stuff_init(&p->stuff, top_lines);
}

/* RETR msg */
static int
cmd_retr(struct pop3 *p, const char *args)
{
	bool bad;
	long idx;

	if ((idx = msg_arg(p, &args, &bad)) < 0)
		return bad ? -1 : 0;
	if (!args_end(p, args))
		return -1;
	msg_send(p, idx, -1);
	return 0;
}

/* TOP msg n */
static int
cmd_top(struct pop3 *p, const char *args)
{
	uint64_t lines;
	bool bad;
	long idx;

	if ((idx = msg_arg(p, &args, &bad)) < 0)
		return bad ? -1 : 0;
	if (pop3_arg_num(&args, INT64_MAX, &lines) != 0) {
		reply(p, "-ERR Invalid number of lines: %.64s",
		    args + strspn(args, " \t"));
		return -1;
	}
	if (!args_end(p, args))
		return -1;
	msg_send(p, idx, (long long)lines);
	return 0;
}

/* DELE msg: marked only; QUIT deletes. */
static int
cmd_dele(struct pop3 *p, const char *args)
{
	bool bad;
	long idx;

	if ((idx = msg_arg(p, &args, &bad)) < 0)
		return bad ? -1 : 0;
	if (!args_end(p, args))
		return -1;
	p->msgs[idx].deleted = true;
	reply(p, "+OK Marked to be deleted.");
	return 0;
}

/* RSET: undo DELE, and forget what RETR would mark \Seen (Dovecot). */
static int
cmd_rset(struct pop3 *p, const char *args)
{
	uint32_t i;

	if (!args_end(p, args))
		return -1;
	for (i = 0; i < p->count; i++)
		p->msgs[i].deleted = p->msgs[i].seen = false;
	reply(p, "+OK");
	return 0;
}

static int
cmd_noop(struct pop3 *p, const char *args)
{
	if (!args_end(p, args))
		return -1;
	reply(p, "+OK");
	return 0;
}

/* CAPA after login.  RFC 2449 wants what the AUTHORIZATION state offers
   listed here too. */
static int
cmd_capa(struct pop3 *p, const char *args)
{
	(void)args;
	reply(p, "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n"
	    "AUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN LOGIN\r\n.");
	return 0;
}

/* USER, PASS, AUTH, APOP, STLS: only before login. */
static int
cmd_prelogin(struct pop3 *p, const char *args)
{
	(void)args;
	reply(p, "-ERR Already logged in.");
	return -1;
}

/* QUIT: the UPDATE state. */
static int
cmd_quit(struct pop3 *p, const char *args)
{
	(void)args;
	p->state = POP3_UPDATE;
	p->quit = true;
	if (pop3_mailbox_update(p, true) < 0) {
		reply(p, "-ERR [SYS/TEMP] Couldn't delete the messages.");
		p->status = 1;
	} else
		reply(p, "+OK Logging out.");
	pop3_close(p, "Disconnected: Logged out");
	return 0;
}

static const struct pop3_cmd pop3_cmds[] = {
	{ "APOP", cmd_prelogin },
	{ "AUTH", cmd_prelogin },
	{ "CAPA", cmd_capa },
	{ "DELE", cmd_dele },
	{ "LIST", cmd_list },
	{ "NOOP", cmd_noop },
	{ "PASS", cmd_prelogin },
	{ "QUIT", cmd_quit },
	{ "RETR", cmd_retr },
	{ "RSET", cmd_rset },
	{ "STAT", cmd_stat },
	{ "STLS", cmd_prelogin },
	{ "TOP", cmd_top },
	{ "UIDL", cmd_uidl },
	{ "USER", cmd_prelogin },
};

/* Run one command line. */
static void
pop3_command(struct pop3 *p, char *line)
{
	char *name, *args;
	size_t i;

	if (pop3_cmd_split(line, &name, &args) < 0) {
		reply(p, "-ERR Unknown command.");
		pop3_bad(p);
		return;
	}
	for (i = 0; i < sizeof(pop3_cmds) / sizeof(pop3_cmds[0]); i++) {
		if (strcmp(pop3_cmds[i].name, name) == 0) {
			if (pop3_cmds[i].run(p, args) < 0)
				pop3_bad(p);
			return;
		}
	}
	reply(p, "-ERR Unknown command: %s", name);
	pop3_bad(p);
}

/* Take the next complete line off the input and run it.  Returns false
   when there is none yet. */
static bool
pop3_next_line(struct pop3 *p)
{
	struct evbuffer *in = bufferevent_get_input(p->bev);
	struct evbuffer_ptr eol;
	size_t eol_len, len;
	char *line;

	eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
	if (eol.pos < 0) {
		/* Keep at most one line's worth of an unfinished line. */
		if ((len = evbuffer_get_length(in)) > POP3_LINE_MAX) {
			evbuffer_drain(in, len);
			p->skipping = true;
		}
		return false;
	}
	len = (size_t)eol.pos;
	if (p->skipping || len > POP3_LINE_MAX) {
		evbuffer_drain(in, len + eol_len);
		p->skipping = false;
		reply(p, "-ERR Command line too long.");
		pop3_bad(p);
		return true;
	}
	line = xmalloc(len + 1);
	evbuffer_remove(in, line, len);
	evbuffer_drain(in, eol_len);
	line[len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[len - 1] = '\0';
	pop3_command(p, line);
	free(line);
	return true;
}

/* The message being sent is complete (or cannot be read further). */
static void
msg_done(struct pop3 *p)
{
	close(p->msg_fd);
	p->msg_fd = -1;
}

/* Send the next chunk of the message being sent. */
static void
pop3_send_chunk(struct pop3 *p)
{
	struct evbuffer *out = bufferevent_get_output(p->bev);
	char buf[POP3_CHUNK];
	ssize_t n;

	n = read(p->msg_fd, buf, sizeof(buf));
	if (n < 0 && errno == EINTR)
		return;
	if (n < 0) {
		/* The +OK is out: only ending the session is honest. */
		log_error("pop3(%s): read of a message: %s", p->s->user,
		    strerror(errno));
		msg_done(p);
		p->status = 1;
		pop3_close(p, "Disconnected: Internal error");
		return;
	}
	str_truncate(&p->chunk, 0);
	if (n > 0)
		pop3_stuff(&p->stuff, buf, (size_t)n, &p->chunk);
	if (p->msg_top)
		p->top_bytes += p->chunk.len;
	else
		p->retr_bytes += p->chunk.len;
	if (n == 0 || p->stuff.done) {
		pop3_stuff_finish(&p->stuff, &p->chunk);
		msg_done(p);
	}
	evbuffer_add(out, p->chunk.s, p->chunk.len);
}

/*
 * Do all the work that can be done now: send messages and run commands
 * in order until the input holds no complete line or the output is
 * full (then the write callback calls us again).
 */
static void
pop3_pump(struct pop3 *p)
{
	struct evbuffer *out = bufferevent_get_output(p->bev);

	while (p->state == POP3_TRANSACTION) {
		if (evbuffer_get_length(out) >= POP3_OUT_HIGH) {
			bufferevent_disable(p->bev, EV_READ);
			return;
		}
		if (p->msg_fd >= 0)
			pop3_send_chunk(p);
		else if (!pop3_next_line(p))
			break;
	}
	if (p->state != POP3_TRANSACTION)
		return;
	if (p->eof)
		pop3_close(p, "Disconnected: Connection closed");
	else
		bufferevent_enable(p->bev, EV_READ);
}

static void
pop3_read_cb(struct bufferevent *bev, void *ctx)
{
	(void)bev;
	pop3_pump(ctx);
}

static void
pop3_write_cb(struct bufferevent *bev, void *ctx)
{
	struct pop3 *p = ctx;

	if (p->state == POP3_CLOSING) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			event_base_loopexit(p->base, NULL);
		return;
	}
	pop3_pump(p);
}

static void
pop3_event_cb(struct bufferevent *bev, short what, void *ctx)
{
	struct pop3 *p = ctx;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT) {
		/* A client that does not read gets nothing more. */
		if (p->state == POP3_CLOSING || (what & BEV_EVENT_WRITING)) {
			if (p->reason == NULL)
				p->reason = "Disconnected for inactivity";
			event_base_loopexit(p->base, NULL);
			return;
		}
		reply(p, "-ERR Disconnected for inactivity.");
		pop3_close(p, "Disconnected for inactivity");
	} else if (what & BEV_EVENT_ERROR) {
		/* Nothing more can reach the client. */
		p->eof = true;
		if (p->reason == NULL)
			p->reason = "Disconnected: Connection closed";
		event_base_loopexit(p->base, NULL);
	} else if (what & BEV_EVENT_EOF) {
		/* Commands the client sent before closing still count,
		   a QUIT among them. */
		p->eof = true;
		pop3_pump(p);
	}
}

/* Set up the connection to the login process, the pipelined input first. */
static int
pop3_connect(struct pop3 *p)
{
	struct timeval tv = {
		(time_t)cfg_duration(p->s->cfg, "pop3_autologout"), 0 };

	if ((p->base = event_base_new()) == NULL)
		log_fatal("event_base_new failed");
	p->bev = bufferevent_socket_new(p->base, p->s->fd, BEV_OPT_CLOSE_ON_FREE);
	if (p->bev == NULL)
		log_fatal("bufferevent_socket_new failed");
	bufferevent_setcb(p->bev, pop3_read_cb, pop3_write_cb, pop3_event_cb,
	    p);
	bufferevent_set_timeouts(p->bev, &tv, &tv);
	bufferevent_setwatermark(p->bev, EV_READ, 0, POP3_IN_HIGH);
	bufferevent_setwatermark(p->bev, EV_WRITE, POP3_OUT_HIGH / 2, 0);
	/* The socket's input buffer is frozen at its end (only libevent
	   appends there), so what came before is put at its start. */
	if (p->s->input_len > 0 &&
	    evbuffer_prepend(bufferevent_get_input(p->bev), p->s->input,
	    p->s->input_len) < 0)
		return -1;
	return bufferevent_enable(p->bev, EV_READ | EV_WRITE);
}

/* Log the end of the session the way Dovecot does. */
static void
pop3_log_logout(const struct pop3 *p)
{
	log_info("pop3(%s): %s top=%u/%llu, retr=%u/%llu, del=%u/%u, "
	    "size=%llu", p->s->user,
	    p->reason != NULL ? p->reason : "Disconnected",
	    p->top_count, (unsigned long long)p->top_bytes,
	    p->retr_count, (unsigned long long)p->retr_bytes,
	    p->expunged, p->count, (unsigned long long)p->size);
}

/* Serve a logged-in POP3 session. */
int
pop3_engine(struct mra_session *s)
{
	struct pop3 p = { .s = s, .msg_fd = -1 };

	/* A client gone while we write must not kill us before the
	   logout line. */
	signal(SIGPIPE, SIG_IGN);
	p.uidl_format = pop3_uidl_format(s);
	if (pop3_connect(&p) < 0)
		log_fatal("pop3(%s): cannot watch the connection", s->user);
	if (pop3_mailbox_open(&p) < 0) {
		reply(&p, "-ERR [SYS/TEMP] Couldn't open INBOX.");
		p.status = 1;
		pop3_close(&p, "Disconnected: Couldn't open INBOX");
	} else {
		reply(&p, "+OK Logged in.");
		pop3_pump(&p);
	}
	event_base_dispatch(p.base);
	/* Without QUIT nothing is deleted, but what was read is \Seen. */
	if (!p.quit && p.mbox != NULL)
		(void)pop3_mailbox_update(&p, false);
	pop3_log_logout(&p);
	if (p.msg_fd >= 0)
		close(p.msg_fd);
	bufferevent_free(p.bev);
	event_base_free(p.base);
	if (p.mbox != NULL)
		mbox_close(&p.mbox);
	if (p.store != NULL)
		mstore_close(&p.store);
	str_free(&p.chunk);
	free(p.msgs);
	return p.status;
}
