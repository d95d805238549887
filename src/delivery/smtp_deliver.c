/*
 * One delivery of the smtp agent: a request of qmgr, its nexthop, the
 * addresses to try in order, and one result per recipient.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/time.h>

#include "delivery/smtp.h"
#include "delivery/smtp_session.h"
#include "lib/log.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "queue/queue.h"

/* A DNS lookup handed to a worker thread. */
struct dns_job {
	struct delivery *d;
	char *host;
	bool mx;
	unsigned port;
	struct dns_result r;
};

void
delivery_set(struct delivery *d, size_t i, int class, const char *dsn,
    const char *relay, const char *text)
{
	struct smtpc_rcpt *r = &d->res[i];
	const char *status = class == 2 ? "sent" : class == 4 ? "deferred" :
	    "bounced";
	struct timeval now;
	double delay;

	if (r->class != 0)
		return;
	r->class = class;
	r->dsn = xstrdup(dsn);
	r->relay = xstrdup(relay != NULL ? relay : "none");
	r->text = xstrdup(text);
	gettimeofday(&now, NULL);
	delay = d->arrival > 0 ? (double)now.tv_sec + now.tv_usec / 1e6 -
	    d->arrival : 0;
	log_info("%s: to=<%s>, relay=%s, delay=%.2f, dsn=%s, status=%s (%s)",
	    d->req.queue_id, d->req.rcpts[i].final, r->relay,
	    delay < 0 ? 0 : delay, dsn, status, text);
}

void
delivery_set_all(struct delivery *d, int class, const char *dsn,
    const char *relay, const char *text)
{
	size_t i;

	for (i = 0; i < d->req.n_rcpts; i++)
		delivery_set(d, i, class, dsn, relay, text);
}

void
delivery_finish(struct delivery *d)
{
	/* Whatever has no result yet (a bug) is retried later. */
	delivery_set_all(d, 4, "4.3.0", NULL, "delivery incomplete");
	d->sess = NULL;
	d->done(d, d->ctx);
}

void
delivery_free(struct delivery *d)
{
	size_t i;

	for (i = 0; i < d->req.n_rcpts && d->res != NULL; i++) {
		free(d->res[i].dsn);
		free(d->res[i].relay);
		free(d->res[i].text);
	}
	free(d->res);
	dproto_request_clear(&d->req);
	smtp_nexthop_clear(&d->nh);
	dns_result_clear(&d->dns);
	free(d->cache_key);
	free(d->last_dsn);
	free(d->last_text);
	if (d->fd >= 0)
		close(d->fd);
	free(d);
}

/* Try the next address of D, or give up with the last error. */
static void
try_next(struct delivery *d)
{
	if (d->nh.unix_path && d->next_addr == 0) {
		d->next_addr++;
		session_connect(d, 0);
		return;
	}
	if (d->nh.unix_path || d->next_addr >= d->dns.n) {
		if (d->last_text != NULL)
			delivery_set_all(d, d->last_class, d->last_dsn, NULL,
			    d->last_text);
		delivery_finish(d);
		return;
	}
	session_connect(d, d->next_addr++);
}

void
delivery_next_address(struct delivery *d, int class, const char *dsn,
    const char *text)
{
	d->sess = NULL;
	free(d->last_dsn);
	free(d->last_text);
	d->last_class = class;
	d->last_dsn = xstrdup(dsn);
	d->last_text = xstrdup(text);
	try_next(d);
}

/* In a worker thread: resolve. */
static void
dns_run(void *arg)
{
	struct dns_job *job = arg;

	dns_resolve(job->host, job->mx, job->port, &job->r);
}

/* Back in the loop: the addresses are known. */
static void
dns_done(void *arg)
{
	struct dns_job *job = arg;
	struct delivery *d = job->d;

	free(job->host);
	d->dns = job->r;
	free(job);
	if (d->dns.n == 0) {
		delivery_set_all(d, d->dns.class, d->dns.dsn, NULL,
		    d->dns.text);
		delivery_finish(d);
		return;
	}
	try_next(d);
}

/* Check the request of D; 0, or -1 with every recipient's result set. */
static int
request_check(struct delivery *d)
{
	struct queue_envelope *env;
	const char *error;
	char *qerror;
	unsigned port;

	d->lmtp = strcmp(d->req.transport, "lmtp") == 0;
	if (!d->lmtp && strcmp(d->req.transport, "smtp") != 0 &&
	    strcmp(d->req.transport, "relay") != 0) {
		delivery_set_all(d, 4, "4.3.5", NULL,
		    "unknown mail transport for the smtp agent");
		return -1;
	}
	port = d->lmtp ? smtpc.lmtp_port : smtpc.smtp_port;
	if (smtp_nexthop_parse(d->req.nexthop, d->lmtp, port, &d->nh,
	    &error) < 0) {
		log_warning("%s: nexthop \"%s\": %s", d->req.queue_id,
		    d->req.nexthop, error);
		delivery_set_all(d, 4, "4.3.5", NULL,
		    "mail transport unavailable: malformed nexthop");
		return -1;
	}
	/* Only the arrival time is wanted (for the log): a file that does
	   not read shows in the open below or in the server's reply. */
	if (queue_envelope_read(d->req.path, &env, &qerror) == 0) {
		d->arrival = env->arrival;
		queue_envelope_free(&env);
	} else {
		free(qerror);
	}
	if ((d->fd = open(d->req.path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_warning("%s: open %s: %s", d->req.queue_id, d->req.path,
		    strerror(errno));
		delivery_set_all(d, 4, "4.3.0", NULL,
		    "cannot read the queue file");
		return -1;
	}
	return 0;
}

void
delivery_start(struct delivery *d)
{
	d->res = xcalloc(d->req.n_rcpts, sizeof(*d->res));
	if (request_check(d) < 0) {
		delivery_finish(d);
		return;
	}
	d->cache_key = xasprintf("%s:%s", d->lmtp ? "lmtp" : "smtp",
	    d->req.nexthop);
	if (!session_reuse(d))
		delivery_connect(d);
}

void
delivery_connect(struct delivery *d)
{
	struct dns_job *job;

	if (d->nh.unix_path) {
		try_next(d);
		return;
	}
	job = xcalloc(1, sizeof(*job));
	job->d = d;
	job->host = xstrdup(d->nh.host);
	job->mx = d->nh.mx;
	job->port = d->nh.port;
	worker_submit(smtpc.dns, dns_run, dns_done, job);
}
