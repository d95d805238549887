/*
 * SMTP restrictions: the restriction lists of the session's stages, the
 * restrictions themselves and their reply texts.  Access-table keys and
 * values live in check_access.c.
 */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "global/addr.h"
#include "global/resolve.h"
#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "maps/maps.h"
#include "smtpd/check.h"

/* The restriction lists, in the order RCPT evaluates them. */
enum list_id {
	L_CLIENT, L_HELO, L_SENDER, L_RELAY, L_RCPT, L_DATA, L_COUNT
};

static const char *const list_params[L_COUNT] = {
	"smtpd_client_restrictions", "smtpd_helo_restrictions",
	"smtpd_sender_restrictions", "smtpd_relay_restrictions",
	"smtpd_recipient_restrictions", "smtpd_data_restrictions",
};

/* What a reply text names: "<NAME>: CLASS rejected: ...". */
enum what { W_CLIENT, W_HELO, W_SENDER, W_RCPT, W_DATA };

static const char *const what_class[] = {
	"Client host", "Helo command", "Sender address", "Recipient address",
	"Data command",
};

static const enum what list_what[L_COUNT] = {
	W_CLIENT, W_HELO, W_SENDER, W_RCPT, W_RCPT, W_DATA,
};

/* Results of one restriction. */
enum { R_DUNNO, R_PERMIT, R_REJECT };

/* Restriction flags: what it needs (skipped without it), and whether it
   takes a table as its next word. */
#define NEED_HELO	0x01
#define NEED_SENDER	0x02
#define NEED_RCPT	0x04
#define TAKES_TABLE	0x08

struct restriction;
struct ctx;
typedef int restriction_fn(struct ctx *, const struct restriction *);

struct rdef {
	const char *name;
	restriction_fn *fn;
	unsigned flags;
};

struct restriction {
	const struct rdef *def;
	struct map *map;	/* TAKES_TABLE */
};

struct rlist {
	struct restriction *v;
	size_t n;
};

struct smtpd_checks {
	struct resolve *resolve;
	struct rlist lists[L_COUNT];
	struct check_netlist mynetworks;
	struct check_netlist exceptions;
	struct maplist *login_maps;
	char *delim;		/* recipient_delimiter */
	bool delay_reject;
	bool reject_unlisted_rcpt;
	bool reject_unlisted_sender;
	int access_reject_code, access_defer_code;
	int reject_code, defer_code, relay_code;
	int unknown_address_code, non_fqdn_code, invalid_hostname_code;
	int unknown_code[4];	/* by enum rcpt_unknown */
};

/* One evaluation. */
struct ctx {
	struct smtpd_checks *c;
	const struct check_state *s;
	struct check_reply *reply;
	enum list_id list;
	struct rcpt_result rcpt;	/* resolve_recipient(), once */
	bool have_rcpt;
};

void
check_reply_clear(struct check_reply *r)
{
	free(r->text);
	memset(r, 0, sizeof(*r));
}

/* Return the name W stands for in reply texts (allocated). */
static char *
what_name(const struct ctx *x, enum what w)
{
	const struct check_state *s = x->s;

	switch (w) {
	case W_CLIENT:
		return xasprintf("%s[%s]", s->client_name, s->client_addr);
	case W_HELO:
		return xstrdup(s->helo);
	case W_SENDER:
		return addr_external(s->sender);
	case W_RCPT:
		return addr_external(s->recipient);
	case W_DATA:
		break;
	}
	return xstrdup("DATA");
}

/* Fill the reply with CODE, DSN (its class from CODE) and the text;
   return R_REJECT. */
static int __attribute__((format(printf, 4, 5)))
reply_set(struct ctx *x, int code, const char *dsn, const char *fmt, ...)
{
	struct check_reply *r = x->reply;
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		log_fatal("out of memory");
	va_end(ap);
	free(r->text);
	r->text = text;
	r->code = code;
	snprintf(r->dsn, sizeof(r->dsn), "%d%s", code / 100, dsn + 1);
	return R_REJECT;
}

/* Reply "<NAME>: CLASS rejected: REASON" about W. */
static int
reject_what(struct ctx *x, enum what w, int code, const char *dsn,
    const char *reason)
{
	char *name = what_name(x, w);

	reply_set(x, code, dsn, "<%s>: %s rejected: %s", name, what_class[w],
	    reason);
	free(name);
	return R_REJECT;
}

/* Log WHY and reply "451 4.3.0 <NAME>: Temporary lookup failure". */
static int
reject_tempfail(struct ctx *x, enum what w, const char *why)
{
	char *name = what_name(x, w);

	log_warning("%s[%s]: <%s>: temporary lookup failure: %s",
	    x->s->client_name, x->s->client_addr, name, why);
	reply_set(x, 451, "4.3.0", "<%s>: Temporary lookup failure", name);
	free(name);
	return R_REJECT;
}

/* The what of the list being evaluated. */
static enum what
ctx_what(const struct ctx *x)
{
	return list_what[x->list];
}

bool
smtpd_check_mynetworks(const struct smtpd_checks *c, const char *addr)
{
	return check_netlist_match(&c->mynetworks, addr) == 1;
}

bool
smtpd_check_rate_exempt(const struct smtpd_checks *c, const char *addr)
{
	return check_netlist_match(&c->exceptions, addr) == 1;
}

/* reject_unknown_sender_domain and reject_unknown_recipient_domain ask
   the DNS. */
static int r_unknown_sender_domain(struct ctx *x, const struct restriction *r);
static int r_unknown_rcpt_domain(struct ctx *x, const struct restriction *r);

bool
smtpd_checks_use_dns(const struct smtpd_checks *c)
{
	size_t l, i;

	for (l = 0; l < L_COUNT; l++)
		for (i = 0; i < c->lists[l].n; i++)
			if (c->lists[l].v[i].def->fn == r_unknown_sender_domain ||
			    c->lists[l].v[i].def->fn == r_unknown_rcpt_domain)
				return true;
	return false;
}

/* permit. */
static int
r_permit(struct ctx *x, const struct restriction *r)
{
	(void)x, (void)r;
	return R_PERMIT;
}

/* reject. */
static int
r_reject(struct ctx *x, const struct restriction *r)
{
	(void)r;
	return reject_what(x, ctx_what(x), x->c->reject_code, "5.7.1",
	    "Access denied");
}

/* defer. */
static int
r_defer(struct ctx *x, const struct restriction *r)
{
	(void)r;
	return reject_what(x, ctx_what(x), x->c->defer_code, "4.7.1",
	    "Access denied");
}

/* permit_mynetworks. */
static int
r_permit_mynetworks(struct ctx *x, const struct restriction *r)
{
	int m = check_netlist_match(&x->c->mynetworks, x->s->client_addr);

	(void)r;
	if (m < 0)
		return reject_tempfail(x, W_CLIENT, "mynetworks");
	return m == 1 ? R_PERMIT : R_DUNNO;
}

/* permit_sasl_authenticated. */
static int
r_permit_sasl(struct ctx *x, const struct restriction *r)
{
	(void)r;
	return x->s->sasl_username != NULL ? R_PERMIT : R_DUNNO;
}

/* reject_unauth_pipelining. */
static int
r_unauth_pipelining(struct ctx *x, const struct restriction *r)
{
	(void)r;
	if (!x->s->unauth_pipelining)
		return R_DUNNO;
	return reject_what(x, ctx_what(x), 503, "5.5.0",
	    "Improper use of SMTP command pipelining");
}

/* Set *OURS_R to whether ADDR resolves to one of our classes.  Returns 0,
   or R_REJECT with the reply set. */
static int
addr_is_ours(struct ctx *x, const char *addr, enum what w, bool *ours_r)
{
	struct resolved res;
	const char *why = NULL;

	memset(&res, 0, sizeof(res));
	if (resolve_addr(x->c->resolve, addr, &res, &why) < 0) {
		resolved_clear(&res);
		return reject_tempfail(x, w, why != NULL ? why : "resolve");
	}
	/* Sender-specified routing is never ours (Postfix: a routed
	   address in a virtual domain is relayed, so it needs permission). */
	*ours_r = res.class != ADDR_CLASS_DEFAULT && !res.routed;
	resolved_clear(&res);
	return 0;
}

/* reject_ and defer_unauth_destination with CODE and DSN. */
static int
unauth_destination(struct ctx *x, int code, const char *dsn)
{
	char *name;
	bool ours;

	if (addr_is_ours(x, x->s->recipient, W_RCPT, &ours) != 0)
		return R_REJECT;
	if (ours)
		return R_DUNNO;
	name = addr_external(x->s->recipient);
	reply_set(x, code, dsn, "<%s>: Relay access denied", name);
	free(name);
	return R_REJECT;
}

/* reject_unauth_destination. */
static int
r_reject_unauth_dest(struct ctx *x, const struct restriction *r)
{
	(void)r;
	return unauth_destination(x, x->c->relay_code, "5.7.1");
}

/* defer_unauth_destination. */
static int
r_defer_unauth_dest(struct ctx *x, const struct restriction *r)
{
	(void)r;
	return unauth_destination(x, 454, "4.7.1");
}

/* permit_auth_destination. */
static int
r_permit_auth_dest(struct ctx *x, const struct restriction *r)
{
	bool ours;

	(void)r;
	if (addr_is_ours(x, x->s->recipient, W_RCPT, &ours) != 0)
		return R_REJECT;
	return ours ? R_PERMIT : R_DUNNO;
}

/* Reply that the address W names is not in the table RES says, with DSN
   ("x.1.1" for recipients, "x.1.0" for senders). */
static int
reject_unknown_user(struct ctx *x, const struct rcpt_result *res,
    enum what w, const char *dsn)
{
	static const char *const tables[] = {
		[RCPT_UNKNOWN_LOCAL] = "local recipient",
		[RCPT_UNKNOWN_ALIAS] = "virtual alias",
		[RCPT_UNKNOWN_VIRTUAL] = "virtual mailbox",
		[RCPT_UNKNOWN_RELAY] = "relay recipient",
	};
	char *reason;

	reason = xasprintf("User unknown in %s table", tables[res->unknown]);
	reject_what(x, w, x->c->unknown_code[res->unknown], dsn, reason);
	free(reason);
	return R_REJECT;
}

/* Return resolve_recipient()'s status for the recipient, asked once. */
static int
rcpt_lookup(struct ctx *x)
{
	if (!x->have_rcpt) {
		memset(&x->rcpt, 0, sizeof(x->rcpt));
		resolve_recipient(x->c->resolve, x->s->recipient, &x->rcpt);
		x->have_rcpt = true;
	}
	return x->rcpt.status;
}

/* reject_unlisted_recipient. */
static int
r_unlisted_rcpt(struct ctx *x, const struct restriction *r)
{
	(void)r;
	switch (rcpt_lookup(x)) {
	case RCPT_TEMPFAIL:
		return reject_tempfail(x, W_RCPT, x->rcpt.error != NULL ?
		    x->rcpt.error : "resolve");
	case RCPT_UNKNOWN:
		return reject_unknown_user(x, &x->rcpt, W_RCPT, "5.1.1");
	}
	return R_DUNNO;
}

/* reject_unlisted_sender (the null sender is exempt). */
static int
r_unlisted_sender(struct ctx *x, const struct restriction *r)
{
	struct rcpt_result res;
	int ret = R_DUNNO;

	(void)r;
	if (x->s->sender[0] == '\0')
		return R_DUNNO;
	memset(&res, 0, sizeof(res));
	switch (resolve_sender(x->c->resolve, x->s->sender, &res)) {
	case RCPT_TEMPFAIL:
		ret = reject_tempfail(x, W_SENDER, res.error != NULL ?
		    res.error : "resolve");
		break;
	case RCPT_UNKNOWN:
		ret = reject_unknown_user(x, &res, W_SENDER, "5.1.0");
		break;
	}
	rcpt_result_clear(&res);
	return ret;
}

/* reject_invalid_helo_hostname. */
static int
r_invalid_helo(struct ctx *x, const struct restriction *r)
{
	(void)r;
	if (check_valid_helo(x->s->helo))
		return R_DUNNO;
	return reject_what(x, W_HELO, x->c->invalid_hostname_code, "5.5.2",
	    "Invalid name");
}

/* reject_non_fqdn_helo_hostname. */
static int
r_non_fqdn_helo(struct ctx *x, const struct restriction *r)
{
	(void)r;
	if (check_is_fqdn(x->s->helo))
		return R_DUNNO;
	return reject_what(x, W_HELO, x->c->non_fqdn_code, "5.5.2",
	    "need fully-qualified hostname");
}

/* Reject ADDR (named by W) unless its domain is fully qualified. */
static int
non_fqdn_addr(struct ctx *x, const char *addr, enum what w)
{
	const char *at = strrchr(addr, '@');

	if (at != NULL && check_is_fqdn(at + 1))
		return R_DUNNO;
	return reject_what(x, w, x->c->non_fqdn_code, "5.5.2",
	    "need fully-qualified address");
}

/* reject_non_fqdn_sender (the null sender is exempt). */
static int
r_non_fqdn_sender(struct ctx *x, const struct restriction *r)
{
	(void)r;
	if (x->s->sender[0] == '\0')
		return R_DUNNO;
	return non_fqdn_addr(x, x->s->sender, W_SENDER);
}

/* reject_non_fqdn_recipient. */
static int
r_non_fqdn_rcpt(struct ctx *x, const struct restriction *r)
{
	(void)r;
	return non_fqdn_addr(x, x->s->recipient, W_RCPT);
}

/* Reject ADDR (named by W) when its domain is neither ours nor in the
   DNS.  DSN is "x.1.8" for senders, "x.1.2" for recipients. */
static int
unknown_domain(struct ctx *x, const char *addr, enum what w, const char *dsn)
{
	const char *at = strrchr(addr, '@');
	int code = x->c->unknown_address_code, found;
	bool ours;

	if (at == NULL || at[1] == '\0' || at[1] == '[')
		return R_DUNNO;
	if (addr_is_ours(x, addr, w, &ours) != 0)
		return R_REJECT;
	if (ours)
		return R_DUNNO;
	found = check_dns_domain(at + 1);
	if (found == 1)
		return R_DUNNO;
	/* A temporary failure is never permanent. */
	if (found < 0 && code >= 500)
		code = 450;
	return reject_what(x, w, code, dsn, "Domain not found");
}

/* reject_unknown_sender_domain (the null sender is exempt). */
static int
r_unknown_sender_domain(struct ctx *x, const struct restriction *r)
{
	(void)r;
	if (x->s->sender[0] == '\0')
		return R_DUNNO;
	return unknown_domain(x, x->s->sender, W_SENDER, "4.1.8");
}

/* reject_unknown_recipient_domain. */
static int
r_unknown_rcpt_domain(struct ctx *x, const struct restriction *r)
{
	(void)r;
	return unknown_domain(x, x->s->recipient, W_RCPT, "4.1.2");
}

/* True when LOGIN is one of the comma or space separated OWNERS. */
static bool
login_in(const char *owners, const char *login)
{
	size_t len = strlen(login), n;
	const char *p = owners;

	for (;;) {
		p += strspn(p, ", \t");
		if (*p == '\0')
			return false;
		n = strcspn(p, ", \t");
		if (n == len && strncasecmp(p, login, len) == 0)
			return true;
		p += n;
	}
}

/* Look the sender up in smtpd_sender_login_maps: the address, then the
   address without its extension, then "@domain". */
static int
login_lookup(struct ctx *x, char **owners_r, const char **why_r)
{
	char *bare = check_strip_extension(x->s->sender, x->c->delim);
	int lr = MAP_NOTFOUND;

	if (bare != NULL)
		lr = maplist_lookup(x->c->login_maps, x->s->sender, owners_r,
		    why_r);
	if (lr == MAP_NOTFOUND)
		lr = maplist_lookup_addr(x->c->login_maps, bare != NULL ? bare :
		    x->s->sender, false, owners_r, why_r);
	free(bare);
	return lr;
}

/* reject_sender_login_mismatch: an authenticated client must own the
   sender address (smtpd_sender_login_maps); an unauthenticated one must
   not use an address that a login owns. */
static int
r_sender_login(struct ctx *x, const struct restriction *r)
{
	const char *login = x->s->sasl_username, *why = NULL;
	char *owners = NULL, *reason;
	int lr, ret = R_DUNNO;

	(void)r;
	if (x->s->sender[0] == '\0')
		return R_DUNNO;
	lr = login_lookup(x, &owners, &why);
	if (lr == MAP_ERROR)
		return reject_tempfail(x, W_SENDER, why);
	if (login != NULL && (lr != MAP_FOUND || !login_in(owners, login))) {
		reason = xasprintf("not owned by user %s", login);
		ret = reject_what(x, W_SENDER, 553, "5.7.1", reason);
		free(reason);
	} else if (login == NULL && lr == MAP_FOUND)
		ret = reject_what(x, W_SENDER, 553, "5.7.1", "not logged in");
	free(owners);
	return ret;
}

/* Act on the result LR of looking W up in the table of R. */
static int
access_result(struct ctx *x, const struct restriction *r, enum what w,
    int lr, char *value, const char *why)
{
	const char *text = "";
	char dsn[16], *name;
	int code = 0, ret = R_DUNNO;

	if (lr == MAP_ERROR)
		return reject_tempfail(x, w, why);
	if (lr == MAP_NOTFOUND)
		return R_DUNNO;
	switch (check_access_parse(value, x->c->access_reject_code,
	    x->c->access_defer_code, &code, dsn, &text)) {
	case ACCESS_PERMIT:
		ret = R_PERMIT;
		break;
	case ACCESS_DUNNO:
		break;
	case ACCESS_WARN:
		name = what_name(x, w);
		log_info("warn: %s[%s]: <%s>: %s triggers WARN action: %s",
		    x->s->client_name, x->s->client_addr, name, what_class[w],
		    text);
		free(name);
		break;
	case ACCESS_REFUSE:
		ret = reject_what(x, w, code, dsn, *text != '\0' ? text :
		    "Access denied");
		break;
	case ACCESS_INVALID:
		log_warning("%s: unknown access action \"%s\"", r->map->spec,
		    value);
		ret = reply_set(x, 451, "4.3.5", "Server configuration error");
		break;
	}
	free(value);
	return ret;
}

/* check_client_access TABLE. */
static int
r_client_access(struct ctx *x, const struct restriction *r)
{
	const char *why = NULL;
	char *value = NULL;
	int lr;

	lr = check_access_client(r->map, x->s->client_name, x->s->client_addr,
	    &value, &why);
	return access_result(x, r, W_CLIENT, lr, value, why);
}

/* check_helo_access TABLE. */
static int
r_helo_access(struct ctx *x, const struct restriction *r)
{
	const char *why = NULL;
	char *value = NULL, *name = check_strip_dot(x->s->helo);
	int lr;

	lr = check_access_domain(r->map, name, &value, &why);
	free(name);
	return access_result(x, r, W_HELO, lr, value, why);
}

/* check_sender_access TABLE. */
static int
r_sender_access(struct ctx *x, const struct restriction *r)
{
	const char *why = NULL;
	char *value = NULL;
	int lr;

	lr = check_access_addr(r->map, x->s->sender, x->c->delim, &value,
	    &why);
	return access_result(x, r, W_SENDER, lr, value, why);
}

/* check_recipient_access TABLE. */
static int
r_rcpt_access(struct ctx *x, const struct restriction *r)
{
	const char *why = NULL;
	char *value = NULL;
	int lr;

	lr = check_access_addr(r->map, x->s->recipient, x->c->delim, &value,
	    &why);
	return access_result(x, r, W_RCPT, lr, value, why);
}

static const struct rdef restrictions[] = {
	{ "permit", r_permit, 0 },
	{ "reject", r_reject, 0 },
	{ "defer", r_defer, 0 },
	{ "permit_mynetworks", r_permit_mynetworks, 0 },
	{ "permit_sasl_authenticated", r_permit_sasl, 0 },
	{ "reject_unauth_pipelining", r_unauth_pipelining, 0 },
	{ "reject_unauth_destination", r_reject_unauth_dest, NEED_RCPT },
	{ "defer_unauth_destination", r_defer_unauth_dest, NEED_RCPT },
	{ "permit_auth_destination", r_permit_auth_dest, NEED_RCPT },
	{ "reject_unlisted_recipient", r_unlisted_rcpt, NEED_RCPT },
	{ "reject_unlisted_sender", r_unlisted_sender, NEED_SENDER },
	{ "reject_invalid_helo_hostname", r_invalid_helo, NEED_HELO },
	{ "reject_invalid_hostname", r_invalid_helo, NEED_HELO },
	{ "reject_non_fqdn_helo_hostname", r_non_fqdn_helo, NEED_HELO },
	{ "reject_non_fqdn_hostname", r_non_fqdn_helo, NEED_HELO },
	{ "reject_non_fqdn_sender", r_non_fqdn_sender, NEED_SENDER },
	{ "reject_non_fqdn_recipient", r_non_fqdn_rcpt, NEED_RCPT },
	{ "reject_unknown_sender_domain", r_unknown_sender_domain,
	    NEED_SENDER },
	{ "reject_unknown_recipient_domain", r_unknown_rcpt_domain,
	    NEED_RCPT },
	{ "reject_sender_login_mismatch", r_sender_login, NEED_SENDER },
	{ "check_client_access", r_client_access, TAKES_TABLE },
	{ "check_helo_access", r_helo_access, NEED_HELO | TAKES_TABLE },
	{ "check_sender_access", r_sender_access, NEED_SENDER | TAKES_TABLE },
	{ "check_recipient_access", r_rcpt_access, NEED_RCPT | TAKES_TABLE },
};

/* Return the restriction called NAME, or NULL. */
static const struct rdef *
rdef_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(restrictions) / sizeof(restrictions[0]); i++)
		if (strcasecmp(restrictions[i].name, name) == 0)
			return &restrictions[i];
	return NULL;
}

/* Close the tables of L and free it. */
static void
rlist_free(struct rlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		map_close(&l->v[i].map);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* The access check that a bare "type:name" stands for in each list
   (Postfix's shorthand); none in the DATA list. */
static const char *const list_access[L_COUNT] = {
	"check_client_access", "check_helo_access", "check_sender_access",
	"check_recipient_access", "check_recipient_access", NULL,
};

/* Parse the restriction at *WP of the list ID into R, opening its table;
   leave *WP at the last word it used. */
static int
restriction_parse(struct restriction *r, char *const **wp, enum list_id id,
    char **error_r)
{
	const char *param = list_params[id], *spec = NULL;
	char *const *w = *wp;
	char *err;

	memset(r, 0, sizeof(*r));
	if ((r->def = rdef_find(*w)) == NULL && strchr(*w, ':') != NULL &&
	    list_access[id] != NULL) {
		r->def = rdef_find(list_access[id]);
		spec = *w;
	}
	if (r->def == NULL) {
		*error_r = xasprintf("%s: unknown restriction \"%s\"", param,
		    *w);
		return -1;
	}
	if ((r->def->flags & TAKES_TABLE) && spec == NULL) {
		if (w[1] == NULL) {
			*error_r = xasprintf("%s: %s needs a type:name table",
			    param, *w);
			return -1;
		}
		spec = *++w;
	}
	*wp = w;
	if (spec != NULL && map_open(spec, &r->map, &err) < 0) {
		*error_r = xasprintf("%s: %s", param, err);
		free(err);
		return -1;
	}
	return 0;
}

/* Parse the words W of the list ID into L. */
static int
rlist_parse(struct rlist *l, char *const *w, enum list_id id,
    char **error_r)
{
	struct restriction r;

	for (; *w != NULL; w++) {
		if (restriction_parse(&r, &w, id, error_r) < 0)
			return -1;
		l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
		l->v[l->n++] = r;
	}
	return 0;
}

/* True when L holds reject_unauth_destination, defer_unauth_destination,
   reject or defer: the restrictions that stop open relaying. */
static bool
rlist_stops_relay(const struct rlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		restriction_fn *fn = l->v[i].def->fn;

		if (fn == r_reject_unauth_dest || fn == r_defer_unauth_dest ||
		    fn == r_reject || fn == r_defer)
			return true;
	}
	return false;
}

/* Read the reply codes, the switches and the recipient delimiter of CFG
   into C. */
static void
checks_read_codes(struct smtpd_checks *c, const struct cfg *cfg)
{
	c->delim = xstrdup(cfg_str(cfg, "recipient_delimiter"));
	c->delay_reject = cfg_bool(cfg, "smtpd_delay_reject");
	c->reject_unlisted_rcpt = cfg_bool(cfg,
	    "smtpd_reject_unlisted_recipient");
	c->reject_unlisted_sender = cfg_bool(cfg,
	    "smtpd_reject_unlisted_sender");
	c->access_reject_code = (int)cfg_int(cfg, "access_map_reject_code");
	c->access_defer_code = (int)cfg_int(cfg, "access_map_defer_code");
	c->reject_code = (int)cfg_int(cfg, "reject_code");
	c->defer_code = (int)cfg_int(cfg, "defer_code");
	c->relay_code = (int)cfg_int(cfg, "relay_domains_reject_code");
	c->unknown_address_code = (int)cfg_int(cfg,
	    "unknown_address_reject_code");
	c->non_fqdn_code = (int)cfg_int(cfg, "non_fqdn_reject_code");
	c->invalid_hostname_code = (int)cfg_int(cfg,
	    "invalid_hostname_reject_code");
	c->unknown_code[RCPT_UNKNOWN_LOCAL] = (int)cfg_int(cfg,
	    "unknown_local_recipient_reject_code");
	c->unknown_code[RCPT_UNKNOWN_ALIAS] = (int)cfg_int(cfg,
	    "unknown_virtual_alias_reject_code");
	c->unknown_code[RCPT_UNKNOWN_VIRTUAL] = (int)cfg_int(cfg,
	    "unknown_virtual_mailbox_reject_code");
	c->unknown_code[RCPT_UNKNOWN_RELAY] = (int)cfg_int(cfg,
	    "unknown_relay_recipient_reject_code");
}

/* Parse the lists, networks and tables of CFG into C. */
static int
checks_parse(struct smtpd_checks *c, const struct cfg *cfg, char **error_r)
{
	size_t i;
	char *const *w;

	for (i = 0; i < L_COUNT; i++) {
		if (rlist_parse(&c->lists[i], cfg_list(cfg, list_params[i]),
		    (enum list_id)i, error_r) < 0)
			return -1;
	}
	if (!rlist_stops_relay(&c->lists[L_RELAY]) &&
	    !rlist_stops_relay(&c->lists[L_RCPT])) {
		*error_r = xstrdup("smtpd_relay_restrictions and "
		    "smtpd_recipient_restrictions: need "
		    "reject_unauth_destination or defer_unauth_destination");
		return -1;
	}
	for (w = cfg_list(cfg, "mynetworks"); *w != NULL; w++)
		if (check_netlist_add(&c->mynetworks, *w, "mynetworks",
		    error_r) < 0)
			return -1;
	for (w = cfg_list(cfg, "smtpd_client_event_limit_exceptions");
	    *w != NULL; w++)
		if (check_netlist_add(&c->exceptions, *w,
		    "smtpd_client_event_limit_exceptions", error_r) < 0)
			return -1;
	if (maplist_open(cfg_list(cfg, "smtpd_sender_login_maps"),
	    &c->login_maps, error_r) < 0)
		return -1;
	return 0;
}

int
smtpd_checks_init(const struct cfg *cfg, struct resolve *resolve,
    struct smtpd_checks **r, char **error_r)
{
	struct smtpd_checks *c = xcalloc(1, sizeof(*c));

	c->resolve = resolve;
	checks_read_codes(c, cfg);
	if (checks_parse(c, cfg, error_r) < 0) {
		smtpd_checks_free(&c);
		return -1;
	}
	*r = c;
	return 0;
}

void
smtpd_checks_free(struct smtpd_checks **cp)
{
	struct smtpd_checks *c = *cp;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < L_COUNT; i++)
		rlist_free(&c->lists[i]);
	check_netlist_free(&c->mynetworks);
	check_netlist_free(&c->exceptions);
	if (c->login_maps != NULL)
		maplist_close(&c->login_maps);
	free(c->delim);
	free(c);
	*cp = NULL;
}

/* True when the session lacks what a restriction with FLAGS needs. */
static bool
ctx_lacks(const struct ctx *x, unsigned flags)
{
	return ((flags & NEED_HELO) && x->s->helo == NULL) ||
	    ((flags & NEED_SENDER) && x->s->sender == NULL) ||
	    ((flags & NEED_RCPT) && x->s->recipient == NULL);
}

/* Evaluate the list ID.  Returns 0 (go on: permitted or nothing said)
   or 1 (refused, reply set). */
static int
run_list(struct ctx *x, enum list_id id)
{
	const struct rlist *l = &x->c->lists[id];
	size_t i;
	int ret;

	x->list = id;
	for (i = 0; i < l->n; i++) {
		if (ctx_lacks(x, l->v[i].def->flags))
			continue;
		ret = l->v[i].def->fn(x, &l->v[i]);
		if (ret == R_PERMIT)
			return 0;
		if (ret == R_REJECT)
			return 1;
	}
	return 0;
}

/* Start an evaluation of S with the reply in REPLY. */
static void
ctx_init(struct ctx *x, struct smtpd_checks *c, const struct check_state *s,
    struct check_reply *reply)
{
	memset(x, 0, sizeof(*x));
	memset(reply, 0, sizeof(*reply));
	x->c = c;
	x->s = s;
	x->reply = reply;
}

/* The sender list, then the implicit unlisted-sender check. */
static int
run_sender(struct ctx *x)
{
	if (run_list(x, L_SENDER) != 0)
		return 1;
	x->list = L_SENDER;
	if (x->c->reject_unlisted_sender && x->s->sender != NULL &&
	    r_unlisted_sender(x, NULL) == R_REJECT)
		return 1;
	return 0;
}

/* Evaluate the list ID at its own stage: not before RCPT with
   smtpd_delay_reject, except for DATA. */
static int
run_stage(struct smtpd_checks *c, const struct check_state *s,
    struct check_reply *reply, enum list_id id)
{
	struct ctx x;

	ctx_init(&x, c, s, reply);
	if (c->delay_reject && id != L_DATA)
		return 0;
	return id == L_SENDER ? run_sender(&x) : run_list(&x, id);
}

int
smtpd_check_connect(struct smtpd_checks *c, const struct check_state *s,
    struct check_reply *reply)
{
	return run_stage(c, s, reply, L_CLIENT);
}

int
smtpd_check_helo(struct smtpd_checks *c, const struct check_state *s,
    struct check_reply *reply)
{
	return run_stage(c, s, reply, L_HELO);
}

int
smtpd_check_mail(struct smtpd_checks *c, const struct check_state *s,
    struct check_reply *reply)
{
	return run_stage(c, s, reply, L_SENDER);
}

int
smtpd_check_data(struct smtpd_checks *c, const struct check_state *s,
    struct check_reply *reply)
{
	return run_stage(c, s, reply, L_DATA);
}

/* The implicit unlisted-recipient check; on 0 hand the expansion to
   RESULT. */
static int
rcpt_final(struct ctx *x, struct rcpt_result *result)
{
	int status = rcpt_lookup(x);

	x->list = L_RCPT;
	if (status == RCPT_TEMPFAIL || (status == RCPT_UNKNOWN &&
	    x->c->reject_unlisted_rcpt))
		return r_unlisted_rcpt(x, NULL) == R_REJECT;
	if (status == RCPT_UNKNOWN) {
		strv_free(&x->rcpt.final);
		x->rcpt.final = xcalloc(2, sizeof(*x->rcpt.final));
		x->rcpt.final[0] = xstrdup(x->s->recipient);
	}
	*result = x->rcpt;
	x->have_rcpt = false;
	return 0;
}

int
smtpd_check_rcpt(struct smtpd_checks *c, const struct check_state *s,
    struct rcpt_result *result, struct check_reply *reply)
{
	struct ctx x;
	int ret = 1;

	ctx_init(&x, c, s, reply);
	memset(result, 0, sizeof(*result));
	if (c->delay_reject && (run_list(&x, L_CLIENT) != 0 ||
	    run_list(&x, L_HELO) != 0 || run_sender(&x) != 0))
		goto out;
	if (run_list(&x, L_RELAY) != 0 || run_list(&x, L_RCPT) != 0)
		goto out;
	ret = rcpt_final(&x, result);
out:
	if (x.have_rcpt)
		rcpt_result_clear(&x.rcpt);
	return ret;
}
