/*
 * FETCH and UID FETCH (RFC 3501 6.4.5, 7.4.2): the data items, the
 * messages read in CRLF form with their MIME tree cached, \Seen set by
 * BODY[] without PEEK, and output produced only as fast as the client
 * reads it.  ENVELOPE, BODY and BODYSTRUCTURE come from the folder's
 * cache when an earlier session computed them, so that a FETCH of only
 * those (and FLAGS, UID, sizes, dates) opens no message file.
 */

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "imapd/imap_int.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mailstore/mailstore.h"
#include "mailstore/mime.h"
#include "mra/mra.h"

enum fetch_kind {
	FI_FLAGS, FI_INTERNALDATE, FI_SIZE, FI_ENVELOPE, FI_BODY,
	FI_BODYSTRUCTURE, FI_SECTION, FI_RFC822, FI_RFC822_HEADER,
	FI_RFC822_TEXT, FI_UID,
};

struct fetch_item {
	enum fetch_kind kind;
	bool peek;
	struct mime_section *sec;
	bool partial;
	uint32_t p_off, p_len;
};

struct fetch_ctx {
	char *tag;
	struct fetch_item *items;
	size_t nitems;
	uint32_t *seqs;
	size_t nseqs, next;
	bool uid, want_flags, sets_seen, needs_msg, lost;
};

void
imap_msg_cache_clear(struct imap_client *c)
{
	free(c->cache.data);
	mime_free(&c->cache.root);
	memset(&c->cache, 0, sizeof(c->cache));
}

/* Read all of FD (SIZE bytes expected) and convert LF to CRLF. */
static int
read_crlf(int fd, struct str *out)
{
	char buf[65536];
	ssize_t n;
	char prev = '\0';

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' && prev != '\r')
				str_append_c(out, '\r');
			str_append_c(out, buf[i]);
			prev = buf[i];
		}
	}
	return n < 0 ? -1 : 0;
}

int
imap_msg_get(struct imap_client *c, uint32_t seq, const char **data_r,
    size_t *len_r, const struct mime_part **root_r)
{
	const struct mmsg *m = mbox_msg(c->mb, seq);
	struct str data = STR_INIT;
	char *error = NULL;
	int fd;

	if (m == NULL)
		return -1;
	if (c->cache.data == NULL || c->cache.uid != m->uid) {
		imap_msg_cache_clear(c);
		if (mbox_msg_open(c->mb, seq, &fd, &error) < 0) {
			if (errno != ENOENT)
				log_error("imap(%s): %s", c->s->user, error);
			free(error);
			return -1;
		}
		if (read_crlf(fd, &data) < 0) {
			log_error("imap(%s): read message UID %u: %m",
			    c->s->user, m->uid);
			close(fd);
			str_free(&data);
			return -1;
		}
		close(fd);
		c->cache.uid = m->uid;
		c->cache.len = data.len;
		c->cache.data = data.s == NULL ? xstrdup("") : str_steal(&data);
	}
	if (root_r != NULL) {
		if (c->cache.root == NULL)
			c->cache.root = mime_parse(c->cache.data, c->cache.len);
		*root_r = c->cache.root;
	}
	*data_r = c->cache.data;
	*len_r = c->cache.len;
	return 0;
}

static void
fetch_ctx_free(struct fetch_ctx *f)
{
	for (size_t i = 0; i < f->nitems; i++)
		mime_section_free(&f->items[i].sec);
	free(f->items);
	free(f->seqs);
	free(f->tag);
	free(f);
}

static struct fetch_item *
item_add(struct fetch_ctx *f, enum fetch_kind kind)
{
	struct fetch_item *it;

	f->items = xreallocarray(f->items, f->nitems + 1, sizeof(*it));
	it = &f->items[f->nitems++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	if (kind == FI_FLAGS)
		f->want_flags = true;
	if (kind != FI_FLAGS && kind != FI_UID && kind != FI_SIZE &&
	    kind != FI_INTERNALDATE && kind != FI_ENVELOPE &&
	    kind != FI_BODY && kind != FI_BODYSTRUCTURE)
		f->needs_msg = true;
	if (kind == FI_RFC822 || kind == FI_RFC822_TEXT)
		f->sets_seen = true;
	return it;
}

/* Parse "<o.n>" after a section; -1 when malformed. */
static int
parse_partial(const char *s, struct fetch_item *it)
{
	char *end;
	unsigned long off, len;

	if (*s == '\0')
		return 0;
	if (*s != '<')
		return -1;
	errno = 0;
	off = strtoul(s + 1, &end, 10);
	if (end == s + 1 || *end != '.' || errno != 0 || off > UINT32_MAX)
		return -1;
	s = end + 1;
	len = strtoul(s, &end, 10);
	if (end == s || strcmp(end, ">") != 0 || errno != 0 || len == 0 ||
	    len > UINT32_MAX)
		return -1;
	it->partial = true;
	it->p_off = (uint32_t)off;
	it->p_len = (uint32_t)len;
	return 0;
}

/* BODY[...]<...> or BODY.PEEK[...]<...>. */
static int
parse_section(struct fetch_ctx *f, const char *s, bool peek,
    const char **error_r)
{
	const char *open = strchr(s, '['), *close = strrchr(s, ']');
	struct fetch_item *it;
	char *spec;
	int ret;

	if (open == NULL || close == NULL || close < open) {
		*error_r = "Invalid BODY[..] parameter";
		return -1;
	}
	it = item_add(f, FI_SECTION);
	it->peek = peek;
	if (!peek)
		f->sets_seen = true;
	spec = xstrndup(open + 1, (size_t)(close - open - 1));
	ret = mime_section_parse(spec, &it->sec, error_r);
	free(spec);
	if (ret < 0)
		return -1;
	if (parse_partial(close + 1, it) < 0) {
		*error_r = "Invalid partial";
		return -1;
	}
	return 0;
}

static int
parse_item(struct fetch_ctx *f, const struct imap_arg *a,
    const char **error_r)
{
	static const struct {
		const char *name;
		enum fetch_kind kind;
	} simple[] = {
		{ "FLAGS", FI_FLAGS }, { "INTERNALDATE", FI_INTERNALDATE },
		{ "RFC822.SIZE", FI_SIZE }, { "ENVELOPE", FI_ENVELOPE },
		{ "BODY", FI_BODY }, { "BODYSTRUCTURE", FI_BODYSTRUCTURE },
		{ "RFC822", FI_RFC822 }, { "RFC822.HEADER", FI_RFC822_HEADER },
		{ "RFC822.TEXT", FI_RFC822_TEXT }, { "UID", FI_UID },
	};

	if (a->type != IMAP_ARG_ATOM) {
		*error_r = "Invalid fetch item";
		return -1;
	}
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
		if (strcasecmp(a->str, simple[i].name) == 0) {
			item_add(f, simple[i].kind);
			return 0;
		}
	if (strncasecmp(a->str, "BODY[", 5) == 0)
		return parse_section(f, a->str, false, error_r);
	if (strncasecmp(a->str, "BODY.PEEK[", 10) == 0)
		return parse_section(f, a->str, true, error_r);
	*error_r = "Unknown fetch item";
	return -1;
}

/* The items of a FETCH: a macro, one item or a list. */
static int
parse_items(struct fetch_ctx *f, const struct imap_arg *a,
    const char **error_r)
{
	static const enum fetch_kind fast[] = { FI_FLAGS, FI_INTERNALDATE,
	    FI_SIZE, FI_ENVELOPE, FI_BODY };
	size_t n = 0;

	if (imap_arg_atom_eq(a, "FAST"))
		n = 3;
	else if (imap_arg_atom_eq(a, "ALL"))
		n = 4;
	else if (imap_arg_atom_eq(a, "FULL"))
		n = 5;
	for (size_t i = 0; i < n; i++)
		item_add(f, fast[i]);
	if (n > 0)
		return 0;
	if (a->type != IMAP_ARG_LIST)
		return parse_item(f, a, error_r);
	if (a->count == 0) {
		*error_r = "Empty fetch item list";
		return -1;
	}
	for (size_t i = 0; i < a->count; i++)
		if (parse_item(f, &a->list[i], error_r) < 0)
			return -1;
	return 0;
}

static void
append_date(struct str *out, time_t t)
{
	struct tm tm;
	char buf[64];

	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "\"%d-%b-%Y %H:%M:%S %z\"", &tm);
	str_append(out, buf);
}

/* A body section's bytes as a literal, <partial> applied. */
static void
append_section(struct str *out, const struct fetch_item *it,
    const char *data, size_t len)
{
	if (it->partial) {
		if (it->p_off >= len) {
			len = 0;
		} else {
			data += it->p_off;
			len -= it->p_off;
			if (len > it->p_len)
				len = it->p_len;
		}
	}
	str_appendf(out, "{%zu}\r\n", len);
	str_append_n(out, data, len);
}

static void
fetch_section(struct str *out, const struct fetch_item *it,
    const char *data, size_t len, const struct mime_part *root)
{
	struct mime_section all = { MIME_SECTION_ALL, NULL, 0, NULL };
	struct mime_section hdr = { MIME_SECTION_HEADER, NULL, 0, NULL };
	struct mime_section text = { MIME_SECTION_TEXT, NULL, 0, NULL };
	const struct mime_section *sec = it->sec;
	struct str buf = STR_INIT;
	const char *sdata;
	size_t slen;

	switch (it->kind) {
	case FI_RFC822:
		str_append(out, "RFC822 ");
		sec = &all;
		break;
	case FI_RFC822_HEADER:
		str_append(out, "RFC822.HEADER ");
		sec = &hdr;
		break;
	case FI_RFC822_TEXT:
		str_append(out, "RFC822.TEXT ");
		sec = &text;
		break;
	default:
		str_append(out, "BODY[");
		mime_section_name(out, sec);
		str_append_c(out, ']');
		if (it->partial)
			str_appendf(out, "<%u>", it->p_off);
		str_append_c(out, ' ');
	}
	mime_section_get(data, len, root, sec, &buf, &sdata, &slen);
	append_section(out, it, sdata, slen);
	str_free(&buf);
}

/* The cache field of a data item computed from the message, or -1. */
static int
cache_field(enum fetch_kind kind)
{
	switch (kind) {
	case FI_ENVELOPE:
		return MBOX_CACHE_ENVELOPE;
	case FI_BODY:
		return MBOX_CACHE_BODY;
	case FI_BODYSTRUCTURE:
		return MBOX_CACHE_BODYSTRUCTURE;
	default:
		return -1;
	}
}

/* Does message SEQ need reading for F's items, or has the cache them
   all? */
static bool
fetch_needs_msg(struct imap_client *c, const struct fetch_ctx *f,
    uint32_t seq)
{
	const void *data;
	size_t len;
	int field;

	if (f->needs_msg)
		return true;
	for (size_t i = 0; i < f->nitems; i++)
		if ((field = cache_field(f->items[i].kind)) >= 0 &&
		    mbox_cache_get(c->mb, seq, (enum mbox_cache_field)field,
		    &data, &len) == 0)
			return true;
	return false;
}

/* ENVELOPE, BODY or BODYSTRUCTURE of message SEQ: from the cache, or
   computed from ROOT and put there. */
static void
fetch_cached_out(struct imap_client *c, struct str *out,
    const struct fetch_item *it, uint32_t seq, const char *data,
    const struct mime_part *root)
{
	enum mbox_cache_field field = (enum mbox_cache_field)
	    cache_field(it->kind);
	const void *cached;
	size_t len, start;

	str_append(out, it->kind == FI_ENVELOPE ? "ENVELOPE " :
	    it->kind == FI_BODY ? "BODY " : "BODYSTRUCTURE ");
	if (mbox_cache_get(c->mb, seq, field, &cached, &len) == 1) {
		str_append_n(out, cached, len);
		return;
	}
	/* Not read because the cache had it when we looked: read it now. */
	if (root == NULL && imap_msg_get(c, seq, &data, &len, &root) < 0) {
		str_append(out, "NIL");
		return;
	}
	start = out->len;
	if (it->kind == FI_ENVELOPE)
		mime_envelope(out, data + root->hdr_off, root->hdr_len);
	else
		mime_bodystructure(out, root, it->kind == FI_BODYSTRUCTURE);
	mbox_cache_put(c->mb, seq, field, out->s + start, out->len - start);
}

static void
fetch_item_out(struct imap_client *c, struct str *out,
    const struct fetch_item *it, uint32_t seq, const char *data,
    size_t len, const struct mime_part *root)
{
	const struct mmsg *m = mbox_msg(c->mb, seq);

	switch (it->kind) {
	case FI_FLAGS:
		str_append(out, "FLAGS ");
		imap_append_flags(c, out, m);
		break;
	case FI_INTERNALDATE:
		str_append(out, "INTERNALDATE ");
		append_date(out, m->internaldate);
		break;
	case FI_SIZE:
		str_appendf(out, "RFC822.SIZE %llu",
		    (unsigned long long)m->size);
		break;
	case FI_UID:
		str_appendf(out, "UID %u", m->uid);
		break;
	case FI_ENVELOPE:
	case FI_BODY:
	case FI_BODYSTRUCTURE:
		fetch_cached_out(c, out, it, seq, data, root);
		break;
	default:
		fetch_section(out, it, data, len, root);
	}
}

/* Set \Seen for a body fetch without PEEK; true when it changed. */
static bool
mark_seen(struct imap_client *c, struct fetch_ctx *f, uint32_t seq)
{
	const struct mmsg *m = mbox_msg(c->mb, seq);
	char *error = NULL;

	if (!f->sets_seen || mbox_readonly(c->mb) || (m->flags & MF_SEEN))
		return false;
	if (mbox_store(c->mb, seq, MBOX_FLAGS_ADD, MF_SEEN, 0, &error) < 0) {
		log_error("imap(%s): %s", c->s->user, error);
		free(error);
		return false;
	}
	return true;
}

/* Send the FETCH response of message SEQ. */
static void
fetch_one(struct imap_client *c, struct fetch_ctx *f, uint32_t seq)
{
	const struct mime_part *root = NULL;
	const struct mmsg *m;
	const char *data = NULL;
	struct str out = STR_INIT;
	size_t len = 0;
	bool seen;

	if (fetch_needs_msg(c, f, seq) &&
	    imap_msg_get(c, seq, &data, &len, &root) < 0) {
		f->lost = true;
		return;
	}
	seen = mark_seen(c, f, seq);
	m = mbox_msg(c->mb, seq);
	str_appendf(&out, "* %u FETCH (", seq);
	if (f->uid)
		str_appendf(&out, "UID %u", m->uid);
	for (size_t i = 0; i < f->nitems; i++) {
		if (f->items[i].kind == FI_UID && f->uid)
			continue;
		if (out.s[out.len - 1] != '(')
			str_append_c(&out, ' ');
		fetch_item_out(c, &out, &f->items[i], seq, data, len, root);
	}
	if (seen && !f->want_flags) {
		str_append(&out, " FLAGS ");
		imap_append_flags(c, &out, m);
	}
	str_append(&out, ")\r\n");
	imap_send(c, out.s, out.len);
	str_free(&out);
}

/* Produce responses until done or the client has enough to read. */
static bool
fetch_resume(struct imap_client *c)
{
	struct fetch_ctx *f = c->resume_ctx;

	while (f->next < f->nseqs) {
		if (imap_output_pending(c) > IMAP_OUTPUT_HIGH)
			return false;
		fetch_one(c, f, f->seqs[f->next++]);
	}
	mbox_cache_flush(c->mb);
	imap_tagged(c, f->tag, f->lost ? "NO [EXPUNGEISSUED] Some messages "
	    "were also expunged." : "OK Fetch completed.");
	fetch_ctx_free(f);
	c->resume_ctx = NULL;
	c->resume_abort = NULL;
	return true;
}

static void
fetch_abort(struct imap_client *c)
{
	fetch_ctx_free(c->resume_ctx);
	c->resume_ctx = NULL;
}

void
imap_cmd_fetch(struct imap_client *c, const char *tag,
    const struct imap_arg *args, size_t count, bool uid)
{
	struct fetch_ctx *f = xcalloc(1, sizeof(*f));
	const char *error = NULL;
	ssize_t n;

	f->uid = uid;
	if (count != 2 || args[0].type != IMAP_ARG_ATOM) {
		imap_tagged(c, tag, "BAD Invalid arguments.");
		fetch_ctx_free(f);
		return;
	}
	if (parse_items(f, &args[1], &error) < 0) {
		imap_sendf(c, "%s BAD Error in IMAP command FETCH: %s\r\n", tag,
		    error);
		fetch_ctx_free(f);
		return;
	}
	if ((n = imap_seqs(c, args[0].str, uid, &f->seqs)) < 0) {
		imap_sendf(c, "%s BAD Error in IMAP command FETCH: Invalid "
		    "messageset\r\n", tag);
		fetch_ctx_free(f);
		return;
	}
	f->nseqs = (size_t)n;
	f->tag = xstrdup(tag);
	c->resume_ctx = f;
	c->resume_abort = fetch_abort;
	if (!fetch_resume(c))
		c->resume = fetch_resume;
}
