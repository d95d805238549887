/*
 * Unit tests for the client rate and concurrency counters
 * (src/smtpd/anvil.c), on a clock the tests move by hand.
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "smtpd/anvil.h"

/* The fake clock's time. */
static time_t fake_now;

/* The fake clock. */
static time_t
fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

/* Return counters with a 60 s unit on the fake clock at 1000. */
static struct anvil *
new_anvil(void)
{
	struct anvil *a = anvil_new(60);

	fake_now = 1000;
	anvil_set_clock(a, fake_clock, NULL);
	return a;
}

enum ev { EV_CONNECT, EV_DISCONNECT, EV_MESSAGE, EV_AUTH };

struct step {
	time_t at;		/* seconds after the start */
	enum ev ev;
	const char *addr;
	unsigned want_count;	/* EV_CONNECT only */
	unsigned want_rate;	/* not for EV_DISCONNECT */
};

/* Run STEPS on fresh counters. */
static void
run_steps(const struct step *steps, size_t n)
{
	struct anvil *a = new_anvil();
	unsigned count, rate;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct step *s = &steps[i];

		fake_now = 1000 + s->at;
		switch (s->ev) {
		case EV_CONNECT:
			anvil_connect(a, s->addr, &count, &rate);
			if (count != s->want_count || rate != s->want_rate)
				fail_msg("step %zu: count %u rate %u, want "
				    "%u %u", i, count, rate, s->want_count,
				    s->want_rate);
			break;
		case EV_DISCONNECT:
			anvil_disconnect(a, s->addr);
			break;
		case EV_MESSAGE:
			rate = anvil_message(a, s->addr);
			if (rate != s->want_rate)
				fail_msg("step %zu: message rate %u, want %u",
				    i, rate, s->want_rate);
			break;
		case EV_AUTH:
			rate = anvil_auth(a, s->addr);
			if (rate != s->want_rate)
				fail_msg("step %zu: auth rate %u, want %u", i,
				    rate, s->want_rate);
			break;
		}
	}
	anvil_free(&a);
	assert_null(a);
}

#define A "192.0.2.6"
#define B "2001:db8::1"

/* Simultaneous connections count up and down; the rate only up. */
static void
test_connections(void **state)
{
	static const struct step steps[] = {
		{ 0, EV_CONNECT, A, 1, 1 },
		{ 1, EV_CONNECT, A, 2, 2 },
		{ 2, EV_CONNECT, B, 1, 1 },
		{ 3, EV_DISCONNECT, A, 0, 0 },
		{ 4, EV_CONNECT, A, 2, 3 },
		{ 5, EV_DISCONNECT, A, 0, 0 },
		{ 5, EV_DISCONNECT, A, 0, 0 },
		/* One too many: ignored. */
		{ 5, EV_DISCONNECT, A, 0, 0 },
		{ 5, EV_DISCONNECT, "198.51.100.1", 0, 0 },
		{ 6, EV_CONNECT, A, 1, 4 },
	};

	(void)state;
	run_steps(steps, sizeof(steps) / sizeof(steps[0]));
}

/* The window starts at the first event and lasts one unit; then every
   rate starts again, while open connections stay counted. */
static void
test_window(void **state)
{
	static const struct step steps[] = {
		{ 10, EV_CONNECT, A, 1, 1 },
		{ 11, EV_MESSAGE, A, 0, 1 },
		{ 12, EV_MESSAGE, A, 0, 2 },
		{ 13, EV_AUTH, A, 0, 1 },
		{ 69, EV_CONNECT, A, 2, 2 },	/* 59 s: same window */
		{ 69, EV_MESSAGE, A, 0, 3 },
		{ 70, EV_MESSAGE, A, 0, 1 },	/* 60 s: a new window */
		{ 71, EV_AUTH, A, 0, 1 },
		{ 72, EV_CONNECT, A, 3, 1 },
		{ 72, EV_MESSAGE, B, 0, 1 },	/* B's own window */
		{ 131, EV_MESSAGE, B, 0, 2 },
		{ 132, EV_MESSAGE, B, 0, 1 },
	};

	(void)state;
	run_steps(steps, sizeof(steps) / sizeof(steps[0]));
}

/* Idle clients are forgotten; clients with a connection open are not. */
static void
test_cleanup(void **state)
{
	struct anvil *a = new_anvil();
	unsigned count, rate, i;
	char addr[64];

	(void)state;
	anvil_connect(a, A, &count, &rate);
	for (i = 0; i < 5000; i++) {
		snprintf(addr, sizeof(addr), "10.0.%u.%u", i / 256, i % 256);
		assert_int_equal(anvil_message(a, addr), 1);
	}
	assert_int_equal(anvil_clients(a), 5001);
	/* A unit later, new traffic sweeps the idle entries away. */
	fake_now += 60;
	for (i = 0; i < 5000; i++) {
		snprintf(addr, sizeof(addr), "172.16.%u.%u", i / 256, i % 256);
		anvil_message(a, addr);
		fake_now += i % 100 == 99;
	}
	assert_true(anvil_clients(a) < 6000);
	fake_now += 1000;
	for (i = 0; i < 20000; i++)
		anvil_message(a, "198.51.100.7");
	assert_int_equal(anvil_clients(a), 2);
	/* A's connection is still open and still counted. */
	anvil_connect(a, A, &count, &rate);
	assert_int_equal(count, 2);
	assert_int_equal(rate, 1);
	anvil_free(&a);
}

/* A clock that goes backwards starts a new window rather than
   freezing the old one. */
static void
test_clock_backwards(void **state)
{
	struct anvil *a = new_anvil();

	(void)state;
	assert_int_equal(anvil_message(a, A), 1);
	assert_int_equal(anvil_message(a, A), 2);
	fake_now -= 5;
	assert_int_equal(anvil_message(a, A), 1);
	anvil_set_clock(a, NULL, NULL);
	assert_int_equal(anvil_auth(a, A), 1);
	anvil_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connections),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_cleanup),
		cmocka_unit_test(test_clock_backwards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
