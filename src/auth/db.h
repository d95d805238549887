#ifndef DIRMAIL_AUTH_DB_H
#define DIRMAIL_AUTH_DB_H

/*
 * The passdb/userdb driver framework of authd.
 *
 * "passdb" and "userdb" are ordered lists of DRIVER:ARGS.  A lookup
 * tries each database in turn: "not found" goes on to the next one, any
 * other answer ends the lookup (a temporary failure is never read as
 * "not found").
 *
 * A driver is a const struct filled with designated initializers.  Its
 * lookup function starts a query and answers it with db_query_done(),
 * either before returning or later from the event loop (LDAP, PAM
 * workers): the framework never assumes either.  A driver whose work
 * blocks (PAM) sets .blocking and must run that work outside the event
 * loop.  Every query gets exactly one db_query_done() call; after it the
 * driver must not touch the query.  The framework bounds every query
 * with a timeout and reports a temporary failure when the driver is too
 * slow; a late db_query_done() is then discarded.
 */

#include <stdbool.h>

#include "auth/fields.h"

enum db_result {
	DB_OK,		/* found; passdb: the password matched */
	DB_NOTFOUND,	/* no such user here: try the next database */
	DB_MISMATCH,	/* passdb: the user exists, the password is wrong */
	DB_TEMPFAIL,	/* the backend could not answer */
};

/* One lookup, as a driver sees it. */
struct db_query {
	const char *user;	/* the normalised login name */
	const char *password;	/* passdb: the password to check; NULL for
				   a lookup without password (PASS) */
	const char *service;	/* "smtp", "imap", "doveadm", ... */
	const char *rip;	/* client address or "" */
	const char *lip;	/* local address or "" */
	struct auth_fields fields; /* the driver's answer: passdb extra
				   fields or userdb fields */
	const char *error;	/* DB_TEMPFAIL: a static reason for the log */
	void *driver_ctx;	/* free for the driver's use */
};

struct passdb_driver {
	const char *name;
	bool blocking;
	/* Parse ARGS; 0 and the database in *DB_R, or -1 with a message
	   in *ERROR_R (free it). */
	int (*init)(const char *args, void **db_r, char **error_r);
	void (*deinit)(void *db);
	/* Check Q->password for Q->user (or only look the user up when
	   it is NULL); answer with db_query_done(). */
	void (*verify)(void *db, struct db_query *q);
};

/* Called by a userdb driver's iterate() for every user. */
typedef void db_iterate_cb(const char *user, void *ctx);

struct userdb_driver {
	const char *name;
	bool blocking;
	int (*init)(const char *args, void **db_r, char **error_r);
	void (*deinit)(void *db);
	/* Look Q->user up; fill Q->fields (uid, gid, home, ...); answer
	   with db_query_done(). */
	void (*lookup)(void *db, struct db_query *q);
	/* Call EACH for every user; 0, or -1 when the list is
	   incomplete.  NULL: the driver cannot list users. */
	int (*iterate)(void *db, db_iterate_cb *each, void *ctx);
};

/* Answer query Q with RESULT (and Q->fields filled). */
void db_query_done(struct db_query *q, enum db_result result);

/*
 * Called once with the final answer.  BACKEND is the name of the driver
 * that answered; FIELDS is owned by the query (copy what you keep).
 */
typedef void db_callback(enum db_result result, const char *backend,
    const struct auth_fields *fields, const char *error, void *ctx);

/* What the requester knows of the login. */
struct db_info {
	const char *service;
	const char *rip;
	const char *lip;
	int timeout_ms;		/* answer DB_TEMPFAIL after this long */
};

struct db_lookup;

/*
 * Start a passdb lookup of USER with PASSWORD (NULL: without) through
 * the configured passdbs.  CB is always called later from the event
 * loop, never from inside this function, unless the lookup is aborted
 * first with db_lookup_abort().
 */
struct db_lookup *passdb_lookup(const char *user, const char *password,
    const struct db_info *info, db_callback *cb, void *ctx);

/* The same through the configured userdbs; userdb_override_fields and
   mail_uid/mail_gid are applied to the answer. */
struct db_lookup *userdb_lookup(const char *user, const struct db_info *info,
    db_callback *cb, void *ctx);

/* Stop a lookup whose requester went away: CB is never called.  NULLs
   *LOOKUP. */
void db_lookup_abort(struct db_lookup **lookup);

/* Call EACH for every user of every userdb that can list; 0, or -1 when
   one failed. */
int userdb_iterate(db_iterate_cb *each, void *ctx);

/* Parse the passdb and userdb lists.  0, or -1 with *ERROR_R (free). */
int db_init(char *const *passdbs, char *const *userdbs,
    const char *override_fields, const char *mail_uid, const char *mail_gid,
    char **error_r);

/* Free every database. */
void db_deinit(void);

/* The drivers, for the registry. */
extern const struct passdb_driver passdb_passwd_file;
extern const struct passdb_driver passdb_pam;
extern const struct userdb_driver userdb_passwd_file;
extern const struct userdb_driver userdb_static;
extern const struct userdb_driver userdb_passwd;

#endif
