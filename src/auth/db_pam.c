/*
 * The pam passdb ("pam:SERVICE [workers=N] [max_requests=N]"): every
 * check runs in the PAM worker pool (pam_worker.h), so a slow PAM module
 * never stalls the event loop.  PAM cannot tell an unknown user from a
 * wrong password: both are a mismatch.  It cannot look a user up
 * without a password either: such lookups find nobody.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/db.h"
#include "auth/pam_worker.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#define PAM_DEFAULT_SERVICE	"dirmail"
#define PAM_DEFAULT_WORKERS	8
#define PAM_DEFAULT_REQUESTS	100
/* Below the 9 s every reply must keep. */
#define PAM_TIMEOUT_SECS	8

struct db_pam {
	char *service;
	struct pam_pool *pool;
};

/* Parse "workers=N" or "max_requests=N" into *VALUE_R; -1 when bad. */
static int
pam_option(const char *word, const char *name, unsigned *value_r)
{
	size_t len = strlen(name);
	char *end;
	unsigned long v;

	if (strncmp(word, name, len) != 0 || word[len] != '=')
		return 0;
	v = strtoul(word + len + 1, &end, 10);
	if (*end != '\0' || v < 1 || v > 1000)
		return -1;
	*value_r = (unsigned)v;
	return 1;
}

/* Parse the arguments and start the pool. */
static int
pam_init(const char *args, void **db_r, char **error_r)
{
	struct db_pam *db = xcalloc(1, sizeof(*db));
	unsigned workers = PAM_DEFAULT_WORKERS, requests = PAM_DEFAULT_REQUESTS;
	char *copy = xstrdup(args), *p = copy, *word;
	const char *error;
	int ret = 0;

	while (ret == 0 && (word = strsep(&p, " \t")) != NULL) {
		if (*word == '\0')
			continue;
		if (strchr(word, '=') == NULL) {
			free(db->service);
			db->service = xstrdup(word);
		} else if (pam_option(word, "workers", &workers) <= 0 &&
		    pam_option(word, "max_requests", &requests) <= 0) {
			*error_r = xasprintf("passdb pam: bad option \"%s\"",
			    word);
			ret = -1;
		}
	}
	free(copy);
	if (db->service == NULL)
		db->service = xstrdup(PAM_DEFAULT_SERVICE);
	if (ret == 0 && pam_pool_create(auth_base, workers, requests,
	    PAM_TIMEOUT_SECS, &db->pool, &error) < 0) {
		*error_r = xasprintf("passdb pam: %s", error);
		ret = -1;
	}
	if (ret < 0) {
		free(db->service);
		free(db);
		return -1;
	}
	*db_r = db;
	return 0;
}

/* Stop the pool. */
static void
pam_deinit(void *vdb)
{
	struct db_pam *db = vdb;

	pam_pool_free(&db->pool);
	free(db->service);
	free(db);
}

/* The pool answered. */
static void
pam_checked(int outcome, const char *reason, void *ctx)
{
	struct db_query *q = ctx;

	switch (outcome) {
	case PAM_POOL_OK:
		db_query_done(q, DB_OK);
		break;
	case PAM_POOL_FAIL:
		log_debug("pam: user %s: %s", q->user, reason);
		db_query_done(q, DB_MISMATCH);
		break;
	default:
		log_warning("pam: user %s: %s", q->user, reason);
		q->error = "PAM temporary failure";
		db_query_done(q, DB_TEMPFAIL);
		break;
	}
}

/* Check q->password with PAM. */
static void
pam_verify(void *vdb, struct db_query *q)
{
	struct db_pam *db = vdb;

	if (q->password == NULL) {
		db_query_done(q, DB_NOTFOUND);
		return;
	}
	(void)pam_pool_check(db->pool, db->service, q->user, q->password,
	    q->rip, pam_checked, q);
}

const struct passdb_driver passdb_pam = {
	.name = "pam",
	.blocking = true,	/* runs in the worker pool */
	.init = pam_init,
	.deinit = pam_deinit,
	.verify = pam_verify,
};
