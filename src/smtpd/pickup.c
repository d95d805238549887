/*
 * The local pickup socket: who submitted the message, and the headers a
 * local submission lacks, as Postfix's pickup and cleanup do for mail
 * from sendmail(1).
 *
 * The client's uid and pid come from the kernel (SO_PEERCRED), never from
 * anything the client says.  The message header is held back until its
 * end is seen, so that Message-Id:, Date:, From: and To: can be added
 * when the message has none; the body then streams to the queue file as
 * on the other listeners.  Remote listeners never get here.
 */

#include "config.h"

#include <sys/socket.h>

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "global/addr.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "queue/queue.h"
#include "smtpd/smtpd.h"

/* Header bytes held back at most, beyond header_size_limit: past that
   the message is refused anyway, so it is passed on unchanged. */
#define PICKUP_HOLD_SLACK	65536

/* Headers whose absence is repaired. */
enum {
	H_FROM = 1 << 0,
	H_DATE = 1 << 1,
	H_MSGID = 1 << 2,
	H_RCPT = 1 << 3,	/* To:, Cc: or Bcc: */
};

struct pickup {
	uid_t uid;
	pid_t pid;
	char *login;		/* the uid's login name, or NULL */
	bool holding;		/* the header is being held back */
	struct str hdr;		/* the header so far */
	size_t scanned;		/* bytes of HDR already looked at */
	unsigned seen;		/* H_* found so far */
};

/* Read the peer's credentials from FD into S. */
void
pickup_accept(struct session *s, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct passwd *pw;

	s->pickup = xcalloc(1, sizeof(*s->pickup));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    len != sizeof(cred)) {
		/* Unknown is "nobody", never root. */
		log_warning("pickup: cannot get the client's credentials: %m");
		cred.uid = (uid_t)-2;
		cred.pid = 0;
	}
	s->pickup->uid = cred.uid;
	s->pickup->pid = cred.pid;
	if ((pw = getpwuid(cred.uid)) != NULL)
		s->pickup->login = xstrdup(pw->pw_name);
}

/* Free S's pickup state. */
void
pickup_free(struct session *s)
{
	if (s->pickup == NULL)
		return;
	str_free(&s->pickup->hdr);
	free(s->pickup->login);
	free(s->pickup);
	s->pickup = NULL;
}

/* The envelope attributes and the log line of a new message. */
void
pickup_envelope(struct session *s, struct queue_file *qf)
{
	struct pickup *p = s->pickup;
	char *from = addr_external(s->sender);
	char buf[32];

	snprintf(buf, sizeof(buf), "%lu", (unsigned long)p->uid);
	queue_file_attr(qf, "uid", buf);
	if (p->login != NULL)
		queue_file_attr(qf, "login", p->login);
	log_info("%s: uid=%lu from=<%s>", s->queue_id, (unsigned long)p->uid,
	    from);
	free(from);
}

/* The Received: header of a local submission, as Postfix's pickup. */
void
pickup_received(struct session *s, struct str *h, const char *date)
{
	str_appendf(h, "Received: by %s (dirmail, from userid %lu)\r\n"
	    "\tid %s; %s\r\n", smtpd.hostname, (unsigned long)s->pickup->uid,
	    s->queue_id, date);
}

/* Start holding back the header of the message being received. */
void
pickup_begin(struct session *s)
{
	struct pickup *p = s->pickup;

	str_truncate(&p->hdr, 0);
	p->scanned = 0;
	p->seen = 0;
	p->holding = true;
}

/* Note which repaired header the line at LINE (LEN bytes) starts. */
static void
pickup_note(struct pickup *p, const char *line, size_t len)
{
	static const struct {
		const char *name;
		unsigned flag;
	} names[] = {
		{ "from", H_FROM }, { "date", H_DATE },
		{ "message-id", H_MSGID }, { "to", H_RCPT },
		{ "cc", H_RCPT }, { "bcc", H_RCPT },
	};
	size_t i, n;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = strlen(names[i].name);
		if (len > n && strncasecmp(line, names[i].name, n) == 0) {
			const char *q = line + n;

			while (q < line + len && (*q == ' ' || *q == '\t'))
				q++;
			if (q < line + len && *q == ':')
				p->seen |= names[i].flag;
		}
	}
}

/* Is the line LINE (LEN bytes, without its line end) a header field? */
static bool
pickup_is_field(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == ':')
			return i > 0;
		if (c <= ' ' || c >= 127)
			break;
	}
	/* "Name :" is obsolete syntax, still a field. */
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i > 0 && i < len && line[i] == ':';
}

/* The headers to add, for a message that lacks the ones in SEEN. */
static void
pickup_missing(struct session *s, unsigned seen, struct str *out)
{
	char stamp[32], date[64];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	if (!(seen & H_MSGID)) {
		strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
		str_appendf(out, "Message-Id: <%s.%s@%s>\r\n", stamp,
		    s->queue_id, smtpd.hostname);
	}
	if (!(seen & H_DATE)) {
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z (%Z)",
		    &tm);
		str_appendf(out, "Date: %s\r\n", date);
	}
	if (!(seen & H_FROM)) {
		char *from = addr_external(s->sender);

		str_appendf(out, "From: %s\r\n", *from != '\0' ? from :
		    "MAILER-DAEMON");
		free(from);
	}
	if (!(seen & H_RCPT))
		str_append(out, "To: undisclosed-recipients:;\r\n");
}

/*
 * Pass the held header on: its first END bytes, the missing headers, a
 * blank line when the header ended at a body line (BLANK false), then
 * the rest.
 */
static void
pickup_release(struct session *s, size_t end, bool blank)
{
	struct pickup *p = s->pickup;
	struct str add = STR_INIT;

	p->holding = false;
	if (s->qf == NULL)
		return;
	if (end > 0)
		queue_file_write(s->qf, p->hdr.s, end);
	if (end > 0 && p->hdr.s[end - 1] != '\n')
		str_append(&add, "\r\n");
	pickup_missing(s, p->seen, &add);
	if (!blank)
		str_append(&add, "\r\n");
	if (add.len > 0)
		queue_file_write(s->qf, add.s, add.len);
	str_free(&add);
	if (p->hdr.len > end)
		queue_file_write(s->qf, p->hdr.s + end, p->hdr.len - end);
	str_truncate(&p->hdr, 0);
}

/* Look at the complete lines not scanned yet; release the header when
   its end is there. */
static void
pickup_scan(struct session *s)
{
	struct pickup *p = s->pickup;
	const char *line, *nl;
	size_t len;

	while (p->holding && p->scanned < p->hdr.len) {
		line = p->hdr.s + p->scanned;
		nl = memchr(line, '\n', p->hdr.len - p->scanned);
		if (nl == NULL)
			return;
		len = (size_t)(nl - line);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len == 0) {
			pickup_release(s, p->scanned, true);
			return;
		}
		if (line[0] != ' ' && line[0] != '\t') {
			if (!pickup_is_field(line, len)) {
				pickup_release(s, p->scanned, false);
				return;
			}
			pickup_note(p, line, len);
		}
		p->scanned = (size_t)(nl - p->hdr.s) + 1;
	}
}

/* Content for the queue file of a pickup message. */
void
pickup_write(struct session *s, const void *data, size_t len)
{
	struct pickup *p = s->pickup;

	if (!p->holding) {
		queue_file_write(s->qf, data, len);
		return;
	}
	str_append_n(&p->hdr, data, len);
	pickup_scan(s);
	if (p->holding &&
	    p->hdr.len > smtpd.header_limit + PICKUP_HOLD_SLACK) {
		/* Refused later for its size: no point in holding it. */
		p->holding = false;
		queue_file_write(s->qf, p->hdr.s, p->hdr.len);
		str_truncate(&p->hdr, 0);
	}
}

/* The message text is complete: a header-only message gets its
   missing headers at the end. */
void
pickup_finish(struct session *s)
{
	struct pickup *p = s->pickup;

	if (p->holding)
		pickup_release(s, p->hdr.len, true);
}

/* Drop what is held (the message is aborted). */
void
pickup_abort(struct session *s)
{
	if (s->pickup == NULL)
		return;
	s->pickup->holding = false;
	str_truncate(&s->pickup->hdr, 0);
}
