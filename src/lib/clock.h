#ifndef DIRMAIL_LIB_CLOCK_H
#define DIRMAIL_LIB_CLOCK_H

/*
 * The monotonic clock, for timeouts, deadlines and expiry times that
 * must not jump when the wall clock is set.
 */

/* Return the monotonic clock in milliseconds (from an unspecified
   start: only differences mean anything). */
long long clock_now_ms(void);

#endif
