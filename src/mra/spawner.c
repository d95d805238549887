/*
 * The spawner: a root process forked by imapd and pop3d before they give
 * up root.  It takes finished logins from the login process and forks a
 * mail process for each (mailproc.c); it never parses client input and
 * never asks authd itself, so a slow userdb lookup delays no other
 * login.  It reaps its children and exits when the login process goes.
 */

#include "config.h"

#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "lib/cfg.h"
#include "lib/listen.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/tabescape.h"
#include "lib/xalloc.h"
#include "mra/spawner.h"

/* Header fields of a hand-over, in order. */
enum {
	HF_SEQ, HF_AUTH_ID, HF_COOKIE, HF_USER, HF_MECH, HF_TAG, HF_RIP,
	HF_RPORT, HF_LIP, HF_LPORT, HF_FLAGS, HF_SESSION, HF_COUNT
};

int
mra_handover_send(int sock, const struct mra_handover *h, int fd)
{
	struct str hdr = STR_INIT;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov[2];
	struct msghdr msg;
	struct cmsghdr *cm;
	ssize_t n;

	str_appendf(&hdr, "%llu\t%u\t", h->seq, h->auth_id);
	tab_escape(&hdr, h->cookie);
	str_append_c(&hdr, '\t');
	tab_escape(&hdr, h->user);
	str_append_c(&hdr, '\t');
	tab_escape(&hdr, h->mech);
	str_append_c(&hdr, '\t');
	tab_escape(&hdr, h->tag);
	str_append_c(&hdr, '\t');
	tab_escape(&hdr, h->rip);
	str_appendf(&hdr, "\t%u\t", h->rport);
	tab_escape(&hdr, h->lip);
	str_appendf(&hdr, "\t%u\t%s%s\t", h->lport, h->tls ? "t" : "",
	    h->secured ? "s" : "");
	tab_escape(&hdr, h->session_id);
	str_append_c(&hdr, '\n');
	if (hdr.len + h->input_len > MRA_HANDOVER_MAX) {
		str_free(&hdr);
		errno = EMSGSIZE;
		return -1;
	}
	iov[0] = (struct iovec){ hdr.s, hdr.len };
	iov[1] = (struct iovec){ (void *)h->input, h->input_len };
	memset(&msg, 0, sizeof(msg));
	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	str_free(&hdr);
	return n < 0 ? -1 : 0;
}

/* Parse the decimal number S into *NUM_R; 0, or -1. */
static int
parse_ull(const char *s, unsigned long long *num_r)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*num_r = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

int
mra_handover_parse(char *msg, size_t len, struct mra_handover *h)
{
	char *nl = memchr(msg, '\n', len), **f;
	unsigned long long num[3];
	size_t n;
	int ret = -1;

	if (nl == NULL)
		return -1;
	*nl = '\0';
	f = tab_split(msg, &n);
	if (n == HF_COUNT && parse_ull(f[HF_SEQ], &num[0]) == 0 &&
	    parse_ull(f[HF_AUTH_ID], &num[1]) == 0 && num[1] <= ~0u &&
	    parse_ull(f[HF_RPORT], &num[2]) == 0 && num[2] <= 65535 &&
	    str_to_uint(f[HF_LPORT], &h->lport) == 0 && h->lport <= 65535) {
		h->seq = num[0];
		h->auth_id = (unsigned int)num[1];
		h->rport = (unsigned)num[2];
		h->cookie = f[HF_COOKIE];
		h->user = f[HF_USER];
		h->mech = f[HF_MECH];
		h->tag = f[HF_TAG];
		h->rip = f[HF_RIP];
		h->lip = f[HF_LIP];
		h->tls = strchr(f[HF_FLAGS], 't') != NULL;
		h->secured = strchr(f[HF_FLAGS], 's') != NULL;
		h->session_id = f[HF_SESSION];
		h->input = (const unsigned char *)nl + 1;
		h->input_len = len - (size_t)(nl + 1 - msg);
		ret = 0;
	}
	free(f);
	return ret;
}

int
mra_reply_parse(char *msg, unsigned long long *seq_r, pid_t *mpid_r,
    const char **reason_r)
{
	unsigned long long pid;
	size_t n;
	char **f = tab_split(msg, &n);
	int ret = -1;

	if (n == 3 && parse_ull(f[1], seq_r) == 0) {
		if (strcmp(f[0], "OK") == 0 && parse_ull(f[2], &pid) == 0 &&
		    pid > 0 && pid < 1u << 30) {
			*mpid_r = (pid_t)pid;
			ret = 1;
		} else if (strcmp(f[0], "FAIL") == 0) {
			*reason_r = f[2];
			ret = 0;
		}
	}
	free(f);
	return ret;
}

void
mra_reply_send(int sock, unsigned long long seq, pid_t mpid,
    const char *reason)
{
	struct str m = STR_INIT;

	if (reason == NULL)
		str_appendf(&m, "OK\t%llu\t%ld", seq, (long)mpid);
	else {
		str_appendf(&m, "FAIL\t%llu\t", seq);
		tab_escape(&m, reason);
	}
	(void)send(sock, m.s, m.len, MSG_NOSIGNAL);
	str_free(&m);
}

/* The path of the first unix: entry of auth_userdb_listen. */
static const char *
userdb_path(const struct cfg *cfg)
{
	char *const *v = cfg_list(cfg, "auth_userdb_listen");
	struct listen_spec spec;
	const char *error;
	static char *path;

	for (; *v != NULL; v++) {
		if (listen_parse(*v, &spec, &error) < 0)
			continue;
		if (spec.type == LISTEN_UNIX && path == NULL)
			path = xstrdup(spec.path);
		listen_spec_clear(&spec);
	}
	if (path == NULL)
		log_fatal("auth_userdb_listen: no unix: socket to ask for "
		    "logged-in users");
	return path;
}

/* Receive one hand-over into BUF and its descriptor into *FD_R.
   Returns the length, 0 when the login process closed, -1 to skip. */
static ssize_t
handover_recv(int sock, char *buf, size_t size, int *fd_r)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, size - 1 };
	struct msghdr msg;
	struct cmsghdr *cm;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	*fd_r = -1;
	if ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0)
		return errno == EINTR || errno == EAGAIN ? -1 : 0;
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd_r, CMSG_DATA(cm), sizeof(int));
	if (n == 0 && *fd_r < 0)
		return 0;
	buf[n] = '\0';
	if (*fd_r < 0 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		log_warning("spawner: malformed hand-over");
		if (*fd_r >= 0)
			close(*fd_r);
		return -1;
	}
	return n;
}

/* The mail processes alive and the hand-overs they serve. */
struct child {
	pid_t pid;
	unsigned long long seq;
};
static struct child *children;
static size_t n_children, cap_children;

/* Remember that PID serves hand-over SEQ. */
static void
child_add(pid_t pid, unsigned long long seq)
{
	if (n_children == cap_children) {
		cap_children = cap_children == 0 ? 64 : 2 * cap_children;
		children = xreallocarray(children, cap_children,
		    sizeof(*children));
	}
	children[n_children++] = (struct child){ pid, seq };
}

/* Forget PID; its hand-over number, or 0. */
static unsigned long long
child_remove(pid_t pid)
{
	unsigned long long seq;
	size_t i;

	for (i = 0; i < n_children; i++) {
		if (children[i].pid != pid)
			continue;
		seq = children[i].seq;
		children[i] = children[--n_children];
		return seq;
	}
	return 0;
}

/* Serve one hand-over from the login process.  0, or -1 when it went. */
static int
spawner_handover(struct mra_spawner *sp, char *buf)
{
	struct mra_handover h;
	ssize_t n;
	pid_t pid;
	int fd;

	if ((n = handover_recv(sp->sock, buf, MRA_HANDOVER_MAX + 1, &fd)) <= 0)
		return n == 0 ? -1 : 0;
	if (mra_handover_parse(buf, (size_t)n, &h) < 0) {
		log_warning("spawner: malformed hand-over");
		close(fd);
		return 0;
	}
	if ((pid = fork()) == 0)
		mra_mail_process(sp, &h, fd);
	if (pid < 0) {
		log_error("spawner: fork: %s", strerror(errno));
		mra_reply_send(sp->sock, h.seq, 0, "cannot fork");
	} else
		child_add(pid, h.seq);
	close(fd);
	return 0;
}

/*
 * Reap the mail processes that ended.  Each end is reported as a FAIL of
 * its hand-over: the login process ignores it when the mail process had
 * answered, and otherwise (a crash before it could) answers the client
 * instead of leaving it waiting.
 */
static void
spawner_reap(const struct mra_spawner *sp, int sigfd)
{
	unsigned long long seq;
	struct signalfd_siginfo si;
	int status;
	pid_t pid;

	while (read(sigfd, &si, sizeof(si)) > 0)
		;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((seq = child_remove(pid)) != 0)
			mra_reply_send(sp->sock, seq, 0, "mail process ended");
		if (WIFSIGNALED(status))
			log_warning("mail process %ld killed by signal %d",
			    (long)pid, WTERMSIG(status));
		else if (WEXITSTATUS(status) != 0)
			log_debug("mail process %ld exited with status %d",
			    (long)pid, WEXITSTATUS(status));
	}
}

/* The spawner's life: hand-overs and children until the login goes. */
static void __attribute__((noreturn))
spawner_run(struct mra_spawner *sp)
{
	char *buf = xmalloc(MRA_HANDOVER_MAX + 1);
	struct pollfd pfd[2];
	sigset_t set;
	int sigfd;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		log_fatal("spawner: signalfd: %s", strerror(errno));
	sp->sigfd = sigfd;
	pfd[0] = (struct pollfd){ sp->sock, POLLIN, 0 };
	pfd[1] = (struct pollfd){ sigfd, POLLIN, 0 };
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_fatal("spawner: poll: %s", strerror(errno));
		}
		if (pfd[1].revents != 0)
			spawner_reap(sp, sigfd);
		if (pfd[0].revents != 0 && spawner_handover(sp, buf) < 0)
			break;
	}
	log_debug("spawner: the login process is gone");
	exit(0);
}

int
mra_spawner_start(const struct cfg *cfg, const char *service,
    mra_engine_fn *engine, bool foreground)
{
	static struct mra_spawner sp;
	char name[64];
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		log_fatal("socketpair: %s", strerror(errno));
	sp.login_pid = getpid();
	if ((pid = fork()) < 0)
		log_fatal("fork: %s", strerror(errno));
	if (pid > 0) {
		close(sv[1]);
		return sv[0];
	}
	/* Hold nothing of the login process's: not its listeners. */
	snprintf(name, sizeof(name), "%s", strchr(log_ident(), '/') != NULL ?
	    strchr(log_ident(), '/') + 1 : log_ident());
	closelog();
	if (sv[1] != 3 && (dup2(sv[1], 3) < 0 || close(sv[1]) < 0))
		log_fatal("spawner: dup2: %s", strerror(errno));
	close_range(4, ~0u, 0);
	log_open(name, foreground ? LOG_DEST_STDERR : LOG_DEST_SYSLOG);
	sp.cfg = cfg;
	sp.service = service;
	sp.engine = engine;
	sp.sock = 3;
	sp.userdb_path = userdb_path(cfg);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	spawner_run(&sp);
}
