/*
 * mra_test: imapd and pop3d with a test engine in place of the real
 * IMAP and POP3 engines, for the tests of the login side
 * (tests/integration/test_mra*.py).  Run as "imapd" or "pop3d" (the name
 * it is started under chooses).  The engine answers the login, answers
 * "WHOAMI" with what the mail process runs as and what the session
 * holds, echoes every other line, and ends on LOGOUT or QUIT.  Built by
 * "make check", never installed.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mra/mra.h"

/* Reads the session's pipelined input, then its socket. */
struct reader {
	struct mra_session *s;
	size_t used;
};

/* The next line without its CRLF into LINE (SIZE bytes); 0 at EOF. */
static int
read_line(struct reader *r, char *line, size_t size)
{
	size_t n = 0;
	ssize_t got;
	char ch;

	for (;;) {
		if (r->used < r->s->input_len) {
			ch = (char)r->s->input[r->used++];
		} else if ((got = read(r->s->fd, &ch, 1)) <= 0) {
			return 0;
		}
		if (ch == '\n')
			break;
		if (n + 1 < size)
			line[n++] = ch;
	}
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	return 1;
}

/* What the mail process runs as, and the session's fields. */
static void
whoami(FILE *f, const struct mra_session *s)
{
	fprintf(f, "uid=%lu gid=%lu euid=%lu egid=%lu user=%s home=%s "
	    "mail=%s mech=%s tls=%d secured=%d rip=%s lip=%s input=%zu "
	    "service=%s", (unsigned long)getuid(), (unsigned long)getgid(),
	    (unsigned long)geteuid(), (unsigned long)getegid(), s->user,
	    s->home, s->mail, s->mech, s->tls, s->secured, s->rip, s->lip,
	    s->input_len, s->service);
}

static int
test_imap(struct mra_session *s)
{
	struct reader r = { s, 0 };
	FILE *f = fdopen(dup(s->fd), "w");
	char line[8192], *sp;

	fprintf(f, "%s OK [CAPABILITY IMAP4rev1 TEST] Logged in\r\n",
	    s->login_tag);
	fflush(f);
	while (read_line(&r, line, sizeof(line))) {
		sp = strchr(line, ' ');
		if (sp == NULL)
			continue;
		*sp++ = '\0';
		if (strcasecmp(sp, "WHOAMI") == 0) {
			fprintf(f, "* WHOAMI ");
			whoami(f, s);
			fprintf(f, "\r\n%s OK done\r\n", line);
		} else if (strcasecmp(sp, "LOGOUT") == 0) {
			fprintf(f, "* BYE Logging out\r\n%s OK Logout "
			    "completed.\r\n", line);
			break;
		} else
			fprintf(f, "* ECHO %s %s\r\n%s OK echo\r\n", line, sp,
			    line);
		fflush(f);
	}
	fclose(f);
	return 0;
}

static int
test_pop3(struct mra_session *s)
{
	struct reader r = { s, 0 };
	FILE *f = fdopen(dup(s->fd), "w");
	char line[8192];

	fprintf(f, "+OK Logged in.\r\n");
	fflush(f);
	while (read_line(&r, line, sizeof(line))) {
		if (strcasecmp(line, "WHOAMI") == 0) {
			fprintf(f, "+OK ");
			whoami(f, s);
			fprintf(f, "\r\n");
		} else if (strcasecmp(line, "QUIT") == 0) {
			fprintf(f, "+OK Logging out.\r\n");
			break;
		} else
			fprintf(f, "+OK ECHO %s\r\n", line);
		fflush(f);
	}
	fclose(f);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/');

	name = name != NULL ? name + 1 : argv[0];
	if (strncmp(name, "pop3", 4) == 0)
		return mra_main("pop3", argc, argv, test_pop3);
	return mra_main("imap", argc, argv, test_imap);
}
