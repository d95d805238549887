/*
 * SEARCH helpers: header values, transfer and RFC 2047 decoding, charset
 * conversion to UTF-8 (iconv) and case-insensitive matching.
 */

#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "mailstore/mime.h"
#include "mailstore/mime_int.h"

char **
mime_header_values(const char *header, size_t len, const char *name)
{
	char **v = xcalloc(1, sizeof(*v));
	struct mime_field f;
	size_t pos = 0, n = 0;

	while (mime_field_next(header, len, &pos, &f)) {
		if (!mime_field_is(&f, name))
			continue;
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = mime_unfold(f.value, f.value_len);
		v[n] = NULL;
	}
	return v;
}

/* The value of a base64 digit, or -1. */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decode base64, skipping anything outside the alphabet (line breaks,
   and the garbage broken mailers leave), stopping at '='. */
static void
decode_base64(struct str *out, const char *s, size_t len)
{
	unsigned int acc = 0, bits = 0;
	size_t i;

	for (i = 0; i < len && s[i] != '='; i++) {
		int v = b64_value((unsigned char)s[i]);

		if (v < 0)
			continue;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			str_append_c(out, (char)((acc >> bits) & 0xff));
		}
	}
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode quoted-printable; in headers (RFC 2047 Q) '_' is a space. */
static void
decode_qp(struct str *out, const char *s, size_t len, bool header)
{
	size_t i;

	for (i = 0; i < len; i++) {
		int hi, lo;

		if (header && s[i] == '_') {
			str_append_c(out, ' ');
			continue;
		}
		if (s[i] != '=') {
			str_append_c(out, s[i]);
			continue;
		}
		if (i + 1 < len && s[i + 1] == '\n') {
			i++;		/* soft line break */
			continue;
		}
		if (i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 2;
			continue;
		}
		hi = i + 1 < len ? hex_value((unsigned char)s[i + 1]) : -1;
		lo = i + 2 < len ? hex_value((unsigned char)s[i + 2]) : -1;
		if (hi < 0 || lo < 0) {
			str_append_c(out, '=');
			continue;
		}
		str_append_c(out, (char)(hi << 4 | lo));
		i += 2;
	}
}

/* Append S (LEN bytes in CHARSET) to OUT as UTF-8; bytes that do not
   convert are kept as they are. */
static void
append_utf8(struct str *out, const char *charset, const char *s, size_t len)
{
	iconv_t cd;
	char buf[4096];

	if (charset == NULL || *charset == '\0' ||
	    strcasecmp(charset, "utf-8") == 0 ||
	    strcasecmp(charset, "us-ascii") == 0 ||
	    (cd = iconv_open("UTF-8", charset)) == (iconv_t)-1) {
		str_append_n(out, s, len);
		return;
	}
	while (len > 0) {
		char *in = (char *)(uintptr_t)s, *o = buf;
		size_t olen = sizeof(buf), before = len;

		if (iconv(cd, &in, &len, &o, &olen) == (size_t)-1 &&
		    errno != E2BIG) {
			/* Keep the byte that did not convert, go on. */
			str_append_n(out, buf, sizeof(buf) - olen);
			str_append_c(out, *in);
			len--;
			s = in + 1;
			continue;
		}
		str_append_n(out, buf, sizeof(buf) - olen);
		s = in;
		if (len == before && olen == sizeof(buf))
			break;
	}
	iconv_close(cd);
}

/* Does S start an encoded word "=?cs?E?text?="?  Sets *Q1_R to the '?'
   before the encoding and *END_R to the final "?=". */
static bool
word_bounds(const char *s, const char **q1_r, const char **end_r)
{
	const char *q1, *endw;

	if (s[0] != '=' || s[1] != '?' || (q1 = strchr(s + 2, '?')) == NULL ||
	    q1[1] == '\0' || strchr("BbQq", q1[1]) == NULL || q1[2] != '?' ||
	    (endw = strstr(q1 + 3, "?=")) == NULL ||
	    memchr(s, ' ', (size_t)(endw - s)) != NULL)
		return false;
	*q1_r = q1;
	*end_r = endw;
	return true;
}

/* Decode the encoded word at S; returns its length, or 0 when S does not
   start one. */
static size_t
decode_word(struct str *out, const char *s)
{
	const char *q1, *endw;
	char *charset, *star;
	struct str raw = STR_INIT;

	if (!word_bounds(s, &q1, &endw))
		return 0;
	charset = xstrndup(s + 2, (size_t)(q1 - s - 2));
	if ((star = strchr(charset, '*')) != NULL)
		*star = '\0';	/* RFC 2231 language suffix */
	if (q1[1] == 'B' || q1[1] == 'b')
		decode_base64(&raw, q1 + 3, (size_t)(endw - q1 - 3));
	else
		decode_qp(&raw, q1 + 3, (size_t)(endw - q1 - 3), true);
	append_utf8(out, charset, raw.s != NULL ? raw.s : "", raw.len);
	str_free(&raw);
	free(charset);
	return (size_t)(endw + 2 - s);
}

void
mime_decode_header(struct str *out, const char *s)
{
	const char *q1, *endw;

	str_append_n(out, "", 0);
	while (*s != '\0') {
		size_t n = decode_word(out, s), ws;

		if (n == 0) {
			str_append_c(out, *s++);
			continue;
		}
		s += n;
		/* White space between two encoded words goes (RFC 2047 6.2). */
		ws = strspn(s, " \t\r\n");
		if (word_bounds(s + ws, &q1, &endw))
			s += ws;
	}
}

/* Append the UTF-8 character C (a code point) to OUT. */
static void
put_utf8(struct str *out, unsigned int c)
{
	char b[3];

	if (c < 0x80) {
		str_append_c(out, (char)c);
	} else if (c < 0x800) {
		b[0] = (char)(0xc0 | c >> 6);
		b[1] = (char)(0x80 | (c & 0x3f));
		str_append_n(out, b, 2);
	} else {
		b[0] = (char)(0xe0 | c >> 12);
		b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		str_append_n(out, b, 3);
	}
}

/* The lower case of code point C for the scripts we fold. */
static unsigned int
fold_char(unsigned int c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 0x20;
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)	/* Latin-1 */
		return c + 0x20;
	if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2)	/* Greek */
		return c + 0x20;
	if (c >= 0x410 && c <= 0x42f)			/* Cyrillic */
		return c + 0x20;
	if (c >= 0x400 && c <= 0x40f)
		return c + 0x50;
	return c;
}

/* Append S folded to lower case; bytes that are not two- or three-byte
   UTF-8 sequences are copied as they are. */
static void
fold(struct str *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	str_append_n(out, "", 0);
	while (p < end) {
		if (*p < 0x80) {
			str_append_c(out, (char)fold_char(*p++));
		} else if ((*p & 0xe0) == 0xc0 && end - p >= 2 &&
		    (p[1] & 0xc0) == 0x80) {
			unsigned int c = (unsigned int)(*p & 0x1f) << 6 |
			    (p[1] & 0x3f);

			put_utf8(out, c >= 0x80 ? fold_char(c) : c);
			p += 2;
		} else
			str_append_c(out, (char)*p++);
	}
}

bool
mime_match(const char *haystack, size_t len, const char *needle)
{
	struct str h = STR_INIT, n = STR_INIT;
	bool ret;

	if (*needle == '\0')
		return true;
	fold(&h, haystack, len);
	fold(&n, needle, strlen(needle));
	ret = memmem(h.s, h.len, n.s, n.len) != NULL;
	str_free(&h);
	str_free(&n);
	return ret;
}

bool
mime_search_header(const char *header, size_t len, const char *name,
    const char *needle)
{
	char **v = mime_header_values(header, len, name);
	bool found = false;
	size_t i;

	for (i = 0; v[i] != NULL && !found; i++) {
		struct str d = STR_INIT;

		mime_decode_header(&d, v[i]);
		found = mime_match(d.s, d.len, needle);
		str_free(&d);
	}
	strv_free(&v);
	return found;
}

/* Does the whole header block (encoded words decoded) hold NEEDLE? */
static bool
header_has(const char *header, size_t len, const char *needle)
{
	struct str d = STR_INIT;
	char *raw = xstrndup(header, len);
	bool ret;

	mime_decode_header(&d, raw);
	ret = mime_match(d.s, d.len, needle);
	str_free(&d);
	free(raw);
	return ret;
}

/* Does the decoded body of leaf PART hold NEEDLE? */
static bool
body_has(const char *msg, const struct mime_part *part, const char *needle)
{
	const char *body = msg + part->body_off, *enc = part->encoding;
	struct str dec = STR_INIT, utf8 = STR_INIT;
	bool ret;

	if (strcasecmp(part->type, "text") != 0 &&
	    strcasecmp(part->type, "message") != 0)
		return false;	/* attachments are not text */
	if (enc != NULL && strcasecmp(enc, "base64") == 0)
		decode_base64(&dec, body, part->body_len);
	else if (enc != NULL && strcasecmp(enc, "quoted-printable") == 0)
		decode_qp(&dec, body, part->body_len, false);
	else
		str_append_n(&dec, body, part->body_len);
	str_append_n(&dec, "", 0);	/* never NULL, even when empty */
	append_utf8(&utf8, mime_param_get(part->params, part->nparams,
	    "charset"), dec.s, dec.len);
	ret = mime_match(utf8.s, utf8.len, needle);
	str_free(&dec);
	str_free(&utf8);
	return ret;
}

/* Search PART and everything below it. */
static bool
part_has(const char *msg, const struct mime_part *part, const char *needle,
    bool text)
{
	const struct mime_part *c;

	if (text && header_has(msg + part->hdr_off, part->hdr_len, needle))
		return true;
	if (part->message != NULL)
		return part_has(msg, part->message, needle, text);
	if (!part->multipart)
		return body_has(msg, part, needle);
	for (c = part->children; c != NULL; c = c->next) {
		if (part_has(msg, c, needle, text))
			return true;
	}
	return false;
}

bool
mime_search_text(const char *msg, size_t len, const struct mime_part *root,
    const char *needle, bool text)
{
	(void)len;
	return part_has(msg, root, needle, text);
}
