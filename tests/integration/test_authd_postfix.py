"""A stock Postfix smtpd with smtpd_sasl_type = dovecot pointed at
authd: AUTH PLAIN and LOGIN, wrong passwords, temporary failures."""

import os
import pathlib
import pwd
import shutil
import signal
import smtplib
import subprocess
import tempfile
import time

import pytest

from test_authd import HAVE_AUTHD, authd  # noqa: F401
from util import free_port

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"


def postfix_skip_reason():
    if not HAVE_AUTHD:
        return "authd not built"
    if not os.path.exists(POSTFIX):
        return "postfix is not installed"
    if os.geteuid() != 0:
        return "a private Postfix instance needs root (postfix start)"
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return "no postfix user"
    return None


pytestmark = pytest.mark.skipif(postfix_skip_reason() is not None,
                                reason=postfix_skip_reason() or "")

MASTER_CF = """\
{addr} inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


class Postfix:
    """A private Postfix instance under a fresh directory."""

    def __init__(self, sasl_path):
        self.top = pathlib.Path(tempfile.mkdtemp(prefix="dirmail-pf-"))
        self.top.chmod(0o755)
        self.conf = self.top / "etc"
        self.conf.mkdir()
        (self.top / "data").mkdir()
        (self.top / "queue").mkdir(mode=0o755)
        shutil.chown(self.top / "data", "postfix", "postfix")
        self.port = free_port()
        self.maillog = self.top / "maillog"
        (self.conf / "main.cf").write_text(f"""\
compatibility_level = 3.6
queue_directory = {self.top}/queue
data_directory = {self.top}/data
mail_owner = postfix
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.example.test
mydestination =
alias_maps =
alias_database =
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = unix:{sasl_path}
smtpd_sasl_security_options = noanonymous
smtpd_tls_security_level = none
smtpd_relay_restrictions = permit_sasl_authenticated, reject
maillog_file = {self.maillog}
maillog_file_prefixes = {self.top}
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 100
""")
        (self.conf / "master.cf").write_text(
            MASTER_CF.format(addr=f"127.0.0.1:{self.port}"))

    def run(self, *args):
        return subprocess.run([POSTFIX, "-c", str(self.conf)] + list(args),
                              capture_output=True, text=True, timeout=60)

    def start(self):
        r = self.run("start")
        assert r.returncode == 0, r.stdout + r.stderr
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=5) as s:
                    s.ehlo()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"postfix did not start: {self.log()}")

    def log(self):
        try:
            return self.maillog.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self):
        self.run("stop")
        pid_file = self.top / "queue" / "pid" / "master.pid"
        try:
            pid = int(pid_file.read_text().strip())
            os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass
        shutil.rmtree(self.top, ignore_errors=True)

    def smtp(self):
        s = smtplib.SMTP("127.0.0.1", self.port, timeout=15)
        s.ehlo("client.example.test")
        return s


@pytest.fixture
def postfix():
    made = []

    def make(sasl_path):
        p = Postfix(sasl_path)
        made.append(p)
        p.start()
        return p
    yield make
    for p in made:
        p.stop()


def auth(s, mech, user, password):
    """AUTH MECH; return (code, text)."""
    s.user, s.password = user, password
    try:
        code, text = s.auth(mech, getattr(s, "auth_" + mech.lower()),
                            initial_response_ok=(mech == "PLAIN"))
    except smtplib.SMTPAuthenticationError as e:
        code, text = e.smtp_code, e.smtp_error
    except smtplib.SMTPServerDisconnected:
        return 0, b"disconnected"
    return code, text.decode() if isinstance(text, bytes) else text


def test_postfix_auth_plain_and_login(authd, postfix):  # noqa: F811
    a = authd()
    p = postfix(a.client_path)
    with p.smtp() as s:
        assert "PLAIN" in s.esmtp_features.get("auth", "")
        assert "LOGIN" in s.esmtp_features.get("auth", "")
        assert auth(s, "PLAIN", "alice", "secret")[0] == 235
    with p.smtp() as s:
        assert auth(s, "LOGIN", "bob", "hunter2")[0] == 235
    with p.smtp() as s:
        start = time.monotonic()
        code, text = auth(s, "PLAIN", "alice", "wrong")
        assert code == 535, text
        assert time.monotonic() - start < 10
        code, _ = auth(s, "LOGIN", "nosuch", "wrong")
        assert code == 535
        assert auth(s, "LOGIN", "carol", "two words")[0] == 235
    assert "no SASL authentication mechanisms" not in p.log()
    assert "sasl_username=alice" in p.log()


def test_postfix_temporary_failure_is_454(authd, postfix):  # noqa: F811
    a = authd()
    p = postfix(a.client_path)
    os.rename(a.passwd, str(a.passwd) + ".away")
    with p.smtp() as s:
        code, text = auth(s, "PLAIN", "alice", "secret")
        assert code == 454, text
    os.rename(str(a.passwd) + ".away", a.passwd)
    with p.smtp() as s:
        assert auth(s, "PLAIN", "alice", "secret")[0] == 235
    assert "no SASL authentication mechanisms" not in p.log()


def test_postfix_edge_cases(authd, postfix):  # noqa: F811
    a = authd()
    p = postfix(a.client_path)
    with p.smtp() as s:
        code, _ = s.docmd("AUTH", "PLAIN =")
        assert code == 535
        code, _ = s.docmd("AUTH", "LOGIN")
        assert code == 334
        code, _ = s.docmd("*")
        assert code == 501
        assert auth(s, "PLAIN", "bob", "hunter2")[0] == 235
    assert "no SASL authentication mechanisms" not in p.log()


def authd_pid(d):
    for pid in d.children():
        try:
            if open(f"/proc/{pid}/comm").read().strip() == "authd":
                return pid
        except OSError:
            pass
    return None


def test_postfix_survives_an_authd_restart(authd, postfix):  # noqa: F811
    a = authd()
    p = postfix(a.client_path)
    with p.smtp() as s:
        assert auth(s, "PLAIN", "alice", "secret")[0] == 235
    old = authd_pid(a.d)
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pid = authd_pid(a.d)
        if pid not in (None, old) and a.d._accepts("auth_listen"):
            break
        time.sleep(0.1)
    codes = []
    for _ in range(2):
        with p.smtp() as s:
            codes.append(auth(s, "PLAIN", "alice", "secret")[0])
        if codes[-1] == 235:
            break
    assert codes in ([235], [454, 235]), codes
    assert "no SASL authentication mechanisms" not in p.log()
