#ifndef DIRMAIL_MAPS_ALIASES_H
#define DIRMAIL_MAPS_ALIASES_H

/*
 * The aliases(5) source format, as newaliases and postalias(1) read it:
 *
 *	# comment
 *	name: value, value
 *	"quoted name": value,
 *		continued value
 *
 * A line that starts with white space continues the previous one; "#"
 * lines and blank lines are skipped.  Names are folded to lower case and
 * stored without their quotes; the value is kept as written (after the
 * colon, white space trimmed).  A line without a name and a colon is
 * skipped with a warning naming file:line; a name defined twice keeps its
 * first entry and the later one is warned about, as postalias does.
 */

#include "maps/mapfile.h"

/*
 * Split the logical aliases line LINE (line LINENO of PATH) as
 * mapfile_split_fn: 1 with the folded, unquoted name in *NAME_R and the
 * value in *VALUE_R (allocated), or 0 for a malformed line (logged as a
 * warning with PATH:LINENO).
 */
int aliases_split(const char *path, unsigned lineno, const char *line,
    char **name_r, char **value_r, char **error_r);

/* Read the aliases file PATH (see mapfile_load()). */
int aliases_load(const char *path, struct mapfile **mapfile_r,
    char **error_r);

/* Build PATH.lmdb from the aliases file PATH, atomically (see
   mapfile_build_lmdb()).  0, or -1 with *ERROR_R (allocated). */
int aliases_build_lmdb(const char *path, char **error_r);

#endif
