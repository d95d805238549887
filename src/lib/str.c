/* Growable strings and string vectors. */

#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "lib/xalloc.h"

/* Make room for NEED more bytes plus the terminating NUL. */
static void
str_grow(struct str *str, size_t need)
{
	size_t cap;

	if (str->s != NULL && str->len + need < str->cap)
		return;
	cap = str->cap ? str->cap : 64;
	while (cap <= str->len + need) {
		if (cap > SIZE_MAX / 2)
			cap = str->len + need + 1;
		else
			cap *= 2;
	}
	str->s = xreallocarray(str->s, cap, 1);
	str->cap = cap;
}

void
str_append_n(struct str *str, const void *data, size_t len)
{
	str_grow(str, len);
	memcpy(str->s + str->len, data, len);
	str->len += len;
	str->s[str->len] = '\0';
}

void
str_append(struct str *str, const char *s)
{
	str_append_n(str, s, strlen(s));
}

void
str_append_c(struct str *str, char c)
{
	str_append_n(str, &c, 1);
}

void
str_appendf(struct str *str, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	str_grow(str, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(str->s + str->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	str->len += (size_t)n;
}

void
str_truncate(struct str *str, size_t len)
{
	if (str->s == NULL || len >= str->len)
		return;
	str->len = len;
	str->s[len] = '\0';
}

const char *
str_c(const struct str *str)
{
	return str->s != NULL ? str->s : "";
}

char *
str_steal(struct str *str)
{
	char *s = str->s != NULL ? str->s : xstrdup("");

	str->s = NULL;
	str->len = str->cap = 0;
	return s;
}

void
str_free(struct str *str)
{
	free(str->s);
	str->s = NULL;
	str->len = str->cap = 0;
}

void
str_wipe(struct str *str)
{
	if (str->s != NULL)
		explicit_bzero(str->s, str->cap);
	str_free(str);
}

size_t
strv_len(char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

void
strv_free(char ***v)
{
	char **p;

	if (*v == NULL)
		return;
	for (p = *v; *p != NULL; p++)
		free(*p);
	free(*v);
	*v = NULL;
}

char *
str_lcase(char *s)
{
	char *p;

	for (p = s; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

char *
str_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

bool
str_is_true(const char *s)
{
	return strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 ||
	    strcasecmp(s, "on") == 0 || strcmp(s, "1") == 0;
}

/* Parse a decimal unsigned int strictly: digits only, at most UINT_MAX. */
int
str_to_uint(const char *s, unsigned int *num_r)
{
	unsigned long long v = 0;

	if (*s == '\0' || strlen(s) > 10)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v > UINT_MAX)
		return -1;
	*num_r = (unsigned int)v;
	return 0;
}
