/*
 * IMAP ENVELOPE (RFC 3501 7.4.2): the message's Date, Subject, address
 * lists (RFC 5322 3.4, obsolete forms tolerated) and ids.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "mailstore/imapstr.h"
#include "mailstore/mime.h"
#include "mailstore/mime_int.h"

/* An address list longer than this is cut short: no client shows it. */
#define MAX_ADDRESSES	10000

/* What Dovecot puts where an address lacks a part: a NIL host would
   read as the start of a group. */
#define MISSING_MAILBOX	"MISSING_MAILBOX"
#define MISSING_DOMAIN	"MISSING_DOMAIN"

enum env_field {
	ENV_DATE, ENV_SUBJECT, ENV_FROM, ENV_SENDER, ENV_REPLY_TO, ENV_TO,
	ENV_CC, ENV_BCC, ENV_IN_REPLY_TO, ENV_MESSAGE_ID, ENV_COUNT
};

static const char *const env_names[ENV_COUNT] = {
	"date", "subject", "from", "sender", "reply-to", "to", "cc", "bcc",
	"in-reply-to", "message-id",
};

struct addr_list {
	struct str out;
	unsigned int count;
};

/* Is C allowed in an atom?  8-bit bytes are, as real mail has them. */
static bool
atext(unsigned char c)
{
	return (c > ' ' && c < 0x7f && strchr("()<>[]:;@\\,.\"", c) == NULL) ||
	    c >= 0x80;
}

/* Read words (atoms, quoted strings) and dots: PHRASE gets them as a
   display name (words separated by one space), LOCAL as a local part
   (concatenated). */
static void
read_words(struct mime_lex *lx, struct str *phrase, struct str *local)
{
	for (;;) {
		struct str q = STR_INIT;
		const char *start;

		mime_lex_cfws(lx);
		if (lx->p >= lx->end)
			return;
		if (mime_lex_quoted(lx, &q)) {
			if (phrase->len > 0)
				str_append_c(phrase, ' ');
			str_append_n(phrase, q.s, q.len);
			str_append_n(local, q.s, q.len);
			str_free(&q);
			continue;
		}
		start = lx->p;
		while (lx->p < lx->end && (atext((unsigned char)*lx->p) ||
		    *lx->p == '.'))
			lx->p++;
		if (lx->p == start)
			return;
		if (phrase->len > 0)
			str_append_c(phrase, ' ');
		str_append_n(phrase, start, (size_t)(lx->p - start));
		str_append_n(local, start, (size_t)(lx->p - start));
	}
}

/* Read a domain: dot-atoms or a domain literal. */
static void
read_domain(struct mime_lex *lx, struct str *domain)
{
	mime_lex_cfws(lx);
	if (lx->p < lx->end && *lx->p == '[') {
		const char *start = lx->p;

		while (lx->p < lx->end && *lx->p != ']')
			lx->p++;
		if (lx->p < lx->end)
			lx->p++;
		str_append_n(domain, start, (size_t)(lx->p - start));
		return;
	}
	for (;;) {
		const char *start;

		mime_lex_cfws(lx);
		start = lx->p;
		while (lx->p < lx->end && (atext((unsigned char)*lx->p) ||
		    *lx->p == '.'))
			lx->p++;
		if (lx->p == start)
			return;
		str_append_n(domain, start, (size_t)(lx->p - start));
	}
}

/* Append one (name adl mailbox host). */
static void
emit(struct addr_list *al, const char *name, const char *adl,
    const char *mailbox, const char *host)
{
	if (al->count == 0)
		str_append_c(&al->out, '(');
	al->count++;
	str_append_c(&al->out, '(');
	imap_append_nstring(&al->out, name);
	str_append_c(&al->out, ' ');
	imap_append_nstring(&al->out, adl);
	str_append_c(&al->out, ' ');
	imap_append_nstring(&al->out, mailbox);
	str_append_c(&al->out, ' ');
	imap_append_nstring(&al->out, host);
	str_append_c(&al->out, ')');
}

/* Emit a mailbox, filling what is missing as Dovecot does. */
static void
emit_mailbox(struct addr_list *al, const struct str *name, const char *adl,
    const struct str *local, const struct str *domain)
{
	emit(al, name->len > 0 ? name->s : NULL, adl,
	    local->len > 0 ? local->s : MISSING_MAILBOX,
	    domain->len > 0 ? domain->s : MISSING_DOMAIN);
}

/* After '<': [route ":"] addr-spec [">"]. */
static void
read_angle(struct mime_lex *lx, struct addr_list *al, const struct str *name)
{
	struct str route = STR_INIT, local = STR_INIT, junk = STR_INIT;
	struct str domain = STR_INIT;

	mime_lex_cfws(lx);
	if (lx->p < lx->end && *lx->p == '@') {
		/* obs-route: "@a,@b:" */
		while (lx->p < lx->end && *lx->p != ':' && *lx->p != '>') {
			if (*lx->p != ' ' && *lx->p != '\t')
				str_append_c(&route, *lx->p);
			lx->p++;
		}
		(void)mime_lex_char(lx, ':');
	}
	read_words(lx, &junk, &local);
	if (mime_lex_char(lx, '@'))
		read_domain(lx, &domain);
	while (lx->p < lx->end && *lx->p != '>')
		lx->p++;	/* garbage inside the brackets */
	if (lx->p < lx->end)
		lx->p++;
	if (local.len == 0 && domain.len == 0 && route.len == 0)
		emit(al, name->len > 0 ? name->s : NULL, NULL,
		    MISSING_MAILBOX, MISSING_DOMAIN);
	else
		emit_mailbox(al, name, route.len > 0 ? route.s : NULL,
		    &local, &domain);
	str_free(&route);
	str_free(&local);
	str_free(&junk);
	str_free(&domain);
}

static void read_address(struct mime_lex *lx, struct addr_list *al,
    bool in_group);

/* After "name:": the group's mailboxes up to ';'. */
static void
read_group(struct mime_lex *lx, struct addr_list *al, const struct str *name)
{
	emit(al, NULL, NULL, name->s != NULL ? name->s : "", NULL);
	for (;;) {
		mime_lex_cfws(lx);
		if (lx->p >= lx->end || mime_lex_char(lx, ';'))
			break;
		if (mime_lex_char(lx, ','))
			continue;
		read_address(lx, al, true);
	}
	emit(al, NULL, NULL, NULL, NULL);
}

/* Read one mailbox or group and emit it. */
static void
read_address(struct mime_lex *lx, struct addr_list *al, bool in_group)
{
	struct str phrase = STR_INIT, local = STR_INIT, domain = STR_INIT;
	struct str name = STR_INIT;
	const char *before = lx->p;

	lx->comment = NULL;
	read_words(lx, &phrase, &local);
	mime_lex_cfws(lx);
	if (mime_lex_char(lx, '<'))
		read_angle(lx, al, &phrase);
	else if (!in_group && mime_lex_char(lx, ':'))
		read_group(lx, al, &phrase);
	else if (local.len > 0 || (lx->p < lx->end && *lx->p == '@')) {
		if (mime_lex_char(lx, '@'))
			read_domain(lx, &domain);
		mime_lex_cfws(lx);	/* a trailing comment is the name */
		if (lx->comment != NULL)
			str_append_n(&name, lx->comment, lx->comment_len);
		emit_mailbox(al, &name, NULL, &local, &domain);
	}
	mime_lex_cfws(lx);
	/* Skip what cannot start an address, so that garbage ends. */
	if (lx->p == before || (lx->p < lx->end && *lx->p != ',' &&
	    *lx->p != ';' && *lx->p != '<' && !atext((unsigned char)*lx->p) &&
	    *lx->p != '"'))
		if (lx->p < lx->end)
			lx->p++;
	str_free(&phrase);
	str_free(&local);
	str_free(&domain);
	str_free(&name);
}

/* Write the address list of unfolded VALUE, or NIL. */
static void
write_addresses(struct str *out, const char *value)
{
	struct addr_list al = { STR_INIT, 0 };
	struct mime_lex lx = { value, value + strlen(value), NULL, 0 };

	while (lx.p < lx.end && al.count < MAX_ADDRESSES) {
		if (mime_lex_char(&lx, ','))
			continue;
		mime_lex_cfws(&lx);
		if (lx.p >= lx.end)
			break;
		read_address(&lx, &al, false);
	}
	if (al.count == 0)
		str_append(out, "NIL");
	else {
		str_append_n(out, al.out.s, al.out.len);
		str_append_c(out, ')');
	}
	str_free(&al.out);
}

/* Does VALUE hold at least one address? */
static bool
has_addresses(const char *value)
{
	struct str tmp = STR_INIT;
	bool ret;

	if (value == NULL)
		return false;
	write_addresses(&tmp, value);
	ret = strcmp(str_c(&tmp), "NIL") != 0;
	str_free(&tmp);
	return ret;
}

void
mime_envelope(struct str *out, const char *header, size_t len)
{
	char *v[ENV_COUNT] = { NULL };
	struct mime_field f;
	size_t pos = 0;
	int i;

	while (mime_field_next(header, len, &pos, &f)) {
		for (i = 0; i < ENV_COUNT; i++) {
			if (v[i] == NULL && mime_field_is(&f, env_names[i]))
				v[i] = mime_unfold(f.value, f.value_len);
		}
	}
	/* RFC 3501: an absent or empty Sender or Reply-To is From. */
	for (i = ENV_SENDER; i <= ENV_REPLY_TO; i++) {
		if (!has_addresses(v[i])) {
			free(v[i]);
			v[i] = v[ENV_FROM] != NULL ? xstrdup(v[ENV_FROM]) :
			    NULL;
		}
	}
	str_append_c(out, '(');
	for (i = 0; i < ENV_COUNT; i++) {
		if (i > 0)
			str_append_c(out, ' ');
		if (i >= ENV_FROM && i <= ENV_BCC && v[i] != NULL)
			write_addresses(out, v[i]);
		else
			imap_append_nstring(out, v[i]);
		free(v[i]);
	}
	str_append_c(out, ')');
}
