/* Reading Postfix lookup-table source files. */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "maps/mapfile.h"

struct mapfile_reader {
	char *path;
	FILE *fp;
	unsigned lineno;	/* physical lines read so far */
	bool started;
	bool has_next;		/* NEXT holds the look-ahead line */
	struct str next;	/* the next line that is not a comment */
	unsigned next_lineno;
	struct str logical;	/* the logical line handed out */
	char *buf;		/* getline(3) buffer */
	size_t bufsize;
};

/* True when C is white space in a table file. */
static bool
is_space(char c)
{
	return isspace((unsigned char)c) != 0;
}

/* True when LINE is blank or a comment line. */
static bool
is_skipped(const char *line)
{
	while (is_space(*line))
		line++;
	return *line == '\0' || *line == '#';
}

/* Open PATH for reading logical lines. */
int
mapfile_reader_open(const char *path, struct mapfile_reader **reader_r,
    char **error_r)
{
	struct mapfile_reader *reader;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		*error_r = xasprintf("cannot open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	reader = xcalloc(1, sizeof(*reader));
	reader->path = xstrdup(path);
	reader->fp = fp;
	*reader_r = reader;
	return 0;
}

/*
 * Read physical lines into READER->next until one is not blank or a
 * comment.  Returns 0 (READER->has_next tells whether one was found), or
 * -1 with a message in *ERROR_R.
 */
static int
read_physical(struct mapfile_reader *reader, char **error_r)
{
	ssize_t n;

	reader->has_next = false;
	for (;;) {
		errno = 0;
		n = getline(&reader->buf, &reader->bufsize, reader->fp);
		if (n < 0) {
			if (ferror(reader->fp)) {
				*error_r = xasprintf("%s:%u: read error: %s",
				    reader->path, reader->lineno + 1,
				    strerror(errno ? errno : EIO));
				return -1;
			}
			return 0;
		}
		reader->lineno++;
		while (n > 0 && (reader->buf[n - 1] == '\n' ||
		    reader->buf[n - 1] == '\r'))
			reader->buf[--n] = '\0';
		if (!is_skipped(reader->buf))
			break;
	}
	str_truncate(&reader->next, 0);
	str_append_n(&reader->next, reader->buf, (size_t)n);
	reader->next_lineno = reader->lineno;
	reader->has_next = true;
	return 0;
}

/* Append the continuation line in READER->next to the logical line. */
static int
append_continuation(struct mapfile_reader *reader, char **error_r)
{
	const char *text = reader->next.s;

	while (is_space(*text))
		text++;
	if (reader->logical.len + 1 + strlen(text) > MAPFILE_LINE_MAX) {
		*error_r = xasprintf("%s:%u: line too long (more than %d "
		    "bytes)", reader->path, reader->next_lineno,
		    MAPFILE_LINE_MAX);
		return -1;
	}
	while (reader->logical.len > 0 &&
	    is_space(reader->logical.s[reader->logical.len - 1]))
		str_truncate(&reader->logical, reader->logical.len - 1);
	str_append_c(&reader->logical, ' ');
	str_append(&reader->logical, text);
	return 0;
}

/* Return the next logical line of READER. */
int
mapfile_reader_next(struct mapfile_reader *reader, const char **line_r,
    unsigned *lineno_r, char **error_r)
{
	if (!reader->started) {
		reader->started = true;
		if (read_physical(reader, error_r) < 0)
			return -1;
	}
	if (!reader->has_next)
		return 0;
	if (is_space(reader->next.s[0])) {
		*error_r = xasprintf("%s:%u: continuation line without a "
		    "line to continue", reader->path, reader->next_lineno);
		return -1;
	}
	str_truncate(&reader->logical, 0);
	str_append(&reader->logical, reader->next.s);
	*lineno_r = reader->next_lineno;
	for (;;) {
		if (read_physical(reader, error_r) < 0)
			return -1;
		if (!reader->has_next || !is_space(reader->next.s[0]))
			break;
		if (append_continuation(reader, error_r) < 0)
			return -1;
	}
	if (reader->logical.len > MAPFILE_LINE_MAX) {
		*error_r = xasprintf("%s:%u: line too long (more than %d "
		    "bytes)", reader->path, *lineno_r, MAPFILE_LINE_MAX);
		return -1;
	}
	*line_r = str_trim(reader->logical.s);
	return 1;
}

/* Return the path READER reads. */
const char *
mapfile_reader_path(const struct mapfile_reader *reader)
{
	return reader->path;
}

/* Close READER and free it. */
void
mapfile_reader_close(struct mapfile_reader **readerp)
{
	struct mapfile_reader *reader = *readerp;

	if (reader == NULL)
		return;
	fclose(reader->fp);
	free(reader->path);
	/* A table file may hold a secret (an LDAP bind_pw): wipe it. */
	if (reader->buf != NULL)
		explicit_bzero(reader->buf, reader->bufsize);
	free(reader->buf);
	str_wipe(&reader->next);
	str_wipe(&reader->logical);
	free(reader);
	*readerp = NULL;
}

/* Order entries by key, then by line, so the first definition leads. */
static int
entry_cmp(const void *a, const void *b)
{
	const struct mapfile_entry *ea = a, *eb = b;
	int c = strcmp(ea->key, eb->key);

	if (c != 0)
		return c;
	return ea->line < eb->line ? -1 : ea->line > eb->line;
}

/* The "key<white space>value" syntax of table source files. */
static int
split_key_value(const char *path, unsigned lineno, const char *line,
    char **key_r, char **value_r, char **error_r)
{
	size_t klen = 0;
	const char *value;

	while (line[klen] != '\0' && !is_space(line[klen]))
		klen++;
	value = line + klen;
	while (is_space(*value))
		value++;
	if (*value == '\0') {
		*error_r = xasprintf("%s:%u: expected \"key value\", found "
		    "a key without a value", path, lineno);
		return -1;
	}
	*key_r = str_lcase(xstrndup(line, klen));
	*value_r = xstrdup(value);
	return 1;
}

/* Split LINE with SPLIT into a new entry at the end of MAPFILE. */
static int
add_entry(struct mapfile *mapfile, mapfile_split_fn *split, const char *line,
    unsigned lineno, size_t *cap, char **error_r)
{
	struct mapfile_entry *e;
	char *key, *value;
	int r;

	if ((r = split(mapfile->path, lineno, line, &key, &value,
	    error_r)) <= 0)
		return r;
	if (mapfile->count == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		mapfile->entries = xreallocarray(mapfile->entries, *cap,
		    sizeof(*mapfile->entries));
	}
	e = &mapfile->entries[mapfile->count++];
	e->key = key;
	e->value = value;
	e->line = lineno;
	return 0;
}

/* Sort MAPFILE and drop later duplicates with a warning. */
static void
sort_and_dedup(struct mapfile *mapfile)
{
	struct mapfile_entry *e = mapfile->entries;
	size_t i, out = 0;

	if (mapfile->count == 0)
		return;
	qsort(e, mapfile->count, sizeof(*e), entry_cmp);
	for (i = 0; i < mapfile->count; i++) {
		if (out > 0 && strcmp(e[out - 1].key, e[i].key) == 0) {
			log_warning("%s:%u: duplicate entry \"%s\" ignored; "
			    "the entry at line %u wins", mapfile->path,
			    e[i].line, e[i].key, e[out - 1].line);
			free(e[i].key);
			free(e[i].value);
			continue;
		}
		e[out++] = e[i];
	}
	mapfile->count = out;
}

/* Read the key/value table source PATH into memory. */
int
mapfile_load(const char *path, struct mapfile **mapfile_r, char **error_r)
{
	return mapfile_load_with(path, NULL, mapfile_r, error_r);
}

/* Read PATH into memory, splitting its lines with SPLIT. */
int
mapfile_load_with(const char *path, mapfile_split_fn *split,
    struct mapfile **mapfile_r, char **error_r)
{
	struct mapfile_reader *reader;
	struct mapfile *mapfile;
	const char *line;
	unsigned lineno;
	size_t cap = 0;
	int r;

	if (mapfile_reader_open(path, &reader, error_r) < 0)
		return -1;
	mapfile = xcalloc(1, sizeof(*mapfile));
	mapfile->path = xstrdup(path);
	while ((r = mapfile_reader_next(reader, &line, &lineno,
	    error_r)) > 0) {
		if (add_entry(mapfile, split != NULL ? split :
		    split_key_value, line, lineno, &cap, error_r) < 0) {
			r = -1;
			break;
		}
	}
	mapfile_reader_close(&reader);
	if (r < 0) {
		mapfile_free(&mapfile);
		return -1;
	}
	sort_and_dedup(mapfile);
	*mapfile_r = mapfile;
	return 0;
}

/* Compare a key with an entry, for bsearch(3). */
static int
key_cmp(const void *key, const void *entry)
{
	return strcmp(key, ((const struct mapfile_entry *)entry)->key);
}

/* Find KEY in MAPFILE by binary search. */
const char *
mapfile_find(const struct mapfile *mapfile, const char *key)
{
	const struct mapfile_entry *e;

	if (mapfile->count == 0)
		return NULL;
	e = bsearch(key, mapfile->entries, mapfile->count,
	    sizeof(*mapfile->entries), key_cmp);
	return e != NULL ? e->value : NULL;
}

/* Free MAPFILE and its entries. */
void
mapfile_free(struct mapfile **mapfilep)
{
	struct mapfile *mapfile = *mapfilep;
	size_t i;

	if (mapfile == NULL)
		return;
	for (i = 0; i < mapfile->count; i++) {
		free(mapfile->entries[i].key);
		free(mapfile->entries[i].value);
	}
	free(mapfile->entries);
	free(mapfile->path);
	free(mapfile);
	*mapfilep = NULL;
}
