/*
 * qmgr: what happens to one recipient after an attempt, and the notices
 * a message needs at the end of it.  The log lines follow Postfix's:
 *
 *	ID: to=<r>, orig_to=<o>, relay=R, delay=D, delays=a/b/c/d,
 *	    dsn=X.Y.Z, status=sent|deferred|bounced (text)
 *
 * A delivered recipient is marked done at once (after its forwarded copy
 * is queued); a bounced one only once its notice is queued, so a crash
 * in between sends the notice again rather than never.
 */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "queue/bounce.h"
#include "queue/qmgr.h"
#include "queue/queue.h"

/* Format a delay the way Postfix does: whole seconds from 10 seconds
   on, two significant digits below, hundredths below 0.1, 0 below. */
static void
delay_fmt(struct str *s, double v)
{
	if (v >= 10)
		str_appendf(s, "%.0f", v);
	else if (v >= 0.1)
		str_appendf(s, "%.2g", v);
	else if (v >= 0.005)
		str_appendf(s, "%.2f", v);
	else
		str_append_c(s, '0');
}

/* The address of an ORCPT value ("rfc822;addr" gives "addr"). */
static const char *
orcpt_addr(const char *orcpt)
{
	if (strncasecmp(orcpt, "rfc822;", 7) == 0)
		return orcpt + 7;
	return orcpt;
}

/* Log the result line of recipient I of MSG. */
static void
result_log(struct qmgr_msg *msg, unsigned i, const struct qmgr_job *job,
    const char *relay, const char *dsn, const char *status, const char *text)
{
	const struct queue_rcpt *r = &msg->env->rcpts[i];
	double now = qmgr_now(), start = job != NULL && job->started > 0 ?
	    job->started : now;
	double conn = job != NULL && job->connected > 0 ? job->connected :
	    start;
	struct str s = STR_INIT;

	str_appendf(&s, "%s: to=<%s>, ", msg->id, r->final);
	if (r->orcpt != NULL && strcmp(orcpt_addr(r->orcpt), r->final) != 0)
		str_appendf(&s, "orig_to=<%s>, ", orcpt_addr(r->orcpt));
	str_appendf(&s, "relay=%s, delay=", relay != NULL && *relay != '\0' ?
	    relay : "none");
	delay_fmt(&s, now - msg->env->arrival);
	str_append(&s, ", delays=");
	delay_fmt(&s, msg->activated - msg->env->arrival);
	str_append_c(&s, '/');
	delay_fmt(&s, start - msg->activated);
	str_append_c(&s, '/');
	delay_fmt(&s, conn - start);
	str_append_c(&s, '/');
	delay_fmt(&s, now - conn);
	str_appendf(&s, ", dsn=%s, status=%s (%s)", dsn, status, text);
	log_info("%s", str_c(&s));
	str_free(&s);
}

/* Does NOTIFY (NULL: not given) ask for WHAT?  Without NOTIFY, failures
   and delays are reported, successes not (RFC 3461). */
static bool
notify_has(const char *notify, const char *what)
{
	size_t n = strlen(what);
	const char *p;

	if (notify == NULL)
		return strcmp(what, "SUCCESS") != 0;
	for (p = notify; (p = strstr(p, what)) != NULL; p += n)
		if ((p == notify || p[-1] == ',') &&
		    (p[n] == '\0' || p[n] == ','))
			return true;
	return false;
}

void
qmgr_rcpt_done(struct qmgr_msg *msg, unsigned i)
{
	char *error;

	if (queue_rcpt_mark_done(msg->fd, &msg->env->rcpts[i], &error) < 0) {
		log_error("%s: mark recipient %s done: %s", msg->id,
		    msg->env->rcpts[i].final, error);
		free(error);
	}
	msg->r[i].state = QR_DONE;
	msg->dirty = true;
}

/* Keep the result of recipient I for the defer log or the bounce. */
static void
result_keep(struct qmgr_msg *msg, unsigned i, enum qmgr_rcpt_state state,
    const char *dsn, const char *relay, const char *text)
{
	struct qmgr_rcpt *r = &msg->r[i];

	free(r->dsn);
	free(r->relay);
	free(r->text);
	r->dsn = xstrdup(dsn);
	r->relay = xstrdup(relay);
	r->text = xstrdup(text);
	r->when = qmgr_now();
	r->state = state;
}

/*
 * Queue a copy of MSG for the N_FWD addresses FWD that recipient I was
 * forwarded to.  The new queue id in ID, or -1 with *ERROR_R.
 */
static int
forward(struct qmgr_msg *msg, unsigned i, char *const *fwd, size_t n_fwd,
    char id[QUEUE_ID_MAX + 1], char **error_r)
{
	const struct queue_rcpt *r = &msg->env->rcpts[i];
	char **orcpts = xcalloc(n_fwd + 1, sizeof(*orcpts));
	size_t k;
	int ret;

	for (k = 0; k < n_fwd; k++)
		orcpts[k] = r->orcpt;
	ret = bounce_forward(qmgr.queue_dir, msg->env, msg->fd, r->final,
	    fwd, orcpts, n_fwd, id, error_r);
	free(orcpts);
	return ret;
}

/* Class 2: forward if asked, log, mark done. */
static void
result_sent(struct qmgr_msg *msg, unsigned i, const struct qmgr_job *job,
    const char *dsn, const char *relay, const char *text, char *const *fwd,
    size_t n_fwd)
{
	char id[QUEUE_ID_MAX + 1], *error, *why;

	if (n_fwd > 0) {
		if (forward(msg, i, fwd, n_fwd, id, &error) < 0) {
			why = xasprintf("cannot queue the forwarded copy: %s",
			    error);
			free(error);
			result_log(msg, i, job, relay, "4.3.0", "deferred",
			    why);
			result_keep(msg, i, QR_DEFERRED, "4.3.0", relay, why);
			free(why);
			return;
		}
		why = xasprintf("forwarded as %s", id);
		result_log(msg, i, job, relay, dsn, "sent", why);
		free(why);
	} else
		result_log(msg, i, job, relay, dsn, "sent", text);
	msg->r[i].notify_success = notify_has(msg->env->rcpts[i].notify,
	    "SUCCESS");
	result_keep(msg, i, QR_DONE, dsn, relay, text);
	qmgr_rcpt_done(msg, i);
}

void
qmgr_rcpt_result(struct qmgr_msg *msg, unsigned i,
    const struct qmgr_job *job, int class, const char *dsn,
    const char *relay, const char *text, char *const *fwd, size_t n_fwd)
{
	if (i >= msg->env->n_rcpts || msg->r[i].state == QR_DONE)
		return;
	switch (class) {
	case 2:
		result_sent(msg, i, job, dsn, relay, text, fwd, n_fwd);
		break;
	case 5:
		result_log(msg, i, job, relay, dsn, "bounced", text);
		result_keep(msg, i, QR_FAILED, dsn, relay, text);
		break;
	default:
		result_log(msg, i, job, relay, dsn, "deferred", text);
		result_keep(msg, i, QR_DEFERRED, dsn, relay, text);
		break;
	}
}

/* The recipients of MSG in STATE whose NOTIFY asks for WHAT, as notice
   entries in *R_R; their number. */
static size_t
notice_rcpts(struct qmgr_msg *msg, enum qmgr_rcpt_state state,
    const char *what, struct bounce_rcpt **r_r)
{
	struct bounce_rcpt *r = xcalloc(msg->env->n_rcpts, sizeof(*r));
	size_t i, n = 0;

	for (i = 0; i < msg->env->n_rcpts; i++) {
		if (msg->r[i].state != state ||
		    !notify_has(msg->env->rcpts[i].notify, what) ||
		    (state == QR_DONE && !msg->r[i].notify_success))
			continue;
		r[n].final = msg->env->rcpts[i].final;
		r[n].orcpt = msg->env->rcpts[i].orcpt;
		r[n].dsn = msg->r[i].dsn;
		r[n].relay = msg->r[i].relay;
		r[n].text = msg->r[i].text;
		r[n].when = msg->r[i].when;
		n++;
	}
	*r_r = r;
	return n;
}

/* True when SENDER is the double-bounce sender (bare or qualified). */
static bool
is_double_bounce(const char *sender)
{
	size_t n = strlen(qmgr.double_bounce_sender);

	return strncasecmp(sender, qmgr.double_bounce_sender, n) == 0 &&
	    (sender[n] == '\0' || (sender[n] == '@' &&
	    strcasecmp(sender + n + 1, qmgr.myorigin) == 0));
}

/*
 * Send a notice of KIND about the N recipients R of MSG: to the sender,
 * or for a message from <> to bounce_notice_recipient.  WHAT names it in
 * the log.  0 when sent or when nobody may get it, -1 on failure.
 */
static int
notice_send(struct qmgr_msg *msg, enum bounce_kind kind,
    const struct bounce_rcpt *r, size_t n, const char *what)
{
	struct bounce_params p;
	char id[QUEUE_ID_MAX + 1], *error, *to = NULL;
	const char *sender = msg->env->sender;
	int ret;

	memset(&p, 0, sizeof(p));
	p.queue_dir = qmgr.queue_dir;
	p.myhostname = qmgr.myhostname;
	p.mail_name = qmgr.mail_name;
	p.size_limit = qmgr.bounce_size_limit;
	if (is_double_bounce(sender)) {
		log_info("%s: undeliverable postmaster notification "
		    "discarded", msg->id);
		return 0;
	}
	if (*sender == '\0') {
		if (kind != BOUNCE_FAILED)
			return 0;
		p.from = qmgr.double_bounce_sender;
		to = strchr(qmgr.bounce_notice_recipient, '@') != NULL ?
		    xstrdup(qmgr.bounce_notice_recipient) : xasprintf("%s@%s",
		    qmgr.bounce_notice_recipient, qmgr.myorigin);
		what = "postmaster non-delivery notification";
	} else
		p.from = "";
	p.to = to != NULL ? to : sender;
	ret = bounce_queue(&p, msg->env, msg->fd, kind, r, n, id, &error);
	if (ret < 0) {
		log_warning("%s: cannot queue the %s: %s", msg->id, what,
		    error);
		free(error);
	} else
		log_info("%s: %s: %s", msg->id, what, id);
	free(to);
	return ret;
}

/* Deferred recipients of a message older than its lifetime bounce. */
static void
notices_expire(struct qmgr_msg *msg)
{
	long long life = *msg->env->sender == '\0' ? qmgr.bounce_lifetime :
	    qmgr.max_lifetime;
	char dsn[16];
	size_t i;
	bool any = false;

	if (qmgr_now() - msg->env->arrival <= (double)life)
		return;
	for (i = 0; i < msg->env->n_rcpts; i++) {
		if (msg->r[i].state != QR_DEFERRED)
			continue;
		qmgr_expired_dsn(msg->r[i].dsn, dsn, sizeof(dsn));
		free(msg->r[i].dsn);
		msg->r[i].dsn = xstrdup(dsn);
		msg->r[i].state = QR_FAILED;
		any = true;
	}
	if (any)
		log_info("%s: from=<%s>, status=expired, returned to sender",
		    msg->id, msg->env->sender);
}

/* Bounce the failed recipients of MSG, then mark them done. */
static void
notices_failed(struct qmgr_msg *msg)
{
	struct bounce_rcpt *r;
	size_t i, n = notice_rcpts(msg, QR_FAILED, "FAILURE", &r);
	bool failed = n > 0 && notice_send(msg, BOUNCE_FAILED, r, n,
	    "sender non-delivery notification") < 0;

	free(r);
	for (i = 0; i < msg->env->n_rcpts; i++) {
		if (msg->r[i].state != QR_FAILED)
			continue;
		if (failed) {
			/* Try again later rather than lose the notice. */
			msg->r[i].state = QR_DEFERRED;
			continue;
		}
		qmgr_rcpt_done(msg, (unsigned)i);
	}
}

/* One delay warning, when the message has waited delay_warning_time. */
static void
notices_delayed(struct qmgr_msg *msg)
{
	struct bounce_rcpt *r;
	size_t n;

	if (qmgr.delay_warning <= 0 || msg->warned ||
	    qmgr_now() - msg->env->arrival < (double)qmgr.delay_warning)
		return;
	if ((n = notice_rcpts(msg, QR_DEFERRED, "DELAY", &r)) > 0 &&
	    *msg->env->sender != '\0' &&
	    notice_send(msg, BOUNCE_DELAYED, r, n,
	    "sender delay notification") == 0)
		msg->warned = true;
	free(r);
}

void
qmgr_notices(struct qmgr_msg *msg)
{
	struct bounce_rcpt *r;
	size_t n;

	notices_expire(msg);
	notices_failed(msg);
	notices_delayed(msg);
	n = notice_rcpts(msg, QR_DONE, "SUCCESS", &r);
	if (n > 0 && *msg->env->sender != '\0')
		(void)notice_send(msg, BOUNCE_DELIVERED, r, n,
		    "sender delivery status notification");
	free(r);
}
