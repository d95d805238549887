/*
 * AUTH for the smtp agent through Cyrus SASL: the credentials come from
 * smtp_sasl_password_maps ("user:password" under the server's name, the
 * nexthop or its domain), the mechanism from what the server offers and
 * what smtp_sasl_security_options (smtp_sasl_tls_security_options under
 * TLS) allow.  A failed AUTH defers, as Postfix's default
 * smtp_sasl_auth_soft_bounce does.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sasl/saslutil.h>

#include "delivery/smtp_session.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "maps/maps.h"

/* The longest SASL message handled, encoded. */
#define SMTPC_SASL_MAX	16384

/*
 * The answers the mechanisms may ask for.  A NULL procedure tells Cyrus
 * SASL that they come through interaction (SASL_INTERACT): without the
 * list it finds no mechanism "worthy".
 */
static sasl_callback_t prompts[] = {
	{ SASL_CB_USER, NULL, NULL },
	{ SASL_CB_AUTHNAME, NULL, NULL },
	{ SASL_CB_PASS, NULL, NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};

static bool auth_start(struct smtpc_session *s);

/* One lookup of credentials, run in smtpc.lookups. */
struct sasl_lookup {
	struct smtpc_session *s;	/* NULL: the session went away */
	char **keys;
	int ret;			/* MAP_* */
	char *value, *error;
};

/* In the lookup thread: the first of the keys that is found. */
static void
lookup_run(void *arg)
{
	struct sasl_lookup *l = arg;
	const char *error = NULL;
	size_t i;

	l->ret = MAP_NOTFOUND;
	for (i = 0; l->keys[i] != NULL && l->ret == MAP_NOTFOUND; i++)
		l->ret = maplist_lookup(smtpc.sasl_maps, l->keys[i], &l->value,
		    &error);
	if (l->ret == MAP_ERROR)
		l->error = xstrdup(error != NULL ? error : "lookup failed");
}

/* Back in the loop: AUTH with the credentials found, or none. */
static void
lookup_done(void *arg)
{
	struct sasl_lookup *l = arg;
	struct smtpc_session *s = l->s;
	char *colon;

	if (s != NULL) {
		s->lookup = NULL;
		if (l->ret == MAP_ERROR) {
			log_warning("%s: smtp_sasl_password_maps: %s",
			    s->d != NULL ? s->d->req.queue_id : s->desc,
			    l->error);
			session_fail(s, 4, "4.3.0",
			    "smtp_sasl_password_maps lookup error");
		} else if (l->ret == MAP_NOTFOUND)
			xact_begin(s);
		else {
			colon = strchr(l->value, ':');
			s->sasl_user = xstrndup(l->value, colon != NULL ?
			    (size_t)(colon - l->value) : strlen(l->value));
			s->sasl_pass = xstrdup(colon != NULL ? colon + 1 : "");
			auth_start(s);
		}
	}
	if (l->value != NULL) {
		explicit_bzero(l->value, strlen(l->value));
		free(l->value);
	}
	strv_free(&l->keys);
	free(l->error);
	free(l);
}

/* Answer the mechanism's questions from S's credentials. */
static void
interact(struct smtpc_session *s, sasl_interact_t *in)
{
	sasl_interact_t *it;

	for (it = in; it->id != SASL_CB_LIST_END; it++) {
		switch (it->id) {
		case SASL_CB_AUTHNAME:
			it->result = s->sasl_user;
			break;
		case SASL_CB_PASS:
			it->result = s->sasl_pass;
			break;
		default:
			/* No authorization id: act as oneself. */
			it->result = "";
			break;
		}
		it->len = (unsigned)strlen(it->result);
	}
}

/* Fail S's AUTH with TEXT: 4.7.0, the next address is tried. */
static void
auth_fail(struct smtpc_session *s, const char *why)
{
	char *text = xasprintf("SASL authentication failed; cannot "
	    "authenticate to server %s: %s", s->desc, why);

	session_fail(s, 4, "4.7.0", text);
	free(text);
}

/* Send DATA (LEN bytes) base64-encoded: after "AUTH MECH " when MECH is
   set, else as a line of its own. */
static int
send_b64(struct smtpc_session *s, const char *mech, const char *data,
    unsigned len)
{
	char *enc = xmalloc(SMTPC_SASL_MAX);
	unsigned elen = 0;

	if (len > 0 && sasl_encode64(data, len, enc, SMTPC_SASL_MAX,
	    &elen) != SASL_OK) {
		free(enc);
		return -1;
	}
	enc[elen] = '\0';
	if (mech == NULL)
		session_send(s, false, "%s", enc);
	else if (data == NULL)
		session_send(s, true, "AUTH %s", mech);
	else
		session_send(s, false, "AUTH %s %s", mech, len > 0 ? enc : "=");
	explicit_bzero(enc, elen);
	free(enc);
	return 0;
}

/* Start the SASL exchange on S; false when S has failed. */
static bool
auth_start(struct smtpc_session *s)
{
	sasl_security_properties_t props;
	sasl_interact_t *need = NULL;
	const char *out = NULL, *mech = NULL;
	unsigned outlen = 0;
	int r;

	if (sasl_client_new("smtp", s->name, NULL, NULL, prompts, 0,
	    &s->sasl) != SASL_OK) {
		auth_fail(s, "cannot start the SASL client");
		return false;
	}
	memset(&props, 0, sizeof(props));
	props.security_flags = s->tls ? smtpc.sasl_tls_flags :
	    smtpc.sasl_flags;
	/* No SASL security layer: TLS protects the connection. */
	props.max_ssf = 0;
	sasl_setprop(s->sasl, SASL_SEC_PROPS, &props);
	do {
		r = sasl_client_start(s->sasl, s->mechs, &need, &out,
		    &outlen, &mech);
		if (r == SASL_INTERACT)
			interact(s, need);
	} while (r == SASL_INTERACT);
	if (r != SASL_OK && r != SASL_CONTINUE) {
		auth_fail(s, r == SASL_NOMECH ? "no mechanism available" :
		    sasl_errdetail(s->sasl));
		return false;
	}
	if (send_b64(s, mech, out, outlen) < 0) {
		auth_fail(s, "initial response too long");
		return false;
	}
	session_enter(s, SS_AUTH, smtpc.helo_timeout);
	return true;
}

bool
sasl_begin(struct smtpc_session *s)
{
	struct sasl_lookup *l;

	if (s->auth_done || !smtpc.sasl_enable || s->d == NULL)
		return false;
	s->auth_done = true;
	if (!(s->feats & SMTP_FEAT_AUTH) || s->mechs == NULL)
		return false;
	/* A table may be a directory that takes its time: not here. */
	l = xcalloc(1, sizeof(*l));
	l->s = s;
	l->keys = smtp_sasl_keys(s->name, s->d->nh.port, s->d->req.nexthop,
	    s->d->nh.mx ? s->d->nh.host : NULL);
	s->lookup = l;
	session_enter(s, SS_LOOKUP, smtpc.helo_timeout);
	worker_submit(smtpc.lookups, lookup_run, lookup_done, l);
	return true;
}

/* A 334 challenge: answer it. */
static void
challenge(struct smtpc_session *s)
{
	const char *text = str_c(&s->reply.text) + 3, *out = NULL;
	char *dec = xmalloc(SMTPC_SASL_MAX);
	unsigned declen = 0, outlen = 0;
	sasl_interact_t *need = NULL;
	int r;

	text += strspn(text, " ");
	if (sasl_decode64(text, (unsigned)strlen(text), dec, SMTPC_SASL_MAX,
	    &declen) != SASL_OK) {
		free(dec);
		session_send(s, true, "*");
		auth_fail(s, "malformed challenge");
		return;
	}
	do {
		r = sasl_client_step(s->sasl, dec, declen, &need, &out,
		    &outlen);
		if (r == SASL_INTERACT)
			interact(s, need);
	} while (r == SASL_INTERACT);
	free(dec);
	if ((r != SASL_OK && r != SASL_CONTINUE) ||
	    send_b64(s, NULL, out, outlen) < 0) {
		session_send(s, true, "*");
		auth_fail(s, sasl_errdetail(s->sasl));
		return;
	}
	session_enter(s, SS_AUTH, smtpc.helo_timeout);
}

void
sasl_reply(struct smtpc_session *s)
{
	char *text, buf[16], dsn[16];

	if (s->reply.code == 334) {
		challenge(s);
		return;
	}
	if (s->reply.code / 100 == 2) {
		log_debug("%s: authenticated to %s as %s", s->d != NULL ?
		    s->d->req.queue_id : "", s->relay, s->sasl_user);
		sasl_session_free(s);
		session_ready(s);
		return;
	}
	/* Deferred, not bounced: the credentials may be fixed. */
	snprintf(dsn, sizeof(dsn), "%s", smtp_reply_dsn(&s->reply, buf));
	dsn[0] = '4';
	text = xasprintf("SASL authentication failed; server %s said: %s",
	    s->desc, str_c(&s->reply.text));
	session_fail(s, 4, dsn, text);
	free(text);
}

void
sasl_session_free(struct smtpc_session *s)
{
	if (s->lookup != NULL) {	/* its answer goes nowhere */
		s->lookup->s = NULL;
		s->lookup = NULL;
	}
	if (s->sasl != NULL)
		sasl_dispose(&s->sasl);
	if (s->sasl_pass != NULL) {
		explicit_bzero(s->sasl_pass, strlen(s->sasl_pass));
		free(s->sasl_pass);
		s->sasl_pass = NULL;
	}
	free(s->sasl_user);
	s->sasl_user = NULL;
}
