/* The command line every dirmail daemon takes. */

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "global/daemon_opts.h"
#include "global/params.h"
#include "lib/cfg.h"
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

/* Parse the options, load the configuration, open the log. */
struct cfg *
daemon_start(const char *name, const char *usage, int argc, char **argv,
    struct daemon_options *opt)
{
	struct cfg *cfg;
	char *error;

	log_open(name, LOG_DEST_SYSLOG);
	if (daemon_options_parse(argc, argv, opt) < 0) {
		fprintf(stderr, "usage: %s\n", usage);
		exit(64);
	}
	if (dirmail_config_load(opt->config, opt->overrides, &cfg,
	    &error) < 0)
		log_fatal("%s", error);
	(void)log_set_facility(cfg_str(cfg, "syslog_facility"));
	log_open(name, opt->foreground ? LOG_DEST_STDERR : LOG_DEST_SYSLOG);
	signal(SIGPIPE, SIG_IGN);
	return cfg;
}

/* SIGTERM or SIGINT: leave the loop. */
static void
daemon_on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("stopping on signal %d", (int)sig);
	event_base_loopbreak(arg);
}

/* Run BASE until a signal says stop. */
void
daemon_run(struct event_base *base)
{
	struct event *ev_term, *ev_int;

	ev_term = evsignal_new(base, SIGTERM, daemon_on_signal, base);
	ev_int = evsignal_new(base, SIGINT, daemon_on_signal, base);
	evsignal_add(ev_term, NULL);
	evsignal_add(ev_int, NULL);
	log_info("started");
	event_base_dispatch(base);
	event_free(ev_term);
	event_free(ev_int);
}
