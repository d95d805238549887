#ifndef DIRMAIL_DELIVERY_LOCAL_H
#define DIRMAIL_DELIVERY_LOCAL_H

/*
 * The local delivery agent's parts: local.c serves private/local and
 * runs one thread per connection; local_virtual.c delivers the virtual
 * transport (virtual_mailbox_maps, userdb, Maildir); local_user.c the
 * local transport (alias_maps, system users, ~/.forward, mbox or
 * Maildir); local_deliver.c writes into one destination as its owner.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "delivery/local_msg.h"

struct cfg;
struct maplist;

/* The deepest nesting of :include: files. */
#define LOCAL_INCLUDE_DEPTH	10

struct local_settings {
	const char *queue_dir;
	const char *myorigin;
	const char *mail_location;
	const char *default_realm;	/* %d of logins without a domain */
	const char *home_mailbox;
	const char *spool_dir;
	const char *delimiter;		/* recipient_delimiter */
	char *userdb_socket;		/* first unix: auth_userdb_listen */
	char *maildir_host;		/* escaped myhostname */
	bool have_mail_uid, have_mail_gid;
	uid_t mail_uid;
	gid_t mail_gid;
	unsigned long long first_valid_uid, last_valid_uid;
	char *const *allow_commands, *const *allow_files;
	bool fcntl_lock, dotlock;
	uint64_t size_limit;		/* mailbox_size_limit */
	const char *default_privs;	/* who runs commands and files of
					   root-owned sources */
	long long command_time_limit;	/* seconds */
	struct maplist *vmailbox_maps;
};

extern struct local_settings local_set;

/* The outcome of one recipient (or of one destination of it). */
struct local_result {
	int class;		/* 0 (nothing yet), 2, 4 or 5 */
	char dsn[16];
	char *text;
	char **forward;		/* addresses for F lines, NULL-terminated */
	size_t n_forward;
};

/* One recipient of a request. */
struct local_job {
	const char *queue_id;
	const char *sender;
	const char *rcpt;	/* the final recipient */
	const char *relay;	/* "local" or "virtual" */
	const struct local_msg *msg;
};

/* Set R (a fresh result) to CLASS, DSN and the formatted text. */
void local_result_set(struct local_result *r, int class, const char *dsn,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Keep the worse of *R and SRC in *R (4 over 5 over 2); SRC is taken. */
void local_result_merge(struct local_result *r, struct local_result *src);

/* Free what R holds. */
void local_result_clear(struct local_result *r);

/*
 * Look KEY up in LIST (serialised: tables are not shared between
 * threads).  ADDR: with Postfix's address rules (user@domain, @domain).
 * MAP_FOUND with *VALUE_R, MAP_NOTFOUND, or MAP_ERROR with *ERROR_R
 * (allocated).
 */
int local_lookup(struct maplist *list, const char *key, bool addr,
    char **value_r, char **error_r);

/*
 * ADDR (an address or a local part) without its recipient_delimiter
 * extension ("bob+box@x" -> "bob@x"), allocated; NULL when it has none.
 */
char *local_strip_extension(const char *addr);

/* Deliveries as UID:GID (never 0); each sets R and logs. */
void local_to_maildir(const struct local_job *job, const char *dir,
    uid_t uid, gid_t gid, struct local_result *r);
void local_to_mbox(const struct local_job *job, const char *path,
    bool spool, uid_t uid, gid_t gid, struct local_result *r);
void local_to_file(const struct local_job *job, const char *path,
    uid_t uid, gid_t gid, struct local_result *r);
void local_to_command(const struct local_job *job, const char *command,
    uid_t uid, gid_t gid, const char *home, struct local_result *r);

/*
 * Open each table of alias_maps (SPECS) on its own, so that a match
 * tells which file's owner runs its commands.  0, or -1 with *ERROR_R.
 */
int local_alias_init(char *const *specs, char **error_r);
void local_alias_deinit(void);

/* The transports. */
void local_deliver_virtual(const struct local_job *job,
    struct local_result *r);
void local_deliver_user(const struct local_job *job, struct local_result *r);

#endif
