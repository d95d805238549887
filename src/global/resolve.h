#ifndef DIRMAIL_GLOBAL_RESOLVE_H
#define DIRMAIL_GLOBAL_RESOLVE_H

/*
 * Recipient resolution as the router sees it: the address class of an
 * address (after sender-specified routing is resolved), virtual alias
 * expansion, and the check of each final address in the table of its
 * class.  A table that cannot answer is a temporary failure, never
 * "unknown".
 */

#include <stdbool.h>

struct cfg;

/* Where an address goes, as the router sees it. */
enum addr_class {
	ADDR_CLASS_LOCAL,	/* mydestination (and localhost forms):
				   local system users */
	ADDR_CLASS_ALIAS,	/* virtual_alias_domains: every address
				   must be an alias */
	ADDR_CLASS_VIRTUAL,	/* virtual_mailbox_domains */
	ADDR_CLASS_RELAY,	/* relay_domains (not when routed) */
	ADDR_CLASS_DEFAULT,	/* anything else: remote, relayed only
				   when permitted */
};

struct resolve;		/* the configuration and open tables */

/* Open the tables and read the domain lists of CFG (names below).  Returns 0,
   or -1 with a message naming the parameter in *ERROR_R (allocated). */
int resolve_init(const struct cfg *cfg, struct resolve **r, char **error_r);

/* Close the tables and free *R; NULLs *R. */
void resolve_free(struct resolve **r);

/* The router's view of one address. */
struct resolved {
	enum addr_class class;
	char *addr;	/* after the router's rewriting (percent hack,
			   bang path, dequoting); allocated */
	bool rewritten;	/* sender-specified routing was found and applied */
	bool routed;	/* not in a local domain, and the local part still
			   holds routing operators ("@", "!" or "%"): the
			   destination is uncertain, never an authorised
			   one for relaying */
};

/* Resolve ADDR (internal form) without any table lookup except domain-list
   tables.  Returns 0, or -1 with *ERROR_R (static or from the map: valid
   until the next call) when a domain list table failed (temporary). */
int resolve_addr(struct resolve *r, const char *addr, struct resolved *res,
    const char **error_r);

/* Free what RES holds. */
void resolved_clear(struct resolved *res);

enum rcpt_status {
	RCPT_OK = 1,		/* valid; final[] holds where it goes */
	RCPT_UNKNOWN = 0,	/* no such recipient; see unknown */
	RCPT_TEMPFAIL = -1,	/* a table failed: 451 4.3.0; see error */
};
enum rcpt_unknown {		/* which table did not know it */
	RCPT_UNKNOWN_LOCAL,	/* "User unknown in local recipient table" */
	RCPT_UNKNOWN_ALIAS,	/* "User unknown in virtual alias table" */
	RCPT_UNKNOWN_VIRTUAL,	/* "User unknown in virtual mailbox table" */
	RCPT_UNKNOWN_RELAY,	/* "User unknown in relay recipient table" */
};
struct rcpt_result {
	enum rcpt_status status;
	enum addr_class class;		/* of the address as given */
	char **final;			/* RCPT_OK: NULL-terminated final
					   recipients after virtual alias
					   expansion, internal form */
	enum rcpt_unknown unknown;	/* RCPT_UNKNOWN */
	char *error;			/* RCPT_TEMPFAIL: why (for the log) */
};

/* Check recipient ADDR: resolve it, expand virtual_alias_maps (recursively,
   one-to-many), and check every final address in the table of its class.
   Fills *RES (free with rcpt_result_clear()).  Returns RES->status. */
int resolve_recipient(struct resolve *r, const char *addr,
    struct rcpt_result *res);

/* Free what RES holds. */
void rcpt_result_clear(struct rcpt_result *res);

/* Is ADDR (a sender) a known address in one of our domains?  Same lookups,
   for reject_unlisted_sender.  Returns RES->status as above. */
int resolve_sender(struct resolve *r, const char *addr,
    struct rcpt_result *res);

#endif
