#ifndef DIRMAIL_DELIVERY_LOCAL_MSG_H
#define DIRMAIL_DELIVERY_LOCAL_MSG_H

/*
 * The message a delivery request names, as the local agent writes it
 * into mailboxes: read once from the queue file, CRLF turned into LF.
 */

#include <stdbool.h>
#include <stddef.h>

struct local_msg {
	char *data;		/* the content, LF line ends, NUL after it */
	size_t len;
	size_t header_len;	/* the header section, without the blank
				   line after it */
};

/*
 * Read LENGTH bytes at OFFSET of the queue file PATH into MSG (zeroed
 * first) and turn CRLF into LF.  0, or -1 with *ERROR_R (allocated).
 */
int local_msg_read(const char *path, unsigned long long offset,
    unsigned long long length, struct local_msg *msg, char **error_r);

/* Make MSG from LEN bytes of TEXT (CRLF or LF lines), for tests too. */
void local_msg_set(struct local_msg *msg, const char *text, size_t len);

/* Free what MSG holds and zero it. */
void local_msg_free(struct local_msg *msg);

/*
 * True when the header of MSG has a "Delivered-To:" field whose value is
 * RCPT (case does not matter, <> around it neither): the message came
 * back to a mailbox it was already delivered to, a mail loop.
 */
bool local_msg_delivered_to(const struct local_msg *msg, const char *rcpt);

/*
 * The header lines a delivery adds: "Return-Path: <SENDER>" and
 * "Delivered-To: RCPT", LF-terminated.  Allocated.
 */
char *local_msg_prefix(const char *sender, const char *rcpt);

#endif
