/* SMTP client helpers without I/O: nexthops, replies, dot-stuffing. */

#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "delivery/smtp_proto.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* Parse a port number ("25"): 0, or -1. */
static int
parse_port(const char *s, unsigned *port_r)
{
	unsigned n;

	if (str_to_uint(s, &n) < 0 || n == 0 || n > 65535)
		return -1;
	*port_r = n;
	return 0;
}

/* Parse "[host]", "[host]:port", "host" or "host:port" into NH. */
static int
parse_host_port(const char *s, struct smtp_nexthop *nh, const char **error_r)
{
	const char *end, *colon;

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL || end == s + 1) {
			*error_r = "malformed [host]";
			return -1;
		}
		nh->mx = false;
		nh->host = xstrndup(s + 1, (size_t)(end - s - 1));
		if (strncasecmp(nh->host, "ipv6:", 5) == 0)
			memmove(nh->host, nh->host + 5, strlen(nh->host) - 4);
		if (end[1] == '\0')
			return 0;
		if (end[1] != ':' || parse_port(end + 2, &nh->port) < 0) {
			*error_r = "malformed port after [host]";
			return -1;
		}
		return 0;
	}
	if ((colon = strrchr(s, ':')) != NULL) {
		if (parse_port(colon + 1, &nh->port) < 0) {
			*error_r = "malformed port";
			return -1;
		}
		nh->host = xstrndup(s, (size_t)(colon - s));
	} else {
		nh->host = xstrdup(s);
	}
	if (nh->host[0] == '\0' || strpbrk(nh->host, "[]: \t") != NULL) {
		*error_r = "malformed host name";
		return -1;
	}
	return 0;
}

int
smtp_nexthop_parse(const char *nexthop, bool lmtp, unsigned def_port,
    struct smtp_nexthop *nh, const char **error_r)
{
	memset(nh, 0, sizeof(*nh));
	nh->port = def_port;
	nh->mx = !lmtp;
	if (lmtp && (strncmp(nexthop, "unix:", 5) == 0 || *nexthop == '/')) {
		if (*nexthop != '/')
			nexthop += 5;
		if (*nexthop == '\0') {
			*error_r = "empty UNIX socket path";
			return -1;
		}
		nh->unix_path = true;
		nh->host = xstrdup(nexthop);
		return 0;
	}
	if (lmtp && strncmp(nexthop, "inet:", 5) == 0)
		nexthop += 5;
	if (*nexthop == '\0') {
		*error_r = "empty nexthop";
		return -1;
	}
	if (parse_host_port(nexthop, nh, error_r) < 0) {
		smtp_nexthop_clear(nh);
		return -1;
	}
	return 0;
}

void
smtp_nexthop_clear(struct smtp_nexthop *nh)
{
	free(nh->host);
	memset(nh, 0, sizeof(*nh));
}

int
smtp_reply_line(struct smtp_reply *r, const char *line, size_t len)
{
	int code;
	const char *p;

	if (len < 3 || !isdigit((unsigned char)line[0]) ||
	    !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]) ||
	    (len > 3 && line[3] != ' ' && line[3] != '-'))
		return -1;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->code != 0 && code != r->code)
		return -1;
	if (r->code == 0) {
		r->code = code;
		/* The enhanced status code, when the first line has one
		   of the reply's class. */
		p = line + (len > 3 ? 4 : 3);
		if (len > 9 && p[0] == line[0] && p[1] == '.') {
			size_t n = strspn(p, "0123456789.");

			if (n >= 5 && n < sizeof(r->dsn) &&
			    (p[n] == ' ' || p + n == line + len)) {
				memcpy(r->dsn, p, n);
				r->dsn[n] = '\0';
			}
		}
	} else {
		str_append_c(&r->text, ' ');
		str_append_c(&r->lines, '\n');
	}
	str_append_n(&r->text, line, len);
	if (len > 4)
		str_append_n(&r->lines, line + 4, len - 4);
	r->done = len == 3 || line[3] == ' ';
	return r->done ? 1 : 0;
}

void
smtp_reply_reset(struct smtp_reply *r)
{
	r->code = 0;
	r->dsn[0] = '\0';
	r->done = false;
	str_truncate(&r->text, 0);
	str_truncate(&r->lines, 0);
}

void
smtp_reply_free(struct smtp_reply *r)
{
	str_free(&r->text);
	str_free(&r->lines);
	memset(r, 0, sizeof(*r));
}

const char *
smtp_reply_dsn(const struct smtp_reply *r, char buf[16])
{
	if (r->dsn[0] != '\0')
		return r->dsn;
	snprintf(buf, 16, "%d.0.0", r->code / 100);
	return buf;
}

/* The feature bit of EHLO keyword WORD (LEN bytes), or 0. */
static unsigned
feature(const char *word, size_t len)
{
	static const struct {
		const char *name;
		unsigned bit;
	} words[] = {
		{ "PIPELINING", SMTP_FEAT_PIPELINING },
		{ "SIZE", SMTP_FEAT_SIZE },
		{ "8BITMIME", SMTP_FEAT_8BITMIME },
		{ "SMTPUTF8", SMTP_FEAT_SMTPUTF8 },
		{ "DSN", SMTP_FEAT_DSN },
		{ "STARTTLS", SMTP_FEAT_STARTTLS },
		{ "AUTH", SMTP_FEAT_AUTH },
	};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].name) == len &&
		    strncasecmp(words[i].name, word, len) == 0)
			return words[i].bit;
	return 0;
}

unsigned
smtp_ehlo_features(const struct smtp_reply *r, char **mechs_r,
    unsigned long long *size_r)
{
	const char *p = str_c(&r->lines), *eol;
	unsigned feats = 0, f;
	size_t n;
	struct str mechs = STR_INIT;

	*size_r = 0;
	/* The first line is the greeting of the EHLO reply. */
	if ((p = strchr(p, '\n')) == NULL)
		p = "";
	else
		p++;
	for (; *p != '\0'; p = *eol == '\0' ? eol : eol + 1) {
		eol = p + strcspn(p, "\n");
		n = strcspn(p, " =\n");
		f = feature(p, n);
		feats |= f;
		if (f == SMTP_FEAT_AUTH && p + n < eol) {
			if (mechs.len > 0)
				str_append_c(&mechs, ' ');
			str_append_n(&mechs, p + n + 1, (size_t)(eol - p - n - 1));
		}
		if (f == SMTP_FEAT_SIZE && p[n] == ' ')
			*size_r = strtoull(p + n + 1, NULL, 10);
	}
	*mechs_r = mechs.len > 0 ? str_steal(&mechs) : NULL;
	str_free(&mechs);
	return feats;
}

void
smtp_dot_stuff(struct str *out, const char *data, size_t len, bool *bol)
{
	const char *p = data, *end = data + len, *nl;

	while (p < end) {
		if (*bol && *p == '.')
			str_append_c(out, '.');
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			str_append_n(out, p, (size_t)(end - p));
			*bol = false;
			return;
		}
		str_append_n(out, p, (size_t)(nl + 1 - p));
		*bol = true;
		p = nl + 1;
	}
}

void
smtp_dot_end(struct str *out, bool bol)
{
	if (!bol)
		str_append(out, "\r\n");
	str_append(out, ".\r\n");
}

void
smtp_xtext(struct str *out, const char *value)
{
	const unsigned char *p;

	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p < 33 || *p > 126 || *p == '+' || *p == '=')
			str_appendf(out, "+%02X", *p);
		else
			str_append_c(out, (char)*p);
	}
}

/* Append KEY (lower-cased) to V unless it is there already. */
static void
key_add(char ***v, size_t *n, char *key)
{
	size_t i;

	str_lcase(key);
	for (i = 0; i < *n; i++) {
		if (strcmp((*v)[i], key) == 0) {
			free(key);
			return;
		}
	}
	*v = xreallocarray(*v, *n + 2, sizeof(**v));
	(*v)[(*n)++] = key;
	(*v)[*n] = NULL;
}

char **
smtp_sasl_keys(const char *host, unsigned port, const char *nexthop,
    const char *domain)
{
	char **v = xcalloc(1, sizeof(*v));
	size_t n = 0;

	key_add(&v, &n, xasprintf("[%s]:%u", host, port));
	key_add(&v, &n, xasprintf("[%s]", host));
	key_add(&v, &n, xstrdup(host));
	if (nexthop != NULL && *nexthop != '\0')
		key_add(&v, &n, xstrdup(nexthop));
	if (domain != NULL && *domain != '\0')
		key_add(&v, &n, xstrdup(domain));
	return v;
}
