/* SASL mechanisms: PLAIN (RFC 4616) and LOGIN. */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "lib/str.h"
#include "lib/xalloc.h"

enum login_step {
	LOGIN_START,
	LOGIN_WANT_USER,
	LOGIN_WANT_PASSWORD,
};

static void mech_plain_input(struct auth_request *, int *,
    const unsigned char *, size_t, bool);
static void mech_login_input(struct auth_request *, int *,
    const unsigned char *, size_t, bool);

static const struct mech mechs[] = {
	{ .name = "PLAIN", .flags = "plaintext", .plaintext = true,
	  .input = mech_plain_input },
	{ .name = "LOGIN", .flags = "plaintext", .plaintext = true,
	  .input = mech_login_input },
};

/* Return the mechanism NAME, or NULL. */
const struct mech *
mech_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strcasecmp(mechs[i].name, name) == 0)
			return &mechs[i];
	return NULL;
}

/* True when NAME is in auth_mechanisms. */
bool
mech_enabled(const char *name)
{
	char *const *m;

	for (m = auth_set.mechanisms; *m != NULL; m++)
		if (strcasecmp(*m, name) == 0)
			return true;
	return false;
}

/* PLAIN: "authzid NUL authcid NUL password". */
static void
mech_plain_input(struct auth_request *req, int *step,
    const unsigned char *data, size_t len, bool initial)
{
	const char *authzid, *authcid, *pass;
	size_t nuls = 0, i;

	(void)step;
	if (!initial && data == NULL) {
		auth_request_challenge(req, "", 0);
		return;
	}
	for (i = 0; i < len; i++)
		if (data[i] == '\0')
			nuls++;
	if (nuls != 2) {
		auth_request_fail(req, NULL);
		return;
	}
	authzid = (const char *)data;
	authcid = authzid + strlen(authzid) + 1;
	pass = authcid + strlen(authcid) + 1;
	if (*authzid != '\0' && strcmp(authzid, authcid) != 0) {
		auth_request_fail(req, NULL);
		return;
	}
	auth_request_verify(req, authcid, pass);
}

/* LOGIN: "Username:", then "Password:". */
static void
mech_login_input(struct auth_request *req, int *step,
    const unsigned char *data, size_t len, bool initial)
{
	char *text;

	(void)initial;
	if (*step == LOGIN_START && data == NULL) {
		*step = LOGIN_WANT_USER;
		auth_request_challenge(req, "Username:", 9);
		return;
	}
	text = xstrndup(data != NULL ? (const char *)data : "", len);
	if (strlen(text) != len || (*step != LOGIN_WANT_PASSWORD &&
	    len == 0)) {
		explicit_bzero(text, len);
		free(text);
		auth_request_fail(req, NULL);
		return;
	}
	if (*step != LOGIN_WANT_PASSWORD) {
		*step = LOGIN_WANT_PASSWORD;
		auth_request_set_login(req, text);
		free(text);
		auth_request_challenge(req, "Password:", 9);
		return;
	}
	auth_request_verify(req, NULL, text);
	explicit_bzero(text, len);
	free(text);
}
