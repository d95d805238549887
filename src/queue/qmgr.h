#ifndef DIRMAIL_QUEUE_QMGR_H
#define DIRMAIL_QUEUE_QMGR_H

/*
 * qmgr, the queue manager: the shared state of its modules.
 *
 *	qmgr.c		main, settings, the wake-up FIFO and the queue scans
 *	qmgr_message.c	a message in active/: load, route, finish
 *	qmgr_result.c	one recipient's result: log, mark done, notices
 *	qmgr_deliver.c	destinations, agent connections, requests
 *	qmgr_transport.c	transport_maps and the address classes
 *
 * A message read from incoming/ or deferred/ moves to active/ and stays
 * in memory until every request for it has an answer; then it is removed
 * (every recipient done) or moved to deferred/ with its next attempt time
 * as mtime.  A recipient that is delivered or bounced is marked done in
 * the queue file itself (queue_rcpt_mark_done()), so a restart never
 * delivers it again.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>

#include "global/dproto.h"
#include "queue/qmgr_transport.h"

struct event_base;
struct queue_envelope;

/* The settings and the global state. */
struct qmgr_state {
	struct event_base *base;
	const char *queue_dir;
	const char *myhostname, *myorigin, *mail_name;
	const char *bounce_notice_recipient, *double_bounce_sender;
	unsigned long long bounce_size_limit;
	long long min_backoff, max_backoff;	/* seconds */
	long long max_lifetime, bounce_lifetime, delay_warning;
	long long run_delay;
	unsigned active_limit, dest_limit, local_dest_limit, process_limit;
	struct qmgr_transports *transports;
	unsigned n_active;		/* messages in memory */
	bool backlog;			/* a scan stopped at active_limit */
	bool stopping;			/* SIGTERM: no new work */
};

extern struct qmgr_state qmgr;

/* Where a recipient is in this attempt. */
enum qmgr_rcpt_state {
	QR_PENDING,		/* not routed yet */
	QR_INFLIGHT,		/* in a request */
	QR_DONE,		/* marked done in the file */
	QR_DEFERRED,		/* retry later */
	QR_FAILED,		/* bounce, not marked done before the notice */
};

struct qmgr_rcpt {
	enum qmgr_rcpt_state state;
	char *dsn, *relay, *text;	/* the last result (deferred/failed) */
	bool notify_success;		/* a delivered notice is wanted */
	double when;
};

struct qmgr_msg {
	char *id;
	char *path;			/* active/ID */
	int fd;				/* read-write, for the done marks */
	struct queue_envelope *env;
	struct qmgr_rcpt *r;		/* one per env->rcpts */
	unsigned jobs;			/* requests not answered */
	bool dirty;			/* done marks not fsynced yet */
	bool warned;			/* delay warning sent */
	double activated;		/* when it entered active/ */
};

/* One request: the recipients of one message for one destination. */
struct qmgr_job {
	struct qmgr_msg *msg;
	struct qmgr_dest *dest;
	unsigned *idx;			/* recipient indexes */
	size_t n;
	double queued, started, connected;	/* wall clock, for delays= */
	long long connect_until_ms;	/* retry a missing agent until */
	TAILQ_ENTRY(qmgr_job) link;
};

/* --- qmgr_message.c --- */

/*
 * Take message ID from queue subdirectory SUB (incoming, deferred or
 * active) into active/ and schedule it.  A file the reader refuses goes
 * to corrupt/.
 */
void qmgr_message_activate(const char *sub, const char *id);

/* Start and stop what finishing messages needs (the removal syncs);
   init after qmgr.base exists. */
void qmgr_message_init(void);
void qmgr_message_shutdown(void);

/*
 * The request JOB is over: REPLY (NULL when nothing was read) holds the
 * statuses received; every recipient of JOB without one is deferred with
 * DSN and TEXT.  Frees JOB; may finish the message.
 */
void qmgr_job_finish(struct qmgr_job *job, const struct dproto_reply *reply,
    const char *dsn, const char *text);

/* Time since the epoch, with microseconds. */
double qmgr_now(void);

/* --- qmgr_result.c --- */

/*
 * Record the result of recipient I of MSG: CLASS 2, 4 or 5, with DSN,
 * RELAY and TEXT, and the addresses it was forwarded to (N_FWD of FWD,
 * class 2 only).  JOB gives the timing for the log (NULL: now).  Logs
 * the Postfix line; a class 2 is marked done (after queueing the
 * forwards), a class 5 waits for the message's end to be bounced.
 */
void qmgr_rcpt_result(struct qmgr_msg *msg, unsigned i,
    const struct qmgr_job *job, int class, const char *dsn,
    const char *relay, const char *text, char *const *fwd, size_t n_fwd);

/*
 * At the end of an attempt: send the failure, delay and success notices
 * MSG needs, and mark the bounced recipients done; turn the deferred
 * ones that are too old into bounces first.
 */
void qmgr_notices(struct qmgr_msg *msg);

/* Mark recipient I of MSG done in the queue file (not fsynced yet). */
void qmgr_rcpt_done(struct qmgr_msg *msg, unsigned i);

/* --- qmgr_deliver.c --- */

/* Set the agents' socket paths up. */
void qmgr_deliver_init(void);

/* Queue JOB for its destination (transport, nexthop) and start what the
   limits allow.  TRANSPORT and NEXTHOP are copied. */
void qmgr_deliver_submit(struct qmgr_job *job, const char *transport,
    const char *nexthop, enum qmgr_agent agent);

/* Requests on the wire. */
unsigned qmgr_deliver_inflight(void);

/* Close every connection and forget the queued jobs (at exit). */
void qmgr_deliver_shutdown(void);

/* --- qmgr.c --- */

/* A message left memory: scan again if a scan stopped at the limit; at
   shutdown, stop the loop once nothing is in flight. */
void qmgr_message_gone(void);

#endif
