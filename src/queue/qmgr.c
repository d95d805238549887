/*
 * qmgr: the queue manager.  dirmaild starts it as dirmail_user whenever
 * smtpd runs.  It watches the wake-up FIFO public/qmgr and scans
 * incoming/ (at once on a wake-up, every few seconds as a safety net)
 * and deferred/ (every queue_run_delay), moves messages to active/ and
 * has the delivery agents deliver them (qmgr_message.c, qmgr_deliver.c).
 *
 * The FIFO protocol (doc/queue-format.md): any byte asks for a scan of
 * incoming/; "F" (flush) also makes every deferred message due now.
 */

#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "global/daemon_opts.h"
#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "queue/qmgr.h"
#include "queue/queue.h"

/* The safety-net scan of incoming/, in seconds. */
#define QMGR_INCOMING_SCAN	5
/* A dot file in incoming/ older than this is a crash's leftover. */
#define QMGR_DOTFILE_AGE	3600
/* How long in-flight requests may finish after SIGTERM. */
#define QMGR_STOP_GRACE		2

struct qmgr_state qmgr;

static struct event *fifo_ev, *incoming_ev, *deferred_ev, *rescan_ev;
static int fifo_fd = -1;

/* Read the settings. */
static void
settings_read(const struct cfg *cfg)
{
	char *error;

	qmgr.queue_dir = cfg_str(cfg, "queue_directory");
	qmgr.myhostname = cfg_str(cfg, "myhostname");
	qmgr.myorigin = cfg_str(cfg, "myorigin");
	qmgr.mail_name = cfg_str(cfg, "mail_name");
	qmgr.bounce_notice_recipient = cfg_str(cfg, "bounce_notice_recipient");
	qmgr.double_bounce_sender = cfg_str(cfg, "double_bounce_sender");
	qmgr.bounce_size_limit = cfg_size(cfg, "bounce_size_limit");
	qmgr.min_backoff = cfg_duration(cfg, "minimal_backoff_time");
	qmgr.max_backoff = cfg_duration(cfg, "maximal_backoff_time");
	if (qmgr.max_backoff < qmgr.min_backoff)
		qmgr.max_backoff = qmgr.min_backoff;
	qmgr.max_lifetime = cfg_duration(cfg, "maximal_queue_lifetime");
	qmgr.bounce_lifetime = cfg_duration(cfg, "bounce_queue_lifetime");
	qmgr.delay_warning = cfg_duration(cfg, "delay_warning_time");
	qmgr.run_delay = cfg_duration(cfg, "queue_run_delay");
	qmgr.active_limit = (unsigned)cfg_int(cfg,
	    "qmgr_message_active_limit");
	qmgr.dest_limit = (unsigned)cfg_int(cfg,
	    "default_destination_concurrency_limit");
	qmgr.local_dest_limit = (unsigned)cfg_int(cfg,
	    "local_destination_concurrency_limit");
	qmgr.process_limit = (unsigned)cfg_int(cfg, "default_process_limit");
	if (qmgr_transports_init(cfg, &qmgr.transports, &error) < 0)
		log_fatal("%s", error);
}

/* Is a dot file in incoming/ old enough to be garbage?  Remove it. */
static void
dotfile_check(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct stat sb;

	if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    time(NULL) - sb.st_mtime > QMGR_DOTFILE_AGE) {
		if (unlink(path) == 0)
			log_info("removed the leftover %s", path);
	}
	free(path);
}

/* Is the deferred message NAME in DIR due (its mtime has come)? */
static bool
deferred_due(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct stat sb;
	bool due;

	due = stat(path, &sb) == 0 && sb.st_mtime <= time(NULL);
	free(path);
	return due;
}

/*
 * The queue files of DIR (SUB) that are due, allocated, NULL-terminated.
 * The names are read before any is taken, so that a message that goes
 * back to the same directory during the scan is not seen twice.
 */
static char **
scan_names(const char *dir, const char *sub, bool flush)
{
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	DIR *dp;

	if ((dp = opendir(dir)) == NULL) {
		log_error("opendir %s: %s", dir, strerror(errno));
		return NULL;
	}
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.') {
			if (strcmp(sub, QUEUE_INCOMING) == 0 &&
			    strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				dotfile_check(dir, de->d_name);
			continue;
		}
		if (!queue_id_valid(de->d_name, strlen(de->d_name)) ||
		    (strcmp(sub, QUEUE_DEFERRED) == 0 && !flush &&
		    !deferred_due(dir, de->d_name)))
			continue;
		names = xreallocarray(names, n + 2, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
		names[n] = NULL;
	}
	closedir(dp);
	return names;
}

/*
 * Take the messages of SUB into active/, up to the active limit.  In
 * deferred/ only those whose time has come, unless FLUSH.
 */
static void
scan(const char *sub, bool flush)
{
	char *dir = xasprintf("%s/%s", qmgr.queue_dir, sub);
	char **names = scan_names(dir, sub, flush);
	size_t i;

	for (i = 0; names != NULL && names[i] != NULL && !qmgr.stopping;
	    i++) {
		if (qmgr.n_active >= qmgr.active_limit &&
		    strcmp(sub, QUEUE_ACTIVE) != 0) {
			qmgr.backlog = true;
			break;
		}
		qmgr_message_activate(sub, names[i]);
	}
	strv_free(&names);
	free(dir);
}

/* Bytes on the FIFO: drain it first (no wake-up is lost), then scan. */
static void
on_fifo(evutil_socket_t fd, short what, void *arg)
{
	char buf[512];
	bool flush = false;
	ssize_t n, i;

	(void)what, (void)arg;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++)
			if (buf[i] == 'F')
				flush = true;
	}
	if (flush) {
		log_info("flush: every deferred message is due");
		scan(QUEUE_DEFERRED, true);
	}
	scan(QUEUE_INCOMING, false);
}

/* Timer: the safety-net scan of incoming/. */
static void
on_incoming_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	scan(QUEUE_INCOMING, false);
}

/* Timer: the deferred queue run. */
static void
on_deferred_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	scan(QUEUE_DEFERRED, false);
}

/* A scan stopped at the active limit and room was made: go on. */
static void
on_rescan(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	qmgr.backlog = false;
	scan(QUEUE_INCOMING, false);
	scan(QUEUE_DEFERRED, false);
}

void
qmgr_message_gone(void)
{
	if (qmgr.stopping) {
		if (qmgr_deliver_inflight() == 0)
			event_base_loopbreak(qmgr.base);
		return;
	}
	if (qmgr.backlog)
		event_active(rescan_ev, EV_TIMEOUT, 1);
}

/* Open the wake-up FIFO read-write, so that it never reports EOF. */
static void
fifo_open(void)
{
	char *path = xasprintf("%s/%s", qmgr.queue_dir, QUEUE_QMGR_FIFO);

	fifo_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fifo_fd < 0)
		log_fatal("open %s: %s", path, strerror(errno));
	free(path);
	fifo_ev = event_new(qmgr.base, fifo_fd, EV_READ | EV_PERSIST, on_fifo,
	    NULL);
	event_add(fifo_ev, NULL);
}

/* Start the timers of the periodic scans. */
static void
timers_start(void)
{
	struct timeval inc = { QMGR_INCOMING_SCAN, 0 };
	struct timeval def = { (time_t)qmgr.run_delay, 0 };

	incoming_ev = event_new(qmgr.base, -1, EV_PERSIST, on_incoming_timer,
	    NULL);
	deferred_ev = event_new(qmgr.base, -1, EV_PERSIST, on_deferred_timer,
	    NULL);
	rescan_ev = event_new(qmgr.base, -1, 0, on_rescan, NULL);
	event_add(incoming_ev, &inc);
	event_add(deferred_ev, &def);
}

/* Create the queue directories when qmgr runs before smtpd made them. */
static void
queue_setup(void)
{
	char *error;
	int tries;

	/* smtpd, started with us, makes the queue as root when it is new;
	   give it a few seconds before calling a refusal fatal. */
	for (tries = 0; queue_dirs_create(qmgr.queue_dir, (uid_t)-1,
	    (gid_t)-1, &error) < 0; tries++) {
		if (tries == 50)
			log_fatal("queue_directory: %s", error);
		free(error);
		usleep(100 * 1000);
	}
}

/* SIGTERM: no new work; let the requests in flight finish a moment. */
static void
drain(void)
{
	struct timeval grace = { QMGR_STOP_GRACE, 0 };

	qmgr.stopping = true;
	event_del(fifo_ev);
	event_del(incoming_ev);
	event_del(deferred_ev);
	event_del(rescan_ev);
	if (qmgr_deliver_inflight() > 0) {
		event_base_loopexit(qmgr.base, &grace);
		event_base_dispatch(qmgr.base);
	}
	if (qmgr_deliver_inflight() > 0)
		log_info("%u requests still in flight: retried at the next "
		    "start", qmgr_deliver_inflight());
}

int
main(int argc, char **argv)
{
	struct daemon_options opt;
	struct cfg *cfg;

	cfg = daemon_start("qmgr", "qmgr [-c FILE] [-f] [-v] "
	    "[-o name=value]...", argc, argv, &opt);
	settings_read(cfg);
	queue_setup();
	if ((qmgr.base = event_base_new()) == NULL)
		log_fatal("event_base_new failed");
	qmgr_deliver_init();
	qmgr_message_init();
	fifo_open();
	timers_start();
	/* What a crash left in active/ first, then the rest. */
	scan(QUEUE_ACTIVE, false);
	scan(QUEUE_DEFERRED, false);
	scan(QUEUE_INCOMING, false);
	daemon_run(qmgr.base);
	drain();
	qmgr_deliver_shutdown();
	qmgr_message_shutdown();
	event_free(fifo_ev);
	event_free(incoming_ev);
	event_free(deferred_ev);
	event_free(rescan_ev);
	close(fifo_fd);
	qmgr_transports_free(&qmgr.transports);
	event_base_free(qmgr.base);
	cfg_free(&cfg);
	daemon_options_free(&opt);
	return 0;
}
