/*
 * Delivery to a command: /bin/sh -c COMMAND as the destination's owner
 * (real and effective ids, no supplementary groups), the message on its
 * standard input, a time limit, and the exit status mapped to a DSN the
 * way Postfix maps <sysexits.h>.
 */

#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "delivery/local.h"
#include "delivery/mbox.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* The most command output kept for the reply. */
#define OUTPUT_MAX	400

static const struct {
	int status;
	const char *dsn;
	const char *text;
} sysexits[] = {
	{ EX_USAGE, "5.3.0", "command line usage error" },
	{ EX_DATAERR, "5.6.0", "data format error" },
	{ EX_NOINPUT, "5.3.0", "cannot open input" },
	{ EX_NOUSER, "5.1.1", "user unknown" },
	{ EX_NOHOST, "5.1.2", "host name unknown" },
	{ EX_UNAVAILABLE, "5.3.0", "service unavailable" },
	{ EX_SOFTWARE, "5.3.0", "internal software error" },
	{ EX_OSERR, "4.3.0", "system resource problem" },
	{ EX_OSFILE, "5.3.0", "critical OS file missing" },
	{ EX_CANTCREAT, "5.2.0", "can't create user output file" },
	{ EX_IOERR, "5.3.0", "input/output error" },
	{ EX_TEMPFAIL, "4.3.0", "temporary failure" },
	{ EX_PROTOCOL, "5.5.0", "remote error in protocol" },
	{ EX_NOPERM, "5.7.0", "permission denied" },
	{ EX_CONFIG, "5.3.5", "local configuration error" },
};

struct command_run {
	const struct local_job *job;
	const char *command;
	uid_t uid;
	gid_t gid;
	const char *home;
	char **env;
	struct str in;		/* what goes to its standard input */
	struct str out;		/* what it printed (the start) */
};

/* The environment of the command (allocated strings). */
static char **
command_env(const struct command_run *c)
{
	char **env = xcalloc(8, sizeof(*env));
	const char *at = strrchr(c->job->rcpt, '@');
	size_t n = 0;

	env[n++] = xstrdup("PATH=/usr/bin:/bin");
	env[n++] = xstrdup("SHELL=/bin/sh");
	env[n++] = xasprintf("HOME=%s", c->home);
	env[n++] = xasprintf("SENDER=%s", c->job->sender);
	env[n++] = xasprintf("RECIPIENT=%s", c->job->rcpt);
	env[n++] = xasprintf("USER=%.*s", at != NULL ?
	    (int)(at - c->job->rcpt) : (int)strlen(c->job->rcpt),
	    c->job->rcpt);
	env[n] = NULL;
	return env;
}

/* In the child: become the owner and run the command.  Never returns. */
static void __attribute__((noreturn))
command_child(const struct command_run *c, int in, int out)
{
	sigset_t mask;

	if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(out, STDERR_FILENO) < 0)
		_exit(EX_OSERR);
	closefrom(3);
	(void)setsid();
	/* The agent's threads keep SIGTERM and SIGINT for one of them
	   (local.c); the command gets the usual mask. */
	sigemptyset(&mask);
	(void)sigprocmask(SIG_SETMASK, &mask, NULL);
	if (setgid(c->gid) < 0 || setgroups(0, NULL) < 0 ||
	    setuid(c->uid) < 0 || setuid(0) == 0)
		_exit(EX_OSERR);
	if (chdir(c->home) < 0 && chdir("/") < 0)
		_exit(EX_OSERR);
	execle("/bin/sh", "sh", "-c", c->command, (char *)NULL, c->env);
	_exit(EX_OSERR);
}

/* Feed the input and collect the output until both are done or the
   time is up.  0, or -1 on timeout. */
static int
command_io(struct command_run *c, int in, int out)
{
	time_t deadline = time(NULL) + local_set.command_time_limit;
	size_t off = 0;
	char buf[4096];
	ssize_t n;

	while (out >= 0) {
		struct pollfd p[2] = { { .fd = out, .events = POLLIN },
		    { .fd = in, .events = POLLOUT } };
		int left = (int)(deadline - time(NULL));

		if (left <= 0 || poll(p, in >= 0 ? 2 : 1, left * 1000) == 0)
			return -1;
		if (in >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			n = write(in, c->in.s + off, c->in.len - off);
			if (n > 0)
				off += (size_t)n;
			if ((n < 0 && errno != EINTR && errno != EAGAIN) ||
			    off == c->in.len) {
				close(in);
				in = -1;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(out, buf, sizeof(buf));
			if (n > 0 && c->out.len < OUTPUT_MAX)
				str_append_n(&c->out, buf, (size_t)n);
			else if (n == 0 || (n < 0 && errno != EINTR))
				out = -1;
		}
	}
	if (in >= 0)
		close(in);
	return 0;
}

/* The command's output as one line of reply text. */
static const char *
output_text(struct command_run *c)
{
	size_t i;

	if (c->out.len > OUTPUT_MAX)
		str_truncate(&c->out, OUTPUT_MAX);
	for (i = 0; i < c->out.len; i++)
		if (c->out.s[i] == '\n' || c->out.s[i] == '\r' ||
		    c->out.s[i] == '\t')
			c->out.s[i] = ' ';
	return c->out.len > 0 ? str_trim(c->out.s) : "";
}

/* Set R from the wait STATUS of the command. */
static void
command_status(struct command_run *c, int status, bool timeout,
    struct local_result *r)
{
	const char *out = output_text(c);
	size_t i;

	if (timeout)
		local_result_set(r, 4, "4.3.0", "command time limit exceeded: "
		    "\"%s\"", c->command);
	else if (WIFSIGNALED(status))
		local_result_set(r, 4, "4.3.0", "command died with signal %d: "
		    "\"%s\"", WTERMSIG(status), c->command);
	else if (WEXITSTATUS(status) == 0) {
		local_result_set(r, 2, "2.0.0", "delivered to command: %s",
		    c->command);
		return;
	} else {
		for (i = 0; i < sizeof(sysexits) / sizeof(sysexits[0]); i++)
			if (sysexits[i].status == WEXITSTATUS(status))
				break;
		local_result_set(r, i < sizeof(sysexits) / sizeof(sysexits[0]) &&
		    sysexits[i].dsn[0] == '4' ? 4 : 5,
		    i < sizeof(sysexits) / sizeof(sysexits[0]) ?
		    sysexits[i].dsn : "5.3.0", "command died with status %d: "
		    "\"%s\"%s%s", WEXITSTATUS(status), c->command,
		    *out != '\0' ? ". Command output: " : "", out);
	}
}

/* Fork, feed and reap the command.  Sets R. */
static void
command_run(struct command_run *c, struct local_result *r)
{
	int in[2], out[2], status = 0;
	bool timeout;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0) {
		local_result_set(r, 4, "4.3.0", "pipe: %s", strerror(errno));
		return;
	}
	if (pipe2(out, O_CLOEXEC) < 0) {
		local_result_set(r, 4, "4.3.0", "pipe: %s", strerror(errno));
		close(in[0]), close(in[1]);
		return;
	}
	if ((pid = fork()) < 0) {
		local_result_set(r, 4, "4.3.0", "cannot run a command: %s",
		    strerror(errno));
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		return;
	}
	if (pid == 0)
		command_child(c, in[0], out[1]);
	close(in[0]);
	close(out[1]);
	(void)fcntl(in[1], F_SETFL, O_NONBLOCK);
	timeout = command_io(c, in[1], out[0]) < 0;
	if (timeout) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	close(out[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	command_status(c, status, timeout, r);
}

void
local_to_command(const struct local_job *job, const char *command,
    uid_t uid, gid_t gid, const char *home, struct local_result *r)
{
	struct command_run c = { .job = job, .command = command, .uid = uid,
	    .gid = gid, .home = home != NULL && *home == '/' ? home : "/" };
	char *from, *prefix;
	size_t i;

	if (uid == 0) {
		local_result_set(r, 4, "4.3.0", "mail system configuration "
		    "error: a command would run as root");
		return;
	}
	from = mbox_from_line(job->sender, time(NULL));
	prefix = local_msg_prefix(job->sender, job->rcpt);
	str_append(&c.in, from);
	str_append(&c.in, prefix);
	str_append_n(&c.in, job->msg->data, job->msg->len);
	free(from);
	free(prefix);
	c.env = command_env(&c);
	command_run(&c, r);
	log_info("%s: to=<%s>, relay=%s: command \"%s\" as uid %u, gid %u: "
	    "%s %s", job->queue_id, job->rcpt, job->relay, command,
	    (unsigned)uid, (unsigned)gid, r->dsn, r->text);
	for (i = 0; c.env[i] != NULL; i++)
		free(c.env[i]);
	free(c.env);
	str_free(&c.in);
	str_free(&c.out);
}
