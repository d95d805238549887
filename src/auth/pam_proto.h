#ifndef DIRMAIL_AUTH_PAM_PROTO_H
#define DIRMAIL_AUTH_PAM_PROTO_H

/*
 * Internal to the PAM pool: the framed messages between the pool, its
 * helper and the workers, byte buffers that are wiped as they are
 * consumed, and the helper's entry point.
 *
 * A frame is a 32-bit big-endian payload length, then the payload: a type
 * byte, a 32-bit big-endian request id, then for
 *	'A' (check)	service, user, password, rip
 *	'R' (reply)	one outcome byte, reason
 *	'C' (cancel)	nothing
 * where each string is a 16-bit big-endian length and its bytes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAM_MSG_CHECK	'A'
#define PAM_MSG_REPLY	'R'
#define PAM_MSG_CANCEL	'C'

#define PAM_MAX_FRAME		16384
#define PAM_MAX_SERVICE		255
#define PAM_MAX_USER		1024
#define PAM_MAX_PASSWORD	4096
#define PAM_MAX_RIP		255

/* A byte buffer; memory that held data is zeroed before reuse or free. */
struct pbuf {
	unsigned char *data;
	size_t len;
	size_t cap;
};

/* One decoded message; strings are NULL when absent from its type. */
struct pam_msg {
	char type;
	uint32_t id;
	int outcome;
	char *service;
	char *user;
	char *password;
	char *rip;
	char *reason;
};

/* Append LEN bytes of DATA to BUF. */
void pbuf_append(struct pbuf *buf, const void *data, size_t len);

/* Drop the first N bytes of BUF, zeroing the bytes freed. */
void pbuf_consume(struct pbuf *buf, size_t n);

/* Zero and free BUF's memory. */
void pbuf_wipe(struct pbuf *buf);

/* Append MSG as one frame to BUF. */
void pam_msg_encode(struct pbuf *buf, const struct pam_msg *msg);

/*
 * Take one frame from the start of BUF.  Returns 1 with *MSG_R filled (free
 * it with pam_msg_clear()), 0 when the frame is incomplete, -1 when BUF
 * holds garbage.
 */
int pam_msg_decode(struct pbuf *buf, struct pam_msg *msg_r);

/* Wipe the password in MSG and free its strings. */
void pam_msg_clear(struct pam_msg *msg);

/*
 * Prepare a freshly forked child: default signal handlers (SIGPIPE
 * ignored), nothing blocked, KEEP_FD moved to fd 3, stdin and stdout on
 * /dev/null, stderr kept for logging, every other descriptor closed.
 * Returns 3.
 */
int pam_child_setup(int keep_fd);

/*
 * The helper's main loop on socket FD (see pam_worker.h).  Exits when FD
 * reaches end of file.
 */
void pam_helper_main(int fd, unsigned max_workers, unsigned max_requests,
    unsigned timeout_secs) __attribute__((noreturn));

#endif
