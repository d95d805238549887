/* Service processes: start them with their listeners, restart them with
   a back-off when they die, stop them. */

#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "master/master.h"

static void child_start(struct master *m, struct service *s);

/* In the child: log why it cannot go on, and end it. */
static void __attribute__((noreturn, format(printf, 1, 2)))
child_fail(const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_error("%s", text);
	_exit(127);
}

/* True when the listener L belongs to the service S. */
static bool
child_owns(const struct service *s, const struct master_listener *l)
{
	const char *const *param;

	for (param = s->def->listen; *param != NULL; param++)
		if (strcmp(*param, l->param) == 0)
			return true;
	return false;
}

/* In the child: move the listeners of S to fds 3.. and name them in
   LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES. */
static void
child_pass_fds(const struct master *m, const struct service *s)
{
	const struct master_conf *c = m->conf;
	struct str names = STR_INIT;
	char num[32];
	int *tmp = NULL, n = 0, i;
	size_t j, k;

	for (j = 0; j < c->n_listeners; j++) {
		if (!child_owns(s, c->listeners[j]))
			continue;
		for (k = 0; k < c->listeners[j]->fds.count; k++) {
			tmp = xreallocarray(tmp, (size_t)n + 1, sizeof(*tmp));
			tmp[n++] = c->listeners[j]->fds.fds[k];
			str_appendf(&names, "%s%s", names.len > 0 ? ":" : "",
			    c->listeners[j]->param);
		}
	}
	/* Copy them above 3 + N first: no dup2() below may clobber a
	   listener that has not moved yet. */
	for (i = 0; i < n; i++)
		if ((tmp[i] = fcntl(tmp[i], F_DUPFD, 3 + n)) < 0)
			child_fail("service %s: fcntl: %s", s->def->name,
			    strerror(errno));
	for (i = 0; i < n; i++) {
		if (dup2(tmp[i], 3 + i) < 0)
			child_fail("service %s: dup2: %s", s->def->name,
			    strerror(errno));
		close(tmp[i]);
	}
	free(tmp);
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	if (n > 0) {
		snprintf(num, sizeof(num), "%d", n);
		setenv("LISTEN_FDS", num, 1);
		snprintf(num, sizeof(num), "%ld", (long)getpid());
		setenv("LISTEN_PID", num, 1);
		setenv("LISTEN_FDNAMES", str_c(&names), 1);
	}
	str_free(&names);
}

/* In the child: become dirmail_user and dirmail_group when root. */
static void
child_drop_privileges(const struct master_conf *c, const char *name)
{
	if (!c->privileged)
		return;
	if (initgroups(c->user, c->gid) < 0)
		child_fail("service %s: initgroups %s: %s", name, c->user,
		    strerror(errno));
	if (setgid(c->gid) < 0)
		child_fail("service %s: setgid %ld: %s", name, (long)c->gid,
		    strerror(errno));
	if (setuid(c->uid) < 0)
		child_fail("service %s: setuid %ld: %s", name, (long)c->uid,
		    strerror(errno));
	if (c->uid != 0 && (setuid(0) == 0 || geteuid() == 0))
		child_fail("service %s: could not drop root", name);
}

/* In the child: give back the signals the master handles or blocks. */
static void
child_reset_signals(void)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGTERM, SIGCHLD, SIGPIPE };
	sigset_t none;
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* In the child: the command line of the service S. */
static char **
child_argv(const struct master *m, const struct service *s)
{
	char **argv = xcalloc(5 + 2 * strv_len(m->overrides), sizeof(*argv));
	size_t n = 0, i;

	argv[n++] = s->program;
	argv[n++] = "-c";
	argv[n++] = m->config_path;
	if (m->foreground)
		argv[n++] = "-f";
	for (i = 0; m->overrides[i] != NULL; i++) {
		argv[n++] = "-o";
		argv[n++] = m->overrides[i];
	}
	argv[n] = NULL;
	return argv;
}

/* In the child: set up and execute the program of S. */
static void __attribute__((noreturn))
child_exec(struct master *m, struct service *s)
{
	char **argv = child_argv(m, s);
	int fd;

	child_reset_signals();
	if ((fd = open("/dev/null", O_RDONLY)) >= 0 && fd != STDIN_FILENO) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	child_pass_fds(m, s);
	if (!s->def->drops_itself)
		child_drop_privileges(m->conf, s->def->name);
	execv(s->program, argv);
	child_fail("service %s: exec %s: %s", s->def->name, s->program,
	    strerror(errno));
}

/* Seconds since TS. */
static double
elapsed(const struct timespec *ts)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - ts->tv_sec) +
	    (double)(now.tv_nsec - ts->tv_nsec) / 1e9;
}

/* Timer: the back-off of a service is over. */
static void
child_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct service *s = arg;

	if (!s->master->stopping && s->enabled && s->pid == 0)
		child_start(s->master, s);
}

/* Start S again after its back-off, and double the back-off. */
static void
child_schedule(struct master *m, struct service *s)
{
	long long limit = cfg_duration(m->conf->cfg, "service_throttle_time");
	struct timeval tv = { s->backoff, 0 };

	if (s->timer == NULL)
		s->timer = evtimer_new(m->base, child_timer_cb, s);
	evtimer_add(s->timer, &tv);
	s->backoff = s->backoff * 2 > limit ? (int)limit : s->backoff * 2;
}

/* Fork and execute the program of S, unless it is not installed. */
static void
child_start(struct master *m, struct service *s)
{
	sigset_t all, old;
	pid_t pid;

	if (access(s->program, F_OK) < 0) {
		if (!s->warned_missing)
			log_warning("service %s: %s is not installed; "
			    "not started", s->def->name, s->program);
		s->warned_missing = true;
		return;
	}
	s->warned_missing = false;
	/* No signal handler of the master may run in the child. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0)
		child_exec(m, s);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		log_error("service %s: fork: %m; retrying in %ds",
		    s->def->name, s->backoff);
		child_schedule(m, s);
		return;
	}
	s->pid = pid;
	s->term_sent = false;
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	log_info("service %s started (pid %ld)", s->def->name, (long)pid);
}

void
children_start_all(struct master *m)
{
	size_t i;

	for (i = 0; i < m->n_services; i++)
		if (m->services[i].enabled && m->services[i].pid == 0)
			child_start(m, &m->services[i]);
}

/* Describe the wait(2) STATUS in BUF. */
static void
describe_status(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, size, "ended with wait status %#x", status);
}

/* The child of S, PID, ended with STATUS: restart it as due. */
static void
child_exited(struct master *m, struct service *s, pid_t pid, int status)
{
	long long limit = cfg_duration(m->conf->cfg, "service_throttle_time");
	char why[64];

	describe_status(status, why, sizeof(why));
	s->pid = 0;
	if (m->stopping || s->term_sent) {
		log_info("service %s (pid %ld) stopped: %s", s->def->name,
		    (long)pid, why);
		s->term_sent = false;
		if (m->stopping && children_running(m) == 0)
			master_stopped(m);
		else if (!m->stopping && s->restart_now && s->enabled)
			child_start(m, s);
		s->restart_now = false;
		return;
	}
	if (!s->enabled)
		return;
	if (elapsed(&s->started) >= (double)limit)
		s->backoff = 1;
	log_warning("service %s (pid %ld) %s; restarting in %ds",
	    s->def->name, (long)pid, why, s->backoff);
	child_schedule(m, s);
}

void
children_reap(struct master *m)
{
	struct service *s;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		s = services_by_pid(m, pid);
		if (s != NULL)
			child_exited(m, s, pid, status);
	}
}

size_t
children_running(const struct master *m)
{
	size_t i, n = 0;

	for (i = 0; i < m->n_services; i++)
		if (m->services[i].pid > 0)
			n++;
	return n;
}

/* Timer: SIGKILL the children that were asked to stop and did not. */
static void
children_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
	struct service *s;
	size_t i;

	for (i = 0; i < m->n_services; i++) {
		s = &m->services[i];
		if (s->pid <= 0 || !s->term_sent)
			continue;
		log_warning("service %s (pid %ld) did not stop within %ds; "
		    "killing it", s->def->name, (long)s->pid,
		    MASTER_STOP_GRACE);
		kill(s->pid, SIGKILL);
	}
}

/* Timer: stop waiting for children that even SIGKILL did not end. */
static void
children_exit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;

	log_warning("%zu service processes did not end; exiting anyway",
	    children_running(m));
	master_stopped(m);
}

/* Send SIGTERM to the child of S; SIGKILL follows after the grace. */
static void
child_terminate(struct master *m, struct service *s)
{
	struct timeval tv = { MASTER_STOP_GRACE, 0 };

	if (s->pid <= 0 || s->term_sent)
		return;
	s->term_sent = true;
	kill(s->pid, SIGTERM);
	if (m->kill_timer == NULL)
		m->kill_timer = evtimer_new(m->base, children_kill_cb, m);
	if (!evtimer_pending(m->kill_timer, NULL))
		evtimer_add(m->kill_timer, &tv);
}

void
children_reload(struct master *m)
{
	struct service *s;
	size_t i;

	for (i = 0; i < m->n_services; i++) {
		s = &m->services[i];
		s->backoff = 1;
		if (s->timer != NULL)
			evtimer_del(s->timer);
		if (s->pid > 0) {
			s->restart_now = s->enabled;
			child_terminate(m, s);
		} else if (s->enabled) {
			child_start(m, s);
		}
	}
}

void
children_stop_all(struct master *m)
{
	struct timeval tv = { MASTER_STOP_GRACE, 800000 };
	size_t i;

	for (i = 0; i < m->n_services; i++) {
		if (m->services[i].timer != NULL)
			evtimer_del(m->services[i].timer);
		m->services[i].restart_now = false;
		child_terminate(m, &m->services[i]);
	}
	if (children_running(m) == 0) {
		master_stopped(m);
		return;
	}
	m->exit_timer = evtimer_new(m->base, children_exit_cb, m);
	evtimer_add(m->exit_timer, &tv);
}
