/*
 * The client's side of a POP3 engine session in a unit test.
 */

#include "config.h"

#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "global/params.h"
#include "lib/cfg.h"
#include "lib/xalloc.h"
#include "pop3d/pop3.h"
#include "test_pop3_client.h"

/* Run the engine. */
static void *
engine_thread(void *arg)
{
	struct session *t = arg;

	t->status = pop3_engine(&t->s);
	return NULL;
}

struct session *
session_start(const char *mail, const char *pipelined)
{
	struct session *t = xcalloc(1, sizeof(*t));
	char *error = NULL;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(cfg_load(dirmail_params, dirmail_params_count,
	    "/nonexistent", NULL, NULL, true, &t->cfg, &error), 0);
	t->client = sv[0];
	t->in = fdopen(dup(sv[0]), "r");
	t->s = (struct mra_session){ .fd = sv[1], .service = "pop3",
	    .user = "alice", .mail = mail, .home = "",
	    .mech = "USER", .cfg = t->cfg,
	    .input = (const unsigned char *)pipelined,
	    .input_len = pipelined != NULL ? strlen(pipelined) : 0 };
	assert_int_equal(pthread_create(&t->thread, NULL, engine_thread, t),
	    0);
	return t;
}

void
session_say(struct session *t, const char *text)
{
	assert_int_equal(write(t->client, text, strlen(text)),
	    (ssize_t)strlen(text));
}

/* Read one line. */
char *
session_line(struct session *t, char *buf, size_t size)
{
	assert_non_null(fgets(buf, (int)size, t->in));
	return buf;
}

/* Read one line; assert it is WANT. */
void
session_expect(struct session *t, const char *want)
{
	char line[2048];

	assert_non_null(fgets(line, sizeof(line), t->in));
	assert_string_equal(line, want);
}

int
session_finish(struct session *t)
{
	char rest[64];
	int status;

	/* The engine closes its end: nothing more is sent. */
	assert_null(fgets(rest, sizeof(rest), t->in));
	pthread_join(t->thread, NULL);
	status = t->status;
	fclose(t->in);
	close(t->client);
	cfg_free(&t->cfg);
	free(t);
	return status;
}
