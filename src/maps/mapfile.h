#ifndef DIRMAIL_MAPS_MAPFILE_H
#define DIRMAIL_MAPS_MAPFILE_H

/*
 * Postfix lookup-table source files, and the indexed tables built from
 * them.
 *
 * A source file holds logical lines: "#" comment lines and blank lines
 * are skipped, and a line that starts with white space continues the
 * previous one.  A key/value table (texthash, and the source of an lmdb
 * table) has "key<white space>value" on each logical line; keys are
 * folded to lower case, and when a key appears twice the first entry
 * wins and the later one is logged as a warning naming file:line, as
 * postmap(1) does.
 */

#include <stddef.h>

/* The longest logical line accepted, in bytes. */
#define MAPFILE_LINE_MAX	(4 * 1024 * 1024)

struct mapfile_reader;

/*
 * Open PATH for reading logical lines.  Returns 0, or -1 with a message
 * naming the file in *ERROR_R (allocated; the caller frees it).
 */
int mapfile_reader_open(const char *path, struct mapfile_reader **reader_r,
    char **error_r);

/*
 * Read the next logical line into *LINE_R (without the newline, leading
 * and trailing white space removed, continuation lines joined with one
 * space; valid until the next call) and the number of its first line
 * into *LINENO_R.  Returns 1, 0 at the end of the file, or -1 with a
 * message "file:line: reason" in *ERROR_R (allocated).
 */
int mapfile_reader_next(struct mapfile_reader *reader, const char **line_r,
    unsigned *lineno_r, char **error_r);

/* Return the path READER reads. */
const char *mapfile_reader_path(const struct mapfile_reader *reader);

/* Close READER and NULL *READER. */
void mapfile_reader_close(struct mapfile_reader **reader);

/* One key/value entry of a table source file. */
struct mapfile_entry {
	char *key;		/* folded to lower case */
	char *value;
	unsigned line;		/* where it was defined */
};

/* A whole key/value table source file, sorted by key, no duplicates. */
struct mapfile {
	char *path;
	struct mapfile_entry *entries;
	size_t count;
};

/*
 * Read the key/value table source PATH.  Returns 0 and the table in
 * *MAPFILE_R, or -1 with a message naming the file (and "file:line" for
 * a bad line) in *ERROR_R (allocated).
 */
int mapfile_load(const char *path, struct mapfile **mapfile_r,
    char **error_r);

/*
 * The syntax of one logical line of a source file (LINENO in PATH):
 * return 1 with the key (folded to lower case) in *KEY_R and the value in
 * *VALUE_R (both allocated), 0 to skip the line (after logging why), or
 * -1 with a "file:line: reason" message in *ERROR_R (allocated).
 */
typedef int mapfile_split_fn(const char *path, unsigned lineno,
    const char *line, char **key_r, char **value_r, char **error_r);

/* As mapfile_load(), with the line syntax SPLIT (NULL: "key value"),
   e.g. the aliases(5) syntax of maps/aliases.h. */
int mapfile_load_with(const char *path, mapfile_split_fn *split,
    struct mapfile **mapfile_r, char **error_r);

/*
 * Return the value of KEY (compared as given: fold it first), or NULL.
 * The pointer stays valid until mapfile_free().
 */
const char *mapfile_find(const struct mapfile *mapfile, const char *key);

/* Free MAPFILE and NULL *MAPFILE. */
void mapfile_free(struct mapfile **mapfile);

/*
 * Build the lmdb table SOURCE.lmdb from the source file SOURCE: write a
 * single-file LMDB environment to a temporary name beside it, sync it,
 * rename it over SOURCE.lmdb and sync the directory, so that readers see
 * either the old table or the new one.  The new file gets the
 * permissions of SOURCE.  Returns 0, or -1 with a message naming the
 * file (and "file:line" for a bad line) in *ERROR_R (allocated).
 * (Implemented by the lmdb driver, map_lmdb.c.)
 */
int mapfile_build_lmdb(const char *source, char **error_r);

/* As mapfile_build_lmdb(), reading SOURCE with the line syntax SPLIT. */
int mapfile_build_lmdb_with(const char *source, mapfile_split_fn *split,
    char **error_r);

#endif
