"""smtpd's protocol: the conversation a client has, byte for byte, and
what ends up in the queue."""

import os
import re
import signal
import socket
import smtplib
import subprocess
import time

import pytest

from smtp_util import (MESSAGE, Raw, queued, queued_ids, smtp_instance,
                       wait_greeting)


@pytest.fixture
def mta(dirmail, tmp_path, smtp_cert):
    return smtp_instance(dirmail, tmp_path, smtp_cert)


def send_ok(c, sender="<alice@example.com>", rcpts=("<bob@example.com>",),
            body=MESSAGE):
    """Run one transaction on C; return the queue id."""
    assert c.cmd(f"MAIL FROM:{sender}")[0] == 250
    for r in rcpts:
        code, text = c.cmd(f"RCPT TO:{r}")
        assert code == 250, text
    assert c.cmd("DATA")[0] == 354
    c.send(body + ".\r\n")
    code, text = c.reply()
    assert code == 250, text
    m = re.match(r"250 2\.0\.0 Ok: queued as ([0-9A-F]+)$", text)
    assert m, text
    return m.group(1)


def test_greeting_and_ehlo_extensions(mta):
    c = Raw(mta)
    code, text = c.cmd("EHLO client.example.org")
    assert code == 250
    lines = [l[4:] for l in text.split("\n")]
    assert lines[0] == "mail.example.com"
    for ext in ("PIPELINING", "SIZE 10240000", "STARTTLS",
                "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8",
                "CHUNKING"):
        assert ext in lines, (ext, lines)
    # smtpd_tls_auth_only = yes: no AUTH before STARTTLS on port 25.
    assert not any(l.startswith("AUTH") for l in lines)
    assert c.cmd("QUIT")[0] == 221
    assert c.closed()


def test_message_is_queued_with_envelope_and_received_header(mta):
    c = Raw(mta)
    c.cmd("EHLO client.example.org")
    qid = send_ok(c)
    c.cmd("QUIT")
    files = queued(mta)
    assert [f["id"] for f in files] == [qid]
    q = files[0]
    assert q["sender"] == "alice@example.com"
    assert [r["final"] for r in q["recipients"]] == ["bob@example.com"]
    assert q["attrs"]["client_address"] == "127.0.0.1"
    assert q["attrs"]["helo_name"] == "client.example.org"
    assert q["attrs"]["protocol"] == "ESMTP"
    content = q["content"].decode()
    assert content.startswith("Received: from client.example.org "
                              "(unknown [127.0.0.1])\r\n\tby "
                              "mail.example.com (dirmail) with ESMTP id "
                              + qid)
    assert content.endswith(MESSAGE)
    assert re.search(rf"{qid}: client=unknown\[127\.0\.0\.1\]", mta.log())


def test_aliases_expand_into_the_queue_file(mta):
    c = Raw(mta)
    c.cmd("EHLO x.example.org")
    send_ok(c, rcpts=("<staff@example.com>", "<Info@EXAMPLE.com>"))
    q = queued(mta)[0]
    finals = [r["final"] for r in q["recipients"]]
    # staff -> alice, bob; info -> alice (kept once).
    assert finals == ["alice@example.com", "bob@example.com"]
    assert q["recipients"][0]["orcpt"] == "staff@example.com"


def test_null_sender_quoted_local_part_and_source_route(mta):
    c = Raw(mta)
    c.cmd("EHLO x.example.org")
    assert c.cmd("MAIL FROM:<>")[0] == 250
    assert c.cmd('RCPT TO:<"alice"@example.com>')[0] == 250
    assert c.cmd("RCPT TO:<@relay.example.org:bob@example.com>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(MESSAGE + ".\r\n")
    assert c.reply()[0] == 250
    q = queued(mta)[0]
    assert q["sender"] == ""
    assert [r["final"] for r in q["recipients"]] == [
        "alice@example.com", "bob@example.com"]


def test_command_sequence_errors(mta):
    c = Raw(mta)
    assert c.cmd("RCPT TO:<bob@example.com>")[1].startswith(
        "503 5.5.1 Error: need MAIL command")
    assert c.cmd("DATA")[1].startswith("503 5.5.1 Error: need RCPT command")
    assert c.cmd("MAIL FROM:<alice@example.com>")[0] == 250
    assert c.cmd("MAIL FROM:<alice@example.com>")[1] == (
        "503 5.5.1 Error: nested MAIL command")
    assert c.cmd("RCPT TO:<nobody@example.com>")[0] == 550
    assert c.cmd("DATA")[1] == "554 5.5.1 Error: no valid recipients"
    assert c.cmd("RSET")[1] == "250 2.0.0 Ok"
    assert c.cmd("FOO bar")[1] == "502 5.5.2 Error: command not recognized"
    assert c.cmd("MAIL FROM:<alice")[1].startswith("501 5.1.7")
    assert c.cmd("MAIL TO:<x@example.com>")[1].startswith("501 5.5.4")
    assert c.cmd("NOOP")[1] == "250 2.0.0 Ok"
    assert c.cmd("VRFY bob@example.com")[0] == 252
    assert c.cmd("HELP")[0] == 214


def test_unknown_recipient_and_relay_denied(mta):
    c = Raw(mta)
    c.cmd("EHLO x.example.org")
    c.cmd("MAIL FROM:<someone@example.org>")
    assert c.cmd("RCPT TO:<bbb@example.com>")[1] == (
        "550 5.1.1 <bbb@example.com>: Recipient address rejected: "
        "User unknown in virtual mailbox table")
    # The default smtpd_relay_restrictions end in defer_unauth_destination.
    assert c.cmd("RCPT TO:<x@aol.com>")[1] == (
        "454 4.7.1 <x@aol.com>: Relay access denied")
    assert re.search(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: "
                     r"550 5\.1\.1 <bbb@example\.com>: Recipient address "
                     r"rejected: User unknown in virtual mailbox table; "
                     r"from=<someone@example\.org> to=<bbb@example\.com> "
                     r"proto=ESMTP helo=<x\.example\.org>", mta.log())


def test_helo_required(dirmail, tmp_path, smtp_cert):
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      smtpd_helo_required="yes")
    c = Raw(d)
    assert c.cmd("MAIL FROM:<a@example.com>")[1] == (
        "503 5.5.1 Error: send HELO/EHLO first")
    assert c.cmd("HELO client.example.org")[1] == "250 mail.example.com"
    assert c.cmd("MAIL FROM:<a@example.com>")[0] == 250


def test_size_declared_and_enforced(dirmail, tmp_path, smtp_cert):
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      message_size_limit="2000")
    c = Raw(d)
    assert "SIZE 2000" in c.cmd("EHLO x.example.org")[1]
    assert c.cmd("MAIL FROM:<a@example.com> SIZE=5000")[1] == (
        "552 5.3.4 Message size exceeds fixed limit")
    assert c.cmd("MAIL FROM:<a@example.com> SIZE=100")[0] == 250
    assert c.cmd("RCPT TO:<bob@example.com>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(MESSAGE + ("x" * 70 + "\r\n") * 50 + ".\r\n")
    assert c.reply()[1] == "552 5.3.4 Message size exceeds fixed limit"
    assert queued(d) == []
    # The session goes on.
    send_ok(c)


def test_recipient_limit(dirmail, tmp_path, smtp_cert):
    d = smtp_instance(dirmail, tmp_path, smtp_cert, smtpd_recipient_limit="2")
    c = Raw(d)
    c.cmd("EHLO x.example.org")
    c.cmd("MAIL FROM:<a@example.com>")
    assert c.cmd("RCPT TO:<alice@example.com>")[0] == 250
    assert c.cmd("RCPT TO:<bob@example.com>")[0] == 250
    assert c.cmd("RCPT TO:<info@example.com>")[1] == (
        "452 4.5.3 Error: too many recipients")


def test_pipelined_transaction_gets_every_reply_in_order(mta):
    c = Raw(mta)
    c.cmd("EHLO x.example.org")
    c.send("MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\n"
           "RCPT TO:<nobody@example.com>\r\nRCPT TO:<alice@example.com>\r\n"
           "DATA\r\n")
    assert [c.reply()[0] for _ in range(5)] == [250, 250, 550, 250, 354]
    c.send(MESSAGE + ".\r\nQUIT\r\n")
    assert c.reply()[0] == 250
    assert c.reply()[0] == 221
    assert len(queued(mta)[0]["recipients"]) == 2


def test_dot_stuffing_and_empty_lines(mta):
    c = Raw(mta)
    c.cmd("EHLO x.example.org")
    send_ok(c, body="Subject: dots\r\n\r\n..leading dot\r\n.\r\n"[:-3]
            + "..\r\n\r\nend\r\n")
    content = queued(mta)[0]["content"]
    assert content.endswith(b"\r\n\r\n.leading dot\r\n.\r\n\r\nend\r\n")


def test_bdat_chunks_without_dot_processing(mta):
    c = Raw(mta)
    c.cmd("EHLO x.example.org")
    c.cmd("MAIL FROM:<alice@example.com>")
    c.cmd("RCPT TO:<bob@example.com>")
    part1 = b"Subject: bdat\r\n\r\nline\r\n.\r\n"
    part2 = b"..after\r\n"
    c.send(b"BDAT %d\r\n" % len(part1) + part1)
    assert c.reply()[0] == 250
    c.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
    code, text = c.reply()
    assert code == 250 and "queued as" in text, text
    content = queued(mta)[0]["content"]
    assert content.endswith(part1 + part2)


def test_bdat_without_recipients_is_read_and_refused(mta):
    c = Raw(mta)
    c.cmd("EHLO x.example.org")
    c.send(b"BDAT 10 LAST\r\nRSET\r\nNOOP")
    assert c.reply()[1] == "503 5.5.1 Error: need RCPT command"
    # The 10 bytes were the chunk, not commands.
    assert c.cmd("NOOP")[1] == "250 2.0.0 Ok"
    assert queued(mta) == []


def test_dsn_parameters_kept_in_the_queue_file(mta):
    c = Raw(mta)
    c.cmd("EHLO x.example.org")
    assert c.cmd("MAIL FROM:<alice@example.com> RET=HDRS "
                 "ENVID=abc+2Bdef BODY=8BITMIME")[0] == 250
    assert c.cmd("RCPT TO:<bob@example.com> NOTIFY=SUCCESS,FAILURE "
                 "ORCPT=rfc822;Bob+40example.com")[0] == 250
    assert c.cmd("RCPT TO:<alice@example.com> NOTIFY=BOGUS")[1] == (
        "501 5.5.4 Bad NOTIFY parameter syntax")
    assert c.cmd("RCPT TO:<alice@example.com> FOO=1")[1] == (
        "555 5.5.4 Unsupported option: FOO")
    assert c.cmd("DATA")[0] == 354
    c.send(MESSAGE + ".\r\n")
    assert c.reply()[0] == 250
    q = queued(mta)[0]
    assert q["attrs"]["dsn_ret"] == "hdrs"
    assert q["attrs"]["dsn_envid"] == "abc+def"
    assert q["attrs"]["body"] == "8BITMIME"
    assert q["recipients"][0]["notify"] == "SUCCESS,FAILURE"
    assert q["recipients"][0]["orcpt"] == "rfc822;Bob@example.com"


def test_smtputf8_addresses_need_the_parameter(mta):
    c = Raw(mta)
    c.cmd("EHLO x.example.org")
    assert c.cmd("MAIL FROM:<j\u00f6rg@example.org>")[1] == (
        "553 5.6.7 Must declare SMTPUTF8 to send unicode address")
    assert c.cmd("MAIL FROM:<j\u00f6rg@example.org> SMTPUTF8")[0] == 250
    assert c.cmd("RCPT TO:<bob@example.com>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(MESSAGE + ".\r\n")
    assert c.reply()[0] == 250
    q = queued(mta)[0]
    assert q["attrs"]["smtputf8"] == "yes"
    assert q["sender"] == "j\u00f6rg@example.org"


def test_line_too_long_and_error_limit(dirmail, tmp_path, smtp_cert):
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      smtpd_hard_error_limit="3")
    c = Raw(d)
    c.send("NOOP " + "x" * 5000 + "\r\n")
    assert c.reply()[1] == "500 5.5.2 Error: line too long"
    assert c.closed()
    c = Raw(d)
    for _ in range(2):
        assert c.cmd("BOGUS")[0] == 502
    assert c.cmd("BOGUS")[0] == 502
    assert c.reply()[1] == "421 4.7.0 mail.example.com Error: too many errors"
    assert c.closed()


def test_idle_timeout(dirmail, tmp_path, smtp_cert):
    d = smtp_instance(dirmail, tmp_path, smtp_cert, smtpd_timeout="1s")
    c = Raw(d)
    time.sleep(1.5)
    assert c.reply()[1] == (
        "421 4.4.2 mail.example.com Error: timeout exceeded")
    assert c.closed()


def test_queue_minfree(dirmail, tmp_path, smtp_cert):
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      queue_minfree="1000000G")
    c = Raw(d)
    c.cmd("EHLO x.example.org")
    assert c.cmd("MAIL FROM:<a@example.com>")[1] == (
        "452 4.3.1 Insufficient system storage")


def test_disconnect_log_counts_commands(mta):
    c = Raw(mta)
    c.cmd("EHLO x.example.org")
    c.cmd("MAIL FROM:<a@example.com>")
    c.cmd("RCPT TO:<nobody@example.com>")
    c.cmd("RCPT TO:<bob@example.com>")
    c.cmd("QUIT")
    c.closed()
    mta.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 mail=1 "
                 r"rcpt=1/2 quit=1 commands=4/5")
    assert re.search(r"connect from unknown\[127\.0\.0\.1\]", mta.log())


def test_smtplib_and_swaks(mta):
    with smtplib.SMTP("127.0.0.1", mta.ports["smtpd_listen"]) as s:
        s.ehlo("client.example.org")
        refused = s.sendmail("alice@example.com", ["bob@example.com"],
                             MESSAGE)
        assert refused == {}
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port",
                        str(mta.ports["smtpd_listen"]), "--from",
                        "carol@example.org", "--to", "alice@example.com",
                        "--helo", "swaks.example.org"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "queued as" in r.stdout
    assert len(queued(mta)) == 2


def test_kill_9_after_250_keeps_the_message(mta):
    c = Raw(mta)
    c.cmd("EHLO x.example.org")
    qid = send_ok(c)
    # Kill everything at once, right after the 250.
    for pid in [mta.proc.pid] + mta.children():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    mta.proc.wait(timeout=10)
    assert qid in queued_ids(mta)
    q = queued(mta)[0]
    assert q["content"].endswith(MESSAGE.encode())
    mta.start()
    wait_greeting(mta)
    assert qid in queued_ids(mta)


def test_qmgr_is_woken_through_its_fifo(mta):
    fifo = mta.dir / "queue" / "public" / "qmgr"
    assert fifo.is_fifo()
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        c = Raw(mta)
        c.cmd("EHLO x.example.org")
        send_ok(c)
        deadline = time.monotonic() + 5
        data = b""
        while not data and time.monotonic() < deadline:
            try:
                data = os.read(fd, 64)
            except BlockingIOError:
                time.sleep(0.05)
        assert data, "no wake-up byte in public/qmgr"
    finally:
        os.close(fd)


def test_header_size_limit(dirmail, tmp_path, smtp_cert):
    d = smtp_instance(dirmail, tmp_path, smtp_cert, header_size_limit="1024")
    c = Raw(d)
    c.cmd("EHLO x.example.org")
    c.cmd("MAIL FROM:<a@example.org>")
    c.cmd("RCPT TO:<bob@example.com>")
    assert c.cmd("DATA")[0] == 354
    c.send("".join(f"X-Filler-{i}: {'y' * 60}\r\n" for i in range(40)) +
           "\r\nbody\r\n.\r\n")
    assert c.reply()[1] == "552 5.3.4 Message header size exceeds limit"
    # A long body after a short header is fine.
    send_ok(c, body="Subject: s\r\n\r\n" + ("z" * 60 + "\r\n") * 100)


def test_bare_cr_in_a_command_is_refused(mta):
    c = Raw(mta)
    c.send("EHLO x.exa\rmple.org\r\n")
    assert c.reply()[1] == (
        "521 5.5.2 mail.example.com Error: bare <CR> received")
    assert c.closed()


def test_a_client_that_does_not_read_is_not_answered_forever(mta):
    c = Raw(mta)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    # HELO after HELO without reading a reply: the server stops reading
    # once its unread replies pile up, so the sender soon blocks, instead
    # of the server buffering replies without bound.
    c.sock.settimeout(2)
    chunk = b"HELO x.example.org\r\n" * 5000
    sent, limit = 0, 30 * 1024 * 1024
    try:
        while sent < limit:
            c.sock.sendall(chunk)
            sent += len(chunk)
    except socket.timeout:
        pass
    assert sent < limit
    # The server is still fine for everybody else.
    d = Raw(mta)
    assert d.cmd("NOOP")[0] == 250
