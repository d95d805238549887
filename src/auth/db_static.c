/*
 * The static userdb ("static:uid=vmail gid=vmail home=/var/mail/%d/%n":
 * the same fields for every user, with variables expanded) and the
 * passwd userdb (getpwnam(3) and getpwent(3): system users, e.g. from
 * SSSD).
 */

#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/db.h"
#include "lib/xalloc.h"

/* Keep the static template. */
static int
static_init(const char *args, void **db_r, char **error_r)
{
	(void)error_r;
	*db_r = xstrdup(args);
	return 0;
}

/* Free the template. */
static void
static_deinit(void *db)
{
	free(db);
}

/* Every user exists, with the template's fields. */
static void
static_lookup(void *db, struct db_query *q)
{
	char *expanded = auth_var_expand(db, q->user, q->service);

	fields_parse(&q->fields, expanded);
	free(expanded);
	db_query_done(q, DB_OK);
}

/* Nothing to set up. */
static int
passwd_init(const char *args, void **db_r, char **error_r)
{
	(void)args;
	(void)error_r;
	*db_r = NULL;
	return 0;
}

/* Nothing to free. */
static void
passwd_deinit(void *db)
{
	(void)db;
}

/* Look the user up with getpwnam_r(3). */
static void
passwd_lookup(void *db, struct db_query *q)
{
	struct passwd pw, *res = NULL;
	char buf[4096], num[32];
	int ret;

	(void)db;
	ret = getpwnam_r(q->user, &pw, buf, sizeof(buf), &res);
	if (ret != 0 && ret != ENOENT && ret != ESRCH) {
		q->error = "getpwnam failed";
		db_query_done(q, DB_TEMPFAIL);
		return;
	}
	if (res == NULL) {
		db_query_done(q, DB_NOTFOUND);
		return;
	}
	snprintf(num, sizeof(num), "%ld", (long)pw.pw_uid);
	fields_set(&q->fields, "uid", num);
	snprintf(num, sizeof(num), "%ld", (long)pw.pw_gid);
	fields_set(&q->fields, "gid", num);
	fields_set(&q->fields, "home", pw.pw_dir);
	db_query_done(q, DB_OK);
}

/*
 * Every system user whose uid may own mail (first_valid_uid to
 * last_valid_uid), as Dovecot's passwd userdb iterates: root and the
 * system accounts are not mail users.
 */
static int
passwd_iterate(void *db, db_iterate_cb *each, void *ctx)
{
	struct passwd *pw;

	(void)db;
	setpwent();
	while ((errno = 0, pw = getpwent()) != NULL) {
		if (pw->pw_uid < auth_set.first_valid_uid ||
		    (auth_set.last_valid_uid != 0 &&
		    pw->pw_uid > auth_set.last_valid_uid))
			continue;
		each(pw->pw_name, ctx);
	}
	endpwent();
	return 0;
}

const struct userdb_driver userdb_static = {
	.name = "static",
	.init = static_init,
	.deinit = static_deinit,
	.lookup = static_lookup,
};

const struct userdb_driver userdb_passwd = {
	.name = "passwd",
	.blocking = false,
	.init = passwd_init,
	.deinit = passwd_deinit,
	.lookup = passwd_lookup,
	.iterate = passwd_iterate,
};
