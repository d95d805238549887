/*
 * passwd-file passdb and userdb, in Dovecot's format:
 *
 *	user:{SCHEME}hash:uid:gid:gecos:home:shell:extra fields
 *
 * Extra fields are space-separated name=value words; those named
 * userdb_NAME are userdb fields, the others passdb fields.  The file is
 * read again whenever it changes; a file that cannot be read is a
 * temporary failure.
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/db.h"
#include "auth/password.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

enum pwf_field {
	PWF_USER, PWF_PASS, PWF_UID, PWF_GID, PWF_GECOS, PWF_HOME, PWF_SHELL,
	PWF_EXTRA, PWF_COUNT
};

struct pwf_entry {
	char *f[PWF_COUNT];
};

struct pwf {
	char *path;
	struct pwf_entry *entries;
	size_t count;
	struct stat st;		/* of the file read */
};

/* Free the entries of PWF (wiping the hashes). */
static void
pwf_clear(struct pwf *pwf)
{
	size_t i;
	int j;

	for (i = 0; i < pwf->count; i++) {
		for (j = 0; j < PWF_COUNT; j++) {
			if (pwf->entries[i].f[j] != NULL)
				explicit_bzero(pwf->entries[i].f[j],
				    strlen(pwf->entries[i].f[j]));
			free(pwf->entries[i].f[j]);
		}
	}
	free(pwf->entries);
	pwf->entries = NULL;
	pwf->count = 0;
}

/* Add the entry on LINE. */
static void
pwf_add_line(struct pwf *pwf, char *line)
{
	struct pwf_entry e;
	char *p = line, *field;
	int i;

	line[strcspn(line, "\r\n")] = '\0';
	if (*line == '\0' || *line == '#')
		return;
	memset(&e, 0, sizeof(e));
	for (i = 0; i < PWF_EXTRA && (field = strsep(&p, ":")) != NULL; i++)
		e.f[i] = xstrdup(field);
	if (p != NULL)
		e.f[PWF_EXTRA] = xstrdup(p);
	for (i = 0; i < PWF_COUNT; i++)
		if (e.f[i] == NULL)
			e.f[i] = xstrdup("");
	pwf->entries = xreallocarray(pwf->entries, pwf->count + 1,
	    sizeof(*pwf->entries));
	pwf->entries[pwf->count++] = e;
}

/* Read the file again when it changed; 0, or -1 when it cannot be read. */
static int
pwf_refresh(struct pwf *pwf)
{
	struct stat st;
	FILE *fp;
	char *line = NULL;
	size_t cap = 0;
	int ret = 0, fd;

	/* O_NONBLOCK: a FIFO must not stall the event loop in open(). */
	fd = open(pwf->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	fp = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (fp == NULL && fd >= 0)
		close(fd);
	if (fp == NULL || fstat(fileno(fp), &st) < 0 ||
	    !S_ISREG(st.st_mode)) {
		log_error("passwd-file %s: %s", pwf->path, fp == NULL ?
		    strerror(errno) : "not a regular file");
		if (fp != NULL)
			fclose(fp);
		return -1;
	}
	if (st.st_ino == pwf->st.st_ino && st.st_mtime == pwf->st.st_mtime &&
	    st.st_size == pwf->st.st_size && st.st_dev == pwf->st.st_dev &&
	    st.st_ctime == pwf->st.st_ctime) {
		fclose(fp);
		return 0;
	}
	pwf_clear(pwf);
	while (getline(&line, &cap, fp) > 0)
		pwf_add_line(pwf, line);
	if (ferror(fp)) {
		log_error("passwd-file %s: read: %s", pwf->path,
		    strerror(errno));
		ret = -1;
	}
	if (line != NULL)
		explicit_bzero(line, cap);
	free(line);
	fclose(fp);
	pwf->st = ret == 0 ? st : (struct stat){ 0 };
	return ret;
}

/* Find USER; -1 on a read error, 0 not found, 1 found in *E_R. */
static int
pwf_find(struct pwf *pwf, const char *user, struct pwf_entry **e_r)
{
	size_t i;

	if (pwf_refresh(pwf) < 0)
		return -1;
	for (i = 0; i < pwf->count; i++) {
		if (strcmp(pwf->entries[i].f[PWF_USER], user) == 0) {
			*e_r = &pwf->entries[i];
			return 1;
		}
	}
	return 0;
}

/* Add the extra fields of E: userdb ones (USERDB) or the others. */
static void
pwf_extra(const struct pwf_entry *e, bool userdb, struct auth_fields *out)
{
	struct auth_fields all = { NULL, NULL, 0 };
	size_t i;
	bool is_udb;

	fields_parse(&all, e->f[PWF_EXTRA]);
	for (i = 0; i < all.count; i++) {
		is_udb = strncmp(all.names[i], "userdb_", 7) == 0;
		if (userdb && is_udb)
			fields_set(out, all.names[i] + 7, all.values[i]);
		else if (!userdb && !is_udb)
			fields_set(out, all.names[i], all.values[i]);
	}
	fields_clear(&all);
}

/* Parse "passwd-file:PATH". */
static int
pwf_init(const char *args, void **db_r, char **error_r)
{
	struct pwf *pwf;

	if (*args != '/') {
		*error_r = xasprintf("passwd-file: an absolute path is needed, "
		    "not \"%s\"", args);
		return -1;
	}
	pwf = xcalloc(1, sizeof(*pwf));
	pwf->path = xstrdup(args);
	*db_r = pwf;
	return 0;
}

/* Free the database. */
static void
pwf_deinit(void *db)
{
	struct pwf *pwf = db;

	pwf_clear(pwf);
	free(pwf->path);
	free(pwf);
}

/* passdb: check the password of q->user. */
static void
pwf_verify(void *db, struct db_query *q)
{
	struct pwf_entry *e = NULL;
	const char *error;
	int ret = pwf_find(db, q->user, &e);

	if (ret <= 0) {
		q->error = "passwd-file cannot be read";
		db_query_done(q, ret < 0 ? DB_TEMPFAIL : DB_NOTFOUND);
		return;
	}
	pwf_extra(e, false, &q->fields);
	if (q->password == NULL) {
		db_query_done(q, DB_OK);
		return;
	}
	ret = password_verify(q->password, e->f[PWF_PASS], "CRYPT", &error);
	if (ret < 0) {
		log_error("passwd-file: user %s: %s", q->user, error);
		q->error = "bad password hash";
	}
	db_query_done(q, ret > 0 ? DB_OK : ret == 0 ? DB_MISMATCH :
	    DB_TEMPFAIL);
}

/* userdb: uid, gid, home and userdb_ extra fields of q->user. */
static void
pwf_lookup(void *db, struct db_query *q)
{
	struct pwf_entry *e = NULL;
	int ret = pwf_find(db, q->user, &e);

	if (ret <= 0) {
		q->error = "passwd-file cannot be read";
		db_query_done(q, ret < 0 ? DB_TEMPFAIL : DB_NOTFOUND);
		return;
	}
	if (*e->f[PWF_UID] != '\0')
		fields_set(&q->fields, "uid", e->f[PWF_UID]);
	if (*e->f[PWF_GID] != '\0')
		fields_set(&q->fields, "gid", e->f[PWF_GID]);
	if (*e->f[PWF_HOME] != '\0')
		fields_set(&q->fields, "home", e->f[PWF_HOME]);
	pwf_extra(e, true, &q->fields);
	db_query_done(q, DB_OK);
}

/* List every user. */
static int
pwf_iterate(void *db, db_iterate_cb *each, void *ctx)
{
	struct pwf *pwf = db;
	size_t i;

	if (pwf_refresh(pwf) < 0)
		return -1;
	for (i = 0; i < pwf->count; i++)
		each(pwf->entries[i].f[PWF_USER], ctx);
	return 0;
}

const struct passdb_driver passdb_passwd_file = {
	.name = "passwd-file",
	.init = pwf_init,
	.deinit = pwf_deinit,
	.verify = pwf_verify,
};

const struct userdb_driver userdb_passwd_file = {
	.name = "passwd-file",
	.init = pwf_init,
	.deinit = pwf_deinit,
	.lookup = pwf_lookup,
	.iterate = pwf_iterate,
};
