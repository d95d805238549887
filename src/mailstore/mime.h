#ifndef DIRMAIL_MAILSTORE_MIME_H
#define DIRMAIL_MAILSTORE_MIME_H

/*
 * The MIME structure of a message as IMAP needs it: the part tree
 * (RFC 2045/2046), BODY and BODYSTRUCTURE, ENVELOPE, FETCH BODY[section]
 * and the pieces SEARCH uses (header values, decoded text matching, the
 * Date: header).
 *
 * Messages are given as one buffer, normally with CRLF line ends (the
 * IMAP engine converts the stored LF form before calling); bare LF is
 * tolerated everywhere.  The buffer may hold NULs and 8-bit bytes.  The
 * part tree keeps offsets into that buffer, never pointers, so the
 * caller passes the same buffer again to every function that reads
 * bytes.  Nothing here fails on bad input: garbage gives a plausible
 * tree (at worst one text/plain part), never a crash.
 *
 * Limits: multipart and message/rfc822 nesting stops at MIME_MAX_DEPTH
 * (a deeper multipart or message/rfc822 part becomes a text/plain leaf);
 * at most MIME_MAX_PARTS parts per message (parts found after that are
 * left out of the tree).
 */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct str;

#define MIME_MAX_DEPTH	100
#define MIME_MAX_PARTS	10000

/* A Content-Type or Content-Disposition parameter.  RFC 2231
   continuations (name*0, name*1) are joined into one parameter; when any
   section was extended (name*0*), the name keeps one trailing "*" and the
   value stays encoded ("utf-8'en'%E2%82%AC"), as Dovecot shows it and
   IMAP clients decode it. */
struct mime_param {
	char *name;	/* as written, without the section number */
	char *value;
};

struct mime_part {
	struct mime_part *parent;
	struct mime_part *children;	/* multipart: first child */
	struct mime_part *next;		/* next sibling */
	struct mime_part *message;	/* message/rfc822: the inner message */

	/* Offsets into the message buffer.  The header includes the blank
	   line that ends it (when there is one); the body runs from there
	   to the end of the part (for a multipart child: up to, not
	   including, the CRLF before the next boundary). */
	size_t hdr_off, hdr_len;
	size_t body_off, body_len;
	unsigned int body_lines;	/* LF count of the body */
	unsigned int nchildren;

	/* From the header, NULL when absent.  TYPE and SUBTYPE keep the
	   case they were written in (compare them with strcasecmp()) and
	   are never NULL: without a valid Content-Type they are
	   "text"/"plain", or "message"/"rfc822" inside multipart/digest.
	   MD5 is the Content-MD5 field as written: nothing is computed. */
	char *type, *subtype;
	struct mime_param *params;
	size_t nparams;
	char *id, *description, *encoding, *md5;
	char *disposition;		/* the value as written */
	struct mime_param *disp_params;
	size_t ndisp_params;
	char *language;			/* Content-Language, raw */
	char *location;
	bool multipart;			/* type "multipart" with children
					   parsed (false beyond the depth
					   limit) */
	char *envelope;			/* the inner message of a
					   message/rfc822 part: its ENVELOPE
					   (BODYSTRUCTURE needs it) */
};

/*
 * Parse the message MSG of LEN bytes into a tree.  The root part is the
 * message itself: its header is the message header.  A multipart root
 * has its parts as children; a message/rfc822 part has the encapsulated
 * message (again a root-like part) in ->message.  Never returns NULL.
 * Free with mime_free().
 */
struct mime_part *mime_parse(const char *msg, size_t len);

/* Free a tree from mime_parse() and NULL *ROOT (NULL is fine). */
void mime_free(struct mime_part **root);

/* Look up parameter NAME (ASCII, case-insensitive) in PARAMS; NULL when
   absent. */
const char *mime_param_get(const struct mime_param *params, size_t n,
    const char *name);

/*
 * Append the IMAP BODY (EXTENDED false) or BODYSTRUCTURE (EXTENDED true)
 * of ROOT to OUT, RFC 3501 7.4.2: the parenthesised list alone, without
 * the "BODY " prefix.  Text parts with no charset get ("charset"
 * "us-ascii"); sizes are octets of the encoded body in the buffer given
 * to mime_parse(); line counts are LF counts; MD5 is the Content-MD5
 * field or NIL.  A multipart without any part shows as an empty
 * text/plain part, as Dovecot does.
 */
void mime_bodystructure(struct str *out, const struct mime_part *root,
    bool extended);

/*
 * Append the IMAP ENVELOPE of the message header HEADER (LEN bytes, as
 * from the root's hdr_off/hdr_len) to OUT: the parenthesised list of
 * date subject from sender reply-to to cc bcc in-reply-to message-id.
 * Address lists become ((name adl mailbox host) ...) with groups as
 * RFC 3501 says; sender and reply-to default to from; NIL for absent
 * fields.  Encoded words are left as they are.
 */
void mime_envelope(struct str *out, const char *header, size_t len);

/*
 * FETCH BODY[section] (RFC 3501 6.4.5).
 */
enum mime_section_kind {
	MIME_SECTION_ALL,		/* "" or a bare part number */
	MIME_SECTION_HEADER,
	MIME_SECTION_TEXT,
	MIME_SECTION_MIME,
	MIME_SECTION_FIELDS,		/* HEADER.FIELDS (...) */
	MIME_SECTION_FIELDS_NOT,	/* HEADER.FIELDS.NOT (...) */
};

struct mime_section {
	enum mime_section_kind kind;
	unsigned int *path;		/* part numbers, each >= 1 */
	size_t npath;
	char **fields;			/* upper case, NULL-terminated;
					   FIELDS kinds only */
};

/*
 * Parse SPEC, the text between "[" and "]" of BODY[...]: "", "HEADER",
 * "TEXT", "1", "1.2.3", "1.MIME", "2.HEADER", "2.TEXT",
 * "HEADER.FIELDS (A B)", "1.HEADER.FIELDS.NOT (A)".  Keywords are
 * case-insensitive; field names are atoms or quoted strings (a caller
 * that received a literal passes it quoted).  Returns 0 with *SEC_R
 * (free with mime_section_free()), or -1 with a static *ERROR_R.
 */
int mime_section_parse(const char *spec, struct mime_section **sec_r,
    const char **error_r);
void mime_section_free(struct mime_section **sec);

/* Append the section's canonical name, as a FETCH response shows it
   inside the brackets (e.g. "1.HEADER.FIELDS (FROM TO)"), to OUT. */
void mime_section_name(struct str *out, const struct mime_section *sec);

/*
 * The bytes of section SEC of message MSG (LEN bytes, parsed into ROOT).
 * Sets *DATA_R and *LEN_R either to a range of MSG or, for HEADER.FIELDS and
 * HEADER.FIELDS.NOT, to the contents of BUF (truncated first; the
 * selected fields in message order, then the blank line).  A part that
 * does not exist, or HEADER/TEXT of a part that is not message/rfc822,
 * gives an empty string (as Dovecot does).  The caller applies
 * <partial>.
 */
void mime_section_get(const char *msg, size_t len,
    const struct mime_part *root, const struct mime_section *sec,
    struct str *buf, const char **data_r, size_t *len_r);

/* The part that section path PATH[0..N-1] names, or NULL.  N == 0 gives
   ROOT. */
const struct mime_part *mime_part_find(const struct mime_part *root,
    const unsigned int *path, size_t n);

/*
 * SEARCH.
 */

/*
 * The values of every header field NAME (case-insensitive) in HEADER
 * (LEN bytes), in order: unfolded (line breaks removed), with the white
 * space after the colon and at the end removed, raw (no RFC 2047
 * decoding).  Returns a NULL-terminated vector (free with strv_free()),
 * empty when there is no such field.
 */
char **mime_header_values(const char *header, size_t len, const char *name);

/*
 * Decode the RFC 2047 encoded words of header value S into UTF-8 and
 * append the result to OUT (white space between adjacent encoded words
 * dropped; charsets other than UTF-8 converted with iconv, bytes left
 * as they are when that fails).
 */
void mime_decode_header(struct str *out, const char *s);

/*
 * Does HAYSTACK (LEN bytes, UTF-8 or anything) contain NEEDLE (UTF-8),
 * ignoring case (ASCII, Latin-1, Greek and Cyrillic letters)?  An empty
 * needle always matches.
 */
bool mime_match(const char *haystack, size_t len, const char *needle);

/* SEARCH HEADER NAME NEEDLE (and FROM, TO, CC, BCC, SUBJECT): does any
   NAME field of HEADER hold NEEDLE once encoded words are decoded?  An
   empty needle matches every message that has the field. */
bool mime_search_header(const char *header, size_t len, const char *name,
    const char *needle);

/*
 * SEARCH BODY (TEXT false) or TEXT (TEXT true): does the message (MSG
 * of LEN bytes, parsed into ROOT) contain NEEDLE in the decoded bodies
 * of its text parts (base64 and quoted-printable decoded, charsets
 * converted to UTF-8, inner messages included), or with TEXT also in
 * any header (encoded words decoded)?
 */
bool mime_search_text(const char *msg, size_t len,
    const struct mime_part *root, const char *needle, bool text);

/*
 * Parse an RFC 5322 date-time, obsolete forms tolerated (no weekday,
 * two- and three-digit years, no seconds, comments, named zones such as
 * "EST" or "GMT", a missing zone read as +0000).  Returns 0 with the UTC
 * time in *TIME_R and the written zone's offset east of UTC in minutes
 * in *TZ_MIN_R, or -1.  SENTON and friends compare the date as written:
 * (*TIME_R + *TZ_MIN_R * 60) / 86400 is that day.
 */
int mime_date_parse(const char *s, time_t *time_r, int *tz_min_r);

#endif
