/*
 * showq: the queue listing for users who may not read the queue, as
 * Postfix's showq(8) serves postqueue -p.  dirmaild passes it the
 * showq_listen sockets and runs it as dirmail_user; each connection gets
 * what "dirmailctl queue list" prints, then the connection is closed.
 * "mailq" and "sendmail -bp" connect here when they cannot read the
 * queue themselves.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "global/daemon_opts.h"
#include "lib/cfg.h"
#include "lib/listen.h"
#include "lib/log.h"
#include "tools/ctl.h"

/* The most listings written at once. */
#define SHOWQ_MAX_CHILDREN	16

static struct daemon_options opt;
static unsigned children;

/* Reap the listing processes that are done. */
static void
reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		children--;
}

/* A connection: a child writes the listing into it. */
static void
on_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int len, void *arg)
{
	struct ctl_ctx ctx = { opt.config, opt.overrides };
	char *argv[] = { "queue", "list", NULL };
	pid_t pid;
	int ret;

	(void)l, (void)sa, (void)len, (void)arg;
	reap();
	if (children >= SHOWQ_MAX_CHILDREN) {
		log_warning("too many queue listings at once; refused");
		close(fd);
		return;
	}
	if ((pid = fork()) < 0) {
		log_error("fork: %s", strerror(errno));
		close(fd);
		return;
	}
	if (pid == 0) {
		if (dup2(fd, STDOUT_FILENO) < 0)
			_exit(1);
		close(fd);
		optind = 1;
		ret = ctl_queue_main(&ctx, 2, argv);
		_exit(fflush(stdout) == 0 && ret == 0 ? 0 : 1);
	}
	children++;
	close(fd);
}

static void
on_child(evutil_socket_t sig, short what, void *arg)
{
	(void)sig, (void)what, (void)arg;
	reap();
}

/* Take one inherited listener. */
static void
take_listener(int fd, const char *name, void *arg)
{
	struct event_base *base = arg;

	(void)name;
	evutil_make_socket_nonblocking(fd);
	if (evconnlistener_new(base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE,
	    -1, fd) == NULL)
		log_fatal("evconnlistener_new failed");
}

int
main(int argc, char **argv)
{
	struct event_base *base;
	struct event *child_ev;
	struct cfg *cfg;
	const char *why;

	cfg = daemon_start("showq", "showq [-c FILE] [-f] [-v] "
	    "[-o name=value]...", argc, argv, &opt);
	if ((base = event_base_new()) == NULL)
		log_fatal("event_base_new failed");
	if (listen_inherited(take_listener, base, &why) < 0)
		log_fatal("showq runs under dirmaild: %s", why);
	child_ev = evsignal_new(base, SIGCHLD, on_child, NULL);
	event_add(child_ev, NULL);
	log_info("started");
	daemon_run(base);
	event_free(child_ev);
	event_base_free(base);
	cfg_free(&cfg);
	daemon_options_free(&opt);
	return 0;
}
