"""smtpd's defences: SMTP smuggling, STARTTLS injection, TLS on the three
listeners, AUTH only where and when it belongs, and the rate limits."""

import re
import smtplib
import socket
import ssl
import subprocess

import pytest

from smtp_util import (MESSAGE, Raw, b64, client_context, plain, queued,
                       smtp_instance)

# The address the limit tests connect from (see Raw).
CLIENT = "127.0.0.2"


@pytest.fixture
def mta(dirmail, tmp_path, smtp_cert):
    return smtp_instance(dirmail, tmp_path, smtp_cert)


def open_data(c):
    c.cmd("EHLO x.example.org")
    assert c.cmd("MAIL FROM:<alice@example.com>")[0] == 250
    assert c.cmd("RCPT TO:<bob@example.com>")[0] == 250
    assert c.cmd("DATA")[0] == 354


# Each payload tries to end DATA early and smuggle a second message.
SMUGGLING = [
    b"\n.\n",
    b"\n.\r\n",
    b"\r\n.\n",
    b"\r.\r",
    b"\r.\n",
    b"\n.\r",
    b"\r.\r\n",
    b"\r\n.\r",
    b"\r\n.\r\r\n",
    b"\r\r\n.\r\r\n",
]


@pytest.mark.parametrize("end", SMUGGLING, ids=lambda b: repr(b))
def test_smuggling_payload_is_refused(mta, end):
    c = Raw(mta)
    open_data(c)
    c.send(b"Subject: first\r\n\r\nhello" + end +
           b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<alice@example.com>\r\n"
           b"DATA\r\nSubject: smuggled\r\n\r\n.\r\n")
    code, text = c.reply()
    assert code == 521, text
    assert "bare" in text
    assert c.closed()
    assert queued(mta) == []
    assert re.search(r"bare <(LF|CR)> received", mta.log())


@pytest.mark.parametrize("end", SMUGGLING[:6], ids=lambda b: repr(b))
def test_smuggling_with_bare_newlines_normalized(dirmail, tmp_path,
                                                 smtp_cert, end):
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      smtpd_forbid_bare_newline="normalize")
    c = Raw(d)
    open_data(c)
    c.send(b"Subject: first\r\n\r\nhello" + end +
           b"MAIL FROM:<evil@example.org>\r\n.\r\n")
    code, text = c.reply()
    # Only the real <CR><LF>.<CR><LF> ended it: one message, holding
    # the would-be command as text.
    assert code == 250, text
    files = queued(d)
    assert len(files) == 1
    assert b"MAIL FROM:<evil@example.org>" in files[0]["content"]


def test_nul_and_double_dot_are_text(mta):
    c = Raw(mta)
    open_data(c)
    c.send(b"Subject: x\r\n\r\n\x00.\r\n.\x00\r\n..\r\n.\r\n")
    assert c.reply()[0] == 250
    assert queued(mta)[0]["content"].endswith(
        b"\r\n\r\n\x00.\r\n\x00\r\n.\r\n")


def test_bare_lf_in_a_command_is_refused(mta):
    c = Raw(mta)
    c.send("EHLO x.example.org\n")
    assert c.reply()[1] == (
        "521 5.5.2 mail.example.com Error: bare <LF> received")
    assert c.closed()


def test_connection_lost_in_data_queues_nothing(mta):
    c = Raw(mta)
    open_data(c)
    c.send(MESSAGE)
    c.close()
    mta.wait_log(r"lost connection after DATA|disconnect from")
    assert queued(mta) == []


def test_starttls_injection_is_discarded(mta):
    c = Raw(mta)
    c.cmd("EHLO x.example.org")
    # The RSET rides in the same packet as STARTTLS: it must never be
    # answered, neither in plaintext nor inside TLS.
    c.send("STARTTLS\r\nRSET\r\n")
    code, text = c.reply()
    assert code == 220, text
    c.sock = client_context().wrap_socket(c.sock,
                                          server_hostname="mail.example.com")
    code, text = c.cmd("EHLO x.example.org")
    assert code == 250 and text.startswith("250-mail.example.com"), text
    assert "plaintext sent after STARTTLS discarded" in mta.log()


def test_tls_on_all_three_listeners(mta):
    with smtplib.SMTP("127.0.0.1", mta.ports["smtpd_listen"]) as s:
        s.starttls(context=client_context())
        s.ehlo("x.example.org")
        assert s.sendmail("a@example.org", ["bob@example.com"], MESSAGE) == {}
    with smtplib.SMTP("127.0.0.1", mta.ports["submission_listen"]) as s:
        s.starttls(context=client_context())
        s.login("alice", "alice-password")
        assert s.sendmail("alice@example.com", ["x@remote.example"],
                          MESSAGE) == {}
    with smtplib.SMTP_SSL("127.0.0.1", mta.ports["smtps_listen"],
                          context=client_context()) as s:
        s.login("bob", "bob-password")
        assert s.sendmail("bob@example.com", ["y@remote.example"],
                          MESSAGE) == {}
    protos = sorted(q["attrs"]["protocol"] for q in queued(mta))
    assert protos == ["ESMTPS", "ESMTPSA", "ESMTPSA"]
    r = subprocess.run(["openssl", "s_client", "-connect",
                        f"127.0.0.1:{mta.ports['smtpd_listen']}",
                        "-starttls", "smtp", "-tls1_1"],
                       input="QUIT\n", capture_output=True, text=True,
                       timeout=30)
    assert "Cipher is (NONE)" in r.stdout or r.returncode != 0


def test_second_starttls_is_refused(mta):
    c = Raw(mta)
    c.cmd("EHLO x.example.org")
    c.starttls()
    c.cmd("EHLO x.example.org")
    assert c.cmd("STARTTLS")[1] == "554 5.5.1 Error: TLS already active"


def test_submission_refuses_auth_before_starttls(mta):
    c = Raw(mta, "submission_listen")
    code, text = c.cmd("EHLO x.example.org")
    assert "AUTH" not in text and "STARTTLS" in text
    assert c.cmd("AUTH PLAIN " + plain("alice", "alice-password"))[1] == (
        "503 5.5.1 Error: authentication not enabled")
    assert c.cmd("MAIL FROM:<alice@example.com>")[1] == (
        "530 5.7.0 Authentication required")
    c.starttls()
    code, text = c.cmd("EHLO x.example.org")
    assert "250-AUTH PLAIN LOGIN" in text
    assert c.cmd("MAIL FROM:<alice@example.com>")[1] == (
        "530 5.7.0 Authentication required")


def test_auth_plain_login_cancel_and_failure(mta):
    c = Raw(mta, "submission_listen")
    c.cmd("EHLO x.example.org")
    c.starttls()
    c.cmd("EHLO x.example.org")
    code, text = c.cmd("AUTH PLAIN " + plain("alice", "wrong"))
    assert text.startswith("535 5.7.8 Error: authentication failed"), text
    assert c.cmd("AUTH LOGIN")[0] == 334
    assert c.cmd("*")[1] == "501 5.7.0 Authentication aborted"
    assert c.cmd("AUTH PLAIN")[1] == "334 "
    assert c.cmd(plain("alice", "alice-password"))[1] == (
        "235 2.7.0 Authentication successful")
    assert c.cmd("AUTH PLAIN x")[1] == "503 5.5.1 Error: already authenticated"
    # Authenticated: relaying is allowed.
    assert c.cmd("MAIL FROM:<alice@example.com>")[0] == 250
    assert c.cmd("RCPT TO:<someone@remote.example>")[0] == 250
    assert re.search(r"sasl_method=PLAIN, sasl_username=alice", mta.log())
    c2 = Raw(mta, "smtps_listen", tls=True)
    c2.cmd("EHLO x.example.org")
    assert c2.cmd("AUTH LOGIN")[1] == "334 VXNlcm5hbWU6"
    assert c2.cmd(b64("bob"))[1] == "334 UGFzc3dvcmQ6"
    assert c2.cmd(b64("bob-password"))[0] == 235


def test_mx_offers_auth_only_after_starttls(dirmail, tmp_path, smtp_cert):
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      broken_sasl_auth_clients="yes")
    c = Raw(d)
    assert "AUTH" not in c.cmd("EHLO x.example.org")[1]
    c.starttls()
    text = c.cmd("EHLO x.example.org")[1]
    assert "250-AUTH PLAIN LOGIN" in text and "250-AUTH=PLAIN LOGIN" in text


def test_noplaintext_hides_plain_and_login(dirmail, tmp_path, smtp_cert):
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      smtpd_tls_auth_only="no",
                      smtpd_sasl_security_options="noanonymous, noplaintext",
                      smtpd_sasl_tls_security_options="noanonymous")
    c = Raw(d)
    assert "AUTH" not in c.cmd("EHLO x.example.org")[1]
    c.starttls()
    assert "AUTH PLAIN LOGIN" in c.cmd("EHLO x.example.org")[1]


def test_authd_down_gives_454_or_no_auth(dirmail, tmp_path, smtp_cert):
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      smtpd_sasl_path=str(tmp_path / "nothing-here"))
    c = Raw(d, "submission_listen")
    c.cmd("EHLO x.example.org")
    c.starttls()
    assert "AUTH" not in c.cmd("EHLO x.example.org")[1]
    assert "SASL: the auth server cannot be reached" in d.log()


def test_encrypt_level_requires_starttls(dirmail, tmp_path, smtp_cert):
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      smtpd_tls_security_level="encrypt")
    c = Raw(d)
    c.cmd("EHLO x.example.org")
    assert c.cmd("MAIL FROM:<a@example.org>")[1] == (
        "530 5.7.0 Must issue a STARTTLS command first")
    c.starttls()
    c.cmd("EHLO x.example.org")
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250


def test_connection_rate_and_count_limits(dirmail, tmp_path, smtp_cert):
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      smtpd_client_connection_rate_limit="3",
                      smtpd_client_event_limit_exceptions="")
    # From 127.0.0.2: the start-up probes from 127.0.0.1 do not count.
    codes = []
    for _ in range(4):
        c = Raw(d, greet=False, source=CLIENT)
        codes.append(c.reply())
        c.close()
    assert [code for code, _ in codes] == [220, 220, 220, 421]
    assert codes[-1][1] == ("421 4.7.0 mail.example.com Error: too many "
                            "connections from 127.0.0.2")
    assert re.search(r"Connection rate limit exceeded: 4 from "
                     r"\S*\[127\.0\.0\.2\]", d.log())
    # Another client is not affected.
    Raw(d, source="127.0.0.3").close()


def test_connection_count_limit(dirmail, tmp_path, smtp_cert):
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      smtpd_client_connection_count_limit="2",
                      smtpd_client_event_limit_exceptions="")
    a, b = Raw(d, source=CLIENT), Raw(d, source=CLIENT)
    c = Raw(d, greet=False, source=CLIENT)
    assert c.reply()[1].startswith("421 4.7.0 mail.example.com Error: too "
                                   "many connections from 127.0.0.2")
    a.close()
    b.close()


def test_message_and_auth_rate_limits(dirmail, tmp_path, smtp_cert):
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      smtpd_client_message_rate_limit="1",
                      smtpd_client_auth_rate_limit="1",
                      smtpd_client_event_limit_exceptions="")
    c = Raw(d)
    c.cmd("EHLO x.example.org")
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    c.cmd("RSET")
    assert c.cmd("MAIL FROM:<a@example.org>")[1] == (
        "450 4.7.1 Error: too much mail from 127.0.0.1")
    s = Raw(d, "submission_listen")
    s.cmd("EHLO x.example.org")
    s.starttls()
    s.cmd("EHLO x.example.org")
    assert s.cmd("AUTH PLAIN " + plain("alice", "wrong"))[0] == 535
    assert s.cmd("AUTH PLAIN " + plain("alice", "alice-password"))[1] == (
        "450 4.7.1 Error: too many AUTH commands from 127.0.0.1")


def test_mynetworks_clients_are_exempt_from_rate_limits(dirmail, tmp_path,
                                                        smtp_cert):
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      mynetworks="127.0.0.0/8",
                      smtpd_client_connection_rate_limit="1")
    for _ in range(3):
        c = Raw(d)
        c.cmd("QUIT")


@pytest.mark.parametrize("listener", ["smtpd_listen", "smtps_listen"])
def test_last_reply_over_tls_arrives_before_the_close(mta, listener):
    c = Raw(mta, listener, tls=listener == "smtps_listen")
    c.cmd("EHLO x.example.org")
    if listener == "smtpd_listen":
        c.starttls()
    assert c.cmd("QUIT")[1] == "221 2.0.0 Bye"
    assert c.closed()


def test_nul_in_a_command_is_refused(mta):
    c = Raw(mta)
    c.send(b"HELO x.example.org\x00MAIL FROM:<a@example.org>\r\n")
    assert c.reply()[1] == "500 5.5.2 Error: NUL character in command"
    assert c.cmd("NOOP")[0] == 250
