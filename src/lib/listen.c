/* Listening sockets from text specs: TCP over IPv4/IPv6 and UNIX-domain. */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/listen.h"
#include "lib/xalloc.h"

#define UNIX_PATH_MAX	sizeof(((struct sockaddr_un *)0)->sun_path)

/* Check that S is a port number from 1 to 65535. */
static int
parse_port(const char *s, const char **error_r)
{
	size_t i;
	long port;

	if (*s == '\0') {
		*error_r = "missing port number";
		return -1;
	}
	for (i = 0; s[i] != '\0'; i++) {
		if (!isdigit((unsigned char)s[i]) || i >= 5) {
			*error_r = "the port must be a number from 1 to 65535";
			return -1;
		}
	}
	port = strtol(s, NULL, 10);
	if (port < 1 || port > 65535) {
		*error_r = "the port must be a number from 1 to 65535";
		return -1;
	}
	return 0;
}

/* Check that HOST is an IPv4 address or a host name. */
static int
check_host(const char *host, const char **error_r)
{
	const char *p;

	if (*host == '\0') {
		*error_r = "missing host before the port";
		return -1;
	}
	if (strchr(host, ':') != NULL) {
		*error_r = "an IPv6 address needs brackets, e.g. [::1]:25";
		return -1;
	}
	for (p = host; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' &&
		    *p != '_') {
			*error_r = "bad character in the host name";
			return -1;
		}
	}
	return 0;
}

/* Parse "[ADDR]:PORT" into R. */
static int
parse_inet6(const char *s, struct listen_spec *r, const char **error_r)
{
	struct in6_addr addr;
	const char *end = strchr(s, ']');
	char *host;

	if (end == NULL) {
		*error_r = "missing ] after the IPv6 address";
		return -1;
	}
	if (end[1] != ':') {
		*error_r = "missing :PORT after the IPv6 address";
		return -1;
	}
	if (parse_port(end + 2, error_r) < 0)
		return -1;
	host = xstrndup(s + 1, (size_t)(end - s - 1));
	if (inet_pton(AF_INET6, host, &addr) != 1) {
		free(host);
		*error_r = "not an IPv6 address between [ and ]";
		return -1;
	}
	r->host = host;
	r->port = xstrdup(end + 2);
	return 0;
}

/* Parse the INET forms (without "inet:") into R. */
static int
parse_inet(const char *s, struct listen_spec *r, const char **error_r)
{
	const char *colon;
	char *host;

	r->type = LISTEN_INET;
	if (*s == '[')
		return parse_inet6(s, r, error_r);
	colon = strrchr(s, ':');
	if (colon == NULL) {
		if (parse_port(s, error_r) < 0)
			return -1;
		r->port = xstrdup(s);
		return 0;
	}
	if (parse_port(colon + 1, error_r) < 0)
		return -1;
	host = xstrndup(s, (size_t)(colon - s));
	if (strcmp(host, "*") != 0 && check_host(host, error_r) < 0) {
		free(host);
		return -1;
	}
	if (strcmp(host, "*") == 0) {
		free(host);
		host = NULL;
	}
	r->host = host;
	r->port = xstrdup(colon + 1);
	return 0;
}

/* Parse an octal MODE field into *MODE_R. */
static int
parse_mode(const char *s, mode_t *mode_r, const char **error_r)
{
	unsigned long mode = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '7' || i >= 4) {
			*error_r = "the mode must be octal, e.g. 0660";
			return -1;
		}
		mode = mode * 8 + (unsigned long)(s[i] - '0');
	}
	if (mode > 0777) {
		*error_r = "the mode must be at most 0777";
		return -1;
	}
	*mode_r = (mode_t)mode;
	return 0;
}

/* Check a USER or GROUP field: a name or a number. */
static int
check_owner(const char *s, const char **error_r)
{
	const char *p;

	for (p = s; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' &&
		    *p != '_') {
			*error_r = "bad character in the user or group name";
			return -1;
		}
	}
	return 0;
}

/* Check the PATH field of a UNIX-domain spec. */
static int
check_path(const char *path, const char **error_r)
{
	if (path[0] != '/') {
		*error_r = "the socket path must be absolute";
		return -1;
	}
	if (strlen(path) >= UNIX_PATH_MAX) {
		*error_r = "the socket path is too long";
		return -1;
	}
	return 0;
}

/* Parse "PATH[:MODE[:USER[:GROUP]]]" (without "unix:") into R. */
static int
parse_unix(const char *s, struct listen_spec *r, const char **error_r)
{
	char *copy = xstrdup(s), *field[4] = { NULL, NULL, NULL, NULL };
	char *p = copy;
	size_t n;

	r->type = LISTEN_UNIX;
	r->mode = LISTEN_DEFAULT_MODE;
	for (n = 0; p != NULL; n++) {
		if (n == 4) {
			*error_r = "too many fields: unix:PATH[:MODE[:USER"
			    "[:GROUP]]]";
			goto fail;
		}
		field[n] = strsep(&p, ":");
	}
	if (check_path(field[0], error_r) < 0 ||
	    (field[1] != NULL && *field[1] != '\0' &&
	    parse_mode(field[1], &r->mode, error_r) < 0) ||
	    (field[2] != NULL && check_owner(field[2], error_r) < 0) ||
	    (field[3] != NULL && check_owner(field[3], error_r) < 0))
		goto fail;
	r->path = xstrdup(field[0]);
	if (field[2] != NULL && *field[2] != '\0')
		r->user = xstrdup(field[2]);
	if (field[3] != NULL && *field[3] != '\0')
		r->group = xstrdup(field[3]);
	free(copy);
	return 0;
fail:
	free(copy);
	return -1;
}

int
listen_parse(const char *spec, struct listen_spec *r, const char **error_r)
{
	int ret;

	memset(r, 0, sizeof(*r));
	if (*spec == '\0') {
		*error_r = "empty listener";
		return -1;
	}
	if (strncasecmp(spec, "unix:", 5) == 0)
		ret = parse_unix(spec + 5, r, error_r);
	else if (strncasecmp(spec, "inet:", 5) == 0)
		ret = parse_inet(spec + 5, r, error_r);
	else
		ret = parse_inet(spec, r, error_r);
	if (ret < 0)
		listen_spec_clear(r);
	return ret;
}

void
listen_spec_clear(struct listen_spec *spec)
{
	free(spec->host);
	free(spec->port);
	free(spec->path);
	free(spec->user);
	free(spec->group);
	memset(spec, 0, sizeof(*spec));
}

/* Compare two optional strings, case-insensitively. */
static bool
same_text(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcasecmp(a, b) == 0;
}

bool
listen_same_address(const struct listen_spec *a, const struct listen_spec *b)
{
	if (a->type != b->type)
		return false;
	if (a->type == LISTEN_UNIX)
		return strcmp(a->path, b->path) == 0;
	return same_text(a->host, b->host) &&
	    atoi(a->port) == atoi(b->port);
}

/* Append FD to R. */
static void
fds_add(struct listen_fds *r, int fd)
{
	r->fds = xreallocarray(r->fds, r->count + 1, sizeof(*r->fds));
	r->fds[r->count++] = fd;
}

/* Format the address AI for messages. */
static char *
ai_name(const struct addrinfo *ai)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host),
	    serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return xstrdup("?");
	if (ai->ai_family == AF_INET6)
		return xasprintf("[%s]:%s", host, serv);
	return xasprintf("%s:%s", host, serv);
}

/* Open one TCP socket on AI.  Returns the fd, or -1 with errno set. */
static int
inet_open_one(const struct addrinfo *ai)
{
	int fd, on = 1, saved;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) < 0) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* True when a wildcard spec may skip AI: IPv6 is missing on this host. */
static bool
inet_skippable(const struct listen_spec *spec, const struct addrinfo *ai,
    int err)
{
	return spec->host == NULL && ai->ai_family == AF_INET6 &&
	    (err == EAFNOSUPPORT || err == EADDRNOTAVAIL);
}

/* Open every address SPEC (INET) resolves to. */
static int
inet_open(const struct listen_spec *spec, struct listen_fds *r,
    char **error_r)
{
	struct addrinfo hints, *res, *ai;
	char *name;
	int fd, gai, err;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	gai = getaddrinfo(spec->host, spec->port, &hints, &res);
	if (gai != 0) {
		*error_r = xasprintf("%s: %s", spec->host != NULL ?
		    spec->host : "*", gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = inet_open_one(ai);
		if (fd < 0 && inet_skippable(spec, ai, errno))
			continue;
		if (fd < 0) {
			err = errno;
			name = ai_name(ai);
			*error_r = xasprintf("%s: %s", name, strerror(err));
			free(name);
			freeaddrinfo(res);
			return -1;
		}
		fds_add(r, fd);
	}
	freeaddrinfo(res);
	if (r->count == 0) {
		*error_r = xasprintf("*:%s: no usable address", spec->port);
		return -1;
	}
	return 0;
}

/* Resolve the owner of SPEC, with defaults UID and GID. */
static int
unix_owner(const struct listen_spec *spec, uid_t uid, gid_t gid,
    uid_t *uid_r, gid_t *gid_r, char **error_r)
{
	const struct passwd *pw;
	const struct group *gr;

	*uid_r = uid;
	*gid_r = gid;
	if (spec->user != NULL) {
		pw = getpwnam(spec->user);
		if (pw == NULL && strspn(spec->user, "0123456789") ==
		    strlen(spec->user))
			pw = getpwuid((uid_t)strtoul(spec->user, NULL, 10));
		if (pw == NULL) {
			*error_r = xasprintf("%s: unknown user %s",
			    spec->path, spec->user);
			return -1;
		}
		*uid_r = pw->pw_uid;
		*gid_r = pw->pw_gid;
	}
	if (spec->group != NULL) {
		gr = getgrnam(spec->group);
		if (gr == NULL && strspn(spec->group, "0123456789") ==
		    strlen(spec->group))
			gr = getgrgid((gid_t)strtoul(spec->group, NULL, 10));
		if (gr == NULL) {
			*error_r = xasprintf("%s: unknown group %s",
			    spec->path, spec->group);
			return -1;
		}
		*gid_r = gr->gr_gid;
	}
	return 0;
}

int
listen_set_perms(const struct listen_spec *spec, uid_t uid, gid_t gid,
    char **error_r)
{
	uid_t u;
	gid_t g;

	if (spec->type != LISTEN_UNIX)
		return 0;
	if (unix_owner(spec, uid, gid, &u, &g, error_r) < 0)
		return -1;
	if ((u != (uid_t)-1 || g != (gid_t)-1) &&
	    lchown(spec->path, u, g) < 0) {
		*error_r = xasprintf("chown %s: %s", spec->path,
		    strerror(errno));
		return -1;
	}
	if (chmod(spec->path, spec->mode) < 0) {
		*error_r = xasprintf("chmod %s: %s", spec->path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Remove PATH when it is a socket nobody answers on. */
static int
unix_remove_stale(const char *path, const struct sockaddr_un *sun,
    char **error_r)
{
	struct stat st;
	int fd, ret;

	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		*error_r = xasprintf("%s: exists and is not a socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	ret = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (ret == 0) {
		*error_r = xasprintf("%s: in use by another process", path);
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		*error_r = xasprintf("unlink %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Create, bind and listen on the UNIX-domain socket SUN; returns the fd. */
static int
unix_bind(const struct sockaddr_un *sun, char **error_r)
{
	mode_t old_umask;
	int fd, ret;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	/* Nobody may connect before the final mode is applied. */
	old_umask = umask(0077);
	ret = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));
	umask(old_umask);
	if (ret < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		*error_r = xasprintf("%s: %s", sun->sun_path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Open the UNIX-domain socket of SPEC. */
static int
unix_open(const struct listen_spec *spec, uid_t uid, gid_t gid,
    struct listen_fds *r, char **error_r)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strncpy(sun.sun_path, spec->path, sizeof(sun.sun_path) - 1);
	if (unix_remove_stale(spec->path, &sun, error_r) < 0)
		return -1;
	fd = unix_bind(&sun, error_r);
	if (fd < 0)
		return -1;
	if (lstat(spec->path, &st) < 0 ||
	    listen_set_perms(spec, uid, gid, error_r) < 0) {
		if (*error_r == NULL)
			*error_r = xasprintf("%s: %s", spec->path,
			    strerror(errno));
		close(fd);
		unlink(spec->path);
		return -1;
	}
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	fds_add(r, fd);
	return 0;
}

int
listen_open(const struct listen_spec *spec, uid_t uid, gid_t gid,
    struct listen_fds *r, char **error_r)
{
	int ret;

	memset(r, 0, sizeof(*r));
	*error_r = NULL;
	if (spec->type == LISTEN_UNIX)
		ret = unix_open(spec, uid, gid, r, error_r);
	else
		ret = inet_open(spec, r, error_r);
	if (ret < 0)
		listen_close(spec, r, false);
	return ret;
}

void
listen_close(const struct listen_spec *spec, struct listen_fds *fds,
    bool unlink_file)
{
	struct stat st;
	size_t i;

	for (i = 0; i < fds->count; i++)
		close(fds->fds[i]);
	if (unlink_file && fds->count > 0 && spec->type == LISTEN_UNIX &&
	    lstat(spec->path, &st) == 0 && st.st_dev == fds->dev &&
	    st.st_ino == fds->ino)
		unlink(spec->path);
	free(fds->fds);
	memset(fds, 0, sizeof(*fds));
}

/* Take the sockets passed in LISTEN_FDS and name them. */
int
listen_inherited(void (*cb)(int fd, const char *name, void *arg),
    void *arg, const char **error_r)
{
	const char *pid = getenv("LISTEN_PID");
	const char *fds = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	char *copy, *p, *name, *end;
	long n;
	int i;

	if (pid == NULL || fds == NULL || atol(pid) != (long)getpid()) {
		*error_r = "no sockets passed (LISTEN_PID/LISTEN_FDS)";
		return -1;
	}
	n = strtol(fds, &end, 10);
	if (*end != '\0' || n < 1 || n > LISTEN_FDS_MAX) {
		*error_r = "bad LISTEN_FDS";
		return -1;
	}
	for (i = 0; i < n; i++)
		if (fcntl(LISTEN_FDS_START + i, F_GETFD) < 0) {
			*error_r = "a socket in LISTEN_FDS is not open";
			return -1;
		}
	copy = xstrdup(names != NULL ? names : "");
	p = copy;
	for (i = 0; i < n; i++) {
		name = p != NULL ? strsep(&p, ":") : "";
		cb(LISTEN_FDS_START + i, name, arg);
	}
	free(copy);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (int)n;
}
