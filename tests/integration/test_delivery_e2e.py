"""End to end: SMTP in through smtpd, qmgr routes, the local agent
delivers into the Maildir of an owner that authd finds in LDAP; a
virtual alias with two owners gives each a copy."""

import pytest

from dirmail_fixture import wait_for
from smtp_util import MESSAGE, Raw
from test_local import (check_maildir, ldap_instance, maildir_files,
                        tmpdirs)  # noqa: F401 (tmpdirs is a fixture)
from test_smtpd import send_ok


@pytest.fixture
def e2e(dirmail, tmp_path, smtp_cert, tmpdirs, slapd):  # noqa: F811
    return ldap_instance(dirmail, tmp_path, smtp_cert, tmpdirs, slapd,
                         services={"authd": "authd", "smtpd": "smtpd",
                                   "qmgr": "qmgr", "local": "local"})


def smtp_send(d, rcpts, body=MESSAGE):
    c = Raw(d)
    assert c.cmd("EHLO client.example.org")[0] == 250
    qid = send_ok(c, "<someone@example.org>", [f"<{r}>" for r in rcpts],
                  body=body)
    c.cmd("QUIT")
    c.close()
    return qid


def wait_maildir(d, user, count):
    maildir = d.root / user / "Maildir"
    try:
        return wait_for(lambda: len(maildir_files(maildir)) >= count and
                        maildir_files(maildir), timeout=20,
                        what=f"{count} message(s) for {user}")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{d.log()}") from None


def test_smtp_to_ldap_user_maildir(e2e):
    qid = smtp_send(e2e, ["alice@example.com"])
    files = wait_maildir(e2e, "alice", 1)
    assert len(files) == 1
    check_maildir(e2e.root / "alice" / "Maildir", e2e.owners["alice"])
    text = files[0].read_text()
    assert text.startswith("Return-Path: <someone@example.org>\n"
                           "Delivered-To: alice@example.com\n")
    assert "Hello." in text
    e2e.wait_log(rf"{qid}: to=<alice@example.com>, relay=virtual: "
                 r"delivered to maildir")
    # The queue is empty again.
    def queue_empty():
        return not any(list((e2e.dir / "queue" / sub).glob("[0-9A-F]*"))
                       for sub in ("incoming", "active", "deferred"))
    wait_for(queue_empty, what="an empty queue")


def test_alias_to_two_owners(e2e):
    smtp_send(e2e, ["staff@example.com"])
    for user in ("alice", "bob"):
        files = wait_maildir(e2e, user, 1)
        assert len(files) == 1
        assert files[0].stat().st_uid == e2e.owners[user]
        assert f"Delivered-To: {user}@example.com\n" in files[0].read_text()
