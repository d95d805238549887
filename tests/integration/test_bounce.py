"""A delivery status notification as dirmail writes it, read by a MIME
parser that is not ours (Python's email package): it must see a
multipart/report whose delivery-status fields parse and whose third part
is the returned message.

The notice comes from the unit test program tests/unit/test_bounce, which
saves the one it writes in its first test to $BOUNCE_DSN_OUT."""

import email
import email.policy
import os
import subprocess

import pytest

from util import BUILDDIR


@pytest.fixture(scope="module")
def dsn_bytes(tmp_path_factory):
    prog = BUILDDIR / "tests/unit/test_bounce"
    if not prog.exists():
        subprocess.run(["make", "-C", str(BUILDDIR), "tests/unit/test_bounce"],
                       check=True, capture_output=True, timeout=300)
    out = tmp_path_factory.mktemp("bounce") / "dsn.eml"
    env = dict(os.environ, BOUNCE_DSN_OUT=str(out))
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    run = subprocess.run([str(prog)], env=env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    return out.read_bytes()


@pytest.fixture(scope="module")
def dsn(dsn_bytes):
    return email.message_from_bytes(dsn_bytes, policy=email.policy.default)


def test_lines_are_crlf_and_short(dsn_bytes):
    lines = dsn_bytes.split(b"\r\n")
    assert lines[-1] == b""
    for line in lines:
        assert b"\n" not in line and b"\r" not in line
        assert len(line) <= 998


def test_header(dsn):
    assert dsn.get_content_type() == "multipart/report"
    assert dsn.get_param("report-type") == "delivery-status"
    assert dsn["Subject"] == "Undelivered Mail Returned to Sender"
    assert dsn["From"].addresses[0].addr_spec == \
        "MAILER-DAEMON@mail.example.net"
    assert dsn["To"].addresses[0].addr_spec == "alice@example.org"
    assert dsn["Auto-Submitted"] == "auto-replied"
    assert dsn["Date"].datetime is not None
    assert dsn["Message-Id"].endswith("@mail.example.net>")
    assert not dsn.defects


def test_parts(dsn):
    parts = list(dsn.iter_parts())
    assert [p.get_content_type() for p in parts] == [
        "text/plain", "message/delivery-status", "message/rfc822"]
    for p in parts:
        assert not p.defects
    text = parts[0].get_content()
    assert "This is the mail system at host mail.example.net." in text
    assert "<bob@example.org>: host mx.example.org[192.0.2.25] said: 550" \
        in " ".join(text.split())


def test_delivery_status_fields(dsn):
    blocks = list(dsn.iter_parts())[1].get_payload()
    assert len(blocks) == 2
    msg, rcpt = blocks
    assert msg["Reporting-MTA"] == "dns; mail.example.net"
    assert msg["X-Dirmail-Sender"] == "rfc822; alice@example.org"
    assert msg["X-Dirmail-Queue-ID"]
    assert msg["Arrival-Date"]
    assert rcpt["Final-Recipient"] == "rfc822; bob@example.org"
    assert rcpt["Original-Recipient"] == "rfc822; Bob@Example.ORG"
    assert rcpt["Action"] == "failed"
    assert rcpt["Status"] == "5.1.1"
    assert rcpt["Remote-MTA"] == "dns; mx.example.org"
    assert " ".join(rcpt["Diagnostic-Code"].split()) == (
        "smtp; 550 5.1.1 <bob@example.org>: Recipient address rejected: "
        "User unknown")
    assert rcpt["Last-Attempt-Date"]


def test_original_attached(dsn):
    orig = list(dsn.iter_parts())[2].get_payload(0)
    assert orig["Subject"] == "hello"
    assert orig["Message-Id"] == "<abc@example.org>"
    assert "SECRET-BODY-TEXT" in orig.get_content()
