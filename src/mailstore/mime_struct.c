/*
 * IMAP BODY, BODYSTRUCTURE and ENVELOPE (RFC 3501 7.4.2), written the
 * way Dovecot writes them so that clients see the same answers after a
 * migration.
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

/* What a multipart without parts shows (RFC 2046 requires one). */
#define EMPTY_BODY "(\"text\" \"plain\" (\"charset\" \"us-ascii\") " \
	"NIL NIL \"7bit\" 0 0"

/* Write ("name" "value" ...), adding the default charset for text, or
   NIL for no parameters. */
static void
write_params(struct str *out, const struct mime_param *p, size_t n,
    bool text)
{
	bool charset = false;
	size_t i;

	if (n == 0 && !text) {
		str_append(out, "NIL");
		return;
	}
	str_append_c(out, '(');
	for (i = 0; i < n; i++) {
		if (i > 0)
			str_append_c(out, ' ');
		if (strcasecmp(p[i].name, "charset") == 0)
			charset = true;
		imap_append_nstring(out, p[i].name);
		str_append_c(out, ' ');
		imap_append_nstring(out, p[i].value);
	}
	if (text && !charset)
		str_append(out, n > 0 ? " \"charset\" \"us-ascii\"" :
		    "\"charset\" \"us-ascii\"");
	str_append_c(out, ')');
}

/* Write a Content-Language value as a list of its tags. */
static void
write_language(struct str *out, const char *lang)
{
	struct mime_lex lx;
	struct str tag = STR_INIT;
	bool first = true;

	if (lang == NULL) {
		str_append(out, "NIL");
		return;
	}
	lx = (struct mime_lex){ lang, lang + strlen(lang), NULL, 0 };
	str_append_c(out, '(');
	for (;;) {
		str_truncate(&tag, 0);
		if (mime_lex_token(&lx, &tag)) {
			if (!first)
				str_append_c(out, ' ');
			imap_append_string(out, tag.s, tag.len);
			first = false;
		}
		if (!mime_lex_char(&lx, ','))
			break;
	}
	str_free(&tag);
	if (first)
		str_append(out, "\"\"");	/* keep the list non-empty */
	str_append_c(out, ')');
}

/* The extension data after MD5 (or after the multipart parameters):
   disposition, language, location. */
static void
write_ext_common(struct str *out, const struct mime_part *part)
{
	str_append_c(out, ' ');
	if (part->disposition == NULL)
		str_append(out, "NIL");
	else {
		str_append_c(out, '(');
		imap_append_nstring(out, part->disposition);
		str_append_c(out, ' ');
		write_params(out, part->disp_params, part->ndisp_params,
		    false);
		str_append_c(out, ')');
	}
	str_append_c(out, ' ');
	write_language(out, part->language);
	str_append_c(out, ' ');
	imap_append_nstring(out, part->location);
}

static void write_part(struct str *out, const struct mime_part *part,
    bool extended);

static void
write_multipart(struct str *out, const struct mime_part *part, bool extended)
{
	const struct mime_part *child;

	for (child = part->children; child != NULL; child = child->next)
		write_part(out, child, extended);
	if (part->children == NULL)
		str_append(out, extended ? EMPTY_BODY " NIL NIL NIL NIL)" :
		    EMPTY_BODY ")");
	str_append_c(out, ' ');
	imap_append_nstring(out, part->subtype);
	if (!extended)
		return;
	str_append_c(out, ' ');
	write_params(out, part->params, part->nparams, false);
	write_ext_common(out, part);
}

static void
write_leaf(struct str *out, const struct mime_part *part, bool extended)
{
	bool text = strcasecmp(part->type, "text") == 0;

	if (part->message != NULL)
		str_append(out, "\"message\" \"rfc822\"");
	else {
		imap_append_nstring(out, part->type);
		str_append_c(out, ' ');
		imap_append_nstring(out, part->subtype);
	}
	str_append_c(out, ' ');
	write_params(out, part->params, part->nparams, text);
	str_append_c(out, ' ');
	imap_append_nstring(out, part->id);
	str_append_c(out, ' ');
	imap_append_nstring(out, part->description);
	str_append_c(out, ' ');
	imap_append_nstring(out, part->encoding != NULL ? part->encoding :
	    "7bit");
	str_appendf(out, " %zu", part->body_len);
	if (text)
		str_appendf(out, " %u", part->body_lines);
	else if (part->message != NULL) {
		const struct mime_part *m = part->message;

		str_append_c(out, ' ');
		str_append(out, m->envelope);
		str_append_c(out, ' ');
		mime_bodystructure(out, m, extended);
		str_appendf(out, " %u", part->body_lines);
	}
	if (!extended)
		return;
	str_append_c(out, ' ');
	imap_append_nstring(out, part->md5);
	write_ext_common(out, part);
}

/* Write one part in parentheses. */
static void
write_part(struct str *out, const struct mime_part *part, bool extended)
{
	str_append_c(out, '(');
	if (part->multipart)
		write_multipart(out, part, extended);
	else
		write_leaf(out, part, extended);
	str_append_c(out, ')');
}

void
mime_bodystructure(struct str *out, const struct mime_part *root,
    bool extended)
{
	write_part(out, root, extended);
}
