/*
 * Per-client-address penalty: every failed login from an address makes
 * its next logins wait longer, up to a cap that keeps every reply under
 * the 10 s Postfix allows; a success or a quiet minute clears it.
 */

#include "config.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"

#define PENALTY_SLOTS		1024
#define PENALTY_MAX_LEVEL	4
/* Longest wait before a lookup, in seconds. */
#define PENALTY_MAX_WAIT	4
/* A penalty is forgotten this long after the last failure. */
#define PENALTY_EXPIRE_SECS	60

struct penalty {
	char key[48];
	unsigned int level;
	time_t last;
};

static struct penalty slots[PENALTY_SLOTS];

/* Return the slot of RIP (FNV-1a hash; a collision replaces). */
static struct penalty *
penalty_slot(const char *rip, int create)
{
	uint32_t h = 2166136261u;
	const unsigned char *p;
	struct penalty *s;

	for (p = (const unsigned char *)rip; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	s = &slots[h % PENALTY_SLOTS];
	if (strncmp(s->key, rip, sizeof(s->key) - 1) == 0 && s->level > 0 &&
	    time(NULL) - s->last < PENALTY_EXPIRE_SECS)
		return s;
	if (!create)
		return NULL;
	memset(s, 0, sizeof(*s));
	strncpy(s->key, rip, sizeof(s->key) - 1);
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

/* A login from RIP failed. */
void
penalty_failure(const char *rip)
{
	struct penalty *s = penalty_slot(rip, 1);

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
