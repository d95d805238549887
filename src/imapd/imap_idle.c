/*
 * IDLE (RFC 2177): changes to the selected folder reach the client as
 * they happen, through the store's inotify watch (or a poll each second
 * where there is none), with "* OK Still here" every
 * imap_idle_notify_interval; and the SEARCH command over imap_search.h.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "imapd/imap_int.h"
#include "imapd/imap_search.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mailstore/mailstore.h"
#include "mra/mra.h"

static void
on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct imap_client *c = arg;

	(void)fd, (void)what;
	if (c->mb == NULL)
		return;
	mbox_watch_clear(c->mb);
	imap_sync_send(c, false);
	if (imap_output_full(c)) {
		log_info("imap(%s): Disconnected: output buffer full",
		    c->s->user);
		event_base_loopbreak(c->base);
	}
}

static void
on_notify(evutil_socket_t fd, short what, void *arg)
{
	struct imap_client *c = arg;

	(void)fd, (void)what;
	imap_puts(c, "* OK Still here\r\n");
}

void
imap_idle_stop(struct imap_client *c)
{
	if (c->idle_watch != NULL)
		event_free(c->idle_watch);
	if (c->idle_poll != NULL)
		event_free(c->idle_poll);
	if (c->idle_notify != NULL)
		event_free(c->idle_notify);
	c->idle_watch = c->idle_poll = c->idle_notify = NULL;
	c->idling = false;
}

void
imap_cmd_idle(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	struct timeval notify = { c->idle_notify_secs, 0 };
	struct timeval poll = { 1, 0 };
	int fd;

	(void)args, (void)uid;
	if (count != 0) {
		imap_tagged(c, tag, "BAD Invalid arguments.");
		return;
	}
	imap_puts(c, "+ idling\r\n");
	c->idling = true;
	free(c->idle_tag);
	c->idle_tag = xstrdup(tag);
	if (c->mb != NULL) {
		imap_sync_send(c, false);
		if ((fd = mbox_watch_fd(c->mb)) >= 0) {
			c->idle_watch = event_new(c->base, fd,
			    EV_READ | EV_PERSIST, on_watch, c);
			event_add(c->idle_watch, NULL);
		} else {
			c->idle_poll = event_new(c->base, -1, EV_PERSIST,
			    on_watch, c);
			event_add(c->idle_poll, &poll);
		}
	}
	c->idle_notify = event_new(c->base, -1, EV_PERSIST, on_notify, c);
	event_add(c->idle_notify, &notify);
}

void
imap_idle_input(struct imap_client *c, const char *line, size_t len)
{
	char *tag = c->idle_tag;

	c->idle_tag = NULL;
	imap_idle_stop(c);
	c->sync = IMAP_SYNC_FULL;
	c->sync_uid = false;
	if (len == 4 && strncasecmp(line, "DONE", 4) == 0)
		imap_tagged(c, tag, "OK Idle completed.");
	else
		imap_tagged(c, tag, "BAD Expected DONE.");
	free(tag);
}

/* Load a message for SEARCH: the context is the client, the sequence
   number comes through the message being matched. */
struct search_load {
	struct imap_client *c;
	uint32_t seq;
};

static int
search_load(void *ctx, const char **data_r, size_t *len_r,
    const struct mime_part **root_r)
{
	struct search_load *l = ctx;

	return imap_msg_get(l->c, l->seq, data_r, len_r, root_r);
}

/* The Date: header's day from the folder's cache, as decimal text. */
static bool
search_date_get(void *ctx, long *day_r)
{
	struct search_load *l = ctx;
	const void *data;
	char buf[24], *end;
	size_t len;

	if (mbox_cache_get(l->c->mb, l->seq, MBOX_CACHE_SENT_DAY, &data,
	    &len) == 0 || len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, data, len);
	buf[len] = '\0';
	*day_r = strtol(buf, &end, 10);
	return *end == '\0' && *day_r >= -1;
}

static void
search_date_put(void *ctx, long day)
{
	struct search_load *l = ctx;
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%ld", day);

	mbox_cache_put(l->c->mb, l->seq, MBOX_CACHE_SENT_DAY, buf,
	    (size_t)n);
}

static int
search_keyword(void *ctx, const char *name)
{
	return mbox_keyword_index(ctx, name, false);
}

void
imap_cmd_search(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	uint32_t n = mbox_count(c->mb);
	struct imap_search_env env = { n, n > 0 ? mbox_msg(c->mb, n)->uid : 0,
	    search_keyword, c->mb };
	struct search_load load = { c, 0 };
	struct imap_search *s;
	struct str out = STR_INIT;
	const char *error;
	int ret;

	if ((ret = imap_search_parse(args, count, &env, &s, &error)) < 0) {
		if (ret == -2)
			imap_tagged(c, tag, "NO [BADCHARSET (UTF-8 US-ASCII)] "
			    "Unsupported charset");
		else
			imap_sendf(c, "%s BAD Error in IMAP command SEARCH: "
			    "%s\r\n", tag, error);
		return;
	}
	str_append(&out, "* SEARCH");
	for (uint32_t seq = 1; seq <= n; seq++) {
		const struct mmsg *m = mbox_msg(c->mb, seq);
		struct imap_search_msg sm = { seq, m->uid, m->flags,
		    m->keywords, m->size, m->internaldate, search_load, &load,
		    search_date_get, search_date_put };

		load.seq = seq;
		if (imap_search_match(s, &sm))
			str_appendf(&out, " %u", uid ? m->uid : seq);
	}
	str_append(&out, "\r\n");
	mbox_cache_flush(c->mb);
	imap_send(c, out.s, out.len);
	str_free(&out);
	imap_search_free(&s);
	imap_tagged(c, tag, "OK Search completed.");
}
