/*
 * Writing into one destination as its owner: a Maildir, an mbox file
 * (spool or home), a file named by an alias, or a command.  Each sets
 * the result and logs what it did, with the path and the uid.
 */

#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "delivery/local.h"
#include "delivery/local_id.h"
#include "delivery/maildir.h"
#include "delivery/mbox.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "maps/maps.h"

/* Tables are opened once and are not made for concurrent use. */
static pthread_mutex_t lookup_lock = PTHREAD_MUTEX_INITIALIZER;

void
local_result_set(struct local_result *r, int class, const char *dsn,
    const char *fmt, ...)
{
	va_list ap;

	r->class = class;
	snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
	free(r->text);
	va_start(ap, fmt);
	if (vasprintf(&r->text, fmt, ap) < 0)
		log_fatal("out of memory");
	va_end(ap);
}

/* How bad a class is, for merging: a deferral wins. */
static int
severity(int class)
{
	return class == 4 ? 3 : class == 5 ? 2 : class == 2 ? 1 : 0;
}

void
local_result_merge(struct local_result *r, struct local_result *src)
{
	size_t i;

	for (i = 0; i < src->n_forward; i++) {
		r->forward = xreallocarray(r->forward, r->n_forward + 2,
		    sizeof(*r->forward));
		r->forward[r->n_forward++] = src->forward[i];
		r->forward[r->n_forward] = NULL;
	}
	free(src->forward);
	src->forward = NULL;
	src->n_forward = 0;
	if (severity(src->class) > severity(r->class)) {
		free(r->text);
		*r = (struct local_result){ .class = src->class,
		    .text = src->text, .forward = r->forward,
		    .n_forward = r->n_forward };
		memcpy(r->dsn, src->dsn, sizeof(r->dsn));
		src->text = NULL;
	}
	local_result_clear(src);
}

void
local_result_clear(struct local_result *r)
{
	size_t i;

	for (i = 0; i < r->n_forward; i++)
		free(r->forward[i]);
	free(r->forward);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

int
local_lookup(struct maplist *list, const char *key, bool addr,
    char **value_r, char **error_r)
{
	const char *err = NULL;
	int ret;

	pthread_mutex_lock(&lookup_lock);
	ret = addr ? maplist_lookup_addr(list, key, false, value_r, &err) :
	    maplist_lookup(list, key, value_r, &err);
	if (ret == MAP_ERROR)
		*error_r = xstrdup(err != NULL ? err : "table lookup failed");
	pthread_mutex_unlock(&lookup_lock);
	return ret;
}

/* Become UID:GID for mailbox work; on failure set R.  0 or -1. */
static int
become(const struct local_job *job, uid_t uid, gid_t gid,
    struct local_result *r)
{
	if (local_id_become(uid, gid) == 0)
		return 0;
	log_error("%s: to=<%s>: cannot act as uid %u gid %u: %s",
	    job->queue_id, job->rcpt, (unsigned)uid, (unsigned)gid,
	    strerror(errno));
	local_result_set(r, 4, "4.3.0", "mail system configuration error: "
	    "cannot deliver as uid %u", (unsigned)uid);
	return -1;
}

/* The DSN of a failed file-system step with errno ERR. */
static const char *
fs_dsn(int err)
{
	return err == EDQUOT ? "4.2.2" : err == ENOSPC ? "4.3.1" : "4.2.0";
}

void
local_to_maildir(const struct local_job *job, const char *dir, uid_t uid,
    gid_t gid, struct local_result *r)
{
	char *prefix = local_msg_prefix(job->sender, job->rcpt);
	char *path = NULL, *error = NULL;
	int ret, err;

	if (become(job, uid, gid, r) < 0) {
		free(prefix);
		return;
	}
	ret = maildir_deliver(dir, local_set.maildir_host, prefix,
	    strlen(prefix), job->msg->data, job->msg->len, &path, &error);
	err = errno;
	local_id_restore();
	if (ret == 0) {
		log_info("%s: to=<%s>, relay=%s: delivered to maildir %s "
		    "(uid %u, gid %u)", job->queue_id, job->rcpt, job->relay,
		    path, (unsigned)uid, (unsigned)gid);
		local_result_set(r, 2, "2.0.0", "delivered to maildir");
	} else {
		log_warning("%s: to=<%s>, relay=%s: maildir delivery failed "
		    "(uid %u): %s", job->queue_id, job->rcpt, job->relay,
		    (unsigned)uid, error);
		local_result_set(r, 4, fs_dsn(err), "maildir delivery failed: "
		    "%s", error);
	}
	free(path);
	free(error);
	free(prefix);
}

/* Append to the mbox PATH with OPTS; TEXT names it in the reply. */
static void
to_mbox(const struct local_job *job, const char *path,
    const struct mbox_opts *opts, const char *what, struct local_result *r)
{
	char *prefix = local_msg_prefix(job->sender, job->rcpt);
	char *from = mbox_from_line(job->sender, time(NULL)), *error = NULL;
	int ret;

	if (become(job, opts->uid, opts->gid, r) == 0) {
		ret = mbox_deliver(path, opts, from, prefix, job->msg->data,
		    job->msg->len, &error);
		local_id_restore();
		if (ret == 0) {
			log_info("%s: to=<%s>, relay=%s: delivered to %s %s "
			    "(uid %u, gid %u)", job->queue_id, job->rcpt,
			    job->relay, what, path, (unsigned)opts->uid,
			    (unsigned)opts->gid);
			local_result_set(r, 2, "2.0.0", "delivered to %s%s%s",
			    what, strcmp(what, "file") == 0 ? ": " : "",
			    strcmp(what, "file") == 0 ? path : "");
		} else {
			log_warning("%s: to=<%s>, relay=%s: %s delivery failed "
			    "(uid %u): %s", job->queue_id, job->rcpt,
			    job->relay, what, (unsigned)opts->uid, error);
			local_result_set(r, ret == MBOX_ERR_TEMP ? 4 : 5,
			    ret == MBOX_ERR_TEMP ? "4.2.0" : "5.2.2", "%s",
			    error);
		}
	}
	free(error);
	free(from);
	free(prefix);
}

void
local_to_mbox(const struct local_job *job, const char *path, bool spool,
    uid_t uid, gid_t gid, struct local_result *r)
{
	struct mbox_opts o = {
		.fcntl_lock = local_set.fcntl_lock,
		.dotlock = local_set.dotlock,
		/* Users cannot write in a root-owned spool directory (Debian's
		   /var/mail is root:mail 2775): the lock and a new file are
		   made as root there, O_EXCL, and the file given away. */
		.dotlock_as_root = spool,
		.create_as_root = spool,
		.lock_attempts = 20,
		.size_limit = local_set.size_limit,
		.uid = uid,
		.gid = gid,
	};

	to_mbox(job, path, &o, "mailbox", r);
}

void
local_to_file(const struct local_job *job, const char *path, uid_t uid,
    gid_t gid, struct local_result *r)
{
	struct mbox_opts o = {
		.fcntl_lock = true,
		.lock_attempts = 20,
		.size_limit = local_set.size_limit,
		.uid = uid,
		.gid = gid,
	};

	if (path[strlen(path) - 1] == '/') {
		local_to_maildir(job, path, uid, gid, r);
		return;
	}
	to_mbox(job, path, &o, "file", r);
}

char *
local_strip_extension(const char *addr)
{
	const char *at = strrchr(addr, '@'), *d;
	size_t user_len = at != NULL ? (size_t)(at - addr) : strlen(addr);
	size_t cut = user_len;

	if (*local_set.delimiter == '\0')
		return NULL;
	/* The first delimiter character in the local part, not at its
	   start (Postfix's rule: "+foo" is a name, not an extension). */
	for (d = local_set.delimiter; *d != '\0'; d++) {
		const char *p = memchr(addr, *d, user_len);

		if (p != NULL && p != addr && (size_t)(p - addr) < cut)
			cut = (size_t)(p - addr);
	}
	if (cut == user_len)
		return NULL;
	return xasprintf("%.*s%s", (int)cut, addr, at != NULL ? at : "");
}
