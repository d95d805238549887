#ifndef DIRMAIL_GLOBAL_DAEMON_OPTS_H
#define DIRMAIL_GLOBAL_DAEMON_OPTS_H

/*
 * The command line every dirmail daemon takes:
 *	-c FILE		the configuration file
 *	-f		stay in the foreground, log to stderr
 *	-o name=value	override a parameter (repeatable)
 *	-v		log debug messages too
 */

#include <stdbool.h>

struct daemon_options {
	const char *config;	/* -c, or NULL */
	char **overrides;	/* -o values, NULL-terminated, owned */
	bool foreground;	/* -f */
};

/*
 * Parse ARGV into *OPT (and turn on verbose logging for -v).  Returns 0,
 * or -1 on an unknown option or a stray argument: the caller prints its
 * usage.
 */
int daemon_options_parse(int argc, char **argv, struct daemon_options *opt);

/* Free what daemon_options_parse() allocated. */
void daemon_options_free(struct daemon_options *opt);

struct cfg;
struct event_base;

/*
 * The start every dirmail daemon shares: parse ARGV into *OPT (USAGE is
 * printed, exit 64, on a bad command line), load the configuration,
 * open the log as NAME (stderr with -f, else syslog with
 * syslog_facility) and ignore SIGPIPE.  Exits 1 with the message on a
 * bad configuration.  Returns the configuration (free with cfg_free()).
 */
struct cfg *daemon_start(const char *name, const char *usage, int argc,
    char **argv, struct daemon_options *opt);

/* Run BASE until SIGTERM or SIGINT (logged as "stopping on signal N"). */
void daemon_run(struct event_base *base);

#endif
