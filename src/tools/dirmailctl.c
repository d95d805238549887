/*
 * dirmailctl: the administrator's command.  Global options come first,
 * then a sub-command:
 *
 *	dirmailctl [-c FILE] [-o name=value]... COMMAND [ARGS]
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "tools/ctl.h"

static const struct {
	const char *name;
	int (*main)(const struct ctl_ctx *, int, char **);
	const char *args;
} commands[] = {
	{ "config", ctl_config_main, "[-n|-d] [-x] [-h] [NAME...]" },
	{ "check", ctl_check_main, "" },
	{ "map", ctl_map_main, "build FILE | query [-a] TABLE KEY|-" },
	{ "auth", ctl_auth_main, "test [-a SOCKET] USER [PASSWORD] | "
	    "lookup [-a SOCKET] USER | list [-a SOCKET]" },
	{ "queue", ctl_queue_main, "list | show ID | "
	    "delete|hold|release ID...|ALL" },
};

/* Print the usage message and return the usage exit status. */
static int
usage(void)
{
	size_t i;

	fprintf(stderr, "usage: dirmailctl [-c FILE] [-o name=value]... "
	    "COMMAND [ARGS]\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  %s %s\n", commands[i].name,
		    commands[i].args);
	return CTL_EX_USAGE;
}

int
main(int argc, char **argv)
{
	struct ctl_ctx ctx = { NULL, NULL };
	char **overrides = xcalloc(1, sizeof(*overrides));
	size_t n_over = 0, i;
	int ch, ret;

	log_open("dirmailctl", LOG_DEST_PLAIN);
	while ((ch = getopt(argc, argv, "+c:o:v")) != -1) {
		switch (ch) {
		case 'c':
			ctx.config_path = optarg;
			break;
		case 'o':
			overrides = xreallocarray(overrides, n_over + 2,
			    sizeof(*overrides));
			overrides[n_over++] = optarg;
			overrides[n_over] = NULL;
			break;
		case 'v':
			log_set_verbose(true);
			break;
		default:
			free(overrides);
			return usage();
		}
	}
	ctx.overrides = overrides;
	argc -= optind;
	argv += optind;
	ret = -1;
	for (i = 0; argc > 0 && i < sizeof(commands) / sizeof(commands[0]);
	    i++) {
		if (strcmp(argv[0], commands[i].name) == 0) {
			optind = 1;
			ret = commands[i].main(&ctx, argc, argv);
			break;
		}
	}
	free(overrides);
	return ret < 0 ? usage() : ret;
}
