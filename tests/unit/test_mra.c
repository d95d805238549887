/*
 * Unit tests of the messages between imapd's or pop3d's login process,
 * spawner and mail processes (src/mra/spawner.c): a hand-over with its
 * descriptor through a real SOCK_SEQPACKET pair, values holding the
 * separators, pipelined input holding NULs and line ends, the replies,
 * and the malformed messages a reader must refuse.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mra/spawner.h"

/* Receive one datagram and its descriptor from SOCK into BUF. */
static ssize_t
recv_with_fd(int sock, char *buf, size_t size, int *fd_r)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, size - 1 };
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;
	ssize_t n;

	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	n = recvmsg(sock, &msg, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	cm = CMSG_FIRSTHDR(&msg);
	assert_non_null(cm);
	assert_int_equal(cm->cmsg_type, SCM_RIGHTS);
	memcpy(fd_r, CMSG_DATA(cm), sizeof(int));
	return n;
}

static void
test_handover_round_trip(void **state)
{
	static const unsigned char input[] = "b NOOP\r\n\0c {3}\r\n\t\x01x";
	struct mra_handover h = {
		.seq = 18446744073709551615ull, .auth_id = 4294967295u,
		.cookie = "0123456789abcdef0123456789abcdef",
		.user = "al\tice@exa\nmple.com", .mech = "PLAIN",
		.tag = "a001", .rip = "2001:db8::1", .lip = "127.0.0.1",
		.rport = 65535, .lport = 993, .tls = true, .secured = true,
		.session_id = "AbCd+/0123456789",
		.input = input, .input_len = sizeof(input) - 1,
	}, got;
	char *buf = malloc(MRA_HANDOVER_MAX + 1);
	struct stat a, b;
	int sv[2], pair[2], fd;
	ssize_t n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
	assert_int_equal(mra_handover_send(sv[0], &h, pair[1]), 0);
	n = recv_with_fd(sv[1], buf, MRA_HANDOVER_MAX + 1, &fd);
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(fstat(pair[1], &b), 0);
	assert_true(a.st_ino == b.st_ino);
	assert_int_equal(mra_handover_parse(buf, (size_t)n, &got), 0);
	assert_true(got.seq == h.seq);
	assert_int_equal(got.auth_id, h.auth_id);
	assert_string_equal(got.cookie, h.cookie);
	assert_string_equal(got.user, h.user);
	assert_string_equal(got.mech, "PLAIN");
	assert_string_equal(got.tag, "a001");
	assert_string_equal(got.rip, "2001:db8::1");
	assert_string_equal(got.lip, "127.0.0.1");
	assert_int_equal(got.rport, 65535);
	assert_int_equal(got.lport, 993);
	assert_true(got.tls && got.secured);
	assert_string_equal(got.session_id, h.session_id);
	assert_int_equal(got.input_len, h.input_len);
	assert_memory_equal(got.input, input, h.input_len);
	close(fd);
	close(pair[0]);
	close(pair[1]);
	close(sv[0]);
	close(sv[1]);
	free(buf);
}

static void
test_handover_too_large(void **state)
{
	unsigned char *big = calloc(1, MRA_HANDOVER_MAX);
	struct mra_handover h = {
		.cookie = "", .user = "", .mech = "", .tag = "", .rip = "",
		.lip = "", .session_id = "", .input = big,
		.input_len = MRA_HANDOVER_MAX,
	};
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(mra_handover_send(sv[0], &h, sv[0]), -1);
	close(sv[0]);
	close(sv[1]);
	free(big);
}

static void
test_handover_malformed(void **state)
{
	static const char *const bad[] = {
		"",				/* no header line */
		"1\t2\tc\tu\tPLAIN\ta\t1.2.3.4\t1\t5.6.7.8\t2\tts",
		"1\t2\tc\tu\tPLAIN\ta\t1.2.3.4\t1\t5.6.7.8\t2\tts\n",
		"x\t2\tc\tu\tPLAIN\ta\t1.2.3.4\t1\t5.6.7.8\t2\tts\ts\n",
		"1\t4294967296\tc\tu\tP\ta\t1.2.3.4\t1\t5.6.7.8\t2\t\ts\n",
		"1\t2\tc\tu\tP\ta\t1.2.3.4\t65536\t5.6.7.8\t2\t\ts\n",
		"1\t2\tc\tu\tP\ta\t1.2.3.4\t1\t5.6.7.8\t-2\t\ts\n",
		"1\t2\tc\tu\tP\ta\t1.2.3.4\t1\t5.6.7.8\t2\t\ts\textra\n",
	};
	struct mra_handover h;
	char buf[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(buf, bad[i]);
		assert_int_equal(mra_handover_parse(buf, strlen(buf), &h), -1);
	}
	strcpy(buf, "1\t2\tc\tu\tP\t\t1.2.3.4\t1\t5.6.7.8\t2\t\ts\n");
	assert_int_equal(mra_handover_parse(buf, strlen(buf), &h), 0);
	assert_false(h.tls || h.secured);
	assert_int_equal(h.input_len, 0);
}

static void
test_replies(void **state)
{
	unsigned long long seq;
	const char *reason;
	char buf[128];
	pid_t pid;
	int sv[2];
	ssize_t n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	mra_reply_send(sv[0], 7, 1234, NULL);
	mra_reply_send(sv[0], 8, 0, "uid 100 is below\tfirst_valid_uid");
	n = recv(sv[1], buf, sizeof(buf) - 1, 0);
	buf[n] = '\0';
	assert_int_equal(mra_reply_parse(buf, &seq, &pid, &reason), 1);
	assert_true(seq == 7);
	assert_int_equal(pid, 1234);
	n = recv(sv[1], buf, sizeof(buf) - 1, 0);
	buf[n] = '\0';
	assert_int_equal(mra_reply_parse(buf, &seq, &pid, &reason), 0);
	assert_true(seq == 8);
	assert_string_equal(reason, "uid 100 is below\tfirst_valid_uid");
	close(sv[0]);
	close(sv[1]);

	strcpy(buf, "OK\t7\t0");
	assert_int_equal(mra_reply_parse(buf, &seq, &pid, &reason), -1);
	strcpy(buf, "OK\t7");
	assert_int_equal(mra_reply_parse(buf, &seq, &pid, &reason), -1);
	strcpy(buf, "MAYBE\t7\t1");
	assert_int_equal(mra_reply_parse(buf, &seq, &pid, &reason), -1);
	strcpy(buf, "OK\t-7\t1");
	assert_int_equal(mra_reply_parse(buf, &seq, &pid, &reason), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handover_round_trip),
		cmocka_unit_test(test_handover_too_large),
		cmocka_unit_test(test_handover_malformed),
		cmocka_unit_test(test_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
