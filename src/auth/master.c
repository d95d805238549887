/*
 * Finished logins waiting for the master's REQUEST: after an OK on an
 * auth-client connection, the login process hands (its pid, the request
 * id, the connection's cookie) to a master, which asks authd for the
 * user's userdb record with REQUEST.  A login is kept until it is asked
 * for, its client connection closes or AUTH_LOGIN_KEEP_SECS pass; at
 * most AUTH_LOGIN_MAX are kept, the oldest going first.
 */

#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/xalloc.h"

struct login_entry {
	const struct auth_client *client;
	unsigned int pid;
	char cookie[2 * AUTH_COOKIE_SIZE + 1];	/* lower-case hex */
	unsigned int id;
	long long expires;	/* clock_now_ms() */
	struct auth_login *login;
};

/* Oldest first. */
static struct login_entry *entries;
static size_t n_entries;

/* Free every field of LOGIN and LOGIN itself; NULLs *LOGINP. */
void
auth_login_free(struct auth_login **loginp)
{
	struct auth_login *login = *loginp;

	if (login == NULL)
		return;
	*loginp = NULL;
	free(login->user);
	free(login->service);
	free(login->rip);
	free(login->lip);
	free(login);
}

/* Drop entry I, keeping the order of the others. */
static void
entry_drop(size_t i)
{
	auth_login_free(&entries[i].login);
	memmove(&entries[i], &entries[i + 1],
	    (n_entries - i - 1) * sizeof(*entries));
	n_entries--;
}

/* Drop the entries whose time is up. */
static void
entries_expire(void)
{
	long long now = clock_now_ms();
	size_t i = 0;

	while (i < n_entries) {
		if (entries[i].expires <= now)
			entry_drop(i);
		else
			i++;
	}
}

/* Compare the hex cookie A with the lower-case hex cookie B, in time
   that does not depend on where they differ. */
static bool
cookie_equal(const char *a, const char *b)
{
	unsigned char diff = 0;
	size_t i;

	for (i = 0; i < 2 * AUTH_COOKIE_SIZE; i++)
		diff |= (unsigned char)(tolower((unsigned char)a[i]) ^ b[i]);
	return diff == 0;
}

/* Keep the successful login ID of client C. */
void
auth_login_remember(const struct auth_client *c, unsigned int id,
    const struct auth_login *login)
{
	const unsigned char *cookie = auth_client_cookie(c);
	struct login_entry *e;
	size_t i;

	entries_expire();
	for (i = 0; i < n_entries; i++) {
		if (entries[i].client == c && entries[i].id == id) {
			entry_drop(i);
			break;
		}
	}
	if (n_entries == AUTH_LOGIN_MAX) {
		log_warning("master: %u logins wait for a REQUEST: "
		    "forgetting the oldest (user=<%s>)", AUTH_LOGIN_MAX,
		    entries[0].login->user);
		entry_drop(0);
	}
	if (entries == NULL)
		entries = xreallocarray(NULL, AUTH_LOGIN_MAX,
		    sizeof(*entries));
	e = &entries[n_entries++];
	e->client = c;
	e->pid = auth_client_pid(c);
	for (i = 0; i < AUTH_COOKIE_SIZE; i++)
		snprintf(e->cookie + 2 * i, 3, "%02x", cookie[i]);
	e->id = id;
	e->expires = clock_now_ms() + AUTH_LOGIN_KEEP_SECS * 1000LL;
	e->login = xcalloc(1, sizeof(*e->login));
	e->login->user = xstrdup(login->user);
	e->login->service = xstrdup(login->service);
	e->login->rip = xstrdup(login->rip);
	e->login->lip = xstrdup(login->lip);
}

/* Forget every login of client C. */
void
auth_login_forget_client(const struct auth_client *c)
{
	size_t i = 0;

	while (i < n_entries) {
		if (entries[i].client == c)
			entry_drop(i);
		else
			i++;
	}
}

/* Take the login ID of the client PID with COOKIE. */
int
auth_login_take(unsigned int pid, const char *cookie_hex,
    unsigned int id, struct auth_login **login_r, const char **error_r)
{
	bool known_pid = false, known_cookie = false;
	size_t i;

	entries_expire();
	for (i = 0; i < n_entries; i++) {
		if (entries[i].pid != pid)
			continue;
		known_pid = true;
		if (!cookie_equal(cookie_hex, entries[i].cookie))
			continue;
		known_cookie = true;
		if (entries[i].id != id)
			continue;
		*login_r = entries[i].login;
		entries[i].login = NULL;
		entry_drop(i);
		return 0;
	}
	*error_r = !known_pid ? "no login waits for this client pid" :
	    !known_cookie ? "invalid cookie" :
	    "no finished login with this id";
	return -1;
}
