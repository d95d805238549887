#ifndef DIRMAIL_GLOBAL_AUTH_CLIENT_CONNECT_H
#define DIRMAIL_GLOBAL_AUTH_CLIENT_CONNECT_H

/*
 * The part of the auth client (auth_client.h) that reaches the server:
 * a bounded, blocking connect and the protocol handshake, and the list
 * of mechanisms the handshake yields.  Internal to auth_client.c.
 */

#include <stddef.h>

#include "global/auth_client.h"

struct evbuffer;

/* Room for the server's COOKIE (hex) and its NUL. */
#define AUTHC_COOKIE_MAX	64

/* A list of mechanisms; { NULL, 0 } is the empty list. */
struct authc_mechs {
	struct auth_mech *v;
	size_t n;
};

/* Free the mechanisms of L and empty it. */
void authc_mechs_clear(struct authc_mechs *l);

/* Append a copy of M (its name copied) to L. */
void authc_mechs_add(struct authc_mechs *l, const struct auth_mech *m);

/* Return the mechanism NAME of L (any case; owned by L), or NULL. */
const struct auth_mech *authc_mechs_find(const struct authc_mechs *l,
    const char *name);

/*
 * Connect to the server at PATH ("unix:PATH", "inet:HOST:PORT" or a bare
 * UNIX socket path), waiting until DEADLINE (clock_now_ms()) at most.
 * Returns the connected non-blocking fd, or -1 with a message in
 * *ERROR_R (not to be freed; valid until the next call).
 */
int authc_connect_server(const char *path, long long deadline,
    const char **error_r);

/*
 * Send our handshake on the connected FD and read the server's until its
 * DONE or DEADLINE.  Returns 0 with the offered mechanisms in *MECHS_R
 * (the caller frees them with authc_mechs_clear()), the server's COOKIE
 * in COOKIE_R (AUTHC_COOKIE_MAX bytes; "" when none was sent) and the
 * input read after DONE left in IN, or -1 with a message in *ERROR_R (as
 * above).  FD stays open either way.
 */
int authc_handshake(int fd, long long deadline, struct evbuffer *in,
    struct authc_mechs *mechs_r, char *cookie_r, const char **error_r);

#endif
