/* Postfix-style logging to syslog or stderr. */

#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static char log_ident_buf[64] = "dirmail";
static enum log_dest log_dest = LOG_DEST_STDERR;
static bool log_verbose;
static int log_facility = LOG_MAIL;

void
log_open(const char *service, enum log_dest dest)
{
	if (dest == LOG_DEST_PLAIN && service != NULL)
		snprintf(log_ident_buf, sizeof(log_ident_buf), "%s", service);
	else if (service != NULL && *service != '\0')
		snprintf(log_ident_buf, sizeof(log_ident_buf), "dirmail/%s",
		    service);
	else
		snprintf(log_ident_buf, sizeof(log_ident_buf), "dirmail");
	log_dest = dest;
	if (dest == LOG_DEST_SYSLOG)
		openlog(log_ident_buf, LOG_PID | LOG_NDELAY, log_facility);
}

int
log_set_facility(const char *name)
{
	static const struct {
		const char *name;
		int facility;
	} names[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(names[i].name, name) == 0) {
			log_facility = names[i].facility;
			return 0;
		}
	}
	return -1;
}

void
log_set_verbose(bool verbose)
{
	log_verbose = verbose;
}

const char *
log_ident(void)
{
	return log_ident_buf;
}

/* Write one line at PRIO with PREFIX ("warning: ", ...) before the text. */
static void
log_vwrite(int prio, const char *prefix, const char *fmt, va_list ap)
{
	char text[2048];
	char stamp[32];
	time_t now;
	struct tm tm;
	int saved_errno = errno;
	char *p;

	vsnprintf(text, sizeof(text), fmt, ap);
	/* One event, one line: a CR or LF in the text must not forge one. */
	for (p = text; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (log_dest == LOG_DEST_SYSLOG) {
		syslog(prio, "%s%s", prefix, text);
	} else if (log_dest == LOG_DEST_PLAIN) {
		fprintf(stderr, "%s: %s%s\n", log_ident_buf, prefix, text);
	} else {
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
		fprintf(stderr, "%s %s[%ld]: %s%s\n", stamp, log_ident_buf,
		    (long)getpid(), prefix, text);
	}
	errno = saved_errno;
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, "", fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, "", fmt, ap);
	va_end(ap);
}

void
log_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, "warning: ", fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, "error: ", fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, "fatal: ", fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_fatal_status(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, "fatal: ", fmt, ap);
	va_end(ap);
	exit(status);
}

void
log_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, "panic: ", fmt, ap);
	va_end(ap);
	abort();
}
