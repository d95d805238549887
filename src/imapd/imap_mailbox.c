/*
 * The IMAP commands on folders: SELECT, EXAMINE, CLOSE, UNSELECT, CREATE,
 * DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST, LSUB and STATUS; and the
 * flag lists and sequence sets the message commands share.
 */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd/imap_int.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mailstore/imapstr.h"
#include "mailstore/mailstore.h"
#include "mra/mra.h"

static const struct {
	const char *name;
	unsigned flag;
} system_flags[] = {
	{ "\\Answered", MF_ANSWERED },
	{ "\\Flagged", MF_FLAGGED },
	{ "\\Deleted", MF_DELETED },
	{ "\\Seen", MF_SEEN },
	{ "\\Draft", MF_DRAFT },
};
#define N_SYSTEM_FLAGS (sizeof(system_flags) / sizeof(system_flags[0]))

void
imap_append_flags(struct imap_client *c, struct str *out,
    const struct mmsg *m)
{
	bool first = true;

	str_append_c(out, '(');
	for (size_t i = 0; i < N_SYSTEM_FLAGS; i++) {
		if ((m->flags & system_flags[i].flag) == 0)
			continue;
		if (!first)
			str_append_c(out, ' ');
		str_append(out, system_flags[i].name);
		first = false;
	}
	for (unsigned i = 0; i < mbox_keyword_count(c->mb) && i < 32; i++) {
		if ((m->keywords & (1u << i)) == 0)
			continue;
		if (!first)
			str_append_c(out, ' ');
		str_append(out, mbox_keyword_name(c->mb, i));
		first = false;
	}
	if (m->flags & MF_RECENT)
		str_append(out, first ? "\\Recent" : " \\Recent");
	str_append_c(out, ')');
}

/* Is S a keyword we accept: atom characters, no wildcards or "]". */
static bool
keyword_valid(const char *s)
{
	if (*s == '\0' || strlen(s) > 100)
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f ||
		    strchr("(){%*\"\\]", *s) != NULL)
			return false;
	return true;
}

static int
flag_one(const struct imap_arg *a, struct mbox *mb, unsigned *flags,
    uint32_t *keywords, char ***names, const char **error_r)
{
	if (a->type != IMAP_ARG_ATOM) {
		*error_r = "Flags must be atoms";
		return -1;
	}
	if (a->str[0] == '\\') {
		for (size_t i = 0; i < N_SYSTEM_FLAGS; i++)
			if (strcasecmp(a->str, system_flags[i].name) == 0) {
				*flags |= system_flags[i].flag;
				return 0;
			}
		if (strcasecmp(a->str, "\\Recent") == 0)
			return 0;
		*error_r = "Invalid system flag";
		return -1;
	}
	if (!keyword_valid(a->str)) {
		*error_r = "Invalid keyword";
		return -1;
	}
	if (names != NULL) {
		size_t n = strv_len(*names);

		*names = xreallocarray(*names, n + 2, sizeof(char *));
		(*names)[n] = xstrdup(a->str);
		(*names)[n + 1] = NULL;
		return 0;
	}
	if (mb != NULL) {
		int i = mbox_keyword_index(mb, a->str, true);

		if (i < 0 || i >= 32) {
			*error_r = "Too many keywords in this mailbox";
			return -1;
		}
		*keywords |= 1u << i;
	}
	return 0;
}

int
imap_parse_flags(const struct imap_arg *arg, struct mbox *mb,
    unsigned *flags_r, uint32_t *keywords_r, char ***names_r,
    const char **error_r)
{
	*flags_r = 0;
	if (keywords_r != NULL)
		*keywords_r = 0;
	if (names_r != NULL)
		*names_r = xcalloc(1, sizeof(char *));
	if (arg->type != IMAP_ARG_LIST)
		return flag_one(arg, mb, flags_r, keywords_r, names_r,
		    error_r);
	for (size_t i = 0; i < arg->count; i++)
		if (flag_one(&arg->list[i], mb, flags_r, keywords_r, names_r,
		    error_r) < 0)
			return -1;
	return 0;
}

ssize_t
imap_seqs(struct imap_client *c, const char *set, bool uid,
    uint32_t **seqs_r)
{
	struct imap_seqset ss;
	uint32_t count = mbox_count(c->mb), max;
	size_t n = 0;

	*seqs_r = NULL;
	if (imap_seqset_parse(set, &ss) < 0)
		return -1;
	if (uid) {
		max = count > 0 ? mbox_msg(c->mb, count)->uid : 0;
	} else {
		max = count;
		/* A number past the end is the client's error (RFC 3501
		   says "invalid"); "*" is always fine. */
		for (size_t i = 0; i < ss.count; i++)
			if (ss.ranges[i].lo > count || ss.ranges[i].hi > count) {
				imap_seqset_free(&ss);
				return -2;
			}
	}
	*seqs_r = xcalloc(count == 0 ? 1 : count, sizeof(uint32_t));
	for (uint32_t seq = 1; seq <= count && max > 0; seq++) {
		uint32_t key = uid ? mbox_msg(c->mb, seq)->uid : seq;

		if (imap_seqset_has(&ss, key, max))
			(*seqs_r)[n++] = seq;
	}
	imap_seqset_free(&ss);
	return (ssize_t)n;
}

/* The mailbox name in ARG (INBOX in any case is INBOX), or NULL after
   answering BAD or NO. */
static const char *
mailbox_arg(struct imap_client *c, const char *tag, const struct imap_arg *a)
{
	const char *why;

	if (!imap_arg_is_astring(a)) {
		imap_tagged(c, tag, "BAD Missing mailbox name");
		return NULL;
	}
	if (strcasecmp(a->str, "INBOX") == 0)
		return "INBOX";
	if (!mstore_name_valid(a->str, &why)) {
		imap_sendf(c, "%s NO [CANNOT] Invalid mailbox name: %s\r\n",
		    tag, why);
		return NULL;
	}
	return a->str;
}

void
imap_unselect(struct imap_client *c)
{
	if (c->mb == NULL)
		return;
	imap_msg_cache_clear(c);
	mbox_close(&c->mb);
	c->state = c->state == IMAP_STATE_LOGOUT ? IMAP_STATE_LOGOUT :
	    IMAP_STATE_AUTH;
}

static void
select_flags(struct imap_client *c, bool readonly)
{
	struct str out = STR_INIT;
	struct str kw = STR_INIT;

	for (unsigned i = 0; i < mbox_keyword_count(c->mb); i++)
		str_appendf(&kw, " %s", mbox_keyword_name(c->mb, i));
	str_appendf(&out, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen "
	    "\\Draft%s)\r\n", str_c(&kw));
	if (readonly)
		str_append(&out, "* OK [PERMANENTFLAGS ()] Read-only mailbox."
		    "\r\n");
	else
		str_appendf(&out, "* OK [PERMANENTFLAGS (\\Answered \\Flagged "
		    "\\Deleted \\Seen \\Draft%s \\*)] Flags permitted.\r\n",
		    str_c(&kw));
	imap_send(c, out.s, out.len);
	str_free(&out);
	str_free(&kw);
}

void
imap_select(struct imap_client *c, const char *tag, const char *name,
    bool readonly)
{
	char *error = NULL;
	uint32_t unseen;

	imap_unselect(c);
	if (mbox_open(c->st, name, readonly, &c->mb, &error) < 0) {
		imap_tagged_error(c, tag, error, errno);
		return;
	}
	c->state = IMAP_STATE_SELECTED;
	c->last_recent = mbox_recent(c->mb);
	select_flags(c, readonly);
	imap_sendf(c, "* %u EXISTS\r\n* %u RECENT\r\n", mbox_count(c->mb),
	    c->last_recent);
	if ((unseen = mbox_first_unseen(c->mb)) != 0)
		imap_sendf(c, "* OK [UNSEEN %u] First unseen.\r\n", unseen);
	imap_sendf(c, "* OK [UIDVALIDITY %u] UIDs valid\r\n"
	    "* OK [UIDNEXT %u] Predicted next UID\r\n",
	    mbox_uidvalidity(c->mb), mbox_uidnext(c->mb));
	imap_tagged(c, tag, readonly ? "OK [READ-ONLY] Examine completed." :
	    "OK [READ-WRITE] Select completed.");
}

void
imap_cmd_select(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	const char *name = count == 1 ? mailbox_arg(c, tag, &args[0]) :
	    (imap_tagged(c, tag, "BAD Invalid arguments."), NULL);

	(void)uid;
	if (name != NULL)
		imap_select(c, tag, name, false);
}

void
imap_cmd_examine(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	const char *name = count == 1 ? mailbox_arg(c, tag, &args[0]) :
	    (imap_tagged(c, tag, "BAD Invalid arguments."), NULL);

	(void)uid;
	if (name != NULL)
		imap_select(c, tag, name, true);
}

static void
count_expunge(void *ctx, uint32_t seq)
{
	struct imap_client *c = ctx;

	(void)seq;
	c->expunged++;
}

void
imap_cmd_close(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	struct mbox_sync_cb cb = { count_expunge, NULL, NULL, c };
	char *error = NULL;

	(void)args, (void)count, (void)uid;
	/* CLOSE expunges without telling (RFC 3501 6.4.2). */
	if (!mbox_readonly(c->mb) &&
	    mbox_expunge(c->mb, NULL, 0, &cb, &error) < 0) {
		log_error("imap(%s): expunge %s: %s", c->s->user,
		    mbox_name(c->mb), error);
		free(error);
	}
	imap_unselect(c);
	imap_tagged(c, tag, "OK Close completed.");
}

void
imap_cmd_unselect(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	(void)args, (void)count, (void)uid;
	imap_unselect(c);
	imap_tagged(c, tag, "OK Unselect completed.");
}

/* Run one of the store's folder operations and answer. */
static void
folder_op(struct imap_client *c, const char *tag, int ret, char *error,
    const char *done)
{
	if (ret < 0)
		imap_tagged_error(c, tag, error, errno);
	else
		imap_tagged(c, tag, done);
}

void
imap_cmd_create(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	char *error = NULL, *name;
	const char *why;
	size_t len;
	int ret;

	(void)uid;
	if (count != 1 || !imap_arg_is_astring(&args[0])) {
		imap_tagged(c, tag, "BAD Invalid arguments.");
		return;
	}
	/* "foo." creates foo: the trailing separator says that children
	   are to come (RFC 3501 6.3.3). */
	name = xstrdup(args[0].str);
	len = strlen(name);
	if (len > 1 && name[len - 1] == '.')
		name[len - 1] = '\0';
	if (strcasecmp(name, "INBOX") == 0)
		imap_sendf(c, "%s NO [ALREADYEXISTS] Mailbox already "
		    "exists\r\n", tag);
	else if (!mstore_name_valid(name, &why))
		imap_sendf(c, "%s NO [CANNOT] Invalid mailbox name: %s\r\n",
		    tag, why);
	else {
		ret = mstore_create(c->st, name, &error);
		folder_op(c, tag, ret, error, "OK Create completed.");
	}
	free(name);
}

void
imap_cmd_delete(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	const char *name = count == 1 ? mailbox_arg(c, tag, &args[0]) :
	    (imap_tagged(c, tag, "BAD Invalid arguments."), NULL);
	char *error = NULL;
	int ret;

	(void)uid;
	if (name == NULL)
		return;
	if (strcmp(name, "INBOX") == 0) {
		imap_tagged(c, tag, "NO [CANNOT] INBOX can't be deleted.");
		return;
	}
	if (c->mb != NULL && strcmp(mbox_name(c->mb), name) == 0)
		imap_unselect(c);
	ret = mstore_delete(c->st, name, &error);
	folder_op(c, tag, ret, error, "OK Delete completed.");
}

void
imap_cmd_rename(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	const char *from, *to;
	char *error = NULL;
	int ret;

	(void)uid;
	if (count != 2) {
		imap_tagged(c, tag, "BAD Invalid arguments.");
		return;
	}
	if ((from = mailbox_arg(c, tag, &args[0])) == NULL ||
	    (to = mailbox_arg(c, tag, &args[1])) == NULL)
		return;
	ret = mstore_rename(c->st, from, to, &error);
	folder_op(c, tag, ret, error, "OK Rename completed.");
}

static void
subscribe(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool on)
{
	const char *name = count == 1 ? mailbox_arg(c, tag, &args[0]) :
	    (imap_tagged(c, tag, "BAD Invalid arguments."), NULL);
	char *error = NULL;
	int ret;

	if (name == NULL)
		return;
	ret = mstore_subscribe(c->st, name, on, &error);
	folder_op(c, tag, ret, error, on ? "OK Subscribe completed." :
	    "OK Unsubscribe completed.");
}

void
imap_cmd_subscribe(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	(void)uid;
	subscribe(c, tag, args, count, true);
}

void
imap_cmd_unsubscribe(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	(void)uid;
	subscribe(c, tag, args, count, false);
}

void
imap_cmd_status(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	static const char *const items[] = { "MESSAGES", "RECENT", "UIDNEXT",
	    "UIDVALIDITY", "UNSEEN" };
	struct mstore_status st;
	struct str out = STR_INIT;
	const char *name;
	char *error = NULL;

	(void)uid;
	if (count != 2 || args[1].type != IMAP_ARG_LIST) {
		imap_tagged(c, tag, "BAD Invalid arguments.");
		return;
	}
	if ((name = mailbox_arg(c, tag, &args[0])) == NULL)
		return;
	if (mstore_status(c->st, name, &st, &error) < 0) {
		imap_tagged_error(c, tag, error, errno);
		return;
	}
	str_append(&out, "* STATUS ");
	imap_append_mailbox(&out, name);
	str_append(&out, " (");
	for (size_t i = 0; i < args[1].count; i++) {
		const struct imap_arg *a = &args[1].list[i];
		const uint32_t vals[] = { st.messages, st.recent, st.uidnext,
		    st.uidvalidity, st.unseen };
		size_t j;

		for (j = 0; j < 5; j++)
			if (imap_arg_atom_eq(a, items[j]))
				break;
		if (j == 5) {
			imap_tagged(c, tag, "BAD Invalid status item");
			str_free(&out);
			return;
		}
		str_appendf(&out, "%s%s %u", i > 0 ? " " : "", items[j],
		    vals[j]);
	}
	str_append(&out, ")\r\n");
	imap_send(c, out.s, out.len);
	str_free(&out);
	imap_tagged(c, tag, "OK Status completed.");
}
