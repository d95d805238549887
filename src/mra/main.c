/*
 * mra_main(): the start of imapd and pop3d.  Started by dirmaild as root
 * with its listeners, the service forks the spawner (which stays root to
 * start mail processes as their owners), then reads the TLS key, drops
 * to dirmail_user and serves the listeners: nothing that parses client
 * input runs as root, and no mail process inherits the key.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "global/auth_client.h"
#include "global/daemon_opts.h"
#include "lib/cfg.h"
#include "lib/listen.h"
#include "lib/log.h"
#include "lib/priv.h"
#include "lib/tls.h"
#include "lib/xalloc.h"
#include "mra/login.h"
#include "mra/spawner.h"

struct mra_server mra;

/* Read the settings of the login process. */
static void
settings_read(const struct cfg *cfg)
{
	const char *ssl = cfg_str(cfg, "ssl");

	mra.cfg = cfg;
	mra.greeting = cfg_str(cfg, "login_greeting");
	mra.disable_plaintext = cfg_bool(cfg, "disable_plaintext_auth");
	mra.ssl_required = strcmp(ssl, "required") == 0;
	mra.max_userip = (unsigned)cfg_int(cfg, "mail_max_userip_connections");
}

/* Load the certificate and key while still root. */
static void
settings_tls(const struct cfg *cfg, const char *tls_listener)
{
	const char *cert = cfg_file(cfg, "ssl_cert");
	const char *key = cfg_file(cfg, "ssl_key");
	char *error;

	if (strcmp(cfg_str(cfg, "ssl"), "no") == 0 || *cert == '\0') {
		if (*cfg_list(cfg, tls_listener) != NULL)
			log_fatal("%s needs ssl = yes and ssl_cert",
			    tls_listener);
		if (mra.ssl_required)
			log_fatal("ssl = required needs ssl_cert");
		return;
	}
	if ((mra.tls = tls_server_ctx(cert, *key != '\0' ? key : cert,
	    &error)) == NULL)
		log_fatal("ssl_cert: %s", error);
	if (strcmp(cfg_str(cfg, "ssl_min_protocol"), "TLSv1.3") == 0 &&
	    SSL_CTX_set_min_proto_version(mra.tls, TLS1_3_VERSION) != 1)
		log_fatal("ssl_min_protocol: TLSv1.3 is not available");
}

/* The path of the first unix: entry of auth_listen. */
static char *
auth_path(const struct cfg *cfg)
{
	char *const *v = cfg_list(cfg, "auth_listen");
	struct listen_spec spec;
	const char *error;
	char *path = NULL;

	for (; *v != NULL && path == NULL; v++) {
		if (listen_parse(*v, &spec, &error) < 0)
			continue;
		if (spec.type == LISTEN_UNIX)
			path = xstrdup(spec.path);
		listen_spec_clear(&spec);
	}
	if (path == NULL)
		log_fatal("auth_listen: no unix: socket to authenticate with");
	return path;
}

/* A connection arrived on a listener; ARG tells implicit TLS. */
static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int len, void *arg)
{
	(void)l, (void)sa, (void)len;
	mra_conn_accept(fd, arg != NULL);
}

/* Listen on socket FD, passed for the listener parameter NAME. */
static void
listen_on(int fd, const char *name, void *arg)
{
	const char *plain = arg;
	char tls_name[32];
	struct evconnlistener *l;
	bool implicit;

	snprintf(tls_name, sizeof(tls_name), "%ss_listen", mra.service);
	implicit = strcmp(name, tls_name) == 0;
	if (!implicit && strcmp(name, plain) != 0)
		log_fatal("socket %d: unknown listener name \"%s\"", fd, name);
	if (implicit && mra.tls == NULL)
		log_fatal("%s needs ssl_cert", name);
	evutil_make_socket_nonblocking(fd);
	if ((l = evconnlistener_new(mra.base, on_accept,
	    implicit ? (void *)1 : NULL, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_CLOSE_ON_EXEC, -1, fd)) == NULL)
		log_fatal("socket %d (%s): cannot listen", fd, name);
	mra.listeners = xreallocarray(mra.listeners, mra.n_listeners + 1,
	    sizeof(*mra.listeners));
	mra.listeners[mra.n_listeners++] = l;
}

/* Free what the login process holds. */
static void
login_free(void)
{
	struct mra_conn *c;
	size_t i;

	while ((c = TAILQ_FIRST(&mra.conns)) != NULL)
		mra_conn_free(c, "Shutting down");
	auth_client_free(&mra.auth);
	for (i = 0; i < mra.n_listeners; i++)
		evconnlistener_free(mra.listeners[i]);
	free(mra.listeners);
	if (mra.spawner_ev != NULL)
		event_free(mra.spawner_ev);
	if (mra.spawner_fd >= 0)
		close(mra.spawner_fd);
	if (mra.tls != NULL)
		SSL_CTX_free(mra.tls);
	event_base_free(mra.base);
}

int
mra_main(const char *service, int argc, char **argv, mra_engine_fn *engine)
{
	char name[16], plain[32], tls_listener[32], usage[96], *auth, *error;
	struct daemon_options opt;
	struct cfg *cfg;
	const char *why;

	snprintf(name, sizeof(name), "%sd", service);
	snprintf(plain, sizeof(plain), "%s_listen", service);
	snprintf(tls_listener, sizeof(tls_listener), "%ss_listen", service);
	snprintf(usage, sizeof(usage), "%s [-c FILE] [-f] [-v] "
	    "[-o name=value]...", name);
	cfg = daemon_start(name, usage, argc, argv, &opt);
	mra.service = service;
	mra.proto = strcmp(service, "imap") == 0 ? &mra_imap_proto :
	    &mra_pop3_proto;
	mra.pid = getpid();
	TAILQ_INIT(&mra.conns);
	settings_read(cfg);
	auth = auth_path(cfg);
	/* Before the key is read: no mail process may inherit it. */
	mra.spawner_fd = geteuid() == 0 ? mra_spawner_start(cfg, service,
	    engine, opt.foreground) : -1;
	if (mra.spawner_fd < 0)
		log_fatal("%s must start as root, for the mail processes to "
		    "run as their owners", name);
	settings_tls(cfg, tls_listener);
	if (priv_drop(cfg_str(cfg, "dirmail_user"),
	    cfg_str(cfg, "dirmail_group"), &error) < 0)
		log_fatal("dropping privileges: %s", error);
	if ((mra.base = event_base_new()) == NULL)
		log_fatal("event_base_new failed");
	mra.auth = auth_client_new(mra.base, auth);
	free(auth);
	evutil_make_socket_nonblocking(mra.spawner_fd);
	if ((mra.spawner_ev = event_new(mra.base, mra.spawner_fd,
	    EV_READ | EV_PERSIST, mra_spawner_input, NULL)) == NULL ||
	    event_add(mra.spawner_ev, NULL) < 0)
		log_fatal("event_new failed");
	if (listen_inherited(listen_on, plain, &why) < 0)
		log_fatal("%s: %s runs under dirmaild", why, name);
	daemon_run(mra.base);
	login_free();
	cfg_free(&cfg);
	daemon_options_free(&opt);
	return 0;
}
