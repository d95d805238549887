/*
 * lmdb:FILE: the indexed table FILE.lmdb, a single-file LMDB environment
 * built from the source FILE by "dirmailctl map build FILE".
 *
 * The builder never writes FILE.lmdb in place: it writes a new file and
 * renames it over the old one.  Readers therefore open the file without a
 * lock file (MDB_NOLOCK), which also lets unprivileged processes read it,
 * and notice a rebuilt table by a change of inode, device, size or
 * modification time, checked with one stat(2) per lookup.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "lib/xalloc.h"
#include "maps/drivers.h"
#include "maps/mapfile.h"

#define LMDB_SUFFIX	".lmdb"

/* The state of one open lmdb table. */
struct lmdb_table {
	char *path;		/* FILE.lmdb */
	MDB_env *env;		/* NULL while no usable file is open */
	MDB_dbi dbi;
	struct stat st;		/* the file ENV has open */
};

/* True when two stat results describe the same, unchanged file. */
static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Close the environment of T, if any. */
static void
table_env_close(struct lmdb_table *t)
{
	if (t->env != NULL)
		mdb_env_close(t->env);
	t->env = NULL;
}

/* Check that ENV's pages all lie inside the file described by ST. */
static int
env_check_size(MDB_env *env, const struct stat *st)
{
	MDB_envinfo info;
	MDB_stat mst;

	if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &mst) != 0)
		return -1;
	if (((uint64_t)info.me_last_pgno + 1) * mst.ms_psize >
	    (uint64_t)st->st_size)
		return -1;
	return 0;
}

/* Open the main database of ENV into *DBI_R.  Returns an LMDB code. */
static int
env_open_dbi(MDB_env *env, MDB_dbi *dbi_r)
{
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = mdb_dbi_open(txn, NULL, 0, dbi_r)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

/*
 * (Re)open T->path read-only.  Returns 0, or -1 with an allocated
 * message in *ERROR_R; *ERRNO_R is ENOENT when the file does not exist.
 */
static int
table_env_open(struct lmdb_table *t, int *errno_r, char **error_r)
{
	MDB_env *env;
	int fd, rc;

	table_env_close(t);
	*errno_r = 0;
	if ((rc = mdb_env_create(&env)) != 0) {
		*error_r = xasprintf("%s: %s", t->path, mdb_strerror(rc));
		return -1;
	}
	rc = mdb_env_open(env, t->path,
	    MDB_RDONLY | MDB_NOSUBDIR | MDB_NOLOCK, 0);
	if (rc == 0 && mdb_env_get_fd(env, &fd) == 0 && fstat(fd, &t->st) < 0)
		rc = errno;
	if (rc == 0 && env_check_size(env, &t->st) < 0)
		rc = MDB_CORRUPTED;
	if (rc == 0)
		rc = env_open_dbi(env, &t->dbi);
	if (rc == ENOENT && access(t->path, F_OK) == 0)
		rc = MDB_INVALID;	/* an empty file */
	if (rc != 0) {
		*errno_r = rc;
		*error_r = xasprintf("cannot open %s: %s", t->path,
		    mdb_strerror(rc));
		mdb_env_close(env);
		return -1;
	}
	t->env = env;
	return 0;
}

/* Open MAP->name.lmdb; a table not built yet fails at lookup time. */
static int
lmdb_open(struct map *map, char **error_r)
{
	struct lmdb_table *t = xcalloc(1, sizeof(*t));
	int err;

	t->path = xasprintf("%s%s", map->name, LMDB_SUFFIX);
	if (table_env_open(t, &err, error_r) < 0 && err != ENOENT) {
		free(t->path);
		free(t);
		return -1;
	}
	if (t->env == NULL) {
		free(*error_r);
		*error_r = NULL;
	}
	map->ctx = t;
	return 0;
}

/* Reopen the table when FILE.lmdb was replaced or is not open yet. */
static int
lmdb_refresh(struct map *map, struct lmdb_table *t)
{
	struct stat st;
	char *error;
	int err;

	if (stat(t->path, &st) < 0) {
		err = errno;
		table_env_close(t);
		if (err == ENOENT)
			map_set_error(map, "%s does not exist; build it with "
			    "\"dirmailctl map build %s\"", t->path, map->name);
		else
			map_set_error(map, "cannot access %s: %s", t->path,
			    strerror(err));
		return -1;
	}
	if (t->env != NULL && same_file(&st, &t->st))
		return 0;
	if (table_env_open(t, &err, &error) < 0) {
		map_set_error(map, "%s", error);
		free(error);
		return -1;
	}
	return 0;
}

/* Look KEY up in the current FILE.lmdb. */
static int
lmdb_lookup(struct map *map, const char *key, char **value_r)
{
	struct lmdb_table *t = map->ctx;
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	if (lmdb_refresh(map, t) < 0)
		return MAP_ERROR;
	if ((rc = mdb_txn_begin(t->env, NULL, MDB_RDONLY, &txn)) != 0) {
		map_set_error(map, "%s: %s", t->path, mdb_strerror(rc));
		return MAP_ERROR;
	}
	k.mv_data = (void *)key;
	k.mv_size = strlen(key);
	rc = mdb_get(txn, t->dbi, &k, &v);
	if (rc == 0)
		*value_r = xstrndup(v.mv_data, v.mv_size);
	mdb_txn_abort(txn);
	if (rc == MDB_NOTFOUND || rc == MDB_BAD_VALSIZE)
		return MAP_NOTFOUND;
	if (rc != 0) {
		map_set_error(map, "%s: %s", t->path, mdb_strerror(rc));
		return MAP_ERROR;
	}
	return MAP_FOUND;
}

/* Close the environment and free the state. */
static void
lmdb_close(struct map *map)
{
	struct lmdb_table *t = map->ctx;

	if (t == NULL)
		return;
	table_env_close(t);
	free(t->path);
	free(t);
	map->ctx = NULL;
}

const struct map_driver map_driver_lmdb = {
	.type = "lmdb",
	.flags = 0,
	.open = lmdb_open,
	.lookup = lmdb_lookup,
	.close = lmdb_close,
};

/* Return a map size that holds MAPFILE's entries with room to spare. */
static size_t
build_mapsize(const struct mapfile *mapfile)
{
	const size_t mib = 1024 * 1024;
	size_t i, total = 0;

	for (i = 0; i < mapfile->count; i++)
		total += strlen(mapfile->entries[i].key) +
		    strlen(mapfile->entries[i].value) + 64;
	total = total * 3 + 2 * mib;
	return (total + mib - 1) / mib * mib;
}

/* Store every entry of MAPFILE in ENV within one transaction. */
static int
build_put_all(MDB_env *env, const struct mapfile *mapfile, char **error_r)
{
	const struct mapfile_entry *e;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_val k, v;
	size_t i, maxkey = (size_t)mdb_env_get_maxkeysize(env);
	int rc;

	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0)
		goto fail;
	for (i = 0; i < mapfile->count; i++) {
		e = &mapfile->entries[i];
		if (strlen(e->key) > maxkey) {
			*error_r = xasprintf("%s:%u: key longer than %zu "
			    "bytes", mapfile->path, e->line, maxkey);
			mdb_txn_abort(txn);
			return -1;
		}
		k.mv_data = e->key;
		k.mv_size = strlen(e->key);
		v.mv_data = e->value;
		v.mv_size = strlen(e->value);
		if ((rc = mdb_put(txn, dbi, &k, &v, 0)) != 0)
			goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail_committed;
	return 0;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
fail_committed:
	*error_r = xasprintf("%s: %s", mapfile->path, mdb_strerror(rc));
	return -1;
}

/* Write MAPFILE as a new LMDB environment into the existing file TMP. */
static int
build_write(const char *tmp, const struct mapfile *mapfile, char **error_r)
{
	MDB_env *env;
	int rc;

	if ((rc = mdb_env_create(&env)) != 0) {
		*error_r = xasprintf("%s: %s", tmp, mdb_strerror(rc));
		return -1;
	}
	if ((rc = mdb_env_set_mapsize(env, build_mapsize(mapfile))) != 0 ||
	    (rc = mdb_env_open(env, tmp, MDB_NOSUBDIR | MDB_NOLOCK |
	    MDB_NOSYNC, 0600)) != 0) {
		*error_r = xasprintf("cannot create %s: %s", tmp,
		    mdb_strerror(rc));
		mdb_env_close(env);
		return -1;
	}
	if (build_put_all(env, mapfile, error_r) < 0) {
		mdb_env_close(env);
		return -1;
	}
	if ((rc = mdb_env_sync(env, 1)) != 0) {
		*error_r = xasprintf("cannot sync %s: %s", tmp,
		    mdb_strerror(rc));
		mdb_env_close(env);
		return -1;
	}
	mdb_env_close(env);
	return 0;
}

/* fsync(2) the directory that holds PATH. */
static int
sync_parent_dir(const char *path, char **error_r)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, ret = 0;

	if (slash == NULL)
		dir = xstrdup(".");
	else
		dir = xstrndup(path, slash == path ? 1 :
		    (size_t)(slash - path));
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) < 0 || fsync(fd) < 0) {
		*error_r = xasprintf("cannot sync directory %s: %s", dir,
		    strerror(errno));
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	free(dir);
	return ret;
}

/* Create a temporary file beside DEST with MODE; return its name. */
static char *
build_tmpfile(const char *dest, mode_t mode, char **error_r)
{
	char *tmp = xasprintf("%s.XXXXXX", dest);
	int fd;

	if ((fd = mkstemp(tmp)) < 0) {
		*error_r = xasprintf("cannot create %s: %s", tmp,
		    strerror(errno));
		free(tmp);
		return NULL;
	}
	if (fchmod(fd, mode) < 0 || close(fd) < 0) {
		*error_r = xasprintf("cannot set up %s: %s", tmp,
		    strerror(errno));
		unlink(tmp);
		free(tmp);
		return NULL;
	}
	return tmp;
}

/* Build SOURCE.lmdb from SOURCE and replace the old one atomically. */
int
mapfile_build_lmdb(const char *source, char **error_r)
{
	return mapfile_build_lmdb_with(source, NULL, error_r);
}

/* The same, for a source file with the line syntax SPLIT. */
int
mapfile_build_lmdb_with(const char *source, mapfile_split_fn *split,
    char **error_r)
{
	struct mapfile *mapfile;
	struct stat st;
	char *dest = NULL, *tmp = NULL;
	int ret = -1;

	if (mapfile_load_with(source, split, &mapfile, error_r) < 0)
		return -1;
	if (stat(source, &st) < 0) {
		*error_r = xasprintf("cannot access %s: %s", source,
		    strerror(errno));
		goto out;
	}
	dest = xasprintf("%s%s", source, LMDB_SUFFIX);
	if ((tmp = build_tmpfile(dest, st.st_mode & 0666, error_r)) == NULL)
		goto out;
	if (build_write(tmp, mapfile, error_r) < 0)
		goto out;
	if (rename(tmp, dest) < 0) {
		*error_r = xasprintf("cannot rename %s to %s: %s", tmp, dest,
		    strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	ret = sync_parent_dir(dest, error_r);
out:
	if (tmp != NULL)
		unlink(tmp);
	free(tmp);
	free(dest);
	mapfile_free(&mapfile);
	return ret;
}
