#ifndef DIRMAIL_TESTS_UNIT_TEST_POP3_CLIENT_H
#define DIRMAIL_TESTS_UNIT_TEST_POP3_CLIENT_H

/*
 * The client's side of a POP3 engine session in a unit test: the engine
 * runs in a thread on one end of a socket pair, the test talks on the
 * other and checks each line it gets.
 */

#include <pthread.h>
#include <stdio.h>

#include "mra/mra.h"

struct session {
	pthread_t thread;
	struct mra_session s;
	struct cfg *cfg;
	int client;		/* the client's end */
	int status;		/* what pop3_engine() returned */
	FILE *in;		/* the client's end, for reading lines */
};

/* Start a session for "alice" on the Maildir MAIL with PIPELINED (or
   NULL) as what the client sent along with its login. */
struct session *session_start(const char *mail, const char *pipelined);

/* Send TEXT as it is. */
void session_say(struct session *t, const char *text);

/* Read one line into BUF (SIZE bytes); assert there is one. */
char *session_line(struct session *t, char *buf, size_t size);

/* Read one line and assert that it is WANT (CRLF included). */
void session_expect(struct session *t, const char *want);

/* Assert that the engine closes the connection; wait for it to end and
   free T.  Returns the engine's exit status. */
int session_finish(struct session *t);

#endif
