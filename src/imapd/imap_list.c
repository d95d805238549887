/*
 * LIST and LSUB (RFC 3501 6.3.8-9) with the LIST-EXTENDED selection and
 * return options that SPECIAL-USE (RFC 6154) and CHILDREN need.
 */

#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd/imap_int.h"
#include "lib/xalloc.h"
#include "mailstore/imapstr.h"
#include "mailstore/mailstore.h"

#define MA_SPECIAL (MA_DRAFTS | MA_SENT | MA_TRASH | MA_JUNK | MA_ARCHIVE)

struct folder {
	char *name;
	unsigned attrs;
};

struct folders {
	struct folder *v;
	size_t n;
};

/* What a LIST asks for. */
struct list_opts {
	bool lsub;
	bool special_only;	/* LIST (SPECIAL-USE) */
	bool subscribed_only;	/* LIST (SUBSCRIBED) */
	bool show_subscribed;	/* RETURN (SUBSCRIBED) */
};

static void
collect(const char *name, unsigned attrs, void *ctx)
{
	struct folders *f = ctx;

	f->v = xreallocarray(f->v, f->n + 1, sizeof(*f->v));
	f->v[f->n].name = xstrdup(name);
	f->v[f->n].attrs = attrs;
	f->n++;
}

/* Does NAME match PAT: "*" matches anything, "%" anything but the
   hierarchy separator.  ICASE for INBOX. */
static bool
match(const char *pat, const char *name, bool icase)
{
	for (; *pat != '\0'; pat++, name++) {
		if (*pat == '*' || *pat == '%') {
			for (const char *n = name;; n++) {
				if (match(pat + 1, n, icase))
					return true;
				if (*n == '\0' || (*pat == '%' && *n == '.'))
					return false;
			}
		}
		if (*name == '\0')
			return false;
		if (icase ? tolower((unsigned char)*pat) !=
		    tolower((unsigned char)*name) : *pat != *name)
			return false;
	}
	return *name == '\0';
}

static void
append_attr(struct str *out, const char *attr)
{
	if (out->len > 0 && out->s[out->len - 1] != '(')
		str_append_c(out, ' ');
	str_append(out, attr);
}

static void
list_attrs(struct str *out, unsigned a, const struct list_opts *o)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ MA_NOSELECT, "\\Noselect" },
		{ MA_HASCHILDREN, "\\HasChildren" },
		{ MA_HASNOCHILDREN, "\\HasNoChildren" },
		{ MA_DRAFTS, "\\Drafts" },
		{ MA_SENT, "\\Sent" },
		{ MA_TRASH, "\\Trash" },
		{ MA_JUNK, "\\Junk" },
		{ MA_ARCHIVE, "\\Archive" },
	};

	str_append_c(out, '(');
	if (a & MA_NONEXISTENT) {
		append_attr(out, "\\NonExistent");
		a |= MA_NOSELECT;
	}
	if (o->lsub)
		a &= MA_NOSELECT;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (a & names[i].bit)
			append_attr(out, names[i].name);
	if ((a & MA_SUBSCRIBED) && o->show_subscribed)
		append_attr(out, "\\Subscribed");
	str_append_c(out, ')');
}

static bool
wanted(const struct folder *f, const struct list_opts *o)
{
	if (o->lsub || o->subscribed_only)
		return (f->attrs & MA_SUBSCRIBED) != 0;
	if (f->attrs & MA_NONEXISTENT)
		return false;
	if (o->special_only)
		return (f->attrs & MA_SPECIAL) != 0;
	return true;
}

/* Send one LIST or LSUB line. */
static void
list_line(struct imap_client *c, struct str *out, const char *name,
    unsigned attrs, const struct list_opts *o)
{
	str_truncate(out, 0);
	str_append(out, o->lsub ? "* LSUB " : "* LIST ");
	list_attrs(out, attrs, o);
	str_append(out, " \".\" ");
	imap_append_mailbox(out, name);
	str_append(out, "\r\n");
	imap_send(c, out->s, out->len);
}

/* Is NAME among the subscriptions of F? */
static bool
subscribed(const struct folders *f, const char *name, size_t len)
{
	for (size_t i = 0; i < f->n; i++)
		if ((f->v[i].attrs & MA_SUBSCRIBED) &&
		    strlen(f->v[i].name) == len &&
		    strncmp(f->v[i].name, name, len) == 0)
			return true;
	return false;
}

/*
 * LSUB with "%" (RFC 3501 6.3.9): a parent that PAT matches, of a
 * subscription it does not match, is listed \Noselect unless it is
 * subscribed itself (then it was listed already); each parent once.
 */
static void
lsub_parents(struct imap_client *c, struct str *out,
    const struct folders *f, const char *pat, const struct list_opts *o)
{
	struct folders seen = { NULL, 0 };
	char *parent;
	const char *dot;
	size_t j;

	for (size_t i = 0; i < f->n; i++) {
		const char *name = f->v[i].name;

		if (!(f->v[i].attrs & MA_SUBSCRIBED) || match(pat, name, false))
			continue;
		for (dot = strchr(name, '.'); dot != NULL;
		    dot = strchr(dot + 1, '.')) {
			size_t len = (size_t)(dot - name);

			if (subscribed(f, name, len))
				continue;
			parent = xstrndup(name, len);
			for (j = 0; j < seen.n &&
			    strcmp(seen.v[j].name, parent) != 0; j++)
				;
			if (j == seen.n && match(pat, parent,
			    strcasecmp(parent, "INBOX") == 0)) {
				list_line(c, out, parent, MA_NOSELECT, o);
				collect(parent, 0, &seen);
			}
			free(parent);
		}
	}
	for (j = 0; j < seen.n; j++)
		free(seen.v[j].name);
	free(seen.v);
}

static void
list_send(struct imap_client *c, const char *tag, const char *ref,
    const char *pattern, const struct list_opts *o)
{
	struct folders f = { NULL, 0 };
	char *error = NULL, *pat;
	struct str out = STR_INIT;

	if (*pattern == '\0' && !o->lsub) {
		/* The hierarchy delimiter and the root (RFC 3501). */
		imap_puts(c, "* LIST (\\Noselect) \".\" \"\"\r\n");
		imap_tagged(c, tag, "OK List completed.");
		return;
	}
	if (mstore_list(c->st, collect, &f, &error) < 0) {
		imap_tagged_error(c, tag, error, 0);
		return;
	}
	pat = xasprintf("%s%s", ref, pattern);
	for (size_t i = 0; i < f.n; i++) {
		bool inbox = strcasecmp(f.v[i].name, "INBOX") == 0;

		if (wanted(&f.v[i], o) && match(pat, f.v[i].name, inbox))
			list_line(c, &out, f.v[i].name, f.v[i].attrs, o);
	}
	if (o->lsub && strchr(pat, '%') != NULL)
		lsub_parents(c, &out, &f, pat, o);
	for (size_t i = 0; i < f.n; i++)
		free(f.v[i].name);
	free(f.v);
	free(pat);
	str_free(&out);
	imap_tagged(c, tag, o->lsub ? "OK Lsub completed." :
	    "OK List completed.");
}

/* Read a LIST-EXTENDED option list into O; false on an unknown one. */
static bool
list_options(const struct imap_arg *a, struct list_opts *o, bool ret)
{
	for (size_t i = 0; i < a->count; i++) {
		const struct imap_arg *x = &a->list[i];

		if (imap_arg_atom_eq(x, "SPECIAL-USE"))
			o->special_only |= !ret;
		else if (imap_arg_atom_eq(x, "SUBSCRIBED")) {
			o->subscribed_only |= !ret;
			o->show_subscribed = true;
		} else if (imap_arg_atom_eq(x, "CHILDREN") ||
		    imap_arg_atom_eq(x, "REMOTE") ||
		    imap_arg_atom_eq(x, "RECURSIVEMATCH"))
			continue;
		else
			return false;
	}
	return true;
}

void
imap_cmd_list(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	struct list_opts o = { 0 };

	(void)uid;
	if (count > 0 && args[0].type == IMAP_ARG_LIST) {
		if (!list_options(&args[0], &o, false)) {
			imap_tagged(c, tag, "BAD Invalid list options");
			return;
		}
		args++;
		count--;
	}
	if (count == 4 && imap_arg_atom_eq(&args[2], "RETURN") &&
	    args[3].type == IMAP_ARG_LIST) {
		if (!list_options(&args[3], &o, true)) {
			imap_tagged(c, tag, "BAD Invalid return options");
			return;
		}
		count = 2;
	}
	if (count != 2 || !imap_arg_is_astring(&args[0]) ||
	    !imap_arg_is_astring(&args[1])) {
		imap_tagged(c, tag, "BAD Invalid arguments.");
		return;
	}
	list_send(c, tag, args[0].str, args[1].str, &o);
}

void
imap_cmd_lsub(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	struct list_opts o = { .lsub = true };

	(void)uid;
	if (count != 2 || !imap_arg_is_astring(&args[0]) ||
	    !imap_arg_is_astring(&args[1])) {
		imap_tagged(c, tag, "BAD Invalid arguments.");
		return;
	}
	list_send(c, tag, args[0].str, args[1].str, &o);
}
