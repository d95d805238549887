"""The IMAP engine through Python's imaplib against a running dirmaild
with authd and imapd: every RFC 3501 command after login and the
extensions (IDLE, UIDPLUS, MOVE, NAMESPACE, ID, ENABLE, UNSELECT,
CHILDREN, LITERAL+, SPECIAL-USE)."""

import imaplib
import re
import socket
import time

import pytest

from imap_util import imap_instance, mailroot  # noqa: F401 (fixture)

MSG = ("From: Alice <alice@example.com>\n"
       "To: Bob <bob@example.com>\n"
       "Subject: Hello there\n"
       "Date: Thu, 1 Feb 2024 09:00:00 +0000\n"
       "Message-ID: <1@example.com>\n"
       "\n"
       "First line.\n"
       "Second line.\n")

MIME = ("From: carol@example.com\n"
        "Subject: Parts\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=XX\n"
        "\n"
        "--XX\n"
        "Content-Type: text/plain\n"
        "\n"
        "part one\n"
        "--XX\n"
        "Content-Type: text/html\n"
        "\n"
        "<p>part two</p>\n"
        "--XX--\n")


# Commands imaplib does not know.
for _name in ("ID", "ENABLE", "MOVE", "IDLE", "FROB"):
    imaplib.Commands.setdefault(_name, ("AUTH", "SELECTED"))


@pytest.fixture
def imap(dirmail, tmp_path, mailroot):  # noqa: F811
    return imap_instance(dirmail, tmp_path, mailroot)


def ok(result):
    typ, data = result
    assert typ == "OK", data
    return data


def command(c, name, *args):
    """Run a command; a BAD reply (which imaplib raises) as ("BAD",
    [message])."""
    try:
        return c._simple_command(name, *args)
    except imaplib.IMAP4.error as e:
        if "BAD" not in str(e):
            raise
        return "BAD", [str(e).encode()]


def bye(c):
    typ, data = c.logout()
    assert typ == "BYE", data


def test_login_capability_and_logout(imap):
    c = imap.connect()
    typ, data = c.login("alice", "alice-password")
    assert typ == "OK"
    caps = ok(c.capability())[0].decode().split()
    for cap in ("IMAP4rev1", "IDLE", "UIDPLUS", "MOVE", "NAMESPACE", "ID",
                "ENABLE", "UNSELECT", "CHILDREN", "LITERAL+",
                "SPECIAL-USE"):
        assert cap in caps
    ok(c.noop())
    typ, data = c.logout()
    assert typ == "BYE"
    imap.d.wait_log(r"imap\(alice\): Logged out in=\d+ out=\d+ deleted=0 "
                    r"expunged=0")


def test_select_fetch_store_search(imap):
    imap.deliver("alice", MSG)
    imap.deliver("alice", MIME)
    c = imap.login()
    data = ok(c.select("INBOX"))
    assert data == [b"2"]
    assert c.untagged_responses.get("RECENT") == [b"2"]
    assert c.untagged_responses.get("UIDVALIDITY")
    assert c.untagged_responses.get("UIDNEXT") == [b"3"]
    assert c.untagged_responses.get("UNSEEN") == [b"1"]
    flags = c.untagged_responses["PERMANENTFLAGS"][0].decode()
    assert "\\*" in flags

    data = ok(c.fetch("1", "(FLAGS RFC822.SIZE UID INTERNALDATE)"))
    text = data[0].decode()
    size = len(MSG.replace("\n", "\r\n"))
    assert f"RFC822.SIZE {size}" in text and "UID 1" in text
    assert "\\Recent" in text and "\\Seen" not in text

    data = ok(c.fetch("1", "(ENVELOPE)"))
    assert b'"Hello there"' in data[0]
    assert b'(("Alice" NIL "alice" "example.com"))' in data[0]

    # BODY.PEEK leaves \Seen alone; BODY[] sets it and reports FLAGS.
    data = ok(c.fetch("1", "(BODY.PEEK[HEADER.FIELDS (Subject)])"))
    assert data[0][1] == b"Subject: Hello there\r\n\r\n"
    data = ok(c.fetch("1", "(FLAGS)"))
    assert b"\\Seen" not in data[0]
    data = ok(c.fetch("1", "(BODY[TEXT]<0.5>)"))
    assert data[0][1] == b"First"
    assert b"BODY[TEXT]<0>" in data[0][0]
    assert b"\\Seen" in data[0][0] + data[1]

    data = ok(c.fetch("2", "(BODYSTRUCTURE BODY.PEEK[2] BODY.PEEK[1.MIME])"))
    head = data[0][0].decode()
    assert '("text" "plain"' in head and '"mixed"' in head
    assert data[0][1] == b"<p>part two</p>"
    assert data[1][1] == b"Content-Type: text/plain\r\n\r\n"

    data = ok(c.fetch("1:*", "(UID RFC822.HEADER)"))
    assert data[0][1].startswith(b"From: Alice")

    data = ok(c.store("2", "+FLAGS", "(\\Flagged $Work)"))
    assert b"\\Flagged" in data[0] and b"$Work" in data[0]
    assert ok(c.search(None, "FLAGGED")) == [b"2"]
    assert ok(c.search(None, "KEYWORD", "$Work")) == [b"2"]
    assert ok(c.search(None, "SEEN")) == [b"1"]
    assert ok(c.search(None, "UNSEEN")) == [b"2"]
    assert ok(c.search(None, "FROM", "carol")) == [b"2"]
    assert ok(c.search(None, "BODY", "Second")) == [b"1"]
    assert ok(c.search("UTF-8", "SUBJECT", "hello")) == [b"1"]
    assert ok(c.search(None, "OR", "FLAGGED", "SEEN")) == [b"1 2"]
    assert ok(c.search(None, "NOT", "(FLAGGED)", "2:*")) == [b""]
    assert ok(c.uid("SEARCH", "UID", "2:*")) == [b"2"]
    typ, data = c.search("KOI8-R", "ALL")
    assert typ == "NO" and b"BADCHARSET" in c.untagged_responses.get(
        "BADCHARSET", [b"BADCHARSET"])[0] + b"BADCHARSET"

    data = ok(c.store("2", "FLAGS.SILENT", "(\\Deleted)"))
    assert data == [None]
    ok(c.expunge())
    assert ok(c.search(None, "ALL")) == [b"1"]
    bye(c)
    imap.d.wait_log(r"imap\(alice\): Logged out .* deleted=1 expunged=1")


def test_folders_list_status_special_use(imap):
    c = imap.login()
    data = ok(c.list())
    names = [line.decode() for line in data]
    assert any(n.endswith('"." INBOX') for n in names)
    assert any("\\Sent" in n and n.endswith("Sent") for n in names)
    assert any("\\Trash" in n for n in names)
    ok(c.create("Work.Projects"))
    ok(c.create("Archive2"))
    typ, data = c.create("Archive2")
    assert typ == "NO" and b"ALREADYEXISTS" in data[0]
    data = [x.decode() for x in ok(c.list('""', "Work%"))]
    assert data == ['(\\Noselect \\HasChildren) "." Work']
    data = [x.decode() for x in ok(c.list('""', "Work.*"))]
    assert data == ['(\\HasNoChildren) "." Work.Projects']
    data = ok(c.list('""', '""'))
    assert data == [b'(\\Noselect) "." ""']
    typ, data = c._simple_command("LIST", "(SPECIAL-USE)", '""', "*")
    assert typ == "OK"
    special = [x.decode() for x in c.untagged_responses.pop("LIST")]
    assert len(special) == 4 and all("Work" not in x for x in special)
    ok(c.subscribe("Work.Projects"))
    data = [x.decode() for x in ok(c.lsub('""', "*"))]
    assert any(x.endswith("Work.Projects") for x in data)
    assert any(x.endswith("Sent") for x in data)
    # RFC 3501 6.3.9: "%" stops at the parent, which is \Noselect.
    data = [x.decode() for x in ok(c.lsub('""', "%"))]
    assert '(\\Noselect) "." Work' in data
    assert not any("Projects" in x for x in data)
    assert [x.decode() for x in ok(c.lsub('""', "Work.%"))] == \
        ['() "." Work.Projects']
    ok(c.unsubscribe("Work.Projects"))
    assert ok(c.lsub('""', "Work*")) == [None]
    ok(c.rename("Archive2", "Old"))
    data = [x.decode() for x in ok(c.list('""', "Old"))]
    assert data == ['(\\HasNoChildren) "." Old']
    ok(c.delete("Old"))
    typ, data = c.select("Old")
    assert typ == "NO" and b"NONEXISTENT" in data[0]
    typ, data = c.create("../etc")
    assert typ == "NO"
    data = ok(c.status("INBOX", "(MESSAGES RECENT UIDNEXT UIDVALIDITY "
                                 "UNSEEN)"))
    assert re.match(rb'INBOX \(MESSAGES 0 RECENT 0 UIDNEXT 1 UIDVALIDITY '
                    rb'\d+ UNSEEN 0\)', data[0])
    bye(c)


def test_append_copy_move_uidplus(imap):
    c = imap.login()
    typ, data = c.append("INBOX", "(\\Seen $Label1)",
                         '"01-Feb-2024 10:00:00 +0100"',
                         MSG.replace("\n", "\r\n").encode())
    assert typ == "OK"
    m = re.match(rb"\[APPENDUID (\d+) 1\]", data[0])
    assert m
    typ, data = c.append("Nowhere", None, None, b"Subject: x\r\n\r\nx\r\n")
    assert typ == "NO" and b"TRYCREATE" in data[0]
    ok(c.select("INBOX"))
    data = ok(c.fetch("1", "(FLAGS INTERNALDATE)"))
    assert b"\\Seen" in data[0] and b"$Label1" in data[0]
    assert b'"01-Feb-2024 09:00:00 +0000"' in data[0]
    typ, data = c.copy("1", "Trash")
    assert typ == "OK"
    assert re.match(rb"\[COPYUID \d+ 1 1\]", data[0])
    typ, data = c.uid("MOVE", "1", "Sent")
    assert typ == "OK"
    assert ok(c.search(None, "ALL")) == [b""]
    ok(c.select("Sent", readonly=True))
    data = ok(c.fetch("1", "(BODY[HEADER.FIELDS (SUBJECT)])"))
    assert data[0][1] == b"Subject: Hello there\r\n\r\n"
    # EXAMINE: no \Seen from a plain BODY[], STORE refused.
    typ, data = c.store("1", "+FLAGS", "\\Flagged")
    assert typ == "NO"
    ok(c.unselect()) if hasattr(c, "unselect") else \
        ok(c._simple_command("UNSELECT"))
    ok(c.select("Trash"))
    ok(c.store("1", "+FLAGS", "\\Deleted"))
    typ, data = c.uid("EXPUNGE", "1")
    assert typ == "OK"
    assert ok(c.search(None, "ALL")) == [b""]
    ok(c.close())
    bye(c)


def test_namespace_id_enable_uid_errors(imap):
    c = imap.login()
    data = ok(c.namespace())
    assert data == [b'(("" ".")) NIL NIL']
    typ, data = command(c, "ID", '("name" "test")')
    assert typ == "OK"
    assert c.untagged_responses.pop("ID")
    typ, data = command(c, "ENABLE", "CONDSTORE")
    assert typ == "OK"
    c.state = "SELECTED"    # let imaplib send it unselected
    typ, data = command(c, "FETCH", "1", "FLAGS")
    assert typ == "BAD" and b"No mailbox selected" in data[0]
    ok(c.select("INBOX"))
    typ, data = command(c, "FETCH", "5", "FLAGS")
    assert typ == "BAD"
    typ, data = command(c, "UID", "FETCH", "5:*", "FLAGS")
    assert typ == "OK"
    typ, data = command(c, "FROB")
    assert typ == "BAD"
    bye(c)


def raw_session(imap, user="alice"):
    s = socket.create_connection(("127.0.0.1", imap.d.ports["imap_listen"]),
                                 timeout=10)
    f = s.makefile("rb")
    assert f.readline().startswith(b"* OK")
    s.sendall(f'l LOGIN {user} {user}-password\r\n'.encode())
    line = f.readline()
    assert line.startswith(b"l OK [CAPABILITY IMAP4rev1"), line
    return s, f


def read_tagged(f, tag):
    lines = []
    while True:
        line = f.readline()
        assert line, lines
        lines.append(line)
        if line.startswith(tag.encode() + b" "):
            return lines


def test_literals_and_limits(imap):
    s, f = raw_session(imap)
    # A huge APPEND literal is refused before any data is sent.
    s.sendall(b"a APPEND INBOX {4294967295}\r\n")
    line = f.readline()
    assert line.startswith(b"a NO [TOOBIG]"), line
    s.sendall(b"b APPEND INBOX {20480000}\r\n")
    assert f.readline().startswith(b"b NO [TOOBIG]")
    # A synchronizing literal gets "+ OK", LITERAL+ goes straight on.
    s.sendall(b"c CREATE {3}\r\n")
    assert f.readline().startswith(b"+ ")
    s.sendall(b"Box\r\n")
    assert read_tagged(f, "c")[-1].startswith(b"c OK")
    s.sendall(b"d STATUS {3+}\r\nBox (MESSAGES)\r\n")
    lines = read_tagged(f, "d")
    assert lines[0] == b"* STATUS Box (MESSAGES 0)\r\n"
    # Nesting beyond the limit is a BAD, not a crash.
    s.sendall(b"e SEARCH " + b"(" * 200 + b"ALL" + b")" * 200 + b"\r\n")
    assert read_tagged(f, "e")[-1].startswith(b"e BAD")
    s.sendall(b"f NOOP\r\n")
    assert read_tagged(f, "f")[-1].startswith(b"f OK")
    # An oversized non-synchronizing literal ends the session.
    s.sendall(b"g APPEND INBOX {99999999+}\r\n")
    assert f.readline().startswith(b"* BYE")
    assert f.readline() == b""
    s.close()


def test_large_fetch_is_streamed(imap):
    # More output than the engine buffers at once: FETCH goes on as the
    # client reads, and the next command still runs.
    bodies = []
    for i in range(4):
        body = "".join(f"{i} line {n:06d} " + "x" * 60 + "\n"
                       for n in range(4000))
        bodies.append(f"Subject: big {i}\n\n{body}")
        imap.deliver("alice", bodies[-1])
    c = imap.login()
    ok(c.select("INBOX"))
    typ, data = c.fetch("1:*", "(BODY.PEEK[])")
    assert typ == "OK"
    got = [x[1].decode().replace("\r\n", "\n") for x in data
           if isinstance(x, tuple)]
    assert sorted(got) == sorted(bodies)
    ok(c.noop())
    typ, data = c.append("INBOX", None, None,
                         bodies[0].replace("\n", "\r\n").encode())
    assert typ == "OK"
    bye(c)


def test_autologout(dirmail, tmp_path, mailroot):  # noqa: F811
    """A logged-in client that stays silent for imap_autologout (30
    minutes by default, shortened here) gets BYE and is disconnected;
    one that keeps talking is not."""
    imap = imap_instance(dirmail, tmp_path, mailroot, imap_autologout="2s")
    busy, idle = imap.login(), imap.login()
    for _ in range(3):
        ok(busy.noop())
        time.sleep(1)
    line = idle.readline()
    assert line.startswith(b"* BYE Disconnected for inactivity"), line
    assert idle.readline() == b""
    ok(busy.noop())
    imap.d.wait_log(r"imap\(alice\): Disconnected for inactivity")
