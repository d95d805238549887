/*
 * sendmail(1), mailq(1) and newaliases(1), with Postfix's semantics:
 *
 *	sendmail [-t] [-i|-oi] [-f sender] [-F name] [-v] [--] [rcpt...]
 *	sendmail -bs | -bp | -bi | -q
 *	mailq			(= sendmail -bp)
 *	newaliases		(= sendmail -bi)
 *
 * Messages go to smtpd over the local pickup socket (the first
 * pickup_listen entry), which learns the submitter's uid from the kernel.
 * Exit statuses are those of sysexits(3).
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "global/params.h"
#include "lib/cfg.h"
#include "lib/fdio.h"
#include "lib/listen.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "maps/aliases.h"
#include "maps/maps.h"
#include "queue/queue.h"
#include "tools/ctl.h"
#include "tools/sendmail.h"

/* What the command was asked to do. */
enum mode { M_SUBMIT, M_SMTP, M_QUEUE, M_ALIASES, M_FLUSH };

/* Everything the options say. */
struct args {
	enum mode mode;
	const char *config;	/* -c / -C */
	const char *sender;	/* -f / -r, or NULL */
	struct sendmail_opts opts;
};

/* Print the usage message and return EX_USAGE. */
static int
usage(void)
{
	fprintf(stderr, "usage: sendmail [-t] [-i] [-f sender] [-F name] "
	    "[-c config] [-v] [--] [recipient...]\n"
	    "       sendmail -bs | -bp | -bi | -q\n");
	return EX_USAGE;
}

/* -bX: the mode X.  False for a mode we do not offer. */
static bool
mode_option(struct args *a, const char *arg)
{
	static const struct {
		const char *name;
		enum mode mode;
	} modes[] = {
		{ "m", M_SUBMIT }, { "s", M_SMTP }, { "p", M_QUEUE },
		{ "i", M_ALIASES },
	};
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(arg, modes[i].name) == 0) {
			a->mode = modes[i].mode;
			return true;
		}
	}
	log_error("unsupported option: -b%s", arg);
	return false;
}

/* Handle one option CH with argument ARG.  False for a bad one. */
static bool
one_option(struct args *a, int ch, const char *arg)
{
	switch (ch) {
	case 'b':
		return mode_option(a, arg);
	case 'c':
	case 'C':
		a->config = arg;
		return true;
	case 'F':
		a->opts.fullname = arg;
		return true;
	case 'f':
	case 'r':
		a->sender = arg;
		return true;
	case 'i':
		a->opts.ignore_dots = true;
		return true;
	case 'o':
		/* Only -oi means anything here; other -oX are sendmail
		   options that do not apply, ignored as Postfix does. */
		if (strcmp(arg, "i") == 0)
			a->opts.ignore_dots = true;
		return true;
	case 'q':
		a->mode = M_FLUSH;
		return true;
	case 't':
		a->opts.extract = true;
		return true;
	case 'v':
		a->opts.verbose = true;
		return true;
	case 'B': case 'h': case 'L': case 'm': case 'N': case 'n':
	case 'O': case 'p': case 'R': case 'U': case 'V': case 'X':
		return true;	/* accepted for compatibility, no effect */
	default:
		return false;
	}
}

/* Parse the command line into A.  0, or an exit status. */
static int
parse_args(struct args *a, int argc, char **argv)
{
	const char *name = basename(argv[0]);
	int ch;

	if (strcmp(name, "mailq") == 0)
		a->mode = M_QUEUE;
	else if (strcmp(name, "newaliases") == 0)
		a->mode = M_ALIASES;
	while ((ch = getopt(argc, argv,
	    "B:b:C:c:F:f:h:iL:mN:nO:o:p:q::R:r:tUV:vX:")) != -1)
		if (!one_option(a, ch, optarg))
			return usage();
	a->opts.rcpts = argv + optind;
	if (a->mode != M_SUBMIT && argv[optind] != NULL) {
		log_error("recipients make no sense with this option");
		return usage();
	}
	return 0;
}

/* The path of the first entry of the listener list PARAM, which must be
   a unix: socket.  Allocated, or NULL after logging why. */
static char *
socket_path(const struct cfg *cfg, const char *param)
{
	char *const *list = cfg_list(cfg, param);
	struct listen_spec spec;
	const char *why;
	char *path;

	if (list[0] == NULL) {
		log_error("%s is empty: there is no socket", param);
		return NULL;
	}
	if (listen_parse(list[0], &spec, &why) < 0) {
		log_error("%s: %s: %s", param, list[0], why);
		return NULL;
	}
	if (spec.type != LISTEN_UNIX) {
		log_error("%s: %s: not a unix: socket", param, list[0]);
		listen_spec_clear(&spec);
		return NULL;
	}
	path = xstrdup(spec.path);
	listen_spec_clear(&spec);
	return path;
}

/* The pickup socket's path: the first pickup_listen entry. */
static char *
pickup_path(const struct cfg *cfg)
{
	return socket_path(cfg, "pickup_listen");
}

/* The envelope sender: -f, or the real uid's login @myorigin.
   Allocated, or NULL after logging why. */
static char *
sender_of(const char *given, const char *myorigin)
{
	struct passwd *pw;
	size_t len;

	if (given != NULL) {
		len = strlen(given);
		/* "-f <x>" is "-f x"; "-f ''" and "-f '<>'" are <>. */
		if (len >= 2 && given[0] == '<' && given[len - 1] == '>') {
			given++;
			len -= 2;
		}
		if (len == 0 || memchr(given, '@', len) != NULL)
			return xstrndup(given, len);
		return xasprintf("%.*s@%s", (int)len, given, myorigin);
	}
	if ((pw = getpwuid(getuid())) == NULL) {
		log_error("no login name found for user ID %lu",
		    (unsigned long)getuid());
		return NULL;
	}
	return xasprintf("%s@%s", pw->pw_name, myorigin);
}

/* May the caller read the queue: root or dirmail_user? */
static bool
queue_reader(const struct cfg *cfg)
{
	const char *user = cfg_str(cfg, "dirmail_user");
	struct passwd *pw;

	if (getuid() == 0)
		return true;
	pw = getpwnam(user);
	return pw != NULL && pw->pw_uid == getuid();
}

/* Others than root and dirmail_user: ask showq, which runs as
   dirmail_user, through the first showq_listen socket. */
static int
list_queue_showq(const struct cfg *cfg)
{
	char *path = socket_path(cfg, "showq_listen"), buf[8192];
	ssize_t n;
	int fd;

	if (path == NULL)
		return EX_UNAVAILABLE;
	if ((fd = sendmail_connect(path)) < 0) {
		log_error("cannot ask for the queue listing (%s): %s: mail "
		    "system is down", path, strerror(errno));
		free(path);
		return EX_UNAVAILABLE;
	}
	free(path);
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 &&
	    errno == EINTR))
		if (n > 0 && fd_write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
			break;
	close(fd);
	return n == 0 ? EX_OK : EX_IOERR;
}

/* -bp, mailq: the queue listing of dirmailctl queue list. */
static int
list_queue(const struct args *a, const struct cfg *cfg)
{
	struct ctl_ctx ctx = { a->config, NULL };
	char *argv[] = { "queue", "list", NULL };
	char *none[] = { NULL };

	if (!queue_reader(cfg))
		return list_queue_showq(cfg);
	ctx.overrides = none;
	optind = 1;
	return ctl_queue_main(&ctx, 2, argv) == 0 ? EX_OK : EX_UNAVAILABLE;
}

/* Build one alias_database table SPEC.  0, or -1 after logging. */
static int
build_aliases(const char *spec)
{
	const char *colon = strchr(spec, ':'), *path = spec;
	char *error;

	if (colon != NULL) {
		if (strncmp(spec, "texthash:", 9) == 0)
			return 0;	/* read as it is: nothing to build */
		if ((path = map_spec_lmdb_file(spec)) == NULL) {
			log_error("%s: unsupported alias database type; "
			    "use lmdb:", spec);
			return -1;
		}
	}
	if (aliases_build_lmdb(path, &error) < 0) {
		log_error("%s", error);
		free(error);
		return -1;
	}
	return 0;
}

/* -bi, newaliases: build every alias_database table. */
static int
rebuild_aliases(const struct cfg *cfg)
{
	char *const *list = cfg_list(cfg, "alias_database");
	int ret = EX_OK;
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (build_aliases(list[i]) < 0)
			ret = EX_CANTCREAT;
	return ret;
}

/* -q: ask qmgr to try the deferred mail now, through its wake-up FIFO. */
static int
flush_queue(const struct cfg *cfg)
{
	char *path = xasprintf("%s/%s", cfg_str(cfg, "queue_directory"),
	    QUEUE_QMGR_FIFO);
	int fd, ret = EX_OK;

	if ((fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		if (errno == EACCES)
			log_error("Permission denied: only root and %s may "
			    "flush the mail queue",
			    cfg_str(cfg, "dirmail_user"));
		else
			log_error("Cannot flush mail queue - mail system is "
			    "down (%s: %s)", path, strerror(errno));
		ret = errno == EACCES ? EX_NOPERM : EX_UNAVAILABLE;
	} else {
		if (write(fd, "F", 1) != 1) {
			log_error("%s: %s", path, strerror(errno));
			ret = EX_UNAVAILABLE;
		}
		close(fd);
	}
	free(path);
	return ret;
}

/* Submit (default) or relay (-bs) through the pickup socket. */
static int
submit(struct args *a, const struct cfg *cfg)
{
	char *path, *sender = NULL;
	int ret = EX_CONFIG;

	if ((path = pickup_path(cfg)) == NULL)
		return EX_CONFIG;
	if (a->mode == M_SMTP)
		ret = sendmail_relay(path);
	else if ((sender = sender_of(a->sender,
	    cfg_str(cfg, "myorigin"))) != NULL) {
		a->opts.socket_path = path;
		a->opts.myorigin = cfg_str(cfg, "myorigin");
		a->opts.sender = sender;
		ret = sendmail_submit(&a->opts);
	} else
		ret = EX_OSERR;
	free(sender);
	free(path);
	return ret;
}

int
main(int argc, char **argv)
{
	struct args a = { .mode = M_SUBMIT };
	struct cfg *cfg;
	char *error;
	int ret;

	log_open(basename(argv[0]), LOG_DEST_PLAIN);
	if ((ret = parse_args(&a, argc, argv)) != 0)
		return ret;
	if (dirmail_config_load(a.config, NULL, &cfg, &error) < 0) {
		log_error("%s", error);
		free(error);
		return EX_CONFIG;
	}
	switch (a.mode) {
	case M_QUEUE:
		ret = list_queue(&a, cfg);
		break;
	case M_ALIASES:
		ret = rebuild_aliases(cfg);
		break;
	case M_FLUSH:
		ret = flush_queue(cfg);
		break;
	default:
		ret = submit(&a, cfg);
		break;
	}
	cfg_free(&cfg);
	return ret;
}
