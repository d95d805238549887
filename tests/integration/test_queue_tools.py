"""dirmailctl queue list|show|delete|hold|release over messages queued
through smtpd."""

import os
import re

import pytest

from smtp_util import MESSAGE, Raw, queued_ids, smtp_instance
from test_smtpd import send_ok
from util import ctl


@pytest.fixture
def mta(dirmail, tmp_path, smtp_cert):
    return smtp_instance(dirmail, tmp_path, smtp_cert)


def send(d, sender, rcpts):
    """Queue one message through smtpd; return its queue id."""
    c = Raw(d)
    assert c.cmd("EHLO client.example.org")[0] == 250
    qid = send_ok(c, sender, rcpts)
    c.cmd("QUIT")
    c.close()
    return qid


def q(d, *args):
    return ctl("queue", *args, config=d.config)


def entries(out):
    """The list output as {id: (status, sender, [recipients])}."""
    found = {}
    blocks = out.split("\n\n")
    for block in blocks:
        lines = [l for l in block.splitlines()
                 if l and not l.startswith(("-Queue ID-", "-- "))]
        if not lines:
            continue
        m = re.match(r"([0-9A-F]+)([*! ])\s*(\d+) (.{19})  (\S+)$",
                     lines[0])
        assert m, lines[0]
        rcpts = []
        for l in lines[1:]:
            assert l.startswith(" " * 41) and l[41] != " ", l
            rcpts.append(l.strip())
        found[m.group(1)] = (m.group(2), m.group(5), rcpts)
    return found


def qpath(d, sub, qid):
    return d.dir / "queue" / sub / qid


def test_list_show_and_empty_queue(mta):
    r = q(mta, "list")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Mail queue is empty\n"
    a = send(mta, "<alice@example.com>", ["<bob@example.com>"])
    b = send(mta, "<>", ["<staff@example.com> NOTIFY=SUCCESS,FAILURE "
                         "ORCPT=rfc822;Staff@Example.COM"])
    r = q(mta, "list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == ("-Queue ID-  --Size-- ----Arrival Time---- "
                        "-Sender/Recipient-------")
    assert re.match(r"-- \d+ Kbytes in 2 Requests\.$", lines[-1])
    got = entries(r.stdout)
    assert got[a] == (" ", "alice@example.com", ["bob@example.com"])
    assert got[b] == (" ", "MAILER-DAEMON",
                      ["alice@example.com", "bob@example.com"])

    r = q(mta, "show", b)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert f"*** ENVELOPE RECORDS incoming/{b} ***" in out
    assert "message_arrival_time: " in out
    assert "sender: \n" in out
    assert "named_attribute: helo_name=client.example.org" in out
    assert "original_recipient: rfc822;Staff@Example.COM" in out
    assert "notify_flags: SUCCESS,FAILURE" in out
    assert "recipient: bob@example.com" in out
    head, body = out.split(f"*** MESSAGE CONTENTS incoming/{b} ***\n")
    assert body.startswith("Received: ")
    assert MESSAGE.replace("\r\n", "\n") in body
    assert body.endswith(f"*** MESSAGE FILE END incoming/{b} ***\n")


def test_damaged_and_dot_files_in_list(mta):
    a = send(mta, "<alice@example.com>", ["<bob@example.com>"])
    incoming = mta.dir / "queue" / "incoming"
    (incoming / ".0123456789ABCDEF").write_text("partial")
    (incoming / "0123456789ABCDEF").write_text("DMQ1 garbage")
    r = q(mta, "list")
    assert r.returncode == 0, r.stderr
    assert "0123456789ABCDEF" in r.stdout
    assert "damaged" in r.stderr
    assert ".0123456789ABCDEF" not in r.stdout + r.stderr
    assert a in entries(r.stdout.replace(
        [l for l in r.stdout.splitlines() if "(damaged)" in l][0], ""))


def test_hold_release_delete(mta):
    a = send(mta, "<alice@example.com>", ["<bob@example.com>"])
    b = send(mta, "<alice@example.com>", ["<alice@example.com>"])
    c = send(mta, "<bob@example.com>", ["<alice@example.com>"])

    r = q(mta, "hold", a)
    assert r.returncode == 0, r.stderr
    assert f"dirmailctl: {a}: placed on hold" in r.stderr
    assert "Placed on hold: 1 message" in r.stderr
    assert qpath(mta, "hold", a).exists()
    assert not qpath(mta, "incoming", a).exists()
    got = entries(q(mta, "list").stdout)
    assert got[a][0] == "!" and got[b][0] == " "

    r = q(mta, "release", a)
    assert r.returncode == 0, r.stderr
    assert f"dirmailctl: {a}: released from hold" in r.stderr
    assert qpath(mta, "incoming", a).exists()
    assert not qpath(mta, "hold", a).exists()
    assert entries(q(mta, "list").stdout)[a][0] == " "

    r = q(mta, "hold", "ALL")
    assert r.returncode == 0, r.stderr
    assert "Placed on hold: 3 messages" in r.stderr
    assert sorted(os.listdir(mta.dir / "queue" / "hold")) == sorted([a, b, c])
    r = q(mta, "release", "ALL")
    assert "Released from hold: 3 messages" in r.stderr
    assert queued_ids(mta) == sorted([a, b, c])

    r = q(mta, "delete", b)
    assert r.returncode == 0, r.stderr
    assert f"dirmailctl: {b}: removed" in r.stderr
    assert "Deleted: 1 message" in r.stderr
    assert queued_ids(mta) == sorted([a, c])
    assert b not in q(mta, "list").stdout

    r = q(mta, "delete", "ALL")
    assert r.returncode == 0, r.stderr
    assert "Deleted: 2 messages" in r.stderr
    assert queued_ids(mta) == []
    assert q(mta, "list").stdout == "Mail queue is empty\n"


def test_unknown_and_bad_ids(mta):
    a = send(mta, "<alice@example.com>", ["<bob@example.com>"])
    for op in ("show", "delete", "hold", "release"):
        r = q(mta, op, "0123456789ABCDEF")
        assert r.returncode == 1, (op, r.stderr)
        assert "no such message" in r.stderr
    outside = mta.dir / "x"
    outside.write_text("keep")
    for op in ("show", "delete", "hold", "release"):
        for bad in ("../x", "../../x", "abcdef012345", "ALL/..", ""):
            r = q(mta, op, bad)
            assert r.returncode == 64, (op, bad, r.stderr)
    r = q(mta, "show", "ALL")
    assert r.returncode == 64
    assert outside.read_text() == "keep"
    assert queued_ids(mta) == [a]
