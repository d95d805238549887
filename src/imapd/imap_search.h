#ifndef DIRMAIL_IMAPD_IMAP_SEARCH_H
#define DIRMAIL_IMAPD_IMAP_SEARCH_H

/*
 * SEARCH criteria (RFC 3501 6.4.4): parsed once into a program, then
 * matched against each message.  Knows nothing of the mail store, so the
 * unit tests can run it over messages held in memory.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct imap_arg;
struct mime_part;
struct imap_search;

/* What the criteria are parsed against: the folder as the client sees
   it. */
struct imap_search_env {
	uint32_t max_seq, max_uid;	/* what "*" means */
	/* The index of keyword NAME in the folder, -1 when unknown. */
	int (*keyword)(void *ctx, const char *name);
	void *ctx;
};

/* One message to match. */
struct imap_search_msg {
	uint32_t seq, uid;
	unsigned flags;			/* MF_* */
	uint32_t keywords;		/* bit i: keyword index i */
	uint64_t size;
	time_t internaldate;
	/* The message in CRLF form and its MIME tree, loaded when a key
	   needs them; -1 when it cannot be read (it then matches no key
	   that needs it). */
	int (*load)(void *ctx, const char **data_r, size_t *len_r,
	    const struct mime_part **root_r);
	void *ctx;
	/* Optional (NULL: always load): the day of the Date: header that an
	   earlier search remembered (true with *DAY_R, -1 when the header
	   is missing or bad), and the way to remember it. */
	bool (*date_get)(void *ctx, long *day_r);
	void (*date_put)(void *ctx, long day);
};

/*
 * Parse the SEARCH arguments ARGS[0..COUNT-1] (an optional CHARSET name
 * first).  Returns 0 with *S_R, -1 for a syntax error (*ERROR_R static:
 * answer BAD), -2 for an unknown charset (answer NO [BADCHARSET]).
 */
int imap_search_parse(const struct imap_arg *args, size_t count,
    const struct imap_search_env *env, struct imap_search **s_r,
    const char **error_r);
bool imap_search_match(const struct imap_search *s,
    const struct imap_search_msg *m);
void imap_search_free(struct imap_search **s);

#endif
