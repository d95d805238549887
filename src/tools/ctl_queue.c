/*
 * dirmailctl queue: look at and change the mail queue, like Postfix's
 * postqueue -p, postcat -q and postsuper -d/-h/-H.
 *
 *	dirmailctl queue list
 *	dirmailctl queue show ID
 *	dirmailctl queue flush
 *	dirmailctl queue delete|hold|release|requeue ID...|ALL
 *
 * Every argument naming a message must be a queue id (12 to 32 upper-case
 * hex digits) or ALL, so no argument can name a path outside the queue.
 */

#include "config.h"

#include <sys/types.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "global/params.h"
#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/tabescape.h"
#include "lib/xalloc.h"
#include "queue/queue.h"
#include "tools/ctl.h"

#define QUEUE_USAGE \
	"usage: dirmailctl queue list\n" \
	"       dirmailctl queue show ID\n" \
	"       dirmailctl queue flush\n" \
	"       dirmailctl queue delete|hold|release|requeue ID...|ALL\n"

/* The subdirectories that hold messages, in listing order. */
static const char *const queue_subdirs[] = {
	QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD, NULL
};

/* What delete, hold, release and requeue do to one message. */
enum queue_op { OP_DELETE, OP_HOLD, OP_RELEASE, OP_REQUEUE };

/* Print the usage of "queue" and return the usage exit status. */
static int
queue_usage(void)
{
	fputs(QUEUE_USAGE, stderr);
	return CTL_EX_USAGE;
}

/* The configured queue_directory (allocated), or NULL after an error. */
static char *
queue_dir_get(const struct ctl_ctx *ctx)
{
	struct cfg *cfg;
	char *error, *dir;

	if (dirmail_config_load(ctx->config_path, ctx->overrides, &cfg,
	    &error) < 0) {
		log_error("%s", error);
		free(error);
		return NULL;
	}
	dir = xstrdup(cfg_str(cfg, "queue_directory"));
	cfg_free(&cfg);
	return dir;
}

/* scandir() filter: names that are queue ids (dot files never are). */
static int
is_queue_name(const struct dirent *d)
{
	return queue_id_valid(d->d_name, strlen(d->d_name));
}

/*
 * The queue ids in QDIR/SUB, sorted: the number, with the names in
 * *NAMES_R (free each and the array), or -1 when the directory cannot be
 * read (a missing one counts as empty).
 */
static int
subdir_scan(const char *qdir, const char *sub, struct dirent ***names_r)
{
	char *path = xasprintf("%s/%s", qdir, sub);
	int n;

	*names_r = NULL;
	n = scandir(path, names_r, is_queue_name, alphasort);
	if (n < 0 && errno == ENOENT)
		n = 0;
	else if (n < 0)
		log_error("%s: %s", path, strerror(errno));
	free(path);
	return n;
}

/* Free the N entries of NAMES and the array. */
static void
names_free(struct dirent **names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Format ARRIVAL as "%a %b %e %H:%M:%S" (and the year when YEAR). */
static void
format_time(double arrival, bool year, char *buf, size_t size)
{
	time_t t = (time_t)arrival;
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, year ? "%a %b %e %H:%M:%S %Y" :
	    "%a %b %e %H:%M:%S", &tm) == 0)
		snprintf(buf, size, "?");
}

/*
 * The reasons of the deferred recipients of message ID from defer/ID
 * (qmgr writes "R TAB address TAB dsn TAB reason" lines): a vector of
 * address, reason pairs, NULL-terminated, or NULL when there are none.
 */
static char **
defer_reasons(const char *qdir, const char *id)
{
	char *path = xasprintf("%s/%s/%s", qdir, QUEUE_DEFER, id), **f;
	char *line = NULL, **v = NULL;
	size_t cap = 0, n = 0, nf;
	ssize_t len;
	FILE *fp = fopen(path, "re");

	free(path);
	if (fp == NULL)
		return NULL;
	while ((len = getline(&line, &cap, fp)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		f = tab_split(line, &nf);
		if (nf == 4 && strcmp(f[0], "R") == 0) {
			v = xreallocarray(v, n + 3, sizeof(*v));
			v[n++] = xstrdup(f[1]);
			v[n++] = xstrdup(f[3]);
			v[n] = NULL;
		}
		free(f);
	}
	free(line);
	fclose(fp);
	return v;
}

/* The deferral reason of FINAL in REASONS, or NULL. */
static const char *
reason_of(char **reasons, const char *final)
{
	size_t i;

	for (i = 0; reasons != NULL && reasons[i] != NULL; i += 2)
		if (strcmp(reasons[i], final) == 0)
			return reasons[i + 1];
	return NULL;
}

/*
 * Print the postqueue -p entry of ENV with STATUS (' ', '*' or '!'):
 * the recipients not done yet, each deferred one below its reason.
 */
static void
list_entry(const char *qdir, const struct queue_envelope *env, char status)
{
	char when[64], **reasons = defer_reasons(qdir, env->id);
	const char *why;
	size_t i;

	format_time(env->arrival, false, when, sizeof(when));
	printf("%-11s%c%8llu %-20s %s\n", env->id, status,
	    env->content_length, when,
	    *env->sender == '\0' ? "MAILER-DAEMON" : env->sender);
	for (i = 0; i < env->n_rcpts; i++) {
		if (env->rcpts[i].done)
			continue;
		if ((why = reason_of(reasons, env->rcpts[i].final)) != NULL)
			printf("(%s)\n", why);
		printf("%41s%s\n", "", env->rcpts[i].final);
	}
	strv_free(&reasons);
}

/* The status character of a message in SUB. */
static char
sub_status(const char *sub)
{
	if (strcmp(sub, QUEUE_ACTIVE) == 0)
		return '*';
	if (strcmp(sub, QUEUE_HOLD) == 0)
		return '!';
	return ' ';
}

/* The running totals of a listing. */
struct list_state {
	unsigned count;			/* messages listed */
	unsigned long long bytes;	/* their content sizes */
	bool header;			/* the header line is out */
};

/* Print the header line before the first entry, and a blank line between
   entries. */
static void
list_separate(struct list_state *st)
{
	if (!st->header)
		printf("-Queue ID-  --Size-- ----Arrival Time---- "
		    "-Sender/Recipient-------\n");
	else
		putchar('\n');
	st->header = true;
}

/*
 * List the messages of QDIR/SUB, adding their count and size to ST.  -1
 * when the directory cannot be read.
 */
static int
list_subdir(const char *qdir, const char *sub, struct list_state *st)
{
	struct queue_envelope *env;
	struct dirent **names;
	char *path, *error;
	int i, n;

	if ((n = subdir_scan(qdir, sub, &names)) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		path = xasprintf("%s/%s/%s", qdir, sub, names[i]->d_name);
		list_separate(st);
		if (queue_envelope_read(path, &env, &error) < 0) {
			fflush(stdout);
			log_warning("%s: damaged queue file: %s", path, error);
			printf("%-11s%c%8s %-20s %s\n", names[i]->d_name,
			    sub_status(sub), "?", "?", "(damaged)");
			free(error);
		} else {
			list_entry(qdir, env, sub_status(sub));
			st->count++;
			st->bytes += env->content_length;
			queue_envelope_free(&env);
		}
		free(path);
	}
	names_free(names, n);
	return 0;
}

/* dirmailctl queue list: the postqueue -p listing. */
static int
queue_list(const char *qdir)
{
	struct list_state st = { 0, 0, false };
	int i, ret = 0;

	for (i = 0; queue_subdirs[i] != NULL; i++) {
		if (list_subdir(qdir, queue_subdirs[i], &st) < 0)
			ret = 1;
	}
	if (!st.header)
		printf("Mail queue is empty\n");
	else
		printf("\n-- %llu Kbytes in %u Request%s.\n",
		    st.bytes / 1024, st.count, st.count == 1 ? "" : "s");
	return ret;
}

/*
 * Find message ID in the queue: its subdirectory name (static), or NULL
 * when no such file exists.
 */
static const char *
queue_find(const char *qdir, const char *id)
{
	char *path;
	int i, found;

	for (i = 0; queue_subdirs[i] != NULL; i++) {
		path = xasprintf("%s/%s/%s", qdir, queue_subdirs[i], id);
		found = access(path, F_OK) == 0;
		free(path);
		if (found)
			return queue_subdirs[i];
	}
	return NULL;
}

/* Print the envelope of ENV as postcat does. */
static void
show_envelope(const struct queue_envelope *env)
{
	char when[64];
	size_t i;

	format_time(env->arrival, true, when, sizeof(when));
	printf("queue_id: %s\n", env->id);
	printf("message_size: %llu\n", env->content_length);
	printf("message_arrival_time: %s\n", when);
	printf("sender: %s\n", env->sender);
	for (i = 0; env->attrs[i] != NULL; i++)
		printf("named_attribute: %s\n", env->attrs[i]);
	for (i = 0; i < env->n_rcpts; i++) {
		if (env->rcpts[i].orcpt != NULL)
			printf("original_recipient: %s\n",
			    env->rcpts[i].orcpt);
		if (env->rcpts[i].notify != NULL)
			printf("notify_flags: %s\n", env->rcpts[i].notify);
		printf("%s: %s\n", env->rcpts[i].done ? "done_recipient" :
		    "recipient", env->rcpts[i].final);
	}
}

/* Copy the content of ENV from PATH to standard output.  0 or -1. */
static int
show_content(const char *path, const struct queue_envelope *env)
{
	unsigned long long off = env->content_offset, left;
	char buf[65536];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	for (left = env->content_length; left > 0; left -= (size_t)n) {
		n = pread(fd, buf, left < sizeof(buf) ? left : sizeof(buf),
		    (off_t)off);
		if (n <= 0) {
			log_error("%s: %s", path, n < 0 ? strerror(errno) :
			    "short file");
			close(fd);
			return -1;
		}
		fwrite(buf, 1, (size_t)n, stdout);
		off += (size_t)n;
	}
	close(fd);
	return 0;
}

/* dirmailctl queue show ID: the postcat -q output. */
static int
queue_show(const char *qdir, const char *id)
{
	struct queue_envelope *env;
	const char *sub;
	char *path, *error;
	int ret = 0;

	if ((sub = queue_find(qdir, id)) == NULL) {
		log_error("%s: no such message in the queue", id);
		return 1;
	}
	path = xasprintf("%s/%s/%s", qdir, sub, id);
	if (queue_envelope_read(path, &env, &error) < 0) {
		log_error("%s: %s", path, error);
		free(error);
		free(path);
		return 1;
	}
	printf("*** ENVELOPE RECORDS %s/%s ***\n", sub, id);
	show_envelope(env);
	printf("*** MESSAGE CONTENTS %s/%s ***\n", sub, id);
	fflush(stdout);
	if (show_content(path, env) < 0)
		ret = 1;
	printf("*** MESSAGE FILE END %s/%s ***\n", sub, id);
	queue_envelope_free(&env);
	free(path);
	return ret;
}

/*
 * Apply OP to message ID in QDIR/SUB: 1 when done, 0 when OP does not
 * apply there (hold of a held message, release of one not held), -1 on
 * error.
 */
static int
op_one(const char *qdir, const char *sub, const char *id, enum queue_op op)
{
	char *from, *to = NULL;
	int ret = 1;

	static const char *const done[] = {
		"removed", "placed on hold", "released from hold", "requeued"
	};

	/* Requeue (postsuper -r) leaves incoming/ alone and active/ to
	   qmgr, which owns what is there. */
	if ((op == OP_HOLD && strcmp(sub, QUEUE_HOLD) == 0) ||
	    (op == OP_RELEASE && strcmp(sub, QUEUE_HOLD) != 0) ||
	    (op == OP_REQUEUE && strcmp(sub, QUEUE_HOLD) != 0 &&
	    strcmp(sub, QUEUE_DEFERRED) != 0))
		return 0;
	from = xasprintf("%s/%s/%s", qdir, sub, id);
	if (op != OP_DELETE)
		to = xasprintf("%s/%s/%s", qdir, op == OP_HOLD ? QUEUE_HOLD :
		    QUEUE_INCOMING, id);
	if (op == OP_DELETE ? unlink(from) : rename(from, to)) {
		log_error("%s: %s", from, strerror(errno));
		ret = -1;
	} else
		log_info("%s: %s", id, done[op]);
	if (ret > 0 && op == OP_DELETE) {
		free(from);
		from = xasprintf("%s/%s/%s", qdir, QUEUE_DEFER, id);
		(void)unlink(from);
	}
	free(from);
	free(to);
	return ret;
}

/* Apply OP to every message of the queue; add the count to *DONE. */
static int
op_all(const char *qdir, enum queue_op op, unsigned *done)
{
	struct dirent **names;
	int i, j, n, r, ret = 0;

	for (i = 0; queue_subdirs[i] != NULL; i++) {
		if ((n = subdir_scan(qdir, queue_subdirs[i], &names)) < 0) {
			ret = 1;
			continue;
		}
		for (j = 0; j < n; j++) {
			r = op_one(qdir, queue_subdirs[i], names[j]->d_name,
			    op);
			if (r < 0)
				ret = 1;
			else
				*done += (unsigned)r;
		}
		names_free(names, n);
	}
	return ret;
}

/* Apply OP to the messages named by the N ids of IDS. */
static int
op_ids(const char *qdir, char **ids, int n, enum queue_op op,
    unsigned *done)
{
	const char *sub;
	int i, r, ret = 0;

	for (i = 0; i < n; i++) {
		if ((sub = queue_find(qdir, ids[i])) == NULL) {
			log_error("%s: no such message in the queue", ids[i]);
			ret = 1;
			continue;
		}
		if ((r = op_one(qdir, sub, ids[i], op)) < 0)
			ret = 1;
		else
			*done += (unsigned)r;
	}
	return ret;
}

/* dirmailctl queue delete|hold|release ID...|ALL. */
static int
queue_change(const char *qdir, char **ids, int n, enum queue_op op)
{
	static const char *const what[] = {
		"Deleted", "Placed on hold", "Released from hold", "Requeued"
	};
	unsigned done = 0;
	int ret;

	if (n == 1 && strcmp(ids[0], "ALL") == 0)
		ret = op_all(qdir, op, &done);
	else
		ret = op_ids(qdir, ids, n, op, &done);
	if ((op == OP_RELEASE || op == OP_REQUEUE) && done > 0)
		queue_notify(qdir);
	log_info("%s: %u message%s", what[op], done, done == 1 ? "" : "s");
	return ret;
}

/*
 * dirmailctl queue flush (postqueue -f): write "F" to qmgr's FIFO, which
 * makes every deferred message due now.
 */
static int
queue_flush(const char *qdir)
{
	char *path = xasprintf("%s/%s", qdir, QUEUE_QMGR_FIFO);
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0 || write(fd, "F", 1) != 1) {
		log_error("cannot wake the queue manager (%s): %s", path,
		    errno == ENXIO ? "qmgr is not running" : strerror(errno));
		if (fd >= 0)
			close(fd);
		free(path);
		return 1;
	}
	close(fd);
	free(path);
	return 0;
}

/* Check that every one of the N arguments ARGS is a queue id or ALL. */
static bool
ids_valid(char **args, int n)
{
	int i;

	if (n < 1)
		return false;
	if (n == 1 && strcmp(args[0], "ALL") == 0)
		return true;
	for (i = 0; i < n; i++) {
		if (!queue_id_valid(args[i], strlen(args[i]))) {
			log_error("%s: not a queue id", args[i]);
			return false;
		}
	}
	return true;
}

/* Run sub-command ARGV[0] of "queue" on the queue directory QDIR. */
static int
queue_dispatch(const char *qdir, int argc, char **argv)
{
	static const struct {
		const char *name;
		enum queue_op op;
	} ops[] = {
		{ "delete", OP_DELETE },
		{ "hold", OP_HOLD },
		{ "release", OP_RELEASE },
		{ "requeue", OP_REQUEUE },
	};
	size_t i;

	if (strcmp(argv[0], "list") == 0 && argc == 1)
		return queue_list(qdir);
	if (strcmp(argv[0], "flush") == 0 && argc == 1)
		return queue_flush(qdir);
	if (strcmp(argv[0], "show") == 0 && argc == 2)
		return ids_valid(argv + 1, 1) && strcmp(argv[1], "ALL") != 0 ?
		    queue_show(qdir, argv[1]) : queue_usage();
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(argv[0], ops[i].name) == 0)
			return ids_valid(argv + 1, argc - 1) ?
			    queue_change(qdir, argv + 1, argc - 1, ops[i].op) :
			    queue_usage();
	}
	return queue_usage();
}

int
ctl_queue_main(const struct ctl_ctx *ctx, int argc, char **argv)
{
	char *qdir;
	int ret;

	if (argc < 2)
		return queue_usage();
	if ((qdir = queue_dir_get(ctx)) == NULL)
		return 1;
	ret = queue_dispatch(qdir, argc - 1, argv + 1);
	free(qdir);
	return ret;
}
