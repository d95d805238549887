/*
 * The local transport (mydestination): alias_maps, then the system user
 * with ~/.forward, then the user's mailbox: home_mailbox (Maildir or an
 * mbox file in the home) or mail_spool_directory/USER.  Commands and
 * files run as the owner of what named them (the alias table file, the
 * :include: file, the user), never as root.
 */

#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "delivery/alias.h"
#include "delivery/local.h"
#include "delivery/local_id.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "maps/maps.h"

/* The largest ~/.forward or :include: file read. */
#define LOCAL_FILE_MAX	(1024 * 1024)

/* Who runs commands and writes files of one expansion. */
struct owner {
	char *name;
	uid_t uid;
	gid_t gid;
	char *home;
};

struct expansion {
	const struct local_job *job;
	const char *self;	/* the name being expanded */
	const char *source;	/* "alias", "include", "forward" */
	struct owner owner;
	unsigned depth;		/* of :include: */
};

static struct {
	char *const *specs;
	struct maplist **tables;
	size_t n;
} aliases;

static void expand_list(struct expansion *x, const struct alias_list *l,
    struct local_result *r);

int
local_alias_init(char *const *specs, char **error_r)
{
	size_t i;

	aliases.specs = specs;
	aliases.n = strv_len(specs);
	aliases.tables = xcalloc(aliases.n + 1, sizeof(*aliases.tables));
	for (i = 0; i < aliases.n; i++) {
		char *const one[] = { specs[i], NULL };

		if (maplist_open(one, &aliases.tables[i], error_r) < 0)
			return -1;
	}
	return 0;
}

void
local_alias_deinit(void)
{
	size_t i;

	for (i = 0; i < aliases.n; i++)
		maplist_close(&aliases.tables[i]);
	free(aliases.tables);
	aliases.tables = NULL;
}

static void
owner_clear(struct owner *o)
{
	free(o->name);
	free(o->home);
	memset(o, 0, sizeof(*o));
}

/* The passwd entry of NAME (by_uid false) or UID.  1, 0 or -1. */
static int
owner_get(const char *name, uid_t uid, struct owner *o)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int err;

	err = name != NULL ? getpwnam_r(name, &pw, buf, sizeof(buf), &res) :
	    getpwuid_r(uid, &pw, buf, sizeof(buf), &res);
	if (res == NULL)
		return err == 0 || err == ENOENT || err == ESRCH ? 0 : -1;
	o->name = xstrdup(pw.pw_name);
	o->uid = pw.pw_uid;
	o->gid = pw.pw_gid;
	o->home = xstrdup(pw.pw_dir);
	return 1;
}

/* The unprivileged owner of what root owns. */
static int
owner_default(struct owner *o, struct local_result *r)
{
	if (owner_get(local_set.default_privs, 0, o) == 1 && o->uid != 0) {
		free(o->home);
		o->home = xstrdup("/");
		return 0;
	}
	owner_clear(o);
	local_result_set(r, 4, "4.3.0", "mail system configuration error: "
	    "no user \"%s\"", local_set.default_privs);
	return -1;
}

/* The owner of the file PATH, or the default one for root.  0 or -1. */
static int
owner_of_file(const char *path, struct owner *o, struct local_result *r)
{
	struct stat st;
	char *lmdb = xasprintf("%s.lmdb", path);
	int ok = stat(lmdb, &st) == 0 || stat(path, &st) == 0;

	free(lmdb);
	if (!ok || st.st_uid == 0 || owner_get(NULL, st.st_uid, o) != 1)
		return owner_default(o, r);
	return 0;
}

/* Is SOURCE in the allow_mail_to_* list LIST? */
static bool
allowed(char *const *list, const char *source)
{
	for (; *list != NULL; list++)
		if (strcasecmp(*list, source) == 0)
			return true;
	return false;
}

/* Deliver to the mailbox of the system user O. */
static void
to_mailbox(const struct local_job *job, const struct owner *o,
    struct local_result *r)
{
	const char *hm = local_set.home_mailbox;
	char *path;

	if (o->uid == 0) {
		log_error("%s: to=<%s>: mail system configuration error: "
		    "mail for root must be aliased to a user", job->queue_id,
		    job->rcpt);
		local_result_set(r, 4, "4.3.0", "mail system configuration "
		    "error: no delivery as root; alias root to a user");
		return;
	}
	if (*hm != '\0') {
		path = xasprintf("%s/%s", o->home, hm);
		if (hm[strlen(hm) - 1] == '/')
			local_to_maildir(job, path, o->uid, o->gid, r);
		else
			local_to_mbox(job, path, false, o->uid, o->gid, r);
	} else {
		path = xasprintf("%s/%s", local_set.spool_dir, o->name);
		local_to_mbox(job, path, true, o->uid, o->gid, r);
	}
	free(path);
}

/* The mailbox of system user NAME, without aliases or .forward. */
static void
to_user_mailbox(const struct local_job *job, const char *name,
    struct local_result *r)
{
	struct owner o = { 0 };
	int ret = owner_get(name, 0, &o);

	if (ret == 1)
		to_mailbox(job, &o, r);
	else if (ret == 0)
		local_result_set(r, 5, "5.1.1", "unknown user: \"%s\"", name);
	else
		local_result_set(r, 4, "4.3.0", "cannot look user \"%s\" up",
		    name);
	owner_clear(&o);
}

/*
 * Read the file PATH as O, which must own it (when MUST_OWN) and be the
 * only one who can write it.  1 with *TEXT_R, 0 when there is none or it
 * is not safe (logged), -1 on an error (R set).
 */
static int
read_owned_file(const struct local_job *job, const char *path,
    const struct owner *o, bool must_own, char **text_r,
    struct local_result *r)
{
	struct stat st;
	struct str text = STR_INIT;
	char buf[8192];
	ssize_t n;
	int fd, ret = 0;

	if (local_id_become(o->uid, o->gid) < 0) {
		local_result_set(r, 4, "4.3.0", "cannot act as uid %u",
		    (unsigned)o->uid);
		return -1;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			log_warning("%s: cannot open %s: %s", job->queue_id,
			    path, strerror(errno));
	} else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (must_own && st.st_uid != o->uid) || (st.st_mode & 022) != 0) {
		log_warning("%s: ignoring %s: not a regular file owned by %s "
		    "and writable only by its owner", job->queue_id, path,
		    o->name);
	} else {
		while ((n = read(fd, buf, sizeof(buf))) > 0 &&
		    text.len < LOCAL_FILE_MAX)
			str_append_n(&text, buf, (size_t)n);
		ret = n < 0 ? -1 : 1;
		if (ret < 0)
			local_result_set(r, 4, "4.3.0", "read %s: %s", path,
			    strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	local_id_restore();
	*text_r = str_steal(&text);
	if (*text_r == NULL)
		*text_r = xstrdup("");
	return ret;
}

/* Add ADDRESS (qualified with myorigin) as an F line. */
static void
forward_to(struct expansion *x, const char *address, struct local_result *r)
{
	struct local_result f = { 0 };

	f.forward = xcalloc(2, sizeof(*f.forward));
	f.forward[0] = strchr(address, '@') != NULL ? xstrdup(address) :
	    xasprintf("%s@%s", address, local_set.myorigin);
	f.n_forward = 1;
	local_result_set(&f, 2, "2.0.0", "forwarded");
	(void)x;
	local_result_merge(r, &f);
}

/* Is ADDRESS the name being expanded (bare, or in the recipient's
   domain)? */
static bool
is_self(const struct expansion *x, const char *address)
{
	const char *at = strrchr(address, '@');
	const char *rdom = strrchr(x->job->rcpt, '@');
	size_t len = at != NULL ? (size_t)(at - address) : strlen(address);

	if (strlen(x->self) != len || strncasecmp(address, x->self, len) != 0)
		return false;
	return at == NULL || (rdom != NULL && strcasecmp(at, rdom) == 0);
}

/* Expand the :include: file PATH one level deeper. */
static void
expand_include(struct expansion *x, const char *path, struct local_result *r)
{
	struct expansion sub = { .job = x->job, .self = x->self,
	    .source = "include", .depth = x->depth + 1 };
	struct alias_list l = { 0 };
	struct local_result one = { 0 };
	const char *err;
	char *text = NULL;

	if (sub.depth > LOCAL_INCLUDE_DEPTH) {
		local_result_set(&one, 5, "5.4.6", "too many nested :include: "
		    "files at %s", path);
	} else if (owner_of_file(path, &sub.owner, &one) == 0 &&
	    read_owned_file(x->job, path, &x->owner, false, &text, &one) >= 0) {
		if (alias_parse(text, &l, &err) < 0)
			local_result_set(&one, 5, "5.3.5", "%s: %s", path, err);
		else if (l.n == 0)
			local_result_set(&one, 5, "5.3.5", "%s: no destinations "
			    "in :include: file", path);
		else
			expand_list(&sub, &l, &one);
	}
	local_result_merge(r, &one);
	alias_list_clear(&l);
	owner_clear(&sub.owner);
	free(text);
}

/* Deliver to one destination of an expansion; the outcome into R. */
static void
expand_item(struct expansion *x, const struct alias_item *it,
    struct local_result *r)
{
	struct local_result one = { 0 };

	switch (it->kind) {
	case ALIAS_ADDRESS:
		if (!is_self(x, it->value)) {
			forward_to(x, it->value, r);
			return;
		}
		to_user_mailbox(x->job, x->self, &one);
		break;
	case ALIAS_SELF:
		to_user_mailbox(x->job, it->value, &one);
		break;
	case ALIAS_COMMAND:
		if (!allowed(local_set.allow_commands, x->source))
			local_result_set(&one, 5, "5.7.1", "mail to command is "
			    "restricted (allow_mail_to_commands)");
		else
			local_to_command(x->job, it->value, x->owner.uid,
			    x->owner.gid, x->owner.home, &one);
		break;
	case ALIAS_FILE:
		if (!allowed(local_set.allow_files, x->source))
			local_result_set(&one, 5, "5.7.1", "mail to file is "
			    "restricted (allow_mail_to_files)");
		else
			local_to_file(x->job, it->value, x->owner.uid,
			    x->owner.gid, &one);
		break;
	case ALIAS_INCLUDE:
		expand_include(x, it->value, r);
		return;
	}
	if (one.class != 2)
		log_info("%s: to=<%s>, relay=%s: %s %s: %s", x->job->queue_id,
		    x->job->rcpt, x->job->relay, x->source, it->value,
		    one.text != NULL ? one.text : "");
	local_result_merge(r, &one);
}

static void
expand_list(struct expansion *x, const struct alias_list *l,
    struct local_result *r)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		expand_item(x, &l->items[i], r);
}

/* Expand VALUE (of SOURCE) for NAME with O's privileges. */
static void
expand_value(const struct local_job *job, const char *name,
    const char *source, struct owner *o, const char *value,
    struct local_result *r)
{
	struct expansion x = { .job = job, .self = name, .source = source,
	    .owner = *o };
	struct alias_list l = { 0 };
	const char *err;

	if (alias_parse(value, &l, &err) < 0)
		local_result_set(r, 5, "5.3.5", "bad %s for \"%s\": %s",
		    source, name, err);
	else
		expand_list(&x, &l, r);
	if (r->class == 2 && r->n_forward > 0)
		local_result_set(r, 2, "2.0.0", "forwarded");
	alias_list_clear(&l);
}

/* Look NAME up in table I: "name", then "name:" (aliases(5) files). */
static int
alias_lookup_one(size_t i, const char *name, char **value_r, char **error_r)
{
	char *colon;
	int ret = local_lookup(aliases.tables[i], name, false, value_r,
	    error_r);

	if (ret != MAP_NOTFOUND)
		return ret;
	colon = xasprintf("%s:", name);
	ret = local_lookup(aliases.tables[i], colon, false, value_r, error_r);
	free(colon);
	return ret;
}

/* alias_maps for NAME: 1 expanded (R set), 0 not an alias. */
static int
alias_expand(const struct local_job *job, const char *name,
    struct local_result *r)
{
	struct owner o = { 0 };
	char *value = NULL, *error = NULL;
	const char *colon;
	size_t i;
	int ret = MAP_NOTFOUND;

	for (i = 0; i < aliases.n && ret == MAP_NOTFOUND; i++)
		ret = alias_lookup_one(i, name, &value, &error);
	if (ret == MAP_ERROR) {
		log_warning("%s: to=<%s>: alias_maps: %s", job->queue_id,
		    job->rcpt, error);
		local_result_set(r, 4, "4.3.0", "alias_maps lookup failed: %s",
		    error);
		free(error);
		return 1;
	}
	if (ret == MAP_NOTFOUND)
		return 0;
	colon = strchr(aliases.specs[i - 1], ':');
	if (owner_of_file(colon != NULL ? colon + 1 : "", &o, r) == 0)
		expand_value(job, name, "alias", &o, value, r);
	owner_clear(&o);
	free(value);
	return 1;
}

/* ~/.forward of O: 1 used (R set), 0 none. */
static int
forward_expand(const struct local_job *job, struct owner *o,
    struct local_result *r)
{
	char *path = xasprintf("%s/.forward", o->home), *text = NULL;
	int ret = read_owned_file(job, path, o, true, &text, r);

	free(path);
	if (ret > 0) {
		struct alias_list probe = { 0 };
		const char *err;

		/* An empty or comment-only file is no .forward. */
		if (alias_parse(text, &probe, &err) < 0 || probe.n > 0)
			expand_value(job, o->name, "forward", o, text, r);
		else
			ret = 0;
		alias_list_clear(&probe);
	}
	free(text);
	return ret != 0;
}

/* The lower-case local part of ADDR.  Allocated. */
static char *
local_part(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return str_lcase(at != NULL ? xstrndup(addr, (size_t)(at - addr)) :
	    xstrdup(addr));
}

void
local_deliver_user(const struct local_job *job, struct local_result *r)
{
	char *name = local_part(job->rcpt), *bare = NULL;
	struct owner o = { 0 };
	int ret;

	if (alias_expand(job, name, r) ||
	    ((bare = local_strip_extension(name)) != NULL &&
	    alias_expand(job, bare, r)))
		goto out;
	ret = owner_get(name, 0, &o);
	if (ret == 0 && bare != NULL)
		ret = owner_get(bare, 0, &o);
	if (ret == 0)
		local_result_set(r, 5, "5.1.1", "unknown user: \"%s\"", name);
	else if (ret < 0)
		local_result_set(r, 4, "4.3.0", "cannot look user \"%s\" up",
		    name);
	else if (!forward_expand(job, &o, r))
		to_mailbox(job, &o, r);
out:
	owner_clear(&o);
	free(bare);
	free(name);
}
