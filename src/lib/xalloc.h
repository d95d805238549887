#ifndef DIRMAIL_LIB_XALLOC_H
#define DIRMAIL_LIB_XALLOC_H

/*
 * Allocation wrappers.  Every function here either succeeds or ends the
 * process through log_fatal(): callers never check for NULL.
 */

#include <stddef.h>

/* malloc(3) that never returns NULL.  A size of 0 returns a valid pointer. */
void *xmalloc(size_t size);

/* calloc(3) that never returns NULL and checks nmemb * size for overflow. */
void *xcalloc(size_t nmemb, size_t size);

/* reallocarray(3) that never returns NULL. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);

/* strdup(3) that never returns NULL; xstrdup(NULL) returns NULL. */
char *xstrdup(const char *s);

/* strndup(3) that never returns NULL. */
char *xstrndup(const char *s, size_t n);

/* asprintf(3) that returns the new string and never fails. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
