"""The local delivery agent (src/delivery/local): virtual mailboxes
through authd's userdb (passwd-file and LDAP) into Maildir, and local
system users with aliases, commands, files, ~/.forward and mbox.

qmgr is not linked in these instances, so a message queued through smtpd
stays in incoming/; the test plays qmgr: it connects to private/local
and sends the delivery request for that queue file
(doc/delivery-protocol.md), then checks the reply and the mailboxes.
"""

import os
import pwd
import pathlib
import re
import shutil
import signal
import socket
import tempfile
import threading
import subprocess
import time

import pytest

import queuefile
from smtp_util import MESSAGE, Raw
from dirmail_fixture import wait_for
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


# -- local (mydestination) users --------------------------------------------

def add_user(name, home):
    subprocess.run(["useradd", "-M", "-U", "-d", str(home), "-s", "/bin/sh",
                    name], check=True, capture_output=True)
    pw = pwd.getpwnam(name)
    make_dir(home, pw.pw_uid, pw.pw_gid)
    return pw


@pytest.fixture
def ld(dirmail, tmp_path, smtp_cert, tmpdirs):
    """Two system users made for the test (removed at teardown), an
    aliases(5) file owned by root, and the mbox spool in a root-owned
    directory of the test."""
    root = mail_root(tmpdirs)
    tag = f"dm{os.getpid() % 100000}"
    names = [f"{tag}a", f"{tag}b", f"{tag}c"]
    users = []
    try:
        for n in names:
            users.append(add_user(n, root / "home" / n))
        make_dir(root / "spool", 0, 0)
        make_dir(root / "files", 0, 0, 0o1777)
        (root / "inc.list").write_text(f"{names[0]}\n|cat\n")
        (root / "aliases").write_text(
            f"team: {names[0]}, {names[1]}\n"
            f"{names[2]}: {names[2]}, {names[0]}\n"
            f'pipe: "|cat > {root}/files/pipe.out; id -u >> '
            f'{root}/files/pipe.out"\n'
            f"tofile: {root}/files/file.mbox\n"
            f"include: :include:{root}/inc.list\n"
            f"fail: |exit 67\n"
            f'slow: "|touch {root}/files/slow.started; sleep 1; '
            f'cat >> {root}/files/slow.out"\n')
        d = local_instance(dirmail, tmp_path, smtp_cert, tmpdirs, root, "",
                           alias_maps=f"texthash:{root}/aliases",
                           allow_mail_to_files="alias")
        d.users = users
        yield d
    finally:
        for n in names:
            subprocess.run(["userdel", n], capture_output=True)


def mail_read(path, commands):
    """Run mail(1) (bsd-mailx) on the mbox PATH; return its output."""
    r = subprocess.run(["mail", "-N", "-f", str(path)], input=commands,
                       capture_output=True, text=True, timeout=30,
                       env={"HOME": "/nonexistent", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_mbox_in_the_spool_readable_by_mail(ld):
    u = ld.users[0]
    body = MESSAGE.replace("Hello.", "Hello.\r\nFrom the start of a line")
    q = queue_message(ld, body=body)
    for _ in range(2):
        r = deliver(ld, q, "local", [f"{u.pw_name}@localhost"])
        assert r[0]["status"] == (2, "2.0.0", "local",
                                  "delivered to mailbox")
    mbox = ld.root / "spool" / u.pw_name
    st = mbox.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == \
        (u.pw_uid, u.pw_gid, 0o600)
    text = mbox.read_text()
    assert text.startswith("From alice@example.com ")
    assert "\nDelivered-To: %s@localhost\n" % u.pw_name in text
    assert "\n>From the start of a line\n\n" in text
    assert "\r" not in text
    assert not (ld.root / "spool" / f"{u.pw_name}.lock").exists()
    out = mail_read(mbox, "h\np 2\nq\n")
    assert '2 messages' in out and "test" in out
    assert ">From the start of a line" in out


def test_unknown_local_user(ld):
    q = queue_message(ld)
    r = deliver(ld, q, "local", ["nosuchuser@localhost"])
    assert r[0]["status"] == (5, "5.1.1", "local",
                              'unknown user: "nosuchuser"')


def test_alias_to_two_users_is_forwarded(ld):
    a, b = (u.pw_name for u in ld.users[:2])
    q = queue_message(ld)
    r = deliver(ld, q, "local", ["Team@localhost"])
    assert r[0]["status"] == (2, "2.0.0", "local", "forwarded")
    assert r[0]["forward"] == [f"{a}@localhost", f"{b}@localhost"]
    assert not (ld.root / "spool" / a).exists()


def test_alias_naming_itself_gets_its_own_mailbox(ld):
    a, _, c = (u.pw_name for u in ld.users)
    q = queue_message(ld)
    r = deliver(ld, q, "local", [f"{c}@localhost"])
    assert r[0]["status"] == (2, "2.0.0", "local", "forwarded")
    assert r[0]["forward"] == [f"{a}@localhost"]
    assert (ld.root / "spool" / c).stat().st_uid == ld.users[2].pw_uid
    assert not (ld.root / "spool" / a).exists()


def test_alias_command_runs_unprivileged(ld):
    q = queue_message(ld)
    r = deliver(ld, q, "local", ["pipe@localhost"])
    assert r[0]["status"][:2] == (2, "2.0.0")
    assert r[0]["status"][3].startswith("delivered to command: cat > ")
    out = (ld.root / "files" / "pipe.out").read_text()
    assert out.startswith("From alice@example.com ")
    assert "Delivered-To: pipe@localhost\n" in out and "Hello." in out
    # The aliases file is root's: the command ran as nobody.
    assert out.rstrip().splitlines()[-1] == str(pwd.getpwnam("nobody").pw_uid)


def test_sigterm_lets_a_delivery_in_progress_finish(ld):
    """SIGTERM while a delivery runs: the agent finishes it and replies
    (so qmgr can mark it done and never make it twice), takes no new
    request, and exits."""
    q = queue_message(ld)
    pid = ld.service_pid("local")
    started = ld.root / "files" / "slow.started"
    with socket.socket(socket.AF_UNIX) as s, \
            socket.socket(socket.AF_UNIX) as late:
        s.settimeout(15)
        s.connect(str(local_socket(ld)))
        late.settimeout(15)
        late.connect(str(local_socket(ld)))
        s.sendall(request(q, "local", ["slow@localhost"]).encode())
        wait_for(started.exists, 10, what="the command to start")
        os.kill(pid, signal.SIGTERM)
        time.sleep(0.2)
        late.sendall(request(q, "local", ["pipe@localhost"]).encode())
        buf = b""
        while not buf.endswith(b"\n.\n"):
            chunk = s.recv(65536)
            assert chunk, f"connection closed after {buf!r}"
            buf += chunk
        assert buf.startswith(b"S\t0\t2\t2.0.0\t"), buf
        assert late.recv(65536) == b""      # closed, nothing done
    wait_for(lambda: pid not in ld.children(), 10,
             what="the agent to exit")
    assert (ld.root / "files" / "slow.out").read_text().count(
        "Delivered-To: slow@localhost") == 1
    assert not (ld.root / "files" / "pipe.out").exists()
    assert re.search(r"local\[\d+\]: .*stopping on signal 15; "
                     r"1 deliveries in progress", ld.log()), ld.log()


def test_command_exit_status_maps_to_dsn(ld):
    q = queue_message(ld)
    r = deliver(ld, q, "local", ["fail@localhost"])
    assert r[0]["status"][:2] == (5, "5.1.1")
    assert "command died with status 67" in r[0]["status"][3]


def test_alias_file_allowed_and_include_command_refused(ld):
    q = queue_message(ld)
    r = deliver(ld, q, "local", ["tofile@localhost", "include@localhost"])
    path = ld.root / "files" / "file.mbox"
    assert r[0]["status"] == (2, "2.0.0", "local",
                              f"delivered to file: {path}")
    assert path.stat().st_uid == pwd.getpwnam("nobody").pw_uid
    assert "Hello." in path.read_text()
    # allow_mail_to_commands has no "include".
    assert r[1]["status"][:2] == (5, "5.7.1")
    assert "restricted" in r[1]["status"][3]


def test_forward_file_good_and_badly_owned(ld):
    a, b = ld.users[:2]
    fwd_a = pathlib.Path(a.pw_dir) / ".forward"
    fwd_a.write_text("someone@example.org\n")
    fwd_a.chmod(0o644)          # owned by root: ignored
    fwd_b = pathlib.Path(b.pw_dir) / ".forward"
    fwd_b.write_text(f"# comment\nother@example.org, \\{b.pw_name}\n")
    os.chown(fwd_b, b.pw_uid, b.pw_gid)
    fwd_b.chmod(0o644)
    q = queue_message(ld)
    r = deliver(ld, q, "local", [f"{a.pw_name}@localhost",
                                 f"{b.pw_name}@localhost"])
    assert r[0]["status"] == (2, "2.0.0", "local", "delivered to mailbox")
    assert r[0]["forward"] == []
    assert (ld.root / "spool" / a.pw_name).exists()
    assert r[1]["status"] == (2, "2.0.0", "local", "forwarded")
    assert r[1]["forward"] == ["other@example.org"]
    assert (ld.root / "spool" / b.pw_name).stat().st_uid == b.pw_uid
    assert "ignoring %s" % fwd_a in ld.log()


def test_home_mailbox_maildir(ld):
    q = queue_message(ld)
    ld.write_config(home_mailbox="Maildir/")
    ld.reload()
    u = ld.users[0]
    maildir = pathlib.Path(u.pw_dir) / "Maildir"

    def delivered():
        # The agent restarts on the reload: a connection to the one
        # going away may be refused or cut (deliver() asserts).
        try:
            r = deliver(ld, q, "local", [f"{u.pw_name}@localhost"])
        except (OSError, AssertionError):
            return False
        return r[0]["status"][3] == "delivered to maildir"
    wait_for(delivered, what="local with home_mailbox")
    check_maildir(maildir, u.pw_uid)
    assert len(maildir_files(maildir)) == 1


# -- LDAP userdb ------------------------------------------------------------

def ldap_userdb_conf(path, server):
    """A dovecot-ldap.conf.ext whose userdb gives uidNumber and gidNumber
    of the posixAccount entries of tests/fixtures/example.ldif."""
    path.write_text(
        f"uris = {server.ldap_uri}\nbase = {server.base}\n"
        f"dn = {server.service_dn}\ndnpass = {server.service_pw}\n"
        "user_filter = (&(objectClass=posixAccount)(uid=%n))\n"
        "user_attrs = =home=%{ldap:homeDirectory}, "
        "=uid=%{ldap:uidNumber}, gidNumber=gid\n")
    return path


def ldap_instance(dirmail, tmp_path, cert, tmpdirs, server, **params):
    """Virtual example.com whose owners authd finds in SERVER; their
    Maildirs under a root of the test (mail_location with %n)."""
    root = mail_root(tmpdirs)
    owners = {"alice": 1001, "bob": 1002}
    for user, uid in owners.items():
        make_dir(root / user, uid, uid)
    conf = ldap_userdb_conf(tmp_path / "ldap-userdb.conf.ext", server)
    d = local_instance(dirmail, tmp_path, cert, tmpdirs, root, "",
                       userdb=f"ldap:{conf}",
                       mail_location=f"maildir:{root}/%n/Maildir", **params)
    d.owners = owners
    return d


def test_ldap_userdb_owner_gets_the_maildir(dirmail, tmp_path, smtp_cert,
                                            tmpdirs, slapd):
    d = ldap_instance(dirmail, tmp_path, smtp_cert, tmpdirs, slapd)
    q = queue_message(d)
    r = deliver(d, q, "virtual", ["alice@example.com", "bob@example.com"])
    for i, user in enumerate(("alice", "bob")):
        assert r[i]["status"] == (2, "2.0.0", "virtual",
                                  "delivered to maildir")
        maildir = d.root / user / "Maildir"
        check_maildir(maildir, d.owners[user])
        files = maildir_files(maildir)
        assert len(files) == 1
        assert files[0].stat().st_uid == d.owners[user]
        assert f"Delivered-To: {user}@example.com\n" in files[0].read_text()
