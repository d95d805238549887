/*
 * mail_location expansion (Dovecot's %-variables, "~" and the maildir:
 * prefix), for the delivery agent and the IMAP/POP3 mail processes.
 */

#include "config.h"

#include <ctype.h>
#include <string.h>

#include "global/mail_location.h"
#include "lib/str.h"

/* Append VALUE to OUT, lower-cased when LOWER. */
static void
append_var(struct str *out, const char *value, size_t len, int lower)
{
	size_t i;

	for (i = 0; i < len; i++)
		str_append_c(out, lower ? (char)tolower((unsigned char)value[i]) :
		    value[i]);
}

/* Expand the %-variable at *P (after the %); advance *P.  0 or -1. */
static int
expand_var(struct str *out, const char **p, const char *login,
    const char *domain, const char *home, const char **error_r)
{
	const char *at = strrchr(login, '@');
	int lower = 0;

	if (**p == 'L') {
		lower = 1;
		(*p)++;
	}
	switch (**p) {
	case '%':
		str_append_c(out, '%');
		break;
	case 'u':
		append_var(out, login, strlen(login), lower);
		break;
	case 'n':
		append_var(out, login, at != NULL ? (size_t)(at - login) :
		    strlen(login), lower);
		break;
	case 'd':
		if (at != NULL)
			domain = at + 1;
		append_var(out, domain, strlen(domain), lower);
		break;
	case 'h':
		if (home == NULL || *home == '\0') {
			*error_r = "%h in mail_location, but the user has no "
			    "home directory";
			return -1;
		}
		append_var(out, home, strlen(home), 0);
		break;
	default:
		*error_r = "unknown %-variable in mail_location";
		return -1;
	}
	(*p)++;
	return 0;
}

int
mail_location_expand(const char *location, const char *login,
    const char *domain, const char *home, char **path_r,
    const char **error_r)
{
	struct str out = STR_INIT;
	const char *p = location;
	size_t plen;

	if (strncmp(p, "maildir:", 8) == 0)
		p += 8;
	else if ((plen = strcspn(p, ":/")) > 0 && p[plen] == ':') {
		*error_r = "only maildir: mailboxes are supported";
		return -1;
	}
	if (*p == '~' && (p[1] == '/' || p[1] == '\0' || p[1] == ':')) {
		if (home == NULL || *home == '\0') {
			*error_r = "~ in mail_location, but the user has no "
			    "home directory";
			return -1;
		}
		str_append(&out, home);
		p++;
	}
	/* Options (":LAYOUT=fs", ":INBOX=...") end the path. */
	while (*p != '\0' && *p != ':') {
		if (*p != '%') {
			str_append_c(&out, *p++);
			continue;
		}
		p++;
		if (expand_var(&out, &p, login, domain, home, error_r) < 0) {
			str_free(&out);
			return -1;
		}
	}
	if (out.s == NULL || *out.s != '/' || strstr(out.s, "/../") != NULL ||
	    (out.len >= 3 && strcmp(out.s + out.len - 3, "/..") == 0)) {
		*error_r = "mail_location does not give an absolute path";
		str_free(&out);
		return -1;
	}
	*path_r = str_steal(&out);
	return 0;
}
