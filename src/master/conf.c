/* The master's running configuration: load, check, open the listeners. */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/params.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "master/master.h"

/* Return "origin: NAME: reason" for a bad value of NAME in CFG. */
static char * __attribute__((format(printf, 3, 4)))
conf_error(const struct cfg *cfg, const char *name, const char *fmt, ...)
{
	const char *origin = "default";
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	cfg_raw(cfg, name, &origin);
	return xasprintf("%s: %s: %s", origin, name, reason);
}

/* Resolve dirmail_user and dirmail_group when running as root. */
static int
conf_resolve_owner(struct master_conf *c, char **error_r)
{
	const char *user = cfg_str(c->cfg, "dirmail_user");
	const char *group = cfg_str(c->cfg, "dirmail_group");
	const struct passwd *pw;
	const struct group *gr;

	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	c->privileged = geteuid() == 0;
	if (!c->privileged)
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		*error_r = conf_error(c->cfg, "dirmail_user",
		    "unknown user \"%s\"", user);
		return -1;
	}
	c->uid = pw->pw_uid;
	c->user = xstrdup(pw->pw_name);
	if ((gr = getgrnam(group)) == NULL) {
		*error_r = conf_error(c->cfg, "dirmail_group",
		    "unknown group \"%s\"", group);
		return -1;
	}
	c->gid = gr->gr_gid;
	return 0;
}

/* Check that the path parameter NAME is absolute. */
static int
conf_check_path(const struct cfg *cfg, const char *name, char **error_r)
{
	if (cfg_file(cfg, name)[0] == '/')
		return 0;
	*error_r = conf_error(cfg, name, "must be an absolute path");
	return -1;
}

/* Check every listener spec of every service, running or not. */
static int
conf_check_listeners(const struct cfg *cfg, char **error_r)
{
	struct listen_spec spec;
	const char *const *param;
	const char *why;
	char *const *w;
	size_t i;

	for (i = 0; i < service_defs_count; i++) {
		for (param = service_defs[i].listen; *param != NULL;
		    param++) {
			for (w = cfg_list(cfg, *param); *w != NULL; w++) {
				if (listen_parse(*w, &spec, &why) < 0) {
					*error_r = conf_error(cfg, *param,
					    "%s: %s", *w, why);
					return -1;
				}
				listen_spec_clear(&spec);
			}
		}
	}
	return 0;
}

int
conf_read(const struct master *m, struct master_conf **conf_r,
    char **error_r)
{
	struct master_conf *c = xcalloc(1, sizeof(*c));

	if (dirmail_config_load(m->config_path, m->overrides, &c->cfg,
	    error_r) < 0 ||
	    conf_check_path(c->cfg, "daemon_directory", error_r) < 0 ||
	    conf_check_path(c->cfg, "run_directory", error_r) < 0 ||
	    conf_check_listeners(c->cfg, error_r) < 0 ||
	    conf_resolve_owner(c, error_r) < 0) {
		conf_free(&c, false);
		return -1;
	}
	*conf_r = c;
	return 0;
}

int
conf_make_run_directory(const struct master_conf *conf, char **error_r)
{
	const char *dir = cfg_file(conf->cfg, "run_directory");

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		*error_r = xasprintf("mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Find the listener of OLD on the address of SPEC that no listener of C
   takes over yet. */
static struct master_listener *
conf_find_old(const struct master_conf *c, struct master_conf *old,
    const struct listen_spec *spec)
{
	struct master_listener *l;
	size_t i, j;

	for (i = 0; old != NULL && i < old->n_listeners; i++) {
		l = old->listeners[i];
		if (!listen_same_address(&l->spec, spec))
			continue;
		for (j = 0; j < c->n_listeners && c->listeners[j]->reuse != l;
		    j++)
			;
		if (j == c->n_listeners)
			return l;
	}
	return NULL;
}

/* Add a listener for the spec TEXT of PARAM to C: one that takes over
   the sockets of OLD on the same address, or a newly opened one. */
static int
conf_add_listener(struct master_conf *c, struct master_conf *old,
    const char *param, const char *text, char **error_r)
{
	struct master_listener *l = xcalloc(1, sizeof(*l));
	const char *why;
	char *error;

	l->param = xstrdup(param);
	l->text = xstrdup(text);
	if (listen_parse(text, &l->spec, &why) < 0) {
		*error_r = conf_error(c->cfg, param, "%s: %s", text, why);
		free(l->param);
		free(l->text);
		free(l);
		return -1;
	}
	l->reuse = conf_find_old(c, old, &l->spec);
	c->listeners = xreallocarray(c->listeners, c->n_listeners + 1,
	    sizeof(*c->listeners));
	c->listeners[c->n_listeners++] = l;
	if (l->reuse != NULL)
		return 0;
	if (listen_open(&l->spec, c->uid, c->gid, &l->fds, &error) < 0) {
		*error_r = xasprintf("%s: %s", param, error);
		free(error);
		return -1;
	}
	log_info("%s: listening on %s", param, text);
	return 0;
}

/* Move the sockets of the old listeners C takes over into C. */
static void
conf_take_over(struct master_conf *c)
{
	struct master_listener *l;
	char *error;
	size_t i;

	for (i = 0; i < c->n_listeners; i++) {
		l = c->listeners[i];
		if (l->reuse == NULL)
			continue;
		l->fds = l->reuse->fds;
		memset(&l->reuse->fds, 0, sizeof(l->reuse->fds));
		l->reuse = NULL;
		if (listen_set_perms(&l->spec, c->uid, c->gid, &error) < 0) {
			log_warning("%s: %s", l->param, error);
			free(error);
		}
	}
}

/* Close the listeners of C. */
static void
conf_close_listeners(struct master_conf *c, bool unlink_files)
{
	struct master_listener *l;
	size_t i;

	for (i = 0; i < c->n_listeners; i++) {
		l = c->listeners[i];
		listen_close(&l->spec, &l->fds, unlink_files);
		listen_spec_clear(&l->spec);
		free(l->param);
		free(l->text);
		free(l);
	}
	free(c->listeners);
	c->listeners = NULL;
	c->n_listeners = 0;
}

int
conf_listen(struct master_conf *c, struct master_conf *old, char **error_r)
{
	const struct service_def *def;
	const char *const *param;
	char *const *w;
	size_t i;

	if (conf_make_run_directory(c, error_r) < 0)
		return -1;
	for (i = 0; i < service_defs_count; i++) {
		def = &service_defs[i];
		if (!service_def_wanted(def, c->cfg))
			continue;
		for (param = def->listen; *param != NULL; param++) {
			for (w = cfg_list(c->cfg, *param); *w != NULL; w++) {
				if (conf_add_listener(c, old, *param, *w,
				    error_r) < 0) {
					conf_close_listeners(c, true);
					return -1;
				}
			}
		}
	}
	conf_take_over(c);
	for (i = 0; old != NULL && i < old->n_listeners; i++)
		if (old->listeners[i]->fds.count > 0)
			log_info("%s: closing %s", old->listeners[i]->param,
			    old->listeners[i]->text);
	return 0;
}

void
conf_free(struct master_conf **conf, bool unlink_files)
{
	struct master_conf *c = *conf;

	if (c == NULL)
		return;
	conf_close_listeners(c, unlink_files);
	cfg_free(&c->cfg);
	free(c->user);
	free(c);
	*conf = NULL;
}
