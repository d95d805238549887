#ifndef DIRMAIL_TOOLS_CTL_H
#define DIRMAIL_TOOLS_CTL_H

/*
 * dirmailctl sub-commands.  Each takes the arguments after its own name
 * (argv[0] is the sub-command name, e.g. "map") and returns the exit
 * status.  CONFIG_PATH is the -c option, or NULL.  OVERRIDES are the -o
 * name=value options (NULL-terminated).
 */

struct ctl_ctx {
	const char *config_path;	/* -c FILE, or NULL */
	char *const *overrides;		/* -o name=value, NULL-terminated */
};

/* Exit status for a usage error (as in Postfix: EX_USAGE). */
#define CTL_EX_USAGE	64
/* Exit status for a temporary failure (EX_TEMPFAIL). */
#define CTL_EX_TEMPFAIL	75

int ctl_config_main(const struct ctl_ctx *ctx, int argc, char **argv);
int ctl_check_main(const struct ctl_ctx *ctx, int argc, char **argv);
int ctl_map_main(const struct ctl_ctx *ctx, int argc, char **argv);
int ctl_auth_main(const struct ctl_ctx *ctx, int argc, char **argv);
int ctl_queue_main(const struct ctl_ctx *ctx, int argc, char **argv);

#endif
