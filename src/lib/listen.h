#ifndef DIRMAIL_LIB_LISTEN_H
#define DIRMAIL_LIB_LISTEN_H

/*
 * Listening sockets described by one line of text.  Forms:
 *
 *	PORT				every address: 0.0.0.0:PORT and
 *					[::]:PORT
 *	HOST:PORT, inet:HOST:PORT	an IPv4 address or a host name
 *					("*" is every address)
 *	[ADDR]:PORT, inet:[ADDR]:PORT	an IPv6 address
 *	unix:PATH[:MODE[:USER[:GROUP]]]	a UNIX-domain stream socket
 *
 * PORT is a number from 1 to 65535.  PATH is absolute and cannot hold a
 * colon.  MODE is octal, at most 0777, and defaults to 0666 (any local
 * user may connect; give a stricter mode for private sockets).  USER
 * and GROUP are names or numbers; without USER the socket gets the
 * caller's default owner, without GROUP the group of USER when USER is
 * given, else the caller's default group.
 *
 * The module knows nothing of mail: callers decide what each socket is
 * for.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Permissions of a UNIX-domain socket without a MODE field. */
#define LISTEN_DEFAULT_MODE	0666
/* The listen(2) backlog; the kernel may lower it (somaxconn). */
#define LISTEN_BACKLOG		511

enum listen_type {
	LISTEN_INET,
	LISTEN_UNIX,
};

struct listen_spec {
	enum listen_type type;
	char *host;		/* INET: address or name; NULL: every address */
	char *port;		/* INET: decimal port number */
	char *path;		/* UNIX: absolute path */
	mode_t mode;		/* UNIX: permissions */
	char *user;		/* UNIX: owner; NULL: the caller's default */
	char *group;		/* UNIX: group; NULL: see above */
};

/* Sockets listen_open() created for one spec. */
struct listen_fds {
	int *fds;		/* non-blocking, close-on-exec; owned */
	size_t count;
	dev_t dev;		/* UNIX: the socket file created, so that */
	ino_t ino;		/* only that file is ever removed */
};

/*
 * Parse SPEC into *R.  Returns 0, or -1 with a static reason in *ERROR_R
 * (then *R holds nothing to free).  Free a parsed spec with
 * listen_spec_clear().
 */
int listen_parse(const char *spec, struct listen_spec *r,
    const char **error_r);

/* Free the strings of SPEC and zero it. */
void listen_spec_clear(struct listen_spec *spec);

/* True when A and B name the same socket (address and port, or path);
   mode and owner do not count. */
bool listen_same_address(const struct listen_spec *a,
    const struct listen_spec *b);

/*
 * Open and listen on SPEC.  A stale UNIX-domain socket file is removed
 * first; a socket file that still answers, or a path that is not a
 * socket, is an error.  UID and GID are the default owner of a
 * UNIX-domain socket ((uid_t)-1 and (gid_t)-1: leave it as created).
 * Returns 0 with the sockets in *R (free with listen_close()), or -1
 * with a message in *ERROR_R (free it).
 */
int listen_open(const struct listen_spec *spec, uid_t uid, gid_t gid,
    struct listen_fds *r, char **error_r);

/*
 * Apply the mode and owner of SPEC (a UNIX-domain socket) to its file
 * again, e.g. after the configuration changed them.  UID and GID as in
 * listen_open().  Returns 0, or -1 with a message in *ERROR_R (free it).
 * Does nothing for INET specs.
 */
int listen_set_perms(const struct listen_spec *spec, uid_t uid, gid_t gid,
    char **error_r);

/* Close the sockets of FDS; when UNLINK_FILE is true also remove the
   socket file it created, if that file is still there.  Zeroes *FDS. */
void listen_close(const struct listen_spec *spec, struct listen_fds *fds,
    bool unlink_file);

/* The first socket a supervisor passes (sd_listen_fds(3)). */
#define LISTEN_FDS_START	3
/* The most sockets listen_inherited() accepts. */
#define LISTEN_FDS_MAX		64

/*
 * Take the sockets a supervisor passed the way systemd socket activation
 * does (fds 3.., LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES): call CB with
 * each descriptor and its name ("" when unnamed), then remove the three
 * variables from the environment.  Returns the number of sockets, or -1
 * with a static reason in *ERROR_R when none were passed to this process
 * or the variables are malformed.
 */
int listen_inherited(void (*cb)(int fd, const char *name, void *arg),
    void *arg, const char **error_r);

#endif
