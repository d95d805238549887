#ifndef DIRMAIL_DELIVERY_SMTP_PROTO_H
#define DIRMAIL_DELIVERY_SMTP_PROTO_H

/*
 * The parts of the SMTP and LMTP client that do no I/O: nexthop syntax,
 * server replies, EHLO keywords, dot-stuffing, xtext and the keys of
 * smtp_sasl_password_maps.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

/* Where a nexthop says to go. */
struct smtp_nexthop {
	char *host;		/* without brackets; the path for unix: */
	unsigned port;
	bool mx;		/* look the MX records of host up */
	bool unix_path;		/* LMTP over a UNIX socket */
};

/*
 * Parse NEXTHOP for SMTP (LMTP false: "domain", "domain:port", "[host]",
 * "[host]:port") or LMTP ("unix:/path", "inet:host:port", "host:port",
 * "[host]:port", "host"; never an MX lookup).  DEF_PORT applies when none
 * is given.  0 with *NH filled (free with smtp_nexthop_clear()), or -1
 * with *ERROR_R (static).
 */
int smtp_nexthop_parse(const char *nexthop, bool lmtp, unsigned def_port,
    struct smtp_nexthop *nh, const char **error_r);

void smtp_nexthop_clear(struct smtp_nexthop *nh);

/* A server reply being read, line by line. */
struct smtp_reply {
	int code;		/* 250; 0 until the first line */
	char dsn[16];		/* enhanced status code or "" */
	struct str text;	/* every line, joined by a space */
	struct str lines;	/* the text after the code of each line,
				   LF-separated (EHLO keywords) */
	bool done;
};

/*
 * Feed one LINE (without CRLF) of a reply to R (zeroed before the first
 * line, or reset by smtp_reply_reset()).  Returns 1 when the reply is
 * complete, 0 when more lines follow, -1 when the line is not a reply
 * line or its code differs from the first line's.
 */
int smtp_reply_line(struct smtp_reply *r, const char *line, size_t len);

/* Forget the reply R held (keeping its memory for the next one). */
void smtp_reply_reset(struct smtp_reply *r);

/* Free what R holds. */
void smtp_reply_free(struct smtp_reply *r);

/* The enhanced status of R, or "C.0.0" from its code's class. */
const char *smtp_reply_dsn(const struct smtp_reply *r, char buf[16]);

/* EHLO keywords. */
#define SMTP_FEAT_PIPELINING	0x01
#define SMTP_FEAT_SIZE		0x02
#define SMTP_FEAT_8BITMIME	0x04
#define SMTP_FEAT_SMTPUTF8	0x08
#define SMTP_FEAT_DSN		0x10
#define SMTP_FEAT_STARTTLS	0x20
#define SMTP_FEAT_AUTH		0x40

/*
 * The keywords of EHLO reply R (the lines after the first); the AUTH
 * mechanisms, space-separated, in *MECHS_R (allocated, NULL when none);
 * the SIZE limit in *SIZE_R (0: none given).
 */
unsigned smtp_ehlo_features(const struct smtp_reply *r, char **mechs_r,
    unsigned long long *size_r);

/*
 * Append LEN bytes of message DATA to OUT with every line that starts
 * with "." doubled.  *BOL says whether DATA starts a line, and is
 * updated for the next call (true at first).
 */
void smtp_dot_stuff(struct str *out, const char *data, size_t len,
    bool *bol);

/* Append the end of the message: CRLF unless at a line start, then ".". */
void smtp_dot_end(struct str *out, bool bol);

/* Append VALUE as RFC 3461 xtext. */
void smtp_xtext(struct str *out, const char *value);

/*
 * The keys under which smtp_sasl_password_maps are searched, in order,
 * duplicates dropped: "[HOST]:PORT", "[HOST]", "HOST", NEXTHOP as
 * written, DOMAIN (NULL: left out).  A NULL-terminated vector (free with
 * strv_free()).
 */
char **smtp_sasl_keys(const char *host, unsigned port, const char *nexthop,
    const char *domain);

#endif
