/* Allocation wrappers that end the process when memory runs out. */

#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"

/* Die: there is no sensible way to go on without memory. */
static void __attribute__((noreturn))
out_of_memory(size_t size)
{
	log_fatal("out of memory allocating %zu bytes", size);
}

void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		out_of_memory(nmemb * size);
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	size_t total;
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		out_of_memory(SIZE_MAX);
	total = nmemb * size;
	p = realloc(ptr, total != 0 ? total : 1);
	if (p == NULL)
		out_of_memory(total);
	return p;
}

char *
xstrdup(const char *s)
{
	return s == NULL ? NULL : xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		out_of_memory(strlen(fmt));
	va_end(ap);
	return p;
}
