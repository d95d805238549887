#ifndef DIRMAIL_QUEUE_QMGR_TRANSPORT_H
#define DIRMAIL_QUEUE_QMGR_TRANSPORT_H

/*
 * Where qmgr sends a recipient: (transport, nexthop) as Postfix's
 * trivial-rewrite finds them.  transport_maps first (the full address,
 * the domain, its parent domains as ".example.com", then "*"), else the
 * transport of the address class (local_transport, virtual_transport,
 * relay_transport, default_transport) with relayhost or the recipient
 * domain as nexthop.  Also the back-off and expiry rules of the queue.
 */

#include <stdbool.h>

struct cfg;
struct qmgr_transports;

/* What qmgr does with a recipient of a transport. */
enum qmgr_agent {
	QMGR_AGENT_LOCAL,	/* private/local: local, virtual */
	QMGR_AGENT_SMTP,	/* private/smtp: smtp, relay, lmtp */
	QMGR_AGENT_ERROR,	/* bounce now with the nexthop as text */
	QMGR_AGENT_DISCARD,	/* done, logged as sent */
	QMGR_AGENT_NONE,	/* an unknown transport: defer */
};

struct qmgr_route {
	char *transport;	/* allocated */
	char *nexthop;		/* allocated; never NULL */
	enum qmgr_agent agent;
};

/*
 * Read local_transport, virtual_transport, relay_transport,
 * default_transport, relayhost and myhostname from CFG and open
 * transport_maps and the domain lists.  0 with *T_R, or -1 with *ERROR_R
 * (free it).
 */
int qmgr_transports_init(const struct cfg *cfg, struct qmgr_transports **t_r,
    char **error_r);

/* Close the tables and free *T; NULLs *T. */
void qmgr_transports_free(struct qmgr_transports **t);

/*
 * Find the route of recipient ADDR (internal form) into *ROUTE (clear it
 * with qmgr_route_clear()).  0, or -1 when a table could not answer
 * (*ERROR_R static or the table's, valid until the next call): the
 * recipient is deferred.
 */
int qmgr_route_find(struct qmgr_transports *t, const char *addr,
    struct qmgr_route *route, const char **error_r);

/* Free what ROUTE holds. */
void qmgr_route_clear(struct qmgr_route *route);

/* The agent that serves TRANSPORT (by name). */
enum qmgr_agent qmgr_agent_of(const char *transport);

/*
 * Postfix's back-off: the wait before the next attempt of a message that
 * arrived AGE seconds ago is AGE clamped to [MIN, MAX].
 */
long long qmgr_backoff(double age, long long min, long long max);

/*
 * The enhanced status code a deferral turns into when the message
 * expires: "4.x.y" becomes "5.x.y"; anything else becomes "5.4.7"
 * (delivery time expired).  Writes into BUF of SIZE bytes; returns BUF.
 */
const char *qmgr_expired_dsn(const char *dsn, char *buf, unsigned size);

#endif
