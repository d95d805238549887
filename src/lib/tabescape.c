/* Dovecot-style escaping of tab-separated fields. */

#include "config.h"

#include <string.h>

#include "lib/str.h"
#include "lib/tabescape.h"
#include "lib/xalloc.h"

/* The bytes that are escaped, and the letters that stand for them. */
static const char tab_special[] = "\001\t\n\r";
static const char tab_letters[] = "1tnr";

/* Append VALUE with 0x01, TAB, LF and CR escaped. */
void
tab_escape(struct str *out, const char *value)
{
	const char *hit;

	for (; *value != '\0'; value++) {
		hit = strchr(tab_special, *value);
		if (hit == NULL) {
			str_append_c(out, *value);
			continue;
		}
		str_append_c(out, '\001');
		str_append_c(out, tab_letters[hit - tab_special]);
	}
}

/* Undo the escapes of S in place; an escaped NUL ends the value. */
char *
tab_unescape(char *s)
{
	const char *hit;
	char *r, *w = s;

	for (r = s; *r != '\0'; r++) {
		if (*r != '\001') {
			*w++ = *r;
			continue;
		}
		if (r[1] == '\0' || r[1] == '0')
			break;
		r++;
		hit = strchr(tab_letters, *r);
		*w++ = hit != NULL ? tab_special[hit - tab_letters] : *r;
	}
	*w = '\0';
	return s;
}

/* Split LINE in place on TAB and unescape the fields. */
char **
tab_split(char *line, size_t *n_r)
{
	size_t n = 1, i = 0;
	char **v, *p;

	for (p = line; *p != '\0'; p++)
		n += *p == '\t';
	v = xcalloc(n + 1, sizeof(*v));
	p = line;
	while (i < n)
		v[i++] = tab_unescape(strsep(&p, "\t"));
	*n_r = n;
	return v;
}
