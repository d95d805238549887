/*
 * Folder names: modified UTF-7 (RFC 3501 5.1.3) checked strictly, and
 * the mapping of a name to its Maildir++ directory.  A name that passes
 * mstore_name_valid() can never leave the store's root.
 */

#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "mailstore/ms_int.h"

#define NAME_MAX_BYTES	255
#define NAME_MAX_LEVELS	16

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* The value of a modified-base64 letter, or -1. */
static int
b64_value(char c)
{
	const char *p = c != '\0' ? strchr(b64, c) : NULL;

	return p != NULL ? (int)(p - b64) : -1;
}

/* Append code point CP as UTF-8. */
static void
put_utf8(struct str *out, uint32_t cp)
{
	if (cp < 0x80) {
		str_append_c(out, (char)cp);
	} else if (cp < 0x800) {
		str_append_c(out, (char)(0xc0 | (cp >> 6)));
		str_append_c(out, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		str_append_c(out, (char)(0xe0 | (cp >> 12)));
		str_append_c(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		str_append_c(out, (char)(0x80 | (cp & 0x3f)));
	} else {
		str_append_c(out, (char)(0xf0 | (cp >> 18)));
		str_append_c(out, (char)(0x80 | ((cp >> 12) & 0x3f)));
		str_append_c(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		str_append_c(out, (char)(0x80 | (cp & 0x3f)));
	}
}

/* Decode one shifted run "&...-" starting after the '&'; *P_R moves past
   the '-'.  -1 on any malformation. */
static int
decode_run(const char **p_r, struct str *out)
{
	const char *p = *p_r;
	uint32_t bits = 0, hi = 0;
	int nbits = 0, v, units = 0;

	for (; *p != '-'; p++) {
		if ((v = b64_value(*p)) < 0)
			return -1;
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t u = (bits >> nbits) & 0xffff;
		units++;
		if (hi != 0) {
			if (u < 0xdc00 || u > 0xdfff)
				return -1;
			put_utf8(out, 0x10000 + ((hi - 0xd800) << 10) +
			    (u - 0xdc00));
			hi = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			hi = u;
		} else if (u >= 0xdc00 && u <= 0xdfff) {
			return -1;
		} else if (u < 0x80) {
			return -1;	/* ASCII must not be shifted */
		} else {
			put_utf8(out, u);
		}
	}
	/* Left-over bits must be padding: fewer than 6, all zero. */
	if (units == 0 || hi != 0 || nbits >= 6 ||
	    (bits & ((1u << nbits) - 1)) != 0)
		return -1;
	*p_r = p + 1;
	return 0;
}

/* Decode modified UTF-7 NAME into UTF-8; -1 when malformed. */
static int
mutf7_decode(const char *name, struct str *out)
{
	const char *p = name;

	while (*p != '\0') {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c > 0x7e)
			return -1;
		if (c != '&') {
			str_append_c(out, (char)c);
			p++;
		} else if (p[1] == '-') {
			str_append_c(out, '&');
			p += 2;
		} else {
			p++;
			if (decode_run(&p, out) < 0)
				return -1;
			if (*p == '&' && p[1] != '-')
				return -1;	/* two runs must be one */
		}
	}
	return 0;
}

/* Check that NAME's characters are clean modified UTF-7. */
static bool
mutf7_valid(const char *name)
{
	struct str out = STR_INIT;
	int ret = mutf7_decode(name, &out);

	str_free(&out);
	return ret == 0;
}

bool
mstore_name_valid(const char *name, const char **why_r)
{
	const char *p, *level;
	size_t len;
	unsigned levels = 0;

	*why_r = NULL;
	if (name == NULL || *name == '\0')
		*why_r = "empty name";
	else if ((len = strlen(name)) > NAME_MAX_BYTES)
		*why_r = "name too long";
	else if (strpbrk(name, "/\\") != NULL)
		*why_r = "'/' and '\\' are not allowed in names";
	else if (name[0] == '~')
		*why_r = "a name must not begin with '~'";
	else if (strpbrk(name, "*%") != NULL)
		*why_r = "'*' and '%' are not allowed in names";
	else if (!mutf7_valid(name))
		*why_r = "name is not valid modified UTF-7";
	if (*why_r != NULL)
		return false;
	for (level = name;; level = p + 1) {
		p = strchr(level, '.');
		if (p == NULL)
			p = level + strlen(level);
		if (p == level) {
			*why_r = "empty hierarchy level in name";
			return false;
		}
		if (++levels > NAME_MAX_LEVELS) {
			*why_r = "too many hierarchy levels in name";
			return false;
		}
		if (*p == '\0')
			break;
	}
	return true;
}

int
ms_name_check(const char *name, char **error_r)
{
	const char *why;

	if (mstore_name_valid(name, &why))
		return 0;
	*error_r = xstrdup(why);
	errno = EINVAL;
	return -1;
}

bool
ms_name_is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

char *
ms_name_normalize(const char *name)
{
	char *copy = xstrdup(name);

	if (strncasecmp(copy, "INBOX", 5) == 0 &&
	    (copy[5] == '\0' || copy[5] == '.'))
		memcpy(copy, "INBOX", 5);
	return copy;
}

char *
ms_folder_dir(const struct mstore *st, const char *name)
{
	char *norm, *dir;

	if (ms_name_is_inbox(name))
		return xstrdup(st->root);
	norm = ms_name_normalize(name);
	dir = xasprintf("%s/.%s", st->root, norm);
	free(norm);
	return dir;
}
