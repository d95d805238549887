#ifndef DIRMAIL_SMTPD_ANVIL_H
#define DIRMAIL_SMTPD_ANVIL_H

/*
 * In-process connection and rate counters per client address, as
 * Postfix's anvil(8) keeps them: for each client the number of
 * simultaneous connections, and the connections, messages and AUTH
 * commands within a fixed time window.  The window of a client starts at
 * its first event and lasts one time unit (anvil_rate_time_unit); the
 * next event after that starts a new window with all rates at zero.
 *
 * Entries of clients that have no connection open and whose window has
 * ended are dropped, a few at a time on every call, so memory stays
 * proportional to the clients seen within one time unit.
 */

#include <stddef.h>
#include <time.h>

struct anvil;

/* Return new, empty counters with windows of TIME_UNIT seconds (at least
   one). */
struct anvil *anvil_new(unsigned time_unit);

/* Free A and NULL *A. */
void anvil_free(struct anvil **a);

/*
 * A connection from ADDR opened: set *COUNT_R to the number of
 * simultaneous connections from ADDR and *RATE_R to the connections in
 * the current time unit, this one included.
 */
void anvil_connect(struct anvil *a, const char *addr, unsigned *count_r,
    unsigned *rate_r);

/* A connection from ADDR closed.  An unknown ADDR is ignored. */
void anvil_disconnect(struct anvil *a, const char *addr);

/* Count one message (MAIL) from ADDR; return the rate, this one
   included. */
unsigned anvil_message(struct anvil *a, const char *addr);

/* Count one AUTH command from ADDR; return the rate, this one included. */
unsigned anvil_auth(struct anvil *a, const char *addr);

/* Return the number of clients A holds an entry for. */
size_t anvil_clients(const struct anvil *a);

/*
 * Test hook: read the time (in seconds, from any fixed origin) from
 * NOW(CTX) instead of the monotonic clock.  NOW == NULL restores the
 * monotonic clock.  Programs never call this.
 */
void anvil_set_clock(struct anvil *a, time_t (*now)(void *), void *ctx);

#endif
