/* Giving up root. */

#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "lib/priv.h"
#include "lib/xalloc.h"

int
priv_drop(const char *user, const char *group, char **error_r)
{
	const struct passwd *pw;
	const struct group *gr;
	uid_t uid;
	gid_t gid;

	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		*error_r = xasprintf("unknown user \"%s\"", user);
		return -1;
	}
	uid = pw->pw_uid;
	if ((gr = getgrnam(group)) == NULL) {
		*error_r = xasprintf("unknown group \"%s\"", group);
		return -1;
	}
	gid = gr->gr_gid;
	if (uid == 0)
		return 0;	/* nothing to give up ("dirmailctl check" warns) */
	if (initgroups(user, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		*error_r = xasprintf("cannot become %s:%s: %s", user, group,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || geteuid() == 0) {
		*error_r = xstrdup("root could be regained");
		return -1;
	}
	return 0;
}
