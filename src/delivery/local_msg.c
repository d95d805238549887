/* The message as the local agent delivers it (see local_msg.h). */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "delivery/local_msg.h"
#include "lib/xalloc.h"

/* Turn CRLF into LF in MSG and find the end of its header. */
static void
msg_normalize(struct local_msg *msg)
{
	char *r = msg->data, *w = msg->data, *end = msg->data + msg->len;
	char *blank;

	for (; r < end; r++) {
		if (*r == '\r' && r + 1 < end && r[1] == '\n')
			continue;
		*w++ = *r;
	}
	*w = '\0';
	msg->len = (size_t)(w - msg->data);
	if (msg->len > 0 && msg->data[0] == '\n')
		msg->header_len = 0;
	else if ((blank = strstr(msg->data, "\n\n")) != NULL)
		msg->header_len = (size_t)(blank - msg->data) + 1;
	else
		msg->header_len = msg->len;
}

void
local_msg_set(struct local_msg *msg, const char *text, size_t len)
{
	msg->data = xmalloc(len + 1);
	memcpy(msg->data, text, len);
	msg->data[len] = '\0';
	msg->len = len;
	msg_normalize(msg);
}

int
local_msg_read(const char *path, unsigned long long offset,
    unsigned long long length, struct local_msg *msg, char **error_r)
{
	size_t done = 0;
	ssize_t n;
	int fd;

	memset(msg, 0, sizeof(*msg));
	if (length > (unsigned long long)SIZE_MAX / 2) {
		*error_r = xstrdup("message too large");
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		*error_r = xasprintf("open %s: %s", path, strerror(errno));
		return -1;
	}
	msg->data = xmalloc((size_t)length + 1);
	while (done < length) {
		n = pread(fd, msg->data + done, (size_t)length - done,
		    (off_t)(offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*error_r = xasprintf("read %s: %s", path, n < 0 ?
			    strerror(errno) : "file shorter than the request");
			close(fd);
			local_msg_free(msg);
			return -1;
		}
		done += (size_t)n;
	}
	close(fd);
	msg->len = done;
	msg_normalize(msg);
	return 0;
}

void
local_msg_free(struct local_msg *msg)
{
	free(msg->data);
	memset(msg, 0, sizeof(*msg));
}

/* Does the field value V (up to END) name RCPT? */
static bool
value_is(const char *v, const char *end, const char *rcpt)
{
	size_t len = strlen(rcpt);

	while (v < end && isspace((unsigned char)*v))
		v++;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	if (end - v >= 2 && *v == '<' && end[-1] == '>') {
		v++;
		end--;
	}
	return (size_t)(end - v) == len && strncasecmp(v, rcpt, len) == 0;
}

bool
local_msg_delivered_to(const struct local_msg *msg, const char *rcpt)
{
	const char *p = msg->data, *end = msg->data + msg->header_len;
	const char *eol;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > 13 &&
		    strncasecmp(p, "Delivered-To:", 13) == 0 &&
		    value_is(p + 13, eol, rcpt))
			return true;
		p = eol + 1;
	}
	return false;
}

char *
local_msg_prefix(const char *sender, const char *rcpt)
{
	return xasprintf("Return-Path: <%s>\nDelivered-To: %s\n", sender,
	    rcpt);
}
