/*
 * smtp: the SMTP and LMTP delivery agent.  dirmaild starts it as
 * dirmail_user; it serves queue_directory/private/smtp, where qmgr sends
 * one request at a time per connection (doc/delivery-protocol.md) and
 * gets one status per recipient back.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "delivery/smtp.h"
#include "delivery/smtp_session.h"
#include "global/daemon_opts.h"
#include "global/dproto.h"
#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "maps/maps.h"
#include "queue/queue.h"

/* DNS lookups running at once. */
#define SMTPC_DNS_THREADS	4
/* Seconds the deliveries in progress may take after SIGTERM: within
   qmgr's wait for their replies and dirmaild's before SIGKILL. */
#define SMTPC_STOP_GRACE	2

struct smtpc_settings smtpc;

/* Deliveries in progress; after SIGTERM no new one starts. */
static unsigned inflight;
static bool stopping;

/* One connection from qmgr. */
struct qconn {
	struct bufferevent *bev;
	struct dproto_request req;
	struct delivery *d;		/* the request being delivered */
};

static void qconn_free(struct qconn *q);

/* Write the reply of D to qmgr and get ready for the next request. */
static void
on_delivery_done(struct delivery *d, void *ctx)
{
	static const struct timeval flush = { 0, 100000 };
	struct qconn *q = ctx;
	struct str out = STR_INIT;
	size_t i;

	for (i = 0; i < d->req.n_rcpts; i++)
		dproto_status_write(&out, d->req.rcpts[i].index,
		    d->res[i].class, d->res[i].dsn, d->res[i].relay,
		    d->res[i].text);
	dproto_reply_end(&out);
	if (q != NULL) {
		bufferevent_write(q->bev, out.s, out.len);
		q->d = NULL;
	}
	str_free(&out);
	delivery_free(d);
	/* The last one while stopping: one more turn of the loop writes
	   the reply out. */
	if (--inflight == 0 && stopping)
		event_base_loopexit(smtpc.base, &flush);
}

/* A whole request arrived on Q: start its delivery. */
static void
request_start(struct qconn *q)
{
	struct delivery *d;

	if (stopping) {		/* not started: qmgr tries again */
		qconn_free(q);
		return;
	}
	d = xcalloc(1, sizeof(*d));
	inflight++;
	d->req = q->req;
	memset(&q->req, 0, sizeof(q->req));
	d->fd = -1;
	d->done = on_delivery_done;
	d->ctx = q;
	q->d = d;
	delivery_start(d);
}

/* Lines from qmgr. */
static void
on_qmgr_read(struct bufferevent *bev, void *arg)
{
	struct qconn *q = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	const char *error;
	char *line;
	size_t len;
	int ret;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		if (q->d != NULL) {
			log_warning("qmgr sent a line during a delivery");
			free(line);
			qconn_free(q);
			return;
		}
		ret = dproto_request_line(&q->req, line, &error);
		free(line);
		if (ret < 0) {
			log_warning("request from qmgr: %s", error);
			qconn_free(q);
			return;
		}
		if (ret == 1)
			request_start(q);
	}
	if (evbuffer_get_length(in) >= DPROTO_MAX_LINE) {
		log_warning("request from qmgr: line too long");
		qconn_free(q);
	}
}

/* qmgr went away, or the connection failed. */
static void
on_qmgr_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev, (void)what;
	qconn_free(arg);
}

/* Close Q; a delivery in progress runs on and its reply is dropped
   (qmgr defers what it has no reply for). */
static void
qconn_free(struct qconn *q)
{
	if (q->d != NULL)
		q->d->ctx = NULL;
	dproto_request_clear(&q->req);
	bufferevent_free(q->bev);
	free(q);
}

/* qmgr connected. */
static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int len, void *arg)
{
	struct qconn *q = xcalloc(1, sizeof(*q));

	(void)l, (void)sa, (void)len, (void)arg;
	q->bev = bufferevent_socket_new(smtpc.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (q->bev == NULL)
		log_fatal("bufferevent_socket_new failed");
	bufferevent_setcb(q->bev, on_qmgr_read, NULL, on_qmgr_event, q);
	bufferevent_enable(q->bev, EV_READ | EV_WRITE);
}

/* Listen on queue_directory/private/smtp (mode 0600). */
static struct evconnlistener *
listen_private(void)
{
	struct sockaddr_un sun;
	struct evconnlistener *l;
	mode_t old;
	int n;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s/smtp",
	    smtpc.queue_dir, QUEUE_PRIVATE);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path))
		log_fatal("queue_directory: path too long for a socket");
	if (unlink(sun.sun_path) < 0 && errno != ENOENT)
		log_fatal("unlink %s: %s", sun.sun_path, strerror(errno));
	old = umask(0177);
	l = evconnlistener_new_bind(smtpc.base, on_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 64,
	    (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (l == NULL)
		log_fatal("listen on %s: %s", sun.sun_path, strerror(errno));
	return l;
}

/* The SASL_SEC_* flags of a security options list. */
static unsigned
sasl_flags(char *const *opts)
{
	unsigned flags = 0;

	for (; *opts != NULL; opts++) {
		if (strcasecmp(*opts, "noplaintext") == 0)
			flags |= SASL_SEC_NOPLAINTEXT;
		else if (strcasecmp(*opts, "noanonymous") == 0)
			flags |= SASL_SEC_NOANONYMOUS;
		else if (strcasecmp(*opts, "noactive") == 0)
			flags |= SASL_SEC_NOACTIVE;
		else if (strcasecmp(*opts, "nodictionary") == 0)
			flags |= SASL_SEC_NODICTIONARY;
		else if (strcasecmp(*opts, "mutual_auth") == 0)
			flags |= SASL_SEC_MUTUAL_AUTH;
		else
			log_fatal("smtp_sasl_security_options: unknown option "
			    "\"%s\"", *opts);
	}
	return flags;
}

/* Read the settings; open the tables, TLS and SASL. */
static void
settings_read(const struct cfg *cfg)
{
	static const char *levels[] = { "none", "may", "encrypt", "verify",
	    "secure" };
	const char *level = cfg_str(cfg, "smtp_tls_security_level");
	char *error;
	size_t i;

	smtpc.queue_dir = cfg_str(cfg, "queue_directory");
	smtpc.helo_name = cfg_str(cfg, "smtp_helo_name");
	smtpc.smtp_port = (unsigned)cfg_int(cfg, "smtp_tcp_port");
	smtpc.lmtp_port = (unsigned)cfg_int(cfg, "lmtp_tcp_port");
	smtpc.connect_timeout = (long)cfg_duration(cfg, "smtp_connect_timeout");
	smtpc.helo_timeout = (long)cfg_duration(cfg, "smtp_helo_timeout");
	smtpc.data_done_timeout = (long)cfg_duration(cfg,
	    "smtp_data_done_timeout");
	smtpc.cache_time = (long)cfg_duration(cfg,
	    "smtp_connection_cache_time_limit");
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(level, levels[i]) == 0)
			smtpc.tls_level = (enum smtpc_tls_level)i;
	if (smtpc.tls_level != TLS_LEVEL_NONE &&
	    (smtpc.tls_ctx = tls_client_ctx(cfg_file(cfg, "smtp_tls_CAfile"),
	    &error)) == NULL)
		log_fatal("smtp_tls_CAfile: %s", error);
	smtpc.sasl_enable = cfg_bool(cfg, "smtp_sasl_auth_enable");
	smtpc.sasl_flags = sasl_flags(cfg_list(cfg,
	    "smtp_sasl_security_options"));
	smtpc.sasl_tls_flags = sasl_flags(cfg_list(cfg,
	    "smtp_sasl_tls_security_options"));
	if (smtpc.sasl_enable) {
		if (maplist_open(cfg_list(cfg, "smtp_sasl_password_maps"),
		    &smtpc.sasl_maps, &error) < 0)
			log_fatal("smtp_sasl_password_maps: %s", error);
		if (sasl_client_init(NULL) != SASL_OK)
			log_fatal("cannot initialize the SASL client library");
	}
}

/*
 * After SIGTERM: take no new request, and let the deliveries in progress
 * finish and answer (SMTPC_STOP_GRACE at most), so that qmgr records
 * them and none is made twice.
 */
static void
drain(struct evconnlistener *l)
{
	struct timeval grace = { SMTPC_STOP_GRACE, 0 };

	stopping = true;
	evconnlistener_disable(l);
	if (inflight == 0)
		return;
	log_info("%u deliveries in progress", inflight);
	event_base_loopexit(smtpc.base, &grace);
	event_base_dispatch(smtpc.base);
	if (inflight > 0)
		log_warning("stopping with %u deliveries unfinished",
		    inflight);
}

int
main(int argc, char **argv)
{
	struct daemon_options opt;
	struct evconnlistener *l;
	struct cfg *cfg;
	char *error;

	cfg = daemon_start("smtp", "smtp [-c FILE] [-f] [-v] [-o name=value]...",
	    argc, argv, &opt);
	settings_read(cfg);
	if (queue_dirs_create(smtpc.queue_dir, (uid_t)-1, (gid_t)-1,
	    &error) < 0)
		log_fatal("queue_directory: %s", error);
	if ((smtpc.base = event_base_new()) == NULL)
		log_fatal("event_base_new failed");
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	smtpc.dns = worker_new(smtpc.base, SMTPC_DNS_THREADS);
	if (smtpc.sasl_enable)
		smtpc.lookups = worker_new(smtpc.base, 1);
	l = listen_private();
	daemon_run(smtpc.base);
	drain(l);
	evconnlistener_free(l);
	session_cache_flush();
	worker_free(&smtpc.dns);
	if (smtpc.lookups != NULL)
		worker_free(&smtpc.lookups);
	maplist_close(&smtpc.sasl_maps);
	if (smtpc.tls_ctx != NULL)
		SSL_CTX_free(smtpc.tls_ctx);
	if (smtpc.sasl_enable)
		sasl_client_done();
	event_base_free(smtpc.base);
	cfg_free(&cfg);
	daemon_options_free(&opt);
	return 0;
}
