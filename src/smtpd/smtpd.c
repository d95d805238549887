/*
 * smtpd: the SMTP server.  Started by dirmaild as root with its listeners
 * (LISTEN_FDS); it reads the TLS key and prepares the queue directory,
 * then runs as dirmail_user: nothing that parses network input runs as
 * root.
 */

#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <pwd.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "global/auth_client.h"
#include "global/daemon_opts.h"
#include "global/params.h"
#include "lib/cfg.h"
#include "lib/listen.h"
#include "lib/log.h"
#include "lib/priv.h"
#include "lib/tls.h"
#include "lib/xalloc.h"
#include "queue/queue.h"
#include "smtpd/anvil.h"
#include "smtpd/smtpd.h"

/* Worker threads that fsync queue files. */
#define SMTPD_COMMIT_THREADS	4
/* Queue files created ahead of need. */
#define SMTPD_SPARE_FILES	32

struct smtpd_server smtpd;

/* Read the numeric and boolean settings. */
static void
settings_read(const struct cfg *cfg)
{
	const char *bare = cfg_str(cfg, "smtpd_forbid_bare_newline");

	smtpd.hostname = cfg_str(cfg, "myhostname");
	smtpd.myorigin = cfg_str(cfg, "myorigin");
	smtpd.banner = xstrdup(cfg_str(cfg, "smtpd_banner"));
	smtpd.queue_dir = cfg_str(cfg, "queue_directory");
	smtpd.tls_required = strcmp(cfg_str(cfg, "smtpd_tls_security_level"),
	    "encrypt") == 0;
	smtpd.tls_auth_only = cfg_bool(cfg, "smtpd_tls_auth_only");
	smtpd.sasl_enable = cfg_bool(cfg, "smtpd_sasl_auth_enable");
	smtpd.broken_sasl = cfg_bool(cfg, "broken_sasl_auth_clients");
	smtpd.sasl_opts = cfg_list(cfg, "smtpd_sasl_security_options");
	smtpd.sasl_tls_opts = cfg_list(cfg, "smtpd_sasl_tls_security_options");
	smtpd.helo_required = cfg_bool(cfg, "smtpd_helo_required");
	smtpd.vrfy_disabled = cfg_bool(cfg, "disable_vrfy_command");
	smtpd.forbid_bare_newline = strcmp(bare, "yes") == 0 ? 1 :
	    strcmp(bare, "normalize") == 0 ? 2 : 0;
	smtpd.line_limit = (size_t)cfg_size(cfg, "line_length_limit");
	smtpd.size_limit = cfg_size(cfg, "message_size_limit");
	smtpd.header_limit = cfg_size(cfg, "header_size_limit");
	smtpd.minfree = cfg_size(cfg, "queue_minfree");
	smtpd.rcpt_limit = (unsigned)cfg_int(cfg, "smtpd_recipient_limit");
	smtpd.hard_errors = (unsigned)cfg_int(cfg, "smtpd_hard_error_limit");
	smtpd.soft_errors = (unsigned)cfg_int(cfg, "smtpd_soft_error_limit");
	smtpd.junk_limit = (unsigned)cfg_int(cfg, "smtpd_junk_command_limit");
	smtpd.error_sleep = (long)cfg_duration(cfg, "smtpd_error_sleep_time");
	smtpd.timeout = (long)cfg_duration(cfg, "smtpd_timeout");
	smtpd.conn_count_limit = (unsigned)cfg_int(cfg,
	    "smtpd_client_connection_count_limit");
	smtpd.conn_rate_limit = (unsigned)cfg_int(cfg,
	    "smtpd_client_connection_rate_limit");
	smtpd.msg_rate_limit = (unsigned)cfg_int(cfg,
	    "smtpd_client_message_rate_limit");
	smtpd.auth_rate_limit = (unsigned)cfg_int(cfg,
	    "smtpd_client_auth_rate_limit");
}

/* Load the certificate and key while still privileged. */
static void
settings_tls(const struct cfg *cfg)
{
	const char *cert = cfg_file(cfg, "smtpd_tls_cert_file");
	const char *key = cfg_file(cfg, "smtpd_tls_key_file");
	const char *level = cfg_str(cfg, "smtpd_tls_security_level");
	char *error;

	if (*cert == '\0' || strcmp(level, "none") == 0) {
		if (*cfg_list(cfg, "smtps_listen") != NULL)
			log_fatal("smtps_listen needs smtpd_tls_cert_file");
		if (smtpd.tls_required)
			log_fatal("smtpd_tls_security_level = encrypt needs "
			    "smtpd_tls_cert_file");
		return;
	}
	if ((smtpd.tls = tls_server_ctx(cert, *key != '\0' ? key : cert,
	    &error)) == NULL)
		log_fatal("smtpd_tls_cert_file: %s", error);
}

/* Open the tables and restriction lists. */
static void
settings_tables(const struct cfg *cfg)
{
	char *error;

	if (resolve_init(cfg, &smtpd.resolve, &error) < 0)
		log_fatal("%s", error);
	if (smtpd_checks_init(cfg, smtpd.resolve, &smtpd.checks, &error) < 0)
		log_fatal("%s", error);
	smtpd.anvil = anvil_new((unsigned)cfg_duration(cfg,
	    "anvil_rate_time_unit"));
}

/* Create the queue directory, owned by mail_owner when we are root. */
static void
queue_setup(const struct cfg *cfg)
{
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	struct passwd *pw;
	char *error;

	if (geteuid() == 0) {
		if ((pw = getpwnam(cfg_str(cfg, "mail_owner"))) == NULL)
			log_fatal("mail_owner: unknown user \"%s\"",
			    cfg_str(cfg, "mail_owner"));
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (queue_dirs_create(smtpd.queue_dir, uid, gid, &error) < 0)
		log_fatal("queue_directory: %s", error);
}

/* A connection arrived on one of the listeners. */
static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int len, void *arg)
{
	(void)l, (void)sa, (void)len;
	session_accept(fd, (enum smtpd_port)(long)arg);
}

/* Listen on socket FD, passed for the listener parameter NAME. */
static void
listen_on(int fd, const char *name, void *arg)
{
	static const struct {
		const char *name;
		enum smtpd_port port;
	} ports[] = {
		{ "smtpd_listen", PORT_MX },
		{ "submission_listen", PORT_SUBMISSION },
		{ "smtps_listen", PORT_SMTPS },
		{ "pickup_listen", PORT_PICKUP },
	};
	size_t i;

	(void)arg;
	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if (strcmp(ports[i].name, name) == 0)
			break;
	if (i == sizeof(ports) / sizeof(ports[0]))
		log_fatal("socket %d: unknown listener name \"%s\"", fd, name);
	if (ports[i].port == PORT_SMTPS && smtpd.tls == NULL)
		log_fatal("smtps_listen needs smtpd_tls_cert_file");
	evutil_make_socket_nonblocking(fd);
	if (evconnlistener_new(smtpd.base, on_accept,
	    (void *)(long)ports[i].port, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_CLOSE_ON_EXEC, -1, fd) == NULL)
		log_fatal("socket %d (%s): cannot listen", fd, name);
}

int
main(int argc, char **argv)
{
	struct daemon_options opt;
	struct cfg *cfg;
	const char *why;
	char *error;

	cfg = daemon_start("smtpd", "smtpd [-c FILE] [-f] [-v] "
	    "[-o name=value]...", argc, argv, &opt);
	settings_read(cfg);
	settings_tls(cfg);
	queue_setup(cfg);
	if (priv_drop(cfg_str(cfg, "dirmail_user"),
	    cfg_str(cfg, "dirmail_group"), &error) < 0)
		log_fatal("dropping privileges: %s", error);
	settings_tables(cfg);
	if ((smtpd.base = event_base_new()) == NULL)
		log_fatal("event_base_new failed");
	lookup_init();
	smtpd.spares = queue_spares_new(smtpd.base, smtpd.queue_dir,
	    SMTPD_SPARE_FILES);
	smtpd.committer = queue_committer_new(smtpd.base,
	    SMTPD_COMMIT_THREADS);
	if (smtpd.sasl_enable || *cfg_list(cfg, "submission_listen") != NULL ||
	    *cfg_list(cfg, "smtps_listen") != NULL)
		smtpd.auth = auth_client_new(smtpd.base,
		    cfg_str(cfg, "smtpd_sasl_path"));
	if (listen_inherited(listen_on, NULL, &why) < 0)
		log_fatal("%s: smtpd runs under dirmaild", why);
	daemon_run(smtpd.base);
	auth_client_free(&smtpd.auth);
	queue_committer_free(&smtpd.committer);
	queue_spares_free(&smtpd.spares);
	lookup_deinit();
	smtpd_checks_free(&smtpd.checks);
	resolve_free(&smtpd.resolve);
	anvil_free(&smtpd.anvil);
	if (smtpd.tls != NULL)
		SSL_CTX_free(smtpd.tls);
	free(smtpd.banner);
	cfg_free(&cfg);
	daemon_options_free(&opt);
	return 0;
}
