"""IMAP sessions that share a folder: two imaplib sessions seeing each
other's flag changes and expunges, IDLE woken by a message put into the
Maildir and by one that dirmail's own smtpd, qmgr and local deliver,
with the keep-alive while idling."""

import re
import time

import pytest

from imap_util import ImapSession, imap_instance, mailroot  # noqa: F401 (fixture)
from smtp_util import smtp_params, smtp_cert, write_tables  # noqa: F401
from test_delivery_e2e import smtp_send

MSG = "From: a@example.com\nSubject: m\n\nbody\n"


@pytest.fixture
def imap(dirmail, tmp_path, mailroot):  # noqa: F811
    return imap_instance(dirmail, tmp_path, mailroot)


class Raw(ImapSession):
    """A logged-in IMAP session at the byte level (for IDLE)."""

    def __init__(self, imap, user="alice"):
        super().__init__(imap, user, timeout=10)

    def cmd(self, text, tag="t"):
        self.send(f"{tag} {text}")
        lines = []
        while True:
            line = self.f.readline()
            assert line, lines
            lines.append(line.decode())
            if line.startswith(tag.encode() + b" "):
                assert line.startswith(tag.encode() + b" OK"), lines
                return lines

    def wait_line(self, regex, timeout):
        """The first line matching REGEX within TIMEOUT seconds, with the
        time it came."""
        self.s.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.f.readline().decode()
            if re.search(regex, line):
                return line, time.time()
        raise AssertionError(f"no {regex!r} within {timeout}s")

    def close(self):
        self.s.close()


def test_two_sessions_see_each_others_changes(imap):
    imap.deliver("alice", MSG)
    imap.deliver("alice", MSG)
    a = imap.login()
    b = imap.login()
    assert a.select("INBOX")[1] == [b"2"]
    assert b.select("INBOX")[1] == [b"2"]

    a.store("1", "+FLAGS", "(\\Flagged)")
    typ, _ = b.noop()
    assert typ == "OK"
    fetches = b.untagged_responses.pop("FETCH", [])
    assert any(re.match(rb"1 \(FLAGS \(.*\\Flagged", x) for x in fetches), \
        fetches

    a.store("2", "+FLAGS", "(\\Deleted)")
    a.expunge()
    b.noop()
    assert b.untagged_responses.pop("EXPUNGE", []) == [b"2"]
    # B's view follows: one message left, its flags as A set them.
    typ, data = b.fetch("1:*", "(FLAGS)")
    assert typ == "OK" and len(data) == 1 and b"\\Flagged" in data[0]

    # No EXPUNGE in the middle of a FETCH: it waits for the next NOOP.
    b.store("1", "+FLAGS", "(\\Deleted)")
    b.expunge()
    typ, data = a.fetch("1", "(FLAGS)")
    assert "EXPUNGE" not in a.untagged_responses
    a.noop()
    assert a.untagged_responses.pop("EXPUNGE", []) == [b"1"]
    a.logout()
    b.logout()


def test_idle_sees_new_mail_and_keepalive(dirmail, tmp_path,
                                          mailroot):  # noqa: F811
    imap = imap_instance(dirmail, tmp_path, mailroot,
                         imap_idle_notify_interval="1s")
    c = Raw(imap)
    c.cmd("SELECT INBOX")
    c.send("i IDLE")
    assert c.f.readline().startswith(b"+ ")
    c.wait_line(r"^\* OK Still here", 3)
    imap.deliver("alice", MSG)
    start = time.time()
    _, when = c.wait_line(r"^\* 1 EXISTS", 3)
    assert when - start < 1.0
    # A flag change by another session shows up too.
    other = imap.login()
    other.select("INBOX")
    other.store("1", "+FLAGS", "(\\Answered)")
    c.wait_line(r"^\* 1 FETCH \(FLAGS \(.*\\Answered", 3)
    other.logout()
    c.send("DONE")
    c.wait_line(r"^i OK", 3)
    c.close()


def test_idle_sees_mail_delivered_by_smtpd(dirmail, tmp_path, mailroot,
                                           smtp_cert):  # noqa: F811
    conf = smtp_params(write_tables(tmp_path / "smtp-tables"), smtp_cert)
    for key in ("passdb", "userdb"):
        conf.pop(key)
    imap = imap_instance(
        dirmail, tmp_path, mailroot,
        listen=["imap_listen", "smtpd_listen"],
        services={"authd": "authd", "imapd": "imapd", "smtpd": "smtpd",
                  "qmgr": "qmgr", "local": "local"}, **conf)
    c = Raw(imap)
    c.cmd("SELECT INBOX")
    c.send("i IDLE")
    assert c.f.readline().startswith(b"+ ")
    smtp_send(imap.d, ["alice@example.com"])
    new = imap.maildir("alice") / "new"
    cur = imap.maildir("alice") / "cur"
    _, when = c.wait_line(r"^\* 1 EXISTS", 20)
    files = list(new.iterdir()) + list(cur.iterdir())
    assert len(files) == 1
    # Within a second of the file's arrival in the Maildir.
    assert when - files[0].stat().st_mtime < 1.0
    c.send("DONE")
    c.wait_line(r"^i OK", 3)
    lines = c.cmd("FETCH 1 (BODY.PEEK[HEADER.FIELDS (DELIVERED-TO)])")
    assert "Delivered-To: alice@example.com\r\n" in lines
    c.close()
