/*
 * The commands that change messages: STORE, COPY, MOVE (RFC 6851),
 * EXPUNGE and UID EXPUNGE (RFC 4315), APPEND with APPENDUID.
 */

#define _GNU_SOURCE	/* strptime, timegm */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imapd/imap_int.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mailstore/mailstore.h"
#include "mra/mra.h"

/* Append UIDS (N of them, in the order given) as a compact set. */
static void
append_uidset(struct str *out, const uint32_t *uids, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		if (i > 0)
			str_append_c(out, ',');
		if (j > i)
			str_appendf(out, "%u:%u", uids[i], uids[j]);
		else
			str_appendf(out, "%u", uids[i]);
		i = j + 1;
	}
}

/* The messages of a sequence-set argument, or -1 after answering BAD. */
static ssize_t
seqs_arg(struct imap_client *c, const char *tag, const struct imap_arg *a,
    bool uid, const char *cmd, uint32_t **seqs_r)
{
	ssize_t n = -1;

	*seqs_r = NULL;
	if (a->type == IMAP_ARG_ATOM)
		n = imap_seqs(c, a->str, uid, seqs_r);
	if (n < 0) {
		free(*seqs_r);
		*seqs_r = NULL;
		imap_sendf(c, "%s BAD Error in IMAP command %s: Invalid "
		    "messageset\r\n", tag, cmd);
	}
	return n;
}

/* Parse "[+-]FLAGS[.SILENT]". */
static int
store_op(const char *s, enum mbox_flag_op *op_r, bool *silent_r)
{
	*op_r = MBOX_FLAGS_SET;
	if (*s == '+' || *s == '-') {
		*op_r = *s == '+' ? MBOX_FLAGS_ADD : MBOX_FLAGS_REMOVE;
		s++;
	}
	if (strncasecmp(s, "FLAGS", 5) != 0)
		return -1;
	s += 5;
	*silent_r = strcasecmp(s, ".SILENT") == 0;
	return *s == '\0' || *silent_r ? 0 : -1;
}

static void
store_one(struct imap_client *c, uint32_t seq, enum mbox_flag_op op,
    unsigned flags, uint32_t kw, bool silent, bool uid, bool *lost)
{
	const struct mmsg *m = mbox_msg(c->mb, seq);
	bool was_deleted = (m->flags & MF_DELETED) != 0;
	char *error = NULL;
	struct str out = STR_INIT;

	if (mbox_store(c->mb, seq, op, flags, kw, &error) < 0) {
		if (errno != ENOENT)
			log_error("imap(%s): %s", c->s->user, error);
		free(error);
		*lost = true;
		return;
	}
	m = mbox_msg(c->mb, seq);
	if (!was_deleted && (m->flags & MF_DELETED))
		c->deleted++;
	if (silent)
		return;
	str_appendf(&out, "* %u FETCH (", seq);
	if (uid)
		str_appendf(&out, "UID %u ", m->uid);
	str_append(&out, "FLAGS ");
	imap_append_flags(c, &out, m);
	str_append(&out, ")\r\n");
	imap_send(c, out.s, out.len);
	str_free(&out);
}

void
imap_cmd_store(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	struct imap_arg list = { .type = IMAP_ARG_LIST };
	enum mbox_flag_op op;
	const char *error;
	uint32_t *seqs, kw;
	unsigned flags;
	bool silent, lost = false;
	ssize_t n;

	if (count < 3 || args[1].type != IMAP_ARG_ATOM ||
	    store_op(args[1].str, &op, &silent) < 0) {
		imap_tagged(c, tag, "BAD Invalid arguments.");
		return;
	}
	/* The flags are a list or, without parentheses, the rest. */
	list.list = (struct imap_arg *)&args[2];
	list.count = count - 2;
	if (imap_parse_flags(count == 3 ? &args[2] : &list, c->mb, &flags,
	    &kw, NULL, &error) < 0) {
		imap_sendf(c, "%s BAD Error in IMAP command STORE: %s\r\n",
		    tag, error);
		return;
	}
	if (mbox_readonly(c->mb)) {
		imap_tagged(c, tag, "NO [CANNOT] Mailbox is read-only.");
		return;
	}
	if ((n = seqs_arg(c, tag, &args[0], uid, "STORE", &seqs)) < 0)
		return;
	for (ssize_t i = 0; i < n; i++)
		store_one(c, seqs[i], op, flags, kw, silent, uid, &lost);
	free(seqs);
	imap_msg_cache_clear(c);
	imap_tagged(c, tag, lost ? "NO [EXPUNGEISSUED] Some of the "
	    "requested messages no longer exist." : "OK Store completed.");
}

/* Copy SEQS to DEST; the COPYUID code in *CODE_R.  Returns the number
   copied, or -1 after answering NO. */
static ssize_t
copy_seqs(struct imap_client *c, const char *tag, const uint32_t *seqs,
    size_t n, const char *dest, struct str *code)
{
	uint32_t *src = xcalloc(n + 1, sizeof(uint32_t));
	uint32_t *dst = xcalloc(n + 1, sizeof(uint32_t));
	uint32_t validity = 0;
	char *error = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (mbox_copy(c->mb, seqs[i], dest, &validity, &dst[i],
		    &error) < 0) {
			if (errno == ENOENT && i == 0 &&
			    mbox_msg(c->mb, seqs[i]) != NULL) {
				imap_sendf(c, "%s NO [TRYCREATE] Mailbox "
				    "doesn't exist: %s\r\n", tag, dest);
				free(error);
			} else {
				imap_tagged_error(c, tag, error, errno);
			}
			free(src);
			free(dst);
			return -1;
		}
		src[i] = mbox_msg(c->mb, seqs[i])->uid;
	}
	str_appendf(code, "[COPYUID %u ", validity);
	append_uidset(code, src, n);
	str_append_c(code, ' ');
	append_uidset(code, dst, n);
	str_append_c(code, ']');
	free(src);
	free(dst);
	return (ssize_t)n;
}

/* COPY and MOVE up to the copying; the messages in *SEQS_R. */
static ssize_t
copy_start(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid, const char *cmd,
    struct str *code, uint32_t **seqs_r)
{
	const char *why, *dest;
	ssize_t n;

	*seqs_r = NULL;
	if (count != 2 || !imap_arg_is_astring(&args[1])) {
		imap_tagged(c, tag, "BAD Invalid arguments.");
		return -1;
	}
	dest = strcasecmp(args[1].str, "INBOX") == 0 ? "INBOX" : args[1].str;
	if (!mstore_name_valid(dest, &why)) {
		imap_sendf(c, "%s NO [CANNOT] Invalid mailbox name: %s\r\n",
		    tag, why);
		return -1;
	}
	if ((n = seqs_arg(c, tag, &args[0], uid, cmd, seqs_r)) <= 0)
		return n;
	if (copy_seqs(c, tag, *seqs_r, (size_t)n, dest, code) < 0) {
		free(*seqs_r);
		*seqs_r = NULL;
		return -1;
	}
	return n;
}

void
imap_cmd_copy(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	struct str code = STR_INIT;
	uint32_t *seqs;
	ssize_t n = copy_start(c, tag, args, count, uid, "COPY", &code, &seqs);

	if (n == 0)
		imap_tagged(c, tag, "OK No messages found.");
	if (n > 0) {
		char *text = xasprintf("OK %s Copy completed.", str_c(&code));

		imap_tagged(c, tag, text);
		free(text);
	}
	free(seqs);
	str_free(&code);
}

static void
send_expunge(void *ctx, uint32_t seq)
{
	struct imap_client *c = ctx;

	imap_sendf(c, "* %u EXPUNGE\r\n", seq);
	c->expunged++;
}

/* Expunge the \Deleted messages among UIDS (all when UIDS is NULL). */
static int
expunge(struct imap_client *c, const uint32_t *uids, size_t n)
{
	struct mbox_sync_cb cb = { send_expunge, NULL, NULL, c };
	char *error = NULL;

	imap_msg_cache_clear(c);
	if (mbox_expunge(c->mb, uids, n, &cb, &error) < 0) {
		log_error("imap(%s): expunge %s: %s", c->s->user,
		    mbox_name(c->mb), error);
		free(error);
		return -1;
	}
	return 0;
}

void
imap_cmd_move(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	struct str code = STR_INIT;
	uint32_t *seqs, *uids;
	char *error = NULL;
	ssize_t n;

	if (count == 2 && mbox_readonly(c->mb)) {
		imap_tagged(c, tag, "NO [CANNOT] Mailbox is read-only.");
		return;
	}
	n = copy_start(c, tag, args, count, uid, "MOVE", &code, &seqs);
	if (n == 0)
		imap_tagged(c, tag, "OK No messages found.");
	if (n <= 0) {
		free(seqs);
		str_free(&code);
		return;
	}
	imap_sendf(c, "* OK %s Moved UIDs.\r\n", str_c(&code));
	uids = xcalloc((size_t)n, sizeof(*uids));
	for (ssize_t i = 0; i < n; i++) {
		uids[i] = mbox_msg(c->mb, seqs[i])->uid;
		if (mbox_store(c->mb, seqs[i], MBOX_FLAGS_ADD, MF_DELETED, 0,
		    &error) < 0) {
			log_error("imap(%s): %s", c->s->user, error);
			free(error);
			error = NULL;
		}
	}
	if (expunge(c, uids, (size_t)n) < 0)
		imap_tagged(c, tag, "NO [SERVERBUG] Internal error occurred.");
	else
		imap_tagged(c, tag, "OK Move completed.");
	free(uids);
	free(seqs);
	str_free(&code);
}

void
imap_cmd_expunge(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	uint32_t *seqs = NULL, *uids = NULL;
	ssize_t n = 0;
	int ret;

	if (count != (uid ? 1 : 0)) {
		imap_tagged(c, tag, "BAD Invalid arguments.");
		return;
	}
	if (mbox_readonly(c->mb)) {
		imap_tagged(c, tag, "NO [CANNOT] Mailbox is read-only.");
		return;
	}
	if (uid) {
		if ((n = seqs_arg(c, tag, &args[0], true, "EXPUNGE",
		    &seqs)) < 0)
			return;
		uids = xcalloc((size_t)n + 1, sizeof(*uids));
		for (ssize_t i = 0; i < n; i++)
			uids[i] = mbox_msg(c->mb, seqs[i])->uid;
	}
	ret = uid && n == 0 ? 0 : expunge(c, uids, (size_t)n);
	imap_tagged(c, tag, ret < 0 ? "NO [SERVERBUG] Internal error "
	    "occurred." : "OK Expunge completed.");
	free(uids);
	free(seqs);
}

/* Parse an APPEND date-time "dd-Mon-yyyy hh:mm:ss +zzzz". */
static int
parse_datetime(const char *s, time_t *t_r)
{
	struct tm tm;
	const char *p;
	int zone, sign;

	memset(&tm, 0, sizeof(tm));
	while (*s == ' ')
		s++;
	p = strptime(s, "%d-%b-%Y %H:%M:%S ", &tm);
	if (p == NULL || (*p != '+' && *p != '-') || strlen(p) != 5)
		return -1;
	sign = *p == '-' ? -1 : 1;
	for (int i = 1; i < 5; i++)
		if (!isdigit((unsigned char)p[i]))
			return -1;
	zone = ((p[1] - '0') * 10 + (p[2] - '0')) * 60 +
	    (p[3] - '0') * 10 + (p[4] - '0');
	*t_r = timegm(&tm) - sign * zone * 60;
	return 0;
}

void
imap_cmd_append(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	const struct imap_arg *msg;
	char **keywords = NULL, *error = NULL, *text;
	const char *why, *name, *ferr;
	unsigned flags = 0;
	time_t date = 0;
	uint32_t validity, new_uid;
	size_t i = 1;

	(void)uid;
	if (count < 2 || count > 4 || !imap_arg_is_astring(&args[0])) {
		imap_tagged(c, tag, "BAD Invalid arguments.");
		return;
	}
	name = strcasecmp(args[0].str, "INBOX") == 0 ? "INBOX" : args[0].str;
	if (i < count - 1 && args[i].type == IMAP_ARG_LIST) {
		if (imap_parse_flags(&args[i], NULL, &flags, NULL, &keywords,
		    &ferr) < 0) {
			imap_sendf(c, "%s BAD Error in IMAP command APPEND: "
			    "%s\r\n", tag, ferr);
			strv_free(&keywords);
			return;
		}
		i++;
	}
	if (i < count - 1 && (args[i].type != IMAP_ARG_STRING ||
	    parse_datetime(args[i].str, &date) < 0)) {
		imap_tagged(c, tag, "BAD Invalid date-time.");
		strv_free(&keywords);
		return;
	}
	if (i < count - 1)
		i++;
	msg = &args[i];
	if (i != count - 1 || !imap_arg_is_string(msg)) {
		imap_tagged(c, tag, "BAD Invalid arguments.");
	} else if (!mstore_name_valid(name, &why)) {
		imap_sendf(c, "%s NO [CANNOT] Invalid mailbox name: %s\r\n",
		    tag, why);
	} else if (msg->len == 0) {
		imap_tagged(c, tag, "NO Can't save a zero byte message.");
	} else if (mstore_append(c->st, name, msg->str, msg->len, flags,
	    keywords, date, &validity, &new_uid, &error) < 0) {
		if (errno == ENOENT) {
			imap_sendf(c, "%s NO [TRYCREATE] Mailbox doesn't "
			    "exist: %s\r\n", tag, name);
			free(error);
		} else {
			imap_tagged_error(c, tag, error, errno);
		}
	} else {
		text = xasprintf("OK [APPENDUID %u %u] Append completed.",
		    validity, new_uid);
		imap_tagged(c, tag, text);
		free(text);
	}
	strv_free(&keywords);
}
