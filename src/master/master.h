#ifndef DIRMAIL_MASTER_MASTER_H
#define DIRMAIL_MASTER_MASTER_H

/*
 * dirmaild, the master daemon: it opens every listener while privileged,
 * starts one process per service with its listeners passed the way
 * systemd socket activation does (fds 3.., LISTEN_FDS, LISTEN_PID,
 * LISTEN_FDNAMES), restarts services that die with a back-off, reloads
 * on SIGHUP and stops on SIGTERM.
 *
 *	dirmaild.c	options, pid file, signals, the event loop
 *	conf.c		the running configuration: load, check, listeners
 *	services.c	the table of services and which of them run
 *	children.c	starting, supervising and stopping service processes
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include <event2/event.h>

#include "lib/cfg.h"
#include "lib/listen.h"

/* Seconds a stopping child gets between SIGTERM and SIGKILL; the whole
   stop stays within 5 seconds. */
#define MASTER_STOP_GRACE	4
/* Exit status for a bad configuration. */
#define MASTER_EX_CONFIG	2
/* Exit status for a usage error (EX_USAGE). */
#define MASTER_EX_USAGE		64

/* One listening spec of the configuration and its open sockets. */
struct master_listener {
	char *param;		/* the parameter it came from: smtpd_listen */
	char *text;		/* the spec as written */
	struct listen_spec spec;
	struct listen_fds fds;
	struct master_listener *reuse;	/* conf_listen(): the old listener
					   whose sockets this one takes */
};

/* A loaded configuration with its listeners. */
struct master_conf {
	struct cfg *cfg;
	struct master_listener **listeners;
	size_t n_listeners;
	bool privileged;	/* running as root: children drop to: */
	uid_t uid;		/* dirmail_user */
	gid_t gid;		/* dirmail_group */
	char *user;		/* dirmail_user, for initgroups() */
};

/* A service of the static table (services.c). */
struct service_def {
	const char *name;		/* the program in daemon_directory */
	const char *listen[5];		/* its listener parameters, NULL-ended */
	const char *protocol;		/* runs only when in "protocols" */
	const char *runs_with;		/* runs when that service runs */
	bool drops_itself;		/* started as root; the service drops
					   to dirmail_user once it has done
					   what needs root (authd: PAM) */
};

/* A service at run time. */
struct service {
	const struct service_def *def;
	struct master *master;
	char *program;		/* $daemon_directory/NAME */
	bool enabled;		/* the configuration wants it */
	bool warned_missing;	/* "not installed" logged already */
	pid_t pid;		/* 0: not running */
	struct timespec started;
	int backoff;		/* seconds before the next restart */
	bool term_sent;		/* we asked it to stop */
	bool restart_now;	/* start again as soon as it exits */
	struct event *timer;	/* the pending restart */
};

struct master {
	struct event_base *base;
	char *config_path;	/* absolute, passed to children as -c */
	char **overrides;	/* -o name=value, NULL-terminated */
	bool foreground;	/* -f */
	bool stopping;
	struct master_conf *conf;
	struct service *services;
	size_t n_services;
	struct event *kill_timer;	/* SIGKILL after the grace period */
	struct event *exit_timer;	/* stop waiting for children */
};

/* conf.c */

/*
 * Load the configuration for M and check it: dirmail_user and
 * dirmail_group when running as root, paths, every listener spec.
 * Returns 0 with the new configuration (no listener open yet) in
 * *CONF_R, or -1 with a "file:line: name: reason" message in *ERROR_R
 * (free it).
 */
int conf_read(const struct master *m, struct master_conf **conf_r,
    char **error_r);

/* Create the run_directory of CONF (mode 0755) when it is missing.
   Returns 0, or -1 with a message in *ERROR_R (free it). */
int conf_make_run_directory(const struct master_conf *conf,
    char **error_r);

/*
 * Open the listeners of the services CONF runs.  Sockets of OLD (may be
 * NULL) whose address did not change move to CONF instead of being
 * opened again, so that no connection is refused across a reload.
 * Returns 0, or -1 with a message in *ERROR_R (free it); then CONF has
 * no listener and OLD is untouched.
 */
int conf_listen(struct master_conf *conf, struct master_conf *old,
    char **error_r);

/* Close the listeners of *CONF (removing the socket files they created
   when UNLINK_FILES is true), free it and NULL *CONF. */
void conf_free(struct master_conf **conf, bool unlink_files);

/* services.c */

extern const struct service_def service_defs[];
extern const size_t service_defs_count;

/* True when the configuration CFG wants the service DEF to run. */
bool service_def_wanted(const struct service_def *def,
    const struct cfg *cfg);

/* Create the services of the table for M (all stopped). */
void services_init(struct master *m);

/* Decide which services run under M's configuration, and where their
   programs are. */
void services_configure(struct master *m);

/* Return the service whose child is PID, or NULL. */
struct service *services_by_pid(struct master *m, pid_t pid);

/* Free the services of M. */
void services_free(struct master *m);

/* children.c */

/* Start every enabled service that is not running. */
void children_start_all(struct master *m);

/* Restart every running service with M's (new) configuration; start
   those newly enabled; stop those disabled. */
void children_reload(struct master *m);

/* Reap exited children and act on each exit. */
void children_reap(struct master *m);

/* Ask every child to stop; SIGKILL those left after the grace period. */
void children_stop_all(struct master *m);

/* Return the number of running children. */
size_t children_running(const struct master *m);

/* Called by children.c once stopping and no child is left. */
void master_stopped(struct master *m);

#endif
