#ifndef DIRMAIL_AUTH_FIELDS_H
#define DIRMAIL_AUTH_FIELDS_H

/*
 * Name=value fields (passdb extra fields, userdb fields) and strict
 * base64.  Dovecot's tab-escaping is lib/tabescape.h, included here.
 */

#include <stddef.h>

#include "lib/str.h"
#include "lib/tabescape.h"

struct auth_fields {
	char **names;
	char **values;
	size_t count;
};

/* Set NAME to VALUE, replacing an earlier value of NAME. */
void fields_set(struct auth_fields *f, const char *name, const char *value);

/* Return the value of NAME, or NULL. */
const char *fields_get(const struct auth_fields *f, const char *name);

/* Add every "name=value" word of the space-separated TEXT ("name" alone:
   an empty value). */
void fields_parse(struct auth_fields *f, const char *text);

/* Copy every field of SRC into DST. */
void fields_copy(struct auth_fields *dst, const struct auth_fields *src);

/* Free the fields and empty F. */
void fields_clear(struct auth_fields *f);

/* Append "\tname=value" for every field, values tab-escaped. */
void fields_append_line(struct str *out, const struct auth_fields *f);

/* The same as tab_split(), for the callers that still use this name. */
char **line_split(char *line, size_t *n_r);

/* Decode canonical, padded base64 IN into OUT (appended).  0, or -1 for
   anything else. */
int b64_decode(const char *in, struct str *out);

/* Append the base64 encoding of DATA. */
void b64_encode(struct str *out, const void *data, size_t len);

#endif
