/*
 * A folder's keywords, "dirmail-keywords": one "INDEX NAME" line per
 * keyword; index i is letter 'a' + i in the file names.  Keywords are
 * only ever added (under the folder lock), so an index never changes
 * meaning while a session holds it.
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "mailstore/ms_int.h"

#define KEYWORD_MAX_LEN	100

void
mskw_free(struct mskw *kw)
{
	for (unsigned i = 0; i < kw->n; i++)
		free(kw->names[i]);
	memset(kw, 0, sizeof(*kw));
}

/* An IMAP flag keyword: an atom without "\", at most 100 bytes. */
bool
mskw_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > KEYWORD_MAX_LEN)
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

/* Parse the file DATA into KW; damaged lines end the list. */
static void
parse_keywords(struct mskw *kw, char *data)
{
	char *line, *nl;
	unsigned idx;
	int off;

	for (line = data; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		off = -1;
		if (sscanf(line, "%u %n", &idx, &off) != 1 || off < 0 ||
		    idx != kw->n || idx >= MSTORE_MAX_KEYWORDS ||
		    !mskw_name_valid(line + off))
			break;
		kw->names[kw->n++] = xstrdup(line + off);
	}
}

int
mskw_refresh(struct mskw *kw, const char *dir, char **error_r)
{
	char *path = xasprintf("%s/%s", dir, MS_KEYWORDS), *data;
	struct stat sb;
	size_t len;

	if (stat(path, &sb) == 0 && kw->have_st && ms_stat_same(&sb, &kw->st)) {
		free(path);
		return 0;
	}
	if (stat(path, &sb) < 0 || ms_read_file(path, &data, &len) < 0) {
		free(path);
		if (errno == ENOENT) {
			mskw_free(kw);
			return 0;
		}
		*error_r = xasprintf("read %s/%s: %s", dir, MS_KEYWORDS,
		    strerror(errno));
		return -1;
	}
	free(path);
	mskw_free(kw);
	parse_keywords(kw, data);
	free(data);
	kw->st = sb;
	kw->have_st = true;
	return 0;
}

int
mskw_find(const struct mskw *kw, const char *name)
{
	for (unsigned i = 0; i < kw->n; i++)
		if (strcasecmp(kw->names[i], name) == 0)
			return (int)i;
	return -1;
}

/* Write KW to DIR's keywords file. */
static int
write_keywords(struct mskw *kw, const char *dir, char **error_r)
{
	char *path = xasprintf("%s/%s", dir, MS_KEYWORDS);
	struct str s = STR_INIT;
	int ret;

	for (unsigned i = 0; i < kw->n; i++)
		str_appendf(&s, "%u %s\n", i, kw->names[i]);
	ret = ms_write_atomic(path, str_c(&s), s.len, error_r);
	kw->have_st = ret == 0 && stat(path, &kw->st) == 0;
	str_free(&s);
	free(path);
	return ret;
}

int
mskw_add(struct mskw *kw, const char *dir, const char *name,
    char **error_r)
{
	int idx, lock;

	*error_r = NULL;
	if (!mskw_name_valid(name))
		return -1;
	if ((idx = mskw_find(kw, name)) >= 0)
		return idx;
	if ((lock = ms_lock(dir, error_r)) < 0)
		return -1;
	/* Another session may have added it (or others) meanwhile. */
	kw->have_st = false;
	if (mskw_refresh(kw, dir, error_r) < 0) {
		ms_unlock(lock);
		return -1;
	}
	idx = mskw_find(kw, name);
	if (idx < 0 && kw->n < MSTORE_MAX_KEYWORDS) {
		kw->names[kw->n] = xstrdup(name);
		idx = (int)kw->n++;
		if (write_keywords(kw, dir, error_r) < 0) {
			free(kw->names[--kw->n]);
			idx = -1;
		}
	}
	ms_unlock(lock);
	return idx;
}
