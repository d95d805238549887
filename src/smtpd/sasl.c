/*
 * SMTP AUTH (RFC 4954) through the Dovecot auth protocol: authd, or a
 * real Dovecot, decides; smtpd only relays the base64 exchange.
 */

#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "global/auth_client.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "smtpd/anvil.h"
#include "smtpd/smtpd.h"

/* How long EHLO may wait for authd's handshake when not connected. */
#define SASL_CONNECT_MS	2000

/* Is WORD in the option list OPTS? */
static bool
sasl_has_opt(char *const *opts, const char *word)
{
	for (; opts != NULL && *opts != NULL; opts++)
		if (strcasecmp(*opts, word) == 0)
			return true;
	return false;
}

/* May S use AUTH at all on this connection now? */
static bool
sasl_allowed(const struct session *s)
{
	if (smtpd.auth == NULL || s->sasl_username != NULL)
		return false;
	switch (s->port) {
	case PORT_MX:
		return smtpd.sasl_enable && (s->tls || !smtpd.tls_auth_only);
	case PORT_SUBMISSION:
	case PORT_SMTPS:
		return s->tls;
	default:
		return false;
	}
}

/* The mechanisms S may use, space-separated. */
char *
sasl_offer(struct session *s)
{
	const struct auth_mech *mechs;
	char *const *opts = s->tls ? smtpd.sasl_tls_opts : smtpd.sasl_opts;
	struct str list = STR_INIT;
	size_t n, i;

	if (!sasl_allowed(s))
		return NULL;
	if (auth_client_mechs(smtpd.auth, SASL_CONNECT_MS, &mechs, &n) < 0) {
		log_warning("%s: SASL: the auth server cannot be reached: "
		    "AUTH not offered", s->client_id);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (mechs[i].private_ ||
		    (mechs[i].anonymous && sasl_has_opt(opts, "noanonymous")) ||
		    (mechs[i].plaintext && sasl_has_opt(opts, "noplaintext")))
			continue;
		str_appendf(&list, "%s%s", list.len > 0 ? " " : "",
		    mechs[i].name);
	}
	return list.len > 0 ? str_steal(&list) : (str_free(&list), NULL);
}

/* Is MECH one of the space-separated words of OFFER? */
static bool
sasl_offered(const char *offer, const char *mech)
{
	size_t n = strlen(mech);
	const char *p = offer;

	while (*p != '\0') {
		if (strncasecmp(p, mech, n) == 0 && (p[n] == ' ' ||
		    p[n] == '\0'))
			return true;
		p += strcspn(p, " ");
		p += strspn(p, " ");
	}
	return false;
}

/* The value of KEY in FIELDS, or NULL. */
static const char *
sasl_field(const char *const *fields, const char *key)
{
	size_t n = strlen(key);

	for (; fields != NULL && *fields != NULL; fields++)
		if (strncmp(*fields, key, n) == 0 && (*fields)[n] == '=')
			return *fields + n + 1;
	return NULL;
}

/* The auth server answered. */
static void
sasl_reply(enum auth_client_status status, const char *data,
    const char *const *fields, void *ctx)
{
	struct session *s = ctx;
	const char *user, *reason;

	if (status == AUTH_CLIENT_CONTINUE) {
		session_reply(s, "334 %s", data != NULL ? data : "");
		session_resume(s, S_AUTH);
		return;
	}
	s->auth_req = NULL;
	s->state = S_CMD;
	if (status == AUTH_CLIENT_OK &&
	    (user = sasl_field(fields, "user")) != NULL) {
		s->sasl_username = xstrdup(user);
		log_info("%s: sasl_method=%s, sasl_username=%s",
		    s->client_id, s->sasl_method, user);
		session_reply(s, "235 2.7.0 Authentication successful");
	} else if (status == AUTH_CLIENT_FAIL || status == AUTH_CLIENT_OK) {
		reason = sasl_field(fields, "reason");
		log_warning("%s: SASL %s authentication failed: %s",
		    s->client_id, s->sasl_method,
		    reason != NULL ? reason : "authentication failure");
		session_reply_error(s, "535 5.7.8 Error: authentication "
		    "failed: %s", reason != NULL ? reason :
		    "authentication failure");
	} else {
		log_warning("%s: SASL %s authentication: temporary failure",
		    s->client_id, s->sasl_method);
		session_reply(s, "454 4.7.0 Temporary authentication failure");
	}
	if (s->sasl_username == NULL) {
		free(s->sasl_method);
		s->sasl_method = NULL;
	}
	session_resume(s, S_CMD);
}

/* Refuse AUTH when it cannot start now.  True after replying. */
static bool
sasl_refused(struct session *s)
{
	if (s->helo == NULL)
		session_reply_error(s, "503 5.5.1 Error: send HELO/EHLO first");
	else if (s->has_mail)
		session_reply_error(s, "503 5.5.1 Error: MAIL transaction in "
		    "progress");
	else if (!s->rate_exempt && smtpd.auth_rate_limit > 0 &&
	    anvil_auth(smtpd.anvil, s->client_addr) > smtpd.auth_rate_limit) {
		log_warning("AUTH command rate limit exceeded from %s for "
		    "service smtp", s->client_id);
		session_reply_error(s, "450 4.7.1 Error: too many AUTH commands "
		    "from %s", s->client_addr);
	} else
		return false;
	return true;
}

/* AUTH MECH [INITIAL]. */
void
sasl_auth(struct session *s, char *args)
{
	struct auth_request_info info = { 0 };
	char *offer, *mech, *initial;

	if (s->sasl_username != NULL) {
		session_reply_error(s, "503 5.5.1 Error: already "
		    "authenticated");
		return;
	}
	if ((offer = sasl_offer(s)) == NULL) {
		session_reply_error(s, "503 5.5.1 Error: authentication not "
		    "enabled");
		return;
	}
	mech = strsep(&args, " ");
	initial = args;
	if (sasl_refused(s)) {
		free(offer);
		return;
	}
	if (*mech == '\0' || (initial != NULL && strchr(initial, ' '))) {
		session_reply_error(s, "501 5.5.4 Syntax: AUTH mechanism");
	} else if (!sasl_offered(offer, mech)) {
		session_reply_error(s, "535 5.7.8 Error: authentication "
		    "failed: Invalid authentication mechanism");
	} else {
		info.mech = mech;
		info.service = "smtp";
		info.local_ip = s->local_addr[0] != '\0' ? s->local_addr : NULL;
		info.remote_ip = s->client_addr;
		info.local_port = s->local_port;
		info.remote_port = s->client_port;
		info.secured = s->tls;
		info.initial_resp = initial == NULL ? NULL :
		    strcmp(initial, "=") == 0 ? "" : initial;
		s->sasl_method = xstrdup(mech);
		for (char *p = s->sasl_method; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
		s->auth_req = auth_client_start(smtpd.auth, &info, sasl_reply,
		    s);
		if (s->auth_req == NULL) {
			session_reply(s, "454 4.7.0 Temporary authentication "
			    "failure");
			free(s->sasl_method);
			s->sasl_method = NULL;
		} else
			session_pause(s);
	}
	free(offer);
}

/* A response line to a 334 challenge. */
void
sasl_response(struct session *s, char *line)
{
	if (strcmp(line, "*") == 0) {
		auth_client_abort(&s->auth_req);
		free(s->sasl_method);
		s->sasl_method = NULL;
		s->state = S_CMD;
		session_reply_error(s, "501 5.7.0 Authentication aborted");
		return;
	}
	auth_client_continue(s->auth_req, line);
	session_pause(s);
}

/* Drop a pending authentication. */
void
sasl_abort(struct session *s)
{
	if (s->auth_req != NULL)
		auth_client_abort(&s->auth_req);
}
