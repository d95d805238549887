/* Line-oriented connections over bufferevents. */

#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "auth/lineconn.h"
#include "global/authproto.h"
#include "lib/xalloc.h"

/* Stop reading while this much output waits; resume below a third. */
#define OUTPUT_THROTTLE	(64 * 1024)

struct lineconn {
	struct bufferevent *bev;
	size_t max_line;
	lineconn_line_cb *line_cb;
	lineconn_close_cb *close_cb;
	void *ctx;
	int in_callback;
	int closing;
	const char *close_reason;
};

/* End the connection: tell the owner, then free it. */
static void
lineconn_end(struct lineconn *lc, const char *reason)
{
	if (lc->close_cb != NULL)
		lc->close_cb(reason, lc->ctx);
	lineconn_free(&lc);
}

/* Handle every complete input line. */
static void
lineconn_read(struct bufferevent *bev, void *arg)
{
	struct lineconn *lc = arg;
	struct evbuffer *in = bufferevent_get_input(lc->bev);
	char *line;
	bool too_long = false;
	int ret;

	(void)bev;
	lc->in_callback = 1;
	while (!lc->closing && (line = authproto_next_line(in, lc->max_line,
	    &too_long)) != NULL) {
		ret = lc->line_cb(line, lc->ctx);
		free(line);
		if (ret < 0) {
			lc->closing = 1;
			lc->close_reason = "protocol error";
		}
	}
	lc->in_callback = 0;
	if (!lc->closing && too_long) {
		lc->closing = 1;
		lc->close_reason = "input line too long";
	}
	if (lc->closing)
		lineconn_end(lc, lc->close_reason);
	else if (evbuffer_get_length(bufferevent_get_output(lc->bev)) >
	    OUTPUT_THROTTLE)
		bufferevent_disable(lc->bev, EV_READ);
}

/* Resume reading once the output has drained. */
static void
lineconn_written(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_enable(bev, EV_READ);
}

/* EOF or an error. */
static void
lineconn_event(struct bufferevent *bev, short what, void *arg)
{
	struct lineconn *lc = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		lineconn_end(lc, (what & BEV_EVENT_EOF) ? "disconnected" :
		    "connection error");
}

/* Wrap FD. */
struct lineconn *
lineconn_new(struct event_base *base, int fd, size_t max_line,
    lineconn_line_cb *line_cb, lineconn_close_cb *close_cb, void *ctx)
{
	struct lineconn *lc = xcalloc(1, sizeof(*lc));

	lc->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (lc->bev == NULL) {
		free(lc);
		return NULL;
	}
	lc->max_line = max_line;
	lc->line_cb = line_cb;
	lc->close_cb = close_cb;
	lc->ctx = ctx;
	bufferevent_setcb(lc->bev, lineconn_read, lineconn_written,
	    lineconn_event, lc);
	bufferevent_setwatermark(lc->bev, EV_WRITE, OUTPUT_THROTTLE / 3, 0);
	bufferevent_enable(lc->bev, EV_READ | EV_WRITE);
	return lc;
}

/* Queue output. */
void
lineconn_write(struct lineconn *lc, const char *data, size_t len)
{
	bufferevent_write(lc->bev, data, len);
}

/* Free the connection. */
void
lineconn_free(struct lineconn **lcp)
{
	struct lineconn *lc = *lcp;

	if (lc == NULL)
		return;
	*lcp = NULL;
	if (lc->in_callback) {
		/* Freed by lineconn_read() once the line callback returns. */
		lc->closing = 1;
		lc->close_cb = NULL;
		return;
	}
	bufferevent_free(lc->bev);
	free(lc);
}
