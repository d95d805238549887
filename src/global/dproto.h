#ifndef DIRMAIL_GLOBAL_DPROTO_H
#define DIRMAIL_GLOBAL_DPROTO_H

/*
 * The delivery protocol between qmgr and the delivery agents
 * (doc/delivery-protocol.md): one request (a message and the recipients
 * of one transport and nexthop) and its reply (one status per recipient,
 * and the addresses a recipient was forwarded to).  This module only
 * builds and parses the lines; the callers do the I/O.
 */

#include <stdbool.h>
#include <stddef.h>

struct str;

/* The longest line either side sends or takes, LF included. */
#define DPROTO_MAX_LINE	65536

struct dproto_rcpt {
	unsigned index;		/* identifies it in the reply */
	char *final;		/* internal form */
	char *orcpt;		/* "" when none */
	char *notify;		/* "" when none */
};

struct dproto_request {
	char *queue_id;
	char *path;		/* absolute path of the queue file */
	unsigned long long offset, length;	/* the content */
	char *transport;	/* local, virtual, smtp, relay, lmtp */
	char *nexthop;
	char *sender;		/* internal form, "" for <> */
	char **attrs;		/* "name=value", NULL-terminated */
	size_t n_attrs;
	struct dproto_rcpt *rcpts;
	size_t n_rcpts;
	bool done;		/* the "." line was read */
};

/* The value of attribute NAME of REQ (the first one), or NULL. */
const char *dproto_request_attr(const struct dproto_request *req,
    const char *name);

/*
 * Append the whole request REQ (every line and the final ".") to OUT.
 * The done member and the request's own consistency are not checked.
 */
void dproto_request_write(struct str *out, const struct dproto_request *req);

/*
 * Feed one line (without its LF; modified in place) of a request to REQ,
 * which starts zeroed.  Returns 1 when the request is complete (the "."
 * line; REQ->done is then set), 0 when more lines are wanted, -1 on a
 * protocol error with *ERROR_R (static text).  A request without a "D"
 * line first, without recipients, with a repeated index or an unknown
 * line is an error.
 */
int dproto_request_line(struct dproto_request *req, char *line,
    const char **error_r);

/* Free what REQ holds and zero it (the struct itself is the caller's). */
void dproto_request_clear(struct dproto_request *req);

/* One recipient's result. */
struct dproto_status {
	unsigned index;
	int class;		/* 2, 4 or 5 */
	char *dsn;		/* "2.0.0" */
	char *relay;
	char *text;
	char **forward;		/* F addresses, NULL-terminated, or NULL */
	size_t n_forward;
};

struct dproto_reply {
	struct dproto_status *st;
	size_t n_st;
	bool done;		/* the "." line was read */
	/* internal: F addresses waiting for their S */
	struct dproto_fwd *pending;
	size_t n_pending;
};

/* Append one F line. */
void dproto_forward_write(struct str *out, unsigned index,
    const char *address);

/*
 * Append one S line.  CLASS is 2, 4 or 5; DSN an "x.y.z" code whose
 * first digit should be CLASS; RELAY and TEXT any text (NULL: "").
 */
void dproto_status_write(struct str *out, unsigned index, int class,
    const char *dsn, const char *relay, const char *text);

/* Append the end of a reply. */
void dproto_reply_end(struct str *out);

/*
 * Feed one line of a reply to REPLY (zeroed at the start).  Returns 1 at
 * the "." line, 0 when more are wanted, -1 on a protocol error with
 * *ERROR_R (static text): a malformed line, a class other than 2, 4, 5,
 * an index given twice, an F after the S of its index.  Whether every
 * index of the request got its status is the caller's check
 * (dproto_reply_find()).
 */
int dproto_reply_line(struct dproto_reply *reply, char *line,
    const char **error_r);

/* The status of INDEX in REPLY, or NULL. */
const struct dproto_status *dproto_reply_find(const struct dproto_reply *r,
    unsigned index);

/* Free what REPLY holds and zero it. */
void dproto_reply_clear(struct dproto_reply *reply);

#endif
