/*
 * Submitting a message: read it from standard input (LF or CRLF lines; a
 * lone "." ends it unless -i), take the recipients from the command line
 * and, with -t, from To:, Cc: and Bcc:, and hand it to smtpd over the
 * local pickup socket in SMTP.  smtpd learns who we are from the kernel
 * (SO_PEERCRED), so nothing here needs privileges.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "tools/sendmail.h"

/* How long smtpd may take to answer, in seconds. */
#define SMTP_TIMEOUT	300

/* The message header as read, before it is sent. */
struct header {
	char **fields;		/* whole fields, lines ending in CRLF */
	size_t n;
	char *body_line;	/* the first body line (no blank line before
				   it), or NULL */
	bool ended;		/* the input ended inside the header */
};

/* An SMTP conversation with smtpd. */
struct smtp {
	FILE *in, *out;
	bool verbose;
	struct str reply;	/* the last reply, lines joined by "; " */
};

/* Connect to the UNIX-domain socket PATH. */
int
sendmail_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* Read one line of FP into LINE without its line end.  False at the end
   of the input (a last line without a newline is still a line). */
static bool
read_line(FILE *fp, struct str *line)
{
	int c;

	str_truncate(line, 0);
	while ((c = getc(fp)) != EOF && c != '\n')
		str_append_c(line, (char)c);
	if (c == EOF && line->len == 0)
		return false;
	if (line->len > 0 && line->s[line->len - 1] == '\r')
		str_truncate(line, line->len - 1);
	str_append(line, "");
	return true;
}

/* Is LINE the lone dot that ends the input? */
static bool
is_dot(const struct sendmail_opts *opts, const struct str *line)
{
	return !opts->ignore_dots && line->len == 1 && line->s[0] == '.';
}

/* Start a new header field with LINE. */
static void
header_add(struct header *h, const struct str *line)
{
	h->fields = xreallocarray(h->fields, h->n + 1, sizeof(char *));
	h->fields[h->n++] = xasprintf("%s\r\n", str_c(line));
}

/* Read the header from standard input into H. */
static void
header_read(const struct sendmail_opts *opts, struct header *h)
{
	struct str line = STR_INIT;
	bool first = true;
	char *f;

	for (;;) {
		if (!read_line(stdin, &line) || is_dot(opts, &line)) {
			h->ended = true;
			break;
		}
		/* A leading mbox "From " line is not part of the message. */
		if (first && strncmp(str_c(&line), "From ", 5) == 0) {
			first = false;
			continue;
		}
		first = false;
		if (line.len == 0)
			break;
		if ((line.s[0] == ' ' || line.s[0] == '\t') && h->n > 0) {
			f = h->fields[h->n - 1];
			h->fields[h->n - 1] = xasprintf("%s%s\r\n", f, line.s);
			free(f);
		} else if (sendmail_is_field(line.s, line.len))
			header_add(h, &line);
		else {
			h->body_line = str_steal(&line);
			break;
		}
	}
	str_free(&line);
}

/* Free H's contents. */
static void
header_free(struct header *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		free(h->fields[i]);
	free(h->fields);
	free(h->body_line);
}

/* The value of the first field NAME of H, or NULL. */
static const char *
header_find(const struct header *h, const char *name)
{
	const char *v;
	size_t i;

	for (i = 0; i < h->n; i++)
		if ((v = sendmail_field_value(h->fields[i], name)) != NULL)
			return v;
	return NULL;
}

/* Collect the recipients: the command line's, and with -t those of
   To:, Cc: and Bcc:.  NULL-terminated, NULL when there are none, or
   NULL with *BAD_R set after logging a malformed argument. */
static char **
collect_rcpts(const struct sendmail_opts *opts, const struct header *h,
    bool *bad_r)
{
	static const char *const names[] = { "To", "Cc", "Bcc" };
	char **list = NULL;
	const char *v, *why;
	size_t i, j;

	for (i = 0; opts->extract && i < h->n; i++) {
		for (j = 0; j < 3; j++) {
			v = sendmail_field_value(h->fields[i], names[j]);
			if (v != NULL && sendmail_addr_list(v, &list,
			    &why) < 0)
				log_warning("%s: %s: ignored what follows",
				    names[j], why);
		}
	}
	for (i = 0; opts->rcpts[i] != NULL; i++) {
		if (sendmail_addr_list(opts->rcpts[i], &list, &why) < 0) {
			log_error("bad recipient address \"%s\": %s",
			    opts->rcpts[i], why);
			strv_free(&list);
			*bad_r = true;
			return NULL;
		}
	}
	return list;
}

/* Read a reply into S->reply: its code, or -1 on a read error. */
static int
smtp_reply(struct smtp *s)
{
	struct str line = STR_INIT;
	int code = -1;

	str_truncate(&s->reply, 0);
	while (read_line(s->in, &line)) {
		if (s->verbose)
			fprintf(stderr, "<<< %s\n", str_c(&line));
		if (line.len < 3 || line.s[0] < '2' || line.s[0] > '5')
			break;
		if (s->reply.len > 0)
			str_append(&s->reply, "; ");
		str_append(&s->reply, line.s);
		if (line.len == 3 || line.s[3] != '-') {
			code = atoi(line.s);
			break;
		}
	}
	if (code < 0 && s->reply.len == 0)
		str_append(&s->reply, ferror(s->in) ? strerror(errno) :
		    "connection closed");
	str_free(&line);
	return code;
}

/* Send a command and read its reply code. */
static int __attribute__((format(printf, 2, 3)))
smtp_cmd(struct smtp *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (s->verbose) {
		va_list ap2;

		va_copy(ap2, ap);
		fputs(">>> ", stderr);
		vfprintf(stderr, fmt, ap2);
		fputc('\n', stderr);
		va_end(ap2);
	}
	vfprintf(s->out, fmt, ap);
	va_end(ap);
	fputs("\r\n", s->out);
	if (fflush(s->out) != 0)
		return -1;
	return smtp_reply(s);
}

/* Log a failed step and return its exit status: EX_TEMPFAIL for 4xx and
   lost connections, else PERM. */
static int
smtp_fail(struct smtp *s, int code, const char *what, int perm)
{
	log_error("%s: %s", what, str_c(&s->reply));
	return code < 500 ? EX_TEMPFAIL : perm;
}

/* Send one line of message text with dot-stuffing. */
static void
send_line(struct smtp *s, const char *line)
{
	if (line[0] == '.')
		fputc('.', s->out);
	fputs(line, s->out);
	fputs("\r\n", s->out);
}

/* Send the header (without Bcc: under -t), the From: a -F name asks
   for, and the rest of standard input. */
static void
send_text(struct smtp *s, const struct sendmail_opts *opts,
    const struct header *h)
{
	struct str line = STR_INIT;
	size_t i;

	for (i = 0; i < h->n; i++) {
		if (opts->extract &&
		    sendmail_field_value(h->fields[i], "Bcc") != NULL)
			continue;
		/* Folded lines are CRLF-joined: stuff each of them. */
		if (h->fields[i][0] == '.')
			fputc('.', s->out);
		fputs(h->fields[i], s->out);
	}
	if (opts->fullname != NULL && *opts->sender != '\0' &&
	    header_find(h, "From") == NULL) {
		sendmail_name_addr(&line, opts->fullname, opts->sender);
		fprintf(s->out, "From: %s\r\n", str_c(&line));
	}
	if (h->ended)
		goto out;
	fputs("\r\n", s->out);
	if (h->body_line != NULL)
		send_line(s, h->body_line);
	while (read_line(stdin, &line) && !is_dot(opts, &line))
		send_line(s, str_c(&line));
out:
	str_free(&line);
}

/* The envelope: MAIL FROM and a RCPT TO for each of RCPTS.  0, or an exit
   status after logging why. */
static int
send_envelope(struct smtp *s, const struct sendmail_opts *opts,
    char **rcpts)
{
	size_t i;
	int code;

	code = smtp_cmd(s, "MAIL FROM:<%s> BODY=8BITMIME", opts->sender);
	if (code != 250)
		return smtp_fail(s, code, "sender refused", EX_DATAERR);
	for (i = 0; rcpts[i] != NULL; i++) {
		code = smtp_cmd(s, "RCPT TO:<%s>", rcpts[i]);
		if (code != 250 && code != 251)
			return smtp_fail(s, code, "recipient refused",
			    EX_NOUSER);
	}
	return 0;
}

/* The whole transaction over S.  An exit status. */
static int
smtp_session(struct smtp *s, const struct sendmail_opts *opts,
    const struct header *h, char **rcpts)
{
	int code, ret;

	if ((code = smtp_reply(s)) != 220)
		return smtp_fail(s, code, "pickup service", EX_UNAVAILABLE);
	if ((code = smtp_cmd(s, "EHLO localhost")) != 250)
		return smtp_fail(s, code, "EHLO", EX_PROTOCOL);
	if ((ret = send_envelope(s, opts, rcpts)) != 0)
		return ret;
	if ((code = smtp_cmd(s, "DATA")) != 354)
		return smtp_fail(s, code, "DATA", EX_DATAERR);
	send_text(s, opts, h);
	if (ferror(stdin)) {
		log_error("error reading the message: %s", strerror(errno));
		return EX_IOERR;
	}
	if ((code = smtp_cmd(s, ".")) != 250)
		return smtp_fail(s, code, "message refused", EX_DATAERR);
	(void)smtp_cmd(s, "QUIT");
	return EX_OK;
}

/* Open the SMTP streams over a new connection to PATH.  0, or an exit
   status. */
static int
smtp_open(struct smtp *s, const char *path)
{
	struct timeval tv = { SMTP_TIMEOUT, 0 };
	int fd, fd2;

	if ((fd = sendmail_connect(path)) < 0) {
		log_error("cannot connect to the pickup socket %s: %s "
		    "(is dirmail running?)", path, strerror(errno));
		return EX_TEMPFAIL;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if ((fd2 = dup(fd)) < 0 || (s->in = fdopen(fd, "r")) == NULL ||
	    (s->out = fdopen(fd2, "w")) == NULL)
		log_fatal_status(EX_OSERR, "cannot set up the connection: %m");
	return 0;
}

/* Read the message and submit it. */
int
sendmail_submit(const struct sendmail_opts *opts)
{
	struct header h = { 0 };
	struct smtp s = { .verbose = opts->verbose, .reply = STR_INIT };
	char **rcpts;
	bool bad = false;
	int ret;

	signal(SIGPIPE, SIG_IGN);
	header_read(opts, &h);
	if ((rcpts = collect_rcpts(opts, &h, &bad)) == NULL) {
		if (!bad)
			log_error(opts->extract ? "No recipient addresses "
			    "found in message header" : "Recipient addresses "
			    "must be specified on the command line or via "
			    "the -t option");
		header_free(&h);
		return EX_USAGE;
	}
	if ((ret = smtp_open(&s, opts->socket_path)) == 0) {
		ret = smtp_session(&s, opts, &h, rcpts);
		fclose(s.in);
		fclose(s.out);
	}
	str_free(&s.reply);
	strv_free(&rcpts);
	header_free(&h);
	return ret;
}

/* Copy what standard input has to FD, a bare LF turned into CRLF.
   False at its end or on an error. */
static bool
relay_input(int fd, char *last)
{
	char buf[4096];
	struct str out = STR_INIT;
	ssize_t n, i;
	bool ok;

	if ((n = read(0, buf, sizeof(buf))) <= 0)
		return n < 0 && errno == EINTR;
	for (i = 0; i < n; i++) {
		if (buf[i] == '\n' && *last != '\r')
			str_append_c(&out, '\r');
		str_append_c(&out, buf[i]);
		*last = buf[i];
	}
	ok = fd_write_all(fd, out.s, out.len) == 0;
	str_free(&out);
	return ok;
}

/* Copy what FD has to standard output.  False at its end. */
static bool
relay_output(int fd)
{
	char buf[4096];
	ssize_t n;

	if ((n = read(fd, buf, sizeof(buf))) <= 0)
		return n < 0 && errno == EINTR;
	return fd_write_all(1, buf, (size_t)n) == 0;
}

/* -bs: relay SMTP between stdin/stdout and the pickup socket. */
int
sendmail_relay(const char *path)
{
	struct pollfd pfd[2];
	char last = '\0';
	int fd;

	signal(SIGPIPE, SIG_IGN);
	if ((fd = sendmail_connect(path)) < 0) {
		log_error("cannot connect to the pickup socket %s: %s "
		    "(is dirmail running?)", path, strerror(errno));
		return EX_TEMPFAIL;
	}
	pfd[0] = (struct pollfd){ .fd = 0, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = fd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents != 0 && !relay_output(fd))
			break;
		if (pfd[0].revents != 0 && !relay_input(fd, &last)) {
			/* The client is done: smtpd sees the end too. */
			shutdown(fd, SHUT_WR);
			pfd[0].fd = -1;
		}
	}
	close(fd);
	return EX_OK;
}
