#ifndef DIRMAIL_POP3D_POP3_TEXT_H
#define DIRMAIL_POP3D_POP3_TEXT_H

/*
 * The text side of POP3 (RFC 1939), kept apart from the session so that it
 * can be tested alone: command lines, message numbers, UIDLs and the
 * conversion of a stored message (LF line ends) into the multi-line
 * response (CRLF, dot-stuffed, ended by ".").
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct str;

/* The longest UIDL RFC 1939 allows, without the NUL. */
#define POP3_UIDL_MAX	70

/*
 * Split command LINE in place into its upper-cased name and its
 * arguments (leading and trailing blanks removed; "" when none).
 * Returns 0, or -1 for an empty line or a name that is not 1 to 8
 * printable letters.
 */
int pop3_cmd_split(char *line, char **name_r, char **args_r);

/*
 * Take the next decimal number off *ARGS (leading blanks skipped,
 * *ARGS advanced past it).  Returns 0, 1 when *ARGS holds nothing more,
 * or -1 when the next word is not a number that fits MAX.
 */
int pop3_arg_num(const char **args, uint64_t max, uint64_t *num_r);

/*
 * Expand FORMAT, Dovecot's pop3_uidl_format: "%u" the UID, "%v" the
 * UIDVALIDITY, each with an optional "0" pad flag, a width and the "X"
 * (hexadecimal) modifier, as in "%08Xu%08Xv"; "%%" is "%".  Writes the
 * UIDL into BUF (POP3_UIDL_MAX + 1 bytes).  Returns 0, or -1 with a
 * static reason in *ERROR_R for an unknown variable, an empty or overlong
 * result or characters RFC 1939 does not allow.
 */
int pop3_uidl_expand(const char *format, uint32_t uid, uint32_t uidvalidity,
    char *buf, const char **error_r);

/*
 * The conversion state of one message being sent.  Lines that start with
 * "." get another "."; LF not preceded by CR becomes CRLF.  For TOP,
 * LIMITED is set and LINES_LEFT counts the body lines still wanted.
 */
struct pop3_stuff {
	bool bol;		/* at the beginning of a line */
	bool prev_cr;		/* the last byte seen was CR */
	bool in_body;		/* the header's end has been passed */
	bool limited;		/* stop after LINES_LEFT body lines */
	bool done;		/* the limit was reached */
	size_t line_len;	/* bytes of the current line so far */
	uint64_t lines_left;
};

/* Start converting a message; TOP_LINES < 0 for the whole message. */
void pop3_stuff_init(struct pop3_stuff *st, long long top_lines);

/*
 * Convert LEN bytes of IN, appending to OUT.  Returns the bytes
 * consumed: fewer than LEN only when the TOP limit was reached (then
 * ST->done is set and the rest of the message is not wanted).
 */
size_t pop3_stuff(struct pop3_stuff *st, const char *in, size_t len,
    struct str *out);

/* End the response: close an unterminated last line, then ".". */
void pop3_stuff_finish(struct pop3_stuff *st, struct str *out);

#endif
