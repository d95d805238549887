#ifndef DIRMAIL_DELIVERY_MAILDIR_H
#define DIRMAIL_DELIVERY_MAILDIR_H

/*
 * Maildir delivery (the tmp/ -> new/ protocol, Dovecot's file names).
 * The functions act with the caller's file-system identity: the local
 * agent switches to the mailbox owner before it calls them.
 */

#include <stddef.h>

/*
 * Deliver one message into the Maildir DIR: create DIR (and missing
 * parents) and its cur/ new/ tmp/ with mode 0700 when they are missing;
 * write PREFIX (PREFIX_LEN bytes: the headers the agent adds) and then
 * MSG (LEN bytes, LF line ends) to tmp/<sec>.M<usec>P<pid>Q<n>.<HOST>,
 * fsync it, link it into new/ as the same name with ",S=<size>", remove
 * the tmp/ name and fsync new/.  Returns 0 with the new/ path in
 * *PATH_R (allocated; PATH_R may be NULL), or -1 with errno set and a
 * reason in *ERROR_R (allocated); nothing is left in new/ on failure.
 */
int maildir_deliver(const char *dir, const char *host, const char *prefix,
    size_t prefix_len, const char *msg, size_t len, char **path_r,
    char **error_r);

/*
 * Make NAME (a host name) safe for a Maildir file name as Dovecot does:
 * "/" becomes "\057" and ":" "\072".  Allocated.
 */
char *maildir_host_escape(const char *name);

#endif
