#ifndef DIRMAIL_AUTH_LINECONN_H
#define DIRMAIL_AUTH_LINECONN_H

/*
 * A line-oriented connection over a libevent bufferevent: bounded input
 * lines (LF, an optional CR before it is dropped), buffered output with
 * back-pressure (input is paused while much output waits).
 */

#include <stddef.h>

struct event_base;
struct lineconn;

/*
 * Called for each input line (NUL-terminated, without its end); may
 * modify LINE.  Return 0 to go on, -1 to close the connection (the
 * close callback then runs; do not free the connection yourself here).
 */
typedef int lineconn_line_cb(char *line, void *ctx);
/* Called once when the connection ends (EOF, error, oversize line or
   -1 from the line callback); the connection is freed after it. */
typedef void lineconn_close_cb(const char *reason, void *ctx);

/* Wrap the connected socket FD; lines longer than MAX_LINE bytes close
   it. */
struct lineconn *lineconn_new(struct event_base *base, int fd,
    size_t max_line, lineconn_line_cb *line_cb, lineconn_close_cb *close_cb,
    void *ctx);

/* Queue LEN bytes of DATA for sending. */
void lineconn_write(struct lineconn *lc, const char *data, size_t len);

/* Free the connection now (outside of its callbacks), without calling
   the close callback; NULLs *LC. */
void lineconn_free(struct lineconn **lc);

#endif
