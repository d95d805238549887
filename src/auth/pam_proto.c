/*
 * Framing and child-process hygiene shared by the PAM pool, its helper and
 * its workers.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/pam_proto.h"
#include "lib/log.h"
#include "lib/xalloc.h"

/* Append LEN bytes of DATA to BUF. */
void
pbuf_append(struct pbuf *buf, const void *data, size_t len)
{
	unsigned char *p;
	size_t cap, used = buf->len;

	if (buf->len + len > buf->cap) {
		cap = buf->cap > 0 ? buf->cap : 256;
		while (cap < buf->len + len)
			cap *= 2;
		/* Never realloc: the old copy would stay readable. */
		p = xmalloc(cap);
		if (used > 0)
			memcpy(p, buf->data, used);
		pbuf_wipe(buf);
		buf->data = p;
		buf->cap = cap;
		buf->len = used;
	}
	memcpy(buf->data + buf->len, data, len);
	buf->len += len;
}

/* Drop the first N bytes of BUF, zeroing the bytes freed. */
void
pbuf_consume(struct pbuf *buf, size_t n)
{
	if (n >= buf->len) {
		if (buf->data != NULL)
			explicit_bzero(buf->data, buf->len);
		buf->len = 0;
		return;
	}
	memmove(buf->data, buf->data + n, buf->len - n);
	explicit_bzero(buf->data + buf->len - n, n);
	buf->len -= n;
}

/* Zero and free BUF's memory. */
void
pbuf_wipe(struct pbuf *buf)
{
	if (buf->data != NULL) {
		explicit_bzero(buf->data, buf->cap);
		free(buf->data);
	}
	buf->data = NULL;
	buf->len = buf->cap = 0;
}

/* Append a 32-bit big-endian V to BUF. */
static void
put_u32(struct pbuf *buf, uint32_t v)
{
	unsigned char b[4] = { v >> 24, v >> 16, v >> 8, v };

	pbuf_append(buf, b, sizeof(b));
}

/* Append the string S (NULL as empty) with its 16-bit length. */
static void
put_str(struct pbuf *buf, const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;
	unsigned char b[2];

	if (len > 0xffff)
		len = 0xffff;
	b[0] = len >> 8;
	b[1] = len & 0xff;
	pbuf_append(buf, b, sizeof(b));
	if (len > 0)
		pbuf_append(buf, s, len);
}

/* Append MSG as one frame to BUF. */
void
pam_msg_encode(struct pbuf *buf, const struct pam_msg *msg)
{
	size_t start = buf->len;
	unsigned char type = (unsigned char)msg->type, outcome;
	uint32_t len;

	put_u32(buf, 0);
	pbuf_append(buf, &type, 1);
	put_u32(buf, msg->id);
	if (msg->type == PAM_MSG_CHECK) {
		put_str(buf, msg->service);
		put_str(buf, msg->user);
		put_str(buf, msg->password);
		put_str(buf, msg->rip);
	} else if (msg->type == PAM_MSG_REPLY) {
		outcome = (unsigned char)msg->outcome;
		pbuf_append(buf, &outcome, 1);
		put_str(buf, msg->reason);
	}
	len = (uint32_t)(buf->len - start - 4);
	buf->data[start] = len >> 24;
	buf->data[start + 1] = (len >> 16) & 0xff;
	buf->data[start + 2] = (len >> 8) & 0xff;
	buf->data[start + 3] = len & 0xff;
}

/* Return the 32-bit big-endian number at P. */
static uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Read a string at *P (END is the frame end) into *S_R; -1 on overrun. */
static int
get_str(const unsigned char **p, const unsigned char *end, size_t max,
    char **s_r)
{
	size_t len;

	if (end - *p < 2)
		return -1;
	len = (size_t)(*p)[0] << 8 | (*p)[1];
	*p += 2;
	if (len > max || (size_t)(end - *p) < len ||
	    memchr(*p, '\0', len) != NULL)
		return -1;
	*s_r = xstrndup((const char *)*p, len);
	*p += len;
	return 0;
}

/* Decode the payload P..END into MSG; -1 when malformed. */
static int
decode_payload(const unsigned char *p, const unsigned char *end,
    struct pam_msg *msg)
{
	if (end - p < 5)
		return -1;
	msg->type = (char)p[0];
	msg->id = get_u32(p + 1);
	p += 5;
	switch (msg->type) {
	case PAM_MSG_CHECK:
		if (get_str(&p, end, PAM_MAX_SERVICE, &msg->service) < 0 ||
		    get_str(&p, end, PAM_MAX_USER, &msg->user) < 0 ||
		    get_str(&p, end, PAM_MAX_PASSWORD, &msg->password) < 0 ||
		    get_str(&p, end, PAM_MAX_RIP, &msg->rip) < 0)
			return -1;
		break;
	case PAM_MSG_REPLY:
		if (p == end)
			return -1;
		msg->outcome = *p++;
		if (get_str(&p, end, 1024, &msg->reason) < 0)
			return -1;
		break;
	case PAM_MSG_CANCEL:
		break;
	default:
		return -1;
	}
	return p == end ? 0 : -1;
}

/* Take one frame from the start of BUF into *MSG_R. */
int
pam_msg_decode(struct pbuf *buf, struct pam_msg *msg_r)
{
	uint32_t len;
	int ret;

	memset(msg_r, 0, sizeof(*msg_r));
	if (buf->len < 4)
		return 0;
	len = get_u32(buf->data);
	if (len > PAM_MAX_FRAME)
		return -1;
	if (buf->len - 4 < len)
		return 0;
	ret = decode_payload(buf->data + 4, buf->data + 4 + len, msg_r);
	pbuf_consume(buf, 4 + (size_t)len);
	if (ret < 0) {
		pam_msg_clear(msg_r);
		return -1;
	}
	return 1;
}

/* Wipe the password in MSG and free its strings. */
void
pam_msg_clear(struct pam_msg *msg)
{
	if (msg->password != NULL)
		explicit_bzero(msg->password, strlen(msg->password));
	free(msg->service);
	free(msg->user);
	free(msg->password);
	free(msg->rip);
	free(msg->reason);
	memset(msg, 0, sizeof(*msg));
}

/* Close every descriptor from FIRST up. */
static void
close_from(int first)
{
	long max;
	int fd;

	if (close_range((unsigned)first, ~0U, 0) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = first; fd < max; fd++)
		(void)close(fd);
}

/* Reset every signal disposition and unblock all signals. */
static void
reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Prepare a freshly forked child; KEEP_FD ends up as fd 3. */
int
pam_child_setup(int keep_fd)
{
	int null;

	reset_signals();
	if (keep_fd != 3) {
		if (dup2(keep_fd, 3) < 0)
			log_fatal("dup2: %m");
		(void)close(keep_fd);
	}
	(void)fcntl(3, F_SETFD, FD_CLOEXEC);
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		(void)dup2(null, 0);
		(void)dup2(null, 1);
		if (null > 3)
			(void)close(null);
	}
	close_from(4);
	return 3;
}
