/* Per-thread file-system identity switches (see local_id.h). */

#include "config.h"

#include <sys/syscall.h>

#include <errno.h>
#include <unistd.h>

#include "delivery/local_id.h"

/* The raw system calls: they never fail, they return the old value. */
static uid_t
fsuid_set(uid_t uid)
{
	return (uid_t)syscall(SYS_setfsuid, uid);
}

static gid_t
fsgid_set(gid_t gid)
{
	return (gid_t)syscall(SYS_setfsgid, gid);
}

int
local_id_become(uid_t uid, gid_t gid)
{
	if (uid == 0) {
		errno = EPERM;
		return -1;
	}
	fsgid_set(gid);
	fsuid_set(uid);
	/* -1 is an invalid id: the call only reports the current one. */
	if (fsuid_set((uid_t)-1) != uid || fsgid_set((gid_t)-1) != gid) {
		local_id_restore();
		errno = EPERM;
		return -1;
	}
	return 0;
}

void
local_id_restore(void)
{
	fsuid_set(geteuid());
	fsgid_set(getegid());
}

bool
local_id_switched(void)
{
	return fsuid_set((uid_t)-1) != geteuid();
}
