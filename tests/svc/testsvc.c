/*
 * testsvc: a stand-in service for the master's tests.
 *
 *	testsvc [-c FILE] [-o name=value]... [-f]
 *
 * Takes its listening sockets the socket-activation way (LISTEN_FDS,
 * LISTEN_PID, LISTEN_FDNAMES) and answers every connection with
 *
 *	testsvc name=NAME uid=UID gid=GID pid=PID config=FILE groups=G,..
 *	    foreground=0|1 overrides=NAME=VALUE,...
 *
 * then reads one line: "crash" aborts, "exit N" exits with status N,
 * "ignore-term" makes it ignore SIGTERM; anything else closes the
 * connection.  Started without sockets (as a service that has no
 * listener, like qmgr), it logs "no listeners: uid=UID gid=GID
 * groups=G,.." and waits for a signal.
 */

#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define MAX_FDS		64
#define LINE_MAX_LEN	128

struct conn {
	int fd;			/* -1: free slot */
	char line[LINE_MAX_LEN];
	size_t len;
};

static char **fd_names;
static int n_listen;
static const char *config = "";
static bool foreground;
static struct str overrides = STR_INIT;
static struct conn conns[MAX_FDS];

/* Take the listening sockets from the environment. */
static void
take_fds(void)
{
	const char *pid = getenv("LISTEN_PID");
	const char *fds = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	char *copy, *p;
	int i;

	if (pid == NULL || fds == NULL || atol(pid) != (long)getpid())
		log_fatal("no sockets passed (LISTEN_PID/LISTEN_FDS)");
	n_listen = atoi(fds);
	if (n_listen < 1 || n_listen > MAX_FDS / 2)
		log_fatal("bad LISTEN_FDS %s", fds);
	fd_names = xcalloc((size_t)n_listen, sizeof(*fd_names));
	copy = xstrdup(names != NULL ? names : "");
	p = copy;
	for (i = 0; i < n_listen; i++) {
		fd_names[i] = xstrdup(p != NULL ? strsep(&p, ":") : "unknown");
		if (fcntl(3 + i, F_GETFD) < 0)
			log_fatal("fd %d is not open", 3 + i);
	}
	free(copy);
}

/* Return the supplementary groups as "g1,g2,...". */
static char *
groups_text(void)
{
	struct str s = STR_INIT;
	gid_t groups[64];
	int i, n;

	n = getgroups(64, groups);
	for (i = 0; i < n; i++)
		str_appendf(&s, "%s%ld", i > 0 ? "," : "", (long)groups[i]);
	return str_steal(&s);
}

/* Accept a connection on listener I and greet it. */
static void
accept_one(int i)
{
	char *groups, *greeting;
	size_t j;
	int fd;

	fd = accept4(3 + i, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	for (j = 0; j < MAX_FDS && conns[j].fd >= 0; j++)
		;
	if (j == MAX_FDS) {
		close(fd);
		return;
	}
	groups = groups_text();
	greeting = xasprintf("testsvc name=%s uid=%ld gid=%ld pid=%ld "
	    "config=%s groups=%s foreground=%d overrides=%s\n", fd_names[i],
	    (long)getuid(), (long)getgid(), (long)getpid(), config, groups,
	    foreground, str_c(&overrides));
	if (write(fd, greeting, strlen(greeting)) < 0)
		log_warning("write: %m");
	free(greeting);
	free(groups);
	conns[j].fd = fd;
	conns[j].len = 0;
}

/* Act on the command LINE. */
static void
command(const char *line)
{
	if (strcmp(line, "crash") == 0) {
		log_info("crashing on request");
		abort();
	}
	if (strncmp(line, "exit ", 5) == 0) {
		log_info("exiting on request");
		exit(atoi(line + 5));
	}
	if (strcmp(line, "ignore-term") == 0) {
		log_info("ignoring SIGTERM");
		signal(SIGTERM, SIG_IGN);
	}
}

/* Read from connection C; act on a full line or close at end of file. */
static void
conn_read(struct conn *c)
{
	ssize_t n;
	char *nl;

	n = read(c->fd, c->line + c->len, sizeof(c->line) - 1 - c->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		c->len += (size_t)n;
		c->line[c->len] = '\0';
		if ((nl = strpbrk(c->line, "\r\n")) == NULL &&
		    c->len < sizeof(c->line) - 1)
			return;
		if (nl != NULL)
			*nl = '\0';
		command(c->line);
	}
	close(c->fd);
	c->fd = -1;
}

/* Poll the listeners and the connections forever. */
static void __attribute__((noreturn))
serve(void)
{
	struct pollfd pfd[MAX_FDS + MAX_FDS / 2];
	struct conn *map[MAX_FDS + MAX_FDS / 2];
	int i, n;
	size_t j;

	for (;;) {
		for (n = 0; n < n_listen; n++) {
			pfd[n].fd = 3 + n;
			pfd[n].events = POLLIN;
			map[n] = NULL;
		}
		for (j = 0; j < MAX_FDS; j++) {
			if (conns[j].fd < 0)
				continue;
			pfd[n].fd = conns[j].fd;
			pfd[n].events = POLLIN;
			map[n++] = &conns[j];
		}
		if (poll(pfd, (nfds_t)n, -1) < 0 && errno != EINTR)
			log_fatal("poll: %m");
		for (i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (map[i] == NULL)
				accept_one(i);
			else
				conn_read(map[i]);
		}
	}
}

int
main(int argc, char **argv)
{
	size_t j;
	int ch;

	while ((ch = getopt(argc, argv, "c:fo:")) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'o':
			str_appendf(&overrides, "%s%s",
			    overrides.len > 0 ? "," : "", optarg);
			break;
		default:
			fprintf(stderr, "usage: testsvc [-c FILE] "
			    "[-o name=value]... [-f]\n");
			return 64;
		}
	}
	log_open("testsvc", foreground ? LOG_DEST_STDERR : LOG_DEST_SYSLOG);
	signal(SIGPIPE, SIG_IGN);
	for (j = 0; j < MAX_FDS; j++)
		conns[j].fd = -1;
	if (getenv("LISTEN_FDS") == NULL) {
		char *groups = groups_text();

		log_info("no listeners: uid=%ld gid=%ld groups=%s",
		    (long)getuid(), (long)getgid(), groups);
		free(groups);
		for (;;)
			pause();
	}
	take_fds();
	log_info("started with %d sockets: %s", n_listen,
	    getenv("LISTEN_FDNAMES") != NULL ? getenv("LISTEN_FDNAMES") : "");
	serve();
}
