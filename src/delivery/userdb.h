#ifndef DIRMAIL_DELIVERY_USERDB_H
#define DIRMAIL_DELIVERY_USERDB_H

/*
 * Mailbox owners from authd's userdb, over the auth-userdb socket
 * (Dovecot's auth-master protocol: VERSION, then USER id login
 * service=...); where their mail goes is global/mail_location.h.
 * Blocking calls, for the local agent's delivery threads.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "global/mail_location.h"	/* mail_location_expand(), moved */

struct userdb_user {
	char *login;		/* as the userdb returned it */
	bool have_uid, have_gid;
	uid_t uid;
	gid_t gid;
	char *home;		/* NULL when not given */
	char *mail;		/* NULL when not given */
};

/*
 * Ask the auth-userdb socket PATH about LOGIN for SERVICE ("lda").
 * Returns 1 found (*USER_R filled; free with userdb_user_clear()), 0 not
 * found, -1 temporary failure (connection, timeout, FAIL, a uid or gid
 * that does not parse) with *ERROR_R (allocated).
 */
int userdb_lookup(const char *path, const char *login, const char *service,
    struct userdb_user *user_r, char **error_r);

/* Free what USER holds and zero it. */
void userdb_user_clear(struct userdb_user *user);

/*
 * A uid or gid given as a number or as a user or group name.  0, or -1
 * when S is neither.
 */
int userdb_parse_uid(const char *s, uid_t *uid_r);
int userdb_parse_gid(const char *s, gid_t *gid_r);

#endif
