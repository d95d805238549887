#ifndef DIRMAIL_DELIVERY_DNS_H
#define DIRMAIL_DELIVERY_DNS_H

/*
 * Where mail for a nexthop goes: MX lookups (RFC 5321 section 5.1, null
 * MX per RFC 7505) and the addresses of the hosts found, through libc's
 * resolver.  The lookups block: the SMTP client runs them on worker
 * threads.  Each call uses its own resolver state, so calls on several
 * threads at once are safe.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* One MX record. */
struct dns_mx {
	char *name;
	unsigned pref;
};

/* One address to try, in order. */
struct dns_target {
	char *name;			/* the host name (MX name) */
	char addr[64];			/* the address as text */
	struct sockaddr_storage sa;	/* with the port filled in */
	socklen_t salen;
};

struct dns_result {
	struct dns_target *t;
	size_t n;
	/* When n is 0: why.  CLASS is 4 or 5; DSN and TEXT allocated. */
	int class;
	char *dsn;
	char *text;
};

/*
 * Sort the N records of MX by preference, shuffling records of equal
 * preference (RFC 5321 section 5.1) with RANDOM (random(3) when NULL).
 */
void dns_mx_sort(struct dns_mx *mx, size_t n, long (*rnd)(void));

/*
 * Resolve HOST into R (zeroed by the caller): with WANT_MX, its MX hosts
 * in preference order, or HOST itself when it has no MX record; without,
 * HOST only.  Every address gets PORT.  A null MX gives 5.1.10, a name
 * that does not exist 5.4.4, a temporary failure 4.4.3 (R->n is then 0).
 */
void dns_resolve(const char *host, bool want_mx, unsigned port,
    struct dns_result *r);

/* Free what R holds and zero it. */
void dns_result_clear(struct dns_result *r);

#endif
