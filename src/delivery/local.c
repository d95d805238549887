/*
 * local: the delivery agent of the local (mydestination) and virtual
 * transports.  dirmaild starts it as root; it serves
 * queue_directory/private/local (doc/delivery-protocol.md) with one
 * thread per connection (at most default_process_limit), reads each
 * message while root, and does all mailbox work with the thread's
 * file-system identity switched to the mailbox owner (local_id.h).
 * Commands run in a child that fully becomes their owner.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "delivery/local.h"
#include "delivery/local_id.h"
#include "delivery/maildir.h"
#include "delivery/userdb.h"
#include "global/daemon_opts.h"
#include "global/dproto.h"
#include "global/params.h"
#include "lib/cfg.h"
#include "lib/listen.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "maps/maps.h"
#include "queue/queue.h"

#define LOCAL_SOCKET	QUEUE_PRIVATE "/local"

struct local_settings local_set;

/* The connection threads: how many run, and the most allowed. */
static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conn_cond = PTHREAD_COND_INITIALIZER;
static unsigned conn_active, conn_limit;
/* Requests being delivered; after SIGTERM no new one starts. */
static unsigned busy;
static bool stopping;

/* Seconds the deliveries in progress may take after SIGTERM: within
   qmgr's wait for their replies and dirmaild's before SIGKILL. */
#define LOCAL_STOP_GRACE	2

/* The path of the first unix: socket of auth_userdb_listen. */
static char *
userdb_socket(const struct cfg *cfg)
{
	struct listen_spec spec;
	char *const *w, *path = NULL;
	const char *err;

	for (w = cfg_list(cfg, "auth_userdb_listen"); *w != NULL &&
	    path == NULL; w++) {
		if (listen_parse(*w, &spec, &err) < 0)
			log_fatal("auth_userdb_listen: %s: %s", *w, err);
		if (spec.type == LISTEN_UNIX)
			path = xstrdup(spec.path);
		listen_spec_clear(&spec);
	}
	return path != NULL ? path : xstrdup("");
}

/* mail_uid and mail_gid, when set. */
static void
settings_ids(const struct cfg *cfg)
{
	const char *u = cfg_str(cfg, "mail_uid"), *g = cfg_str(cfg, "mail_gid");

	if (*u != '\0') {
		if (userdb_parse_uid(u, &local_set.mail_uid) < 0)
			log_fatal("mail_uid: unknown user \"%s\"", u);
		local_set.have_mail_uid = true;
	}
	if (*g != '\0') {
		if (userdb_parse_gid(g, &local_set.mail_gid) < 0)
			log_fatal("mail_gid: unknown group \"%s\"", g);
		local_set.have_mail_gid = true;
	}
}

/* mailbox_delivery_lock. */
static void
settings_lock(const struct cfg *cfg)
{
	char *const *w;

	for (w = cfg_list(cfg, "mailbox_delivery_lock"); *w != NULL; w++) {
		if (strcmp(*w, "fcntl") == 0)
			local_set.fcntl_lock = true;
		else if (strcmp(*w, "dotlock") == 0)
			local_set.dotlock = true;
		else
			log_fatal("mailbox_delivery_lock: unknown method "
			    "\"%s\" (fcntl, dotlock)", *w);
	}
}

/* Read the settings and open the tables. */
static void
settings_read(const struct cfg *cfg)
{
	char *error;

	local_set.queue_dir = cfg_str(cfg, "queue_directory");
	local_set.myorigin = cfg_str(cfg, "myorigin");
	local_set.mail_location = cfg_str(cfg, "mail_location");
	local_set.default_realm = cfg_str(cfg, "auth_default_realm");
	local_set.home_mailbox = cfg_str(cfg, "home_mailbox");
	local_set.spool_dir = cfg_file(cfg, "mail_spool_directory");
	local_set.delimiter = cfg_str(cfg, "recipient_delimiter");
	local_set.userdb_socket = userdb_socket(cfg);
	local_set.maildir_host = maildir_host_escape(cfg_str(cfg,
	    "myhostname"));
	local_set.first_valid_uid = (unsigned long long)cfg_int(cfg,
	    "first_valid_uid");
	local_set.last_valid_uid = (unsigned long long)cfg_int(cfg,
	    "last_valid_uid");
	local_set.allow_commands = cfg_list(cfg, "allow_mail_to_commands");
	local_set.allow_files = cfg_list(cfg, "allow_mail_to_files");
	local_set.size_limit = cfg_size(cfg, "mailbox_size_limit");
	local_set.default_privs = cfg_str(cfg, "default_privs");
	local_set.command_time_limit = cfg_duration(cfg,
	    "command_time_limit");
	conn_limit = (unsigned)cfg_int(cfg, "default_process_limit");
	settings_ids(cfg);
	settings_lock(cfg);
	if (maplist_open(cfg_list(cfg, "virtual_mailbox_maps"),
	    &local_set.vmailbox_maps, &error) < 0)
		log_fatal("virtual_mailbox_maps: %s", error);
	if (local_alias_init(cfg_list(cfg, "alias_maps"), &error) < 0)
		log_fatal("alias_maps: %s", error);
}

/* Create the queue directories, owned by mail_owner. */
static void
queue_setup(const struct cfg *cfg)
{
	struct passwd *pw;
	char *error;

	if ((pw = getpwnam(cfg_str(cfg, "mail_owner"))) == NULL)
		log_fatal("mail_owner: unknown user \"%s\"",
		    cfg_str(cfg, "mail_owner"));
	if (queue_dirs_create(local_set.queue_dir, pw->pw_uid, pw->pw_gid,
	    &error) < 0)
		log_fatal("queue_directory: %s", error);
}

/* Listen on private/local: mode 0600, owned by dirmail_user. */
static int
socket_open(const struct cfg *cfg)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *path = xasprintf("%s/%s", local_set.queue_dir, LOCAL_SOCKET);
	struct passwd *pw = getpwnam(cfg_str(cfg, "dirmail_user"));
	struct stat st;
	mode_t mask;
	int fd;

	if (pw == NULL)
		log_fatal("dirmail_user: unknown user \"%s\"",
		    cfg_str(cfg, "dirmail_user"));
	if (strlen(path) >= sizeof(sun.sun_path))
		log_fatal("%s: path too long", path);
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);	/* left by an earlier run */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		log_fatal("socket: %s", strerror(errno));
	mask = umask(077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		log_fatal("bind %s: %s", path, strerror(errno));
	umask(mask);
	if (chmod(path, 0600) < 0 || chown(path, pw->pw_uid, pw->pw_gid) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0)
		log_fatal("%s: %s", path, strerror(errno));
	free(path);
	return fd;
}

/* Deliver one recipient of REQ; append its F and S lines to OUT. */
static void
deliver_rcpt(const struct dproto_request *req, const struct dproto_rcpt *rc,
    const struct local_msg *msg, struct str *out)
{
	bool virt = strcmp(req->transport, "virtual") == 0;
	struct local_job job = { .queue_id = req->queue_id,
	    .sender = req->sender, .rcpt = rc->final,
	    .relay = virt ? "virtual" : "local", .msg = msg };
	struct local_result r = { 0 };
	size_t i;

	if (local_msg_delivered_to(msg, rc->final))
		local_result_set(&r, 5, "5.4.6", "mail forwarding loop for %s",
		    rc->final);
	else if (virt)
		local_deliver_virtual(&job, &r);
	else
		local_deliver_user(&job, &r);
	if (r.class == 0)
		local_result_set(&r, 4, "4.3.0", "internal error: no result");
	if (r.class == 2)
		for (i = 0; i < r.n_forward; i++)
			dproto_forward_write(out, rc->index, r.forward[i]);
	if (r.class != 2)
		log_info("%s: to=<%s>, relay=%s: %s %s", req->queue_id,
		    rc->final, job.relay, r.dsn, r.text);
	dproto_status_write(out, rc->index, r.class, r.dsn, job.relay, r.text);
	local_result_clear(&r);
}

/* Is PATH a file inside the queue directory? */
static bool
queue_path_ok(const char *path)
{
	size_t len = strlen(local_set.queue_dir);

	return strncmp(path, local_set.queue_dir, len) == 0 &&
	    path[len] == '/' && strstr(path, "/../") == NULL &&
	    strstr(path, "/./") == NULL;
}

/* Every recipient of REQ gets CLASS, DSN, TEXT. */
static void
fail_all(const struct dproto_request *req, int class, const char *dsn,
    const char *text, struct str *out)
{
	size_t i;

	log_warning("%s: %s", req->queue_id, text);
	for (i = 0; i < req->n_rcpts; i++)
		dproto_status_write(out, req->rcpts[i].index, class, dsn,
		    req->transport, text);
}

/* Carry out REQ; the whole reply into OUT. */
static void
process(const struct dproto_request *req, struct str *out)
{
	struct local_msg msg;
	char *error;
	size_t i;

	if (strcmp(req->transport, "local") != 0 &&
	    strcmp(req->transport, "virtual") != 0)
		fail_all(req, 4, "4.3.5", "mail system configuration error: "
		    "transport not served by local", out);
	else if (!queue_path_ok(req->path))
		fail_all(req, 4, "4.3.0", "queue file outside "
		    "queue_directory", out);
	else if (local_msg_read(req->path, req->offset, req->length, &msg,
	    &error) < 0) {
		fail_all(req, 4, "4.3.0", error, out);
		free(error);
	} else {
		for (i = 0; i < req->n_rcpts; i++)
			deliver_rcpt(req, &req->rcpts[i], &msg, out);
		local_msg_free(&msg);
	}
	dproto_reply_end(out);
}

/* Send OUT whole on FD. */
static int
send_all(int fd, const struct str *out)
{
	size_t off = 0;
	ssize_t n;

	while (off < out->len) {
		n = send(fd, out->s + off, out->len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* Read the next line of FD into *LINE_R (in IN's buffer); 1, 0 EOF,
   -1 error or a line over DPROTO_MAX_LINE. */
static int
read_line(int fd, struct str *in, size_t *used, char **line_r)
{
	char buf[8192], *nl;
	ssize_t n;

	if (*used > 0) {	/* drop the line handed out last time */
		memmove(in->s, in->s + *used, in->len - *used);
		str_truncate(in, in->len - *used);
		*used = 0;
	}
	while ((nl = in->s != NULL ? memchr(in->s, '\n', in->len) : NULL) ==
	    NULL) {
		if (in->len >= DPROTO_MAX_LINE)
			return -1;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : 0;
		str_append_n(in, buf, (size_t)n);
	}
	*nl = '\0';
	*used = (size_t)(nl - in->s) + 1;
	*line_r = in->s;
	return 1;
}

/* Serve the requests of one connection until it closes. */
static void
serve(int fd)
{
	struct dproto_request req = { 0 };
	struct str in = STR_INIT, out = STR_INIT;
	const char *err;
	size_t used = 0;
	char *line;
	int ret;

	while (read_line(fd, &in, &used, &line) > 0) {
		if ((ret = dproto_request_line(&req, line, &err)) < 0) {
			log_warning("protocol error from qmgr: %s", err);
			break;
		}
		if (ret == 0)
			continue;
		pthread_mutex_lock(&conn_lock);
		if (stopping) {		/* not started: qmgr tries again */
			pthread_mutex_unlock(&conn_lock);
			break;
		}
		busy++;
		pthread_mutex_unlock(&conn_lock);
		process(&req, &out);
		dproto_request_clear(&req);
		ret = send_all(fd, &out);
		pthread_mutex_lock(&conn_lock);
		busy--;
		pthread_cond_broadcast(&conn_cond);
		pthread_mutex_unlock(&conn_lock);
		if (ret < 0)
			break;
		str_truncate(&out, 0);
	}
	dproto_request_clear(&req);
	str_free(&in);
	str_free(&out);
}

/* A connection's thread. */
static void *
conn_thread(void *arg)
{
	int fd = (int)(long)arg;

	serve(fd);
	close(fd);
	pthread_mutex_lock(&conn_lock);
	conn_active--;
	pthread_cond_signal(&conn_cond);
	pthread_mutex_unlock(&conn_lock);
	return NULL;
}

/* Accept connections forever, one thread each. */
static void *
accept_loop(void *arg)
{
	pthread_attr_t attr;
	pthread_t t;
	int lfd = (int)(long)arg, fd;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		pthread_mutex_lock(&conn_lock);
		while (conn_active >= conn_limit)
			pthread_cond_wait(&conn_cond, &conn_lock);
		conn_active++;
		pthread_mutex_unlock(&conn_lock);
		while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			if (errno != EINTR && errno != ECONNABORTED) {
				log_error("accept: %s", strerror(errno));
				sleep(1);
			}
		}
		if ((errno = pthread_create(&t, &attr, conn_thread,
		    (void *)(long)fd)) != 0) {
			log_error("pthread_create: %s", strerror(errno));
			close(fd);
			pthread_mutex_lock(&conn_lock);
			conn_active--;
			pthread_mutex_unlock(&conn_lock);
		}
	}
	return NULL;
}

static void stop_wait(int lfd) __attribute__((noreturn));

int
main(int argc, char **argv)
{
	struct daemon_options opt;
	struct cfg *cfg;
	int lfd;

	cfg = daemon_start("local", "local [-c FILE] [-f] [-v] "
	    "[-o name=value]...", argc, argv, &opt);
	if (geteuid() != 0)
		log_fatal("local must start as root: it delivers as each "
		    "mailbox owner");
	/* Mailbox work never carries root's groups; done before any
	   thread exists, since it changes every thread. */
	if (setgroups(0, NULL) < 0)
		log_fatal("setgroups: %s", strerror(errno));
	umask(077);
	settings_read(cfg);
	queue_setup(cfg);
	lfd = socket_open(cfg);
	log_info("serving %s/%s", local_set.queue_dir, LOCAL_SOCKET);
	stop_wait(lfd);
}

/*
 * Serve from other threads until SIGTERM or SIGINT; then let the
 * deliveries in progress finish and reply (LOCAL_STOP_GRACE at most),
 * so that qmgr learns of them and none is made twice, and exit.
 */
static void __attribute__((noreturn))
stop_wait(int lfd)
{
	struct timespec end;
	sigset_t sigs;
	pthread_t t;
	int sig = 0;

	/* Blocked before any thread exists, so that every thread inherits
	   it and only sigwait() below takes them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if ((errno = pthread_sigmask(SIG_BLOCK, &sigs, NULL)) != 0 ||
	    (errno = pthread_create(&t, NULL, accept_loop,
	    (void *)(long)lfd)) != 0)
		log_fatal("starting: %s", strerror(errno));
	while (sigwait(&sigs, &sig) != 0)
		;
	pthread_mutex_lock(&conn_lock);
	stopping = true;
	log_info("stopping on signal %d; %u deliveries in progress", sig,
	    busy);
	clock_gettime(CLOCK_REALTIME, &end);
	end.tv_sec += LOCAL_STOP_GRACE;
	while (busy > 0 &&
	    pthread_cond_timedwait(&conn_cond, &conn_lock, &end) == 0)
		;
	if (busy > 0)
		log_warning("stopping with %u deliveries unfinished", busy);
	pthread_mutex_unlock(&conn_lock);
	_exit(0);
}
