/*
 * LIST: the folders with their attributes (children, \Noselect,
 * \Subscribed, special use); the "subscriptions" file (one name per
 * line) and "dirmail-specialuse" ("\Attr NAME" per line); and the
 * mailboxes made at first login (mail_auto_mailboxes).
 */

#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "mailstore/ms_int.h"

static const struct {
	const char *name;	/* default folder name and attribute word */
	unsigned attr;
} special_uses[] = {
	{ "Drafts", MA_DRAFTS }, { "Sent", MA_SENT }, { "Trash", MA_TRASH },
	{ "Junk", MA_JUNK }, { "Archive", MA_ARCHIVE },
};
#define N_SPECIAL (sizeof(special_uses) / sizeof(special_uses[0]))

struct lentry {
	char *name;
	unsigned attrs;
};

struct llist {
	struct lentry *v;
	size_t n, cap;
};

static int
lentry_cmp(const void *a, const void *b)
{
	const struct lentry *x = a, *y = b;

	/* INBOX first, then in byte order. */
	if (strcmp(x->name, "INBOX") == 0 || strcmp(y->name, "INBOX") == 0)
		return strcmp(x->name, "INBOX") == 0 ?
		    (strcmp(y->name, "INBOX") == 0 ? 0 : -1) : 1;
	return strcmp(x->name, y->name);
}

static struct lentry *
llist_find(const struct llist *l, const char *name)
{
	struct lentry key = { .name = (char *)name };

	return l->n == 0 ? NULL :
	    bsearch(&key, l->v, l->n, sizeof(*l->v), lentry_cmp);
}

static void
llist_add(struct llist *l, const char *name, unsigned attrs)
{
	if (l->n == l->cap) {
		l->cap = l->cap != 0 ? l->cap * 2 : 16;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n].name = xstrdup(name);
	l->v[l->n++].attrs = attrs;
}

static void
llist_free(struct llist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
}

/* Read the lines of ROOT/FILE; an absent file has none. */
static int
read_lines(const struct mstore *st, const char *file, char ***lines_r,
    char **error_r)
{
	char *path = xasprintf("%s/%s", st->root, file), *data, *p, *nl;
	char **v = xcalloc(1, sizeof(*v));
	size_t len, n = 0;

	*lines_r = v;
	if (ms_read_file(path, &data, &len) < 0) {
		if (errno != ENOENT) {
			*error_r = xasprintf("read %s: %s", path,
			    strerror(errno));
			free(path);
			return -1;
		}
		free(path);
		return 0;
	}
	free(path);
	for (p = data; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p) - 1;	/* last line without LF */
		else
			*nl = '\0';
		if (*p == '\0')
			continue;
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = xstrdup(p);
		v[n] = NULL;
	}
	free(data);
	*lines_r = v;
	return 0;
}

/* The folders on disk, with parents that exist only as levels. */
static void
read_folders(const struct mstore *st, struct llist *l)
{
	struct dirent *de;
	const char *why;
	DIR *d;

	llist_add(l, "INBOX", 0);
	if ((d = opendir(st->root)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name + 1;
		if (de->d_name[0] != '.' || !mstore_name_valid(name, &why) ||
		    ms_name_is_inbox(name))
			continue;
		char *dir = xasprintf("%s/%s", st->root, de->d_name);
		char *cur = xasprintf("%s/cur", dir);
		struct stat sb;
		if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
			llist_add(l, name, stat(cur, &sb) == 0 &&
			    S_ISDIR(sb.st_mode) ? 0 : MA_NOSELECT);
		free(dir);
		free(cur);
	}
	closedir(d);
}

/* Add the missing parents of every name, then sort. */
static void
add_parents(struct llist *l)
{
	size_t n = l->n;

	qsort(l->v, l->n, sizeof(*l->v), lentry_cmp);
	for (size_t i = 0; i < n; i++) {
		char *name = xstrdup(l->v[i].name), *dot;
		while ((dot = strrchr(name, '.')) != NULL) {
			*dot = '\0';
			if (llist_find(l, name) != NULL)
				break;
			llist_add(l, name, MA_NOSELECT);
			qsort(l->v, l->n, sizeof(*l->v), lentry_cmp);
		}
		free(name);
	}
	qsort(l->v, l->n, sizeof(*l->v), lentry_cmp);
}

/* Children, subscriptions and special use. */
static int
add_attrs(const struct mstore *st, struct llist *l, char **error_r)
{
	char **subs, **uses;
	struct lentry *e;

	for (size_t i = 0; i < l->n; i++) {
		char *name = xstrdup(l->v[i].name), *dot = strrchr(name, '.');
		if (dot != NULL) {
			*dot = '\0';
			if ((e = llist_find(l, name)) != NULL)
				e->attrs |= MA_HASCHILDREN;
		}
		free(name);
	}
	for (size_t i = 0; i < l->n; i++)
		if (!(l->v[i].attrs & MA_HASCHILDREN))
			l->v[i].attrs |= MA_HASNOCHILDREN;
	if (read_lines(st, MS_SPECIALUSE, &uses, error_r) < 0) {
		strv_free(&uses);
		return -1;
	}
	for (size_t i = 0; uses[i] != NULL; i++) {
		const char *sp = strchr(uses[i], ' ');
		if (sp == NULL || (e = llist_find(l, sp + 1)) == NULL)
			continue;
		for (size_t j = 0; j < N_SPECIAL; j++)
			if (uses[i][0] == '\\' && strncasecmp(uses[i] + 1,
			    special_uses[j].name, (size_t)(sp - uses[i] - 1))
			    == 0 && special_uses[j].name[sp - uses[i] - 1] ==
			    '\0')
				e->attrs |= special_uses[j].attr;
	}
	strv_free(&uses);
	if (read_lines(st, MS_SUBSCRIPTIONS, &subs, error_r) < 0) {
		strv_free(&subs);
		return -1;
	}
	for (size_t i = 0; subs[i] != NULL; i++) {
		const char *why;
		if ((e = llist_find(l, subs[i])) != NULL)
			e->attrs |= MA_SUBSCRIBED;
		else if (mstore_name_valid(subs[i], &why))
			llist_add(l, subs[i], MA_SUBSCRIBED | MA_NONEXISTENT |
			    MA_NOSELECT);
	}
	strv_free(&subs);
	qsort(l->v, l->n, sizeof(*l->v), lentry_cmp);
	return 0;
}

int
mstore_list(struct mstore *st, mstore_list_cb *cb, void *ctx,
    char **error_r)
{
	struct llist l = { 0 };

	read_folders(st, &l);
	add_parents(&l);
	if (add_attrs(st, &l, error_r) < 0) {
		llist_free(&l);
		return -1;
	}
	for (size_t i = 0; i < l.n; i++)
		cb(l.v[i].name, l.v[i].attrs, ctx);
	llist_free(&l);
	return 0;
}

/* Write LINES to ROOT/FILE atomically. */
static int
write_lines(const struct mstore *st, const char *file, char *const *lines,
    char **error_r)
{
	char *path = xasprintf("%s/%s", st->root, file);
	struct str s = STR_INIT;
	int ret;

	for (; *lines != NULL; lines++)
		str_appendf(&s, "%s\n", *lines);
	ret = ms_write_atomic(path, str_c(&s), s.len, error_r);
	str_free(&s);
	free(path);
	return ret;
}

/* Add LINE to ROOT/FILE (when absent) or remove it, under the root's
   lock so that two sessions' changes do not undo each other. */
static int
edit_lines(const struct mstore *st, const char *file, const char *line,
    bool add, char **error_r)
{
	char **v;
	size_t n, i, o;
	bool found = false;
	int lock, ret = 0;

	if ((lock = ms_lock(st->root, error_r)) < 0)
		return -1;
	if (read_lines(st, file, &v, error_r) < 0) {
		strv_free(&v);
		ms_unlock(lock);
		return -1;
	}
	n = strv_len(v);
	for (i = 0, o = 0; i < n; i++) {
		if (strcmp(v[i], line) == 0) {
			found = true;
			if (!add) {
				free(v[i]);
				continue;
			}
		}
		v[o++] = v[i];
	}
	v[o] = NULL;
	if (add && !found) {
		v = xreallocarray(v, o + 2, sizeof(*v));
		v[o++] = xstrdup(line);
		v[o] = NULL;
	}
	if (found != add)
		ret = write_lines(st, file, v, error_r);
	strv_free(&v);
	ms_unlock(lock);
	return ret;
}

int
mstore_subscribe(struct mstore *st, const char *name, bool on,
    char **error_r)
{
	char *norm = ms_name_normalize(name);
	int ret = -1;

	if (ms_name_is_inbox(norm) || ms_name_check(norm, error_r) == 0)
		ret = edit_lines(st, MS_SUBSCRIPTIONS, norm, on, error_r);
	free(norm);
	return ret;
}

/* The special-use attribute word of folder NAME ("Sent"), or NULL. */
static const char *
special_use_of(const char *name)
{
	const char *last = strrchr(name, '.');

	last = last != NULL ? last + 1 : name;
	for (size_t i = 0; i < N_SPECIAL; i++)
		if (strcasecmp(last, special_uses[i].name) == 0)
			return special_uses[i].name;
	return NULL;
}

int
mstore_auto_mailboxes(struct mstore *st, char *const *names,
    char **error_r)
{
	const char *use;
	char *line;
	int ret;

	for (; names != NULL && *names != NULL; names++) {
		ret = mstore_create(st, *names, error_r);
		if (ret == 0)
			ret = mstore_subscribe(st, *names, true, error_r);
		else if (errno == EEXIST) {
			free(*error_r);
			ret = 0;
		}
		if (ret < 0)
			return -1;
		if ((use = special_use_of(*names)) == NULL)
			continue;
		line = xasprintf("\\%s %s", use, *names);
		ret = edit_lines(st, MS_SPECIALUSE, line, true, error_r);
		free(line);
		if (ret < 0)
			return -1;
	}
	return 0;
}
