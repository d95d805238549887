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

#endif
