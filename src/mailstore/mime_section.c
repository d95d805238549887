/*
 * FETCH BODY[section] (RFC 3501 6.4.5): parsing the section spec and
 * finding its bytes in a parsed message.
 */

#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "mailstore/imapstr.h"
#include "mailstore/mime.h"
#include "mailstore/mime_int.h"

/* Deeper paths cannot name a part: the tree stops at MIME_MAX_DEPTH. */
#define MAX_PATH	(2 * MIME_MAX_DEPTH)
#define MAX_FIELDS	1000

/* Consume keyword KW (case-insensitive) at *P. */
static bool
eat(const char **p, const char *kw)
{
	size_t n = strlen(kw);

	if (strncasecmp(*p, kw, n) != 0)
		return false;
	*p += n;
	return true;
}

/* Read "nz-number" at *P. */
static bool
read_number(const char **p, unsigned int *num_r)
{
	unsigned long n = 0;
	const char *s = *p;

	if (*s < '1' || *s > '9')
		return false;
	while (isdigit((unsigned char)*s)) {
		n = n * 10 + (unsigned long)(*s++ - '0');
		if (n > 1000000000UL)
			return false;
	}
	*num_r = (unsigned int)n;
	*p = s;
	return true;
}

/* Read one header-fld-name (an atom or a quoted string) into OUT, upper
   case. */
static bool
read_field_name(const char **p, struct str *out)
{
	const char *s = *p;

	if (*s == '"') {
		for (s++; *s != '"'; s++) {
			if (*s == '\0' || *s == '\r' || *s == '\n')
				return false;
			if (*s == '\\' && s[1] != '\0')
				s++;
			str_append_c(out, (char)toupper((unsigned char)*s));
		}
		*p = s + 1;
	} else {
		while ((unsigned char)*s > ' ' && (unsigned char)*s < 0x7f &&
		    strchr("(){%*\"\\]", *s) == NULL)
			str_append_c(out, (char)toupper((unsigned char)*s++));
		*p = s;
	}
	/* A field name is printable ASCII without a colon (RFC 5322). */
	if (out->len == 0 || strchr(out->s, ':') != NULL)
		return false;
	return true;
}

/* Read " (NAME NAME ...)" into SEC->fields. */
static bool
read_field_list(const char **p, struct mime_section *sec)
{
	const char *s = *p;
	size_t n = 0;

	if (*s++ != ' ' || *s++ != '(')
		return false;
	sec->fields = xcalloc(1, sizeof(char *));
	for (;;) {
		struct str name = STR_INIT;

		if (n > 0 && *s == ')')
			break;
		if (n > 0 && *s++ != ' ')
			return false;
		if (n >= MAX_FIELDS || !read_field_name(&s, &name)) {
			str_free(&name);
			return false;
		}
		sec->fields = xreallocarray(sec->fields, n + 2,
		    sizeof(char *));
		sec->fields[n++] = str_steal(&name);
		sec->fields[n] = NULL;
	}
	*p = s + 1;
	return true;
}

/* Read the text after the part numbers ("HEADER", "TEXT", "MIME",
   "HEADER.FIELDS[.NOT] (...)"); MIME only after a number. */
static bool
read_text(const char **p, struct mime_section *sec)
{
	if (eat(p, "HEADER.FIELDS.NOT")) {
		sec->kind = MIME_SECTION_FIELDS_NOT;
		return read_field_list(p, sec);
	}
	if (eat(p, "HEADER.FIELDS")) {
		sec->kind = MIME_SECTION_FIELDS;
		return read_field_list(p, sec);
	}
	if (eat(p, "HEADER"))
		sec->kind = MIME_SECTION_HEADER;
	else if (eat(p, "TEXT"))
		sec->kind = MIME_SECTION_TEXT;
	else if (sec->npath > 0 && eat(p, "MIME"))
		sec->kind = MIME_SECTION_MIME;
	else
		return false;
	return true;
}

int
mime_section_parse(const char *spec, struct mime_section **sec_r,
    const char **error_r)
{
	struct mime_section *sec = xcalloc(1, sizeof(*sec));
	const char *p = spec;

	sec->kind = MIME_SECTION_ALL;
	while (*p >= '0' && *p <= '9') {
		unsigned int num;

		if (sec->npath >= MAX_PATH || !read_number(&p, &num))
			goto bad;
		sec->path = xreallocarray(sec->path, sec->npath + 1,
		    sizeof(*sec->path));
		sec->path[sec->npath++] = num;
		if (*p != '.')
			break;
		p++;
		if (!(*p >= '0' && *p <= '9') && !read_text(&p, sec))
			goto bad;
	}
	if (sec->npath == 0 && *p != '\0' && !read_text(&p, sec))
		goto bad;
	if (*p != '\0')
		goto bad;
	*sec_r = sec;
	return 0;
bad:
	mime_section_free(&sec);
	*error_r = "Invalid BODY[..] parameter";
	return -1;
}

void
mime_section_free(struct mime_section **secp)
{
	struct mime_section *sec = *secp;

	if (sec == NULL)
		return;
	*secp = NULL;
	if (sec->fields != NULL)
		strv_free(&sec->fields);
	free(sec->path);
	free(sec);
}

void
mime_section_name(struct str *out, const struct mime_section *sec)
{
	static const char *const names[] = {
		[MIME_SECTION_ALL] = "", [MIME_SECTION_HEADER] = "HEADER",
		[MIME_SECTION_TEXT] = "TEXT", [MIME_SECTION_MIME] = "MIME",
		[MIME_SECTION_FIELDS] = "HEADER.FIELDS",
		[MIME_SECTION_FIELDS_NOT] = "HEADER.FIELDS.NOT",
	};
	size_t i;

	for (i = 0; i < sec->npath; i++)
		str_appendf(out, "%s%u", i > 0 ? "." : "", sec->path[i]);
	if (sec->npath > 0 && sec->kind != MIME_SECTION_ALL)
		str_append_c(out, '.');
	str_append(out, names[sec->kind]);
	if (sec->fields == NULL)
		return;
	str_append(out, " (");
	for (i = 0; sec->fields[i] != NULL; i++) {
		if (i > 0)
			str_append_c(out, ' ');
		imap_append_astring(out, sec->fields[i]);
	}
	str_append_c(out, ')');
}

/* Part N of message M (a root or an inner message): its Nth child when
   it is multipart, else for N == 1 its body (M itself). */
static const struct mime_part *
message_child(const struct mime_part *m, unsigned int n)
{
	const struct mime_part *c;

	if (!m->multipart)
		return n == 1 ? m : NULL;
	for (c = m->children; c != NULL && n > 1; c = c->next)
		n--;
	return c;
}

const struct mime_part *
mime_part_find(const struct mime_part *root, const unsigned int *path,
    size_t n)
{
	const struct mime_part *cur = root;
	size_t i;

	for (i = 0; i < n && cur != NULL; i++) {
		if (i == 0)
			cur = message_child(root, path[0]);
		else if (cur->message != NULL)
			cur = message_child(cur->message, path[i]);
		else if (cur->multipart)
			cur = message_child(cur, path[i]);
		else
			cur = NULL;
	}
	return cur;
}

/* Copy the fields of HEADER that SEC selects, then the blank line. */
static void
filter_fields(const char *header, size_t len, const struct mime_section *sec,
    struct str *buf)
{
	bool want = sec->kind == MIME_SECTION_FIELDS;
	struct mime_field f;
	size_t pos = 0, i;

	while (mime_field_next(header, len, &pos, &f)) {
		bool listed = false;

		for (i = 0; sec->fields[i] != NULL && !listed; i++)
			listed = mime_field_is(&f, sec->fields[i]);
		if (listed != want)
			continue;
		str_append_n(buf, f.start, f.len);
		if (f.len == 0 || f.start[f.len - 1] != '\n')
			str_append(buf, "\r\n");	/* a header without a
							   blank line */
	}
	str_append(buf, "\r\n");
}

void
mime_section_get(const char *msg, size_t len, const struct mime_part *root,
    const struct mime_section *sec, struct str *buf, const char **data_r,
    size_t *len_r)
{
	const struct mime_part *part = root, *m = root;

	*data_r = "";
	*len_r = 0;
	str_truncate(buf, 0);
	if (sec->npath > 0) {
		part = mime_part_find(root, sec->path, sec->npath);
		if (part == NULL)
			return;
		m = part->message;
	}
	switch (sec->kind) {
	case MIME_SECTION_ALL:
		if (sec->npath == 0) {
			*data_r = msg;
			*len_r = len;
		} else {
			*data_r = msg + part->body_off;
			*len_r = part->body_len;
		}
		return;
	case MIME_SECTION_MIME:
		*data_r = msg + part->hdr_off;
		*len_r = part->hdr_len;
		return;
	default:
		break;
	}
	if (m == NULL)
		return;		/* HEADER or TEXT of a non-message part */
	if (sec->kind == MIME_SECTION_TEXT) {
		*data_r = msg + m->body_off;
		*len_r = m->body_len;
	} else if (sec->kind == MIME_SECTION_HEADER) {
		*data_r = msg + m->hdr_off;
		*len_r = m->hdr_len;
	} else {
		filter_fields(msg + m->hdr_off, m->hdr_len, sec, buf);
		*data_r = buf->s;
		*len_r = buf->len;
	}
}
