/* The passdb/userdb lists: parsing, lookups through the chain, timeouts. */

#include "config.h"

#include <pwd.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "auth/auth.h"
#include "auth/cache.h"
#include "auth/db.h"
#include "auth/db_ldap.h"
#include "lib/log.h"
#include "lib/xalloc.h"

struct db_entry {
	const struct passdb_driver *passdb;	/* one of the two is set */
	const struct userdb_driver *userdb;
	void *db;
};

struct db_lookup {
	struct db_query q;
	const struct db_entry *list;
	size_t count, index;
	db_callback *cb;
	void *ctx;
	struct event *timer;
	bool driver_busy;	/* the driver still owes db_query_done() */
	bool finished;		/* the requester has its answer or left */
	enum db_result result;
	const char *cached;	/* the backend of a cached answer, or NULL */
	char *user, *password, *service, *rip, *lip;
};

static const struct passdb_driver *const passdb_drivers[] = {
	&passdb_passwd_file, &passdb_ldap, &passdb_pam,
};
static const struct userdb_driver *const userdb_drivers[] = {
	&userdb_passwd_file, &userdb_static, &userdb_passwd, &userdb_ldap,
};

/* Every lookup through a driver that is not built fails temporarily. */
static void
unavailable_query(void *db, struct db_query *q)
{
	(void)db;
	q->error = "driver not available in this build";
	db_query_done(q, DB_TEMPFAIL);
}

/* Nothing to set up. */
static int
unavailable_init(const char *args, void **db_r, char **error_r)
{
	(void)args, (void)error_r;
	*db_r = NULL;
	return 0;
}

/* Nothing to free. */
static void
unavailable_deinit(void *db)
{
	(void)db;
}

static const struct passdb_driver passdb_unavailable = {
	.name = "unavailable",
	.init = unavailable_init,
	.deinit = unavailable_deinit,
	.verify = unavailable_query,
};
static const struct userdb_driver userdb_unavailable = {
	.name = "unavailable",
	.init = unavailable_init,
	.deinit = unavailable_deinit,
	.lookup = unavailable_query,
};

static struct db_entry *passdbs, *userdbs;
static size_t n_passdbs, n_userdbs;
static char *override_fields, *default_uid, *default_gid;

static void userdb_apply_defaults(struct db_lookup *);

/* Free L once neither the driver nor the requester needs it. */
static void
lookup_release(struct db_lookup *l)
{
	if (l->driver_busy || !l->finished)
		return;
	event_free(l->timer);
	fields_clear(&l->q.fields);
	if (l->password != NULL) {
		explicit_bzero(l->password, strlen(l->password));
		free(l->password);
	}
	free(l->user);
	free(l->service);
	free(l->rip);
	free(l->lip);
	free(l);
}

/* Remember a fresh answer in the cache. */
static void
lookup_cache_put(const struct db_lookup *l, enum db_result result,
    const char *backend)
{
	if (l->cached != NULL)
		return;
	if (l->list == userdbs)
		auth_cache_user_put(l->user, result, backend, &l->q.fields);
	else
		auth_cache_pass_put(l->user, l->password, result, backend,
		    &l->q.fields);
}

/* Hand the answer to the requester. */
static void
lookup_deliver(struct db_lookup *l, enum db_result result)
{
	const char *backend = l->cached != NULL ? l->cached :
	    l->index < l->count ? (l->list[l->index].passdb != NULL ?
	    l->list[l->index].passdb->name :
	    l->list[l->index].userdb->name) : "none";

	evtimer_del(l->timer);
	lookup_cache_put(l, result, backend);
	l->finished = true;
	l->cb(result, backend, &l->q.fields, l->q.error, l->ctx);
	lookup_release(l);
}

/* Run the database at l->index. */
static void
lookup_run(struct db_lookup *l)
{
	const struct db_entry *e = &l->list[l->index];

	fields_clear(&l->q.fields);
	l->q.error = NULL;
	l->driver_busy = true;
	if (e->passdb != NULL)
		e->passdb->verify(e->db, &l->q);
	else
		e->userdb->lookup(e->db, &l->q);
}

/* From the event loop: go on with the answer the driver gave. */
static void
lookup_step(evutil_socket_t fd, short what, void *arg)
{
	struct db_lookup *l = arg;

	(void)fd;
	if (what & EV_TIMEOUT && l->driver_busy) {
		l->q.error = "lookup timed out";
		lookup_deliver(l, DB_TEMPFAIL);
		return;
	}
	if (l->finished) {
		lookup_release(l);
		return;
	}
	if (l->cached != NULL) {
		lookup_deliver(l, l->result);
		return;
	}
	if (l->result == DB_NOTFOUND && l->index + 1 < l->count) {
		l->index++;
		lookup_run(l);
		return;
	}
	if (l->result == DB_OK && l->list == userdbs)
		userdb_apply_defaults(l);
	lookup_deliver(l, l->result);
}

/* A driver answered Q. */
void
db_query_done(struct db_query *q, enum db_result result)
{
	struct db_lookup *l = (struct db_lookup *)q;

	l->driver_busy = false;
	l->result = result;
	/* Never call back from inside the driver. */
	event_active(l->timer, EV_READ, 0);
}

/* Replace a user or group name in field NAME of F by its number. */
static void
field_to_id(struct auth_fields *f, const char *name, bool is_user)
{
	const char *v = fields_get(f, name);
	struct passwd *pw;
	struct group *gr;
	char num[32];

	if (v == NULL || *v == '\0' || strspn(v, "0123456789") == strlen(v))
		return;
	if (is_user && (pw = getpwnam(v)) != NULL)
		snprintf(num, sizeof(num), "%ld", (long)pw->pw_uid);
	else if (!is_user && (gr = getgrnam(v)) != NULL)
		snprintf(num, sizeof(num), "%ld", (long)gr->gr_gid);
	else
		return;
	fields_set(f, name, num);
}

/* mail_uid/mail_gid when missing, userdb_override_fields last. */
static void
userdb_apply_defaults(struct db_lookup *l)
{
	struct auth_fields *f = &l->q.fields;
	char *expanded;

	if (fields_get(f, "uid") == NULL && *default_uid != '\0')
		fields_set(f, "uid", default_uid);
	if (fields_get(f, "gid") == NULL && *default_gid != '\0')
		fields_set(f, "gid", default_gid);
	if (*override_fields != '\0') {
		expanded = auth_var_expand(override_fields, l->user,
		    l->service);
		fields_parse(f, expanded);
		free(expanded);
	}
	field_to_id(f, "uid", true);
	field_to_id(f, "gid", false);
}

/* Answer L from the cache when it can: true when it did. */
static bool
lookup_cache_get(struct db_lookup *l)
{
	if (l->list == userdbs)
		return auth_cache_user_get(l->user, &l->result, &l->cached,
		    &l->q.fields) == 1;
	return auth_cache_pass_get(l->user, l->password, &l->result,
	    &l->cached, &l->q.fields) == 1;
}

/* Start a lookup of USER through LIST. */
static struct db_lookup *
lookup_new(const struct db_entry *list, size_t count, const char *user,
    const char *password, const struct db_info *info, db_callback *cb,
    void *ctx)
{
	struct db_lookup *l = xcalloc(1, sizeof(*l));
	struct timeval tv;
	int ms = info->timeout_ms > 0 ? info->timeout_ms : 1;

	l->user = xstrdup(user);
	l->password = xstrdup(password);
	l->service = xstrdup(info->service != NULL ? info->service : "");
	l->rip = xstrdup(info->rip != NULL ? info->rip : "");
	l->lip = xstrdup(info->lip != NULL ? info->lip : "");
	l->q.user = l->user;
	l->q.password = l->password;
	l->q.service = l->service;
	l->q.rip = l->rip;
	l->q.lip = l->lip;
	l->list = list;
	l->count = count;
	l->cb = cb;
	l->ctx = ctx;
	l->timer = event_new(auth_base, -1, 0, lookup_step, l);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(l->timer, &tv);
	if (lookup_cache_get(l)) {
		event_active(l->timer, EV_READ, 0);
	} else if (count == 0) {
		l->result = DB_NOTFOUND;
		event_active(l->timer, EV_READ, 0);
	} else
		lookup_run(l);
	return l;
}

/* Start a passdb lookup. */
struct db_lookup *
passdb_lookup(const char *user, const char *password,
    const struct db_info *info, db_callback *cb, void *ctx)
{
	return lookup_new(passdbs, n_passdbs, user, password, info, cb, ctx);
}

/* Start a userdb lookup. */
struct db_lookup *
userdb_lookup(const char *user, const struct db_info *info, db_callback *cb,
    void *ctx)
{
	return lookup_new(userdbs, n_userdbs, user, NULL, info, cb, ctx);
}

/* The requester left. */
void
db_lookup_abort(struct db_lookup **lp)
{
	struct db_lookup *l = *lp;

	if (l == NULL)
		return;
	*lp = NULL;
	l->finished = true;
	lookup_release(l);
}

/* List the users of every userdb that can. */
int
userdb_iterate(db_iterate_cb *each, void *ctx)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < n_userdbs; i++) {
		if (userdbs[i].userdb->iterate == NULL)
			continue;
		if (userdbs[i].userdb->iterate(userdbs[i].db, each, ctx) < 0)
			ret = -1;
	}
	return ret;
}

/* Parse one "driver:args" SPEC of a passdb (IS_PASSDB) or userdb list. */
static int
db_parse(const char *spec, bool is_passdb, struct db_entry *e,
    char **error_r)
{
	size_t len = strcspn(spec, ":"), i;
	const char *args = spec[len] == ':' ? spec + len + 1 : "";

	memset(e, 0, sizeof(*e));
	if (is_passdb) {
		for (i = 0; i < sizeof(passdb_drivers) /
		    sizeof(passdb_drivers[0]); i++)
			if (strncmp(passdb_drivers[i]->name, spec, len) == 0 &&
			    passdb_drivers[i]->name[len] == '\0')
				e->passdb = passdb_drivers[i];
	} else {
		for (i = 0; i < sizeof(userdb_drivers) /
		    sizeof(userdb_drivers[0]); i++)
			if (strncmp(userdb_drivers[i]->name, spec, len) == 0 &&
			    userdb_drivers[i]->name[len] == '\0')
				e->userdb = userdb_drivers[i];
	}
	if (e->passdb == NULL && e->userdb == NULL) {
		/* Known to dirmail but not built yet (ldap, pam) or
		   mistyped: every lookup through it fails temporarily. */
		log_error("%s: driver \"%.*s\" is not available: its "
		    "lookups fail temporarily", is_passdb ? "passdb" :
		    "userdb", (int)len, spec);
		if (is_passdb)
			e->passdb = &passdb_unavailable;
		else
			e->userdb = &userdb_unavailable;
	}
	return e->passdb != NULL ? e->passdb->init(args, &e->db, error_r) :
	    e->userdb->init(args, &e->db, error_r);
}

/* Parse a whole list. */
static int
db_parse_list(char *const *specs, bool is_passdb, struct db_entry **list_r,
    size_t *n_r, char **error_r)
{
	size_t n = strv_len(specs), i;

	*list_r = xcalloc(n + 1, sizeof(**list_r));
	for (i = 0; i < n; i++) {
		if (db_parse(specs[i], is_passdb, &(*list_r)[i], error_r) < 0)
			return -1;
		*n_r = i + 1;
	}
	return 0;
}

/* Set up the databases. */
int
db_init(char *const *passdb_specs, char *const *userdb_specs,
    const char *override, const char *mail_uid, const char *mail_gid,
    char **error_r)
{
	override_fields = xstrdup(override);
	default_uid = xstrdup(mail_uid);
	default_gid = xstrdup(mail_gid);
	if (db_parse_list(passdb_specs, true, &passdbs, &n_passdbs,
	    error_r) < 0)
		return -1;
	return db_parse_list(userdb_specs, false, &userdbs, &n_userdbs,
	    error_r);
}

/* Free the databases. */
void
db_deinit(void)
{
	size_t i;

	for (i = 0; i < n_passdbs; i++)
		passdbs[i].passdb->deinit(passdbs[i].db);
	for (i = 0; i < n_userdbs; i++)
		userdbs[i].userdb->deinit(userdbs[i].db);
	auth_cache_deinit();
	free(passdbs);
	free(userdbs);
	free(override_fields);
	free(default_uid);
	free(default_gid);
	passdbs = userdbs = NULL;
	n_passdbs = n_userdbs = 0;
}
