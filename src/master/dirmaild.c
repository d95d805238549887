/*
 * dirmaild: the master daemon.
 *
 *	dirmaild [-c FILE] [-o name=value]... [-f] [-v]
 *
 * Reads the configuration, opens every listener while privileged, writes
 * the pid file, then starts and supervises the services until SIGTERM.
 */

#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "global/daemon_opts.h"
#include "global/params.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "master/master.h"

static char *pidfile_path;
static int pidfile_fd = -1;

/* Print the usage message and exit. */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: dirmaild [-c FILE] [-o name=value]... "
	    "[-f] [-v]\n");
	exit(MASTER_EX_USAGE);
}

/* Parse the command line into M; return the -c option or NULL. */
static const char *
parse_options(struct master *m, int argc, char **argv)
{
	struct daemon_options opt;

	if (daemon_options_parse(argc, argv, &opt) < 0)
		usage();
	m->overrides = opt.overrides;
	m->foreground = opt.foreground;
	return opt.config;
}

/* Return the absolute path of the configuration file to read: children
   and reloads must find it whatever the working directory. */
static char *
config_path(const char *config_opt)
{
	const char *path = cfg_default_path(config_opt, DIRMAIL_CONFIG_FILE);
	char buf[PATH_MAX];

	if (realpath(path, buf) == NULL)
		return xstrdup(path);
	return xstrdup(buf);
}

/* Open and lock $run_directory/dirmaild.pid; fail when another dirmaild
   holds it. */
static int
pidfile_lock(const struct master_conf *conf, char **error_r)
{
	char buf[32];
	ssize_t n;

	if (conf_make_run_directory(conf, error_r) < 0)
		return -1;
	pidfile_path = xasprintf("%s/dirmaild.pid",
	    cfg_file(conf->cfg, "run_directory"));
	pidfile_fd = open(pidfile_path, O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0644);
	if (pidfile_fd < 0) {
		*error_r = xasprintf("%s: %s", pidfile_path, strerror(errno));
		return -1;
	}
	if (flock(pidfile_fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK) {
		*error_r = xasprintf("lock %s: %s", pidfile_path,
		    strerror(errno));
		return -1;
	}
	n = pread(pidfile_fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	*error_r = xasprintf("another dirmaild is running (pid %s, %s)",
	    buf[0] != '\0' ? buf : "unknown", pidfile_path);
	return -1;
}

/* Write our pid into the locked pid file. */
static void
pidfile_write(void)
{
	char buf[32];
	int len;

	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(pidfile_fd, 0) < 0 ||
	    pwrite(pidfile_fd, buf, (size_t)len, 0) != len)
		log_fatal("write %s: %m", pidfile_path);
}

/* Remove the pid file and release its lock. */
static void
pidfile_remove(void)
{
	if (pidfile_fd < 0)
		return;
	unlink(pidfile_path);
	close(pidfile_fd);
	pidfile_fd = -1;
}

/* Point stdin, stdout and stderr at /dev/null. */
static void
stdio_to_null(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		log_fatal("open /dev/null: %m");
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/*
 * Go to the background.  The parent exits 0 only once the daemon has
 * written its pid file (the daemon writes a byte to *READY_R then), so
 * that whoever started us finds the pid file when we return.
 */
static void
daemonize(int *ready_r)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		log_fatal("pipe: %m");
	if ((pid = fork()) < 0)
		log_fatal("fork: %m");
	if (pid > 0) {
		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 ? 0 : 1);
	}
	close(p[0]);
	if (setsid() < 0)
		log_fatal("setsid: %m");
	if (chdir("/") < 0)
		log_fatal("chdir /: %m");
	log_open("master", LOG_DEST_SYSLOG);
	stdio_to_null();
	*ready_r = p[1];
}

/* SIGHUP: read the configuration again; keep the old one when the new
   one is bad. */
static void
master_reload(struct master *m)
{
	struct master_conf *conf;
	char *error;

	log_info("reloading %s", m->config_path);
	if (conf_read(m, &conf, &error) < 0 ||
	    conf_listen(conf, m->conf, &error) < 0) {
		log_error("reload refused: %s", error);
		free(error);
		conf_free(&conf, false);
		return;
	}
	conf_free(&m->conf, true);
	m->conf = conf;
	services_configure(m);
	children_reload(m);
	log_info("configuration reloaded");
}

void
master_stopped(struct master *m)
{
	event_base_loopbreak(m->base);
}

/* Signal events: SIGHUP reloads, SIGTERM and SIGINT stop, SIGCHLD
   reaps. */
static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct master *m = arg;

	switch (sig) {
	case SIGHUP:
		if (!m->stopping)
			master_reload(m);
		break;
	case SIGTERM:
	case SIGINT:
		if (m->stopping)
			break;
		log_info("stopping on signal %d", (int)sig);
		m->stopping = true;
		children_stop_all(m);
		break;
	case SIGCHLD:
		children_reap(m);
		break;
	}
}

/* Create the event base and the signal events of M. */
static struct event **
setup_events(struct master *m)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGCHLD };
	struct event **evs;
	size_t i, n = sizeof(sigs) / sizeof(sigs[0]);

	signal(SIGPIPE, SIG_IGN);
	if ((m->base = event_base_new()) == NULL)
		log_fatal("event_base_new failed");
	evs = xcalloc(n + 1, sizeof(*evs));
	for (i = 0; i < n; i++) {
		evs[i] = evsignal_new(m->base, sigs[i], signal_cb, m);
		if (evs[i] == NULL || evsignal_add(evs[i], NULL) < 0)
			log_fatal("cannot handle signal %d", sigs[i]);
	}
	return evs;
}

/* Free what M holds, close the listeners and remove the pid file. */
static void
cleanup(struct master *m, struct event **evs)
{
	size_t i;

	for (i = 0; evs[i] != NULL; i++)
		event_free(evs[i]);
	free(evs);
	if (m->kill_timer != NULL)
		event_free(m->kill_timer);
	if (m->exit_timer != NULL)
		event_free(m->exit_timer);
	services_free(m);
	conf_free(&m->conf, true);
	event_base_free(m->base);
	pidfile_remove();
	strv_free(&m->overrides);
	free(m->config_path);
	free(pidfile_path);
}

int
main(int argc, char **argv)
{
	struct master m;
	struct event **evs;
	char *error;
	int ready = -1;

	memset(&m, 0, sizeof(m));
	log_open("master", LOG_DEST_STDERR);
	m.config_path = config_path(parse_options(&m, argc, argv));
	if (conf_read(&m, &m.conf, &error) < 0)
		log_fatal_status(MASTER_EX_CONFIG, "%s", error);
	(void)log_set_facility(cfg_str(m.conf->cfg, "syslog_facility"));
	if (pidfile_lock(m.conf, &error) < 0)
		log_fatal("%s", error);
	if (conf_listen(m.conf, NULL, &error) < 0) {
		pidfile_remove();
		log_fatal("%s", error);
	}
	if (!m.foreground)
		daemonize(&ready);
	pidfile_write();
	evs = setup_events(&m);
	services_init(&m);
	services_configure(&m);
	log_info("started, configuration %s", m.config_path);
	if (ready >= 0 && (write(ready, "", 1) != 1 || close(ready) < 0))
		log_warning("cannot tell the parent we started: %m");
	children_start_all(&m);
	event_base_dispatch(m.base);
	cleanup(&m, evs);
	log_info("stopped");
	return 0;
}
