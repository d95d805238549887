/*
 * qmgr's transport resolution: transport_maps, then the address class,
 * as Postfix's trivial-rewrite does it; and the back-off and expiry
 * rules.  Kept apart from the scheduler so that it can be tested alone.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "global/resolve.h"
#include "lib/cfg.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "maps/maps.h"
#include "queue/qmgr_transport.h"

struct qmgr_transports {
	struct maplist *maps;		/* transport_maps, or NULL */
	struct resolve *resolve;
	char *local, *virtual, *relay, *deflt;	/* "transport[:nexthop]" */
	char *relayhost, *myhostname;
};

int
qmgr_transports_init(const struct cfg *cfg, struct qmgr_transports **t_r,
    char **error_r)
{
	struct qmgr_transports *t = xcalloc(1, sizeof(*t));
	char *const *maps = cfg_list(cfg, "transport_maps");

	if (maps != NULL && *maps != NULL &&
	    maplist_open(maps, &t->maps, error_r) < 0) {
		free(t);
		return -1;
	}
	if (resolve_init(cfg, &t->resolve, error_r) < 0) {
		maplist_close(&t->maps);
		free(t);
		return -1;
	}
	t->local = xstrdup(cfg_str(cfg, "local_transport"));
	t->virtual = xstrdup(cfg_str(cfg, "virtual_transport"));
	t->relay = xstrdup(cfg_str(cfg, "relay_transport"));
	t->deflt = xstrdup(cfg_str(cfg, "default_transport"));
	t->relayhost = xstrdup(cfg_str(cfg, "relayhost"));
	t->myhostname = xstrdup(cfg_str(cfg, "myhostname"));
	*t_r = t;
	return 0;
}

void
qmgr_transports_free(struct qmgr_transports **tp)
{
	struct qmgr_transports *t = *tp;

	if (t == NULL)
		return;
	maplist_close(&t->maps);
	resolve_free(&t->resolve);
	free(t->local);
	free(t->virtual);
	free(t->relay);
	free(t->deflt);
	free(t->relayhost);
	free(t->myhostname);
	free(t);
	*tp = NULL;
}

void
qmgr_route_clear(struct qmgr_route *route)
{
	free(route->transport);
	free(route->nexthop);
	route->transport = route->nexthop = NULL;
}

enum qmgr_agent
qmgr_agent_of(const char *transport)
{
	static const struct {
		const char *name;
		enum qmgr_agent agent;
	} agents[] = {
		{ "local", QMGR_AGENT_LOCAL },
		{ "virtual", QMGR_AGENT_LOCAL },
		{ "smtp", QMGR_AGENT_SMTP },
		{ "relay", QMGR_AGENT_SMTP },
		{ "lmtp", QMGR_AGENT_SMTP },
		{ "error", QMGR_AGENT_ERROR },
		{ "discard", QMGR_AGENT_DISCARD },
	};
	size_t i;

	for (i = 0; i < sizeof(agents) / sizeof(agents[0]); i++)
		if (strcmp(agents[i].name, transport) == 0)
			return agents[i].agent;
	return QMGR_AGENT_NONE;
}

/*
 * Apply "transport:nexthop" VALUE over ROUTE: an empty part keeps what
 * ROUTE already holds (a value without a colon is a transport only).
 * True when VALUE gave a nexthop.
 */
static bool
route_apply(struct qmgr_route *route, const char *value)
{
	const char *colon = strchr(value, ':');
	size_t tlen = colon != NULL ? (size_t)(colon - value) : strlen(value);

	if (tlen > 0) {
		free(route->transport);
		route->transport = xstrndup(value, tlen);
	}
	if (colon != NULL && colon[1] != '\0') {
		free(route->nexthop);
		route->nexthop = xstrdup(colon + 1);
		return true;
	}
	return false;
}

/* The domain of ADDR ("" when it has none). */
static const char *
addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL ? at + 1 : "";
}

/*
 * Look KEY up in transport_maps: 1 found (*VALUE_R allocated), 0 not,
 * -1 on a table error.
 */
static int
maps_get(struct qmgr_transports *t, const char *key, char **value_r,
    const char **error_r)
{
	int r = maplist_lookup(t->maps, key, value_r, error_r);

	return r == MAP_FOUND ? 1 : r == MAP_NOTFOUND ? 0 : -1;
}

/*
 * transport_maps for ADDR: the address, the domain, each parent domain
 * with a leading dot, then "*".  1 found, 0 not, -1 error.
 */
static int
maps_find(struct qmgr_transports *t, const char *addr, char **value_r,
    const char **error_r)
{
	const char *domain = addr_domain(addr), *p;
	char *key;
	int r;

	if ((r = maps_get(t, addr, value_r, error_r)) != 0)
		return r;
	if (*domain != '\0' && (r = maps_get(t, domain, value_r,
	    error_r)) != 0)
		return r;
	for (p = strchr(domain, '.'); p != NULL; p = strchr(p + 1, '.')) {
		key = xstrdup(p);
		r = maps_get(t, key, value_r, error_r);
		free(key);
		if (r != 0)
			return r;
	}
	return maps_get(t, "*", value_r, error_r);
}

/* The default route of an address of CLASS whose domain is DOMAIN;
   true when the class's transport setting gave a nexthop. */
static bool
route_default(struct qmgr_transports *t, enum addr_class class,
    const char *domain, struct qmgr_route *route)
{
	const char *value;

	switch (class) {
	case ADDR_CLASS_LOCAL:
		route->transport = xstrdup("local");
		route->nexthop = xstrdup(t->myhostname);
		value = t->local;
		break;
	case ADDR_CLASS_ALIAS:
		/* Every address of such a domain is an alias: one that is
		   left after expansion has no mailbox. */
		route->transport = xstrdup("error");
		route->nexthop = xstrdup("User unknown in virtual alias "
		    "table");
		return true;
	case ADDR_CLASS_VIRTUAL:
		route->transport = xstrdup("virtual");
		route->nexthop = xstrdup(domain);
		value = t->virtual;
		break;
	default:
		/* relayhost overrides the domain of all non-local mail, as
		   in Postfix; a transport's own nexthop overrides both. */
		route->transport = xstrdup("smtp");
		route->nexthop = xstrdup(*t->relayhost != '\0' ?
		    t->relayhost : domain);
		value = class == ADDR_CLASS_RELAY ? t->relay : t->deflt;
		break;
	}
	return route_apply(route, value);
}

int
qmgr_route_find(struct qmgr_transports *t, const char *addr,
    struct qmgr_route *route, const char **error_r)
{
	struct resolved res;
	char *value = NULL;
	bool given;
	int r;

	memset(route, 0, sizeof(*route));
	if (resolve_addr(t->resolve, addr, &res, error_r) < 0)
		return -1;
	given = route_default(t, res.class, addr_domain(res.addr), route);
	if (*route->nexthop == '\0') {
		free(route->nexthop);
		route->nexthop = xstrdup(t->myhostname);
	}
	r = t->maps != NULL ? maps_find(t, res.addr, &value, error_r) : 0;
	resolved_clear(&res);
	if (r < 0) {
		qmgr_route_clear(route);
		return -1;
	}
	if (r > 0) {
		given = route_apply(route, str_trim(value)) ||
		    (given && strchr(value, ':') == value);
		free(value);
	}
	route->agent = qmgr_agent_of(route->transport);
	/* For error and discard the nexthop is the text to log: only what
	   the setting says, never a domain filled in. */
	if (!given && (route->agent == QMGR_AGENT_ERROR ||
	    route->agent == QMGR_AGENT_DISCARD)) {
		free(route->nexthop);
		route->nexthop = xstrdup("");
	}
	return 0;
}

long long
qmgr_backoff(double age, long long min, long long max)
{
	if (age > (double)max)
		return max;
	if (age < (double)min)
		return min;
	return (long long)age;
}

const char *
qmgr_expired_dsn(const char *dsn, char *buf, unsigned size)
{
	if (dsn != NULL && dsn[0] == '4' && dsn[1] == '.')
		snprintf(buf, size, "5%s", dsn + 1);
	else
		snprintf(buf, size, "5.4.7");
	return buf;
}
