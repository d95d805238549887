#ifndef DIRMAIL_MAILSTORE_MIME_INT_H
#define DIRMAIL_MAILSTORE_MIME_INT_H

/*
 * Helpers shared by the mime*.c files: walking the fields of a header
 * block and reading RFC 5322 / RFC 2045 structured values.  Not for use
 * outside src/mailstore/mime*.c.
 */

#include <stdbool.h>
#include <stddef.h>

struct str;

/* One header field as found in a header block. */
struct mime_field {
	const char *start;	/* the first byte of the field's name */
	size_t len;		/* the whole field with its line ends */
	const char *name;	/* without white space before the colon */
	size_t name_len;
	const char *value;	/* after the colon, folded, with line ends */
	size_t value_len;
};

/* Walks the fields of HEADER: set POS to 0 first, then call
   mime_field_next() until it returns false.  Lines without a colon are
   skipped; the walk stops at the blank line or at END. */
bool mime_field_next(const char *header, size_t len, size_t *pos,
    struct mime_field *f);

/* Does field F have the name NAME (ASCII, case-insensitive)? */
bool mime_field_is(const struct mime_field *f, const char *name);

/* The value V of LEN bytes unfolded (CR and LF removed) with leading and
   trailing white space removed, as a new string. */
char *mime_unfold(const char *v, size_t len);

/* Is C a MIME token character (RFC 2045 5.1)? */
bool mime_is_token_char(unsigned char c);

/* A cursor over an unfolded structured value. */
struct mime_lex {
	const char *p;
	const char *end;
	const char *comment;	/* the last comment skipped, if any */
	size_t comment_len;
};

/* Skip white space and (nested) comments. */
void mime_lex_cfws(struct mime_lex *lx);

/* Read a MIME token into OUT after CFWS; false when there is none. */
bool mime_lex_token(struct mime_lex *lx, struct str *out);

/* Read a quoted string (unescaped) into OUT after CFWS; false when the
   next thing is not a quoted string.  An unterminated string runs to the
   end. */
bool mime_lex_quoted(struct mime_lex *lx, struct str *out);

/* After CFWS, consume C if it comes next. */
bool mime_lex_char(struct mime_lex *lx, char c);

/* Count the LFs in S. */
unsigned int mime_count_lf(const char *s, size_t len);

#endif
