/*
 * Writing a queue file (format version 1, see doc/queue-format.md): the
 * header, length-prefixed envelope records and the content, buffered and
 * written in large chunks from the event-loop thread.  Making the file
 * durable is qcommit.c's job.
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "queue/queue.h"
#include "queue/queue_int.h"

#define QF_BUF_SIZE	(64 * 1024)

/* Anonymous (O_TMPFILE) files when the system has them; tests turn it
   off to see the named files. */
bool queue_tmpfile_wanted = true;
#define QF_CREATE_TRIES	100

struct queue_file {
	char *dir;		/* QUEUE_DIR/incoming */
	char *tmp_path;		/* DIR/.ID; NULL for an anonymous file */
	char *path;		/* DIR/ID */
	char id[QUEUE_ID_MAX + 1];
	int fd;
	bool reused;		/* an old file: cut its tail when done */
	int error;		/* first errno, or 0 */
	struct qrec_state st;
	unsigned long long written;	/* bytes in the file */
	unsigned long long content_offset;
	unsigned long long content_len;
	size_t buf_len;
	char buf[QF_BUF_SIZE];
};

/* Write BUF to QF's descriptor; remember the first error. */
static void
qf_write_all(struct queue_file *qf, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0 && qf->error == 0) {
		n = write(qf->fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			qf->error = n < 0 ? errno : EIO;
			break;
		}
		buf += n;
		len -= (size_t)n;
		qf->written += (unsigned long long)n;
	}
}

/* Write out the buffer. */
static void
qf_flush(struct queue_file *qf)
{
	qf_write_all(qf, qf->buf, qf->buf_len);
	qf->buf_len = 0;
}

/* Append LEN bytes to the file through the buffer. */
static void
qf_put(struct queue_file *qf, const void *data, size_t len)
{
	const char *p = data;
	size_t n;

	if (len >= QF_BUF_SIZE) {
		qf_flush(qf);
		qf_write_all(qf, p, len);
		return;
	}
	while (len > 0 && qf->error == 0) {
		if (qf->buf_len == QF_BUF_SIZE)
			qf_flush(qf);
		n = QF_BUF_SIZE - qf->buf_len;
		if (n > len)
			n = len;
		memcpy(qf->buf + qf->buf_len, p, n);
		qf->buf_len += n;
		p += n;
		len -= n;
	}
}

/* Offset in the file of the next byte appended. */
static unsigned long long
qf_offset(const struct queue_file *qf)
{
	return qf->written + qf->buf_len;
}

/* Record a misuse of the writer: log it and fail the file. */
static void
qf_bug(struct queue_file *qf, char type, const char *why)
{
	log_error("queue file %s: record '%c': %s", qf->id, type, why);
	if (qf->error == 0)
		qf->error = EINVAL;
}

/* Append a record without checking the grammar. */
static void
qf_put_record(struct queue_file *qf, char type, const void *data, size_t len)
{
	char head[32];
	int n;

	n = snprintf(head, sizeof(head), "%c%zu:", type, len);
	qf_put(qf, head, (size_t)n);
	qf_put(qf, data, len);
	qf_put(qf, "\n", 1);
}

/* Append a record after checking that it may come next. */
static void
qf_record(struct queue_file *qf, char type, const void *data, size_t len)
{
	const char *why;

	if (qf->error != 0)
		return;
	if (memchr(data, '\0', len) != NULL) {
		qf_bug(qf, type, "NUL byte in data");
		return;
	}
	if ((why = qrec_next(&qf->st, type)) != NULL) {
		qf_bug(qf, type, why);
		return;
	}
	qf_put_record(qf, type, data, len);
}

/* Write the header (zeros first) and the I record. */
static void
qf_start(struct queue_file *qf)
{
	char header[QF_HEADER_LEN + 1];

	snprintf(header, sizeof(header), "%s%020d %020d\n", QF_MAGIC, 0, 0);
	qf_put(qf, header, QF_HEADER_LEN);
	qf_record(qf, 'I', qf->id, strlen(qf->id));
}

/*
 * Make QF an anonymous file (O_TMPFILE): it gets its name only when it is
 * committed (linked through /proc/self/fd), so a crash leaves nothing
 * behind, and the file system allocates the inode without locking the
 * directory.  Returns 0, or -1 when the file system or the system cannot
 * (then named files are used from now on).
 */
static int
qf_try_anonymous(struct queue_file *qf)
{
	static int usable = -1;

	if (usable < 0)
		usable = access("/proc/self/fd", X_OK) == 0;
	if (!usable || !queue_tmpfile_wanted)
		return -1;
	qf->fd = open(qf->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (qf->fd >= 0)
		return 0;
	if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)
		usable = 0;
	return -1;
}

/* Give QF a fresh id and its final path; false when a file already
   has that name. */
static bool
qf_new_id(struct queue_file *qf)
{
	struct stat sb;

	queue_id_new(qf->id);
	free(qf->tmp_path);
	free(qf->path);
	qf->tmp_path = NULL;
	qf->path = xasprintf("%s/%s", qf->dir, qf->id);
	return lstat(qf->path, &sb) < 0;
}

/* Try to create the file under a fresh id: 0, 1 on a clash, -1 on error. */
static int
qf_try_create(struct queue_file *qf)
{
	if (!qf_new_id(qf))
		return 1;
	if (qf_try_anonymous(qf) == 0)
		return 0;
	qf->tmp_path = xasprintf("%s/.%s", qf->dir, qf->id);
	qf->fd = open(qf->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (qf->fd >= 0)
		return 0;
	return errno == EEXIST ? 1 : -1;
}

int
queue_file_create(const char *queue_dir, struct queue_file **qf_r,
    char **error_r)
{
	struct queue_file *qf = xcalloc(1, sizeof(*qf));
	int i, r = 1;

	qf->dir = xasprintf("%s/%s", queue_dir, QUEUE_INCOMING);
	qf->fd = -1;
	for (i = 0; i < QF_CREATE_TRIES && r == 1; i++)
		r = qf_try_create(qf);
	if (r != 0) {
		*error_r = xasprintf("create %s: %s", qf->tmp_path != NULL ?
		    qf->tmp_path : qf->path,
		    r < 0 ? strerror(errno) : "no unused queue id");
		queue_file_release(&qf);
		return -1;
	}
	qf_start(qf);
	*qf_r = qf;
	return 0;
}

/*
 * Claim the retired file SPARE for QF under a fresh id: rename it to
 * DIR/.ID and open it.  0, 1 when it cannot be used (gone, or not a
 * plain file of ours with one link: then removed), -1 on error.
 */
static int
qf_try_reuse(struct queue_file *qf, const char *spare)
{
	struct stat sb;

	if (!qf_new_id(qf))
		return 1;
	qf->tmp_path = xasprintf("%s/.%s", qf->dir, qf->id);
	if (renameat2(AT_FDCWD, spare, AT_FDCWD, qf->tmp_path,
	    RENAME_NOREPLACE) < 0)
		return errno == ENOENT || errno == EEXIST ? 1 : -1;
	qf->fd = open(qf->tmp_path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (qf->fd < 0 || fstat(qf->fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_nlink != 1 || sb.st_uid != geteuid()) {
		if (qf->fd >= 0)
			close(qf->fd);
		qf->fd = -1;
		unlink(qf->tmp_path);
		return 1;
	}
	/* Its times are the old message's: make it as young as a new
	   file, for whatever removes old dot files (doc/queue-format.md). */
	(void)futimens(qf->fd, NULL);
	qf->reused = true;
	return 0;
}

int
queue_file_reuse(const char *queue_dir, const char *spare,
    struct queue_file **qf_r)
{
	struct queue_file *qf = xcalloc(1, sizeof(*qf));
	int r;

	qf->dir = xasprintf("%s/%s", queue_dir, QUEUE_INCOMING);
	qf->fd = -1;
	if ((r = qf_try_reuse(qf, spare)) != 0) {
		queue_file_release(&qf);
		return r;
	}
	qf_start(qf);
	*qf_r = qf;
	return 0;
}

const char *
queue_file_id(const struct queue_file *qf)
{
	return qf->id;
}

void
queue_file_record(struct queue_file *qf, char type, const char *data,
    size_t len)
{
	double arrival;

	if (type == 'M' || type == 'E' || type == 'I') {
		qf_bug(qf, type, "written by the queue code only");
		return;
	}
	if (type == 'T' && !queue_arrival_parse(data, len, &arrival)) {
		qf_bug(qf, type, "not \"seconds.microseconds\"");
		return;
	}
	qf_record(qf, type, data, len);
}

void
queue_file_attr(struct queue_file *qf, const char *name, const char *value)
{
	char *rec = xasprintf("%s=%s", name, value);

	if (*name == '\0' || strchr(name, '=') != NULL)
		qf_bug(qf, 'A', "bad attribute name");
	else
		queue_file_record(qf, 'A', rec, strlen(rec));
	free(rec);
}

void
queue_file_recipient(struct queue_file *qf, const char *orcpt,
    const char *notify, const char *final)
{
	if (orcpt != NULL)
		queue_file_record(qf, 'O', orcpt, strlen(orcpt));
	if (notify != NULL)
		queue_file_record(qf, 'N', notify, strlen(notify));
	queue_file_record(qf, 'R', final, strlen(final));
}

void
queue_file_begin_content(struct queue_file *qf)
{
	qf_record(qf, 'M', "", 0);
	qf->content_offset = qf_offset(qf);
}

void
queue_file_write(struct queue_file *qf, const void *data, size_t len)
{
	if (qf->error != 0)
		return;
	if (!qf->st.seen_m) {
		qf_bug(qf, 'M', "content before queue_file_begin_content()");
		return;
	}
	qf_put(qf, data, len);
	qf->content_len += len;
}

unsigned long long
queue_file_size(const struct queue_file *qf)
{
	return qf->content_len;
}

int
queue_file_error(const struct queue_file *qf)
{
	return qf->error;
}

/* Replace the zeros in the header with the content's length and offset. */
static void
qf_patch_header(struct queue_file *qf)
{
	char header[QF_HEADER_LEN + 1];
	ssize_t n;

	snprintf(header, sizeof(header), "%s%020llu %020llu\n", QF_MAGIC,
	    qf->content_len, qf->content_offset);
	do
		n = pwrite(qf->fd, header, QF_HEADER_LEN, 0);
	while (n < 0 && errno == EINTR);
	if (n != QF_HEADER_LEN && qf->error == 0)
		qf->error = n < 0 ? errno : EIO;
}

int
queue_file_finish(struct queue_file *qf)
{
	if (qf->error == 0 && !qf->st.seen_m)
		qf_bug(qf, 'E', "no content");
	qf_put(qf, QF_END, QF_END_LEN);
	qf_flush(qf);
	if (qf->error == 0 && qf->reused && ftruncate(qf->fd,
	    (off_t)qf->written) < 0)
		qf->error = errno;
	if (qf->error == 0)
		qf_patch_header(qf);
	return qf->error;
}

int
queue_file_fd(const struct queue_file *qf)
{
	return qf->fd;
}

const char *
queue_file_dir(const struct queue_file *qf)
{
	return qf->dir;
}

const char *
queue_file_tmp_path(const struct queue_file *qf)
{
	return qf->tmp_path;
}

const char *
queue_file_path(const struct queue_file *qf)
{
	return qf->path;
}

void
queue_file_forget_fd(struct queue_file *qf)
{
	qf->fd = -1;
}

void
queue_file_release(struct queue_file **qfp)
{
	struct queue_file *qf = *qfp;

	if (qf == NULL)
		return;
	if (qf->fd >= 0)
		close(qf->fd);
	free(qf->dir);
	free(qf->tmp_path);
	free(qf->path);
	free(qf);
	*qfp = NULL;
}

void
queue_file_abort(struct queue_file **qfp)
{
	if (*qfp == NULL)
		return;
	if ((*qfp)->tmp_path != NULL)
		unlink((*qfp)->tmp_path);
	queue_file_release(qfp);
}

/* Advance a recipient group with TYPE; NULL or why not. */
static const char *
qrec_group(struct qrec_state *st, char type)
{
	switch (type) {
	case 'O':
		if (st->group != 0)
			return "O inside a recipient group";
		st->group = 1;
		return NULL;
	case 'N':
		if (st->group == 2)
			return "second N in a recipient group";
		st->group = 2;
		return NULL;
	default:
		st->group = 0;
		st->n_rcpts++;
		return NULL;
	}
}

/* Mark a record that may appear only once; NULL or why not. */
static const char *
qrec_once(bool *seen)
{
	if (*seen)
		return "duplicate record";
	*seen = true;
	return NULL;
}

const char *
qrec_next(struct qrec_state *st, char type)
{
	if (st->seen_m)
		return "record after the start of the content";
	if (st->group != 0 && type != 'N' && type != 'R')
		return "unfinished recipient group";
	switch (type) {
	case 'T':
		return qrec_once(&st->seen_t);
	case 'I':
		return qrec_once(&st->seen_i);
	case 'S':
		return qrec_once(&st->seen_s);
	case 'A':
		return NULL;
	case 'O':
	case 'N':
	case 'R':
		return qrec_group(st, type);
	case 'M':
		if (!st->seen_t || !st->seen_i || !st->seen_s)
			return "T, I or S record missing";
		if (st->n_rcpts == 0)
			return "no recipients";
		st->seen_m = true;
		return NULL;
	default:
		return "unknown record type";
	}
}
