/*
 * RFC 5322 3.3 date-time, with the obsolete forms of 4.3 that real mail
 * still carries (two-digit years, named zones, missing seconds or
 * weekday, comments, extra white space).
 */

#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/str.h"
#include "mailstore/mime.h"
#include "mailstore/mime_int.h"

static const char *const months[12] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec",
};

static const struct {
	const char *name;
	int minutes;
} zones[] = {
	{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
	{ "EST", -300 }, { "EDT", -240 }, { "CST", -360 }, { "CDT", -300 },
	{ "MST", -420 }, { "MDT", -360 }, { "PST", -480 }, { "PDT", -420 },
};

/* Skip white space, commas and comments. */
static void
skip(struct mime_lex *lx)
{
	for (;;) {
		mime_lex_cfws(lx);
		if (lx->p < lx->end && *lx->p == ',')
			lx->p++;
		else
			return;
	}
}

/* Read a number of 1 to MAXDIGITS digits. */
static bool
number(struct mime_lex *lx, int maxdigits, int *n_r, int *digits_r)
{
	int n = 0, d = 0;

	skip(lx);
	while (lx->p < lx->end && isdigit((unsigned char)*lx->p) &&
	    d < maxdigits) {
		n = n * 10 + (*lx->p++ - '0');
		d++;
	}
	if (d == 0)
		return false;
	*n_r = n;
	if (digits_r != NULL)
		*digits_r = d;
	return true;
}

/* Read a word of letters into BUF. */
static size_t
word(struct mime_lex *lx, char *buf, size_t size)
{
	size_t n = 0;

	skip(lx);
	while (lx->p < lx->end && isalpha((unsigned char)*lx->p)) {
		if (n + 1 < size)
			buf[n++] = *lx->p;
		lx->p++;
	}
	buf[n] = '\0';
	return n;
}

/* Read hh:mm[:ss]. */
static bool
read_time(struct mime_lex *lx, struct tm *tm)
{
	if (!number(lx, 2, &tm->tm_hour, NULL) || !mime_lex_char(lx, ':') ||
	    !number(lx, 2, &tm->tm_min, NULL))
		return false;
	if (mime_lex_char(lx, ':') && !number(lx, 2, &tm->tm_sec, NULL))
		return false;
	return tm->tm_hour < 24 && tm->tm_min < 60 && tm->tm_sec <= 60;
}

/* Read the zone: +hhmm / -hhmm or a name; none or unknown is +0000. */
static int
read_zone(struct mime_lex *lx)
{
	char name[8];
	size_t i;
	int sign, n, d;

	skip(lx);
	if (lx->p < lx->end && (*lx->p == '+' || *lx->p == '-')) {
		sign = *lx->p++ == '-' ? -1 : 1;
		if (!number(lx, 4, &n, &d) || d != 4)
			return 0;
		return sign * ((n / 100) * 60 + n % 100);
	}
	if (word(lx, name, sizeof(name)) == 0)
		return 0;
	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		if (strcasecmp(name, zones[i].name) == 0)
			return zones[i].minutes;
	}
	return 0;	/* military and unknown zones: RFC 5322 4.3 */
}

int
mime_date_parse(const char *s, time_t *time_r, int *tz_min_r)
{
	struct mime_lex lx = { s, s + strlen(s), NULL, 0 };
	struct tm tm;
	char mon[16];
	int digits, i, tz;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	skip(&lx);
	if (lx.p < lx.end && isalpha((unsigned char)*lx.p))
		(void)word(&lx, mon, sizeof(mon));	/* the weekday */
	if (!number(&lx, 2, &tm.tm_mday, NULL) || tm.tm_mday < 1 ||
	    tm.tm_mday > 31)
		return -1;
	(void)mime_lex_char(&lx, '-');	/* "24-Mar-2007" */
	if (word(&lx, mon, sizeof(mon)) < 3)
		return -1;
	for (i = 0; i < 12 && strncasecmp(mon, months[i], 3) != 0; i++)
		;
	if (i == 12)
		return -1;
	tm.tm_mon = i;
	(void)mime_lex_char(&lx, '-');
	if (!number(&lx, 4, &tm.tm_year, &digits))
		return -1;
	if (digits == 2)	/* RFC 5322 4.3 */
		tm.tm_year += tm.tm_year < 50 ? 2000 : 1900;
	else if (digits == 3)
		tm.tm_year += 1900;
	tm.tm_year -= 1900;
	if (!read_time(&lx, &tm))
		return -1;
	tz = read_zone(&lx);
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*time_r = t - (time_t)tz * 60;
	*tz_min_r = tz;
	return 0;
}
