/*
 * Maildir file names: the base name, the ":2," info with its flag and
 * keyword letters, the ",S=" and ",W=" sizes; and reading a folder's
 * new/ or cur/ into a list sorted by base name.
 */

#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "mailstore/ms_int.h"

/* The info letters of the system flags, in ASCII order. */
static const struct {
	char letter;
	unsigned flag;
} sys_letters[] = {
	{ 'D', MF_DRAFT }, { 'F', MF_FLAGGED }, { 'R', MF_ANSWERED },
	{ 'S', MF_SEEN }, { 'T', MF_DELETED },
};

/* Parse the letters after ":2," into F. */
static void
parse_info(const char *info, struct ms_file *f)
{
	size_t i;

	for (; *info != '\0'; info++) {
		char c = *info;
		if (c >= 'a' && c <= 'z') {
			f->keywords |= 1u << (c - 'a');
			continue;
		}
		if (c < 'A' || c > 'Z')
			continue;
		for (i = 0; i < sizeof(sys_letters) / sizeof(sys_letters[0]);
		    i++)
			if (sys_letters[i].letter == c)
				break;
		if (i < sizeof(sys_letters) / sizeof(sys_letters[0]))
			f->flags |= sys_letters[i].flag;
		else
			f->other |= 1u << (c - 'A');
	}
}

bool
ms_file_parse(const char *name, struct ms_file *f)
{
	const char *colon, *p;

	memset(f, 0, sizeof(*f));
	if (name[0] == '.' || name[0] == '\0')
		return false;
	for (p = name; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	colon = strchr(name, ':');
	f->base_len = colon != NULL ? (size_t)(colon - name) : strlen(name);
	if (f->base_len == 0)
		return false;
	if (colon != NULL && strncmp(colon, ":2,", 3) == 0)
		parse_info(colon + 3, f);
	return true;
}

void
ms_info_letters(unsigned flags, uint32_t keywords, uint32_t other,
    char buf[64])
{
	size_t n = 0;
	int c;

	/* Upper-case letters first, all in ASCII order. */
	for (c = 'A'; c <= 'Z'; c++) {
		bool set = (other & (1u << (c - 'A'))) != 0;
		for (size_t i = 0; i < sizeof(sys_letters) /
		    sizeof(sys_letters[0]); i++)
			if (sys_letters[i].letter == c)
				set = (flags & sys_letters[i].flag) != 0;
		if (set)
			buf[n++] = (char)c;
	}
	for (c = 0; c < MSTORE_MAX_KEYWORDS; c++)
		if (keywords & (1u << c))
			buf[n++] = (char)('a' + c);
	buf[n] = '\0';
}

int
ms_scan_dir(const char *dir, const char *sub, struct ms_scan *scan,
    char **error_r)
{
	char *path = xasprintf("%s/%s", dir, sub);
	struct dirent *de;
	struct ms_file f;
	DIR *d;

	if ((d = opendir(path)) == NULL) {
		*error_r = xasprintf("open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!ms_file_parse(de->d_name, &f))
			continue;
		f.name = xstrdup(de->d_name);
		f.in_new = strcmp(sub, "new") == 0;
		if (scan->n == scan->cap) {
			scan->cap = scan->cap != 0 ? scan->cap * 2 : 64;
			scan->files = xreallocarray(scan->files, scan->cap,
			    sizeof(*scan->files));
		}
		scan->files[scan->n++] = f;
	}
	closedir(d);
	free(path);
	return 0;
}

/* Compare two base names given with their lengths. */
static int
base_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	if (r != 0)
		return r;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static int
file_cmp(const void *a, const void *b)
{
	const struct ms_file *fa = a, *fb = b;

	return base_cmp(fa->name, fa->base_len, fb->name, fb->base_len);
}

void
ms_scan_sort(struct ms_scan *scan)
{
	size_t i, o;

	if (scan->n == 0)
		return;
	qsort(scan->files, scan->n, sizeof(*scan->files), file_cmp);
	/* A file renamed while the directory was read can show twice. */
	for (i = 1, o = 1; i < scan->n; i++) {
		if (file_cmp(&scan->files[o - 1], &scan->files[i]) == 0) {
			struct ms_file *kept = &scan->files[o - 1];
			/* The copy in cur/ is the newer one. */
			if (kept->in_new && !scan->files[i].in_new) {
				struct ms_file t = *kept;
				*kept = scan->files[i];
				scan->files[i] = t;
			}
			free(scan->files[i].name);
			continue;
		}
		scan->files[o++] = scan->files[i];
	}
	scan->n = o;
}

struct ms_file *
ms_scan_find(const struct ms_scan *scan, const char *base, size_t base_len)
{
	struct ms_file key = { .name = (char *)base, .base_len = base_len };

	if (scan->n == 0)
		return NULL;
	return bsearch(&key, scan->files, scan->n, sizeof(*scan->files),
	    file_cmp);
}

void
ms_scan_free(struct ms_scan *scan)
{
	for (size_t i = 0; i < scan->n; i++)
		free(scan->files[i].name);
	free(scan->files);
	memset(scan, 0, sizeof(*scan));
}

/* The number after ",KEY=" in the base name, or -1 when absent. */
static int
base_field(const char *base, size_t len, char key, uint64_t *num_r)
{
	const char *p, *end = base + len;
	uint64_t num;

	for (p = base; p + 3 < end; p++) {
		if (p[0] != ',' || p[1] != key || p[2] != '=')
			continue;
		p += 3;
		if (p >= end || *p < '0' || *p > '9')
			return -1;
		for (num = 0; p < end && *p >= '0' && *p <= '9'; p++)
			num = num * 10 + (uint64_t)(*p - '0');
		if (p < end && *p != ',')
			return -1;
		*num_r = num;
		return 0;
	}
	return -1;
}

int
ms_base_sizes(const char *base, size_t base_len, uint64_t *psize_r,
    uint64_t *vsize_r)
{
	if (base_field(base, base_len, 'S', psize_r) < 0 ||
	    base_field(base, base_len, 'W', vsize_r) < 0)
		return -1;
	return 0;
}

/* Count the bytes of FD and its LF line ends. */
static int
count_file(int fd, uint64_t *bytes_r, uint64_t *lines_r)
{
	char buf[65536];
	ssize_t n;

	*bytes_r = *lines_r = 0;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		*bytes_r += (uint64_t)n;
		for (const char *p = buf; (p = memchr(p, '\n',
		    (size_t)(buf + n - p))) != NULL; p++)
			(*lines_r)++;
	}
	return 0;
}

int
ms_file_sizes(const char *path, const char *base, size_t base_len,
    uint64_t *psize_r, uint64_t *vsize_r, time_t *mtime_r)
{
	struct stat sb;
	uint64_t bytes, lines;
	int fd, saved;

	/* The sizes in the name spare reading the file; the mtime is
	   INTERNALDATE, which APPEND may have set to any time. */
	if (ms_base_sizes(base, base_len, psize_r, vsize_r) == 0) {
		if (stat(path, &sb) < 0)
			return -1;
		*mtime_r = sb.st_mtim.tv_sec;
		return 0;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) < 0 || count_file(fd, &bytes, &lines) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	*mtime_r = sb.st_mtim.tv_sec;
	*psize_r = bytes;
	*vsize_r = bytes + lines;
	return 0;
}
