/*
 * pamcheck: drive the PAM worker pool from a libevent loop.
 *
 *	pamcheck [-w WORKERS] [-n REQUESTS] [-t TIMEOUT]
 *
 * Reads lines "service user password [rip]" from stdin and starts each
 * check at once, so that many run concurrently; prints
 *
 *	user OK|FAIL|TEMPFAIL reason elapsed_ms
 *
 * as each one completes (reason "-" when empty).  The line "pid" prints
 * "helper PID"; "cancel service user password" starts a check and cancels
 * it at once, so that it must never print anything.  At end of input it waits for the checks in flight, then
 * frees the pool and exits.
 */

#include "config.h"

#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "auth/pam_worker.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

struct check {
	char *user;
	struct timeval start;
};

static struct event_base *base;
static struct pam_pool *pool;
static struct str input = STR_INIT;
static unsigned running;
static bool input_done;

/* Return the milliseconds since START. */
static long
elapsed_ms(const struct timeval *start)
{
	struct timeval now, d;

	gettimeofday(&now, NULL);
	timersub(&now, start, &d);
	return (long)d.tv_sec * 1000 + (long)d.tv_usec / 1000;
}

/* Print the outcome of one check. */
static void
done(int outcome, const char *reason, void *ctx)
{
	static const char *names[] = { "OK", "FAIL", "TEMPFAIL" };
	struct check *c = ctx;

	printf("%s %s %s %ld\n", c->user,
	    outcome >= 0 && outcome <= 2 ? names[outcome] : "?",
	    reason[0] != '\0' ? reason : "-", elapsed_ms(&c->start));
	fflush(stdout);
	free(c->user);
	free(c);
	running--;
	if (input_done && running == 0)
		event_base_loopbreak(base);
}

/* Act on one input line. */
static void
command(char *line)
{
	char *f[4] = { NULL, NULL, NULL, NULL }, *p = line;
	struct pam_request *req;
	struct check *c;
	bool cancel;
	int n;

	if (strcmp(line, "pid") == 0) {
		printf("helper %ld\n", (long)pam_pool_helper_pid(pool));
		fflush(stdout);
		return;
	}
	if ((cancel = strncmp(line, "cancel ", 7) == 0))
		p += 7;
	for (n = 0; n < 4 && (f[n] = strsep(&p, " \t")) != NULL; n++)
		;
	if (n < 3) {
		if (line[0] != '\0')
			fprintf(stderr, "pamcheck: bad line\n");
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->user = xstrdup(f[1]);
	gettimeofday(&c->start, NULL);
	running++;
	req = pam_pool_check(pool, f[0], f[1], f[2], f[3], done, c);
	if (cancel) {
		pam_pool_cancel(req);
		free(c->user);
		free(c);
		running--;
	}
}

/* Read stdin and start a check per complete line. */
static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct event *ev = arg;
	char buf[4096], *nl;
	ssize_t n;

	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		str_append_n(&input, buf, (size_t)n);
	while (input.len > 0 && (nl = strchr(input.s, '\n')) != NULL) {
		size_t used = (size_t)(nl - input.s) + 1;

		*nl = '\0';
		command(input.s);
		memmove(input.s, input.s + used, input.len - used + 1);
		input.len -= used;
	}
	explicit_bzero(buf, sizeof(buf));
	if (n <= 0) {
		event_del(ev);
		input_done = true;
		if (running == 0)
			event_base_loopbreak(base);
	}
}

int
main(int argc, char **argv)
{
	unsigned workers = 4, requests = 100, timeout = 10;
	struct event *ev;
	const char *error;
	int ch;

	while ((ch = getopt(argc, argv, "n:t:w:")) != -1) {
		switch (ch) {
		case 'n':
			requests = (unsigned)atoi(optarg);
			break;
		case 't':
			timeout = (unsigned)atoi(optarg);
			break;
		case 'w':
			workers = (unsigned)atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: pamcheck [-w WORKERS] "
			    "[-n REQUESTS] [-t TIMEOUT]\n");
			return 64;
		}
	}
	log_open("pamcheck", LOG_DEST_STDERR);
	if ((base = event_base_new()) == NULL)
		log_fatal("event_base_new failed");
	if (pam_pool_create(base, workers, requests, timeout, &pool,
	    &error) < 0)
		log_fatal("pam_pool_create: %s", error);
	(void)fcntl(0, F_SETFL, O_NONBLOCK);
	ev = event_new(base, 0, EV_READ | EV_PERSIST, read_cb,
	    event_self_cbarg());
	event_add(ev, NULL);
	event_base_dispatch(base);
	event_free(ev);
	pam_pool_free(&pool);
	str_wipe(&input);
	event_base_free(base);
	return 0;
}
