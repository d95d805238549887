#ifndef DIRMAIL_GLOBAL_AUTHPROTO_H
#define DIRMAIL_GLOBAL_AUTHPROTO_H

/*
 * What both sides of the Dovecot auth protocols (authd's servers and
 * the auth client library) share: the line limit and the line framing.
 * The fields of a line are tab-escaped (lib/tabescape.h).
 */

#include <stdbool.h>
#include <stddef.h>

struct evbuffer;

/* Longest auth-client protocol line either side takes, LF included
   (Dovecot's limit). */
#define AUTHPROTO_MAX_LINE	16384

/*
 * Take the next complete line out of IN and return it without its LF
 * (and without a CR before the LF); the caller frees it.  Returns NULL
 * when no line is complete yet, or when the input holds a line of
 * MAX_LINE bytes or more: then *TOO_LONG_R is set (and IN is left
 * alone), otherwise it is cleared.
 */
char *authproto_next_line(struct evbuffer *in, size_t max_line,
    bool *too_long_r);

#endif
