/*
 * The virtual transport: the recipient's mailbox owner from
 * virtual_mailbox_maps (the owner's login), the owner's uid, gid, home
 * and mail from authd's userdb, and Maildir delivery as that owner.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "delivery/local.h"
#include "delivery/userdb.h"
#include "global/mail_location.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "maps/maps.h"

/* The owner's login for the recipient.  MAP_* with *LOGIN_R. */
static int
owner_login(const struct local_job *job, char **login_r,
    struct local_result *r)
{
	char *error = NULL, *bare;
	int ret;

	ret = local_lookup(local_set.vmailbox_maps, job->rcpt, true, login_r,
	    &error);
	if (ret == MAP_NOTFOUND &&
	    (bare = local_strip_extension(job->rcpt)) != NULL) {
		ret = local_lookup(local_set.vmailbox_maps, bare, true,
		    login_r, &error);
		free(bare);
	}
	if (ret == MAP_NOTFOUND)
		local_result_set(r, 5, "5.1.1", "unknown user: \"%s\"",
		    job->rcpt);
	else if (ret == MAP_ERROR) {
		log_warning("%s: to=<%s>: virtual_mailbox_maps: %s",
		    job->queue_id, job->rcpt, error);
		local_result_set(r, 4, "4.3.0", "virtual_mailbox_maps lookup "
		    "failed: %s", error);
	} else
		str_trim(*login_r);
	free(error);
	return ret;
}

/* Is UID allowed to own mail?  Sets R when not. */
static int
uid_check(const struct local_job *job, const char *login, uid_t uid,
    struct local_result *r)
{
	const char *why = NULL;

	if (uid == 0)
		why = "is root";
	else if (uid < local_set.first_valid_uid)
		why = "is below first_valid_uid";
	else if (local_set.last_valid_uid != 0 &&
	    uid > local_set.last_valid_uid)
		why = "is above last_valid_uid";
	if (why == NULL)
		return 0;
	log_error("%s: to=<%s>: mail system configuration error: uid %u of "
	    "user \"%s\" %s", job->queue_id, job->rcpt, (unsigned)uid, login,
	    why);
	local_result_set(r, 4, "4.3.0", "mail system configuration error: "
	    "uid %u of user \"%s\" %s", (unsigned)uid, login, why);
	return -1;
}

/* Deliver to the userdb user U. */
static void
deliver_owner(const struct local_job *job, const struct userdb_user *u,
    struct local_result *r)
{
	const char *err;
	uid_t uid = local_set.have_mail_uid ? local_set.mail_uid : u->uid;
	gid_t gid = local_set.have_mail_gid ? local_set.mail_gid : u->gid;
	char *dir;

	if ((!local_set.have_mail_uid && !u->have_uid) ||
	    (!local_set.have_mail_gid && !u->have_gid)) {
		log_error("%s: to=<%s>: user \"%s\" has no uid or gid, and "
		    "mail_uid or mail_gid is not set", job->queue_id,
		    job->rcpt, u->login);
		local_result_set(r, 4, "4.3.0", "mail system configuration "
		    "error: no uid or gid for user \"%s\"", u->login);
		return;
	}
	if (uid_check(job, u->login, uid, r) < 0)
		return;
	if (mail_location_expand(u->mail != NULL ? u->mail :
	    local_set.mail_location, u->login, local_set.default_realm,
	    u->home, &dir, &err) < 0) {
		log_error("%s: to=<%s>: user \"%s\": %s", job->queue_id,
		    job->rcpt, u->login, err);
		local_result_set(r, 4, "4.3.0", "mail system configuration "
		    "error: %s", err);
		return;
	}
	local_to_maildir(job, dir, uid, gid, r);
	free(dir);
}

void
local_deliver_virtual(const struct local_job *job, struct local_result *r)
{
	struct userdb_user u;
	char *login, *error = NULL;
	int ret;

	if (owner_login(job, &login, r) != MAP_FOUND)
		return;
	ret = userdb_lookup(local_set.userdb_socket, login, "lda", &u,
	    &error);
	if (ret < 0) {
		log_warning("%s: to=<%s>: userdb lookup of \"%s\": %s",
		    job->queue_id, job->rcpt, login, error);
		local_result_set(r, 4, "4.3.0", "userdb lookup failed: %s",
		    error);
	} else if (ret == 0)
		local_result_set(r, 5, "5.1.1", "unknown user: \"%s\"", login);
	else
		deliver_owner(job, &u, r);
	userdb_user_clear(&u);
	free(error);
	free(login);
}
