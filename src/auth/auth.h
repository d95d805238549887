#ifndef DIRMAIL_AUTH_AUTH_H
#define DIRMAIL_AUTH_AUTH_H

/*
 * authd internals: settings, the auth-client and auth-userdb
 * connections, authentication requests and mechanisms.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct auth_client;
struct auth_request;

/* Settings from dirmail.cf, read once at start. */
struct auth_settings {
	char *const *mechanisms;
	bool disable_plaintext;
	long long failure_delay;	/* seconds */
	const char *username_format;
	const char *default_realm;
	const char *username_chars;
	/* The uid range a userdb answer must be in (0: no upper limit);
	   first_valid_uid and last_valid_uid. */
	unsigned long long first_valid_uid;
	unsigned long long last_valid_uid;
};

extern struct auth_settings auth_set;
extern struct event_base *auth_base;

/* Every reply goes out within this many milliseconds of its request. */
#define AUTH_REPLY_DEADLINE_MS	9000
/* A request waiting for the client's CONT is dropped after this. */
#define AUTH_CONT_TIMEOUT_SECS	150
/* The size of the cookie an auth-client connection gets. */
#define AUTH_COOKIE_SIZE	16
/* A finished login waits this long for the master's REQUEST... */
#define AUTH_LOGIN_KEEP_SECS	150
/* ... and at most this many wait (the oldest go first). */
#define AUTH_LOGIN_MAX		1024

/* auth-client connections (client.c). */
void auth_client_accept(int fd);
/* Send LINE (without LF) to C. */
void auth_client_send(struct auth_client *c, const char *line);
/* The minor protocol version C announced. */
unsigned int auth_client_minor(const struct auth_client *c);
/* The process id C gave in its CPID line (0 before it). */
unsigned int auth_client_pid(const struct auth_client *c);
/* The AUTH_COOKIE_SIZE bytes of the cookie C got in its handshake. */
const unsigned char *auth_client_cookie(const struct auth_client *c);
/* Forget REQ (finished or dropped). */
void auth_client_forget(struct auth_client *c, struct auth_request *req);
/* Close C, dropping every request (temporary failure for old clients). */
void auth_client_close(struct auth_client *c, const char *reason);

/* auth-userdb connections (userdb_conn.c). */
void auth_userdb_accept(int fd);

/* Parameters of an AUTH line that a request keeps. */
struct auth_request_info {
	const char *service;
	const char *lip;
	const char *rip;
	bool secured;
	bool no_penalty;
	bool nologin;	/* no master REQUEST will follow an OK */
};

/* Requests (request.c). */
struct auth_request *auth_request_new(struct auth_client *c, unsigned int id,
    const char *mech, const struct auth_request_info *info);
unsigned int auth_request_id(const struct auth_request *req);
/* Start with the initial response (NULL: none). */
void auth_request_start(struct auth_request *req, const char *resp);
/* Handle the client's CONT data. */
void auth_request_cont(struct auth_request *req, const char *data);
/* True when REQ waits for a CONT from the client. */
bool auth_request_wants_cont(const struct auth_request *req);
/* Drop REQ silently (CANCEL, closed connection). */
void auth_request_free(struct auth_request **req);

/* Called by mechanisms. */
void auth_request_challenge(struct auth_request *req, const void *data,
    size_t len);
/* Remember the login name (LOGIN's first step). */
void auth_request_set_login(struct auth_request *req, const char *login);
/* Check PASSWORD for LOGIN (NULL: the name set before). */
void auth_request_verify(struct auth_request *req, const char *login,
    const char *password);
void auth_request_fail(struct auth_request *req, const char *reason);

/* Finished logins waiting for a master REQUEST (master.c). */
struct auth_login {
	char *user;
	char *service;
	char *rip;
	char *lip;
};

/* Keep a copy of LOGIN, the successful request ID of client C, for a
   REQUEST (replacing an earlier login of C with the same id). */
void auth_login_remember(const struct auth_client *c, unsigned int id,
    const struct auth_login *login);
/* Forget every login of C (its connection closed). */
void auth_login_forget_client(const struct auth_client *c);
/*
 * Take the login ID of the client connection whose CPID was PID and
 * whose cookie is COOKIE_HEX (2 * AUTH_COOKIE_SIZE hex digits, either
 * case): 0 and the login in *LOGIN_R (the caller frees it; a login is
 * given out once), or -1 with a static reason for the log in *ERROR_R.
 */
int auth_login_take(unsigned int pid, const char *cookie_hex,
    unsigned int id, struct auth_login **login_r, const char **error_r);
/* Free LOGIN and NULL *LOGIN. */
void auth_login_free(struct auth_login **login);

/* Mechanisms (mech.c). */
struct mech {
	const char *name;
	const char *flags;	/* the MECH line flag words */
	bool plaintext;
	/* Handle the client's data (DATA is NULL for no initial
	   response); STEP is the mechanism's own counter. */
	void (*input)(struct auth_request *req, int *step,
	    const unsigned char *data, size_t len, bool initial);
};

/* Return the mechanism NAME (case-insensitive), or NULL. */
const struct mech *mech_find(const char *name);
/* True when NAME is in auth_mechanisms. */
bool mech_enabled(const char *name);

/* Penalty (penalty.c). */
/* Seconds to wait before handling a login from RIP. */
unsigned int penalty_get(const char *rip);
/* A hash of a login/password pair (0: none), for penalty_failure(). */
uint32_t penalty_hash(const char *user, const char *password);
/* A login from RIP failed; PAIR from penalty_hash() or 0. */
void penalty_failure(const char *rip, uint32_t pair);
void penalty_success(const char *rip);

/* Login names (username.c). */
/* Apply auth_username_chars, auth_default_realm and
   auth_username_format to LOGIN; 0 and a new string, or -1. */
int auth_username_normalize(const char *login, char **user_r);
/* Expand %u %n %d %Lu ... of TEMPLATE for USER; a new string. */
char *auth_var_expand(const char *tmpl, const char *user,
    const char *service);

#endif
