#ifndef DIRMAIL_DELIVERY_MBOX_H
#define DIRMAIL_DELIVERY_MBOX_H

/*
 * Appending to a Berkeley mbox file the way mail(1) and Postfix's
 * local(8) expect: a "From sender date" line, ">From " quoting of body
 * lines, LF line ends, a blank line after the message, the file locked
 * with fcntl() and/or a PATH.lock dot file while it is written.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct mbox_opts {
	bool fcntl_lock;	/* lock the file with fcntl(F_SETLK) */
	bool dotlock;		/* create PATH.lock while writing */
	bool dotlock_as_root;	/* create the dot file with the process's
				   own identity (a root-owned spool
				   directory where users cannot write) */
	unsigned lock_attempts;	/* tries, one second apart (0: 1) */
	uint64_t size_limit;	/* largest file after delivery, 0: none */
	uid_t uid;		/* a new or existing file must belong to */
	gid_t gid;		/* UID; a new one is created as UID:GID */
	bool create_as_root;	/* create a missing file with the process's
				   own identity, then hand it to UID:GID */
};

/* Why mbox_deliver() failed. */
enum mbox_error {
	MBOX_ERR_TEMP = 1,	/* locking, I/O: try again later */
	MBOX_ERR_FULL,		/* mailbox_size_limit */
	MBOX_ERR_BAD_FILE,	/* not a regular file of its owner */
};

/*
 * The mbox "From " line for SENDER ("" is MAILER-DAEMON) at WHEN, with
 * its LF: "From alice@example.org Wed Jun 30 21:49:08 1993\n".
 * Allocated.
 */
char *mbox_from_line(const char *sender, time_t when);

/*
 * Append the message to the mbox file PATH: FROM_LINE (NULL: none), then
 * PREFIX (headers the agent adds), then MSG (LEN bytes, LF line ends)
 * with lines that start with "From " quoted as ">From ", an LF after a
 * last line without one, and a blank line.  The file is created mode
 * 0600 when missing; a symbolic link, a file with several links or
 * another owner is refused.  On a failed write the file is truncated to
 * its old size.  Acts with the thread's current file-system identity
 * (except with dotlock_as_root / create_as_root).  0, or one of enum
 * mbox_error with *ERROR_R (allocated).
 */
int mbox_deliver(const char *path, const struct mbox_opts *opts,
    const char *from_line, const char *prefix, const char *msg, size_t len,
    char **error_r);

/*
 * Append to OUT the LEN bytes of MSG with mbox quoting (">From "), an LF
 * added when the last line has none, and the blank line that ends an
 * mbox message.  For mbox_deliver() and tests.
 */
struct str;
void mbox_quote(struct str *out, const char *msg, size_t len);

#endif
