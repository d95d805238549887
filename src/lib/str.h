#ifndef DIRMAIL_LIB_STR_H
#define DIRMAIL_LIB_STR_H

/*
 * A growable, always NUL-terminated byte string, and NULL-terminated
 * string vectors.  Allocation failure is fatal (see xalloc.h).
 */

#include <stdbool.h>
#include <stddef.h>

struct str {
	char *s;	/* NUL-terminated; NULL until the first append */
	size_t len;
	size_t cap;
};

#define STR_INIT { NULL, 0, 0 }

/* Append LEN bytes of DATA (which may hold NULs). */
void str_append_n(struct str *str, const void *data, size_t len);

/* Append the C string S. */
void str_append(struct str *str, const char *s);

/* Append one byte. */
void str_append_c(struct str *str, char c);

/* Append printf-formatted text. */
void str_appendf(struct str *str, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Make the string empty without freeing its memory. */
void str_truncate(struct str *str, size_t len);

/* Return the contents ("" when empty); valid until the next change. */
const char *str_c(const struct str *str);

/* Hand the buffer to the caller (never NULL) and reset STR. */
char *str_steal(struct str *str);

/* Free the buffer and reset STR. */
void str_free(struct str *str);

/* Zero the whole buffer (it may have held a secret), then free it. */
void str_wipe(struct str *str);

/* Return the number of strings in a NULL-terminated vector. */
size_t strv_len(char *const *v);

/* Free a NULL-terminated vector and its strings; NULLs *V. */
void strv_free(char ***v);

/* Lower-case S in place (ASCII only) and return it. */
char *str_lcase(char *s);

/* Remove leading and trailing white space in place; return the start. */
char *str_trim(char *s);

/* True when S (ASCII, case-insensitive) equals one of yes/true/on/1. */
bool str_is_true(const char *s);

/*
 * Parse S as a decimal number from 0 to UINT_MAX: one to ten digits,
 * nothing else (no sign, no white space).  Returns 0 with the number in
 * *NUM_R, or -1 (*NUM_R untouched).
 */
int str_to_uint(const char *s, unsigned int *num_r);

#endif
