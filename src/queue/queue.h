#ifndef DIRMAIL_QUEUE_QUEUE_H
#define DIRMAIL_QUEUE_QUEUE_H

/*
 * The mail queue: one file per message under queue_directory, written by
 * smtpd and read by qmgr and the tools.  doc/queue-format.md describes the
 * file format (version 1).
 *
 * Writing happens in the event-loop thread: queue_file_create(), the
 * record functions and queue_file_write() do plain buffered write(2)s.
 * The slow part, making the file durable (fsync of the file, rename into
 * place, fsync of the directory), runs on the worker threads of a
 * queue_committer, which group-commits the directory fsyncs and reports
 * back in the loop thread.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct event_base;
struct queue_file;		/* one message being written */
struct queue_committer;		/* the group-commit workers */

/* The subdirectories of queue_directory. */
#define QUEUE_INCOMING	"incoming"
#define QUEUE_ACTIVE	"active"
#define QUEUE_DEFERRED	"deferred"
#define QUEUE_HOLD	"hold"
#define QUEUE_CORRUPT	"corrupt"
#define QUEUE_BOUNCE	"bounce"
#define QUEUE_DEFER	"defer"		/* per-message deferral reasons */
#define QUEUE_PUBLIC	"public"
#define QUEUE_PRIVATE	"private"	/* the delivery agents' sockets */
#define QUEUE_SPARE	"spare"		/* retired files, to be reused */
#define QUEUE_SPARE_SLOTS 4096		/* names in spare/: 0 to 4095 */
#define QUEUE_SPARE_KEEP (16 * 1024)	/* larger spares are emptied */
/* The qmgr wake-up FIFO, relative to queue_directory. */
#define QUEUE_QMGR_FIFO	"public/qmgr"

/* The longest queue id, without the NUL. */
#define QUEUE_ID_MAX	32

/*
 * Create QUEUE_DIR (mode 0711) and its subdirectories (incoming active
 * deferred hold corrupt bounce defer private spare public) when missing, mode
 * 0700 (public 0710), owned by UID/GID when running as root ((uid_t)-1: leave).  Also
 * creates the wake-up FIFO public/qmgr (mode 0620).  Existing entries keep
 * their mode; a subdirectory that is not a directory (a symbolic link, a
 * file) is an error.  0, or -1 with *ERROR_R (free it).
 */
int queue_dirs_create(const char *queue_dir, uid_t uid, gid_t gid,
    char **error_r);

/*
 * Start a new queue file in QUEUE_DIR/incoming under the temporary name
 * ".ID", with a fresh unique id (upper-case hex, 18 characters: seconds,
 * microseconds and a per-process counter mixed with the pid; created with
 * O_EXCL and retried on a clash).  The file starts with its header and the
 * I (queue id) record: callers never write that one.  0 with *QF_R, or -1
 * with *ERROR_R (free it).
 */
int queue_file_create(const char *queue_dir, struct queue_file **qf_r,
    char **error_r);

/*
 * Start a new queue file as queue_file_create() does, but in the retired
 * file SPARE (QUEUE_DIR/spare/N), which is renamed to incoming/.ID; its
 * old content is overwritten and cut at the end.  0 with *QF_R; 1 when
 * SPARE cannot be used (another process took it first, or it is not a
 * plain file of ours with one link: then it is removed); -1 on error.
 */
int queue_file_reuse(const char *queue_dir, const char *spare,
    struct queue_file **qf_r);

/*
 * Remove the queue file PATH, finished with: it becomes a spare
 * (QUEUE_DIR/spare/N) for queue_file_reuse() when a name is free there,
 * else it is unlinked.  Either way PATH is gone from its directory, which
 * the caller fsyncs.  FD (or -1), open on PATH, lets a spare larger than
 * QUEUE_SPARE_KEEP be emptied first.  Reusing files spares the file
 * system an inode allocation and release per message.  Call from one
 * thread only.  0, or -1 with errno (ENOENT: PATH was not there).
 */
int queue_file_retire(const char *queue_dir, const char *path, int fd);

/*
 * A pool of up to MAX queue files made ahead of need by a worker thread,
 * retired ones reused first (queue_file_reuse()), else created in
 * QUEUE_DIR/incoming, so that taking one does not wait on the file
 * system.  Use it from BASE's loop thread only.
 */
struct queue_spares;
struct queue_spares *queue_spares_new(struct event_base *base,
    const char *queue_dir, unsigned max);
/* A new queue file, as queue_file_create() makes it: a spare when one is
   ready, else made now.  0, or -1 with *ERROR_R. */
int queue_spares_take(struct queue_spares *sp, struct queue_file **qf_r,
    char **error_r);
/* Remove the spares and free the pool.  NULLs *SP. */
void queue_spares_free(struct queue_spares **sp);

/* True when the LEN bytes at ID are a queue id (12 to QUEUE_ID_MAX
   upper-case hex digits): the one rule for names and arguments. */
bool queue_id_valid(const char *id, size_t len);

/* The queue id of QF; valid until QF is freed, aborted or committed. */
const char *queue_file_id(const struct queue_file *qf);

/*
 * Append an envelope record (before queue_file_begin_content()): TYPE is
 * 'T' (arrival time "seconds.microseconds", once), 'S' (sender, internal
 * form, "" for <>, once), 'A' (attribute), or 'O', 'N', 'R' (a recipient
 * group; queue_file_recipient() is simpler).  DATA may hold any byte but
 * NUL.  A record out of order (see the format), a second T or S, a
 * malformed T, an unknown type or a NUL sets the file's error to EINVAL
 * and logs the bug: the commit then fails.
 */
void queue_file_record(struct queue_file *qf, char type, const char *data,
    size_t len);

/* Append the attribute record "NAME=VALUE". */
void queue_file_attr(struct queue_file *qf, const char *name,
    const char *value);

/*
 * Append one recipient group: ORCPT (NULL: not written), NOTIFY (NULL: not
 * written), FINAL.
 */
void queue_file_recipient(struct queue_file *qf, const char *orcpt,
    const char *notify, const char *final);

/*
 * End the envelope and start the content.  The envelope must hold the
 * arrival time, the sender and at least one recipient (otherwise the error becomes EINVAL).
 */
void queue_file_begin_content(struct queue_file *qf);

/* Append content bytes (buffered, written in large chunks). */
void queue_file_write(struct queue_file *qf, const void *data, size_t len);

/* The number of content bytes so far. */
unsigned long long queue_file_size(const struct queue_file *qf);

/*
 * The first write error so far (an errno value, e.g. ENOSPC) or 0; writes
 * after an error are dropped.
 */
int queue_file_error(const struct queue_file *qf);

/* Remove the temporary file and free QF.  NULLs *QF; NULL is a no-op. */
void queue_file_abort(struct queue_file **qf);

/*
 * The result of a commit, called in the loop thread: STATUS 0 and ERROR
 * NULL when the file is durable under its final name, STATUS -1 and a
 * reason otherwise (valid during the call only).
 */
typedef void queue_commit_cb(int status, const char *error, void *ctx);

/*
 * Start THREADS worker threads (0: 4) that commit files, and watch their
 * completions from BASE.  The workers block every signal.  Call it after
 * any fork (threads do not survive one).  Never returns NULL (failure to
 * create a thread or a pipe is fatal).  Only the loop thread of BASE may
 * call the functions below.
 */
struct queue_committer *queue_committer_new(struct event_base *base,
    unsigned threads);

/*
 * Let the workers finish every job already handed to them (the files are
 * committed), stop them and free QC.  The callbacks of jobs that have not
 * been reported yet are not called.  NULLs *QC; NULL is a no-op.
 */
void queue_committer_free(struct queue_committer **qc);

/*
 * Finish *QF (flush, end record, patch the header) and hand it to the
 * workers, which fsync it, rename it to incoming/ID and fsync incoming/
 * (one directory fsync for all the renames done before it started).  *QF
 * is taken (NULLed).  CB(0, NULL, CTX) runs in the loop, never before this
 * function returns, once the file is durable under its final name;
 * CB(-1, "reason", CTX) when any step failed, including an earlier write
 * error (the file is removed; queue_committer_errno() tells ENOSPC from
 * EIO so the caller can pick 452 or 451).
 */
void queue_file_commit(struct queue_committer *qc, struct queue_file **qf,
    queue_commit_cb *cb, void *ctx);

/*
 * The blocking equivalent of queue_file_commit(), in the caller's thread:
 * finish *QF, fsync it, give it its name incoming/ID and fsync incoming/.
 * *QF is taken (NULLed).  0 once the file is durable, or -1 with *ERROR_R
 * (free it) after removing the file.
 */
int queue_file_commit_sync(struct queue_file **qf, char **error_r);

/*
 * Forget the callbacks of every commit with context CTX (a session that
 * goes away before its callback): the files still commit and are kept,
 * the callbacks are not called.
 */
void queue_commit_cancel(struct queue_committer *qc, void *ctx);

/*
 * Inside a commit callback with status -1: the errno value of the step
 * that failed (ENOSPC, EDQUOT, EIO, EINVAL for a malformed envelope...).
 * 0 elsewhere.
 */
int queue_committer_errno(const struct queue_committer *qc);

/*
 * Is there room for a message of SIZE bytes: statvfs free space (for
 * unprivileged users) >= SIZE + MINFREE?  1 yes, 0 no, -1 statvfs failed
 * (*ERROR_R static).
 */
int queue_space_ok(const char *queue_dir, unsigned long long size,
    unsigned long long minfree, const char **error_r);

/*
 * Tell qmgr a new file is in incoming/: write one byte to public/qmgr,
 * non-blocking; no reader, a full pipe or a missing FIFO is not an error.
 */
void queue_notify(const char *queue_dir);

/* Reading, for qmgr and tools. */
struct queue_rcpt {
	char *orcpt;		/* NULL when not written */
	char *notify;		/* NULL when not written */
	char *final;
	bool done;		/* a D record: delivered or bounced, never
				   to be delivered again */
	unsigned long long offset;	/* of the R/D record's type byte */
};

struct queue_envelope {
	char *id;
	char *sender;		/* "" for <> */
	double arrival;		/* seconds since the epoch */
	char **attrs;		/* "name=value", NULL-terminated */
	struct queue_rcpt *rcpts;
	size_t n_rcpts;
	/* Where the message is: pread() these bytes of the file. */
	unsigned long long content_offset, content_length;
};

/*
 * Read and check the envelope of PATH: header, every record, the order,
 * the end record and the file size.  0 with *ENV_R (free it with
 * queue_envelope_free()), or -1 with *ERROR_R (free it) for a missing,
 * incomplete or damaged file.
 */
int queue_envelope_read(const char *path, struct queue_envelope **env_r,
    char **error_r);

/*
 * Mark recipient RCPT of the queue file open read-write as FD done: its R
 * record becomes a D record (one byte written in place; the length does
 * not change).  The caller fsyncs FD before it acts on the change (a
 * batch of marks may share one fsync).  Marking a done recipient again is
 * a no-op.  0, or -1 with *ERROR_R (free it).
 */
int queue_rcpt_mark_done(int fd, const struct queue_rcpt *rcpt,
    char **error_r);

/* Free ENV.  NULLs *ENV; NULL is a no-op. */
void queue_envelope_free(struct queue_envelope **env);

/* The value of attribute NAME (the first one), or NULL. */
const char *queue_envelope_attr(const struct queue_envelope *env,
    const char *name);

#endif
