#ifndef DIRMAIL_QUEUE_QUEUE_INT_H
#define DIRMAIL_QUEUE_QUEUE_INT_H

/*
 * Internal interfaces between the queue's files (and its unit test); not
 * for other modules.
 */

#include <stdbool.h>
#include <stddef.h>

#include "queue/queue.h"

/* The fixed-size first line: "DMQ1 " 20 digits " " 20 digits "\n". */
#define QF_MAGIC	"DMQ1 "
#define QF_HEADER_LEN	47
/* The end record, after the content. */
#define QF_END		"E0:\n"
#define QF_END_LEN	4

/*
 * The record grammar, shared by the writer and the reader so that both
 * check the same order: T, I, S once each and A any number of times, in
 * any order, outside recipient groups; a recipient group is O? N? R; M
 * ends the envelope and needs T, I, S and at least one recipient.
 */
struct qrec_state {
	bool seen_t, seen_i, seen_s, seen_m;
	int group;		/* 0 none, 1 after O, 2 after N */
	size_t n_rcpts;
};

/* Check that a record of TYPE may come next and advance; NULL or why not. */
const char *qrec_next(struct qrec_state *st, char type);

/*
 * Parse exactly LEN decimal digits at S into *VAL; false if S holds
 * anything else or the value overflows.
 */
bool queue_digits(const char *s, size_t len, unsigned long long *val);

/*
 * Parse an arrival time "seconds[.microseconds]" (six digits after the
 * dot) of LEN bytes into *ARRIVAL; false if malformed.
 */
bool queue_arrival_parse(const char *s, size_t len, double *arrival);

/*
 * Make a new queue id in ID (QUEUE_ID_MAX + 1 bytes): seconds,
 * microseconds and a per-process counter, upper-case hex.
 */
void queue_id_new(char *id);


/*
 * Flush QF, append the end record and patch the header.  Returns the
 * file's error (0 when it is ready to be made durable).
 */
int queue_file_finish(struct queue_file *qf);

/* The open descriptor of QF (the committer closes it; tests break it). */
int queue_file_fd(const struct queue_file *qf);

/* New files are anonymous (O_TMPFILE) when possible: true by default;
   a test hook. */
extern bool queue_tmpfile_wanted;

/* The directory QF lives in, its temporary and its final path (the
   temporary path is NULL for an anonymous file: it has no name until
   it is committed). */
const char *queue_file_dir(const struct queue_file *qf);
const char *queue_file_tmp_path(const struct queue_file *qf);
const char *queue_file_path(const struct queue_file *qf);

/* Free QF without touching the file; closes the descriptor if open. */
void queue_file_release(struct queue_file **qf);

/* Mark the descriptor of QF as closed by someone else. */
void queue_file_forget_fd(struct queue_file *qf);

/* The number of directory fsyncs QC has done (for tests). */
unsigned long long queue_committer_dir_syncs(struct queue_committer *qc);

#endif
