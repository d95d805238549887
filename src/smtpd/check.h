#ifndef DIRMAIL_SMTPD_CHECK_H
#define DIRMAIL_SMTPD_CHECK_H

/*
 * SMTP restrictions in the Postfix way: the lists smtpd_client_,
 * smtpd_helo_, smtpd_sender_, smtpd_relay_, smtpd_recipient_ and
 * smtpd_data_restrictions, each an ordered list of restrictions such as
 * permit_mynetworks, reject_unauth_destination or check_sender_access
 * TYPE:NAME.  A bare TYPE:NAME in a list is that list's access check
 * (check_client_access in smtpd_client_restrictions, and so on), as in
 * Postfix.
 *
 * Each list is evaluated on its own: a permit ends that list only, a
 * reject ends everything.  A restriction that needs what the client has
 * not sent yet (the HELO name, the sender, the recipient) is skipped.
 * A table that cannot answer gives "451 4.3.0 ...: Temporary lookup
 * failure": never a permit and never a 5xx.
 */

#include <stdbool.h>
#include <stddef.h>

#include "global/resolve.h"
#include "lib/cidr.h"

struct cfg;
struct map;
struct smtpd_checks;

/* What the session knows when it asks. */
struct check_state {
	const char *client_name;	/* verified name or "unknown" */
	const char *client_addr;	/* "192.0.2.6", "2001:db8::1" */
	const char *helo;		/* NULL before HELO/EHLO */
	const char *sender;		/* NULL before MAIL; "" for <> */
	const char *recipient;		/* at RCPT: internal form */
	const char *sasl_username;	/* NULL: not authenticated */
	bool unauth_pipelining;	/* client sent this command before it
				   could have read our previous reply */
};

/* A reply for the client: "CODE DSN TEXT". */
struct check_reply {
	int code;		/* 450, 554, ... */
	char dsn[16];		/* "5.7.1" */
	char *text;		/* "<x@aol.com>: Relay access denied";
				   allocated */
};

/* Free the text of R and zero it. */
void check_reply_clear(struct check_reply *r);

/*
 * Parse the restriction lists and codes of CFG and open their tables.
 * RESOLVE is the caller's (not owned) and must outlive *R.  Returns 0, or
 * -1 with a message naming the parameter and the bad word in *ERROR_R
 * (allocated).
 */
int smtpd_checks_init(const struct cfg *cfg, struct resolve *resolve,
    struct smtpd_checks **r, char **error_r);

/* Close the tables, free *C and NULL it. */
void smtpd_checks_free(struct smtpd_checks **c);

/*
 * The stages.  Each returns 0 (go on) or 1 with *REPLY filled (refuse;
 * free it with check_reply_clear()).  With smtpd_delay_reject = yes the
 * client, HELO and sender lists wait for RCPT, and the connect, helo and
 * mail checks return 0.
 */
int smtpd_check_connect(struct smtpd_checks *c, const struct check_state *s,
    struct check_reply *reply);
int smtpd_check_helo(struct smtpd_checks *c, const struct check_state *s,
    struct check_reply *reply);
int smtpd_check_mail(struct smtpd_checks *c, const struct check_state *s,
    struct check_reply *reply);

/*
 * At RCPT: (the delayed client, HELO and sender lists),
 * smtpd_relay_restrictions, smtpd_recipient_restrictions, then the
 * implicit unlisted-recipient check (smtpd_reject_unlisted_recipient).
 * On 0, *RESULT holds the recipient's expansion (status RCPT_OK, or
 * RCPT_UNKNOWN when unlisted recipients are allowed: final = the address
 * itself); the caller frees it with rcpt_result_clear().  On 1 *RESULT
 * holds nothing to free.
 */
int smtpd_check_rcpt(struct smtpd_checks *c, const struct check_state *s,
    struct rcpt_result *result, struct check_reply *reply);

/* At DATA: smtpd_data_restrictions ("<DATA>: Data command rejected"). */
int smtpd_check_data(struct smtpd_checks *c, const struct check_state *s,
    struct check_reply *reply);

/* Return permit_mynetworks' answer for ADDR (a table error: false). */
bool smtpd_check_mynetworks(const struct smtpd_checks *c, const char *addr);

/* Do the restriction lists ask the DNS (reject_unknown_*_domain)?  Such
   checks may wait seconds for an answer. */
bool smtpd_checks_use_dns(const struct smtpd_checks *c);

/* Is ADDR in smtpd_client_event_limit_exceptions? (A table error: no.) */
bool smtpd_check_rate_exempt(const struct smtpd_checks *c, const char *addr);

/*
 * Access-table lookups with Postfix's key forms (check_access.c).  Each
 * returns MAP_FOUND with the allocated value in *VALUE_R, MAP_NOTFOUND,
 * or MAP_ERROR with a message in *ERROR_R (valid until the next call on
 * MAP).  Pattern tables (cidr:, regexp:) get each whole key once.
 */

/* A client: the host NAME and its parent domains as check_access_domain()
   looks them up (not when NAME is "unknown"), then the address ADDR and
   its shorter prefixes ("192.0.2", "192.0", "192"; IPv6 by
   colon-separated groups). */
int check_access_client(struct map *map, const char *name, const char *addr,
    char **value_r, const char **error_r);

/* A host name (HELO, or a domain): NAME, then each parent domain, first
   as "parent.tld" (which matches its subdomains, as in Postfix's default
   parent_domain_matches_subdomains) and then as ".parent.tld". */
int check_access_domain(struct map *map, const char *name, char **value_r,
    const char **error_r);

/* An address (internal form): "user+ext@domain" and "user@domain", then
   the domain as check_access_domain() looks it up, then "user+ext@" and
   "user@" (the forms without the extension only when one of the
   characters of DELIM, recipient_delimiter, separates it; DELIM may be
   NULL).  The null address "" is looked up as "<>". */
int check_access_addr(struct map *map, const char *addr, const char *delim,
    char **value_r, const char **error_r);

/* Return ADDR without the address extension of its local part ("u+x@d"
   gives "u@d" when DELIM holds "+"), allocated; NULL when it has none. */
char *check_strip_extension(const char *addr, const char *delim);

/* What an access-table value asks for. */
enum access_action {
	ACCESS_PERMIT,	/* OK, PERMIT, all-numeric */
	ACCESS_DUNNO,	/* DUNNO: stop looking, go on */
	ACCESS_WARN,	/* WARN text: log, go on */
	ACCESS_REFUSE,	/* REJECT, DEFER, 4NN text, 5NN text */
	ACCESS_INVALID,	/* anything else: a configuration error */
};

/*
 * Parse the access-table VALUE.  For ACCESS_REFUSE, set *CODE_R, DSN_R
 * (16 bytes) and *TEXT_R (pointing into VALUE; "" when none) with
 * REJECT_CODE and DEFER_CODE used for REJECT and DEFER; for ACCESS_WARN,
 * *TEXT_R.
 */
enum access_action check_access_parse(const char *value, int reject_code,
    int defer_code, int *code_r, char *dsn_r, const char **text_r);

/*
 * A client network list (mynetworks): addresses, networks, "!" negations,
 * "/file" (more of the same, one or more a line) and type:name tables
 * looked up by the client address.  The first entry that matches decides.
 */
struct check_net {
	bool neg;
	struct cidr net;
	struct map *map;	/* a table, or NULL */
};

struct check_netlist {
	struct check_net *v;
	size_t n;
};

/* Add WORD to L.  Returns 0, or -1 with a message naming PARAM in
   *ERROR_R (allocated). */
int check_netlist_add(struct check_netlist *l, const char *word,
    const char *param, char **error_r);

/* Does ADDR match L?  Returns 1, 0, or -1 when a table failed (logged). */
int check_netlist_match(const struct check_netlist *l, const char *addr);

/* Close the tables of L and empty it. */
void check_netlist_free(struct check_netlist *l);

/* Return NAME without one trailing dot (allocated). */
char *check_strip_dot(const char *name);

/* True when HELO is a valid host name (letters, digits, "-", "_"; not all
   numeric), an IP address, or an address literal "[192.0.2.1]",
   "[IPv6:2001:db8::1]". */
bool check_valid_helo(const char *helo);

/* True when NAME is a fully-qualified host name, an IP address or an
   address literal. */
bool check_is_fqdn(const char *name);

/*
 * Does DOMAIN have an MX, A or AAAA record?  One attempt with a short
 * timeout; names under ".invalid" are never looked up.  Returns 1, 0 (no
 * such domain or no such records) or -1 (temporary failure).
 */
int check_dns_domain(const char *domain);

#endif
