/*
 * The auth client's way to the server: a bounded, blocking connect to a
 * UNIX or TCP socket and the Dovecot auth-client 1.2 handshake.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "global/auth_client_connect.h"
#include "global/authproto.h"
#include "lib/clock.h"
#include "lib/str.h"
#include "lib/tabescape.h"
#include "lib/xalloc.h"

/* The server's handshake read so far. */
struct handshake {
	bool version;
	struct authc_mechs mechs;
	char *cookie;		/* AUTHC_COOKIE_MAX bytes */
};

/* Free the mechanisms of L and empty it. */
void
authc_mechs_clear(struct authc_mechs *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Append a copy of M to L. */
void
authc_mechs_add(struct authc_mechs *l, const struct auth_mech *m)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n] = *m;
	l->v[l->n].name = xstrdup(m->name);
	l->n++;
}

/* Return the mechanism NAME of L (any case), or NULL. */
const struct auth_mech *
authc_mechs_find(const struct authc_mechs *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

/* MECH name [flags...] */
static int
handshake_mech(struct handshake *hs, char **args, size_t n)
{
	struct auth_mech m = { args[1], false, false, false };
	size_t i;

	if (n < 2 || *args[1] == '\0')
		return -1;
	for (i = 2; i < n; i++) {
		if (strcasecmp(args[i], "plaintext") == 0)
			m.plaintext = true;
		else if (strcasecmp(args[i], "anonymous") == 0)
			m.anonymous = true;
		else if (strcasecmp(args[i], "private") == 0)
			m.private_ = true;
	}
	authc_mechs_add(&hs->mechs, &m);
	return 0;
}

/* One handshake line: -1 bad, 0 more to come, 1 DONE. */
static int
handshake_line(struct handshake *hs, char *line, const char **error_r)
{
	size_t n;
	char **args = tab_split(line, &n);
	unsigned int major;
	int ret = 0;

	*error_r = "malformed handshake";
	if (!hs->version) {
		if (n < 3 || strcmp(args[0], "VERSION") != 0 ||
		    str_to_uint(args[1], &major) < 0 || major != 1) {
			*error_r = "not an auth-client socket, or protocol "
			    "version mismatch";
			ret = -1;
		}
		hs->version = true;
	} else if (strcmp(args[0], "MECH") == 0) {
		ret = handshake_mech(hs, args, n);
	} else if (strcmp(args[0], "COOKIE") == 0 && n >= 2 &&
	    strlen(args[1]) < AUTHC_COOKIE_MAX) {
		/* Only a master's REQUEST needs it (auth_client_cookie()). */
		strcpy(hs->cookie, args[1]);
	} else if (strcmp(args[0], "DONE") == 0) {
		ret = hs->mechs.n > 0 ? 1 : -1;
		if (ret < 0)
			*error_r = "no mechanisms offered";
	}
	free(args);
	return ret;
}

/* Wait until FD can be read, then read into IN; 0, or -1. */
static int
handshake_read(int fd, struct evbuffer *in, long long deadline,
    const char **error_r)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	long long left = deadline - clock_now_ms();
	int ret;

	if (left <= 0 || (ret = poll(&pfd, 1, (int)left)) == 0) {
		*error_r = "handshake timed out";
		return -1;
	}
	if (ret < 0 && errno == EINTR)
		return 0;
	if (ret < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	ret = evbuffer_read(in, fd, 4096);
	if (ret == 0)
		*error_r = "connection closed during the handshake";
	else if (ret < 0 && errno != EAGAIN && errno != EINTR)
		*error_r = strerror(errno);
	else
		return 0;
	return -1;
}

/* Send our handshake on FD and read the server's until DONE. */
int
authc_handshake(int fd, long long deadline, struct evbuffer *in,
    struct authc_mechs *mechs_r, char *cookie_r, const char **error_r)
{
	struct handshake hs = { false, { NULL, 0 }, cookie_r };
	char hello[64], *line;
	bool too_long;
	int len, ret = 0;

	*cookie_r = '\0';
	len = snprintf(hello, sizeof(hello), "VERSION\t1\t2\nCPID\t%ld\n",
	    (long)getpid());
	if (send(fd, hello, (size_t)len, MSG_NOSIGNAL) != len) {
		*error_r = "cannot send the handshake";
		return -1;
	}
	while (ret == 0) {
		if ((line = authproto_next_line(in, AUTHPROTO_MAX_LINE,
		    &too_long)) != NULL) {
			ret = handshake_line(&hs, line, error_r);
			free(line);
		} else if (too_long) {
			*error_r = "handshake line too long";
			ret = -1;
		} else {
			ret = handshake_read(fd, in, deadline, error_r);
		}
	}
	if (ret < 0)
		authc_mechs_clear(&hs.mechs);
	else
		*mechs_r = hs.mechs;
	return ret < 0 ? -1 : 0;
}

/* Wait until the connect on FD finishes or DEADLINE passes.  0, or -1. */
static int
connect_wait(int fd, long long deadline, const char **error_r)
{
	struct pollfd pfd = { fd, POLLOUT, 0 };
	long long left = deadline - clock_now_ms();
	socklen_t len = sizeof(int);
	int err = 0;

	if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
		*error_r = "connect timed out";
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		*error_r = strerror(err);
		return -1;
	}
	return 0;
}

/* Make a non-blocking socket for SA and connect it.  The fd, or -1. */
static int
connect_addr(const struct sockaddr *sa, socklen_t len, long long deadline,
    const char **error_r)
{
	int fd;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	if (connect(fd, sa, len) == 0)
		return fd;
	if (errno != EINPROGRESS)
		*error_r = strerror(errno);
	else if (connect_wait(fd, deadline, error_r) == 0)
		return fd;
	close(fd);
	return -1;
}

/* Connect to the UNIX socket PATH.  The fd, or -1. */
static int
connect_unix(const char *path, long long deadline, const char **error_r)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		*error_r = "socket path too long";
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	return connect_addr((struct sockaddr *)&sun, sizeof(sun), deadline,
	    error_r);
}

/* Connect to "HOST:PORT" or "[HOST]:PORT".  The fd, or -1. */
static int
connect_inet(const char *spec, long long deadline, const char **error_r)
{
	struct addrinfo hints, *res, *ai;
	char *host = xstrdup(spec + (*spec == '['));
	char *port = strrchr(host, ':');
	int fd = -1, ret;

	*error_r = "bad inet:HOST:PORT";
	if (port != NULL) {
		*port++ = '\0';
		if (*spec == '[' && port - host >= 2 && port[-2] == ']')
			port[-2] = '\0';
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		ret = getaddrinfo(host, port, &hints, &res);
		if (ret != 0)
			*error_r = gai_strerror(ret);
		for (ai = ret == 0 ? res : NULL; ai != NULL && fd < 0;
		    ai = ai->ai_next)
			fd = connect_addr(ai->ai_addr, ai->ai_addrlen, deadline,
			    error_r);
		if (ret == 0)
			freeaddrinfo(res);
	}
	free(host);
	return fd;
}

/* Connect to the server at PATH. */
int
authc_connect_server(const char *path, long long deadline,
    const char **error_r)
{
	if (strncmp(path, "inet:", 5) == 0)
		return connect_inet(path + 5, deadline, error_r);
	if (strncmp(path, "unix:", 5) == 0)
		return connect_unix(path + 5, deadline, error_r);
	return connect_unix(path, deadline, error_r);
}
