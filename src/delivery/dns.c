/*
 * MX and address lookups for the SMTP client.  Names go through the DNS
 * (res_nquery) as Postfix's smtp_host_lookup = dns does, so that test
 * resolvers such as resolv_wrapper see every query; a host the DNS does
 * not know is then looked up with getaddrinfo() too (/etc/hosts).
 */

#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/dns.h"
#include "lib/xalloc.h"

/* The outcome of one query. */
enum dns_status {
	DNS_OK,
	DNS_NOTFOUND,		/* NXDOMAIN */
	DNS_NODATA,		/* the name exists, no record of that type */
	DNS_AGAIN,		/* temporary failure */
};

/* Order MX records by preference. */
static int
mx_cmp(const void *a, const void *b)
{
	const struct dns_mx *x = a, *y = b;

	return x->pref < y->pref ? -1 : x->pref > y->pref;
}

void
dns_mx_sort(struct dns_mx *mx, size_t n, long (*rnd)(void))
{
	size_t i, j, k;
	struct dns_mx tmp;

	if (rnd == NULL)
		rnd = random;
	qsort(mx, n, sizeof(*mx), mx_cmp);
	/* Fisher-Yates within each run of equal preference. */
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && mx[j].pref == mx[i].pref; j++)
			;
		for (k = j - 1; k > i; k--) {
			size_t r = i + (size_t)rnd() % (k - i + 1);

			tmp = mx[k];
			mx[k] = mx[r];
			mx[r] = tmp;
		}
	}
}

/* Query NAME for TYPE into ANS; the length through *LEN_R. */
static enum dns_status
query(const char *name, int type, unsigned char *ans, size_t size,
    int *len_r)
{
	struct __res_state st;
	enum dns_status s = DNS_OK;

	memset(&st, 0, sizeof(st));
	if (res_ninit(&st) != 0)
		return DNS_AGAIN;
	*len_r = res_nquery(&st, name, C_IN, type, ans, (int)size);
	if (*len_r < 0) {
		switch (st.res_h_errno) {
		case HOST_NOT_FOUND:
			s = DNS_NOTFOUND;
			break;
		case NO_DATA:
			s = DNS_NODATA;
			break;
		default:
			s = DNS_AGAIN;
			break;
		}
	}
	res_nclose(&st);
	return s;
}

/* Append one address to R. */
static void
add_target(struct dns_result *r, const char *name, int family,
    const void *addr, unsigned port)
{
	struct dns_target *t;

	r->t = xreallocarray(r->t, r->n + 1, sizeof(*r->t));
	t = &r->t[r->n++];
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(name);
	inet_ntop(family, addr, t->addr, sizeof(t->addr));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&t->sa;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		memcpy(&sin->sin_addr, addr, 4);
		t->salen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&t->sa;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		memcpy(&sin6->sin6_addr, addr, 16);
		t->salen = sizeof(*sin6);
	}
}

/* Add the A or AAAA records of NAME (TYPE) to R. */
static enum dns_status
query_addr(const char *name, int type, unsigned port, struct dns_result *r)
{
	unsigned char ans[NS_PACKETSZ * 4];
	ns_msg msg;
	ns_rr rr;
	enum dns_status s;
	int len, i, n;
	unsigned want = type == ns_t_a ? 4 : 16;
	int rrtype;

	if ((s = query(name, type, ans, sizeof(ans), &len)) != DNS_OK)
		return s;
	if (ns_initparse(ans, len, &msg) < 0)
		return DNS_AGAIN;
	n = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < n; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			return DNS_AGAIN;
		rrtype = ns_rr_type(rr);
		if (rrtype == type && ns_rr_rdlen(rr) == want)
			add_target(r, name, type == ns_t_a ? AF_INET :
			    AF_INET6, ns_rr_rdata(rr), port);
	}
	return DNS_OK;
}

/* Add what getaddrinfo() knows of NAME (/etc/hosts) to R. */
static enum dns_status
native_addr(const char *name, unsigned port, struct dns_result *r)
{
	struct addrinfo hints, *res, *ai;
	int e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(name, NULL, &hints, &res)) != 0)
		return e == EAI_AGAIN ? DNS_AGAIN : DNS_NOTFOUND;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET)
			add_target(r, name, AF_INET, &((struct sockaddr_in *)
			    ai->ai_addr)->sin_addr, port);
		else if (ai->ai_family == AF_INET6)
			add_target(r, name, AF_INET6, &((struct sockaddr_in6 *)
			    ai->ai_addr)->sin6_addr, port);
	}
	freeaddrinfo(res);
	return DNS_OK;
}

/* Add the addresses of host NAME to R. */
static enum dns_status
host_addrs(const char *name, unsigned port, struct dns_result *r)
{
	unsigned char bin[16];
	enum dns_status s4, s6;
	size_t before = r->n;

	if (inet_pton(AF_INET, name, bin) == 1) {
		add_target(r, name, AF_INET, bin, port);
		return DNS_OK;
	}
	if (inet_pton(AF_INET6, name, bin) == 1) {
		add_target(r, name, AF_INET6, bin, port);
		return DNS_OK;
	}
	s4 = query_addr(name, ns_t_a, port, r);
	s6 = query_addr(name, ns_t_aaaa, port, r);
	if (r->n > before)
		return DNS_OK;
	if (s4 == DNS_AGAIN || s6 == DNS_AGAIN)
		return DNS_AGAIN;
	if (native_addr(name, port, r) == DNS_OK && r->n > before)
		return DNS_OK;
	return s4 == DNS_NODATA || s6 == DNS_NODATA ? DNS_NODATA :
	    DNS_NOTFOUND;
}

/* Read the MX records of NAME into *MX_R (*N_R of them). */
static enum dns_status
query_mx(const char *name, struct dns_mx **mx_r, size_t *n_r)
{
	unsigned char ans[NS_PACKETSZ * 8];
	char host[NS_MAXDNAME];
	ns_msg msg;
	ns_rr rr;
	enum dns_status s;
	int len, i, n;

	*mx_r = NULL;
	*n_r = 0;
	if ((s = query(name, ns_t_mx, ans, sizeof(ans), &len)) != DNS_OK)
		return s;
	if (ns_initparse(ans, len, &msg) < 0)
		return DNS_AGAIN;
	n = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < n; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			return DNS_AGAIN;
		if (ns_rr_type(rr) != ns_t_mx || ns_rr_rdlen(rr) < 3)
			continue;
		if (dn_expand(ns_msg_base(msg), ns_msg_end(msg),
		    ns_rr_rdata(rr) + 2, host, sizeof(host)) < 0)
			return DNS_AGAIN;
		*mx_r = xreallocarray(*mx_r, *n_r + 1, sizeof(**mx_r));
		(*mx_r)[*n_r].pref = ns_get16(ns_rr_rdata(rr));
		(*mx_r)[(*n_r)++].name = xstrdup(host);
	}
	return *n_r > 0 ? DNS_OK : DNS_NODATA;
}

/* True when the records are one null MX ("0 ."). */
static bool
null_mx(const struct dns_mx *mx, size_t n)
{
	return n == 1 && mx[0].pref == 0 &&
	    (mx[0].name[0] == '\0' || strcmp(mx[0].name, ".") == 0);
}

/* The failure of a lookup of NAME of TYPE that found nothing. */
static void
fail_lookup(struct dns_result *r, enum dns_status s, const char *name,
    const char *type)
{
	bool again = s == DNS_AGAIN;

	r->class = again ? 4 : 5;
	r->dsn = xstrdup(again ? "4.4.3" : "5.4.4");
	r->text = xasprintf("Host or domain name not found. Name service "
	    "error for name=%s type=%s: Host not found%s", name, type,
	    again ? ", try again" : "");
}

/* Resolve the N MX hosts MX, in order, into R. */
static void
resolve_mx(struct dns_mx *mx, size_t n, unsigned port,
    struct dns_result *r)
{
	bool again = false;
	size_t i;

	dns_mx_sort(mx, n, NULL);
	for (i = 0; i < n; i++)
		if (host_addrs(mx[i].name, port, r) == DNS_AGAIN)
			again = true;
	if (r->n == 0)
		fail_lookup(r, again ? DNS_AGAIN : DNS_NOTFOUND, mx[0].name,
		    "A");
}

void
dns_resolve(const char *host, bool want_mx, unsigned port,
    struct dns_result *r)
{
	struct dns_mx *mx = NULL;
	size_t n = 0, i;
	enum dns_status s;
	unsigned char bin[16];

	if (want_mx && inet_pton(AF_INET, host, bin) != 1 &&
	    inet_pton(AF_INET6, host, bin) != 1) {
		s = query_mx(host, &mx, &n);
		if (s == DNS_NOTFOUND || s == DNS_AGAIN) {
			fail_lookup(r, s, host, "MX");
		} else if (s == DNS_OK && null_mx(mx, n)) {
			r->class = 5;
			r->dsn = xstrdup("5.1.10");
			r->text = xasprintf("Host or domain name not found. "
			    "nexthop %s does not accept mail (nullMX)", host);
		} else if (s == DNS_OK) {
			resolve_mx(mx, n, port, r);
		}
		for (i = 0; i < n; i++)
			free(mx[i].name);
		free(mx);
		if (s != DNS_NODATA)
			return;
	}
	if ((s = host_addrs(host, port, r)) != DNS_OK)
		fail_lookup(r, s, host, "A");
}

void
dns_result_clear(struct dns_result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->t[i].name);
	free(r->t);
	free(r->dsn);
	free(r->text);
	memset(r, 0, sizeof(*r));
}
