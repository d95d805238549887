#ifndef DIRMAIL_AUTH_PAM_WORKER_H
#define DIRMAIL_AUTH_PAM_WORKER_H

/*
 * A pool of PAM worker processes with an asynchronous interface, so that
 * authd's event loop never calls PAM itself.
 *
 * pam_pool_create() forks a small helper process that keeps the caller's
 * privileges at that moment (root in production, so that pam_unix can read
 * /etc/shadow).  The helper forks worker processes on demand, at most
 * MAX_WORKERS at once, hands each one request at a time, recycles a worker
 * after MAX_REQUESTS requests and kills one that takes longer than
 * TIMEOUT_SECS.  The helper reaps its own workers: the caller sees only the
 * helper's pid and never one of the workers'.  The helper exits as soon as
 * the caller's end of its socket closes (pam_pool_free() or the caller's
 * exit).
 *
 * Outcomes never come from inside pam_pool_check(): every callback runs from
 * the event loop, exactly once per request unless it was cancelled.
 */

#include <sys/types.h>

#include <event2/event.h>

enum pam_pool_outcome {
	PAM_POOL_OK,		/* authenticated, account valid */
	PAM_POOL_FAIL,		/* wrong password, unknown user, account
				   expired or locked */
	PAM_POOL_TEMPFAIL,	/* PAM_AUTHINFO_UNAVAIL, a PAM error, a worker
				   that died or timed out, pool overloaded */
};

/* At most this many requests wait for an answer; beyond: TEMPFAIL. */
#define PAM_POOL_MAX_INFLIGHT	1000

struct pam_pool;
struct pam_request;

/*
 * Called once per request with its outcome and a short reason for the
 * log ("Authentication failure", "worker timed out", ...), never holding a
 * password.  REASON is valid only during the call.
 */
typedef void pam_pool_callback(int outcome, const char *reason, void *ctx);

/*
 * Create a pool on BASE and fork its helper.  Call it while still
 * privileged; the caller may drop privileges afterwards.  MAX_WORKERS and
 * MAX_REQUESTS are at least 1; TIMEOUT_SECS 0 means no limit.  Returns 0
 * with *POOL_R set, or -1 with *ERROR_R (static text) set.
 */
int pam_pool_create(struct event_base *base, unsigned max_workers,
    unsigned max_requests, unsigned timeout_secs, struct pam_pool **pool_r,
    const char **error_r);

/*
 * Start one check: pam_start(SERVICE, USER), PAM_RHOST = RIP (NULL or ""
 * for none), a conversation answering echo-off prompts with PASSWORD and
 * echo-on prompts with USER, pam_authenticate(), then pam_acct_mgmt().
 * The strings are copied (the password copy is wiped once sent).  Returns
 * a handle valid until the callback has run or pam_pool_cancel(); never
 * NULL.  When the helper has died, the next check forks a new one with the
 * caller's privileges of that moment.
 */
struct pam_request *pam_pool_check(struct pam_pool *pool, const char *service,
    const char *user, const char *password, const char *rip,
    pam_pool_callback *cb, void *ctx);

/* Abandon REQ: its callback never fires and REQ is freed. */
void pam_pool_cancel(struct pam_request *req);

/* Return the helper's pid, or -1 when it is not running. */
pid_t pam_pool_helper_pid(const struct pam_pool *pool);

/* Return the number of requests waiting for an answer. */
unsigned pam_pool_inflight(const struct pam_pool *pool);

/*
 * Free the pool: pending callbacks never fire, the helper is told to exit
 * (it kills its workers) and is reaped.  NULLs *POOL; NULL is allowed.
 * May be called from inside a callback.
 */
void pam_pool_free(struct pam_pool **pool);

#endif
