"""sendmail, mailq and newaliases against a running smtpd: messages go
through the pickup socket into incoming/ (no qmgr), where the tests read
them; the submitter's identity comes from SO_PEERCRED."""

import os
import pathlib
import pwd
import re
import shutil
import subprocess
import tempfile

import pytest

from smtp_util import wait_greeting, queued, smtp_instance
from util import ctl, program

ORIGIN = "origin.example"


@pytest.fixture
def mta(dirmail, tmp_path, smtp_cert):
    """smtpd with a pickup socket any local user can reach: the socket,
    a copy of the configuration and links named mailq and newaliases sit
    in a world-readable directory."""
    pub = pathlib.Path(tempfile.mkdtemp(prefix="dirmail-pickup-"))
    pub.chmod(0o755)
    d = smtp_instance(dirmail, tmp_path, smtp_cert, start=False,
                      pickup_listen=f"unix:{pub}/pickup:0666",
                      showq_listen=f"unix:{pub}/showq:0666",
                      myorigin=ORIGIN)
    d.link_services({"showq": "showq"})
    d.start()
    wait_greeting(d)
    d.pub = pub
    shutil.copy(d.config, pub / "dirmail.cf")
    (pub / "dirmail.cf").chmod(0o644)
    for name in ("sendmail", "mailq", "newaliases"):
        (pub / name).symlink_to(program("sendmail"))
    yield d
    shutil.rmtree(pub, ignore_errors=True)
    # smtpd's pickup code ran under the sanitizers: nothing to report.
    assert "Sanitizer" not in d.log() and "runtime error" not in d.log()


def run(d, *args, input=b"", name="sendmail", user=None, env=None):
    """Run PUB/NAME (sendmail or a link) with ARGS; as USER when given."""
    cmd = [str(d.pub / name), *[str(a) for a in args]]
    if user is not None:
        cmd = ["runuser", "-u", user, "--"] + cmd
    full_env = dict(os.environ)
    full_env["DIRMAIL_CONFIG"] = str(d.pub / "dirmail.cf")
    full_env["ASAN_OPTIONS"] = "detect_leaks=0"
    full_env.update(env or {})
    if isinstance(input, str):
        input = input.encode()
    return subprocess.run(cmd, input=input, capture_output=True,
                          timeout=30, env=full_env)


def only_message(d):
    msgs = queued(d)
    assert len(msgs) == 1, msgs
    return msgs[0]


def rcpts(msg):
    return [r["final"] for r in msg["recipients"]]


def header(content):
    """The header part of CONTENT (bytes) as text."""
    return content.split(b"\r\n\r\n", 1)[0].decode()


def test_sender_recipients_and_local_headers(mta):
    r = run(mta, "-f", "alice@example.com", "bob@example.com",
            "carol@example.org", input="Subject: hi\n\nbody line\n")
    assert r.returncode == 0, r.stderr
    msg = only_message(mta)
    qid = msg["id"]
    assert msg["sender"] == "alice@example.com"
    assert rcpts(msg) == ["bob@example.com", "carol@example.org"]
    assert msg["attrs"]["uid"] == "0"
    assert msg["attrs"]["login"] == "root"
    text = msg["content"]
    assert re.match(rb"Received: by mail\.example\.com \(dirmail, from "
                    rb"userid 0\)\r\n\tid " + qid.encode() + rb"; \w\w\w, ",
                    text), text
    head = header(text)
    assert "\r\nSubject: hi\r\n" in head
    assert re.search(r"\r\nMessage-Id: <\d{14}\." + qid + r"@mail\.example"
                     r"\.com>\r\n", head), head
    assert re.search(r"\r\nDate: \w\w\w, \d\d \w\w\w \d{4} ", head), head
    assert "\r\nFrom: alice@example.com\r\n" in head
    assert "\r\nTo: undisclosed-recipients:;" in head
    assert text.endswith(b"\r\n\r\nbody line\r\n")
    mta.wait_log(rf"{qid}: uid=0 from=<alice@example\.com>")


def test_default_sender_and_present_headers_kept(mta):
    msg_in = ("From: Someone <someone@example.net>\n"
              "Date: Mon, 1 Jan 2024 00:00:00 +0000\n"
              "Message-Id: <x@y>\nTo: bob@example.com\n\nhello\n")
    r = run(mta, "bob@example.com", input=msg_in)
    assert r.returncode == 0, r.stderr
    msg = only_message(mta)
    assert msg["sender"] == f"root@{ORIGIN}"
    head = header(msg["content"])
    assert head.count("From:") == 1 and head.count("Date:") == 1
    assert head.count("Message-Id:") == 1 and head.count("To:") == 1


def test_extract_recipients(mta):
    msg_in = ("To: Bob <bob@example.com>, friends: carol@example.org,\n"
              "  \"Dan, D.\" <dan@example.org> (comment);\n"
              "Cc: eve@example.org (Eve)\n"
              "Bcc: secret@example.org,\n\tsecret2@example.org\n"
              "Subject: t\n\nbody\n")
    r = run(mta, "-t", "-f", "alice@example.com", "-F", "Alice Example",
            "extra@example.org", input=msg_in)
    assert r.returncode == 0, r.stderr
    msg = only_message(mta)
    assert sorted(rcpts(msg)) == sorted([
        "bob@example.com", "carol@example.org", "dan@example.org",
        "eve@example.org", "secret@example.org", "secret2@example.org",
        "extra@example.org"])
    head = header(msg["content"])
    assert "Bcc" not in head and "secret" not in head
    assert "\r\nTo: Bob <bob@example.com>, friends:" in head
    assert "\r\nFrom: Alice Example <alice@example.com>\r\n" in head
    assert "undisclosed" not in head


def test_extract_without_recipients(mta):
    r = run(mta, "-t", input="Subject: none\n\nx\n")
    assert r.returncode == 64
    assert b"No recipient addresses found" in r.stderr
    assert queued(mta) == []


def test_lone_dot_and_dash_i(mta):
    text = "Subject: d\n\nfirst\n..stuffed\n.\nafter\n"
    assert run(mta, "bob@example.com", input=text).returncode == 0
    body = only_message(mta)["content"].split(b"\r\n\r\n", 1)[1]
    assert body == b"first\r\n..stuffed\r\n"
    for f in (mta.dir / "queue" / "incoming").iterdir():
        f.unlink()
    for opt in ("-i", "-oi"):
        assert run(mta, opt, "bob@example.com", input=text).returncode == 0
        body = only_message(mta)["content"].split(b"\r\n\r\n", 1)[1]
        assert body == b"first\r\n..stuffed\r\n.\r\nafter\r\n"
        for f in (mta.dir / "queue" / "incoming").iterdir():
            f.unlink()


def test_crlf_input_and_no_final_newline(mta):
    r = run(mta, "bob@example.com", input=b"Subject: c\r\n\r\nline\r\nlast")
    assert r.returncode == 0, r.stderr
    assert only_message(mta)["content"].endswith(b"\r\n\r\nline\r\nlast\r\n")


def test_bs_transcript(mta):
    dialogue = ("EHLO client\r\nMAIL FROM:<alice@example.com>\r\n"
                "RCPT TO:<bob@example.com>\r\nDATA\r\n")
    r = run(mta, "-bs", input=dialogue + "Subject: bs\n\nhi\n.\nQUIT\n")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert out.startswith("220 "), out
    assert re.search(r"^250 2\.1\.5 Ok\r$", out, re.M), out
    assert re.search(r"^354 ", out, re.M), out
    m = re.search(r"^250 2\.0\.0 Ok: queued as ([0-9A-F]+)\r$", out, re.M)
    assert m, out
    assert re.search(r"^221 ", out, re.M), out
    msg = only_message(mta)
    assert msg["id"] == m.group(1)
    assert msg["attrs"]["uid"] == "0"
    assert b"\r\nSubject: bs\r\n" in msg["content"]


def test_other_user_identity(mta):
    nobody = pwd.getpwnam("nobody")
    r = run(mta, "bob@example.com", input="Subject: n\n\nx\n",
            user="nobody")
    assert r.returncode == 0, r.stderr
    msg = only_message(mta)
    assert msg["attrs"]["uid"] == str(nobody.pw_uid)
    assert msg["attrs"]["login"] == "nobody"
    assert msg["sender"] == f"nobody@{ORIGIN}"
    assert f"from userid {nobody.pw_uid})".encode() in msg["content"]
    mta.wait_log(rf"{msg['id']}: uid={nobody.pw_uid} "
                 rf"from=<nobody@{ORIGIN}>")


def test_mailq(mta):
    r = run(mta, name="mailq")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"Mail queue is empty\n"
    assert run(mta, "-f", "alice@example.com", "bob@example.com",
               input="Subject: q\n\nx\n").returncode == 0
    qid = only_message(mta)["id"]
    for args, name in (((), "mailq"), (("-bp",), "sendmail")):
        r = run(mta, *args, name=name)
        assert r.returncode == 0, r.stderr
        out = r.stdout.decode()
        assert re.search(rf"^{qid}\s+\d+ .{{19}}  alice@example\.com$",
                         out, re.M), out
        assert re.search(r"^\s+bob@example\.com$", out, re.M), out
        assert "-- 0 Kbytes in 1 Request." in out
    # Users who may not read the queue get the same listing from showq
    # (as Postfix's postqueue -p does through its showq service).
    r = run(mta, name="mailq", user="nobody")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert re.search(rf"^{qid}\s+\d+ .{{19}}  alice@example\.com$", out,
                     re.M), out
    assert "-- 0 Kbytes in 1 Request." in out
    # Without showq, nobody is told the mail system is down.
    mta.write_config(showq_listen=f"unix:{mta.pub}/none:0666")
    shutil.copy(mta.config, mta.pub / "dirmail.cf")
    r = run(mta, name="mailq", user="nobody")
    assert r.returncode == 69, r
    assert b"mail system is down" in r.stderr
    assert qid.encode() not in r.stdout


def test_newaliases(mta, tmp_path):
    aliases = tmp_path / "aliases"
    aliases.write_text("# system aliases\n"
                       "Postmaster: root\n"
                       "staff: alice,\n"
                       "   bob, carol\n"
                       "\"john doe\": john\n"
                       "root: admin@example.com\n"
                       "postmaster: other\n"
                       "broken line\n")
    cf = mta.pub / "dirmail.cf"
    cf.write_text(cf.read_text() + f"alias_database = lmdb:{aliases}\n")
    r = run(mta, name="newaliases")
    assert r.returncode == 0, r.stderr
    err = r.stderr.decode()
    assert f"{aliases}:7: duplicate entry \"postmaster\"" in err, err
    assert f"{aliases}:8: need name:value pair" in err, err
    table = f"lmdb:{aliases}"
    for key, want in (("postmaster", "root"), ("staff", "alice, bob, carol"),
                      ("john doe", "john"), ("ROOT", "admin@example.com")):
        q = ctl("map", "query", table, key, config=mta.config)
        assert q.returncode == 0, (key, q.stderr)
        assert q.stdout == want + "\n"
    assert ctl("map", "query", table, "broken",
               config=mta.config).returncode == 1
    # A rebuild replaces the table.
    aliases.write_text("staff: dave\n")
    assert run(mta, "-bi").returncode == 0
    q = ctl("map", "query", table, "staff", config=mta.config)
    assert q.stdout == "dave\n"
    assert ctl("map", "query", table, "postmaster",
               config=mta.config).returncode == 1


def test_map_build_aliases_syntax(mta, tmp_path):
    aliases = tmp_path / "aliases"
    aliases.write_text("Staff: alice,\n  bob\n")
    r = ctl("map", "build", "-a", f"lmdb:{aliases}", config=mta.config)
    assert r.returncode == 0, r.stderr
    q = ctl("map", "query", f"lmdb:{aliases}", "staff", config=mta.config)
    assert q.stdout == "alice, bob\n"
    # Without -a the colon stays part of the key, as postmap does.
    assert ctl("map", "build", f"lmdb:{aliases}",
               config=mta.config).returncode == 0
    q = ctl("map", "query", f"lmdb:{aliases}", "staff:", config=mta.config)
    assert q.stdout == "alice, bob\n"


def test_flush_writes_to_qmgr_fifo(mta):
    r = run(mta, "-q")
    assert r.returncode == 69      # no qmgr reading the FIFO
    assert b"mail system is down" in r.stderr
    fifo = mta.dir / "queue" / "public" / "qmgr"
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        r = run(mta, "-q")
        assert r.returncode == 0, r.stderr
        assert os.read(fd, 16) == b"F"
    finally:
        os.close(fd)


def test_errors(mta):
    r = run(mta, "-bz")
    assert r.returncode == 64
    r = run(mta, input="Subject: x\n\n")
    assert r.returncode == 64
    assert b"Recipient addresses must be specified" in r.stderr
    r = run(mta, "bob@example.com", "<unbalanced", input="x\n")
    assert r.returncode == 64
    cf = mta.pub / "dirmail.cf"
    cf.write_text(cf.read_text() +
                  f"pickup_listen = unix:{mta.pub}/nothere\n")
    r = run(mta, "bob@example.com", input="Subject: x\n\nx\n")
    assert r.returncode == 75
    assert b"cannot connect to the pickup socket" in r.stderr
    assert queued(mta) == []


def test_refused_recipient(mta):
    r = run(mta, "bob@example.com", "bad address@@example.com",
            input="Subject: x\n\nx\n")
    assert r.returncode == 67, r.stderr
    assert b"recipient refused" in r.stderr
    assert queued(mta) == []


def test_bsd_mailx(mta, tmp_path):
    mail = shutil.which("bsd-mailx") or shutil.which("mail")
    if mail is None:
        pytest.skip("bsd-mailx is not installed")
    rc = tmp_path / "mailrc"
    rc.write_text(f"set sendmail={mta.pub}/sendmail\n")
    env = dict(os.environ, MAILRC=str(rc),
               DIRMAIL_CONFIG=str(mta.pub / "dirmail.cf"),
               ASAN_OPTIONS="detect_leaks=0")
    r = subprocess.run([mail, "-s", "subject", "bob@example.com"],
                       input=b"test\n", capture_output=True, env=env,
                       timeout=30)
    assert r.returncode == 0, r.stderr

    def one():
        msgs = queued(mta)
        return msgs if msgs else None
    from dirmail_fixture import wait_for
    msg = wait_for(one, what="the message from mail")[0]
    assert rcpts(msg) == ["bob@example.com"]
    assert msg["sender"] == f"root@{ORIGIN}"
    head = header(msg["content"])
    assert "\r\nSubject: subject\r\n" in head
    assert "\r\nTo: bob@example.com\r\n" in head
    assert msg["content"].endswith(b"\r\n\r\ntest\r\n")


def test_headers_added_to_odd_messages(mta):
    # No header at all (smtpd sees the text as sent, through -bs): the
    # added headers, then a blank line, then the text.
    r = run(mta, "-bs", input="HELO x\r\nMAIL FROM:<root@origin.example>\r\n"
            "RCPT TO:<bob@example.com>\r\nDATA\r\n"
            "just text: no header\r\nmore\r\n.\r\nQUIT\r\n")
    assert b"250 2.0.0 Ok: queued" in r.stdout, r.stdout
    text = only_message(mta)["content"]
    head, body = text.split(b"\r\n\r\n", 1)
    assert b"\r\nFrom: root@origin.example\r\n" in head
    assert body == b"just text: no header\r\nmore\r\n"
    for f in (mta.dir / "queue" / "incoming").iterdir():
        f.unlink()
    # A header and no body.
    assert run(mta, "bob@example.com", input="Subject: only\n").returncode \
        == 0
    text = only_message(mta)["content"]
    assert b"\r\nSubject: only\r\nMessage-Id: <" in text
    assert text.endswith(b"\r\nTo: undisclosed-recipients:;\r\n")
