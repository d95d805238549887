#ifndef DIRMAIL_LIB_LOG_H
#define DIRMAIL_LIB_LOG_H

/*
 * Logging in the Postfix way: one line per event, to syslog facility
 * "mail" as "dirmail/SERVICE[pid]: text", or to stderr when a program runs
 * in the foreground.  Warnings, errors and fatal errors carry the
 * "warning: ", "error: " and "fatal: " prefixes admins grep for.
 *
 * Never pass a password or other secret to these functions.
 */

#include <stdarg.h>
#include <stdbool.h>

enum log_dest {
	LOG_DEST_SYSLOG,	/* syslog(3), facility LOG_MAIL */
	LOG_DEST_STDERR,	/* stderr, with a time stamp */
	LOG_DEST_PLAIN,		/* stderr as "SERVICE: text", for commands */
};

/*
 * Start logging as "dirmail/SERVICE" (as "SERVICE" with LOG_DEST_PLAIN).  May be called again, e.g. after a
 * fork, to change the service name or the destination.
 */
void log_open(const char *service, enum log_dest dest);

/*
 * Use the syslog facility NAME ("mail", "daemon", "local0".."local7") from
 * the next log_open() on.  Returns 0, or -1 for an unknown name.
 */
int log_set_facility(const char *name);

/* Log debug messages too when VERBOSE is true. */
void log_set_verbose(bool verbose);

/* Return the identity in use, e.g. "dirmail/smtpd". */
const char *log_ident(void);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Log "fatal: ..." and exit(1). */
void log_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* Log "fatal: ..." and exit with STATUS. */
void log_fatal_status(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* Log "panic: ..." (a bug) and abort(). */
void log_panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
