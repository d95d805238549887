/*
 * authd: the auth broker.  Serves the Dovecot auth-client protocol on
 * every auth_listen socket and the auth-userdb protocol on every
 * auth_userdb_listen socket, both passed by dirmaild the socket-
 * activation way (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES).
 *
 *	authd [-c FILE] [-f] [-v] [-o name=value]...
 */

#include "config.h"

#include <sys/socket.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "auth/auth.h"
#include "auth/cache.h"
#include "auth/db.h"
#include "global/daemon_opts.h"
#include "global/params.h"
#include "lib/cfg.h"
#include "lib/listen.h"
#include "lib/log.h"
#include "lib/priv.h"
#include "lib/str.h"
#include "lib/xalloc.h"

struct auth_settings auth_set;
struct event_base *auth_base;

/* A connection arrived on an auth-client socket. */
static void
accept_client(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int len, void *arg)
{
	(void)l, (void)sa, (void)len, (void)arg;
	auth_client_accept(fd);
}

/* A connection arrived on an auth-userdb socket. */
static void
accept_userdb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int len, void *arg)
{
	(void)l, (void)sa, (void)len, (void)arg;
	auth_userdb_accept(fd);
}

/* Listen on socket FD, the one named NAME. */
static void
listen_on(int fd, const char *name, void *arg)
{
	evconnlistener_cb cb;

	(void)arg;
	if (strcmp(name, "auth_listen") == 0)
		cb = accept_client;
	else if (strcmp(name, "auth_userdb_listen") == 0)
		cb = accept_userdb;
	else
		log_fatal("socket %d: unknown listener name \"%s\"", fd, name);
	evutil_make_socket_nonblocking(fd);
	if (evconnlistener_new(auth_base, cb, NULL, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_CLOSE_ON_EXEC, -1, fd) == NULL)
		log_fatal("socket %d (%s): cannot listen", fd, name);
}

/* Take the sockets dirmaild passed. */
static void
take_sockets(void)
{
	const char *error;

	if (listen_inherited(listen_on, NULL, &error) < 0)
		log_fatal("%s: authd runs under dirmaild", error);
}

/* Read the settings and set up the databases. */
static void
setup(const struct cfg *cfg)
{
	char *error;

	auth_set.mechanisms = cfg_list(cfg, "auth_mechanisms");
	auth_set.disable_plaintext = cfg_bool(cfg, "disable_plaintext_auth");
	auth_set.failure_delay = cfg_duration(cfg, "auth_failure_delay");
	auth_set.username_format = cfg_str(cfg, "auth_username_format");
	auth_set.default_realm = cfg_str(cfg, "auth_default_realm");
	auth_set.username_chars = cfg_str(cfg, "auth_username_chars");
	auth_set.first_valid_uid = (unsigned long long)cfg_int(cfg,
	    "first_valid_uid");
	auth_set.last_valid_uid = (unsigned long long)cfg_int(cfg,
	    "last_valid_uid");
	auth_cache_init(cfg_size(cfg, "auth_cache_size"),
	    cfg_duration(cfg, "auth_cache_ttl"),
	    cfg_duration(cfg, "auth_cache_negative_ttl"));
	if (db_init(cfg_list(cfg, "passdb"), cfg_list(cfg, "userdb"),
	    cfg_str(cfg, "userdb_override_fields"), cfg_str(cfg, "mail_uid"),
	    cfg_str(cfg, "mail_gid"), &error) < 0)
		log_fatal("%s", error);
}

int
main(int argc, char **argv)
{
	struct daemon_options opt;
	struct cfg *cfg;
	char *error;

	cfg = daemon_start("authd", "authd [-c FILE] [-f] [-v] "
	    "[-o name=value]...", argc, argv, &opt);
	if ((auth_base = event_base_new()) == NULL)
		log_fatal("event_base_new failed");
	setup(cfg);
	/* Root was kept only to start the PAM helper (see dirmaild(8)). */
	if (priv_drop(cfg_str(cfg, "dirmail_user"),
	    cfg_str(cfg, "dirmail_group"), &error) < 0)
		log_fatal("dropping privileges: %s", error);
	take_sockets();
	daemon_run(auth_base);
	db_deinit();
	cfg_free(&cfg);
	daemon_options_free(&opt);
	return 0;
}
