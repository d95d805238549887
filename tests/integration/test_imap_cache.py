"""The folder cache (dirmail-cache) seen through IMAP: a second session
gets the same ENVELOPE, BODY and BODYSTRUCTURE bytes as the first without
reading the messages again; a cache file with garbage appended, cut short
or replaced by junk gives the right answers; a cached message that is
gone never lends its ENVELOPE to the message that now has its UID."""

import os
import re

import pytest

from imap_util import USERS, ImapSession, imap_instance, mailroot  # noqa: F401 (fixture)

SIMPLE = ("From: Alice Martin <alice@example.com>\n"
          "To: Bob <bob@example.com>, carol@example.net\n"
          "Cc: Team: dave@example.org, eve@example.org;\n"
          "Subject: =?utf-8?q?Caf=C3=A9?= meeting\n"
          "Date: Thu, 1 Feb 2024 23:30:00 -0500\n"
          "Message-ID: <1@example.com>\n"
          "In-Reply-To: <0@example.com>\n"
          "\n"
          "First line.\n")

MIME = ("From: carol@example.com\n"
        "Subject: Parts\n"
        "Date: Mon, 5 Feb 2024 10:00:00 +0100\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=XX\n"
        "\n"
        "--XX\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "\n"
        "part one\n"
        "--XX\n"
        "Content-Type: message/rfc822\n"
        "\n"
        "From: inner@example.com\n"
        "Subject: inner\n"
        "\n"
        "inner body\n"
        "--XX--\n")

NODATE = "From: x@example.com\nSubject: no date\n\nbody\n"

ITEMS = "(UID FLAGS ENVELOPE BODY BODYSTRUCTURE)"


@pytest.fixture
def imap(dirmail, tmp_path, mailroot):  # noqa: F811
    return imap_instance(dirmail, tmp_path, mailroot)


class Raw(ImapSession):
    """A logged-in session at the byte level, literals included."""

    n = 0

    def cmd(self, text):
        """The untagged responses of TEXT as bytes; asserts OK."""
        self.n += 1
        tag = b"c%d" % self.n
        self.send(f"c{self.n} {text}")
        out = b""
        while True:
            line = self.f.readline()
            assert line, out
            m = re.search(rb"\{(\d+)\}\r\n$", line)
            if m:
                line += self.f.read(int(m.group(1)))
            if line.startswith(tag + b" "):
                assert line.startswith(tag + b" OK"), (text, line, out)
                return out
            out += line

    def close(self):
        try:
            self.cmd("LOGOUT")
        except AssertionError:
            pass
        self.s.close()


def session(imap, *commands):
    """Run COMMANDS in a new session on INBOX; their outputs."""
    c = Raw(imap)
    try:
        c.cmd("SELECT INBOX")
        return [c.cmd(x) for x in commands]
    finally:
        c.close()


def cache_path(imap):
    return imap.maildir("alice") / "dirmail-cache"


def deliver(imap, *texts):
    """Deliver TEXTS and take their \\Recent, so that every later session
    shows the same flags."""
    for text in texts:
        imap.deliver("alice", text)
    session(imap, "NOOP")


def fill(imap):
    deliver(imap, SIMPLE, MIME, NODATE)


def test_second_session_same_bytes_without_reading(imap):
    fill(imap)
    first = session(imap, f"FETCH 1:* {ITEMS}", "SEARCH SENTON 1-Feb-2024",
                    "SEARCH SENTSINCE 5-Feb-2024")
    assert first[0].count(b"FETCH") == 3
    assert b'"=?utf-8?q?Caf=C3=A9?= meeting"' in first[0]
    assert b'("inner@example.com"' not in first[0]  # sanity of the test
    assert b'"message" "rfc822"' in first[0].lower()
    # Date as written: 1 Feb 23:30 -0500 is 1 Feb, not 2 Feb.
    assert first[1] == b"* SEARCH 1\r\n"
    # The message without Date: goes by its internal date (today).
    assert first[2] == b"* SEARCH 2 3\r\n"
    assert cache_path(imap).stat().st_size > 100

    # The messages cannot be read any more: the cache answers alone.
    cur = imap.maildir("alice") / "cur"
    for name in os.listdir(cur):
        os.chmod(cur / name, 0)
    try:
        second = session(imap, f"FETCH 1:* {ITEMS}",
                         "SEARCH SENTON 1-Feb-2024",
                         "SEARCH SENTSINCE 5-Feb-2024")
    finally:
        for name in os.listdir(cur):
            os.chmod(cur / name, 0o600)
    assert second == first
    # Without the cache the same FETCH needs the files (so the check above
    # proves the cache was used).
    cache_path(imap).unlink()
    for name in os.listdir(cur):
        os.chmod(cur / name, 0)
    try:
        c = Raw(imap)
        c.cmd("SELECT INBOX")
        c.s.sendall(b"x FETCH 1 ENVELOPE\r\n")
        while not (line := c.f.readline()).startswith(b"x "):
            pass
        assert line.startswith(b"x NO"), line
        c.close()
    finally:
        for name in os.listdir(cur):
            os.chmod(cur / name, 0o600)


@pytest.mark.parametrize("damage", ["garbage", "fake-record", "cut",
                                    "header", "junk"])
def test_damaged_cache_gives_right_answers(imap, damage):
    fill(imap)
    first = session(imap, f"FETCH 1:* {ITEMS}")
    path = cache_path(imap)
    data = path.read_bytes()
    if damage == "garbage":
        data += os.urandom(3000)
    elif damage == "fake-record":
        # A length that fits, a UID and field that exist, a bad check.
        data += (b"\x40\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00"
                 b"\x00\x00\x00\x00\x00\x00\x00\x00" + b"X" * 44)
    elif damage == "cut":
        data = data[:len(data) // 2 + 7]
    elif damage == "header":
        data = data[:5]
    else:
        data = os.urandom(len(data))
    path.write_bytes(data)
    # Twice: the second session reads what the first one repaired.
    assert session(imap, f"FETCH 1:* {ITEMS}") == first
    deliver(imap, SIMPLE.replace("meeting", "lunch"))
    out = session(imap, f"FETCH 1:* {ITEMS}")
    assert out[0].startswith(first[0]) and b" lunch" in out[0]
    assert session(imap, f"FETCH 1:* {ITEMS}") == out


def test_expunged_message_does_not_leak(imap):
    imap.deliver("alice", SIMPLE)
    first = session(imap, "FETCH 1 ENVELOPE")[0]
    assert b"meeting" in first
    session(imap, "STORE 1 +FLAGS (\\Deleted)", "EXPUNGE")
    # The index is lost: UIDs start again with a new UIDVALIDITY.
    (imap.maildir("alice") / "dirmail-uidlist").unlink()
    imap.deliver("alice", MIME)
    out = session(imap, "FETCH 1:* (UID ENVELOPE)")[0]
    assert b"UID 1 " in out and b'"Parts"' in out and b"meeting" not in out


def test_same_uid_other_file_is_not_taken(imap):
    """An index that names another file for a cached UID (restored from a
    backup, edited by hand) with the same UIDVALIDITY."""
    imap.deliver("alice", SIMPLE)
    assert b"meeting" in session(imap, "FETCH 1 ENVELOPE")[0]
    md = imap.maildir("alice")
    [old] = os.listdir(md / "cur")
    new = imap.deliver("alice", MIME)
    os.unlink(md / "cur" / old)
    base = new.name
    uidlist = md / "dirmail-uidlist"
    text = uidlist.read_text()
    text = re.sub(r"(?m)^1 \d+ \d+ (\d+) .*$",
                  lambda m: f"1 {len(MIME)} {len(MIME) + MIME.count(chr(10))}"
                  f" {m.group(1)} {base}", text)
    uidlist.write_text(text)
    os.chown(uidlist, USERS["alice"], USERS["alice"])
    out = session(imap, "FETCH 1:* (UID ENVELOPE)")[0]
    assert b"* 1 FETCH (UID 1 ENVELOPE" in out, out
    assert b'"Parts"' in out and b"meeting" not in out, out
