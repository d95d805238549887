/*
 * Per-client-address penalty: every failed login from an address makes
 * its next logins wait longer, up to a cap that keeps every reply under
 * the 10 s Postfix allows; a success or a quiet minute clears it.  IPv6
 * addresses count per /48.  Retrying a login/password pair that already
 * failed from the address does not raise the penalty (a client with a
 * stale saved password), as in Dovecot.
 */

#include "config.h"

#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"

#define PENALTY_SLOTS		1024
#define PENALTY_KEY_SIZE	64
#define PENALTY_MAX_LEVEL	4
/* Longest wait before a lookup, in seconds. */
#define PENALTY_MAX_WAIT	4
/* A penalty is forgotten this long after the last failure. */
#define PENALTY_EXPIRE_SECS	60
/* How many recent failed login/password pairs are remembered. */
#define PENALTY_RECENT		10

struct penalty {
	char key[PENALTY_KEY_SIZE];
	unsigned int level;
	time_t last;
	uint32_t recent[PENALTY_RECENT];
	unsigned int next_recent;
};

static struct penalty slots[PENALTY_SLOTS];

/* FNV-1a over LEN bytes of DATA, continuing from H. */
static uint32_t
fnv1a(uint32_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* The key of RIP: IPv6 addresses cut to their /48. */
static void
penalty_key(const char *rip, char *key, size_t size)
{
	unsigned char a[16];

	if (strchr(rip, ':') != NULL && inet_pton(AF_INET6, rip, a) == 1) {
		memset(a + 6, 0, sizeof(a) - 6);
		if (inet_ntop(AF_INET6, a, key, (socklen_t)size) != NULL)
			return;
	}
	snprintf(key, size, "%s", rip);
}

/* Return the slot of RIP (a hash collision replaces). */
static struct penalty *
penalty_slot(const char *rip, int create)
{
	char key[PENALTY_KEY_SIZE];
	struct penalty *s;

	penalty_key(rip, key, sizeof(key));
	rip = key;
	s = &slots[fnv1a(2166136261u, rip, strlen(rip)) % PENALTY_SLOTS];
	if (strcmp(s->key, rip) == 0 && s->level > 0 &&
	    time(NULL) - s->last < PENALTY_EXPIRE_SECS)
		return s;
	if (!create)
		return NULL;
	memset(s, 0, sizeof(*s));
	snprintf(s->key, sizeof(s->key), "%s", rip);
	return s;
}

/* Seconds a login from RIP waits before its lookup. */
unsigned int
penalty_get(const char *rip)
{
	struct penalty *s = penalty_slot(rip, 0);
	unsigned int wait, max = PENALTY_MAX_WAIT;
	long long room = (AUTH_REPLY_DEADLINE_MS / 1000) - 2 -
	    auth_set.failure_delay;

	if (s == NULL)
		return 0;
	if (room < (long long)max)
		max = room < 0 ? 0 : (unsigned int)room;
	wait = 1u << (s->level - 1);
	return wait < max ? wait : max;
}

/* A hash of a login/password pair (0: none), for penalty_failure(). */
uint32_t
penalty_hash(const char *user, const char *password)
{
	uint32_t h;

	if (user == NULL || password == NULL)
		return 0;
	h = fnv1a(2166136261u, user, strlen(user) + 1);
	h = fnv1a(h, password, strlen(password));
	return h == 0 ? 1 : h;
}

/* A login from RIP failed; PAIR is its penalty_hash() or 0. */
void
penalty_failure(const char *rip, uint32_t pair)
{
	struct penalty *s = penalty_slot(rip, 1);
	unsigned int i;

	for (i = 0; pair != 0 && i < PENALTY_RECENT; i++)
		if (s->recent[i] == pair && s->level > 0) {
			s->last = time(NULL);
			return;
		}
	if (pair != 0) {
		s->recent[s->next_recent] = pair;
		s->next_recent = (s->next_recent + 1) % PENALTY_RECENT;
	}
	if (s->level < PENALTY_MAX_LEVEL)
		s->level++;
	s->last = time(NULL);
}

/* A login from RIP succeeded. */
void
penalty_success(const char *rip)
{
	struct penalty *s = penalty_slot(rip, 0);

	if (s != NULL)
		s->level = 0;
}
