#ifndef DIRMAIL_TOOLS_SENDMAIL_H
#define DIRMAIL_TOOLS_SENDMAIL_H

/*
 * sendmail(1), mailq and newaliases: the classic command-line interface.
 *
 *	sendmail.c	options, the modes, mailq, newaliases, -q
 *	sendmail_submit.c
 *			reading the message, SMTP to the pickup socket, -bs
 *	sendmail_addr.c	RFC 5322 address lists and header fields
 */

#include <stdbool.h>
#include <stddef.h>

struct str;

/* What a submission needs, from the options and the configuration. */
struct sendmail_opts {
	const char *socket_path;	/* the pickup socket */
	const char *myorigin;
	char *sender;			/* internal form; "" for <> */
	const char *fullname;		/* -F, or NULL */
	bool extract;			/* -t */
	bool ignore_dots;		/* -i, -oi */
	bool verbose;			/* -v: SMTP dialogue on stderr */
	char **rcpts;			/* command line, NULL-terminated */
};

/* sendmail_submit.c */

/*
 * Read a message from standard input and submit it through the pickup
 * socket.  Returns a sysexits(3) status after printing any error on
 * standard error.
 */
int sendmail_submit(const struct sendmail_opts *opts);

/*
 * -bs: relay SMTP between standard input/output and the pickup socket
 * PATH.  Returns a sysexits(3) status.
 */
int sendmail_relay(const char *path);

/*
 * Connect to the UNIX-domain socket PATH.  The descriptor, or -1 with
 * errno set.
 */
int sendmail_connect(const char *path);

/* sendmail_addr.c */

/*
 * Parse TEXT, an RFC 5322 address list (display names, angle addresses,
 * groups, comments, quoted strings, folded lines), and append the
 * address of each mailbox to *LIST (a NULL-terminated vector, NULL to
 * start; free it with strv_free()): the addr-spec as it would appear in
 * SMTP, without display name, comments or source route.  Empty members
 * and empty groups add nothing.  Returns the number of addresses added,
 * or -1 with a static reason in *ERROR_R (the addresses found before the
 * error stay in *LIST).
 */
int sendmail_addr_list(const char *text, char ***list, const char **error_r);

/*
 * Is the LEN bytes at LINE (one line, without its line end) the first
 * line of a header field ("Name:" with a printable ASCII name)?
 */
bool sendmail_is_field(const char *line, size_t len);

/*
 * If FIELD (a whole header field, folded lines included) is named NAME
 * (case-insensitive), return its value (after the colon), else NULL.
 */
const char *sendmail_field_value(const char *field, const char *name);

/*
 * Append ADDR in the form SMTP wants to OUT, with the display name NAME
 * quoted when it needs to be: "Name <addr>" (for a From: header).
 */
void sendmail_name_addr(struct str *out, const char *name, const char *addr);

#endif
