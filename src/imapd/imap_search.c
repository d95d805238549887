/*
 * SEARCH and UID SEARCH: every RFC 3501 search key, parsed into a tree
 * and matched message by message; the header, text and date pieces come
 * from the MIME helpers.
 */

#define _GNU_SOURCE	/* timegm */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imapd/imap_int.h"
#include "imapd/imap_search.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mailstore/mailstore.h"
#include "mailstore/mime.h"

enum key_type {
	K_AND, K_OR, K_NOT, K_SEQ, K_UID, K_FLAG, K_UNFLAG, K_KEYWORD,
	K_UNKEYWORD, K_NEW, K_OLD, K_LARGER, K_SMALLER, K_BEFORE, K_ON,
	K_SINCE, K_SENTBEFORE, K_SENTON, K_SENTSINCE, K_HEADER, K_BODY,
	K_TEXT,
};

struct key {
	enum key_type type;
	unsigned flag;
	int kw;
	uint64_t num;
	long day;
	char *field, *value;
	struct imap_seqset set;
	uint32_t max;
	struct key *kids;
	size_t nkids;
};

struct imap_search {
	struct key root;
};

struct parse_ctx {
	const struct imap_arg *args;
	size_t count, pos;
	const struct imap_search_env *env;
	const char *error;
};

static const struct {
	const char *name;
	enum key_type type;
	unsigned flag;
} flag_keys[] = {
	{ "ANSWERED", K_FLAG, MF_ANSWERED }, { "DELETED", K_FLAG, MF_DELETED },
	{ "DRAFT", K_FLAG, MF_DRAFT }, { "FLAGGED", K_FLAG, MF_FLAGGED },
	{ "RECENT", K_FLAG, MF_RECENT }, { "SEEN", K_FLAG, MF_SEEN },
	{ "UNANSWERED", K_UNFLAG, MF_ANSWERED },
	{ "UNDELETED", K_UNFLAG, MF_DELETED },
	{ "UNDRAFT", K_UNFLAG, MF_DRAFT },
	{ "UNFLAGGED", K_UNFLAG, MF_FLAGGED },
	{ "UNSEEN", K_UNFLAG, MF_SEEN },
	{ "NEW", K_NEW, 0 }, { "OLD", K_OLD, 0 }, { "ALL", K_AND, 0 },
};

static const struct {
	const char *name;
	enum key_type type;
	const char *field;
} string_keys[] = {
	{ "BCC", K_HEADER, "Bcc" }, { "CC", K_HEADER, "Cc" },
	{ "FROM", K_HEADER, "From" }, { "SUBJECT", K_HEADER, "Subject" },
	{ "TO", K_HEADER, "To" }, { "BODY", K_BODY, NULL },
	{ "TEXT", K_TEXT, NULL },
};

static const struct {
	const char *name;
	enum key_type type;
} date_keys[] = {
	{ "BEFORE", K_BEFORE }, { "ON", K_ON }, { "SINCE", K_SINCE },
	{ "SENTBEFORE", K_SENTBEFORE }, { "SENTON", K_SENTON },
	{ "SENTSINCE", K_SENTSINCE },
};

static void
key_clear(struct key *k)
{
	for (size_t i = 0; i < k->nkids; i++)
		key_clear(&k->kids[i]);
	free(k->kids);
	free(k->field);
	free(k->value);
	imap_seqset_free(&k->set);
}

static struct key *
key_add(struct key *parent)
{
	parent->kids = xreallocarray(parent->kids, parent->nkids + 1,
	    sizeof(*parent->kids));
	memset(&parent->kids[parent->nkids], 0, sizeof(*parent->kids));
	return &parent->kids[parent->nkids++];
}

/* The next argument as a string, or NULL with the error set. */
static const char *
next_string(struct parse_ctx *p)
{
	const struct imap_arg *a;

	if (p->pos >= p->count || !imap_arg_is_string(&p->args[p->pos])) {
		p->error = "Missing search parameter";
		return NULL;
	}
	a = &p->args[p->pos++];
	return a->str;
}

/* Days since the epoch of "d-Mon-yyyy", or -1. */
static long
parse_date(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	unsigned day, year;
	char mon[4], extra;
	const char *m;
	struct tm tm;

	if (sscanf(s, "%2u-%3[A-Za-z]-%4u%c", &day, mon, &year, &extra) != 3)
		return -1;
	for (m = months; *m != '\0'; m += 3)
		if (strncasecmp(m, mon, 3) == 0)
			break;
	if (*m == '\0' || day < 1 || day > 31 || year < 1900 || strlen(mon) != 3)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_mday = (int)day;
	tm.tm_mon = (int)((m - months) / 3);
	tm.tm_year = (int)year - 1900;
	return (long)(timegm(&tm) / 86400);
}

static int parse_key(struct parse_ctx *p, struct key *k, int depth);

/* Keys up to the end of ARGS, ANDed into K. */
static int
parse_keys(struct parse_ctx *p, struct key *k, int depth)
{
	k->type = K_AND;
	while (p->pos < p->count)
		if (parse_key(p, key_add(k), depth) < 0)
			return -1;
	return 0;
}

static int
parse_list_key(struct parse_ctx *p, struct key *k, int depth)
{
	const struct imap_arg *a = &p->args[p->pos++];
	struct parse_ctx sub = { a->list, a->count, 0, p->env, NULL };

	if (a->count == 0) {
		p->error = "Empty list";
		return -1;
	}
	if (parse_keys(&sub, k, depth + 1) < 0) {
		p->error = sub.error;
		return -1;
	}
	return 0;
}

static int
parse_set_key(struct parse_ctx *p, struct key *k, const char *s, bool uid)
{
	k->type = uid ? K_UID : K_SEQ;
	k->max = uid ? p->env->max_uid : p->env->max_seq;
	if (imap_seqset_parse(s, &k->set) < 0) {
		p->error = "Invalid messageset";
		return -1;
	}
	return 0;
}

/* The keys that take arguments besides the simple ones. */
static int
parse_arg_key(struct parse_ctx *p, struct key *k, const char *name,
    int depth)
{
	const char *s;
	char *end;

	if (strcasecmp(name, "NOT") == 0) {
		k->type = K_NOT;
		return p->pos < p->count ? parse_key(p, key_add(k), depth + 1) :
		    (p->error = "Missing search key", -1);
	}
	if (strcasecmp(name, "OR") == 0) {
		k->type = K_OR;
		if (p->pos + 1 >= p->count) {
			p->error = "Missing search key";
			return -1;
		}
		return parse_key(p, key_add(k), depth + 1) < 0 ? -1 :
		    parse_key(p, key_add(k), depth + 1);
	}
	if ((s = next_string(p)) == NULL)
		return -1;
	if (strcasecmp(name, "UID") == 0)
		return parse_set_key(p, k, s, true);
	if (strcasecmp(name, "LARGER") == 0 ||
	    strcasecmp(name, "SMALLER") == 0) {
		k->type = strcasecmp(name, "LARGER") == 0 ? K_LARGER :
		    K_SMALLER;
		k->num = strtoull(s, &end, 10);
		if (*s < '0' || *s > '9' || *end != '\0') {
			p->error = "Invalid size";
			return -1;
		}
		return 0;
	}
	if (strcasecmp(name, "KEYWORD") == 0 ||
	    strcasecmp(name, "UNKEYWORD") == 0) {
		k->type = strcasecmp(name, "KEYWORD") == 0 ? K_KEYWORD :
		    K_UNKEYWORD;
		k->kw = p->env->keyword != NULL ?
		    p->env->keyword(p->env->ctx, s) : -1;
		return 0;
	}
	if (strcasecmp(name, "HEADER") == 0) {
		k->type = K_HEADER;
		k->field = xstrdup(s);
		if ((s = next_string(p)) == NULL)
			return -1;
		k->value = xstrdup(s);
		return 0;
	}
	p->error = "Unknown search key";
	return -1;
}

static int
parse_key(struct parse_ctx *p, struct key *k, int depth)
{
	const struct imap_arg *a = &p->args[p->pos];
	const char *name, *s;
	size_t i;

	if (depth > IMAP_MAX_NESTING) {
		p->error = "Too deep nesting of search keys";
		return -1;
	}
	if (a->type == IMAP_ARG_LIST)
		return parse_list_key(p, k, depth);
	if (a->type != IMAP_ARG_ATOM) {
		p->error = "Invalid search key";
		return -1;
	}
	name = a->str;
	p->pos++;
	for (i = 0; i < sizeof(flag_keys) / sizeof(flag_keys[0]); i++)
		if (strcasecmp(name, flag_keys[i].name) == 0) {
			k->type = flag_keys[i].type;
			k->flag = flag_keys[i].flag;
			return 0;
		}
	for (i = 0; i < sizeof(string_keys) / sizeof(string_keys[0]); i++)
		if (strcasecmp(name, string_keys[i].name) == 0) {
			if ((s = next_string(p)) == NULL)
				return -1;
			k->type = string_keys[i].type;
			k->field = xstrdup(string_keys[i].field);
			k->value = xstrdup(s);
			return 0;
		}
	for (i = 0; i < sizeof(date_keys) / sizeof(date_keys[0]); i++)
		if (strcasecmp(name, date_keys[i].name) == 0) {
			if ((s = next_string(p)) == NULL)
				return -1;
			k->type = date_keys[i].type;
			if ((k->day = parse_date(s)) < 0) {
				p->error = "Invalid date";
				return -1;
			}
			return 0;
		}
	if ((*name >= '0' && *name <= '9') || *name == '*')
		return parse_set_key(p, k, name, false);
	return parse_arg_key(p, k, name, depth);
}

int
imap_search_parse(const struct imap_arg *args, size_t count,
    const struct imap_search_env *env, struct imap_search **s_r,
    const char **error_r)
{
	struct parse_ctx p = { args, count, 0, env, NULL };
	struct imap_search *s;

	*s_r = NULL;
	if (count >= 2 && imap_arg_atom_eq(&args[0], "CHARSET")) {
		if (!imap_arg_is_string(&args[1])) {
			*error_r = "Invalid charset";
			return -1;
		}
		if (strcasecmp(args[1].str, "UTF-8") != 0 &&
		    strcasecmp(args[1].str, "US-ASCII") != 0) {
			*error_r = "Unsupported charset";
			return -2;
		}
		p.pos = 2;
	}
	if (p.pos >= count) {
		*error_r = "Missing search parameters";
		return -1;
	}
	s = xcalloc(1, sizeof(*s));
	if (parse_keys(&p, &s->root, 0) < 0) {
		imap_search_free(&s);
		*error_r = p.error;
		return -1;
	}
	*s_r = s;
	return 0;
}

void
imap_search_free(struct imap_search **s)
{
	if (*s == NULL)
		return;
	key_clear(&(*s)->root);
	free(*s);
	*s = NULL;
}

/* The day (since the epoch) of T in local time. */
static long
local_day(time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return (long)(timegm(&tm) / 86400);
}

/* The day of the Date: header as written, -1 when there is none. */
static long
header_day(const char *data, const struct mime_part *root)
{
	char **dates = mime_header_values(data + root->hdr_off,
	    root->hdr_len, "Date");
	long day = -1;
	time_t t;
	int tz;

	if (dates[0] != NULL && mime_date_parse(dates[0], &t, &tz) == 0) {
		long long secs = (long long)t + tz * 60;

		day = (long)(secs >= 0 ? secs / 86400 : (secs - 86399) / 86400);
	}
	strv_free(&dates);
	return day;
}

static bool
compare_day(enum key_type type, long day, long want)
{
	switch (type) {
	case K_BEFORE:
	case K_SENTBEFORE:
		return day < want;
	case K_ON:
	case K_SENTON:
		return day == want;
	default:
		return day >= want;
	}
}

/* The keys that read the message itself. */
static bool
match_content(const struct key *k, const struct imap_search_msg *m)
{
	const struct mime_part *root;
	const char *data;
	size_t len;

	if (m->load(m->ctx, &data, &len, &root) < 0)
		return false;
	switch (k->type) {
	case K_HEADER:
		return mime_search_header(data + root->hdr_off, root->hdr_len,
		    k->field, k->value);
	case K_BODY:
	case K_TEXT:
		return mime_search_text(data, len, root, k->value,
		    k->type == K_TEXT);
	default:
		return false;
	}
}

/* SENTBEFORE, SENTON, SENTSINCE: the Date: header's day (remembered or
   read), or the internal date's. */
static bool
match_sent(const struct key *k, const struct imap_search_msg *m)
{
	const struct mime_part *root;
	const char *data;
	size_t len;
	long day;

	if (m->date_get == NULL || !m->date_get(m->ctx, &day)) {
		if (m->load(m->ctx, &data, &len, &root) < 0)
			return false;
		day = header_day(data, root);
		if (m->date_put != NULL)
			m->date_put(m->ctx, day);
	}
	return compare_day(k->type, day >= 0 ? day :
	    local_day(m->internaldate), k->day);
}

static bool
match_key(const struct key *k, const struct imap_search_msg *m)
{
	switch (k->type) {
	case K_AND:
		for (size_t i = 0; i < k->nkids; i++)
			if (!match_key(&k->kids[i], m))
				return false;
		return true;
	case K_OR:
		return match_key(&k->kids[0], m) || match_key(&k->kids[1], m);
	case K_NOT:
		return !match_key(&k->kids[0], m);
	case K_SEQ:
		return imap_seqset_has(&k->set, m->seq, k->max);
	case K_UID:
		return imap_seqset_has(&k->set, m->uid, k->max);
	case K_FLAG:
		return (m->flags & k->flag) != 0;
	case K_UNFLAG:
		return (m->flags & k->flag) == 0;
	case K_KEYWORD:
		return k->kw >= 0 && k->kw < 32 &&
		    (m->keywords & (1u << k->kw)) != 0;
	case K_UNKEYWORD:
		return !(k->kw >= 0 && k->kw < 32 &&
		    (m->keywords & (1u << k->kw)) != 0);
	case K_NEW:
		return (m->flags & (MF_RECENT | MF_SEEN)) == MF_RECENT;
	case K_OLD:
		return (m->flags & MF_RECENT) == 0;
	case K_LARGER:
		return m->size > k->num;
	case K_SMALLER:
		return m->size < k->num;
	case K_BEFORE:
	case K_ON:
	case K_SINCE:
		return compare_day(k->type, local_day(m->internaldate), k->day);
	case K_SENTBEFORE:
	case K_SENTON:
	case K_SENTSINCE:
		return match_sent(k, m);
	default:
		return match_content(k, m);
	}
}

bool
imap_search_match(const struct imap_search *s,
    const struct imap_search_msg *m)
{
	return match_key(&s->root, m);
}
