/*
 * The text of a delivery status notification: the notice's header, the
 * explanation for people (part 1), the RFC 3464 delivery-status fields
 * (part 2) and the header of the part that returns the message.  Header
 * fields are cleaned of control characters and folded, so that whatever a
 * remote server answered, every line ends in CRLF and stays under 998
 * bytes.
 */

#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "global/addr.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "queue/bounce.h"
#include "queue/bounce_int.h"

/* Lines are folded before this column where white space allows... */
#define BOUNCE_FOLD	78
/* ...and broken hard before RFC 5322's 998, leaving room for CRLF. */
#define BOUNCE_HARD	990

/* What each kind of notice says. */
static const struct bounce_kind_text {
	const char *subject;
	const char *action;
	const char *status;	/* when the recipient's is unusable */
	const char *desc;	/* part 3 */
} kind_text[] = {
	[BOUNCE_FAILED] = { "Undelivered Mail Returned to Sender", "failed",
	    "5.0.0", "Undelivered Message" },
	[BOUNCE_DELAYED] = { "Delayed Mail (still being retried)", "delayed",
	    "4.0.0", "Undelivered Message" },
	[BOUNCE_DELIVERED] = { "Successful Mail Delivery Report",
	    "delivered", "2.0.0", "Delivered Message" },
};

/* Format WHEN as an RFC 5322 date in the local time zone; the names are
   spelled out so that no locale can change them. */
static void
bounce_date(double when, char *buf, size_t size)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)when;
	struct tm tm;
	long off;

	localtime_r(&t, &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(buf, size, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

/* The length of the valid UTF-8 sequence at S, or 0. */
static size_t
utf8_seq(const unsigned char *s)
{
	size_t n, i;

	if (*s >= 0xc2 && *s <= 0xdf)
		n = 2;
	else if (*s >= 0xe0 && *s <= 0xef)
		n = 3;
	else if (*s >= 0xf0 && *s <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * A copy of S fit for a header field or a line of text: control
 * characters (CR and LF from a remote reply included) become spaces, and
 * bytes beyond ASCII become '?' unless UTF8 allows valid UTF-8.
 */
static char *
bounce_clean(const char *s, bool utf8)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = xmalloc(strlen(s) + 1), *o = out;
	size_t n;

	while (*u != '\0') {
		if (*u >= 0x80 && utf8 && (n = utf8_seq(u)) > 0) {
			memcpy(o, u, n);
			o += n;
			u += n;
			continue;
		}
		*o++ = *u < 0x20 || *u == 0x7f ? ' ' : *u >= 0x80 ? '?' :
		    (char)*u;
		u++;
	}
	*o = '\0';
	return out;
}

/* How many bytes of the LEN at S can start a line that is at column COL
   without passing BOUNCE_HARD, not cutting a UTF-8 sequence. */
static size_t
bounce_hard_cut(const char *s, size_t len, size_t col)
{
	size_t n = BOUNCE_HARD - col;

	if (n >= len)
		return len;
	while (n > 1 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/*
 * Append TEXT (cleaned: no CR, LF or other control) at column COL of the
 * current line, folding at spaces before BOUNCE_FOLD where it can, with
 * CONT starting each continuation line; a word too long for any line is
 * cut.  Ends with CRLF.
 */
static void
bounce_fold(struct str *o, size_t col, const char *text, const char *cont)
{
	const char *p = text, *q;
	size_t wlen, n, clen = strlen(cont);
	bool first = true;

	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		q = strchr(p, ' ');
		wlen = q != NULL ? (size_t)(q - p) : strlen(p);
		if (!first && col + 1 + wlen > BOUNCE_FOLD) {
			str_append(o, "\r\n");
			str_append(o, cont);
			col = clen;
		} else if (!first || col > 0) {
			str_append_c(o, ' ');
			col++;
		}
		first = false;
		while (col + wlen > BOUNCE_HARD) {
			n = bounce_hard_cut(p, wlen, col);
			str_append_n(o, p, n);
			str_append(o, "\r\n");
			str_append(o, cont);
			col = clen;
			p += n;
			wlen -= n;
		}
		str_append_n(o, p, wlen);
		col += wlen;
		p += wlen;
	}
	str_append(o, "\r\n");
}

/* Append the header or status field "NAME: VALUE", VALUE cleaned and
   folded. */
static void
bounce_field(const struct bounce_ctx *c, struct str *o, const char *name,
    const char *value)
{
	char *v = bounce_clean(value, c->utf8);

	str_appendf(o, "%s:", name);
	bounce_fold(o, strlen(name) + 1, v, " ");
	free(v);
}

/* True when S holds a byte beyond ASCII. */
static bool
bounce_8bit(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/*
 * Append the address field "NAME: TYPE; ADDR" for ADDR (internal form):
 * rfc822 for ASCII, utf-8 (RFC 6533) for a UTF-8 address in a global
 * report, and otherwise rfc822 with the 8-bit bytes as xtext "+XX".
 */
static void
bounce_addr_field(const struct bounce_ctx *c, struct str *o,
    const char *name, const char *addr)
{
	char *ext = addr_external(addr);
	struct str v = STR_INIT;
	const char *s;

	if (!bounce_8bit(ext))
		str_appendf(&v, "rfc822; %s", ext);
	else if (c->utf8)
		str_appendf(&v, "utf-8; %s", ext);
	else {
		str_append(&v, "rfc822; ");
		for (s = ext; *s != '\0'; s++)
			if ((unsigned char)*s >= 0x80 || *s == '+')
				str_appendf(&v, "+%02X", (unsigned char)*s);
			else
				str_append_c(&v, *s);
	}
	bounce_field(c, o, name, str_c(&v));
	str_free(&v);
	free(ext);
}

/* Append Original-Recipient from an O record: "type;addr" as smtpd
   keeps a DSN ORCPT, or the address as the client gave it. */
static void
bounce_orcpt_field(const struct bounce_ctx *c, struct str *o,
    const char *orcpt)
{
	size_t n = strspn(orcpt, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
	char *v;

	if (n == 0 || orcpt[n] != ';') {
		bounce_addr_field(c, o, "Original-Recipient", orcpt);
		return;
	}
	v = xasprintf("%.*s; %s", (int)n, orcpt, orcpt + n + 1);
	bounce_field(c, o, "Original-Recipient", v);
	free(v);
}

/* The SMTP reply in a delivery agent's reason ("host X said: 550 ..."),
   without Postfix's "(in reply to ... command)", or NULL.  Allocated. */
static char *
bounce_smtp_reply(const char *text)
{
	const char *s = strstr(text, "said: ");
	const char *end;

	if (s == NULL)
		return NULL;
	s += 6;
	if (strspn(s, "0123456789") != 3 || (s[3] != ' ' && s[3] != '-' &&
	    s[3] != '\0'))
		return NULL;
	end = strstr(s, " (in reply to ");
	return end != NULL ? xstrndup(s, (size_t)(end - s)) : xstrdup(s);
}

/* The host part of a relay "host[addr]:port", or NULL.  Allocated. */
static char *
bounce_remote_mta(const char *relay)
{
	const char *b;

	if (relay == NULL || (b = strchr(relay, '[')) == NULL || b == relay)
		return NULL;
	return xstrndup(relay, (size_t)(b - relay));
}

/* True when S is an enhanced status code "x.y.z" of class 2, 4 or 5. */
static bool
bounce_status_ok(const char *s)
{
	size_t n;
	int i;

	if (s == NULL || (s[0] != '2' && s[0] != '4' && s[0] != '5') ||
	    s[1] != '.')
		return false;
	s += 2;
	for (i = 0; i < 2; i++) {
		n = strspn(s, "0123456789");
		if (n < 1 || n > 3)
			return false;
		s += n;
		if (*s != (i == 0 ? '.' : '\0'))
			return false;
		s++;
	}
	return true;
}

/* Append the delivery-status block of one recipient. */
static void
bounce_rcpt_block(const struct bounce_ctx *c, struct str *o,
    const struct bounce_rcpt *r)
{
	char date[64], *host, *reply, *diag;
	const char *text = r->text != NULL ? r->text : "";

	str_append(o, "\r\n");
	/* In RFC 3464's order, which Original-Recipient starts. */
	if (r->orcpt != NULL && *r->orcpt != '\0')
		bounce_orcpt_field(c, o, r->orcpt);
	bounce_addr_field(c, o, "Final-Recipient", r->final);
	bounce_field(c, o, "Action", kind_text[c->kind].action);
	bounce_field(c, o, "Status", bounce_status_ok(r->dsn) ? r->dsn :
	    kind_text[c->kind].status);
	if ((host = bounce_remote_mta(r->relay)) != NULL) {
		diag = xasprintf("dns; %s", host);
		bounce_field(c, o, "Remote-MTA", diag);
		free(diag);
		free(host);
	}
	reply = bounce_smtp_reply(text);
	diag = reply != NULL ? xasprintf("smtp; %s", reply) :
	    xasprintf("x-dirmail; %s", text);
	bounce_field(c, o, "Diagnostic-Code", diag);
	free(diag);
	free(reply);
	bounce_date(r->when > 0 ? r->when : c->now, date, sizeof(date));
	bounce_field(c, o, "Last-Attempt-Date", date);
	if (c->kind == BOUNCE_DELAYED && c->p->will_retry_until > 0) {
		bounce_date(c->p->will_retry_until, date, sizeof(date));
		bounce_field(c, o, "Will-Retry-Until", date);
	}
}

/* Append part 2: the per-message fields, then each recipient's block. */
static void
bounce_status_part(const struct bounce_ctx *c, struct str *o)
{
	const char *envid = queue_envelope_attr(c->env, "dsn_envid");
	char date[64], *v;
	size_t i;

	str_appendf(o, "--%s\r\n", c->boundary);
	str_append(o, "Content-Description: Delivery report\r\n");
	str_appendf(o, "Content-Type: message/%sdelivery-status\r\n",
	    c->utf8 ? "global-" : "");
	if (c->utf8)
		str_append(o, "Content-Transfer-Encoding: 8bit\r\n");
	str_append(o, "\r\n");
	if (envid != NULL)
		bounce_field(c, o, "Original-Envelope-Id", envid);
	v = xasprintf("dns; %s", c->host);
	bounce_field(c, o, "Reporting-MTA", v);
	free(v);
	bounce_field(c, o, "X-Dirmail-Queue-ID", c->env->id);
	v = xasprintf("rfc822; %s", c->env->sender);
	bounce_field(c, o, "X-Dirmail-Sender", v);
	free(v);
	bounce_date(c->env->arrival, date, sizeof(date));
	bounce_field(c, o, "Arrival-Date", date);
	for (i = 0; i < c->n; i++)
		bounce_rcpt_block(c, o, &c->r[i]);
	str_append(o, "\r\n");
}

/* Append a paragraph of part 1, folded, and the blank line after it. */
static void
bounce_para(struct str *o, const char *text)
{
	bounce_fold(o, 0, text, "");
	str_append(o, "\r\n");
}

/* The explanation at the top of part 1, by kind. */
static void
bounce_explain(const struct bounce_ctx *c, struct str *o)
{
	char date[64], *s;

	switch (c->kind) {
	case BOUNCE_FAILED:
		bounce_para(o, "Your message could not be delivered to one or "
		    "more of its recipients. The reasons are listed below, "
		    "and the message is attached to this report.");
		bounce_para(o, "If you need help, write to the postmaster of "
		    "this system and include this report. You may remove "
		    "your own text from the attached message first.");
		break;
	case BOUNCE_DELAYED:
		bounce_para(o, "This is a warning only. You do not need to "
		    "send your message again.");
		bounce_para(o, "Your message could not be delivered yet to "
		    "the recipients listed below. The reasons are given "
		    "with each of them, and the mail system keeps trying.");
		if (c->p->will_retry_until > 0) {
			bounce_date(c->p->will_retry_until, date,
			    sizeof(date));
			s = xasprintf("It gives up after %s, and then tells "
			    "you so.", date);
			bounce_para(o, s);
			free(s);
		}
		break;
	case BOUNCE_DELIVERED:
		bounce_para(o, "Your message was delivered to the recipients "
		    "listed below, as you asked in a delivery status "
		    "notification request.");
		break;
	}
}

/* Append part 1: the explanation for people, one line per recipient. */
static void
bounce_text_part(const struct bounce_ctx *c, struct str *o)
{
	const char *name = c->p->mail_name != NULL ? c->p->mail_name :
	    "dirmail";
	char *s, *ext, *line;
	size_t i;

	str_appendf(o, "--%s\r\n", c->boundary);
	str_append(o, "Content-Description: Notification\r\n");
	str_appendf(o, "Content-Type: text/plain; charset=%s\r\n",
	    c->utf8 ? "utf-8" : "us-ascii");
	if (c->utf8)
		str_append(o, "Content-Transfer-Encoding: 8bit\r\n");
	str_append(o, "\r\n");
	s = xasprintf("This is the mail system at host %s.", c->host);
	bounce_para(o, s);
	free(s);
	bounce_explain(c, o);
	if (c->orig.too_big) {
		s = xasprintf("The message was larger than %llu bytes, so "
		    "only its headers are attached.", c->p->size_limit);
		bounce_para(o, s);
		free(s);
	}
	s = xasprintf("The %s program", name);
	bounce_para(o, s);
	free(s);
	for (i = 0; i < c->n; i++) {
		ext = addr_external(c->r[i].final);
		s = xasprintf("<%s>: %s", ext, c->r[i].text != NULL ?
		    c->r[i].text : kind_text[c->kind].action);
		line = bounce_clean(s, c->utf8);
		bounce_fold(o, 0, line, "    ");
		free(line);
		free(s);
		free(ext);
	}
	str_append(o, "\r\n");
}

/* Append the notice's own header. */
static void
bounce_header(const struct bounce_ctx *c, struct str *o)
{
	char date[64], stamp[32], *v, *ext;
	time_t t = (time_t)c->now;
	struct tm tm;

	v = xasprintf("MAILER-DAEMON@%s (Mail Delivery System)", c->host);
	bounce_field(c, o, "From", v);
	free(v);
	ext = addr_external(c->p->to);
	v = xasprintf("<%s>", ext);
	bounce_field(c, o, "To", v);
	free(v);
	free(ext);
	bounce_field(c, o, "Subject", kind_text[c->kind].subject);
	bounce_date(c->now, date, sizeof(date));
	bounce_field(c, o, "Date", date);
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
	/* The queue id (the boundary's first part) makes it unique. */
	v = xasprintf("<%s.%.*s@%s>", stamp,
	    (int)strcspn(c->boundary, "."), c->boundary, c->host);
	bounce_field(c, o, "Message-Id", v);
	free(v);
	bounce_field(c, o, "Auto-Submitted", "auto-replied");
	bounce_field(c, o, "MIME-Version", "1.0");
	str_appendf(o, "Content-Type: multipart/report; "
	    "report-type=%sdelivery-status;\r\n\tboundary=\"%s\"\r\n",
	    c->utf8 ? "global-" : "", c->boundary);
	if (c->utf8 || c->orig.eight_bit)
		str_append(o, "Content-Transfer-Encoding: 8bit\r\n");
	str_append(o, "\r\nThis is a MIME-encapsulated message.\r\n\r\n");
}

/* Append the header of part 3, the returned message. */
static void
bounce_orig_head(const struct bounce_ctx *c, struct str *o)
{
	const char *type;

	if (c->orig.headers)
		type = c->utf8 ? "message/global-headers" :
		    "text/rfc822-headers";
	else
		type = c->utf8 ? "message/global" : "message/rfc822";
	str_appendf(o, "--%s\r\n", c->boundary);
	str_appendf(o, "Content-Description: %s%s\r\n",
	    kind_text[c->kind].desc, c->orig.headers ? " Headers" : "");
	str_appendf(o, "Content-Type: %s\r\n", type);
	if (c->orig.eight_bit)
		str_append(o, "Content-Transfer-Encoding: 8bit\r\n");
	str_append(o, "\r\n");
}

void
bounce_compose(const struct bounce_ctx *c, struct str *o)
{
	bounce_header(c, o);
	bounce_text_part(c, o);
	bounce_status_part(c, o);
	bounce_orig_head(c, o);
}
