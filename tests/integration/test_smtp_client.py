"""The smtp delivery agent against a fake SMTP server (FakeSMTP, written
for these tests): the dialogue, per-recipient results, PIPELINING and
its absence, ESMTP parameters, dot-stuffing, dropped connections,
timeouts and connection reuse.  qmgr is played by the test (Qmgr)."""

import os
import re
import signal
import threading

import pytest

from dirmail_fixture import wait_for
from test_smtp_client_helpers import CONTENT, FakeSMTP, Qmgr, agent
from util import free_port


@pytest.fixture
def fake():
    servers = []

    def make(**kw):
        s = FakeSMTP(**kw)
        servers.append(s)
        return s
    yield make
    for s in servers:
        s.stop()


def test_per_recipient_results(dirmail, fake):
    srv = fake(rcpt={"bad@example.net": "550 5.1.1 <bad@example.net>: "
                     "Recipient address rejected: User unknown",
                     "later@example.net": "450 4.2.0 <later@example.net>: "
                     "Recipient address rejected: Greylisted"})
    d = agent(dirmail)
    q = Qmgr(d)
    res = q.request("smtp", f"[127.0.0.1]:{srv.port}",
                    ["ok@example.net", "bad@example.net",
                     "later@example.net"])
    relay = f"127.0.0.1[127.0.0.1]:{srv.port}"
    assert res["ok@example.net"][:3] == (2, "2.0.0", relay)
    assert "queued as FAKE1" in res["ok@example.net"][3]
    assert res["bad@example.net"] == (
        5, "5.1.1", relay, "host 127.0.0.1[127.0.0.1] said: 550 5.1.1 "
        "<bad@example.net>: Recipient address rejected: User unknown "
        "(in reply to RCPT TO command)")
    assert res["later@example.net"][:2] == (4, "4.2.0")
    # One message went to the server, dot-stuffed on the wire.
    [s] = srv.sessions
    assert s["commands"][0] == "EHLO client.example.org"
    assert s["messages"] == [CONTENT.replace(b"\r\n.", b"\r\n..")]
    d.wait_log(rf"{q.qid}: to=<bad@example.net>, relay={re.escape(relay)}"
               r", delay=[0-9]\.[0-9]+, dsn=5.1.1, status=bounced")


def test_esmtp_parameters(dirmail, fake):
    srv = fake()
    d = agent(dirmail)
    q = Qmgr(d)
    res = q.request("relay", f"[127.0.0.1]:{srv.port}", ["a@example.net"],
                    attrs=["body=8BITMIME", "size=1234", "dsn_ret=HDRS",
                           "dsn_envid=env+1"],
                    notify={"a@example.net": "SUCCESS,FAILURE"},
                    orcpt={"a@example.net": "rfc822;A@Example.NET"})
    assert res["a@example.net"][0] == 2
    cmds = srv.sessions[0]["commands"]
    assert "MAIL FROM:<alice@example.org> SIZE=1234 BODY=8BITMIME " \
        "RET=HDRS ENVID=env+2B1" in cmds
    assert "RCPT TO:<a@example.net> NOTIFY=SUCCESS,FAILURE " \
        "ORCPT=rfc822;A@Example.NET" in cmds


def test_no_pipelining_and_no_dsn(dirmail, fake):
    """Without PIPELINING one command at a time; no DATA when every
    recipient is refused; no DSN parameters the server did not offer."""
    srv = fake(ehlo=("SIZE",), rcpt={"x@example.net": "550 5.1.1 no"})
    d = agent(dirmail)
    q = Qmgr(d)
    res = q.request("smtp", f"[127.0.0.1]:{srv.port}", ["x@example.net"],
                    notify={"x@example.net": "NEVER"})
    assert res["x@example.net"][:2] == (5, "5.1.1")
    cmds = srv.sessions[0]["commands"]
    assert "DATA" not in cmds
    assert "RCPT TO:<x@example.net>" in cmds


def test_helo_fallback(dirmail, fake):
    srv = fake(ehlo=None)
    d = agent(dirmail)
    res = Qmgr(d).request("smtp", f"[127.0.0.1]:{srv.port}",
                          ["a@example.net"])
    assert res["a@example.net"][0] == 2
    assert "HELO client.example.org" in srv.sessions[0]["commands"]


def test_mail_from_rejected_applies_to_all(dirmail, fake):
    srv = fake(mail_reply="553 5.7.1 <alice@example.org>: Sender "
               "address rejected")
    d = agent(dirmail)
    res = Qmgr(d).request("smtp", f"[127.0.0.1]:{srv.port}",
                          ["a@example.net", "b@example.net"])
    for r in res.values():
        assert r[:2] == (5, "5.7.1")
        assert r[3].endswith("(in reply to MAIL FROM command)")


def test_dropped_connection_defers(dirmail, fake):
    srv = fake(drop="DOT")
    d = agent(dirmail)
    res = Qmgr(d).request("smtp", f"[127.0.0.1]:{srv.port}",
                          ["a@example.net"])
    assert res["a@example.net"][:2] == (4, "4.4.2")
    assert "lost connection with host 127.0.0.1[127.0.0.1]" in \
        res["a@example.net"][3]


def test_timeout_defers(dirmail, fake):
    srv = fake(stall="DATA")
    d = agent(dirmail, {"smtp_helo_timeout": "1s"})
    res = Qmgr(d).request("smtp", f"[127.0.0.1]:{srv.port}",
                          ["a@example.net"])
    assert res["a@example.net"][:2] == (4, "4.4.2")
    assert "timed out while" in res["a@example.net"][3]


def test_connection_refused_defers(dirmail):
    port = free_port()
    d = agent(dirmail)
    q = Qmgr(d)
    res = q.request("smtp", f"[127.0.0.1]:{port}", ["a@example.net"])
    assert res["a@example.net"][:2] == (4, "4.4.1")
    d.wait_log(rf"{q.qid}: connect to 127.0.0.1\[127.0.0.1\]:{port}: "
               "Connection refused")


def test_greeting_4xx_defers(dirmail, fake):
    srv = fake(greeting="421 4.3.2 Service shutting down")
    d = agent(dirmail)
    res = Qmgr(d).request("smtp", f"[127.0.0.1]:{srv.port}",
                          ["a@example.net"])
    assert res["a@example.net"][:2] == (4, "4.3.2")
    assert "refused to talk to me: 421" in res["a@example.net"][3]


def test_connection_reuse(dirmail, fake):
    srv = fake()
    d = agent(dirmail, {"smtp_connection_cache_time_limit": "10s"})
    q = Qmgr(d)
    for rcpt in ("a@example.net", "b@example.net"):
        res = q.request("smtp", f"[127.0.0.1]:{srv.port}", [rcpt])
        assert res[rcpt][0] == 2
    [s] = srv.sessions
    assert len(s["messages"]) == 2
    assert "RSET" in s["commands"]


def test_lmtp_per_recipient_replies(dirmail, fake):
    srv = fake(lmtp=True, ehlo=("PIPELINING", "ENHANCEDSTATUSCODES"),
               dot_replies={"full@example.net": "452 4.2.2 <full@example.net>"
                            " Mailbox is full",
                            "gone@example.net": "550 5.1.1 <gone@example.net>"
                            " User doesn't exist"})
    d = agent(dirmail)
    res = Qmgr(d).request("lmtp", f"inet:127.0.0.1:{srv.port}",
                          ["ok@example.net", "full@example.net",
                           "gone@example.net"])
    assert res["ok@example.net"][0] == 2
    assert res["full@example.net"][:2] == (4, "4.2.2")
    assert res["gone@example.net"][:2] == (5, "5.1.1")
    assert srv.sessions[0]["commands"][0] == "LHLO client.example.org"


def test_size_limit_of_the_server(dirmail, fake):
    """A message larger than the server's SIZE is returned without
    being sent."""
    srv = fake(ehlo=("PIPELINING", "SIZE 100"))
    d = agent(dirmail)
    res = Qmgr(d).request("smtp", f"[127.0.0.1]:{srv.port}",
                          ["a@example.net"], attrs=["size=5000"])
    assert res["a@example.net"][:2] == (5, "5.3.4")
    assert "message size 5000 exceeds size limit 100" in \
        res["a@example.net"][3]
    assert not any(c.startswith("MAIL") for c in srv.sessions[0]["commands"])


def test_private_socket(dirmail):
    """The agent serves queue_directory/private/smtp, mode 0600."""
    import stat
    d = agent(dirmail)
    st = (d.dir / "queue" / "private" / "smtp").stat()
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600


def test_sigterm_lets_a_delivery_in_progress_finish(dirmail, fake):
    """SIGTERM while the server is still to answer the message: the
    agent waits for that answer and replies to qmgr, so the delivery is
    recorded and never made twice; then it exits."""
    srv = fake(dot_delay=1)
    d = agent(dirmail)
    pid = d.service_pid("smtp")
    q = Qmgr(d)
    res = {}
    t = threading.Thread(target=lambda: res.update(q.request(
        "smtp", f"[127.0.0.1]:{srv.port}", ["a@example.net"])))
    t.start()
    wait_for(lambda: srv.sessions and srv.sessions[0]["messages"], 10,
             what="the message at the server")
    os.kill(pid, signal.SIGTERM)
    t.join(15)
    assert res["a@example.net"][:2] == (2, "2.0.0")
    d.wait_log(r"smtp\[\d+\]: .*1 deliveries in progress")
    wait_for(lambda: pid not in d.children(), 10,
             what="the agent to exit")
