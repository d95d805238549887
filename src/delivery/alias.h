#ifndef DIRMAIL_DELIVERY_ALIAS_H
#define DIRMAIL_DELIVERY_ALIAS_H

/*
 * The destinations of an alias value, a ~/.forward file or an :include:
 * file (aliases(5) syntax): a list separated by commas or newlines of
 *	user, user@domain, <user@domain>	an address
 *	|command, "|command with, commas"	a command (sh -c)
 *	/path/file, /path/maildir/		a file (mbox) or a Maildir
 *	:include:/path				more destinations from a file
 *	\user					user's own mailbox, not
 *						expanded further
 * "#" starts a comment line; double quotes protect commas and spaces.
 */

#include <stddef.h>

enum alias_kind {
	ALIAS_ADDRESS,	/* value: the address (no <>), maybe no domain */
	ALIAS_COMMAND,	/* value: the command, without "|" */
	ALIAS_FILE,	/* value: the absolute path ("/" at the end: Maildir) */
	ALIAS_INCLUDE,	/* value: the absolute path of the file */
	ALIAS_SELF,	/* value: the user name, without "\" */
};

struct alias_item {
	enum alias_kind kind;
	char *value;
};

struct alias_list {
	struct alias_item *items;
	size_t n;
};

/*
 * Parse TEXT into LIST (appended to; zero it first).  0, or -1 with
 * *ERROR_R (static text) for an unterminated quote, an empty command, a
 * relative :include: path or an address with white space; LIST then
 * holds what came before the error.
 */
int alias_parse(const char *text, struct alias_list *list,
    const char **error_r);

/* Free what LIST holds and zero it. */
void alias_list_clear(struct alias_list *list);

#endif
