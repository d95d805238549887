/*
 * The MIME part tree of a message (RFC 2045, 2046): headers, multipart
 * boundaries and encapsulated messages, bounded in depth and count.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "mailstore/mime.h"
#include "mailstore/mime_ctype.h"
#include "mailstore/mime_int.h"

struct parse_ctx {
	const char *msg;
	unsigned int nparts;
};

static struct mime_part *parse_part(struct parse_ctx *ctx,
    struct mime_part *parent, size_t start, size_t end, unsigned int depth,
    bool in_digest);

/* Find where the header starting at START ends: just after the blank
   line, or END when there is none. */
static size_t
header_end(const char *msg, size_t start, size_t end)
{
	size_t p = start;

	while (p < end) {
		const char *nl;

		if (msg[p] == '\n')
			return p + 1;
		if (msg[p] == '\r' && p + 1 < end && msg[p + 1] == '\n')
			return p + 2;
		nl = memchr(msg + p, '\n', end - p);
		if (nl == NULL)
			break;
		p = (size_t)(nl - msg) + 1;
	}
	return end;
}

/* Set a string field to the unfolded value, keeping the first one. */
static void
set_once(char **field, const struct mime_field *f)
{
	if (*field == NULL)
		*field = mime_unfold(f->value, f->value_len);
}

/* Take Content-Transfer-Encoding when it is one valid token. */
static void
set_encoding(struct mime_part *part, const char *value)
{
	struct mime_lex lx = { value, value + strlen(value), NULL, 0 };
	struct str tok = STR_INIT;

	if (mime_lex_token(&lx, &tok)) {
		mime_lex_cfws(&lx);
		if (lx.p == lx.end) {
			part->encoding = str_steal(&tok);
			return;
		}
	}
	str_free(&tok);
}

/* Read the Content-* fields of the part's header. */
static void
read_fields(struct parse_ctx *ctx, struct mime_part *part)
{
	const char *h = ctx->msg + part->hdr_off;
	struct mime_field f;
	size_t pos = 0;
	bool seen_ct = false, seen_cte = false, seen_cd = false;

	while (mime_field_next(h, part->hdr_len, &pos, &f)) {
		char *v;

		if (f.name_len < 8 || strncasecmp(f.name, "content-", 8) != 0)
			continue;
		v = mime_unfold(f.value, f.value_len);
		if (mime_field_is(&f, "content-type") && !seen_ct) {
			char *t, *st;

			seen_ct = true;
			if (mime_ctype_parse(v, &t, &st, &part->params,
			    &part->nparams)) {
				free(part->type);
				free(part->subtype);
				part->type = t;
				part->subtype = st;
			}
		} else if (mime_field_is(&f, "content-transfer-encoding") &&
		    !seen_cte) {
			seen_cte = true;
			set_encoding(part, v);
		} else if (mime_field_is(&f, "content-disposition") &&
		    !seen_cd) {
			seen_cd = true;
			(void)mime_disposition_parse(v, &part->disposition,
			    &part->disp_params, &part->ndisp_params);
		} else if (mime_field_is(&f, "content-id"))
			set_once(&part->id, &f);
		else if (mime_field_is(&f, "content-description"))
			set_once(&part->description, &f);
		else if (mime_field_is(&f, "content-language"))
			set_once(&part->language, &f);
		else if (mime_field_is(&f, "content-location"))
			set_once(&part->location, &f);
		else if (mime_field_is(&f, "content-md5"))
			set_once(&part->md5, &f);
		free(v);
	}
}

/* Make PART a text/plain leaf (too deep, or out of parts). */
static void
make_leaf(struct mime_part *part)
{
	free(part->type);
	free(part->subtype);
	part->type = xstrdup("text");
	part->subtype = xstrdup("plain");
	part->multipart = false;
}

/*
 * Does the line at P (before END) delimit boundary B: "--B" then
 * optionally "--" (the close delimiter, *CLOSE_R), then only white space
 * up to the line end?
 */
static bool
is_delimiter(const char *p, const char *end, const char *b, size_t blen,
    bool *close_r)
{
	if ((size_t)(end - p) < blen + 2 || p[0] != '-' || p[1] != '-' ||
	    memcmp(p + 2, b, blen) != 0)
		return false;
	p += blen + 2;
	*close_r = end - p >= 2 && p[0] == '-' && p[1] == '-';
	if (*close_r)
		p += 2;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p == end || *p == '\n' || (*p == '\r' && p + 1 < end &&
	    p[1] == '\n');
}

/* Where the part before the delimiter line at D ends: the line break
   before the delimiter belongs to the delimiter (RFC 2046 5.1.1). */
static size_t
end_before(const char *msg, size_t d, size_t start)
{
	if (d >= start + 2 && msg[d - 2] == '\r' && msg[d - 1] == '\n')
		return d - 2;
	if (d >= start + 1 && msg[d - 1] == '\n')
		return d - 1;
	return d;
}

/* Add a child of MP covering [START, END). */
static bool
add_child(struct parse_ctx *ctx, struct mime_part *mp,
    struct mime_part ***tail, size_t start, size_t end, unsigned int depth)
{
	bool digest = strcasecmp(mp->subtype, "digest") == 0;

	if (ctx->nparts >= MIME_MAX_PARTS)
		return false;
	if (end < start)
		end = start;
	**tail = parse_part(ctx, mp, start, end, depth + 1, digest);
	*tail = &(**tail)->next;
	mp->nchildren++;
	return true;
}

/* Split the body of multipart MP at its boundary into children. */
static void
parse_children(struct parse_ctx *ctx, struct mime_part *mp,
    const char *boundary, unsigned int depth)
{
	const char *msg = ctx->msg;
	size_t blen = strlen(boundary), p = mp->body_off;
	size_t end = mp->body_off + mp->body_len, child = 0;
	struct mime_part **tail = &mp->children;
	bool open = false, close = false;

	while (p < end) {
		const char *nl = memchr(msg + p, '\n', end - p);
		size_t next = nl == NULL ? end : (size_t)(nl - msg) + 1;

		if (is_delimiter(msg + p, msg + end, boundary, blen, &close)) {
			if (open && !add_child(ctx, mp, &tail, child,
			    end_before(msg, p, child), depth))
				return;
			open = !close;
			child = next;
			if (close)
				return;	/* the rest is the epilogue */
		}
		p = next;
	}
	/* No close delimiter: the last part runs to the end. */
	if (open)
		(void)add_child(ctx, mp, &tail, child, end, depth);
}

/* Keep the ENVELOPE of an encapsulated message for BODYSTRUCTURE. */
static void
envelope_of(struct parse_ctx *ctx, struct mime_part *m)
{
	struct str env = STR_INIT;

	mime_envelope(&env, ctx->msg + m->hdr_off, m->hdr_len);
	m->envelope = str_steal(&env);
}

/* Parse the part's body according to its type. */
static void
parse_body(struct parse_ctx *ctx, struct mime_part *part, unsigned int depth)
{
	const char *boundary;

	if (strcasecmp(part->type, "multipart") == 0) {
		boundary = mime_param_get(part->params, part->nparams,
		    "boundary");
		if (boundary == NULL || *boundary == '\0' ||
		    depth + 1 >= MIME_MAX_DEPTH) {
			make_leaf(part);
			return;
		}
		part->multipart = true;
		parse_children(ctx, part, boundary, depth);
	} else if (strcasecmp(part->type, "message") == 0 &&
	    strcasecmp(part->subtype, "rfc822") == 0) {
		if (depth + 1 >= MIME_MAX_DEPTH ||
		    ctx->nparts >= MIME_MAX_PARTS) {
			make_leaf(part);
			return;
		}
		part->message = parse_part(ctx, part, part->body_off,
		    part->body_off + part->body_len, depth + 1, false);
		envelope_of(ctx, part->message);
	}
}

static struct mime_part *
parse_part(struct parse_ctx *ctx, struct mime_part *parent, size_t start,
    size_t end, unsigned int depth, bool in_digest)
{
	struct mime_part *part = xcalloc(1, sizeof(*part));
	size_t hend = header_end(ctx->msg, start, end);

	ctx->nparts++;
	part->parent = parent;
	part->hdr_off = start;
	part->hdr_len = hend - start;
	part->body_off = hend;
	part->body_len = end - hend;
	part->body_lines = mime_count_lf(ctx->msg + hend, end - hend);
	part->type = xstrdup(in_digest ? "message" : "text");
	part->subtype = xstrdup(in_digest ? "rfc822" : "plain");
	read_fields(ctx, part);
	parse_body(ctx, part, depth);
	return part;
}

struct mime_part *
mime_parse(const char *msg, size_t len)
{
	struct parse_ctx ctx = { msg, 0 };

	return parse_part(&ctx, NULL, 0, len, 0, false);
}

void
mime_free(struct mime_part **rootp)
{
	struct mime_part *part = *rootp, *child, *next;

	if (part == NULL)
		return;
	*rootp = NULL;
	for (child = part->children; child != NULL; child = next) {
		next = child->next;
		mime_free(&child);
	}
	mime_free(&part->message);
	free(part->type);
	free(part->subtype);
	mime_params_free(part->params, part->nparams);
	mime_params_free(part->disp_params, part->ndisp_params);
	free(part->id);
	free(part->description);
	free(part->encoding);
	free(part->md5);
	free(part->disposition);
	free(part->language);
	free(part->location);
	free(part->envelope);
	free(part);
}

const char *
mime_param_get(const struct mime_param *params, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcasecmp(params[i].name, name) == 0)
			return params[i].value;
	}
	return NULL;
}
