/*
 * Restriction checks and table lookups off the event loop.  They may wait
 * on a directory (ldap: tables) or the DNS, so they run in one lookup
 * thread;
 * the session waits (reading no input) and goes on in the loop once the
 * answer is there.  Every table is used from that thread only, one lookup
 * at a time, so the table drivers need not be thread-safe.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "maps/maps.h"
#include "smtpd/smtpd.h"

/* The lookup thread; NULL when no open table can block (only files
   and local databases): then lookups run in the loop, sparing a thread
   hop per command. */
static struct worker *lookup_worker;

/* Start the lookup thread when a table or a DNS check may wait on a
   server. */
void
lookup_init(void)
{
	if (map_blocking_open() || smtpd_checks_use_dns(smtpd.checks))
		lookup_worker = worker_new(smtpd.base, 1);
}

/* Stop it (lookups in flight finish first). */
void
lookup_deinit(void)
{
	worker_free(&lookup_worker);
}

/* A copy of S, or NULL. */
static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* Free L and what it holds. */
static void
lookup_free(struct lookup *l)
{
	free(l->client_name);
	free(l->client_addr);
	free(l->helo);
	free(l->sender);
	free(l->rcpt);
	free(l->sasl_username);
	check_reply_clear(&l->reply);
	rcpt_result_clear(&l->result);
	free(l);
}

/* Recipients of the local pickup socket: no restrictions, and unknown
   users bounce later rather than fail the sendmail command. */
static void
lookup_pickup_rcpt(struct lookup *l)
{
	if (resolve_recipient(smtpd.resolve, l->rcpt, &l->result) ==
	    RCPT_TEMPFAIL) {
		l->refused = 1;
		return;
	}
	if (l->result.status != RCPT_OK) {
		strv_free(&l->result.final);
		l->result.final = xcalloc(2, sizeof(char *));
		l->result.final[0] = xstrdup(l->rcpt);
	}
}

/* In the lookup thread: ask the restriction engine or the tables. */
static void
lookup_run(void *arg)
{
	struct lookup *l = arg;
	struct smtpd_checks *c = smtpd.checks;

	switch (l->kind) {
	case LK_CONNECT:
		l->trusted = l->pickup ||
		    smtpd_check_mynetworks(c, l->client_addr);
		l->exempt = smtpd_check_rate_exempt(c, l->client_addr);
		if (!l->pickup)
			l->refused = smtpd_check_connect(c, &l->st, &l->reply);
		break;
	case LK_HELO:
		l->refused = smtpd_check_helo(c, &l->st, &l->reply);
		break;
	case LK_MAIL:
		if (!l->pickup)
			l->refused = smtpd_check_mail(c, &l->st, &l->reply);
		break;
	case LK_RCPT:
		if (l->pickup)
			lookup_pickup_rcpt(l);
		else
			l->refused = smtpd_check_rcpt(c, &l->st, &l->result,
			    &l->reply);
		break;
	case LK_DATA:
		if (!l->pickup)
			l->refused = smtpd_check_data(c, &l->st, &l->reply);
		break;
	case LK_VRFY:
		(void)resolve_recipient(smtpd.resolve, l->rcpt, &l->result);
		break;
	}
}

/* Back in the loop: hand the answer to the session, if it still is. */
static void
lookup_done(void *arg)
{
	struct lookup *l = arg;
	struct session *s = l->s;

	if (s != NULL) {
		unsigned errors = s->errors;

		s->lookup = NULL;
		s->state = S_CMD;
		l->then(s, l);
		if (l->kind != LK_CONNECT && s->errors == errors)
			s->count_ok[l->count]++;
		if (s->state == S_CMD || s->state == S_DATA ||
		    s->state == S_BDAT)
			session_resume(s, s->state);
	}
	lookup_free(l);
}

/* Ask KIND about S (RCPT: the address RCPT), then THEN(S, L). */
void
lookup_start(struct session *s, enum lookup_kind kind, const char *rcpt,
    void (*then)(struct session *s, struct lookup *l))
{
	struct lookup *l = xcalloc(1, sizeof(*l));

	l->s = s;
	l->kind = kind;
	l->then = then;
	l->count = s->cmd_count;
	l->pickup = s->port == PORT_PICKUP;
	l->client_name = xstrdup(s->client_name);
	l->client_addr = xstrdup(s->client_addr);
	l->helo = dup_or_null(s->helo);
	l->sender = s->has_mail ? dup_or_null(s->sender) : NULL;
	l->rcpt = dup_or_null(rcpt);
	l->sasl_username = dup_or_null(s->sasl_username);
	l->st.client_name = l->client_name;
	l->st.client_addr = l->client_addr;
	l->st.helo = l->helo;
	l->st.sender = l->sender;
	l->st.recipient = l->rcpt;
	l->st.sasl_username = l->sasl_username;
	l->st.unauth_pipelining = s->unauth_pipelining;
	if (lookup_worker == NULL) {
		/* Nothing can block: answer at once. */
		lookup_run(l);
		l->then(s, l);
		if (kind == LK_CONNECT && s->state == S_CMD)
			session_resume(s, S_CMD);
		lookup_free(l);
		return;
	}
	s->lookup = l;
	session_pause(s);
	worker_submit(lookup_worker, lookup_run, lookup_done, l);
}

/* S goes away: its lookup's answer is dropped. */
void
lookup_forget(struct session *s)
{
	if (s->lookup != NULL) {
		s->lookup->s = NULL;
		s->lookup = NULL;
	}
}
