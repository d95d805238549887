/* Name=value fields and strict base64. */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "auth/fields.h"
#include "lib/xalloc.h"

static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Return the index of NAME in F, or -1. */
static long
fields_find(const struct auth_fields *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->count; i++)
		if (strcmp(f->names[i], name) == 0)
			return (long)i;
	return -1;
}

/* Set NAME to VALUE, replacing an earlier value. */
void
fields_set(struct auth_fields *f, const char *name, const char *value)
{
	long i = fields_find(f, name);

	if (i >= 0) {
		free(f->values[i]);
		f->values[i] = xstrdup(value);
		return;
	}
	f->names = xreallocarray(f->names, f->count + 1, sizeof(*f->names));
	f->values = xreallocarray(f->values, f->count + 1,
	    sizeof(*f->values));
	f->names[f->count] = xstrdup(name);
	f->values[f->count] = xstrdup(value);
	f->count++;
}

/* Return the value of NAME, or NULL. */
const char *
fields_get(const struct auth_fields *f, const char *name)
{
	long i = fields_find(f, name);

	return i < 0 ? NULL : f->values[i];
}

/* Add the "name=value" words of TEXT. */
void
fields_parse(struct auth_fields *f, const char *text)
{
	char *copy = xstrdup(text), *p = copy, *word, *eq;

	while ((word = strsep(&p, " \t")) != NULL) {
		if (*word == '\0')
			continue;
		eq = strchr(word, '=');
		if (eq != NULL)
			*eq++ = '\0';
		fields_set(f, word, eq != NULL ? eq : "");
	}
	free(copy);
}

/* Copy every field of SRC into DST. */
void
fields_copy(struct auth_fields *dst, const struct auth_fields *src)
{
	size_t i;

	for (i = 0; i < src->count; i++)
		fields_set(dst, src->names[i], src->values[i]);
}

/* Free the fields. */
void
fields_clear(struct auth_fields *f)
{
	size_t i;

	for (i = 0; i < f->count; i++) {
		free(f->names[i]);
		free(f->values[i]);
	}
	free(f->names);
	free(f->values);
	memset(f, 0, sizeof(*f));
}

/* Append "\tname=value" for every field. */
void
fields_append_line(struct str *out, const struct auth_fields *f)
{
	size_t i;

	for (i = 0; i < f->count; i++) {
		str_append_c(out, '\t');
		tab_escape(out, f->names[i]);
		str_append_c(out, '=');
		tab_escape(out, f->values[i]);
	}
}

/* Split LINE on TAB and unescape each field (see tab_split()). */
char **
line_split(char *line, size_t *n_r)
{
	return tab_split(line, n_r);
}

/* Return the value of base64 digit C, or -1. */
static int
b64_value(char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(b64_chars, c);
	return p == NULL ? -1 : (int)(p - b64_chars);
}

/* Decode one group of four characters Q; return the bytes written or
   -1.  LAST says whether padding may appear. */
static int
b64_quad(const char *q, unsigned char *out, int last)
{
	int v[4], i, pad = 0;

	for (i = 0; i < 4; i++) {
		if (q[i] == '=' && last && i >= 2) {
			pad++;
			v[i] = 0;
			continue;
		}
		if (pad > 0 || (v[i] = b64_value(q[i])) < 0)
			return -1;
	}
	out[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
	out[1] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
	out[2] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	return 3 - pad;
}

/* Decode canonical padded base64. */
int
b64_decode(const char *in, struct str *out)
{
	size_t len = strlen(in), i;
	unsigned char buf[3];
	int n;

	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		n = b64_quad(in + i, buf, i + 4 == len);
		if (n < 0)
			return -1;
		str_append_n(out, buf, (size_t)n);
	}
	if (out->s == NULL)
		str_append(out, "");
	return 0;
}

/* Append the base64 encoding of DATA. */
void
b64_encode(struct str *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;
	unsigned long v;

	for (i = 0; i < len; i += 3) {
		v = (unsigned long)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		str_append_c(out, b64_chars[v >> 18 & 63]);
		str_append_c(out, b64_chars[v >> 12 & 63]);
		str_append_c(out, i + 1 < len ? b64_chars[v >> 6 & 63] : '=');
		str_append_c(out, i + 2 < len ? b64_chars[v & 63] : '=');
	}
	if (out->s == NULL)
		str_append(out, "");
}
