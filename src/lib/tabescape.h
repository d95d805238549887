#ifndef DIRMAIL_LIB_TABESCAPE_H
#define DIRMAIL_LIB_TABESCAPE_H

/*
 * Dovecot-style escaping of the fields of tab-separated lines: the bytes
 * 0x01, TAB, LF and CR are written as 0x01 followed by '1', 't', 'n' and
 * 'r', so that a field never holds a separator or a line end.
 */

#include <stddef.h>

struct str;

/* Append VALUE to OUT with 0x01, TAB, LF and CR escaped. */
void tab_escape(struct str *out, const char *value);

/*
 * Undo the escapes of S in place and return S.  An escaped '0' (NUL)
 * or a lone 0x01 at the end ends the value there; 0x01 before any other
 * byte stands for that byte.
 */
char *tab_unescape(char *s);

/*
 * Split LINE in place on TAB and unescape each field.  Returns the
 * NULL-terminated vector of fields (pointers into LINE: free the vector
 * only) and its length in *N_R; the empty line is one empty field.
 */
char **tab_split(char *line, size_t *n_r);

#endif
