/* The command line every dirmail daemon takes. */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/daemon_opts.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

int
daemon_options_parse(int argc, char **argv, struct daemon_options *opt)
{
	size_t n = 0;
	int ch;

	memset(opt, 0, sizeof(*opt));
	opt->overrides = xcalloc(1, sizeof(*opt->overrides));
	while ((ch = getopt(argc, argv, "c:fo:v")) != -1) {
		switch (ch) {
		case 'c':
			opt->config = optarg;
			break;
		case 'f':
			opt->foreground = true;
			break;
		case 'o':
			opt->overrides = xreallocarray(opt->overrides, n + 2,
			    sizeof(*opt->overrides));
			opt->overrides[n++] = xstrdup(optarg);
			opt->overrides[n] = NULL;
			break;
		case 'v':
			log_set_verbose(true);
			break;
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

void
daemon_options_free(struct daemon_options *opt)
{
	strv_free(&opt->overrides);
}
