/*
 * Authentication requests: the mechanism exchange, the passdb lookup,
 * the failure delay and penalty, the reply and the log line.
 */

#include "config.h"

#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "auth/auth.h"
#include "auth/db.h"
#include "auth/fields.h"
#include "lib/log.h"
#include "lib/tabescape.h"
#include "lib/xalloc.h"

enum req_state {
	REQ_MECH,	/* the mechanism runs */
	REQ_WAIT_CONT,	/* a challenge was sent; waiting for CONT */
	REQ_PENALTY,	/* waiting out the client's penalty */
	REQ_LOOKUP,	/* the passdb lookup runs */
	REQ_DELAY,	/* a failure waits for its delay */
};

enum req_result {
	RESULT_FAIL,
	RESULT_TEMPFAIL,
};

struct auth_request {
	struct auth_client *client;
	unsigned int id;
	enum req_state state;
	const struct mech *mech;
	int mech_step;
	char *service, *lip, *rip;
	bool secured, no_penalty, nologin;
	char *login;		/* the name the client gave */
	char *user;		/* normalised */
	char *password;		/* wiped as soon as it is used */
	uint32_t pair;		/* penalty_hash() of login and password */
	struct str reply;	/* the delayed reply */
	enum req_result result;
	const char *backend;
	struct timeval started;	/* when the client last spoke */
	struct timeval began;	/* when the request arrived */
	struct event *timer;
	struct db_lookup *lookup;
};

static void req_lookup(struct auth_request *);

static const char *const req_state_names[] = {
	"mech", "wait-cont", "penalty", "lookup", "delay",
};

/* Milliseconds since TV. */
static long
ms_since(const struct timeval *tv)
{
	struct timeval now, d;

	gettimeofday(&now, NULL);
	timersub(&now, tv, &d);
	return d.tv_sec * 1000 + d.tv_usec / 1000;
}

/* Change the state of REQ. */
static void
req_enter_state(struct auth_request *req, enum req_state state)
{
	log_debug("request %u: %s -> %s", req->id,
	    req_state_names[req->state], req_state_names[state]);
	req->state = state;
}

/* Arm the timer of REQ for MS milliseconds. */
static void
req_timer(struct auth_request *req, long ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(req->timer, &tv);
}

/* Wipe and free the password of REQ. */
static void
req_wipe_password(struct auth_request *req)
{
	if (req->password != NULL) {
		explicit_bzero(req->password, strlen(req->password));
		free(req->password);
		req->password = NULL;
	}
}

/* Drop REQ. */
void
auth_request_free(struct auth_request **reqp)
{
	struct auth_request *req = *reqp;

	if (req == NULL)
		return;
	*reqp = NULL;
	db_lookup_abort(&req->lookup);
	event_free(req->timer);
	req_wipe_password(req);
	free(req->service);
	free(req->lip);
	free(req->rip);
	free(req->login);
	free(req->user);
	str_free(&req->reply);
	free(req);
}

/* Forget and free REQ. */
static void
req_finish(struct auth_request *req)
{
	auth_client_forget(req->client, req);
	auth_request_free(&req);
}

/* Log the outcome of REQ. */
static void
req_log(struct auth_request *req, const char *result)
{
	log_info("auth: user=<%s>, method=%s, service=%s, rip=%s, "
	    "result=%s, backend=%s, time=%ldms",
	    req->user != NULL ? req->user :
	    req->login != NULL ? req->login : "",
	    req->mech->name, req->service, req->rip, result,
	    req->backend != NULL ? req->backend : "none",
	    ms_since(&req->began));
}

/* The timer fired: what happens depends on the state. */
static void
req_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct auth_request *req = arg;
	struct auth_client *c = req->client;

	(void)fd;
	(void)what;
	switch (req->state) {
	case REQ_WAIT_CONT:
		log_info("request %u: abandoned by the client", req->id);
		req_finish(req);
		break;
	case REQ_PENALTY:
		req_lookup(req);
		break;
	case REQ_DELAY:
		if (req->result == RESULT_TEMPFAIL &&
		    auth_client_minor(c) < 2) {
			auth_client_close(c, "temporary failure");
			break;
		}
		auth_client_send(c, str_c(&req->reply));
		req_finish(req);
		break;
	default:
		break;
	}
}

/* Return the id of REQ. */
unsigned int
auth_request_id(const struct auth_request *req)
{
	return req->id;
}

/* True when REQ waits for CONT. */
bool
auth_request_wants_cont(const struct auth_request *req)
{
	return req->state == REQ_WAIT_CONT;
}

/* Make a request for AUTH ID MECH. */
struct auth_request *
auth_request_new(struct auth_client *c, unsigned int id, const char *mech,
    const struct auth_request_info *info)
{
	struct auth_request *req = xcalloc(1, sizeof(*req));

	req->client = c;
	req->id = id;
	req->mech = mech_find(mech);
	req->service = xstrdup(info->service);
	req->lip = xstrdup(info->lip);
	req->rip = xstrdup(info->rip);
	req->secured = info->secured;
	req->no_penalty = info->no_penalty;
	req->nologin = info->nologin;
	req->timer = evtimer_new(auth_base, req_timeout, req);
	gettimeofday(&req->began, NULL);
	req->started = req->began;
	return req;
}

/* Send an immediate FAIL for bad base64 and drop REQ. */
static void
req_bad_base64(struct auth_request *req, const char *what)
{
	char *line = xasprintf("FAIL\t%u\tcode=invalid_base64\treason="
	    "Invalid base64 data in %s response", req->id, what);

	auth_client_send(req->client, line);
	free(line);
	req_finish(req);
}

/* Decode DATA and feed it to the mechanism. */
static void
req_input(struct auth_request *req, const char *data, const char *what)
{
	struct str buf = STR_INIT;

	/* "=" stands for an empty response. */
	if (data != NULL && strcmp(data, "=") == 0)
		str_append(&buf, "");
	else if (data != NULL && b64_decode(data, &buf) < 0) {
		str_wipe(&buf);
		req_bad_base64(req, what);
		return;
	}
	req_enter_state(req, REQ_MECH);
	req->mech->input(req, &req->mech_step,
	    (const unsigned char *)buf.s, buf.len, data != NULL);
	str_wipe(&buf);
}

/* True when the connection is TLS or local, as Dovecot decides. */
static bool
req_secure(const struct auth_request *req)
{
	return req->secured || strcmp(req->rip, req->lip) == 0 ||
	    strncmp(req->rip, "127.", 4) == 0 || strcmp(req->rip, "::1") == 0;
}

/* Start with the initial response RESP (NULL: none). */
void
auth_request_start(struct auth_request *req, const char *resp)
{
	if (req->mech->plaintext && auth_set.disable_plaintext &&
	    !req_secure(req)) {
		auth_request_fail(req, "Plaintext authentication disallowed "
		    "on non-secure (SSL/TLS) connections.");
		return;
	}
	req_input(req, resp, "initial");
}

/* The client's CONT data. */
void
auth_request_cont(struct auth_request *req, const char *data)
{
	evtimer_del(req->timer);
	gettimeofday(&req->started, NULL);
	req_input(req, data, "continued");
}

/* Send a challenge and wait for CONT. */
void
auth_request_challenge(struct auth_request *req, const void *data,
    size_t len)
{
	struct str line = STR_INIT;

	str_appendf(&line, "CONT\t%u\t", req->id);
	b64_encode(&line, data, len);
	auth_client_send(req->client, str_c(&line));
	str_free(&line);
	req_enter_state(req, REQ_WAIT_CONT);
	req_timer(req, AUTH_CONT_TIMEOUT_SECS * 1000L);
}

/* Queue the reply of a failed request for its delay. */
static void
req_delay_reply(struct auth_request *req)
{
	long delay = auth_set.failure_delay * 1000L;
	long left = AUTH_REPLY_DEADLINE_MS - ms_since(&req->started);

	req_enter_state(req, REQ_DELAY);
	req_timer(req, delay < left ? delay : left);
}

/* Fail REQ (after the failure delay). */
void
auth_request_fail(struct auth_request *req, const char *reason)
{
	req_wipe_password(req);
	req_log(req, "failed");
	if (!req->no_penalty)
		penalty_failure(req->rip, req->pair);
	req->result = RESULT_FAIL;
	str_truncate(&req->reply, 0);
	str_appendf(&req->reply, "FAIL\t%u", req->id);
	if (req->user != NULL || req->login != NULL) {
		str_append(&req->reply, "\tuser=");
		tab_escape(&req->reply, req->user != NULL ? req->user :
		    req->login);
	}
	if (reason != NULL) {
		str_append(&req->reply, "\treason=");
		tab_escape(&req->reply, reason);
	}
	req_delay_reply(req);
}

/* Fail REQ temporarily. */
static void
req_tempfail(struct auth_request *req, const char *error)
{
	req_log(req, "tempfail");
	if (error != NULL)
		log_warning("request %u: %s", req->id, error);
	req->result = RESULT_TEMPFAIL;
	str_truncate(&req->reply, 0);
	str_appendf(&req->reply, "FAIL\t%u\tcode=temp_fail", req->id);
	if (req->user != NULL) {
		str_append(&req->reply, "\tuser=");
		tab_escape(&req->reply, req->user);
	}
	req_delay_reply(req);
}

/* Send OK for REQ; keep the login for the master's REQUEST unless the
   client said none will come. */
static void
req_success(struct auth_request *req)
{
	struct str line = STR_INIT;
	struct auth_login login;

	req_log(req, "ok");
	if (!req->no_penalty)
		penalty_success(req->rip);
	if (!req->nologin) {
		login.user = req->user;
		login.service = req->service;
		login.rip = req->rip;
		login.lip = req->lip;
		auth_login_remember(req->client, req->id, &login);
	}
	str_appendf(&line, "OK\t%u\tuser=", req->id);
	tab_escape(&line, req->user);
	auth_client_send(req->client, str_c(&line));
	str_free(&line);
	req_finish(req);
}

/* The passdb answered. */
static void
req_looked_up(enum db_result result, const char *backend,
    const struct auth_fields *fields, const char *error, void *ctx)
{
	struct auth_request *req = ctx;

	(void)fields;
	req->lookup = NULL;
	req->backend = backend;
	switch (result) {
	case DB_OK:
		req_success(req);
		break;
	case DB_TEMPFAIL:
		req_tempfail(req, error);
		break;
	default:
		auth_request_fail(req, NULL);
		break;
	}
}

/* Start the passdb lookup. */
static void
req_lookup(struct auth_request *req)
{
	struct db_info info;

	info.service = req->service;
	info.rip = req->rip;
	info.lip = req->lip;
	info.timeout_ms = AUTH_REPLY_DEADLINE_MS - 500 -
	    (int)ms_since(&req->started);
	req_enter_state(req, REQ_LOOKUP);
	req->lookup = passdb_lookup(req->user, req->password, &info,
	    req_looked_up, req);
	req_wipe_password(req);
}

/* Remember the login name. */
void
auth_request_set_login(struct auth_request *req, const char *login)
{
	free(req->login);
	req->login = xstrdup(login);
}

/* Check PASSWORD for LOGIN (NULL: the name given before). */
void
auth_request_verify(struct auth_request *req, const char *login,
    const char *password)
{
	unsigned int wait;

	if (login != NULL)
		auth_request_set_login(req, login);
	if (req->login == NULL ||
	    auth_username_normalize(req->login, &req->user) < 0) {
		auth_request_fail(req, NULL);
		return;
	}
	req->password = xstrdup(password);
	req->pair = penalty_hash(req->user, password);
	wait = req->no_penalty ? 0 : penalty_get(req->rip);
	if (wait > 0) {
		req_enter_state(req, REQ_PENALTY);
		req_timer(req, (long)wait * 1000L);
		return;
	}
	req_lookup(req);
}
