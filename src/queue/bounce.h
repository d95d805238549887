#ifndef DIRMAIL_QUEUE_BOUNCE_H
#define DIRMAIL_QUEUE_BOUNCE_H

/*
 * Delivery status notifications (RFC 3464): qmgr hands over a message's
 * envelope, its queue file and the recipients to report on; bounce_queue()
 * writes the notification as a new queue file (multipart/report: a
 * human-readable part, message/delivery-status, and the original message
 * or its headers) and commits it durably before it returns.
 */

#include <stdbool.h>
#include <stddef.h>

#include "queue/queue.h"

enum bounce_kind {
	BOUNCE_FAILED,		/* Action: failed ("Undelivered Mail
				   Returned to Sender") */
	BOUNCE_DELAYED,		/* Action: delayed (a delay warning) */
	BOUNCE_DELIVERED,	/* Action: delivered (NOTIFY=SUCCESS) */
};

struct bounce_rcpt {
	const char *final;	/* internal form */
	const char *orcpt;	/* the queue file's O record, or NULL */
	const char *dsn;	/* enhanced status "5.1.1" */
	const char *relay;	/* where it went, or NULL: "host[addr]:port"
				   gives Remote-MTA: dns; host */
	const char *text;	/* the reason (Diagnostic-Code: smtp; when
				   it holds "said: NNN ...", else
				   x-dirmail;) */
	double when;		/* Last-Attempt-Date, seconds since epoch;
				   0: now */
};

struct bounce_params {
	const char *queue_dir;
	const char *myhostname;		/* Reporting-MTA, From: domain */
	const char *mail_name;		/* "dirmail" */
	unsigned long long size_limit;	/* bounce_size_limit: beyond it
					   only the headers are returned;
					   0: no limit */
	const char *from;	/* envelope sender of the notice: "" (<>) or
				   double_bounce_sender */
	const char *to;		/* envelope recipient, internal form */
	bool headers_only;	/* return only the headers (also when the
				   message asked RET=HDRS) */
	double will_retry_until;	/* BOUNCE_DELAYED: when the message
					   expires (Will-Retry-Until); 0:
					   not said */
};

/*
 * Write a notification of KIND about the N recipients R of message ENV
 * (whose queue file is open as FD) to P->to, as a new queue file in
 * P->queue_dir/incoming, fsync it and its directory.  The message's
 * DSN_ENVID, DSN_RET and arrival time are used; a message that was
 * SMTPUTF8 gets message/global-delivery-status.  0 with the new queue id
 * in ID_R, or -1 with *ERROR_R (free it).
 */
int bounce_queue(const struct bounce_params *p,
    const struct queue_envelope *env, int fd, enum bounce_kind kind,
    const struct bounce_rcpt *r, size_t n, char id_r[QUEUE_ID_MAX + 1],
    char **error_r);

/*
 * Write a copy of message ENV (queue file open as FD) to the N addresses
 * RCPTS (internal form; ORCPTS[i] their original recipient or NULL),
 * same sender and attributes, with "Delivered-To: DELIVERED_TO\r\n"
 * prepended to the content, as a new queue file committed like
 * bounce_queue()'s.  For alias and .forward expansion.  0 with ID_R,
 * or -1 with *ERROR_R.
 */
int bounce_forward(const char *queue_dir, const struct queue_envelope *env,
    int fd, const char *delivered_to, char *const *rcpts,
    char *const *orcpts, size_t n, char id_r[QUEUE_ID_MAX + 1],
    char **error_r);

#endif
