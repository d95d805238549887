/*
 * Recipient resolution: the address class of an address after
 * sender-specified routing is resolved (as Postfix's trivial-rewrite
 * does), virtual alias expansion (as Postfix's cleanup does) and the
 * check of every final address in the table of its class.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "global/addr.h"
#include "global/resolve.h"
#include "lib/cfg.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "maps/maps.h"

/* Rewriting steps for one address; each one strips a local domain. */
#define RESOLVE_MAX_HOPS	64

static const char err_limit[] = "virtual alias expansion limit exceeded";

/* A domain list: plain names and type:name tables. */
struct domlist {
	const char *param;
	char **names;		/* lower case; ".name": subdomains only */
	struct maplist *tables;
	bool subdomains;	/* "name" also matches its subdomains */
};

struct resolve {
	struct domlist mydestination, alias_domains, mailbox_domains,
	    relay_domains;
	struct maplist *alias_maps, *mailbox_maps, *relay_rcpt_maps,
	    *local_rcpt_maps;
	bool relay_rcpt_set, local_rcpt_set;
	char *delim;		/* recipient_delimiter */
	char *myorigin;
	bool percent_hack, swap_bangpath, dequoted;
	long long expansion_limit, recursion_limit;
	char *error;		/* the last domain list failure */
};

/* Read the domain list PARAM of CFG into LIST; open its tables. */
static int
domlist_init(const struct cfg *cfg, const char *param, bool subdomains,
    struct domlist *list, char **error_r)
{
	char *const *words = cfg_list(cfg, param);
	char **specs = xcalloc(strv_len(words) + 1, sizeof(*specs));
	size_t i, n = 0, t = 0;
	char *error;
	int ret = 0;

	list->param = param;
	list->subdomains = subdomains;
	list->names = xcalloc(strv_len(words) + 1, sizeof(*list->names));
	for (i = 0; words[i] != NULL; i++) {
		if (strchr(words[i], ':') != NULL)
			specs[t++] = words[i];
		else
			list->names[n++] = str_lcase(xstrdup(words[i]));
	}
	if (maplist_open(specs, &list->tables, &error) < 0) {
		*error_r = xasprintf("%s: %s", param, error);
		free(error);
		ret = -1;
	}
	free(specs);
	return ret;
}

/* Free what LIST holds. */
static void
domlist_clear(struct domlist *list)
{
	strv_free(&list->names);
	maplist_close(&list->tables);
}

/* Does NAME (a list entry) match DOMAIN? */
static bool
domlist_name_matches(const struct domlist *list, const char *name,
    const char *domain)
{
	size_t nlen = strlen(name), dlen = strlen(domain);
	const char *suffix = name[0] == '.' ? name : NULL;

	if (suffix == NULL && strcmp(name, domain) == 0)
		return true;
	if (!list->subdomains)
		return false;
	if (suffix == NULL)
		return dlen > nlen && domain[dlen - nlen - 1] == '.' &&
		    strcmp(domain + dlen - nlen, name) == 0;
	return dlen > nlen && strcmp(domain + dlen - nlen, suffix) == 0;
}

/* Look DOMAIN and (for subdomain lists) its parents up in the tables. */
static int
domlist_lookup(const struct domlist *list, const char *domain,
    const char **error_r)
{
	const char *p = domain;
	char *value, *key;
	int r;

	r = maplist_lookup(list->tables, domain, &value, error_r);
	while (r == MAP_NOTFOUND && list->subdomains &&
	    (p = strchr(p, '.')) != NULL) {
		key = xstrdup(p);
		r = maplist_lookup(list->tables, key + 1, &value, error_r);
		if (r == MAP_NOTFOUND)
			r = maplist_lookup(list->tables, key, &value,
			    error_r);
		free(key);
		p++;
	}
	free(value);
	return r;
}

/* Is DOMAIN (lower case) in LIST?  1 yes, 0 no, -1 table error. */
static int
domlist_match(const struct domlist *list, const char *domain,
    const char **error_r)
{
	size_t i;

	for (i = 0; list->names[i] != NULL; i++)
		if (domlist_name_matches(list, list->names[i], domain))
			return 1;
	switch (domlist_lookup(list, domain, error_r)) {
	case MAP_FOUND:
		return 1;
	case MAP_NOTFOUND:
		return 0;
	default:
		return -1;
	}
}

/* Open the address table list PARAM of CFG into *LIST_R. */
static int
tables_init(const struct cfg *cfg, const char *param,
    struct maplist **list_r, char **error_r)
{
	char *error;

	if (maplist_open(cfg_list(cfg, param), list_r, &error) < 0) {
		*error_r = xasprintf("%s: %s", param, error);
		free(error);
		return -1;
	}
	return 0;
}

/* Read the scalar parameters of CFG into R. */
static void
resolve_read_params(const struct cfg *cfg, struct resolve *r)
{
	r->delim = xstrdup(cfg_str(cfg, "recipient_delimiter"));
	r->myorigin = str_lcase(xstrdup(cfg_str(cfg, "myorigin")));
	r->percent_hack = cfg_bool(cfg, "allow_percent_hack");
	r->swap_bangpath = cfg_bool(cfg, "swap_bangpath");
	r->dequoted = cfg_bool(cfg, "resolve_dequoted_address");
	r->expansion_limit = cfg_int(cfg, "virtual_alias_expansion_limit");
	r->recursion_limit = cfg_int(cfg, "virtual_alias_recursion_limit");
	r->relay_rcpt_set = cfg_list(cfg, "relay_recipient_maps")[0] != NULL;
	r->local_rcpt_set = cfg_list(cfg, "local_recipient_maps")[0] != NULL;
}

/* Open the tables and read the domain lists of CFG. */
int
resolve_init(const struct cfg *cfg, struct resolve **r_r, char **error_r)
{
	struct resolve *r = xcalloc(1, sizeof(*r));

	resolve_read_params(cfg, r);
	if (domlist_init(cfg, "mydestination", false, &r->mydestination,
	    error_r) < 0 ||
	    domlist_init(cfg, "virtual_alias_domains", false,
	    &r->alias_domains, error_r) < 0 ||
	    domlist_init(cfg, "virtual_mailbox_domains", false,
	    &r->mailbox_domains, error_r) < 0 ||
	    domlist_init(cfg, "relay_domains", true, &r->relay_domains,
	    error_r) < 0 ||
	    tables_init(cfg, "virtual_alias_maps", &r->alias_maps,
	    error_r) < 0 ||
	    tables_init(cfg, "virtual_mailbox_maps", &r->mailbox_maps,
	    error_r) < 0 ||
	    tables_init(cfg, "relay_recipient_maps", &r->relay_rcpt_maps,
	    error_r) < 0 ||
	    tables_init(cfg, "local_recipient_maps", &r->local_rcpt_maps,
	    error_r) < 0) {
		resolve_free(&r);
		return -1;
	}
	*r_r = r;
	return 0;
}

/* Close the tables and free *RP. */
void
resolve_free(struct resolve **rp)
{
	struct resolve *r = *rp;

	if (r == NULL)
		return;
	domlist_clear(&r->mydestination);
	domlist_clear(&r->alias_domains);
	domlist_clear(&r->mailbox_domains);
	domlist_clear(&r->relay_domains);
	maplist_close(&r->alias_maps);
	maplist_close(&r->mailbox_maps);
	maplist_close(&r->relay_rcpt_maps);
	maplist_close(&r->local_rcpt_maps);
	free(r->delim);
	free(r->myorigin);
	free(r->error);
	free(r);
	*rp = NULL;
}

/* True for an IP literal or a domain whose last label is all digits. */
static bool
domain_is_numeric(const char *domain)
{
	const char *last = strrchr(domain, '.');

	if (domain[0] == '[')
		return true;
	last = last != NULL ? last + 1 : domain;
	return *last != '\0' && strspn(last, "0123456789") == strlen(last);
}

/* The class of DOMAIN (lower case, no trailing dot); -1 on error. */
static int
domain_class(struct resolve *r, const char *domain, enum addr_class *class_r,
    const char **error_r)
{
	const struct {
		const struct domlist *list;
		enum addr_class class;
	} order[] = {
		{ &r->mydestination, ADDR_CLASS_LOCAL },
		{ &r->alias_domains, ADDR_CLASS_ALIAS },
		{ &r->mailbox_domains, ADDR_CLASS_VIRTUAL },
		{ &r->relay_domains, ADDR_CLASS_RELAY },
	};
	size_t i;
	int m;

	*class_r = ADDR_CLASS_DEFAULT;
	if (*domain == '\0' || domain_is_numeric(domain))
		return 0;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if ((m = domlist_match(order[i].list, domain, error_r)) < 0) {
			free(r->error);
			r->error = xasprintf("%s: %s", order[i].list->param,
			    *error_r);
			*error_r = r->error;
			return -1;
		}
		if (m > 0) {
			*class_r = order[i].class;
			return 0;
		}
	}
	return 0;
}

/*
 * Sender-specified routing in the local part LOCAL of an address in a
 * local domain: the new address, or NULL when there is none.  A part
 * that would end up empty is left alone (the address stays local).
 */
static char *
route_local(const struct resolve *r, const char *local)
{
	const char *p;

	if ((p = strrchr(local, '@')) != NULL) {
		/* Only a quoted local part holds "@". */
		if (!r->dequoted || p == local || p[1] == '\0')
			return NULL;
		return xstrdup(local);
	}
	if (r->swap_bangpath && (p = strchr(local, '!')) != NULL &&
	    p > local && p[1] != '\0')
		return xasprintf("%s@%.*s", p + 1, (int)(p - local), local);
	if (r->percent_hack && (p = strrchr(local, '%')) != NULL &&
	    p > local && p[1] != '\0')
		return xasprintf("%.*s@%s", (int)(p - local), local, p + 1);
	return NULL;
}

/* ADDR with its domain folded to lower case and trailing dots removed. */
static char *
addr_normalize(const char *addr)
{
	const char *domain;
	char *local = addr_split(addr, &domain), *out, *d;
	size_t len;

	if (domain == NULL)
		return local;
	d = str_lcase(xstrdup(domain));
	len = strlen(d);
	while (len > 0 && d[len - 1] == '.')
		d[--len] = '\0';
	out = xasprintf("%s@%s", local, d);
	free(local);
	free(d);
	return out;
}

/*
 * Mark RES routed when its local part, in a domain that is not local,
 * still holds routing operators: the next hop may act on them, so the
 * destination is uncertain (Postfix's RESOLVE_FLAG_ROUTED).  A routed
 * relay_domains address is not relayed as one of ours: a backup MX must
 * not carry third-party routing to the primary.
 */
static void
mark_routed(struct resolved *res)
{
	const char *domain;
	char *local;

	if (res->class == ADDR_CLASS_LOCAL)
		return;
	local = addr_split(res->addr, &domain);
	res->routed = strpbrk(local, "@!%") != NULL;
	free(local);
	if (res->routed && res->class == ADDR_CLASS_RELAY)
		res->class = ADDR_CLASS_DEFAULT;
}

/* Resolve ADDR (see resolve.h). */
int
resolve_addr(struct resolve *r, const char *addr, struct resolved *res,
    const char **error_r)
{
	const char *domain;
	char *local, *next;
	int hops;

	memset(res, 0, sizeof(*res));
	res->addr = addr_normalize(addr);
	for (hops = 0; hops < RESOLVE_MAX_HOPS; hops++) {
		local = addr_split(res->addr, &domain);
		res->class = ADDR_CLASS_LOCAL;
		if (domain != NULL &&
		    domain_class(r, domain, &res->class, error_r) < 0) {
			free(local);
			resolved_clear(res);
			return -1;
		}
		next = res->class == ADDR_CLASS_LOCAL ?
		    route_local(r, local) : NULL;
		free(local);
		if (next == NULL) {
			mark_routed(res);
			return 0;
		}
		free(res->addr);
		res->addr = addr_normalize(next);
		free(next);
		res->rewritten = true;
	}
	/* Routing that deep is not ours to deliver. */
	res->class = ADDR_CLASS_DEFAULT;
	res->routed = true;
	return 0;
}

/* Free what RES holds. */
void
resolved_clear(struct resolved *res)
{
	free(res->addr);
	res->addr = NULL;
}

/* LOCAL without its address extension, or NULL when it has none. */
static char *
strip_extension(const struct resolve *r, const char *local)
{
	size_t n;

	if (*r->delim == '\0')
		return NULL;
	n = strcspn(local, r->delim);
	if (n == 0 || local[n] == '\0')
		return NULL;
	return xstrndup(local, n);
}

/* LOCAL quoted as the local part of an address on the wire. */
static char *
quote_local(const char *local)
{
	char *addr = xasprintf("%s@", local), *quoted;

	/* The "@" added last is where addr_external() splits. */
	quoted = addr_external(addr);
	quoted[strlen(quoted) - 1] = '\0';
	free(addr);
	return quoted;
}

/* LOCAL@DOMAIN quoted for the wire. */
static char *
quote_addr(const char *local, const char *domain)
{
	char *quoted = quote_local(local), *addr;

	addr = xasprintf("%s@%s", quoted, domain);
	free(quoted);
	return addr;
}

/*
 * Look ADDR up in LIST with Postfix's keys, in Postfix's order:
 * user+ext@domain, user@domain, then (BARE_USER or no domain) user+ext
 * and user, then @domain.  Local parts are quoted as on the wire.
 * Returns MAP_FOUND with *VALUE_R, MAP_NOTFOUND or MAP_ERROR.  When
 * EXT_R is not NULL and a key without the address extension matched,
 * *EXT_R is that extension with its delimiter ("+x", allocated), else
 * NULL.
 */
static int
lookup_keys(const struct resolve *r, struct maplist *list, const char *addr,
    bool bare_user, char **value_r, const char **error_r, char **ext_r)
{
	const char *domain;
	char *local = addr_split(addr, &domain);
	char *stripped = strip_extension(r, local);
	char *keys[6] = { NULL };
	bool no_ext[6] = { false };
	size_t n = 0, i;
	int ret = MAP_NOTFOUND;

	if (domain != NULL) {
		keys[n++] = quote_addr(local, domain);
		if (stripped != NULL) {
			no_ext[n] = true;
			keys[n++] = quote_addr(stripped, domain);
		}
	}
	if (domain == NULL || bare_user) {
		keys[n++] = quote_local(local);
		if (stripped != NULL) {
			no_ext[n] = true;
			keys[n++] = quote_local(stripped);
		}
	}
	if (domain != NULL)
		keys[n++] = xasprintf("@%s", domain);
	*value_r = NULL;
	for (i = 0; i < n && ret == MAP_NOTFOUND; i++)
		ret = maplist_lookup(list, keys[i], value_r, error_r);
	if (ext_r != NULL)
		*ext_r = ret == MAP_FOUND && no_ext[i - 1] ?
		    xstrdup(local + strlen(stripped)) : NULL;
	for (i = 0; i < n; i++)
		free(keys[i]);
	free(stripped);
	free(local);
	return ret;
}

/* ADDR with the address extension EXT put back into its local part
   (Postfix's propagate_unmatched_extensions).  Allocated. */
static char *
add_extension(const char *addr, const char *ext)
{
	const char *domain;
	char *local = addr_split(addr, &domain), *out;

	out = domain != NULL ? xasprintf("%s%s@%s", local, ext, domain) :
	    xasprintf("%s%s", local, ext);
	free(local);
	return out;
}

/* A growing NULL-terminated vector of addresses. */
struct addrv {
	char **v;
	size_t n, cap;
};

/* Append S (taken over) to V. */
static void
addrv_push(struct addrv *v, char *s)
{
	if (v->n + 1 >= v->cap) {
		v->cap = v->cap == 0 ? 8 : v->cap * 2;
		v->v = xreallocarray(v->v, v->cap, sizeof(*v->v));
	}
	v->v[v->n++] = s;
	v->v[v->n] = NULL;
}

/* True when V holds ADDR (case-insensitive, as Postfix compares). */
static bool
addrv_has(const struct addrv *v, const char *addr)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (strcasecmp(v->v[i], addr) == 0)
			return true;
	return false;
}

/* ADDR qualified with @myorigin when it has no domain (as cleanup does). */
static char *
qualify(const struct resolve *r, const char *addr)
{
	if (strchr(addr, '@') != NULL || *r->myorigin == '\0' ||
	    *addr == '\0')
		return addr_normalize(addr);
	return xasprintf("%s@%s", addr, r->myorigin);
}

/* One address of an alias value in internal form; LHS gives "@domain"
   values their local part. */
static char *
alias_token(const struct resolve *r, const char *token, const char *lhs)
{
	const char *rest, *error, *domain;
	char *addr, *local, *out;

	if (token[0] == '@') {
		local = addr_split(lhs, &domain);
		addr = xasprintf("%s%s", local, token);
		free(local);
	} else if (addr_parse_path(token, false, true, &addr, &rest,
	    &error) < 0) {
		/* Kept as written: delivery bounces it, as Postfix does. */
		addr = xstrdup(token);
	}
	out = qualify(r, addr);
	free(addr);
	return out;
}

/* Split an alias VALUE on commas and white space outside quotes. */
static char **
alias_split(const char *value)
{
	struct addrv out = { NULL, 0, 0 };
	const char *p = value, *start;
	bool quoted;

	addrv_push(&out, NULL);
	out.n = 0;
	for (;;) {
		p += strspn(p, ", \t\r\n");
		if (*p == '\0')
			break;
		for (start = p, quoted = false; *p != '\0'; p++) {
			if (*p == '"')
				quoted = !quoted;
			else if (*p == '\\' && quoted && p[1] != '\0')
				p++;
			else if (!quoted && strchr(", \t\r\n", *p) != NULL)
				break;
		}
		addrv_push(&out, xstrndup(start, (size_t)(p - start)));
	}
	return out.v;
}

/* The state of one virtual alias expansion. */
struct expansion {
	struct addrv out;	/* the addresses so far */
	struct addrv self;	/* addresses that expanded into themselves */
	char *error;		/* why it failed */
};

/* Replace slot I of X by the addresses of VALUE; their number. */
static size_t
expand_value(const struct resolve *r, struct expansion *x, size_t i,
    const char *value, const char *ext)
{
	char **tokens = alias_split(value);
	char *lhs = x->out.v[i], *addr, *with_ext;
	size_t t;

	for (t = 0; tokens[t] != NULL; t++) {
		addr = alias_token(r, tokens[t], lhs);
		if (ext != NULL && tokens[t][0] != '@') {
			with_ext = add_extension(addr, ext);
			free(addr);
			addr = with_ext;
		}
		if (strcasecmp(addr, lhs) == 0 && !addrv_has(&x->self, lhs))
			addrv_push(&x->self, xstrdup(lhs));
		if (t == 0)
			x->out.v[i] = addr;
		else
			addrv_push(&x->out, addr);
	}
	if (t > 0)
		free(lhs);
	strv_free(&tokens);
	return t;
}

/* Look ADDR up in virtual_alias_maps ("user" keys in local domains). */
static int
alias_lookup(struct resolve *r, const char *addr, char **value_r,
    char **ext_r, char **error_r)
{
	const char *domain = strrchr(addr, '@'), *error;
	enum addr_class class = ADDR_CLASS_LOCAL;
	int ret;

	*value_r = NULL;
	*ext_r = NULL;
	if (domain != NULL && domain_class(r, domain + 1, &class,
	    &error) < 0) {
		*error_r = xstrdup(error);
		return MAP_ERROR;
	}
	ret = lookup_keys(r, r->alias_maps, addr, class == ADDR_CLASS_LOCAL,
	    value_r, &error, ext_r);
	if (ret == MAP_ERROR)
		*error_r = xasprintf("virtual_alias_maps: %s", error);
	return ret;
}

/* Expand slot I of X until it is final; 0, or -1 with X->error. */
static int
expand_slot(struct resolve *r, struct expansion *x, size_t i)
{
	long long depth;
	char *value, *ext;
	size_t n;
	int ret;

	for (depth = 0; !addrv_has(&x->self, x->out.v[i]);) {
		ret = alias_lookup(r, x->out.v[i], &value, &ext, &x->error);
		if (ret == MAP_ERROR)
			return -1;
		if (ret == MAP_NOTFOUND)
			return 0;
		if (++depth > r->recursion_limit) {
			free(value);
			free(ext);
			x->error = xstrdup(err_limit);
			return -1;
		}
		n = expand_value(r, x, i, value, ext);
		free(value);
		free(ext);
		if (n == 0)	/* an empty value: the address stays */
			return 0;
	}
	return 0;
}

/* Expand ADDR through virtual_alias_maps into X (see resolve.h). */
static int
expand_aliases(struct resolve *r, const char *addr, struct expansion *x)
{
	size_t i;

	addrv_push(&x->out, xstrdup(addr));
	for (i = 0; i < x->out.n; i++) {
		if (expand_slot(r, x, i) < 0)
			return -1;
		if (x->out.n > (size_t)r->expansion_limit) {
			x->error = xstrdup(err_limit);
			return -1;
		}
	}
	return 0;
}

/* Which "unknown" each class's table gives. */
static const enum rcpt_unknown class_unknown[] = {
	[ADDR_CLASS_LOCAL] = RCPT_UNKNOWN_LOCAL,
	[ADDR_CLASS_ALIAS] = RCPT_UNKNOWN_ALIAS,
	[ADDR_CLASS_VIRTUAL] = RCPT_UNKNOWN_VIRTUAL,
	[ADDR_CLASS_RELAY] = RCPT_UNKNOWN_RELAY,
	[ADDR_CLASS_DEFAULT] = RCPT_UNKNOWN_RELAY,
};

/* Look the resolved address RES up in the table of its class. */
static int
check_class_table(struct resolve *r, const struct resolved *res,
    bool self_expanded, const char **error_r)
{
	char *value = NULL, *local;
	const char *domain;
	int ret = MAP_FOUND;

	switch (res->class) {
	case ADDR_CLASS_LOCAL:
		if (!r->local_rcpt_set)
			break;
		local = addr_split(res->addr, &domain);
		/* No user or alias name holds "@" (resolve_dequoted_address
		   = no leaves it in the local part). */
		ret = strchr(local, '@') != NULL ? MAP_NOTFOUND :
		    lookup_keys(r, r->local_rcpt_maps, local, true, &value,
		    error_r, NULL);
		free(local);
		break;
	case ADDR_CLASS_ALIAS:
		ret = self_expanded ? MAP_FOUND : MAP_NOTFOUND;
		break;
	case ADDR_CLASS_VIRTUAL:
		ret = lookup_keys(r, r->mailbox_maps, res->addr, false,
		    &value, error_r, NULL);
		break;
	case ADDR_CLASS_RELAY:
		if (r->relay_rcpt_set)
			ret = lookup_keys(r, r->relay_rcpt_maps, res->addr,
			    false, &value, error_r, NULL);
		break;
	case ADDR_CLASS_DEFAULT:
		break;
	}
	free(value);
	return ret;
}

/* The name of the table list of CLASS, for error messages. */
static const char *
class_tables(enum addr_class class)
{
	switch (class) {
	case ADDR_CLASS_LOCAL:
		return "local_recipient_maps";
	case ADDR_CLASS_VIRTUAL:
		return "virtual_mailbox_maps";
	default:
		return "relay_recipient_maps";
	}
}

/* Check one final address ADDR; fills RES->unknown or RES->error. */
static int
check_final(struct resolve *r, const char *addr, bool self_expanded,
    struct rcpt_result *res)
{
	struct resolved rr;
	const char *error;
	int ret;

	if (resolve_addr(r, addr, &rr, &error) < 0) {
		res->error = xstrdup(error);
		return RCPT_TEMPFAIL;
	}
	ret = check_class_table(r, &rr, self_expanded, &error);
	if (ret == MAP_ERROR)
		res->error = xasprintf("%s: %s", class_tables(rr.class),
		    error);
	else if (ret == MAP_NOTFOUND)
		res->unknown = class_unknown[rr.class];
	resolved_clear(&rr);
	return ret == MAP_FOUND ? RCPT_OK :
	    ret == MAP_NOTFOUND ? RCPT_UNKNOWN : RCPT_TEMPFAIL;
}

/* Check every final address of X; the first unknown decides. */
static int
check_finals(struct resolve *r, const struct expansion *x,
    struct rcpt_result *res)
{
	struct rcpt_result one;
	int status = RCPT_OK;
	size_t i;

	for (i = 0; i < x->out.n; i++) {
		memset(&one, 0, sizeof(one));
		switch (check_final(r, x->out.v[i],
		    addrv_has(&x->self, x->out.v[i]), &one)) {
		case RCPT_TEMPFAIL:
			res->error = one.error;
			return RCPT_TEMPFAIL;
		case RCPT_UNKNOWN:
			if (status == RCPT_OK)
				res->unknown = one.unknown;
			status = RCPT_UNKNOWN;
			break;
		default:
			break;
		}
	}
	return status;
}

/* Check recipient ADDR (see resolve.h). */
int
resolve_recipient(struct resolve *r, const char *addr,
    struct rcpt_result *res)
{
	struct expansion x = { { NULL, 0, 0 }, { NULL, 0, 0 }, NULL };
	struct resolved given;
	const char *error;
	char *start;

	memset(res, 0, sizeof(*res));
	res->status = RCPT_TEMPFAIL;
	if (resolve_addr(r, addr, &given, &error) < 0) {
		res->error = xstrdup(error);
		return res->status;
	}
	res->class = given.class;
	resolved_clear(&given);
	start = qualify(r, addr);
	if (expand_aliases(r, start, &x) < 0)
		res->error = x.error;
	else
		res->status = check_finals(r, &x, res);
	free(start);
	strv_free(&x.self.v);
	if (res->status == RCPT_OK)
		res->final = x.out.v;
	else
		strv_free(&x.out.v);
	return res->status;
}

/* Free what RES holds. */
void
rcpt_result_clear(struct rcpt_result *res)
{
	strv_free(&res->final);
	free(res->error);
	res->error = NULL;
}

/* Check sender ADDR as a recipient; the null sender is always known. */
int
resolve_sender(struct resolve *r, const char *addr,
    struct rcpt_result *res)
{
	if (*addr != '\0')
		return resolve_recipient(r, addr, res);
	memset(res, 0, sizeof(*res));
	res->status = RCPT_OK;
	res->class = ADDR_CLASS_DEFAULT;
	res->final = xcalloc(1, sizeof(*res->final));
	return res->status;
}
