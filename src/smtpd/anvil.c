/*
 * Connection and rate counters per client address: a chained hash table
 * keyed by the address text, swept a few buckets per call.
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/xalloc.h"
#include "smtpd/anvil.h"

#define ANVIL_MIN_BUCKETS	64
#define ANVIL_SWEEP_STEP	4	/* buckets examined per call */

struct anvil_entry {
	struct anvil_entry *next;
	char *addr;
	time_t start;		/* the start of the current window */
	unsigned count;		/* simultaneous connections */
	unsigned conn_rate;	/* in the current window */
	unsigned msg_rate;
	unsigned auth_rate;
};

struct anvil {
	struct anvil_entry **buckets;
	size_t nbuckets;	/* a power of two */
	size_t n;		/* entries */
	size_t sweep;		/* the next bucket the sweep looks at */
	time_t unit;
	time_t (*now)(void *);
	void *now_ctx;
};

/* Return the monotonic clock in seconds. */
static time_t
anvil_monotonic(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return time(NULL);
	return ts.tv_sec;
}

/* Return the FNV-1a hash of S. */
static uint32_t
anvil_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

struct anvil *
anvil_new(unsigned time_unit)
{
	struct anvil *a = xcalloc(1, sizeof(*a));

	a->nbuckets = ANVIL_MIN_BUCKETS;
	a->buckets = xcalloc(a->nbuckets, sizeof(*a->buckets));
	a->unit = time_unit > 0 ? (time_t)time_unit : 1;
	a->now = anvil_monotonic;
	return a;
}

/* Free one entry. */
static void
anvil_entry_free(struct anvil_entry *e)
{
	free(e->addr);
	free(e);
}

void
anvil_free(struct anvil **ap)
{
	struct anvil *a = *ap;
	struct anvil_entry *e, *next;
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nbuckets; i++) {
		for (e = a->buckets[i]; e != NULL; e = next) {
			next = e->next;
			anvil_entry_free(e);
		}
	}
	free(a->buckets);
	free(a);
	*ap = NULL;
}

void
anvil_set_clock(struct anvil *a, time_t (*now)(void *), void *ctx)
{
	a->now = now != NULL ? now : anvil_monotonic;
	a->now_ctx = now != NULL ? ctx : NULL;
}

size_t
anvil_clients(const struct anvil *a)
{
	return a->n;
}

/* True when the window of E has ended at NOW. */
static int
anvil_expired(const struct anvil *a, const struct anvil_entry *e, time_t now)
{
	return now - e->start >= a->unit || now < e->start;
}

/* Drop the idle entries of the next few buckets. */
static void
anvil_sweep(struct anvil *a, time_t now)
{
	struct anvil_entry **pp, *e;
	size_t i;

	for (i = 0; i < ANVIL_SWEEP_STEP; i++) {
		pp = &a->buckets[a->sweep];
		while ((e = *pp) != NULL) {
			if (e->count == 0 && anvil_expired(a, e, now)) {
				*pp = e->next;
				anvil_entry_free(e);
				a->n--;
			} else
				pp = &e->next;
		}
		a->sweep = (a->sweep + 1) & (a->nbuckets - 1);
	}
}

/* Double the number of buckets. */
static void
anvil_grow(struct anvil *a)
{
	size_t n = a->nbuckets * 2, i;
	struct anvil_entry **b = xcalloc(n, sizeof(*b)), *e, *next;

	for (i = 0; i < a->nbuckets; i++) {
		for (e = a->buckets[i]; e != NULL; e = next) {
			uint32_t h = anvil_hash(e->addr) & (n - 1);

			next = e->next;
			e->next = b[h];
			b[h] = e;
		}
	}
	free(a->buckets);
	a->buckets = b;
	a->nbuckets = n;
	a->sweep = 0;
}

/* Return the entry of ADDR or NULL. */
static struct anvil_entry *
anvil_find(const struct anvil *a, const char *addr)
{
	struct anvil_entry *e;

	e = a->buckets[anvil_hash(addr) & (a->nbuckets - 1)];
	for (; e != NULL; e = e->next)
		if (strcmp(e->addr, addr) == 0)
			return e;
	return NULL;
}

/* Return the entry of ADDR, created when missing, with a window that is
   current at NOW. */
static struct anvil_entry *
anvil_get(struct anvil *a, const char *addr, time_t now)
{
	struct anvil_entry *e = anvil_find(a, addr);
	uint32_t h;

	if (e == NULL) {
		if (a->n >= a->nbuckets)
			anvil_grow(a);
		e = xcalloc(1, sizeof(*e));
		e->addr = xstrdup(addr);
		e->start = now;
		h = anvil_hash(addr) & (a->nbuckets - 1);
		e->next = a->buckets[h];
		a->buckets[h] = e;
		a->n++;
	} else if (anvil_expired(a, e, now)) {
		e->start = now;
		e->conn_rate = e->msg_rate = e->auth_rate = 0;
	}
	return e;
}

/* Sweep, then return the current entry of ADDR. */
static struct anvil_entry *
anvil_event(struct anvil *a, const char *addr)
{
	time_t now = a->now(a->now_ctx);

	anvil_sweep(a, now);
	return anvil_get(a, addr, now);
}

void
anvil_connect(struct anvil *a, const char *addr, unsigned *count_r,
    unsigned *rate_r)
{
	struct anvil_entry *e = anvil_event(a, addr);

	e->count++;
	e->conn_rate++;
	*count_r = e->count;
	*rate_r = e->conn_rate;
}

void
anvil_disconnect(struct anvil *a, const char *addr)
{
	struct anvil_entry *e;

	anvil_sweep(a, a->now(a->now_ctx));
	e = anvil_find(a, addr);
	if (e != NULL && e->count > 0)
		e->count--;
}

unsigned
anvil_message(struct anvil *a, const char *addr)
{
	return ++anvil_event(a, addr)->msg_rate;
}

unsigned
anvil_auth(struct anvil *a, const char *addr)
{
	return ++anvil_event(a, addr)->auth_rate;
}
