/*
 * A blocking auth-userdb client.  Each
 * thread keeps its connection for the next lookup (a delivery agent
 * thread delivers message after message), and opens a new one when the
 * kept one fails.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <pthread.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery/userdb.h"
#include "lib/str.h"
#include "lib/tabescape.h"
#include "lib/xalloc.h"

#define USERDB_TIMEOUT_SECS	30
#define USERDB_MAX_LINE		65536

struct udb_conn {
	int fd;
	struct str in;
};

/* Connect to the UNIX socket PATH.  0, or -1 with *ERROR_R. */
static int
udb_connect(struct udb_conn *c, const char *path, char **error_r)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { USERDB_TIMEOUT_SECS, 0 };

	memset(c, 0, sizeof(*c));
	if (strlen(path) >= sizeof(sun.sun_path)) {
		*error_r = xasprintf("%s: path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		*error_r = xasprintf("connect to userdb %s: %s", path,
		    strerror(errno));
		if (c->fd >= 0)
			close(c->fd);
		return -1;
	}
	return 0;
}

/* Send TEXT whole. */
static int
udb_write(struct udb_conn *c, const char *text, char **error_r)
{
	size_t len = strlen(text);
	ssize_t n;

	while (len > 0) {
		n = send(c->fd, text, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = xasprintf("write to userdb: %s",
			    strerror(errno));
			return -1;
		}
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The next line (allocated, without LF), or NULL with *ERROR_R. */
static char *
udb_read_line(struct udb_conn *c, char **error_r)
{
	char buf[4096], *nl, *line;
	ssize_t n;

	while ((nl = c->in.s != NULL ? memchr(c->in.s, '\n', c->in.len) :
	    NULL) == NULL) {
		if (c->in.len > USERDB_MAX_LINE) {
			*error_r = xstrdup("userdb reply too long");
			return NULL;
		}
		n = read(c->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*error_r = xasprintf("read from userdb: %s", n < 0 ?
			    strerror(errno) : "connection closed");
			return NULL;
		}
		str_append_n(&c->in, buf, (size_t)n);
	}
	line = xstrndup(c->in.s, (size_t)(nl - c->in.s));
	memmove(c->in.s, nl + 1, c->in.len - (size_t)(nl - c->in.s) - 1);
	str_truncate(&c->in, c->in.len - (size_t)(nl - c->in.s) - 1);
	return line;
}

int
userdb_parse_uid(const char *s, uid_t *uid_r)
{
	struct passwd pw, *res;
	char buf[4096];
	unsigned n;

	if (str_to_uint(s, &n) == 0) {
		*uid_r = (uid_t)n;
		return 0;
	}
	if (getpwnam_r(s, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return -1;
	*uid_r = pw.pw_uid;
	return 0;
}

int
userdb_parse_gid(const char *s, gid_t *gid_r)
{
	struct group gr, *res;
	char buf[16384];
	unsigned n;

	if (str_to_uint(s, &n) == 0) {
		*gid_r = (gid_t)n;
		return 0;
	}
	if (getgrnam_r(s, &gr, buf, sizeof(buf), &res) != 0 || res == NULL)
		return -1;
	*gid_r = gr.gr_gid;
	return 0;
}

/* Fill U from the fields of a USER reply.  0, or -1 with *ERROR_R. */
static int
user_fields(struct userdb_user *u, char **args, size_t n, char **error_r)
{
	size_t i;
	char *eq;

	u->login = xstrdup(args[2]);
	for (i = 3; i < n; i++) {
		if ((eq = strchr(args[i], '=')) == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(args[i], "uid") == 0) {
			if (userdb_parse_uid(eq, &u->uid) < 0)
				goto bad;
			u->have_uid = true;
		} else if (strcmp(args[i], "gid") == 0) {
			if (userdb_parse_gid(eq, &u->gid) < 0)
				goto bad;
			u->have_gid = true;
		} else if (strcmp(args[i], "home") == 0 && *eq != '\0') {
			free(u->home);
			u->home = xstrdup(eq);
		} else if (strcmp(args[i], "mail") == 0 && *eq != '\0') {
			free(u->mail);
			u->mail = xstrdup(eq);
		}
	}
	return 0;
bad:
	*error_r = xasprintf("userdb: user %s: invalid %s \"%s\"", u->login,
	    args[i], eq);
	return -1;
}

/* Interpret the reply LINE to request 1.  1, 0 or -1 as userdb_lookup. */
static int
user_reply(char *line, struct userdb_user *u, char **error_r)
{
	size_t n;
	char **args = tab_split(line, &n);
	int ret = -1;

	if (n >= 3 && strcmp(args[0], "USER") == 0 &&
	    strcmp(args[1], "1") == 0)
		ret = user_fields(u, args, n, error_r) < 0 ? -1 : 1;
	else if (n >= 2 && strcmp(args[0], "NOTFOUND") == 0)
		ret = 0;
	else if (n >= 2 && strcmp(args[0], "FAIL") == 0)
		*error_r = xstrdup("userdb lookup failed");
	else
		*error_r = xstrdup("unexpected userdb reply");
	free(args);
	return ret;
}

/* VERSION exchange: the server's VERSION and SPID lines. */
static int
udb_handshake(struct udb_conn *c, char **error_r)
{
	char *l1, *l2 = NULL;
	int ret = -1;

	if (udb_write(c, "VERSION\t1\t0\n", error_r) < 0)
		return -1;
	if ((l1 = udb_read_line(c, error_r)) != NULL &&
	    (l2 = udb_read_line(c, error_r)) != NULL) {
		if (strncmp(l1, "VERSION\t1\t", 10) == 0)
			ret = 0;
		else
			*error_r = xstrdup("not an auth-userdb socket");
	}
	free(l1);
	free(l2);
	return ret;
}

/* This thread's kept connection (a struct udb_conn), closed when the
   thread ends. */
static pthread_key_t conn_key;
static pthread_once_t conn_once = PTHREAD_ONCE_INIT;

static void
conn_close(void *arg)
{
	struct udb_conn *c = arg;

	close(c->fd);
	str_free(&c->in);
	free(c);
}

static void
conn_key_make(void)
{
	if (pthread_key_create(&conn_key, conn_close) != 0)
		abort();
}

/* Send REQ on this thread's connection to PATH (made when there is none)
   and read the reply line; the connection is dropped on any error. */
static char *
udb_ask(const char *path, const char *req, bool *reused_r, char **error_r)
{
	struct udb_conn *c;
	char *line;

	pthread_once(&conn_once, conn_key_make);
	c = pthread_getspecific(conn_key);
	*reused_r = c != NULL;
	if (c == NULL) {
		c = xmalloc(sizeof(*c));
		if (udb_connect(c, path, error_r) < 0) {
			free(c);
			return NULL;
		}
		if (udb_handshake(c, error_r) < 0) {
			conn_close(c);
			return NULL;
		}
		(void)pthread_setspecific(conn_key, c);
	}
	if (udb_write(c, req, error_r) == 0 &&
	    (line = udb_read_line(c, error_r)) != NULL)
		return line;
	(void)pthread_setspecific(conn_key, NULL);
	conn_close(c);
	return NULL;
}

int
userdb_lookup(const char *path, const char *login, const char *service,
    struct userdb_user *user_r, char **error_r)
{
	struct str req = STR_INIT;
	char *line;
	bool reused;
	int ret = -1;

	memset(user_r, 0, sizeof(*user_r));
	str_append(&req, "USER\t1\t");
	tab_escape(&req, login);
	str_append(&req, "\tservice=");
	tab_escape(&req, service);
	str_append_c(&req, '\n');
	line = udb_ask(path, str_c(&req), &reused, error_r);
	if (line == NULL && reused) {
		/* authd restarted since: once more on a new connection. */
		free(*error_r);
		line = udb_ask(path, str_c(&req), &reused, error_r);
	}
	if (line != NULL) {
		ret = user_reply(line, user_r, error_r);
		free(line);
	}
	if (ret < 0)
		userdb_user_clear(user_r);
	str_free(&req);
	return ret;
}

void
userdb_user_clear(struct userdb_user *user)
{
	free(user->login);
	free(user->home);
	free(user->mail);
	memset(user, 0, sizeof(*user));
}
