"""The local delivery agent (src/delivery/local): virtual mailboxes
through authd's userdb (passwd-file and LDAP) into Maildir, and local
system users with aliases, commands, files, ~/.forward and mbox.

qmgr is not linked in these instances, so a message queued through smtpd
stays in incoming/; the test plays qmgr: it connects to private/local
and sends the delivery request for that queue file
(doc/delivery-protocol.md), then checks the reply and the mailboxes.
"""

import os
import pathlib
import re
import shutil
import socket
import tempfile
import threading
import subprocess
import time

import pytest

import queuefile
from smtp_util import MESSAGE, Raw
from smtp_util import smtp_params, write_tables
from test_smtpd import send_ok


def mail_root(tmpdirs):
    """A new directory, mode 0755, that unprivileged owners can reach
    (pytest's own tmp_path is 0700); removed by the caller's teardown."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="dirmail-local-"))
    path.chmod(0o755)
    tmpdirs.append(path)
    return path


def make_dir(path, uid, gid, mode=0o755):
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, uid, gid)
    path.chmod(mode)
    return path


def local_socket(d):
    return d.dir / "queue" / "private" / "local"


def wait_local(d, timeout=20):
    """Wait until the local agent accepts on private/local."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(str(local_socket(d)))
                return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError("local did not start:\n" + d.log())
            time.sleep(0.1)


def queue_message(d, body=MESSAGE, sender="<alice@example.com>",
                  rcpt="<alice@example.com>"):
    """Queue BODY through smtpd; return the queue file as queuefile.read
    gives it, with its path."""
    c = Raw(d)
    assert c.cmd("EHLO client.example.org")[0] == 250
    qid = send_ok(c, sender, [rcpt], body=body)
    c.cmd("QUIT")
    c.close()
    path = d.dir / "queue" / "incoming" / qid
    q = queuefile.read(str(path))
    q["path"] = str(path)
    return q


def request(q, transport, rcpts, sender=None):
    """The delivery request for queue file Q (doc/delivery-protocol.md)."""
    sender = q["sender"] if sender is None else sender
    lines = [f"D\t{q['id']}\t{q['path']}\t{q['content_offset']}\t"
             f"{len(q['content'])}\t{transport}\tlocalhost\t{sender}"]
    lines += [f"R\t{i}\t{r}\t\t" for i, r in enumerate(rcpts)]
    return "\n".join(lines) + "\n.\n"


def deliver(d, q, transport, rcpts, sender=None, timeout=30):
    """Play qmgr: send one request to private/local and return the reply
    as {index: {"status": (class, dsn, relay, text), "forward": [...]}}."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(str(local_socket(d)))
        s.sendall(request(q, transport, rcpts, sender).encode())
        buf = b""
        while not buf.endswith(b"\n.\n") and buf != b".\n":
            chunk = s.recv(65536)
            assert chunk, f"connection closed after {buf!r}"
            buf += chunk
    out = {}
    for line in buf.decode().splitlines()[:-1]:
        f = line.split("\t")
        entry = out.setdefault(int(f[1]), {"forward": []})
        if f[0] == "F":
            entry["forward"].append(f[2])
        else:
            assert f[0] == "S", line
            entry["status"] = (int(f[2]), f[3], f[4], f[5])
    assert sorted(out) == list(range(len(rcpts))), out
    return out


def maildir_files(maildir, sub="new"):
    p = pathlib.Path(maildir) / sub
    return sorted(p.iterdir()) if p.is_dir() else []


def cleanup(tmpdirs):
    for path in tmpdirs:
        shutil.rmtree(path, ignore_errors=True)


ALICE_UID, BOB_UID = 1000, 1001


@pytest.fixture
def tmpdirs():
    dirs = []
    yield dirs
    cleanup(dirs)


def local_instance(dirmail, tmp_path, cert, tmpdirs, root, passwd, **params):
    """authd + smtpd + local with example.com virtual (alice, bob; PASSWD
    is authd's passwd-file) and localhost local; PARAMS on top."""
    tables = write_tables(tmp_path / "tables")
    tables["passwd"].write_text(passwd)
    conf = smtp_params(tables, cert)
    conf.update({
        "userdb": f"passwd-file:{tables['passwd']}",
        "mail_location": "maildir:~/Maildir",
        "mail_spool_directory": str(root / "spool"),
        "first_valid_uid": "500",
        "myorigin": "localhost",
    })
    conf.update(params)
    services = conf.pop("services", {"authd": "authd", "smtpd": "smtpd",
                                     "local": "local"})
    d = dirmail(params=conf, listen=["smtpd_listen"], services=services)
    wait_local(d)
    d.root = root
    return d


def passwd_line(user, uid, home):
    return f"{user}:{{PLAIN}}{user}-password:{uid}:{uid}::{home}::\n"


@pytest.fixture
def vd(dirmail, tmp_path, smtp_cert, tmpdirs):
    """Virtual users alice (1000) and bob (1001) with homes under a
    world-traversable root."""
    root = mail_root(tmpdirs)
    homes = {}
    for user, uid in (("alice", ALICE_UID), ("bob", BOB_UID)):
        homes[user] = make_dir(root / "home" / user, uid, uid)
    (root / "home").chmod(0o755)
    passwd = (passwd_line("alice", ALICE_UID, homes["alice"]) +
              passwd_line("bob", BOB_UID, homes["bob"]))
    d = local_instance(dirmail, tmp_path, smtp_cert, tmpdirs, root, passwd)
    d.homes = homes
    return d


def check_maildir(maildir, uid):
    """Maildir's three directories exist, mode 0700, owned by UID."""
    for sub in ("", "cur", "new", "tmp"):
        st = os.stat(maildir / sub)
        assert (st.st_uid, st.st_mode & 0o777) == (uid, 0o700), sub


def test_virtual_delivery_into_a_new_maildir(vd):
    q = queue_message(vd)
    r = deliver(vd, q, "virtual", ["alice@example.com"])
    assert r[0]["status"] == (2, "2.0.0", "virtual", "delivered to maildir")
    maildir = vd.homes["alice"] / "Maildir"
    check_maildir(maildir, ALICE_UID)
    files = maildir_files(maildir)
    assert len(files) == 1 and maildir_files(maildir, "tmp") == []
    f = files[0]
    st = f.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == \
        (ALICE_UID, ALICE_UID, 0o600)
    data = f.read_bytes()
    assert f.name.endswith(f",S={len(data)}")
    assert b"\r" not in data
    text = data.decode()
    assert text.startswith("Return-Path: <alice@example.com>\n"
                           "Delivered-To: alice@example.com\nReceived: ")
    assert text.endswith("Subject: test\n\nHello.\n")
    assert re.search(rf"{q['id']}: to=<alice@example.com>, relay=virtual: "
                     rf"delivered to maildir {f} \(uid {ALICE_UID}",
                     vd.log())


def test_virtual_two_recipients_one_unknown(vd):
    q = queue_message(vd)
    r = deliver(vd, q, "virtual", ["bob@example.com", "carol@example.com"])
    assert r[0]["status"][:2] == (2, "2.0.0")
    assert r[1]["status"] == (5, "5.1.1", "virtual",
                              'unknown user: "carol@example.com"')
    assert len(maildir_files(vd.homes["bob"] / "Maildir")) == 1
    assert maildir_files(vd.homes["alice"] / "Maildir") == []


def test_delivered_to_loop_is_bounced(vd):
    body = "Delivered-To: Alice@Example.COM\r\n" + MESSAGE
    q = queue_message(vd, body=body)
    r = deliver(vd, q, "virtual", ["alice@example.com", "bob@example.com"])
    assert r[0]["status"][:2] == (5, "5.4.6")
    assert "mail forwarding loop" in r[0]["status"][3]
    assert r[1]["status"][:2] == (2, "2.0.0")
    assert maildir_files(vd.homes["alice"] / "Maildir") == []


def test_userdb_down_defers(vd):
    sock = vd.run_dir / "auth-userdb"
    moved = vd.run_dir / "auth-userdb.away"
    q = queue_message(vd)
    sock.rename(moved)
    try:
        r = deliver(vd, q, "virtual", ["alice@example.com"])
    finally:
        moved.rename(sock)
    assert r[0]["status"][:2] == (4, "4.3.0")
    assert "userdb" in r[0]["status"][3]
    r = deliver(vd, q, "virtual", ["alice@example.com"])
    assert r[0]["status"][:2] == (2, "2.0.0")


class FakeUserdb:
    """An auth-userdb socket that answers every USER lookup with FIELDS
    (so that the agent's own uid checks are what is tested: authd would
    refuse such a user before the agent sees it)."""

    def __init__(self, path, fields):
        self.path, self.fields = str(path), fields
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(self.path)
        self.sock.listen(8)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                self.answer(c)
            except OSError:
                pass

    def answer(self, c):
        with c, c.makefile("rb") as f:
            c.sendall(b"VERSION\t1\t0\nSPID\t1\n")
            for line in f:
                parts = line.decode().rstrip("\n").split("\t")
                if parts[0] == "USER":
                    c.sendall(f"USER\t{parts[1]}\t{parts[2]}\t"
                              f"{self.fields}\n".encode())


def test_uid_below_first_valid_uid_is_refused(dirmail, tmp_path, smtp_cert,
                                              tmpdirs):
    root = mail_root(tmpdirs)
    home = make_dir(root / "low", 100, 100)
    d = local_instance(dirmail, tmp_path, smtp_cert, tmpdirs, root,
                       passwd_line("alice", ALICE_UID, home))
    # In place of authd's socket (the agent connects for each lookup).
    sock = d.run_dir / "auth-userdb"
    sock.rename(d.run_dir / "auth-userdb.away")
    FakeUserdb(sock, f"uid=100\tgid=100\thome={home}")
    q = queue_message(d)
    r = deliver(d, q, "virtual", ["alice@example.com"])
    assert r[0]["status"][:2] == (4, "4.3.0")
    assert "mail system configuration error" in r[0]["status"][3]
    assert not (home / "Maildir").exists()
    assert re.search(r"mail system configuration error: uid 100 of user "
                     r'"alice" is below first_valid_uid', d.log())
