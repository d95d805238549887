/* The monotonic clock. */

#include "config.h"

#include <time.h>

#include "lib/clock.h"

/* Return the monotonic clock in milliseconds. */
long long
clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
