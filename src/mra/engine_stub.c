/*
 * Placeholder engines, linked into imapd and pop3d until the real IMAP
 * and POP3 engines are: they answer the login with a temporary failure
 * so that a client is never left hanging.  Weak, so that a real engine
 * linked into the same program takes precedence.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mra/mra.h"

mra_engine_fn imap_engine;
mra_engine_fn pop3_engine;

/* Write all of BUF to FD; errors only end the session. */
static void
say(int fd, const char *buf)
{
	size_t len = strlen(buf);
	ssize_t n;

	while (len > 0 && (n = write(fd, buf, len)) > 0) {
		buf += n;
		len -= (size_t)n;
	}
}

__attribute__((weak)) int
imap_engine(struct mra_session *s)
{
	char line[256];

	snprintf(line, sizeof(line), "%s NO [UNAVAILABLE] IMAP is not "
	    "available yet.\r\n* BYE Logging out\r\n",
	    s->login_tag != NULL ? s->login_tag : "*");
	say(s->fd, line);
	return 0;
}

__attribute__((weak)) int
pop3_engine(struct mra_session *s)
{
	say(s->fd, "-ERR [SYS/TEMP] POP3 is not available yet.\r\n");
	return 0;
}
