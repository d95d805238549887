/*
 * A mail process, from the spawner's fork to the engine: ask authd's
 * auth-userdb socket for the finished login (REQUEST with the login
 * process's pid, authd's request id and cookie, as Dovecot's master
 * does), so that the user and uid come from authd and never from the
 * login process; check the uid; tell the login process; become the
 * user; run the engine.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/mail_location.h"
#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/tabescape.h"
#include "lib/xalloc.h"
#include "mra/spawner.h"

/* How long authd may take to answer the REQUEST. */
#define USERDB_TIMEOUT_SECS	30
/* The longest reply line accepted. */
#define USERDB_LINE_MAX		65536

/* The user of a finished login, as the userdb gave it. */
struct mail_user {
	char *line;			/* owns the strings below */
	char **fields;
	const char *name, *uid, *gid, *home, *mail;
};

/* Connect to the UNIX socket PATH with I/O timeouts.  The fd, or -1. */
static int
userdb_connect(const char *path, const char **error_r)
{
	struct timeval tv = { USERDB_TIMEOUT_SECS, 0 };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		*error_r = "auth-userdb socket path too long";
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		*error_r = strerror(errno);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Read lines from FD until the one answering request 1.  Allocated, or
   NULL with *ERROR_R. */
static char *
userdb_read_reply(int fd, const char **error_r)
{
	struct str in = STR_INIT;
	char buf[4096], *line, *nl;
	size_t start = 0;
	ssize_t n;

	for (;;) {
		while (in.len > start && (nl = memchr(in.s + start, '\n',
		    in.len - start)) != NULL) {
			line = in.s + start;
			*nl = '\0';
			start = (size_t)(nl - in.s) + 1;
			if (strncmp(line, "USER\t1\t", 7) == 0 ||
			    strncmp(line, "FAIL\t1", 6) == 0 ||
			    strncmp(line, "NOTFOUND\t1", 10) == 0) {
				line = xstrdup(line);
				str_free(&in);
				return line;
			}
		}
		if (in.len > USERDB_LINE_MAX) {
			*error_r = "reply line too long";
			break;
		}
		if ((n = read(fd, buf, sizeof(buf))) <= 0) {
			*error_r = n == 0 ? "connection closed" :
			    errno == EAGAIN ? "timed out" : strerror(errno);
			break;
		}
		str_append_n(&in, buf, (size_t)n);
	}
	str_free(&in);
	return NULL;
}

/* Split the USER reply LINE into *U.  0, or -1 with *ERROR_R. */
static int
user_parse(char *line, struct mail_user *u, const char **error_r)
{
	size_t n, i;

	u->line = line;
	if (strncmp(line, "USER\t", 5) != 0) {
		*error_r = strncmp(line, "NOTFOUND", 8) == 0 ?
		    "the userdb does not know the user" :
		    "authd refused the request (see its log)";
		return -1;
	}
	u->fields = tab_split(line, &n);
	if (n < 3 || *u->fields[2] == '\0') {
		*error_r = "malformed userdb reply";
		return -1;
	}
	u->name = u->fields[2];
	for (i = 3; i < n; i++) {
		const char *f = u->fields[i];

		if (strncmp(f, "uid=", 4) == 0)
			u->uid = f + 4;
		else if (strncmp(f, "gid=", 4) == 0)
			u->gid = f + 4;
		else if (strncmp(f, "home=", 5) == 0)
			u->home = f + 5;
		else if (strncmp(f, "mail=", 5) == 0)
			u->mail = f + 5;
	}
	return 0;
}

/* REQUEST the login of H from authd.  0 with *U, or -1 with *ERROR_R. */
static int
userdb_request(const struct mra_spawner *sp, const struct mra_handover *h,
    struct mail_user *u, const char **error_r)
{
	struct str req = STR_INIT;
	char *line;
	int fd, ret = -1;

	if ((fd = userdb_connect(sp->userdb_path, error_r)) < 0)
		return -1;
	str_appendf(&req, "VERSION\t1\t0\nREQUEST\t1\t%ld\t%u\t",
	    (long)sp->login_pid, h->auth_id);
	tab_escape(&req, h->cookie);
	str_append_c(&req, '\n');
	if (write(fd, req.s, req.len) != (ssize_t)req.len)
		*error_r = "cannot send the request";
	else if ((line = userdb_read_reply(fd, error_r)) != NULL)
		ret = user_parse(line, u, error_r);
	close(fd);
	str_free(&req);
	return ret;
}

/* A uid given as a number or a user name.  0, or -1. */
static int
parse_uid(const char *s, uid_t *uid_r)
{
	struct passwd *pw;
	unsigned int n;

	if (str_to_uint(s, &n) == 0) {
		*uid_r = (uid_t)n;
		return 0;
	}
	if ((pw = getpwnam(s)) == NULL)
		return -1;
	*uid_r = pw->pw_uid;
	return 0;
}

/* A gid given as a number or a group name.  0, or -1. */
static int
parse_gid(const char *s, gid_t *gid_r)
{
	struct group *gr;
	unsigned int n;

	if (str_to_uint(s, &n) == 0) {
		*gid_r = (gid_t)n;
		return 0;
	}
	if ((gr = getgrnam(s)) == NULL)
		return -1;
	*gid_r = gr->gr_gid;
	return 0;
}

/*
 * The uid and gid U's mail process runs as: mail_uid and mail_gid when
 * set, else the userdb's; never 0, and within first_valid_uid and
 * last_valid_uid.  0, or -1 with the reason in *WHY_R (allocated).
 */
static int
user_ids(const struct cfg *cfg, const struct mail_user *u, uid_t *uid_r,
    gid_t *gid_r, char **why_r)
{
	const char *su = cfg_str(cfg, "mail_uid"), *sg = cfg_str(cfg,
	    "mail_gid");
	unsigned long long first = (unsigned long long)cfg_int(cfg,
	    "first_valid_uid");
	unsigned long long last = (unsigned long long)cfg_int(cfg,
	    "last_valid_uid");

	if (*su == '\0')
		su = u->uid;
	if (*sg == '\0')
		sg = u->gid;
	if (su == NULL || *su == '\0' || sg == NULL || *sg == '\0') {
		*why_r = xstrdup("no uid or gid from the userdb and no "
		    "mail_uid or mail_gid");
		return -1;
	}
	if (parse_uid(su, uid_r) < 0 || parse_gid(sg, gid_r) < 0) {
		*why_r = xasprintf("unknown uid \"%s\" or gid \"%s\"", su, sg);
		return -1;
	}
	if (*uid_r == 0 || *gid_r == 0)
		*why_r = xasprintf("%s 0 (root) is not permitted",
		    *uid_r == 0 ? "uid" : "gid");
	else if ((unsigned long long)*uid_r < first)
		*why_r = xasprintf("uid %lu is below first_valid_uid %llu",
		    (unsigned long)*uid_r, first);
	else if (last != 0 && (unsigned long long)*uid_r > last)
		*why_r = xasprintf("uid %lu is above last_valid_uid %llu",
		    (unsigned long)*uid_r, last);
	else
		return 0;
	return -1;
}

/* Become UID/GID for good, with GID as the only group.  0, or -1. */
static int
become_user(const char *user, uid_t uid, gid_t gid, char **why_r)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int ret;

	/*
	 * A system user (uid and gid those of the passwd entry named like
	 * the login: PAM, SSSD, the passwd userdb) gets its supplementary
	 * groups too, as Dovecot gives them to passwd users; any other
	 * owner only its gid.
	 */
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL && res->pw_gid == gid &&
	    strcmp(res->pw_name, user) == 0)
		ret = initgroups(res->pw_name, gid);
	else
		ret = setgroups(1, &gid);
	if (ret < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		*why_r = xasprintf("cannot become uid %lu gid %lu: %s",
		    (unsigned long)uid, (unsigned long)gid, strerror(errno));
		return -1;
	}
	/* Make sure root cannot come back. */
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid || setuid(0) == 0) {
		*why_r = xstrdup("privileges were not dropped");
		return -1;
	}
	return 0;
}

/* Report the failure WHY for H to the login process and end. */
static void __attribute__((noreturn))
mail_fail(const struct mra_spawner *sp, const struct mra_handover *h,
    const char *what, const char *why)
{
	log_warning("%s(%s): %s: %s", sp->service, h->user, what, why);
	mra_reply_send(sp->sock, h->seq, 0, why);
	_exit(1);
}

void
mra_mail_process(const struct mra_spawner *sp, const struct mra_handover *h,
    int fd)
{
	struct mail_user u = { NULL, NULL, NULL, NULL, NULL, NULL, NULL };
	struct mra_session s;
	const char *error, *location;
	char *why = NULL, *mail = NULL;
	sigset_t set;
	uid_t uid;
	gid_t gid;

	close(sp->sigfd);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	if (userdb_request(sp, h, &u, &error) < 0)
		mail_fail(sp, h, "userdb request", error);
	if (user_ids(sp->cfg, &u, &uid, &gid, &why) < 0)
		mail_fail(sp, h, "mail access refused", why);
	location = u.mail != NULL && *u.mail != '\0' ? u.mail :
	    cfg_str(sp->cfg, "mail_location");
	if (mail_location_expand(location, u.name,
	    cfg_str(sp->cfg, "auth_default_realm"), u.home, &mail,
	    &error) < 0)
		mail_fail(sp, h, "mail_location", error);
	mra_reply_send(sp->sock, h->seq, getpid(), NULL);
	close(sp->sock);
	if (become_user(h->user, uid, gid, &why) < 0)
		log_fatal("%s(%s): %s", sp->service, u.name, why);
	if (u.home == NULL || chdir(u.home) < 0)
		(void)chdir("/");
	s = (struct mra_session){
		.fd = fd, .service = sp->service, .user = u.name,
		.uid = uid, .gid = gid, .home = u.home != NULL ? u.home : "",
		.mail = mail, .tls = h->tls, .secured = h->secured,
		.rip = h->rip, .lip = h->lip, .rport = h->rport,
		.lport = h->lport, .mech = h->mech,
		.login_tag = *h->tag != '\0' ? h->tag : NULL,
		.input = h->input, .input_len = h->input_len, .cfg = sp->cfg,
	};
	exit(sp->engine(&s));
}
