/* The services the master runs, and which of them the configuration
   wants. */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "master/master.h"

/*
 * A service runs when one of its listeners is set (and, for imapd and
 * pop3d, when "protocols" names its protocol); qmgr and the delivery
 * agents run with smtpd.
 */
const struct service_def service_defs[] = {
	{ .name = "authd",
	  .listen = { "auth_listen", "auth_userdb_listen", NULL },
	  .drops_itself = true },
	{ .name = "smtpd",
	  .listen = { "smtpd_listen", "submission_listen", "smtps_listen",
	      "pickup_listen", NULL },
	  .drops_itself = true },
	{ .name = "qmgr", .listen = { NULL }, .runs_with = "smtpd" },
	/* The delivery agents (doc/delivery-protocol.md): local stays root
	   to deliver as each mailbox owner; smtp drops like the rest. */
	{ .name = "local", .listen = { NULL }, .runs_with = "smtpd",
	  .drops_itself = true },
	{ .name = "smtp", .listen = { NULL }, .runs_with = "smtpd" },
	/* mailq for users who may not read the queue. */
	{ .name = "showq", .listen = { "showq_listen", NULL },
	  .runs_with = "smtpd" },
	/* imapd and pop3d keep a root spawner for the mail processes, which
	   run as each mailbox owner (src/mra/mra.h). */
	{ .name = "imapd", .listen = { "imap_listen", "imaps_listen", NULL },
	  .protocol = "imap", .drops_itself = true },
	{ .name = "pop3d", .listen = { "pop3_listen", "pop3s_listen", NULL },
	  .protocol = "pop3", .drops_itself = true },
};

const size_t service_defs_count =
    sizeof(service_defs) / sizeof(service_defs[0]);

/* Return the table row of the service NAME, or NULL. */
static const struct service_def *
service_def_find(const char *name)
{
	size_t i;

	for (i = 0; i < service_defs_count; i++)
		if (strcmp(service_defs[i].name, name) == 0)
			return &service_defs[i];
	return NULL;
}

/* True when the list parameter NAME of CFG holds WORD. */
static bool
list_has(const struct cfg *cfg, const char *name, const char *word)
{
	char *const *w;

	for (w = cfg_list(cfg, name); *w != NULL; w++)
		if (strcmp(*w, word) == 0)
			return true;
	return false;
}

/* True when one of the listener parameters of DEF is set in CFG. */
static bool
service_listens(const struct service_def *def, const struct cfg *cfg)
{
	const char *const *param;

	for (param = def->listen; *param != NULL; param++)
		if (*cfg_list(cfg, *param) != NULL)
			return true;
	return false;
}

bool
service_def_wanted(const struct service_def *def, const struct cfg *cfg)
{
	const struct service_def *with;

	if (def->runs_with != NULL) {
		with = service_def_find(def->runs_with);
		return with != NULL && service_def_wanted(with, cfg);
	}
	if (def->protocol != NULL && !list_has(cfg, "protocols",
	    def->protocol))
		return false;
	return service_listens(def, cfg);
}

void
services_init(struct master *m)
{
	size_t i;

	m->n_services = service_defs_count;
	m->services = xcalloc(m->n_services, sizeof(*m->services));
	for (i = 0; i < m->n_services; i++) {
		m->services[i].def = &service_defs[i];
		m->services[i].master = m;
		m->services[i].backoff = 1;
	}
}

void
services_configure(struct master *m)
{
	const char *dir = cfg_file(m->conf->cfg, "daemon_directory");
	struct service *s;
	size_t i;

	for (i = 0; i < m->n_services; i++) {
		s = &m->services[i];
		s->enabled = service_def_wanted(s->def, m->conf->cfg);
		if (!s->enabled && s->def->protocol != NULL &&
		    service_listens(s->def, m->conf->cfg))
			log_info("service %s: %s is not in protocols; "
			    "not started", s->def->name, s->def->protocol);
		free(s->program);
		s->program = xasprintf("%s/%s", dir, s->def->name);
		log_debug("service %s: %s", s->def->name,
		    s->enabled ? "enabled" : "disabled");
	}
}

struct service *
services_by_pid(struct master *m, pid_t pid)
{
	size_t i;

	for (i = 0; i < m->n_services; i++)
		if (m->services[i].pid == pid)
			return &m->services[i];
	return NULL;
}

void
services_free(struct master *m)
{
	size_t i;

	for (i = 0; i < m->n_services; i++) {
		free(m->services[i].program);
		if (m->services[i].timer != NULL)
			event_free(m->services[i].timer);
	}
	free(m->services);
	m->services = NULL;
	m->n_services = 0;
}
