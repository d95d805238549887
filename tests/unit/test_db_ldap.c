/*
 * The ldap passdb and userdb against a real slapd, driven by
 * tests/integration/test_authd_ldap.py; skipped (77) unless
 * DIRMAIL_TEST_LDAP_URI is set.
 *
 *	test_db_ldap -c CONF [-c CONF ...] LOOKUP ...
 *
 * Every CONF is opened as a passdb and as a userdb.  A LOOKUP is
 * "pN:USER:PASSWORD" (passdb with a password), "nN:USER" (passdb
 * without one) or "uN:USER" (userdb), N the index of a CONF.  All
 * lookups start at once; each answer is printed as it arrives:
 *
 *	INDEX RESULT MILLISECONDS [name=value ...]
 *
 * RESULT is ok, notfound, mismatch or tempfail.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "auth/auth.h"
#include "auth/db.h"
#include "auth/db_ldap.h"
#include "lib/xalloc.h"

#define MAX_CONFS	4

struct event_base *auth_base;

struct lookup {
	struct db_query q;	/* first: db_query_done() casts back */
	size_t index;
	char *spec;
	struct timespec start;
};

static size_t pending;

/* Milliseconds since START. */
static long
elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 +
	    (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* Print the answer to Q; the framework's role in authd. */
void
db_query_done(struct db_query *q, enum db_result result)
{
	static const char *const names[] = {
		[DB_OK] = "ok", [DB_NOTFOUND] = "notfound",
		[DB_MISMATCH] = "mismatch", [DB_TEMPFAIL] = "tempfail",
	};
	struct lookup *l = (struct lookup *)q;
	size_t i;

	printf("%zu %s %ld", l->index, names[result], elapsed_ms(&l->start));
	for (i = 0; i < q->fields.count; i++)
		printf(" %s=%s", q->fields.names[i], q->fields.values[i]);
	printf("\n");
	fflush(stdout);
	fields_clear(&q->fields);
	if (--pending == 0)
		event_base_loopbreak(auth_base);
}

/* Start the lookup L as its spec says, on the databases of each CONF. */
static int
start(struct lookup *l, void **pdbs, void **udbs, size_t nconfs)
{
	char *p = l->spec, kind = *p, *user, *password = NULL;
	size_t n = strtoul(p + 1, &p, 10);

	if (*p != ':' || n >= nconfs)
		return -1;
	user = p + 1;
	if (kind == 'p') {
		if ((p = strchr(user, ':')) == NULL)
			return -1;
		*p = '\0';
		password = p + 1;
	}
	l->q.user = user;
	l->q.password = password;
	l->q.service = "smtp";
	l->q.rip = "127.0.0.1";
	l->q.lip = "";
	clock_gettime(CLOCK_MONOTONIC, &l->start);
	if (kind == 'u')
		userdb_ldap.lookup(udbs[n], &l->q);
	else if (kind == 'p' || kind == 'n')
		passdb_ldap.verify(pdbs[n], &l->q);
	else
		return -1;
	return 0;
}

/* Open every configuration as both kinds of database. */
static int
open_dbs(char **confs, size_t nconfs, void **pdbs, void **udbs)
{
	char *error;
	size_t i;

	for (i = 0; i < nconfs; i++) {
		if (passdb_ldap.init(confs[i], &pdbs[i], &error) < 0 ||
		    userdb_ldap.init(confs[i], &udbs[i], &error) < 0) {
			fprintf(stderr, "init: %s\n", error);
			free(error);
			return -1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	char *confs[MAX_CONFS];
	void *pdbs[MAX_CONFS], *udbs[MAX_CONFS];
	struct lookup *lookups;
	size_t nconfs = 0, i, n;
	int c;

	if (getenv("DIRMAIL_TEST_LDAP_URI") == NULL)
		return 77;
	while ((c = getopt(argc, argv, "c:")) != -1) {
		if (c != 'c' || nconfs == MAX_CONFS)
			return 2;
		confs[nconfs++] = optarg;
	}
	auth_base = event_base_new();
	if (open_dbs(confs, nconfs, pdbs, udbs) < 0)
		return 1;
	n = (size_t)(argc - optind);
	lookups = xcalloc(n + 1, sizeof(*lookups));
	pending = n;
	for (i = 0; i < n; i++) {
		lookups[i].index = i;
		lookups[i].spec = xstrdup(argv[optind + i]);
		if (start(&lookups[i], pdbs, udbs, nconfs) < 0) {
			fprintf(stderr, "bad lookup %s\n", argv[optind + i]);
			return 2;
		}
	}
	if (pending > 0)
		event_base_dispatch(auth_base);
	for (i = 0; i < nconfs; i++) {
		passdb_ldap.deinit(pdbs[i]);
		userdb_ldap.deinit(udbs[i]);
	}
	for (i = 0; i < n; i++)
		free(lookups[i].spec);
	free(lookups);
	event_base_free(auth_base);
	return 0;
}
