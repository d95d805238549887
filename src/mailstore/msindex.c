/*
 * A folder's UID index, "dirmail-uidlist":
 *
 *	dirmail-uidlist 1 UIDVALIDITY UIDNEXT RECENTUID GENERATION
 *	UID PSIZE VSIZE MTIME BASENAME
 *	...
 *
 * Lines sorted by UID; the base name is the rest of the line.  Messages
 * added later (delivery, APPEND, COPY) are appended as more such lines,
 * UIDNEXT being one above the last; "R UID" lines raise RECENTUID.
 * Everything else (expunges, a new index) replaces the file whole:
 * write, fsync, rename.  Writers hold the folder lock; readers need
 * none: a last line still being appended has no LF yet and is left for
 * the next read.  Appending to a 10,000-message index costs one short
 * write instead of rewriting it.
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "mailstore/ms_int.h"

#define UIDLIST_MAGIC	"dirmail-uidlist 1 "

void
uidx_init(struct uidx *ix, const char *dir)
{
	memset(ix, 0, sizeof(*ix));
	ix->dir = xstrdup(dir);
}

/* Drop the entries, keeping the directory. */
static void
uidx_clear(struct uidx *ix)
{
	for (size_t i = 0; i < ix->n; i++)
		free(ix->ents[i].base);
	ix->n = 0;
	free(ix->by_name);
	ix->by_name = NULL;
}

void
uidx_free(struct uidx *ix)
{
	uidx_clear(ix);
	free(ix->ents);
	free(ix->dir);
	memset(ix, 0, sizeof(*ix));
}

static struct uidx_ent *
uidx_push(struct uidx *ix)
{
	if (ix->n == ix->cap) {
		ix->cap = ix->cap != 0 ? ix->cap * 2 : 64;
		ix->ents = xreallocarray(ix->ents, ix->cap,
		    sizeof(*ix->ents));
		/* The name order now points into freed memory. */
		free(ix->by_name);
		ix->by_name = NULL;
	}
	return &ix->ents[ix->n++];
}

/* Parse a decimal number at *P followed by SEP ('\0': end of line). */
static int
parse_num(char **p, uint64_t *num_r, char sep)
{
	char *end;

	if (**p < '0' || **p > '9')
		return -1;
	errno = 0;
	*num_r = strtoull(*p, &end, 10);
	if (errno != 0 || *end != sep)
		return -1;
	*p = sep != '\0' ? end + 1 : end;
	return 0;
}

/* Parse one entry line; -1 when malformed. */
static int
parse_entry(struct uidx *ix, char *line)
{
	uint64_t uid, psize, vsize, mtime;
	struct uidx_ent *e;
	char *p = line;

	if (line[0] == 'R' && line[1] == ' ') {
		p += 2;
		if (parse_num(&p, &uid, '\0') < 0 || uid >= ix->uidnext)
			return -1;
		if (uid > ix->recent_uid)
			ix->recent_uid = (uint32_t)uid;
		return 0;
	}
	if (parse_num(&p, &uid, ' ') < 0 || parse_num(&p, &psize, ' ') < 0 ||
	    parse_num(&p, &vsize, ' ') < 0 || parse_num(&p, &mtime, ' ') < 0 ||
	    *p == '\0' || uid == 0 || uid >= UINT32_MAX ||
	    (ix->n > 0 && uid <= ix->ents[ix->n - 1].uid))
		return -1;
	if (uid >= ix->uidnext) {
		if (!ix->appended)
			return -1;	/* above UIDNEXT in the rewritten part */
		ix->uidnext = (uint32_t)uid + 1;
	}
	e = uidx_push(ix);
	e->uid = (uint32_t)uid;
	e->psize = psize;
	e->vsize = vsize;
	e->mtime = (time_t)mtime;
	e->base = xstrdup(p);
	return 0;
}

/* Parse the lines at DATA; *USED_R: the bytes of complete lines. */
static int
parse_lines(struct uidx *ix, char *data, size_t *used_r)
{
	char *line, *nl;

	for (line = data; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			break;	/* being appended: not there yet */
		*nl = '\0';
		if (strcmp(line, "+") == 0)
			ix->appended = true;
		else if (parse_entry(ix, line) < 0)
			return -1;
	}
	*used_r = (size_t)(line - data);
	free(ix->by_name);
	ix->by_name = NULL;
	return 0;
}

/* Parse the header line at *P into its fields; -1 when damaged. */
static int
parse_header(char **p, uint32_t *v_r, uint32_t *next_r, uint32_t *recent_r,
    uint32_t *gen_r)
{
	uint64_t v, next, recent, gen;

	if (strncmp(*p, UIDLIST_MAGIC, strlen(UIDLIST_MAGIC)) != 0)
		return -1;
	*p += strlen(UIDLIST_MAGIC);
	if (parse_num(p, &v, ' ') < 0 || parse_num(p, &next, ' ') < 0 ||
	    parse_num(p, &recent, ' ') < 0 || parse_num(p, &gen, '\n') < 0 ||
	    v == 0 || v > UINT32_MAX || next == 0 || next > UINT32_MAX ||
	    recent >= next || gen > UINT32_MAX)
		return -1;
	*v_r = (uint32_t)v;
	*next_r = (uint32_t)next;
	*recent_r = (uint32_t)recent;
	*gen_r = (uint32_t)gen;
	return 0;
}

/* Parse the whole file DATA into IX; -1 when damaged. */
static int
parse_uidlist(struct uidx *ix, char *data)
{
	char *p = data;
	size_t used;

	if (parse_header(&p, &ix->uidvalidity, &ix->uidnext, &ix->recent_uid,
	    &ix->gen) < 0)
		return -1;
	ix->appended = false;
	if (parse_lines(ix, p, &used) < 0)
		return -1;
	ix->parsed_len = (size_t)(p - data) + used;
	return 0;
}

/* Start afresh: a new UIDVALIDITY, every file gets a new UID. */
static void
uidx_fresh(struct uidx *ix, const struct mstore *st)
{
	uidx_clear(ix);
	ix->uidvalidity = ms_new_uidvalidity(st);
	ix->uidnext = 1;
	ix->recent_uid = 0;
	ix->have_st = false;
}

/*
 * Read only the lines appended since the last read, when SB is the file
 * last read grown by appends: the same inode and the same generation in
 * its header (a rewrite writes a new one).  0 done, 1 not possible.
 */
static int
read_tail(struct uidx *ix, const char *path, const struct stat *sb)
{
	char head[160], *p = head, *tail;
	uint32_t v, next, recent, gen;
	size_t len, used;
	ssize_t n;
	int fd, ret = 1;

	if (!ix->have_st || sb->st_ino != ix->st.st_ino ||
	    sb->st_dev != ix->st.st_dev || sb->st_size < ix->st.st_size ||
	    (size_t)sb->st_size < ix->parsed_len)
		return 1;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 1;
	n = pread(fd, head, sizeof(head) - 1, 0);
	if (n <= 0)
		goto out;
	head[n] = '\0';
	if (parse_header(&p, &v, &next, &recent, &gen) < 0 ||
	    gen != ix->gen || v != ix->uidvalidity)
		goto out;
	len = (size_t)sb->st_size - ix->parsed_len;
	tail = xmalloc(len + 1);
	n = pread(fd, tail, len, (off_t)ix->parsed_len);
	if (n >= 0) {
		tail[n] = '\0';
		if (strlen(tail) == (size_t)n &&
		    parse_lines(ix, tail, &used) == 0) {
			ix->parsed_len += used;
			ix->st = *sb;
			ret = 0;
		}
	}
	free(tail);
out:
	close(fd);
	return ret;
}

int
uidx_refresh(struct uidx *ix, const struct mstore *st, bool *changed_r,
    char **error_r)
{
	char *path = xasprintf("%s/%s", ix->dir, MS_UIDLIST), *data;
	struct stat sb;
	size_t len;

	*changed_r = false;
	if (stat(path, &sb) == 0 && ((ix->have_st &&
	    ms_stat_same(&sb, &ix->st)) || read_tail(ix, path, &sb) == 0)) {
		free(path);
		return 0;
	}
	if (stat(path, &sb) < 0 || ms_read_file(path, &data, &len) < 0) {
		if (errno != ENOENT) {
			*error_r = xasprintf("read %s: %s", path,
			    strerror(errno));
			free(path);
			return -1;
		}
		uidx_fresh(ix, st);
		*changed_r = true;
		free(path);
		return 0;
	}
	uidx_clear(ix);
	if (strlen(data) != len || parse_uidlist(ix, data) < 0) {
		uidx_fresh(ix, st);
		*changed_r = true;
	} else {
		ix->st = sb;
		ix->have_st = true;
	}
	free(data);
	free(path);
	return 0;
}

int
uidx_write(struct uidx *ix, char **error_r)
{
	char *path = xasprintf("%s/%s", ix->dir, MS_UIDLIST);
	struct str s = STR_INIT;
	struct stat sb;
	int ret;

	/* A new generation tells readers this is no longer the file they
	   may have read the start of (inode numbers are reused). */
	ix->gen = arc4random() % UINT32_MAX;
	str_appendf(&s, UIDLIST_MAGIC "%" PRIu32 " %" PRIu32 " %" PRIu32
	    " %" PRIu32 "\n", ix->uidvalidity, ix->uidnext, ix->recent_uid,
	    ix->gen);
	for (size_t i = 0; i < ix->n; i++) {
		const struct uidx_ent *e = &ix->ents[i];
		str_appendf(&s, "%" PRIu32 " %llu %llu %lld %s\n", e->uid,
		    (unsigned long long)e->psize, (unsigned long long)e->vsize,
		    (long long)e->mtime, e->base);
	}
	ret = ms_write_atomic(path, str_c(&s), s.len, error_r);
	ix->appended = false;
	ix->parsed_len = s.len;
	if (ret == 0 && stat(path, &sb) == 0) {
		ix->st = sb;
		ix->have_st = true;
	} else {
		ix->have_st = false;
	}
	str_free(&s);
	free(path);
	return ret;
}

/* Append the entries from FIRST on (and RECENTUID when RECENT) to the
   file, which must be the one IX was read from. */
static int
uidx_append(struct uidx *ix, size_t first, bool recent, char **error_r)
{
	char *path = xasprintf("%s/%s", ix->dir, MS_UIDLIST), last;
	struct str s = STR_INIT;
	struct stat sb;
	int fd, ret = 1;

	fd = open(path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	/* Anything unexpected: rewrite instead (ret 1). */
	if (fd < 0 || fstat(fd, &sb) < 0 || !ms_stat_same(&sb, &ix->st) ||
	    sb.st_size == 0 || pread(fd, &last, 1, sb.st_size - 1) != 1 ||
	    last != '\n')
		goto out;
	if (!ix->appended)
		str_append(&s, "+\n");
	for (size_t i = first; i < ix->n; i++) {
		const struct uidx_ent *e = &ix->ents[i];
		str_appendf(&s, "%" PRIu32 " %llu %llu %lld %s\n", e->uid,
		    (unsigned long long)e->psize, (unsigned long long)e->vsize,
		    (long long)e->mtime, e->base);
	}
	if (recent)
		str_appendf(&s, "R %" PRIu32 "\n", ix->recent_uid);
	if (fd_write_all(fd, str_c(&s), s.len) < 0 || fsync(fd) < 0 ||
	    fstat(fd, &sb) < 0) {
		*error_r = xasprintf("write %s: %s", path, strerror(errno));
		ret = -1;
		ix->have_st = false;
		goto out;
	}
	ix->appended = true;
	ix->st = sb;
	ix->parsed_len = (size_t)sb.st_size;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	str_free(&s);
	free(path);
	return ret;
}

int
uidx_commit(struct uidx *ix, size_t first, bool recent, char **error_r)
{
	int ret = ix->have_st ? uidx_append(ix, first, recent, error_r) : 1;

	return ret <= 0 ? ret : uidx_write(ix, error_r);
}

/* For qsort_r-free sorting of the name order. */
static const struct uidx *sort_ix;

static int
name_order_cmp(const void *a, const void *b)
{
	return strcmp(sort_ix->ents[*(const size_t *)a].base,
	    sort_ix->ents[*(const size_t *)b].base);
}

void
uidx_reindex(struct uidx *ix)
{
	free(ix->by_name);
	ix->by_name = xcalloc(ix->n + 1, sizeof(*ix->by_name));
	for (size_t i = 0; i < ix->n; i++)
		ix->by_name[i] = i;
	sort_ix = ix;
	qsort(ix->by_name, ix->n, sizeof(*ix->by_name), name_order_cmp);
	sort_ix = NULL;
}

struct uidx_ent *
uidx_find_name(struct uidx *ix, const char *base, size_t base_len)
{
	size_t lo = 0, hi = ix->n, mid;
	int r;

	if (ix->by_name == NULL)
		uidx_reindex(ix);
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		const char *b = ix->ents[ix->by_name[mid]].base;
		r = strncmp(base, b, base_len);
		if (r == 0 && b[base_len] != '\0')
			r = -1;
		if (r == 0)
			return &ix->ents[ix->by_name[mid]];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int
uid_cmp(const void *key, const void *ent)
{
	uint32_t uid = *(const uint32_t *)key;
	uint32_t e = ((const struct uidx_ent *)ent)->uid;

	return uid < e ? -1 : uid > e ? 1 : 0;
}

struct uidx_ent *
uidx_find_uid(const struct uidx *ix, uint32_t uid)
{
	if (ix->n == 0)
		return NULL;
	return bsearch(&uid, ix->ents, ix->n, sizeof(*ix->ents), uid_cmp);
}

struct uidx_ent *
uidx_add(struct uidx *ix, const char *base, size_t base_len,
    uint64_t psize, uint64_t vsize, time_t mtime)
{
	struct uidx_ent *e = uidx_push(ix);

	e->uid = ix->uidnext++;
	e->base = xstrndup(base, base_len);
	e->psize = psize;
	e->vsize = vsize;
	e->mtime = mtime;
	free(ix->by_name);
	ix->by_name = NULL;
	return e;
}

static int
uid_cmp_plain(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y ? 1 : 0;
}

void
uidx_remove(struct uidx *ix, const uint32_t *uids, size_t n)
{
	size_t i, o;

	for (i = 0, o = 0; i < ix->n; i++) {
		if (bsearch(&ix->ents[i].uid, uids, n, sizeof(*uids),
		    uid_cmp_plain) != NULL) {
			free(ix->ents[i].base);
			continue;
		}
		ix->ents[o++] = ix->ents[i];
	}
	ix->n = o;
	free(ix->by_name);
	ix->by_name = NULL;
}
