/*
 * mra_main(): the start of imapd and pop3d.
 */

#include "config.h"

#include "global/daemon_opts.h"
#include "lib/cfg.h"
#include "lib/log.h"
#include "mra/mra.h"

int
mra_main(const char *service, int argc, char **argv, mra_engine_fn *engine)
{
	struct daemon_options opt;
	struct cfg *cfg;

	(void)engine;
	cfg = daemon_start(service, "[-c FILE] [-f] [-v] [-o name=value]...",
	    argc, argv, &opt);
	log_fatal("not implemented yet");
	cfg_free(&cfg);
	daemon_options_free(&opt);
	return 1;
}
