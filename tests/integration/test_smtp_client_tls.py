"""STARTTLS and AUTH of the smtp agent against a second dirmail
instance's smtpd (smtp_util.smtp_instance, which queues what it accepts):
smtp_tls_security_level encrypt, verify (against smtp_tls_CAfile and the
name; a wrong CA defers), may falling back to plaintext when the
handshake fails (a FakeSMTP written for the test), and Cyrus SASL client
authentication on the submission listener with smtp_sasl_password_maps.
qmgr is played by the test."""

import socket
import subprocess
import threading
import time

import pytest

from smtp_util import queued, smtp_instance
from dirmail_fixture import wait_for
from test_smtp_client_helpers import FakeDNS, FakeSMTP, Qmgr, agent

RCPT = "alice@example.com"


@pytest.fixture
def dest(dirmail, tmp_path, smtp_cert):
    """The destination: a dirmail smtpd with STARTTLS and AUTH."""
    return smtp_instance(dirmail, tmp_path, smtp_cert,
                         smtpd_tls_auth_only="no")


def wrong_ca(tmp_path):
    """A CA certificate that did not sign the destination's."""
    cert, key = tmp_path / "other-ca.pem", tmp_path / "other-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=mail.example.com"],
                   check=True, capture_output=True)
    return str(cert)


def test_encrypt(dirmail, dest):
    port = dest.ports["smtpd_listen"]
    d = agent(dirmail, {"smtp_tls_security_level": "encrypt"})
    q = Qmgr(d)
    res = q.request("relay", f"[127.0.0.1]:{port}", [RCPT])
    assert res[RCPT][:3] == (2, "2.0.0", f"127.0.0.1[127.0.0.1]:{port}")
    assert "queued as" in res[RCPT][3]
    d.wait_log(rf"{q.qid}: Untrusted TLS connection established to "
               rf"127.0.0.1\[127.0.0.1\]:{port}: TLSv1\.[23] with cipher ")
    [msg] = queued(dest)
    assert msg["attrs"]["protocol"] == "ESMTPS"
    assert msg["recipients"][0]["final"] == RCPT
    assert b"Subject: smtp client test" in msg["content"]


def test_verify(dirmail, dest, tmp_path, smtp_cert):
    """verify checks the chain against smtp_tls_CAfile and the name."""
    dns = FakeDNS({("mail.example.com", "A"): ["127.0.0.1"]})
    port = dest.ports["smtpd_listen"]
    d = agent(dirmail, {"smtp_tls_security_level": "verify",
                        "smtp_tls_CAfile": smtp_cert[0]},
              env=dns.env(tmp_path))
    q = Qmgr(d)
    res = q.request("relay", f"[mail.example.com]:{port}", [RCPT])
    assert res[RCPT][0] == 2, res
    d.wait_log(rf"{q.qid}: Verified TLS connection established to "
               rf"mail.example.com\[127.0.0.1\]:{port}")
    # The certificate does not name 127.0.0.1.
    res = q.request("relay", f"[127.0.0.1]:{port}", [RCPT])
    assert res[RCPT][:2] == (4, "4.7.5")
    assert len(queued(dest)) == 1
    dns.stop()


def test_verify_with_the_wrong_ca_defers(dirmail, dest, tmp_path):
    dns = FakeDNS({("mail.example.com", "A"): ["127.0.0.1"]})
    port = dest.ports["smtpd_listen"]
    d = agent(dirmail, {"smtp_tls_security_level": "verify",
                        "smtp_tls_CAfile": wrong_ca(tmp_path)},
              env=dns.env(tmp_path))
    q = Qmgr(d)
    res = q.request("relay", f"[mail.example.com]:{port}", [RCPT])
    assert res[RCPT][:2] == (4, "4.7.5")
    assert "Server certificate not trusted" in res[RCPT][3]
    d.wait_log(rf"{q.qid}: Untrusted TLS connection established")
    assert queued(dest) == []
    dns.stop()


def test_may_falls_back_to_plaintext(dirmail):
    srv = FakeSMTP(ehlo=("PIPELINING", "STARTTLS"), bad_tls=True)
    d = agent(dirmail, {"smtp_tls_security_level": "may"})
    res = Qmgr(d).request("smtp", f"[127.0.0.1]:{srv.port}", ["a@x.net"])
    assert res["a@x.net"][0] == 2
    assert len(srv.sessions) == 2
    assert "STARTTLS" not in srv.sessions[1]["commands"]
    srv.stop()


def test_encrypt_does_not_fall_back(dirmail):
    srv = FakeSMTP(ehlo=("PIPELINING", "STARTTLS"), bad_tls=True)
    d = agent(dirmail, {"smtp_tls_security_level": "encrypt"})
    res = Qmgr(d).request("smtp", f"[127.0.0.1]:{srv.port}", ["a@x.net"])
    assert res["a@x.net"][0] == 4
    assert srv.sessions[0]["messages"] == []
    srv.stop()


def sasl_agent(dirmail, tmp_path, port, password, **params):
    maps = tmp_path / "sasl_passwd"
    maps.write_text(f"[127.0.0.1]:{port} alice:{password}\n")
    conf = {"smtp_tls_security_level": "encrypt",
            "smtp_sasl_auth_enable": "yes",
            "smtp_sasl_password_maps": f"texthash:{maps}",
            "smtp_sasl_tls_security_options": "noanonymous"}
    conf.update(params)
    return agent(dirmail, conf)


def test_auth_on_submission(dirmail, dest, tmp_path):
    """Relaying to a remote domain needs the login."""
    port = dest.ports["submission_listen"]
    d = sasl_agent(dirmail, tmp_path, port, "alice-password")
    res = Qmgr(d).request("relay", f"[127.0.0.1]:{port}",
                          ["someone@remote.example"])
    assert res["someone@remote.example"][0] == 2, res
    [msg] = queued(dest)
    assert msg["attrs"]["sasl_username"] == "alice"
    assert "alice-password" not in d.log()


def test_auth_failure_defers(dirmail, dest, tmp_path):
    port = dest.ports["submission_listen"]
    d = sasl_agent(dirmail, tmp_path, port, "wrong-password")
    res = Qmgr(d).request("relay", f"[127.0.0.1]:{port}",
                          ["someone@remote.example"])
    r = res["someone@remote.example"]
    assert r[:2] == (4, "4.7.8"), r
    assert "SASL authentication failed; server 127.0.0.1[127.0.0.1] " \
        "said: 535" in r[3]
    assert queued(dest) == []
    assert "wrong-password" not in d.log()


def test_noplaintext_without_tls(dirmail, dest, tmp_path):
    """The default smtp_sasl_security_options (noplaintext) forbid PLAIN
    and LOGIN on a connection without TLS."""
    port = dest.ports["smtpd_listen"]
    d = sasl_agent(dirmail, tmp_path, port, "alice-password",
                   smtp_tls_security_level="none")
    res = Qmgr(d).request("relay", f"[127.0.0.1]:{port}",
                          ["someone@remote.example"])
    r = res["someone@remote.example"]
    assert r[:2] == (4, "4.7.0")
    assert "no mechanism available" in r[3]


@pytest.mark.parametrize("level,delivered", [("verify", True),
                                             ("secure", False)])
def test_verify_checks_the_mx_name_secure_the_nexthop(dirmail, dest,
                                                      tmp_path, smtp_cert,
                                                      level, delivered):
    """Mail for example.com goes to MX mail.example.com, the name in the
    certificate: verify accepts it, secure wants example.com itself."""
    dns = FakeDNS({("example.com", "MX"): [(10, "mail.example.com")],
                   ("mail.example.com", "A"): ["127.0.0.1"]})
    d = agent(dirmail, {"smtp_tls_security_level": level,
                        "smtp_tls_CAfile": smtp_cert[0],
                        "smtp_tcp_port": str(dest.ports["smtpd_listen"])},
              env=dns.env(tmp_path))
    res = Qmgr(d).request("smtp", "example.com", [RCPT])
    if delivered:
        assert res[RCPT][0] == 2, res
    else:
        assert res[RCPT][:2] == (4, "4.7.5"), res
        assert "Server certificate not verified" in res[RCPT][3]
    assert len(queued(dest)) == (1 if delivered else 0)
    dns.stop()


def test_a_hanging_password_table_holds_up_no_other_delivery(
        dirmail, tmp_path):
    """smtp_sasl_password_maps is looked up off the agent's event loop:
    while an ldap: table's server never answers, a delivery that needs
    no password goes out at once, and the one waiting for the table is
    deferred when the table gives up."""
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(8)              # accepts, never answers
    table = tmp_path / "hang.cf"
    table.write_text(f"server_host = ldap://127.0.0.1:"
                     f"{hole.getsockname()[1]}\n"
                     "search_base = dc=example,dc=com\n"
                     "query_filter = (mail=%s)\nresult_attribute = x\n"
                     "timeout = 3\n")
    auth = FakeSMTP(ehlo=("PIPELINING", "AUTH PLAIN LOGIN"))
    plain = FakeSMTP()
    d = agent(dirmail, {"smtp_sasl_auth_enable": "yes",
                        "smtp_sasl_password_maps": f"ldap:{table}",
                        "smtp_sasl_security_options": "noanonymous"})
    waiting = {}
    t = threading.Thread(target=lambda: waiting.update(Qmgr(d).request(
        "smtp", f"[127.0.0.1]:{auth.port}", ["a@example.net"])))
    t.start()
    wait_for(lambda: auth.sessions and "EHLO" in " ".join(
        auth.sessions[0]["commands"]), 10, what="EHLO to the AUTH server")
    start = time.monotonic()
    res = Qmgr(d).request("smtp", f"[127.0.0.1]:{plain.port}",
                          ["b@example.net"])
    assert res["b@example.net"][:2] == (2, "2.0.0")
    assert time.monotonic() - start < 2
    assert not waiting
    t.join(20)
    assert waiting["a@example.net"][:2] == (4, "4.3.0"), waiting
    assert auth.sessions[0]["messages"] == []
    d.wait_log(r"smtp_sasl_password_maps: ")
    for s in (auth, plain):
        s.stop()
    hole.close()
