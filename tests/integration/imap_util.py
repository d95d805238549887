"""A dirmail instance serving IMAP: authd with a passwd-file passdb and
userdb (alice uid 1000, bob uid 1001, homes under a world-traversable
root, mail in ~/Maildir), imapd on imap_listen and imaps_listen.

    def test_x(imap):
        c = imap.login("alice")
        c.select("INBOX")
"""

import imaplib
import os
import pathlib
import shutil
import socket
import tempfile
import time

import pytest

from dirmail_fixture import wait_for

USERS = {"alice": 1000, "bob": 1001}


def make_dir(path, uid, gid, mode=0o755):
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, uid, gid)
    path.chmod(mode)
    return path


class ImapInstance:
    def __init__(self, d, root):
        self.d = d
        self.root = root

    def maildir(self, user):
        return self.root / user / "Maildir"

    def connect(self):
        return imaplib.IMAP4("127.0.0.1", self.d.ports["imap_listen"],
                             timeout=15)

    def login(self, user="alice"):
        c = self.connect()
        c.login(user, f"{user}-password")
        return c

    def deliver(self, user, text, name=None):
        """Put TEXT into USER's new/ as the local agent would (LF line
        ends, owned by the user)."""
        new = self.maildir(user) / "new"
        name = name or f"{time.time():.6f}.M1P{os.getpid()}.test,S={len(text)}"
        tmp = self.maildir(user) / "tmp" / name
        tmp.write_text(text)
        os.chown(tmp, USERS[user], USERS[user])
        tmp.rename(new / name)
        return new / name


def wait_imap(d, timeout=20):
    def greets():
        try:
            c = imaplib.IMAP4("127.0.0.1", d.ports["imap_listen"],
                              timeout=2)
            c.shutdown()
            return True
        except OSError:
            return False
    wait_for(greets, timeout=timeout, what="imapd's greeting")


def imap_params(root, tables_dir, cert=None):
    tables_dir.mkdir(parents=True, exist_ok=True)
    passwd = tables_dir / "passwd"
    lines = []
    for user, uid in USERS.items():
        home = make_dir(root / user, uid, uid)
        for sub in ("", "/cur", "/new", "/tmp"):
            make_dir(pathlib.Path(str(home / "Maildir") + sub), uid, uid,
                     0o700)
        lines.append(f"{user}:{{PLAIN}}{user}-password:{uid}:{uid}::"
                     f"{home}::\n")
    passwd.write_text("".join(lines))
    params = {
        "passdb": f"passwd-file:{passwd}",
        "userdb": f"passwd-file:{passwd}",
        "mail_location": "maildir:~/Maildir",
        "first_valid_uid": "500",
        "auth_failure_delay": "0",
        "disable_plaintext_auth": "no",
    }
    if cert is not None:
        params.update({"ssl_cert": cert[0], "ssl_key": cert[1]})
    return params


@pytest.fixture
def mailroot():
    path = pathlib.Path(tempfile.mkdtemp(prefix="dirmail-imap-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def imap_instance(dirmail, tmp_path, mailroot, cert=None, listen=None,
                  services=None, **params):
    conf = imap_params(mailroot, tmp_path / "tables", cert)
    conf.update(params)
    listen = listen or (["imap_listen", "imaps_listen"] if cert
                        else ["imap_listen"])
    d = dirmail(params=conf, listen=listen,
                services=services or {"authd": "authd", "imapd": "imapd"})
    wait_imap(d)
    return ImapInstance(d, mailroot)


class ImapSession:
    """A logged-in session on imap_listen at the byte level: the socket
    (s) and its reader (f).  Subclasses give cmd(TEXT), which must answer
    the LOGIN sent here."""

    def __init__(self, imap, user="alice", timeout=15):
        self.s = socket.create_connection(
            ("127.0.0.1", imap.d.ports["imap_listen"]), timeout=timeout)
        self.f = self.s.makefile("rb")
        assert self.f.readline().startswith(b"* OK")
        self.cmd(f"LOGIN {user} {user}-password")

    def send(self, line):
        self.s.sendall(line.encode() + b"\r\n")
