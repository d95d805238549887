#ifndef DIRMAIL_IMAPD_IMAP_PARSE_H
#define DIRMAIL_IMAPD_IMAP_PARSE_H

/*
 * The IMAP command grammar (RFC 3501 section 9, RFC 7888 LITERAL+):
 *
 *   imap_reader	frames one command out of the client's byte stream:
 *			its lines and the literals between them, with the
 *			size limits checked before a literal is accepted;
 *   imap_parse()	turns a framed command into a tag, a name and an
 *			argument tree (atoms, strings, lists);
 *   imap_seqset	sequence sets ("1:4,7,9:*", ranges in either order).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/str.h"

struct evbuffer;

/* How deep parenthesised lists may nest. */
#define IMAP_MAX_NESTING	16

enum imap_arg_type {
	IMAP_ARG_ATOM,		/* an atom (also NIL, numbers, flags) */
	IMAP_ARG_STRING,	/* a quoted string */
	IMAP_ARG_LITERAL,	/* a literal */
	IMAP_ARG_LIST,		/* a parenthesised list */
};

struct imap_arg {
	enum imap_arg_type type;
	char *str;		/* atom, string, literal: NUL-terminated */
	size_t len;		/* its length (a literal may hold NULs) */
	struct imap_arg *list;	/* IMAP_ARG_LIST: the elements */
	size_t count;
};

struct imap_cmd {
	char *tag;
	char *name;		/* upper case */
	struct imap_arg *args;	/* the arguments after the name */
	size_t count;
};

/* An atom or a string (not a literal, not a list). */
bool imap_arg_is_astring(const struct imap_arg *a);
/* An atom, a string or a literal. */
bool imap_arg_is_string(const struct imap_arg *a);
/* An atom equal to WORD, case-insensitively. */
bool imap_arg_atom_eq(const struct imap_arg *a, const char *word);

/*
 * Parse the command CMD (LEN bytes: its lines with CRLF or LF and the
 * literals, as the reader framed it, the final line end included or
 * not).  Returns 0 and fills *OUT (free with imap_cmd_free()), or -1 with
 * a static reason in *ERROR_R; *OUT's tag is still set when it could be
 * read, so the caller can answer "TAG BAD".
 */
int imap_parse(const char *cmd, size_t len, struct imap_cmd *out,
    const char **error_r);
void imap_cmd_free(struct imap_cmd *cmd);

enum imap_reader_result {
	IMAP_READER_MORE,	/* need more input */
	IMAP_READER_DONE,	/* a command is in reader->cmd */
	IMAP_READER_CONTINUE,	/* send "+ OK", then feed again */
	IMAP_READER_REFUSE,	/* the command is refused and dropped:
				   answer "TAG BAD/NO reason" (reader->tag,
				   reader->toobig) and feed again */
	IMAP_READER_FATAL,	/* answer "* BYE reason" and close */
};

struct imap_reader {
	size_t max_line;	/* command text, literals not counted; also
				   the largest literal but APPEND's */
	uint64_t max_append;	/* APPEND's literal; 0: no limit */
	struct str cmd;		/* the command being framed */
	size_t text_len;	/* its text, literals not counted */
	uint64_t literal_left;	/* bytes still to read into a literal */
	bool is_append;
	bool toobig;		/* REFUSE: the literal passed max_append */
	char tag[64];		/* REFUSE: the tag, "*" when unknown */
};

void imap_reader_init(struct imap_reader *r, size_t max_line,
    uint64_t max_append);
/* Forget the command framed (after DONE). */
void imap_reader_reset(struct imap_reader *r);
void imap_reader_free(struct imap_reader *r);
/*
 * Take what IN holds of the next command.  *ERROR_R (static) is the
 * reason for REFUSE and FATAL.
 */
enum imap_reader_result imap_reader_feed(struct imap_reader *r,
    struct evbuffer *in, const char **error_r);

/* A sequence set; "*" is kept as 0 and resolved against the largest
   number when tested. */
struct imap_seqset {
	struct imap_range { uint32_t lo, hi; } *ranges;
	size_t count;
};

/* Parse S; 0, or -1 when it is not a sequence set. */
int imap_seqset_parse(const char *s, struct imap_seqset *set_r);
void imap_seqset_free(struct imap_seqset *set);
/* Is N in SET, "*" being MAX (the last sequence number or UID)? */
bool imap_seqset_has(const struct imap_seqset *set, uint32_t n, uint32_t max);

#endif
