#ifndef DIRMAIL_DELIVERY_LOCAL_ID_H
#define DIRMAIL_DELIVERY_LOCAL_ID_H

/*
 * The calling thread's file-system identity.  On Linux setfsuid() and
 * setfsgid() act on one thread only (glibc's setuid() family would
 * change every thread of the process), so each delivery thread can act
 * as its own mailbox owner while the process stays root.  A non-zero
 * fsuid also drops the file-system capabilities from the effective set,
 * so the thread is held to the owner's permissions.
 */

#include <stdbool.h>
#include <sys/types.h>

/*
 * Act on files as UID:GID from now on in this thread.  0, or -1 with
 * errno set when the switch did not happen (not root, or UID is 0:
 * mailbox work never runs as root).
 */
int local_id_become(uid_t uid, gid_t gid);

/* Back to the process's own file-system identity (root). */
void local_id_restore(void);

/* True while this thread acts as someone else. */
bool local_id_switched(void);

#endif
