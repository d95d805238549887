/* MAIL and RCPT parameters: SIZE, BODY, SMTPUTF8, AUTH, and DSN's RET,
   ENVID, NOTIFY and ORCPT (RFC 1870, 6152, 6531, 4954, 3461). */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "smtpd/smtpd.h"

/* Decode RFC 3461 xtext: "+XX" is the byte with hex value XX. */
char *
xtext_decode(const char *in)
{
	struct str out = STR_INIT;
	unsigned v;

	for (; *in != '\0'; in++) {
		if ((unsigned char)*in < 33 || (unsigned char)*in > 126 ||
		    *in == '=')
			goto bad;
		if (*in != '+') {
			str_append_c(&out, *in);
			continue;
		}
		if (!isxdigit((unsigned char)in[1]) ||
		    !isxdigit((unsigned char)in[2]) ||
		    islower((unsigned char)in[1]) ||
		    islower((unsigned char)in[2]))
			goto bad;
		v = (unsigned)strtoul((char[]){ in[1], in[2], '\0' }, NULL, 16);
		if (v == 0)
			goto bad;
		str_append_c(&out, (char)v);
		in += 2;
	}
	if (out.s == NULL)
		str_append(&out, "");
	return str_steal(&out);
bad:
	str_free(&out);
	return NULL;
}

/* Take the next "KEY[=VALUE]" word of *ARGS; NULL at the end. */
static char *
esmtp_next(char **args, char **value_r)
{
	char *word, *eq;

	while (**args == ' ')
		(*args)++;
	if (**args == '\0')
		return NULL;
	word = strsep(args, " ");
	if (*args == NULL)
		*args = word + strlen(word);
	*value_r = NULL;
	if ((eq = strchr(word, '=')) != NULL) {
		*eq = '\0';
		*value_r = eq + 1;
	}
	return word;
}

/* Parse SIZE=VALUE. */
static int
esmtp_size(const char *value, unsigned long long *size_r)
{
	char *end;

	if (value == NULL || !isdigit((unsigned char)*value))
		return -1;
	errno = 0;
	*size_r = strtoull(value, &end, 10);
	if (*end != '\0' || errno == ERANGE)
		*size_r = ~0ULL;	/* too big for anything */
	return 0;
}

/* Handle one MAIL parameter.  0, or -1 after replying. */
static int
esmtp_mail_param(struct session *s, const char *key, const char *value,
    unsigned long long *size_r)
{
	if (strcasecmp(key, "SIZE") == 0) {
		if (esmtp_size(value, size_r) == 0)
			return 0;
	} else if (strcasecmp(key, "BODY") == 0) {
		if (value != NULL && (strcasecmp(value, "7BIT") == 0 ||
		    strcasecmp(value, "8BITMIME") == 0)) {
			s->body_8bit = strcasecmp(value, "8BITMIME") == 0;
			return 0;
		}
	} else if (strcasecmp(key, "SMTPUTF8") == 0) {
		if (value == NULL) {
			s->smtputf8 = true;
			return 0;
		}
	} else if (strcasecmp(key, "RET") == 0) {
		if (s->dsn_ret == NULL && value != NULL &&
		    (strcasecmp(value, "FULL") == 0 ||
		    strcasecmp(value, "HDRS") == 0)) {
			s->dsn_ret = str_lcase(xstrdup(value));
			return 0;
		}
	} else if (strcasecmp(key, "ENVID") == 0) {
		if (s->dsn_envid == NULL && value != NULL &&
		    strlen(value) <= 100 &&
		    (s->dsn_envid = xtext_decode(value)) != NULL)
			return 0;
	} else if (strcasecmp(key, "AUTH") == 0) {
		/* RFC 4954 AUTH=: accepted, not trusted. */
		if (value != NULL)
			return 0;
	} else {
		session_reply_error(s, "555 5.5.4 Unsupported option: %s",
		    key);
		return -1;
	}
	session_reply_error(s, "501 5.5.4 Bad %s parameter syntax", key);
	return -1;
}

/* Parse the MAIL parameters. */
int
esmtp_mail_params(struct session *s, char *args, unsigned long long *size_r)
{
	char *key, *value;

	while ((key = esmtp_next(&args, &value)) != NULL)
		if (esmtp_mail_param(s, key, value, size_r) < 0)
			return -1;
	return 0;
}

/* Is VALUE a valid NOTIFY list?  Upper-case it. */
static bool
esmtp_notify_ok(char *value)
{
	char *copy, *p, *w;
	bool ok = true, never = false;
	int n = 0;

	for (p = value; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	copy = xstrdup(value);
	p = copy;
	while ((w = strsep(&p, ",")) != NULL) {
		n++;
		if (strcmp(w, "NEVER") == 0)
			never = true;
		else if (strcmp(w, "SUCCESS") != 0 &&
		    strcmp(w, "FAILURE") != 0 && strcmp(w, "DELAY") != 0)
			ok = false;
	}
	free(copy);
	return ok && (!never || n == 1);
}

/* Decode ORCPT=type;xtext into "type;address". */
static char *
esmtp_orcpt(const char *value)
{
	const char *semi = strchr(value, ';');
	char *addr, *r;

	if (semi == NULL || semi == value || strlen(value) > 500)
		return NULL;
	if ((addr = xtext_decode(semi + 1)) == NULL || *addr == '\0') {
		free(addr);
		return NULL;
	}
	r = xasprintf("%.*s;%s", (int)(semi - value), value, addr);
	free(addr);
	return r;
}

/* Parse the RCPT parameters. */
int
esmtp_rcpt_params(struct session *s, char *args, char **orcpt_r,
    char **notify_r)
{
	char *key, *value;

	while ((key = esmtp_next(&args, &value)) != NULL) {
		if (strcasecmp(key, "NOTIFY") == 0 && *notify_r == NULL &&
		    value != NULL && esmtp_notify_ok(value)) {
			*notify_r = xstrdup(value);
		} else if (strcasecmp(key, "ORCPT") == 0 && *orcpt_r == NULL &&
		    value != NULL && (*orcpt_r = esmtp_orcpt(value)) != NULL) {
			continue;
		} else if (strcasecmp(key, "NOTIFY") == 0 ||
		    strcasecmp(key, "ORCPT") == 0) {
			session_reply_error(s, "501 5.5.4 Bad %s parameter "
			    "syntax", key);
			goto fail;
		} else {
			session_reply_error(s, "555 5.5.4 Unsupported option: "
			    "%s", key);
			goto fail;
		}
	}
	return 0;
fail:
	free(*orcpt_r);
	free(*notify_r);
	*orcpt_r = *notify_r = NULL;
	return -1;
}
