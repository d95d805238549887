#ifndef DIRMAIL_QUEUE_BOUNCE_INT_H
#define DIRMAIL_QUEUE_BOUNCE_INT_H

/*
 * Internal interface between bounce.c (what is returned, the queue file)
 * and bounce_text.c (the notice's text around the returned message).
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"
#include "queue/bounce.h"
#include "queue/queue.h"

/* What of the original message the notice returns. */
struct bounce_orig {
	unsigned long long len;	/* bytes returned from the content start */
	unsigned long long hdr_len;	/* the original's header section */
	bool headers;		/* only the header section */
	bool too_big;		/* because of size_limit */
	bool eight_bit;		/* the returned bytes hold 8-bit data */
};

/* One notice being composed. */
struct bounce_ctx {
	const struct bounce_params *p;
	const struct queue_envelope *env;
	enum bounce_kind kind;
	const struct bounce_rcpt *r;
	size_t n;
	bool utf8;		/* the original was SMTPUTF8 */
	const char *host;	/* myhostname */
	char boundary[QUEUE_ID_MAX + 40];
	struct bounce_orig orig;
	double now;
};

/*
 * Append to O everything the notice C holds before the returned message:
 * its header, the text part, the delivery-status part and the header of
 * the part that returns the message (C->orig says which kind).
 */
void bounce_compose(const struct bounce_ctx *c, struct str *o);

#endif
