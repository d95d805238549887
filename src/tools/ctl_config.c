/*
 * dirmailctl config: print parameters like postconf(1).
 * dirmailctl check: validate the whole configuration.
 */

#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <pwd.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/db_ldap_conf.h"
#include "global/params.h"
#include "global/resolve.h"
#include "lib/cfg.h"
#include "lib/listen.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/tls.h"
#include "lib/xalloc.h"
#include "maps/maps.h"
#include "smtpd/check.h"
#include "tools/ctl.h"

#define CONFIG_DEFAULTS	0x01	/* -d: print defaults */
#define CONFIG_NONDEF	0x02	/* -n: only values set explicitly */
#define CONFIG_EXPAND	0x04	/* -x: expand $name */
#define CONFIG_VALUE	0x08	/* -h: value only */
#define CONFIG_MAN	0x10	/* --man: roff for dirmail.cf(5) */

/* Print one parameter as the flags ask. */
static void
config_print(const struct cfg *cfg, const struct cfg_param *p, int flags)
{
	const char *value = flags & CONFIG_DEFAULTS ? p->def :
	    cfg_raw(cfg, p->name, NULL);
	char *expanded = NULL;

	if (flags & CONFIG_EXPAND) {
		expanded = cfg_expand(cfg, value);
		value = expanded;
	}
	if (flags & CONFIG_VALUE)
		printf("%s\n", value);
	else
		printf("%s =%s%s\n", p->name, *value != '\0' ? " " : "",
		    value);
	free(expanded);
}

/* Escape TEXT for roff: backslashes and leading dots or quotes. */
static void
roff_put(const char *text)
{
	const char *p;

	if (*text == '.' || *text == '\'')
		fputs("\\&", stdout);
	for (p = text; *p != '\0'; p++) {
		if (*p == '\\')
			fputs("\\e", stdout);
		else if (*p == '-')
			fputs("\\-", stdout);
		else
			putchar(*p);
	}
}

/*
 * Return DEF with the directories configure chose replaced by the ones a
 * package uses, so that the manual does not depend on --prefix.
 */
static char *
man_default(const char *def)
{
	static const struct {
		const char *built;
		const char *packaged;
	} dirs[] = {
		{ RUNSTATEDIR, "/run" },
		{ LOCALSTATEDIR, "/var" },
		{ LIBEXECDIR, "/usr/libexec" },
	};
	size_t i, len;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		len = strlen(dirs[i].built);
		if (strncmp(def, dirs[i].built, len) == 0 &&
		    (def[len] == '/' || def[len] == '\0'))
			return xasprintf("%s%s", dirs[i].packaged, def + len);
	}
	return xstrdup(*def != '\0' ? def : "empty");
}

/* Print the parameter list of dirmail.cf(5) from the table. */
static void
config_print_man(void)
{
	const struct cfg_param *p;
	char *def;
	size_t i;

	for (i = 0; i < dirmail_params_count; i++) {
		p = &dirmail_params[i];
		printf(".TP\n.BR %s \" (%s", p->name, cfg_type_name(p->type));
		if (p->choices != NULL) {
			fputs(": ", stdout);
			roff_put(p->choices);
		}
		fputs(", default: ", stdout);
		def = man_default(p->def);
		roff_put(def);
		free(def);
		printf(")\"\n");
		roff_put(p->help);
		printf(".\n");
	}
}

/* Parse the options of "config"; return -1 on a usage error. */
static int
config_options(int argc, char **argv, int *flags_r)
{
	int i;

	*flags_r = 0;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--man") == 0) {
			*flags_r |= CONFIG_MAN;
			continue;
		}
		if (strcmp(argv[i], "--") == 0)
			return i + 1;
		for (const char *o = argv[i] + 1; *o != '\0'; o++) {
			switch (*o) {
			case 'd': *flags_r |= CONFIG_DEFAULTS; break;
			case 'n': *flags_r |= CONFIG_NONDEF; break;
			case 'x': *flags_r |= CONFIG_EXPAND; break;
			case 'h': *flags_r |= CONFIG_VALUE; break;
			default: return -1;
			}
		}
	}
	if ((*flags_r & CONFIG_DEFAULTS) && (*flags_r & CONFIG_NONDEF))
		return -1;
	return i;
}

int
ctl_config_main(const struct ctl_ctx *ctx, int argc, char **argv)
{
	const struct cfg_param *p;
	struct cfg *cfg;
	char *error;
	int flags, first, i, ret = 0;
	size_t j;

	first = config_options(argc, argv, &flags);
	if (first < 0) {
		fprintf(stderr, "usage: dirmailctl config [-n|-d] [-x] [-h] "
		    "[NAME...]\n");
		return CTL_EX_USAGE;
	}
	if (flags & CONFIG_MAN) {
		config_print_man();
		return 0;
	}
	if (dirmail_config_load_ex(ctx->config_path, ctx->overrides,
	    (flags & CONFIG_DEFAULTS) != 0, &cfg, &error) < 0) {
		log_error("%s", error);
		free(error);
		return 2;
	}
	for (i = first; i < argc; i++) {
		p = cfg_param_find(dirmail_params, dirmail_params_count,
		    argv[i]);
		if (p == NULL) {
			log_warning("%s: unknown parameter", argv[i]);
			ret = 1;
			continue;
		}
		config_print(cfg, p, flags);
	}
	for (j = 0; first == argc && j < dirmail_params_count; j++) {
		p = &dirmail_params[j];
		if (!(flags & CONFIG_NONDEF) || cfg_is_set(cfg, p->name))
			config_print(cfg, p, flags);
	}
	cfg_free(&cfg);
	return ret;
}

/* The state of one "check" run: counts what it found. */
struct check {
	const struct cfg *cfg;
	int errors;
	int warnings;
	char **seen;		/* the messages reported so far */
	size_t n_seen;
};

/* True when BUF was reported before; remember it otherwise. */
static bool
check_seen(struct check *chk, const char *buf)
{
	size_t i;

	for (i = 0; i < chk->n_seen; i++)
		if (strcmp(chk->seen[i], buf) == 0)
			return true;
	chk->seen = xreallocarray(chk->seen, chk->n_seen + 1,
	    sizeof(*chk->seen));
	chk->seen[chk->n_seen++] = xstrdup(buf);
	return false;
}

/* Report a problem found by "check", once: two checks that open the same
   table find the same problem. */
static void __attribute__((format(printf, 3, 4)))
check_report(struct check *chk, bool fatal, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (check_seen(chk, buf))
		return;
	if (fatal) {
		log_error("%s", buf);
		chk->errors++;
	} else {
		log_warning("%s", buf);
		chk->warnings++;
	}
}

/* Check that every listener spec parses. */
static void
check_listeners(struct check *chk)
{
	struct listen_spec spec;
	const struct cfg_param *p;
	const char *why;
	char *const *w;
	size_t i;
	size_t len;

	for (i = 0; i < dirmail_params_count; i++) {
		p = &dirmail_params[i];
		len = strlen(p->name);
		if (len < 7 || strcmp(p->name + len - 7, "_listen") != 0)
			continue;
		for (w = cfg_list(chk->cfg, p->name); *w != NULL; w++) {
			if (listen_parse(*w, &spec, &why) < 0)
				check_report(chk, true, "%s: %s: %s", p->name,
				    *w, why);
			else
				listen_spec_clear(&spec);
		}
	}
}

/* Check the file parameters: readable, and private keys not readable by
   others. */
static void
check_files(struct check *chk)
{
	const struct cfg_param *p;
	const char *path;
	struct stat st;
	size_t i;

	for (i = 0; i < dirmail_params_count; i++) {
		p = &dirmail_params[i];
		if (p->type != CFG_FILE)
			continue;
		path = cfg_file(chk->cfg, p->name);
		if (*path == '\0' || strstr(p->name, "directory") != NULL)
			continue;
		if (stat(path, &st) < 0 || access(path, R_OK) < 0) {
			check_report(chk, true, "%s: %s: %s", p->name, path,
			    strerror(errno));
			continue;
		}
		if (strstr(p->name, "key") != NULL && (st.st_mode & 0004))
			check_report(chk, false, "%s: %s: private key is "
			    "readable by everyone", p->name, path);
	}
}

/* Check that one table opens and answers a probe lookup. */
static void
check_table(struct check *chk, const char *param, const char *spec)
{
	struct map *map;
	char *error, *value = NULL;
	const char *why;
	char *db;
	struct stat st;

	if (map_open(spec, &map, &error) < 0) {
		check_report(chk, true, "%s: %s", param, error);
		free(error);
		return;
	}
	if (map_lookup(map, "dirmail-check-probe", &value, &why) ==
	    MAP_ERROR) {
		db = strncmp(spec, "lmdb:", 5) == 0 ?
		    xasprintf("%s.lmdb", spec + 5) : NULL;
		if (db != NULL && stat(db, &st) < 0 && errno == ENOENT)
			check_report(chk, false, "%s: %s: %s does not exist "
			    "yet; build it with \"dirmailctl map build %s\"",
			    param, spec, db, spec + 5);
		else
			check_report(chk, true, "%s: %s: %s", param, spec,
			    why);
		free(db);
	}
	free(value);
	map_close(&map);
}

/* Open every table of every table-list parameter. */
static void
check_tables(struct check *chk)
{
	const struct cfg_param *p;
	char *const *w;
	size_t i;

	for (i = 0; i < dirmail_params_count; i++) {
		p = &dirmail_params[i];
		if (p->type != CFG_TABLE_LIST)
			continue;
		for (w = cfg_list(chk->cfg, p->name); *w != NULL; w++)
			check_table(chk, p->name, *w);
	}
}

/* Probe the access tables of smtpd's restriction lists: every word with
   a colon is the table of a check_*_access restriction. */
static void
check_smtpd_tables(struct check *chk)
{
	static const char *const lists[] = {
		"smtpd_client_restrictions", "smtpd_helo_restrictions",
		"smtpd_sender_restrictions", "smtpd_relay_restrictions",
		"smtpd_recipient_restrictions", "smtpd_data_restrictions",
	};
	char *const *w;
	size_t i;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		for (w = cfg_list(chk->cfg, lists[i]); *w != NULL; w++)
			if (strchr(*w, ':') != NULL)
				check_table(chk, lists[i], *w);
}

/* Set up the recipient resolver and the restriction lists as smtpd does:
   unknown restrictions, tables that do not open, bad mynetworks entries
   and a list that would make an open relay are errors. */
static void
check_smtpd(struct check *chk)
{
	struct resolve *resolve;
	struct smtpd_checks *checks;
	char *error;

	check_smtpd_tables(chk);
	if (resolve_init(chk->cfg, &resolve, &error) < 0) {
		check_report(chk, true, "%s", error);
		free(error);
		return;
	}
	if (smtpd_checks_init(chk->cfg, resolve, &checks, &error) < 0) {
		check_report(chk, true, "%s", error);
		free(error);
	} else
		smtpd_checks_free(&checks);
	resolve_free(&resolve);
}

/* Check smtpd's TLS settings: the listeners that need TLS have it, and the
   certificate and key load and match. */
static void
check_smtpd_tls(struct check *chk)
{
	const struct cfg *cfg = chk->cfg;
	const char *cert = cfg_file(cfg, "smtpd_tls_cert_file");
	const char *key = cfg_file(cfg, "smtpd_tls_key_file");
	bool off = strcmp(cfg_str(cfg, "smtpd_tls_security_level"),
	    "none") == 0;
	SSL_CTX *ctx;
	char *error;

	if (*cert == '\0' || off) {
		if (*cfg_list(cfg, "smtps_listen") != NULL)
			check_report(chk, true, "smtps_listen needs "
			    "smtpd_tls_cert_file%s", off ? " and "
			    "smtpd_tls_security_level other than none" : "");
		if (*cfg_list(cfg, "submission_listen") != NULL)
			check_report(chk, false, "submission_listen without "
			    "TLS: AUTH is never offered there, so every MAIL "
			    "is refused");
		return;
	}
	if (*key == '\0')
		key = cert;
	if (access(cert, R_OK) < 0 || access(key, R_OK) < 0)
		return;		/* check_files() said why */
	if ((ctx = tls_server_ctx(cert, key, &error)) == NULL) {
		check_report(chk, true, "smtpd_tls_cert_file: %s", error);
		free(error);
		return;
	}
	SSL_CTX_free(ctx);
}

/* Check one "driver:args" entry of passdb or userdb. */
static void
check_auth_db(struct check *chk, const char *param, const char *entry,
    const char *const *drivers)
{
	const char *colon = strchr(entry, ':');
	size_t len = colon != NULL ? (size_t)(colon - entry) : strlen(entry);
	struct db_ldap_conf *conf;
	char *error;
	size_t i;

	for (i = 0; drivers[i] != NULL; i++)
		if (strlen(drivers[i]) == len &&
		    strncmp(entry, drivers[i], len) == 0)
			break;
	if (drivers[i] == NULL) {
		check_report(chk, true, "%s: %s: unknown driver \"%.*s\"",
		    param, entry, (int)len, entry);
		return;
	}
	if (strcmp(drivers[i], "ldap") != 0)
		return;
	if (colon == NULL || colon[1] == '\0') {
		check_report(chk, true, "%s: %s: ldap needs a file", param,
		    entry);
		return;
	}
	if (db_ldap_conf_read(colon + 1, &conf, &error) < 0) {
		check_report(chk, true, "%s: %s", param, error);
		free(error);
		return;
	}
	db_ldap_conf_free(&conf);
}

/* Check the passdb and userdb lists: known drivers, readable LDAP
   configuration files. */
static void
check_auth_dbs(struct check *chk)
{
	static const char *const passdbs[] = { "ldap", "pam", "passwd-file",
	    NULL };
	static const char *const userdbs[] = { "ldap", "passwd",
	    "passwd-file", "static", NULL };
	char *const *w;

	for (w = cfg_list(chk->cfg, "passdb"); *w != NULL; w++)
		check_auth_db(chk, "passdb", *w, passdbs);
	for (w = cfg_list(chk->cfg, "userdb"); *w != NULL; w++)
		check_auth_db(chk, "userdb", *w, userdbs);
}

/* Check the users and groups the services run as. */
static void
check_accounts(struct check *chk)
{
	static const char *const users[] = { "dirmail_user", "mail_owner" };
	const struct passwd *pw;
	const char *name;
	size_t i;

	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		name = cfg_str(chk->cfg, users[i]);
		if (getpwnam(name) == NULL)
			check_report(chk, false, "%s: no such user: %s",
			    users[i], name);
	}
	name = cfg_str(chk->cfg, "dirmail_group");
	if (getgrnam(name) == NULL)
		check_report(chk, false, "dirmail_group: no such group: %s",
		    name);
	pw = getpwnam(cfg_str(chk->cfg, "dirmail_user"));
	if (pw != NULL && pw->pw_uid == 0)
		check_report(chk, true, "dirmail_user: must not be root");
}

/* Rules that tie several parameters together. */
static void
check_cross(struct check *chk)
{
	const struct cfg *cfg = chk->cfg;
	bool have_cert = *cfg_file(cfg, "smtpd_tls_cert_file") != '\0';
	bool have_ssl = *cfg_file(cfg, "ssl_cert") != '\0';

	if (cfg_duration(cfg, "minimal_backoff_time") >
	    cfg_duration(cfg, "maximal_backoff_time"))
		check_report(chk, true, "minimal_backoff_time is larger than "
		    "maximal_backoff_time");
	if (cfg_int(cfg, "last_valid_uid") != 0 &&
	    cfg_int(cfg, "first_valid_uid") > cfg_int(cfg, "last_valid_uid"))
		check_report(chk, true, "first_valid_uid is larger than "
		    "last_valid_uid");
	if (!have_cert && strcmp(cfg_str(cfg, "smtpd_tls_security_level"),
	    "encrypt") == 0)
		check_report(chk, true, "smtpd_tls_security_level = encrypt "
		    "needs smtpd_tls_cert_file");
	if (!have_ssl && (*cfg_list(cfg, "imaps_listen") != NULL ||
	    *cfg_list(cfg, "pop3s_listen") != NULL))
		check_report(chk, true, "imaps_listen and pop3s_listen need "
		    "ssl_cert");
}

/* Warn about a configuration file that others may change. */
static void
check_config_file(struct check *chk)
{
	struct stat st;

	if (stat(cfg_path(chk->cfg), &st) == 0 && (st.st_mode & 0022))
		check_report(chk, true, "%s: writable by group or others",
		    cfg_path(chk->cfg));
}

int
ctl_check_main(const struct ctl_ctx *ctx, int argc, char **argv)
{
	struct check chk = { NULL, 0, 0, NULL, 0 };
	struct cfg *cfg;
	char *error;

	if (argc != 1) {
		fprintf(stderr, "usage: dirmailctl check\n");
		return CTL_EX_USAGE;
	}
	(void)argv;
	if (dirmail_config_load(ctx->config_path, ctx->overrides, &cfg,
	    &error) < 0) {
		log_error("%s", error);
		free(error);
		return 2;
	}
	chk.cfg = cfg;
	check_config_file(&chk);
	check_listeners(&chk);
	check_files(&chk);
	check_tables(&chk);
	check_auth_dbs(&chk);
	check_accounts(&chk);
	check_cross(&chk);
	check_smtpd_tls(&chk);
	check_smtpd(&chk);
	printf("%s: %d error%s, %d warning%s\n", cfg_path(cfg), chk.errors,
	    chk.errors == 1 ? "" : "s", chk.warnings,
	    chk.warnings == 1 ? "" : "s");
	while (chk.n_seen > 0)
		free(chk.seen[--chk.n_seen]);
	free(chk.seen);
	cfg_free(&cfg);
	return chk.errors > 0 ? 1 : 0;
}
