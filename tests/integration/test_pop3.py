"""pop3d after login: the POP3 engine as real clients use it (Python's
poplib, curl, openssl s_client, fetchmail) over a Maildir written the
way the local delivery agent writes it, owned by the mailbox owner."""

import os
import pathlib
import poplib
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import pytest

from util import program

try:
    program("pop3d")
    program("authd")
    HAVE_POP3D = True
except FileNotFoundError:
    HAVE_POP3D = False

pytestmark = pytest.mark.skipif(not HAVE_POP3D, reason="pop3d not built")

UID = 1000
PASSWORD = "alice-password"

MSG1 = ("Return-Path: <bob@example.com>\n"
        "Delivered-To: alice@example.com\n"
        "From: bob@example.com\n"
        "To: alice@example.com\n"
        "Subject: first\n"
        "\n"
        "line one\n"
        "line two\n"
        "line three\n")
# Lines that start with "." must come back unchanged after the client
# removes the dot-stuffing.
MSG2 = ("From: carol@example.com\n"
        "Subject: dots\n"
        "\n"
        ".\n"
        "..\n"
        ".hidden\n"
        "end\n")


def crlf_size(text):
    return len(text.replace("\n", "\r\n").encode())


class Box:
    """alice's home and Maildir under a directory she can reach."""

    def __init__(self):
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="dirmail-pop3-"))
        self.root.chmod(0o755)
        self.home = self.root / "alice"
        self.maildir = self.home / "Maildir"
        for sub in ("", "cur", "new", "tmp"):
            path = self.maildir / sub
            path.mkdir(parents=True, exist_ok=True)
        for path in (self.home, *self.home.rglob("*")):
            os.chown(path, UID, UID)
        self.home.chmod(0o700)
        self.n = 0

    def deliver(self, text):
        """Put TEXT into new/ as the local agent names and writes it."""
        self.n += 1
        data = text.encode()
        name = (f"{int(time.time())}.M{self.n}P{os.getpid()}Q{self.n}."
                f"testhost,S={len(data)}")
        path = self.maildir / "new" / name
        path.write_bytes(data)
        os.chown(path, UID, UID)
        return path

    def files(self):
        return sorted(p.name for sub in ("cur", "new")
                      for p in (self.maildir / sub).iterdir())


@pytest.fixture
def pop(dirmail, smtp_cert, tmp_path):
    box = Box()
    passwd = tmp_path / "passwd"
    passwd.write_text(f"alice:{{PLAIN}}{PASSWORD}:{UID}:{UID}::"
                      f"{box.home}::\n")
    cert, key = smtp_cert
    d = dirmail(params={
        "passdb": f"passwd-file:{passwd}",
        "userdb": f"passwd-file:{passwd}",
        "mail_location": "maildir:~/Maildir",
        "first_valid_uid": "500",
        "protocols": "pop3",
        "ssl_cert": cert,
        "ssl_key": key,
    }, listen=["pop3_listen", "pop3s_listen"],
        services={"authd": "authd", "pop3d": "pop3d"})
    d.box = box
    box.deliver(MSG1)
    box.deliver(MSG2)
    yield d
    shutil.rmtree(box.root, ignore_errors=True)


def login(d):
    c = poplib.POP3("127.0.0.1", d.ports["pop3_listen"], timeout=15)
    c.user("alice")
    assert c.pass_(PASSWORD) == b"+OK Logged in."
    return c


def test_every_command(pop):
    c = login(pop)
    sizes = [crlf_size(MSG1), crlf_size(MSG2)]
    assert c.stat() == (2, sum(sizes))
    resp, lines, _ = c.list()
    assert resp.startswith(b"+OK 2 messages")
    assert lines == [b"1 %d" % sizes[0], b"2 %d" % sizes[1]]
    assert c.list(2) == b"+OK 2 %d" % sizes[1]
    resp, lines, octets = c.retr(1)
    assert resp == b"+OK %d octets" % sizes[0]
    assert b"\n".join(lines) + b"\n" == MSG1.encode()
    resp, lines, _ = c.top(1, 1)
    assert lines == [line.encode() for line in MSG1.split("\n")[:7]]
    resp, lines, _ = c.top(1, 0)
    assert lines[-1] == b"" and b"line one" not in lines
    resp, uidls, _ = c.uidl()
    assert len(uidls) == 2
    assert all(re.fullmatch(rb"[12] [0-9a-f]{16}", u) for u in uidls)
    assert c.uidl(2) == b"+OK " + uidls[1]
    assert c.noop() == b"+OK"
    caps = c.capa()
    for cap in ("TOP", "UIDL", "RESP-CODES", "PIPELINING", "USER"):
        assert cap in caps
    assert c.dele(1) == b"+OK Marked to be deleted."
    assert c.stat() == (1, sizes[1])
    assert c.list()[1] == [b"2 %d" % sizes[1]]
    with pytest.raises(poplib.error_proto, match="deleted"):
        c.retr(1)
    with pytest.raises(poplib.error_proto, match="no message"):
        c.retr(3)
    with pytest.raises(poplib.error_proto):
        c.user("alice")
    with pytest.raises(poplib.error_proto):
        c._shortcmd("STLS")
    with pytest.raises(poplib.error_proto, match="Unknown command"):
        c._shortcmd("XYZZY")
    assert c.rset() == b"+OK"
    assert c.stat() == (2, sum(sizes))
    # RSET forgot the first RETR's \Seen too, as Dovecot does; this one
    # is kept.
    c.retr(1)
    assert c.quit() == b"+OK Logging out."
    # RETR of message 1 marked it \Seen; nothing was deleted.
    files = pop.box.files()
    assert len(files) == 2
    assert sum(f.endswith(":2,S") for f in files) == 1
    pop.wait_log(r"pop3\(alice\): Disconnected: Logged out top=2/\d+, "
                 r"retr=2/%d, del=0/2, size=%d" % (2 * sizes[0], sum(sizes)))


def test_dele_only_at_quit(pop):
    c = login(pop)
    uidl2 = c.uidl(2)
    c.dele(1)
    # The connection is lost without QUIT: nothing is deleted.
    c.close()
    pop.wait_log(r"pop3\(alice\): Disconnected: Connection closed .*del=0/2")
    c = login(pop)
    assert c.stat()[0] == 2
    c.dele(1)
    assert c.quit() == b"+OK Logging out."
    assert len(pop.box.files()) == 1
    c = login(pop)
    assert c.stat() == (1, crlf_size(MSG2))
    # The UIDL of the message left is the one it had before.
    assert c.uidl(1).split()[2] == uidl2.split()[2]
    c.quit()


def test_uidl_stable_across_sessions(pop):
    c = login(pop)
    first = c.uidl()[1]
    c.quit()
    pop.box.deliver("Subject: third\n\nthree\n")
    c = login(pop)
    second = c.uidl()[1]
    c.quit()
    assert second[:2] == first
    assert len(second) == 3 and second[2] not in first


def test_dot_stuffing_on_the_wire(pop):
    s = socket.create_connection(("127.0.0.1", pop.ports["pop3_listen"]),
                                 timeout=15)
    # Everything in one write: the engine takes the pipelined commands
    # the login side read along with PASS.
    s.sendall(b"USER alice\r\nPASS " + PASSWORD.encode() +
              b"\r\nRETR 2\r\nQUIT\r\n")
    data = b""
    while not data.endswith(b"+OK Logging out.\r\n"):
        chunk = s.recv(65536)
        assert chunk, data
        data += chunk
    s.close()
    body = data.split(b"+OK Logged in.\r\n", 1)[1]
    assert body == (b"+OK %d octets\r\n" % crlf_size(MSG2) +
                    MSG2.replace("\n.", "\n..").replace("\n", "\r\n")
                    .encode() + b".\r\n+OK Logging out.\r\n")


def test_pipelined_commands_in_order(pop):
    c = login(pop)
    c.sock.sendall(b"STAT\r\nDELE 1\r\nSTAT\r\nLIST\r\nRSET\r\nSTAT\r\n")
    got = [c._getline()[0] for _ in range(8)]
    total = crlf_size(MSG1) + crlf_size(MSG2)
    assert got == [b"+OK 2 %d" % total, b"+OK Marked to be deleted.",
                   b"+OK 1 %d" % crlf_size(MSG2), b"+OK 1 messages:",
                   b"2 %d" % crlf_size(MSG2), b".", b"+OK",
                   b"+OK 2 %d" % total]
    c.quit()


def test_bad_input(pop):
    c = login(pop)
    for arg in ("x", "-1", "99999999999999999999"):
        with pytest.raises(poplib.error_proto, match="Invalid message"):
            c._shortcmd("RETR " + arg)
    with pytest.raises(poplib.error_proto, match="Invalid number of lines"):
        c._shortcmd("TOP 1 x")
    with pytest.raises(poplib.error_proto, match="too long"):
        c._shortcmd("NOOP " + "x" * 2000)
    assert c.noop() == b"+OK"
    for _ in range(30):
        try:
            c._shortcmd("BOGUS")
        except poplib.error_proto as e:
            if b"Too many" in e.args[0]:
                break
        except (EOFError, OSError):
            break
    else:
        pytest.fail("never disconnected after bad commands")


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "20",
                           "-u", f"alice:{PASSWORD}", *args],
                          capture_output=True, timeout=30)


def test_curl_pop3_and_pop3s(pop):
    r = curl(f"pop3://127.0.0.1:{pop.ports['pop3_listen']}/")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == [
        f"1 {crlf_size(MSG1)}", f"2 {crlf_size(MSG2)}"]
    r = curl("-k", f"pop3s://127.0.0.1:{pop.ports['pop3s_listen']}/2")
    assert r.returncode == 0, r.stderr
    assert r.stdout == MSG2.replace("\n", "\r\n").encode()


def test_openssl_starttls(pop):
    script = (f"USER alice\nPASS {PASSWORD}\nSTAT\nUIDL 1\nQUIT\n")
    r = subprocess.run(["openssl", "s_client", "-quiet", "-starttls",
                        "pop3", "-connect",
                        f"127.0.0.1:{pop.ports['pop3_listen']}"],
                       input=script.encode(), capture_output=True,
                       timeout=30)
    out = r.stdout.decode()
    assert "+OK Logged in." in out, out + r.stderr.decode()
    assert f"+OK 2 {crlf_size(MSG1) + crlf_size(MSG2)}" in out
    assert re.search(r"\+OK 1 [0-9a-f]{16}", out)
    assert "+OK Logging out." in out


def test_fetchmail(pop, tmp_path):
    if shutil.which("fetchmail") is None:
        pytest.skip("fetchmail is not installed")
    mda_out = tmp_path / "fetched"
    mda_out.mkdir()
    rc = tmp_path / "fetchmailrc"
    rc.write_text(
        f"poll 127.0.0.1 protocol pop3 port {pop.ports['pop3_listen']}\n"
        f"  user alice password {PASSWORD} is root here\n"
        f"  sslproto '' no keep fetchall\n"
        f"  mda \"sh -c 'cat > {mda_out}/$$'\"\n")
    rc.chmod(0o600)
    env = dict(os.environ, HOME=str(tmp_path), FETCHMAILHOME=str(tmp_path))
    r = subprocess.run(["fetchmail", "-f", str(rc), "-v", "--nodetach",
                        "--idfile", str(tmp_path / "ids")],
                       capture_output=True, timeout=60, env=env)
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    fetched = sorted(p.read_text() for p in mda_out.iterdir())
    assert len(fetched) == 2
    assert any("Subject: dots" in f and "\n.hidden\n" in f for f in fetched)
    # fetchmail deleted what it fetched, at QUIT.
    assert pop.box.files() == []


def test_autologout(pop):
    """A client silent for pop3_autologout (10 minutes by default,
    shortened here) is told so and disconnected, deleting nothing."""
    since = len(pop.log())
    pop.write_config(pop3_autologout="2s")
    pop.reload()
    # The reload restarts pop3d: log in to the new one.
    pop.wait_log(r"service pop3d started", timeout=20, since=since)
    deadline = time.monotonic() + 20
    while True:
        try:
            c = login(pop)
            break
        except (OSError, poplib.error_proto, EOFError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    c.dele(1)
    time.sleep(3)
    assert c.file.readline() == b"-ERR Disconnected for inactivity.\r\n"
    assert c.file.readline() == b""
    c = login(pop)
    assert c.stat()[0] == 2
    c.quit()
