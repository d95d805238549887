#ifndef DIRMAIL_LIB_PRIV_H
#define DIRMAIL_LIB_PRIV_H

/* Giving up root. */

/*
 * When running as root, become USER with GROUP as primary group and
 * USER's supplementary groups, and check that root cannot be regained.
 * Does nothing when not root, or when USER is root itself.  Returns 0, or -1 with a message in
 * *ERROR_R (allocated).
 */
int priv_drop(const char *user, const char *group, char **error_r);

#endif
