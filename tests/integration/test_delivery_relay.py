"""End to end through smtpd, qmgr and the agents of a dirmail instance
("here"): relaying through relayhost with STARTTLS and AUTH into a
second dirmail instance ("there"), which is down first (deferred, then
delivered after dirmailctl queue flush); a recipient the other side
refuses comes back to the sender as a delivery status notification in
her Maildir; and kill -9 of qmgr in the middle of 1,000 deliveries loses
nothing and delivers twice at most what was in flight."""

import email
import email.policy
import os
import signal
import smtplib
import threading

import pytest

from dirmail_fixture import wait_for
from smtp_util import queued, smtp_instance, wait_greeting
from test_local import (ALICE_UID, local_instance, mail_root, make_dir,
                        maildir_files, passwd_line, tmpdirs)  # noqa: F401
from util import ctl

SERVICES = {"authd": "authd", "smtpd": "smtpd", "qmgr": "qmgr",
            "local": "local", "smtp": "smtp"}


def here_instance(dirmail, tmp_path, cert, tmpdirs, **params):
    """alice@example.com (uid 1000) has a Maildir here; 127.0.0.0/8 may
    relay; PARAMS on top."""
    root = mail_root(tmpdirs)
    home = make_dir(root / "home" / "alice", ALICE_UID, ALICE_UID)
    d = local_instance(dirmail, tmp_path / "here", cert, tmpdirs, root,
                       passwd_line("alice", ALICE_UID, home),
                       mynetworks="127.0.0.0/8", services=SERVICES,
                       **params)
    d.maildir = home / "Maildir"
    return d


def send(d, rcpt, subject="relay test", sender="alice@example.com",
         count=1):
    with smtplib.SMTP("127.0.0.1", d.ports["smtpd_listen"],
                      timeout=30) as s:
        for i in range(count):
            s.sendmail(sender, [rcpt],
                       f"From: <{sender}>\r\nTo: <{rcpt}>\r\n"
                       f"Subject: {subject}\r\nX-Seq: {i}\r\n\r\n"
                       f"message {i}\r\n")


def queue_files(d):
    return [p for sub in ("incoming", "active", "deferred")
            for p in (d.dir / "queue" / sub).glob("[0-9A-F]*")]


def there_instance(dirmail, tmp_path, cert, **params):
    """The other side: a dirmail smtpd (smtp_util.smtp_instance) that only
    queues what it accepts."""
    def named(**kw):
        return dirmail(name="there", **kw)
    return smtp_instance(named, tmp_path / "there", cert, **params)


def test_relayhost_with_auth_deferred_then_flushed(dirmail, tmp_path,
                                                   smtp_cert, tmpdirs):
    there = there_instance(dirmail, tmp_path, smtp_cert, start=False)
    port = there.ports["submission_listen"]
    secrets = tmp_path / "sasl_passwd"
    secrets.write_text(f"[127.0.0.1]:{port} alice:alice-password\n")
    here = here_instance(
        dirmail, tmp_path, smtp_cert, tmpdirs,
        relayhost=f"[127.0.0.1]:{port}",
        smtp_tls_security_level="encrypt",
        smtp_sasl_auth_enable="yes",
        smtp_sasl_password_maps=f"texthash:{secrets}",
        smtp_sasl_tls_security_options="noanonymous")
    send(here, "friend@remote.example")
    here.wait_log(r"to=<friend@remote\.example>, relay=.*status=deferred "
                  r"\(connect to 127\.0\.0\.1\[127\.0\.0\.1\]:\d+: "
                  r"Connection refused\)", timeout=30)
    listing = ctl("queue", "list", config=here.config).stdout
    assert "Connection refused" in listing and "friend@remote.example" \
        in listing

    there.start()
    wait_greeting(there, "submission_listen")
    r = ctl("queue", "flush", config=here.config)
    assert r.returncode == 0, r.stderr
    here.wait_log(r"to=<friend@remote\.example>, relay=127\.0\.0\.1"
                  r"\[127\.0\.0\.1\]:\d+, .*status=sent \(250 ", timeout=30)
    [msg] = wait_for(lambda: queued(there), what="the relayed message")
    assert msg["sender"] == "alice@example.com"
    assert msg["recipients"][0]["final"] == "friend@remote.example"
    assert msg["attrs"]["protocol"] == "ESMTPSA"
    assert msg["attrs"]["sasl_username"] == "alice"
    assert b"Subject: relay test" in msg["content"]
    wait_for(lambda: not queue_files(here), what="an empty queue here")


def test_refused_recipient_returns_a_dsn_to_the_sender(dirmail, tmp_path,
                                                       smtp_cert, tmpdirs):
    there = there_instance(dirmail, tmp_path, smtp_cert,
                           virtual_mailbox_domains="example.com "
                                                   "remote.example")
    port = there.ports["smtpd_listen"]
    here = here_instance(dirmail, tmp_path, smtp_cert, tmpdirs,
                         relayhost=f"[127.0.0.1]:{port}")
    send(here, "nosuch@remote.example", subject="to nobody")
    here.wait_log(r"to=<nosuch@remote\.example>, .*dsn=5\.1\.1, "
                  r"status=bounced", timeout=30)
    [dsn_file] = wait_for(lambda: maildir_files(here.maildir), timeout=30,
                          what="the notification in alice's Maildir")
    msg = email.message_from_bytes(dsn_file.read_bytes(),
                                   policy=email.policy.default)
    assert msg["To"] == "alice@example.com" or \
        "alice@example.com" in msg["To"]
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = list(msg.iter_parts())
    assert "nosuch@remote.example" in parts[0].get_content()
    status = parts[1].as_string()
    assert "Final-Recipient: rfc822; nosuch@remote.example" in status
    assert "Action: failed" in status and "Status: 5.1.1" in status
    assert "Diagnostic-Code: smtp; 550 5.1.1" in status
    assert "Subject: to nobody" in parts[2].as_string()
    assert queued(there) == []
    wait_for(lambda: not queue_files(here), what="an empty queue here")


def test_kill_9_of_qmgr_during_1000_deliveries(dirmail, tmp_path,
                                               smtp_cert, tmpdirs):
    n = 1000
    here = here_instance(dirmail, tmp_path, smtp_cert, tmpdirs)
    killed = []

    def killer():
        wait_for(lambda: len(maildir_files(here.maildir)) >= 150,
                 timeout=120, interval=0.01, what="150 deliveries")
        pid = here.service_pid("qmgr")
        os.kill(pid, signal.SIGKILL)
        killed.append((pid, len(maildir_files(here.maildir))))
    t = threading.Thread(target=killer)
    t.start()
    send(here, "alice@example.com", count=n)
    t.join()
    assert killed and killed[0][1] < n, "qmgr was not killed mid-way"
    wait_for(lambda: here.service_pid("qmgr") not in (None, killed[0][0]),
             timeout=30, what="qmgr restarted")
    wait_for(lambda: not queue_files(here), timeout=120, interval=0.2,
             what="an empty queue")
    seqs = []
    for f in maildir_files(here.maildir):
        for line in f.read_text().splitlines():
            if line.startswith("X-Seq: "):
                seqs.append(int(line[7:]))
                break
    assert sorted(set(seqs)) == list(range(n)), "a message was lost"
    # Only what was in flight at the kill may come twice (at most one
    # request per message, default_destination_concurrency_limit 20).
    assert len(seqs) - n <= 20, f"{len(seqs) - n} duplicates"


def test_reused_queue_files_carry_only_their_message(dirmail, tmp_path,
                                                     smtp_cert, tmpdirs):
    """qmgr retires delivered queue files to queue/spare/ and smtpd writes
    new messages into them: a short message in a file that held a long
    one arrives without the old tail."""
    here = here_instance(dirmail, tmp_path, smtp_cert, tmpdirs)
    spare = here.dir / "queue" / "spare"
    n = 60
    with smtplib.SMTP("127.0.0.1", here.ports["smtpd_listen"],
                      timeout=30) as s:
        for i in range(n):
            body = (f"line {i}\r\n" * 5000) if i % 2 == 0 else \
                f"short {i}\r\n"
            s.sendmail("alice@example.com", ["alice@example.com"],
                       f"Subject: reuse\r\nX-Seq: {i}\r\n\r\n{body}")
            wait_for(lambda: len(maildir_files(here.maildir)) == i + 1,
                     timeout=30, interval=0.02, what=f"message {i}")
    bodies = {}
    for f in maildir_files(here.maildir):
        msg = email.message_from_bytes(f.read_bytes())
        bodies[int(msg["X-Seq"])] = msg.get_payload()
    assert sorted(bodies) == list(range(n))
    for i, body in bodies.items():
        want = (f"line {i}\n" * 5000) if i % 2 == 0 else f"short {i}\n"
        assert body.replace("\r\n", "\n") == want, f"message {i}"
    wait_for(lambda: not queue_files(here), what="an empty queue")
    # Without reuse spare/ would hold all 60 retired files.
    assert 0 < len(list(spare.iterdir())) < n // 2
