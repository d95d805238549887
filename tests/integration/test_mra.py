"""The login side of imapd and pop3d (src/mra): greetings and
capabilities before login, STARTTLS/STLS, LOGIN, AUTHENTICATE, USER/PASS
and AUTH through a real authd, the hand-over to a mail process running
as the mailbox owner, the proxy, limits and log lines.

The mail processes here run a TEST engine (tests/svc/mra_test), not the
real IMAP or POP3 one: it answers the login, answers WHOAMI with the
uid/gid it runs as and the session's fields, echoes other lines and ends
on LOGOUT or QUIT.
"""

import base64
import imaplib
import os
import pathlib
import poplib
import re
import socket
import ssl
import subprocess
import time

import pytest

from dirmail_fixture import wait_for
from test_local import make_dir, mail_root, tmpdirs  # noqa: F401

ALICE, BOB, LOW = 1000, 1001, 100
LISTENERS = ["imap_listen", "imaps_listen", "pop3_listen", "pop3s_listen"]


def passwd_line(user, uid, home):
    return f"{user}:{{PLAIN}}{user}-password:{uid}:{uid}::{home}::\n"


@pytest.fixture
def mra(dirmail, tmp_path, smtp_cert, tmpdirs):  # noqa: F811
    """Factory: an instance with authd (passwd-file: alice 1000, bob
    1001, low 100) and imapd/pop3d running the test engine."""
    made = []

    def make(params=None, services=None, listen=LISTENERS):
        root = mail_root(tmpdirs)
        homes = {}
        lines = ""
        for user, uid in (("alice", ALICE), ("bob", BOB), ("low", LOW)):
            homes[user] = make_dir(root / user, uid, uid)
            lines += passwd_line(user, uid, homes[user])
        passwd = tmp_path / "passwd"
        passwd.write_text(lines)
        conf = {
            "passdb": f"passwd-file:{passwd}",
            "userdb": f"passwd-file:{passwd}",
            "mail_location": "maildir:~/Maildir",
            "first_valid_uid": "500",
            "auth_failure_delay": "1s",
            "ssl_cert": smtp_cert[0],
            "ssl_key": smtp_cert[1],
            "login_greeting": "Test ready.",
        }
        conf.update(params or {})
        if services is None:
            services = {"authd": "authd", "imapd": "mra_test",
                        "pop3d": "mra_test"}
        d = dirmail(params=conf, listen=listen, services=services)
        d.homes = homes
        made.append(d)
        return d
    yield make
    for d in made:
        log = d.log()
        print(log)     # shown when the test failed
        assert "Sanitizer" not in log and "runtime error" not in log


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Client:
    """A line client over a socket (wrapped in TLS on demand)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"closed; pending {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode()

    def until(self, prefix):
        """Lines up to and including the first starting with PREFIX."""
        lines = []
        while True:
            lines.append(self.line())
            if lines[-1].startswith(prefix):
                return lines

    def starttls(self):
        assert self.buf == b""
        self.sock = tls_context().wrap_socket(self.sock)

    def closed(self, timeout=5):
        """True when the server closes without sending more."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, ssl.SSLError):
            return True


def connect(d, name, tls=False, source=None, host="127.0.0.1"):
    port = d.ports.get(name) or int(str(d.params[name]).rsplit(":", 1)[1])
    s = socket.create_connection((host, port), timeout=15,
                                 source_address=(source, 0) if source
                                 else None)
    if tls:
        s = tls_context().wrap_socket(s)
    return Client(s)


def whoami(c, tag="w"):
    c.send(f"{tag} WHOAMI\r\n")
    lines = c.until(f"{tag} ")
    assert lines[-1] == f"{tag} OK done", lines
    return dict(kv.split("=", 1) for kv in lines[0].split()[2:])


def mpid_uids(pid):
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    uids = re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()
    gids = re.search(r"^Gid:\s+(.*)$", status, re.M).group(1).split()
    return [int(u) for u in uids], [int(g) for g in gids]


def mpid_groups(pid):
    """The supplementary groups of process PID."""
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    return {int(g) for g in
            re.search(r"^Groups:(.*)$", status, re.M).group(1).split()}


CAPS = ("IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+")


def test_imap_login_runs_the_engine_as_the_owner(mra):
    d = mra()
    mark = d.mark()
    c = connect(d, "imap_listen")
    assert c.line() == (f"* OK [CAPABILITY {CAPS} STARTTLS AUTH=PLAIN "
                        "AUTH=LOGIN] Test ready.")
    c.send("a ID (\"name\" \"pytest\")\r\n")
    assert c.until("a ") == ['* ID ("name" "dirmail")', "a OK ID completed."]
    c.send("b LOGIN alice alice-password\r\n")
    assert c.line() == "b OK [CAPABILITY IMAP4rev1 TEST] Logged in"
    w = whoami(c)
    assert (w["uid"], w["gid"], w["euid"], w["egid"]) == ("1000",) * 4
    assert w["user"] == "alice" and w["mech"] == "PLAIN"
    assert w["home"] == str(d.homes["alice"])
    assert w["mail"] == f"{d.homes['alice']}/Maildir"
    assert (w["tls"], w["secured"], w["rip"]) == ("0", "1", "127.0.0.1")
    m = d.wait_log(r"imap-login: Login: user=<alice>, method=PLAIN, "
                   r"rip=127\.0\.0\.1, lip=127\.0\.0\.1, mpid=(\d+), "
                   r"secured, session=<[A-Za-z0-9+/]{16}>", since=mark)
    uids, gids = mpid_uids(int(m.group(1)))
    assert set(uids) == {ALICE} and set(gids) == {ALICE}
    c.send("z LOGOUT\r\n")
    assert c.until("z ")[-1] == "z OK Logout completed."
    assert c.closed()
    d.wait_log(r"imap\(alice\): Disconnected: Logged out in=\d+ out=\d+",
               since=mark)


def test_imap_authenticate_plain_ir_and_login_mechanism(mra):
    d = mra()
    c = connect(d, "imap_listen")
    c.line()
    ir = base64.b64encode(b"\0bob\0bob-password").decode()
    c.send(f"a AUTHENTICATE PLAIN {ir}\r\n")
    assert c.line() == "a OK [CAPABILITY IMAP4rev1 TEST] Logged in"
    assert whoami(c)["uid"] == str(BOB)

    c = connect(d, "imap_listen")
    c.line()
    c.send("a AUTHENTICATE LOGIN\r\n")
    assert c.line() == "+ " + base64.b64encode(b"Username:").decode()
    c.send(base64.b64encode(b"alice").decode() + "\r\n")
    assert c.line() == "+ " + base64.b64encode(b"Password:").decode()
    c.send(base64.b64encode(b"alice-password").decode() + "\r\n")
    assert c.line() == "a OK [CAPABILITY IMAP4rev1 TEST] Logged in"
    w = whoami(c)
    assert (w["uid"], w["mech"]) == (str(ALICE), "LOGIN")

    # "*" cancels; the connection stays usable.
    c = connect(d, "imap_listen")
    c.line()
    c.send("a AUTHENTICATE PLAIN\r\n")
    assert c.line() == "+ "
    c.send("*\r\n")
    assert c.line() == "a BAD Authentication aborted by client."
    c.send("b LOGIN {5}\r\n")
    assert c.line() == "+ OK"
    c.send("alice {14+}\r\nalice-password\r\n")
    assert c.line() == "b OK [CAPABILITY IMAP4rev1 TEST] Logged in"


def test_imap_wrong_password_and_bad_commands(mra):
    d = mra()
    mark = d.mark()
    c = connect(d, "imap_listen")
    c.line()
    start = time.monotonic()
    c.send("a LOGIN alice wrong\r\n")
    assert c.line() == "a NO [AUTHENTICATIONFAILED] Authentication failed."
    assert time.monotonic() - start >= 0.9     # authd's failure delay
    c.send("b LOGOUT\r\n")
    c.until("b ")
    d.wait_log(r"imap-login: Disconnected \(auth failed, 1 attempts in "
               r"\d+ secs\): user=<alice>, method=PLAIN, "
               r"rip=127\.0\.0\.1", since=mark)
    assert "Login: user=<alice>" not in d.log()[mark:]

    c = connect(d, "imap_listen")
    c.line()
    for i in range(9):
        c.send(f"x{i} SELECT INBOX\r\n")
        assert c.line().startswith(f"x{i} BAD ")
    c.send("y FETCH 1 BODY[]\r\n")
    assert c.line().startswith("y BAD ")
    assert c.line() == "* BYE Too many invalid IMAP commands."
    assert c.closed()

    c = connect(d, "imap_listen")
    c.line()
    c.send("a LOGIN " + "x" * 9000 + "\r\n")
    assert c.line().startswith("* BYE")
    assert c.closed()


def test_imap_uid_below_first_valid_uid_is_refused(mra):
    d = mra()
    mark = d.mark()
    c = connect(d, "imap_listen")
    c.line()
    c.send("a LOGIN low low-password\r\n")
    assert c.line() == ("a NO [UNAVAILABLE] Temporary authentication "
                        "failure.")
    d.wait_log(r"UID 100 not permitted.*first_valid_uid", since=mark)
    assert "Login: user=<low>" not in d.log()[mark:]


def test_imap_starttls_with_imaplib(mra):
    d = mra()
    m = imaplib.IMAP4("127.0.0.1", d.ports["imap_listen"])
    assert "STARTTLS" in m.capabilities
    m.starttls(ssl_context=tls_context())
    assert "STARTTLS" not in m.capabilities
    assert "AUTH=PLAIN" in m.capabilities
    assert m.login("alice", "alice-password")[0] == "OK"
    m.shutdown()


def test_imap_starttls_with_openssl_s_client(mra):
    d = mra()
    r = subprocess.run(
        ["openssl", "s_client", "-quiet", "-crlf", "-starttls", "imap",
         "-connect", f"127.0.0.1:{d.ports['imap_listen']}"],
        input="a CAPABILITY\nb LOGIN alice alice-password\nc WHOAMI\n"
              "d LOGOUT\n", capture_output=True, text=True, timeout=20)
    out = r.stdout.replace("\r", "")
    assert f"* CAPABILITY {CAPS} AUTH=PLAIN AUTH=LOGIN\n" in out
    assert "b OK [CAPABILITY IMAP4rev1 TEST] Logged in\n" in out
    assert "tls=1" in out and "uid=1000" in out


def test_imap_starttls_injection_is_never_executed(mra):
    d = mra()
    mark = d.mark()
    c = connect(d, "imap_listen")
    c.line()
    c.send("a STARTTLS\r\nb LOGIN alice alice-password\r\n")
    assert c.line() == "a OK Begin TLS negotiation now."
    c.starttls()
    c.send("c CAPABILITY\r\n")
    lines = c.until("c ")
    assert not any(x.startswith("b ") for x in lines), lines
    assert lines[0] == f"* CAPABILITY {CAPS} AUTH=PLAIN AUTH=LOGIN"
    c.send("d STARTTLS\r\n")
    assert c.line() == "d BAD TLS is already active."
    time.sleep(0.3)
    assert "Login: user=<alice>" not in d.log()[mark:]


def test_imaps_is_tls_from_the_start(mra):
    d = mra()
    mark = d.mark()
    c = connect(d, "imaps_listen", tls=True)
    assert c.line() == (f"* OK [CAPABILITY {CAPS} AUTH=PLAIN AUTH=LOGIN] "
                        "Test ready.")
    c.send("a LOGIN alice alice-password\r\n")
    assert c.line().startswith("a OK ")
    w = whoami(c)
    assert (w["tls"], w["secured"]) == ("1", "1")
    d.wait_log(r"imap-login: Login: user=<alice>, method=PLAIN, .*, TLS, "
               r"session=", since=mark)


def test_pipelined_commands_after_login_reach_the_engine_once(mra):
    d = mra()
    c = connect(d, "imap_listen")
    c.line()
    c.send("a LOGIN alice alice-password\r\nb FIRST\r\nc SECOND\r\n"
           "w WHOAMI\r\n")
    lines = c.until("w ")
    assert lines[:5] == ["a OK [CAPABILITY IMAP4rev1 TEST] Logged in",
                         "* ECHO b FIRST", "b OK echo",
                         "* ECHO c SECOND", "c OK echo"], lines
    assert int(lines[5].split("input=")[1].split()[0]) > 0
    c.send("e THIRD\r\n")
    assert c.until("e ") == ["* ECHO e THIRD", "e OK echo"]


def test_authd_down_is_a_temporary_failure(mra):
    d = mra(services={"imapd": "mra_test", "pop3d": "mra_test"})
    c = connect(d, "imap_listen")
    c.line()
    c.send("a LOGIN alice alice-password\r\n")
    assert c.line() == ("a NO [UNAVAILABLE] Temporary authentication "
                        "failure.")
    c = connect(d, "pop3_listen")
    c.line()
    c.send("USER alice\r\n")
    assert c.line() == "+OK"
    c.send("PASS alice-password\r\n")
    assert c.line() == "-ERR [SYS/TEMP] Temporary authentication failure."


def test_max_userip_connections(mra):
    d = mra({"mail_max_userip_connections": "1"})
    c1 = connect(d, "imap_listen")
    c1.line()
    c1.send("a LOGIN alice alice-password\r\n")
    assert c1.line().startswith("a OK ")
    c2 = connect(d, "imap_listen")
    c2.line()
    c2.send("a LOGIN alice alice-password\r\n")
    assert c2.line().startswith("a NO [LIMIT] ")
    c2.send("b LOGIN bob bob-password\r\n")
    assert c2.line().startswith("b OK ")


def test_pop3_user_pass_and_capa(mra):
    d = mra()
    mark = d.mark()
    c = connect(d, "pop3_listen")
    assert c.line() == "+OK Test ready."
    c.send("CAPA\r\n")
    assert c.until(".") == ["+OK", "CAPA", "TOP", "UIDL", "RESP-CODES",
                            "PIPELINING", "AUTH-RESP-CODE", "STLS", "USER",
                            "SASL PLAIN LOGIN", "."]
    c.send("USER bob\r\n")
    assert c.line() == "+OK"
    c.send("PASS wrong\r\n")
    assert c.line() == "-ERR [AUTH] Authentication failed."
    c.send("USER bob\r\nPASS bob-password\r\nWHOAMI\r\n")
    assert c.line() == "+OK"
    assert c.line() == "+OK Logged in."
    w = dict(kv.split("=", 1) for kv in c.line().split()[1:])
    assert (w["uid"], w["euid"], w["gid"], w["mech"], w["service"]) == \
        (str(BOB), str(BOB), str(BOB), "USER", "pop3")
    d.wait_log(r"pop3-login: Login: user=<bob>, method=PLAIN, "
               r"rip=127\.0\.0\.1", since=mark)
    p = poplib.POP3("127.0.0.1", d.ports["pop3_listen"])
    p.user("alice")
    assert p.pass_("alice-password").startswith(b"+OK Logged in")
    p.quit()


def test_pop3_auth_plain_and_stls(mra):
    d = mra()
    c = connect(d, "pop3_listen")
    c.line()
    ir = base64.b64encode(b"\0alice\0alice-password").decode()
    c.send(f"AUTH PLAIN {ir}\r\n")
    assert c.line() == "+OK Logged in."
    c.send("QUIT\r\n")
    assert c.line() == "+OK Logging out."

    p = poplib.POP3("127.0.0.1", d.ports["pop3_listen"])
    p.stls(context=tls_context())
    assert "STLS" not in p.capa()
    p.user("bob")
    assert p.pass_("bob-password").startswith(b"+OK Logged in")

    r = subprocess.run(
        ["openssl", "s_client", "-quiet", "-crlf", "-starttls", "pop3",
         "-connect", f"127.0.0.1:{d.ports['pop3_listen']}"],
        input="USER alice\nPASS alice-password\nWHOAMI\nQUIT\n",
        capture_output=True, text=True, timeout=20)
    assert "+OK Logged in." in r.stdout and "tls=1" in r.stdout

    c = connect(d, "pop3s_listen", tls=True)
    assert c.line() == "+OK Test ready."
    c.send("AUTH PLAIN\r\n")
    assert c.line() == "+ "
    c.send(ir + "\r\n")
    assert c.line() == "+OK Logged in."


def test_plaintext_disallowed_off_the_server_address(mra):
    # Dovecot's rule: a client on the server's own address counts as
    # secured, any other needs TLS.  127.0.0.1 -> 127.0.0.2 is not.
    imap, pop3 = [f"127.0.0.2:{p}" for p in (free(), free())]
    d = mra({"imap_listen": imap, "pop3_listen": pop3},
            listen=["imaps_listen"])
    c = wait_connect(d, "imap_listen", source="127.0.0.1", host="127.0.0.2")
    assert c.line() == (f"* OK [CAPABILITY {CAPS} STARTTLS LOGINDISABLED] "
                        "Test ready.")
    c.send("a LOGIN alice alice-password\r\n")
    assert c.line().startswith("a NO [PRIVACYREQUIRED] ")
    c.send("b STARTTLS\r\n")
    assert c.line() == "b OK Begin TLS negotiation now."
    c.starttls()
    c.send("c LOGIN alice alice-password\r\n")
    assert c.line().startswith("c OK ")

    c = wait_connect(d, "pop3_listen", source="127.0.0.1", host="127.0.0.2")
    c.line()
    c.send("CAPA\r\n")
    capa = c.until(".")
    assert "USER" not in capa and "STLS" in capa
    c.send("USER alice\r\n")
    assert c.line().startswith("-ERR [AUTH] Plaintext authentication "
                               "disallowed")


def free():
    from util import free_port
    return free_port("127.0.0.2")


def wait_connect(d, name, **kw):
    def attempt():
        try:
            return connect(d, name, **kw)
        except OSError:
            return None
    return wait_for(attempt, 10, what=f"{name} to accept")


def service_pid(d, name, since=0):
    return int(d.wait_log(rf"service {name} started \(pid (\d+)\)",
                          since=since).group(1))


def login(d, user="alice"):
    c = connect(d, "imap_listen")
    c.line()
    c.send(f"a LOGIN {user} {user}-password\r\n")
    assert c.line().startswith("a OK "), user
    return c


def test_spawner_and_login_process_outlive_each_other(mra):
    from dirmail_fixture import child_pids, pid_alive
    d = mra()
    imapd = service_pid(d, "imapd")
    session = login(d)
    spawner, = child_pids(imapd)    # mail processes are its children
    assert child_pids(spawner)

    # The spawner dies: the session goes on, new logins fail softly.
    mark = d.mark()
    os.kill(spawner, 9)
    d.wait_log(r"imap-login: the spawner is gone", since=mark)
    session.send("b STILL\r\n")
    assert session.until("b ") == ["* ECHO b STILL", "b OK echo"]
    assert pid_alive(imapd)
    session.send("z LOGOUT\r\n")
    session.until("z ")
    # With its last session gone, imapd ends and dirmaild restarts it.
    new = service_pid(d, "imapd", since=mark)
    assert new != imapd
    wait_for(lambda: child_pids(new), what="the new spawner")

    # The login process dies: its spawner follows, the restart serves.
    spawner = child_pids(new)[0]
    mark = d.mark()
    os.kill(new, 9)
    wait_for(lambda: not pid_alive(spawner), what="the spawner to exit")
    service_pid(d, "imapd", since=mark)
    c = wait_for(lambda: try_login(d), 15, what="a login after restart")
    assert whoami(c)["uid"] == str(ALICE)


def try_login(d):
    try:
        return login(d)
    except (OSError, EOFError, AssertionError):
        return None


def test_ldap_user_logs_in_with_the_directory_uid(mra, tmp_path, slapd,
                                                  tmpdirs):  # noqa: F811
    root = mail_root(tmpdirs)
    make_dir(root / "alice", 1001, 1001)
    conf = tmp_path / "ldap.conf.ext"
    conf.write_text(
        f"uris = {slapd.ldap_uri}\nbase = {slapd.base}\n"
        f"dn = {slapd.service_dn}\ndnpass = {slapd.service_pw}\n"
        "auth_bind = yes\n"
        "pass_filter = (&(objectClass=inetOrgPerson)(uid=%u))\n"
        "pass_attrs = uid=user\n"
        "user_filter = (&(objectClass=posixAccount)(uid=%n))\n"
        "user_attrs = =home=%{ldap:homeDirectory}, "
        "=uid=%{ldap:uidNumber}, gidNumber=gid\n")
    d = mra({"passdb": f"ldap:{conf}", "userdb": f"ldap:{conf}",
             "mail_location": f"maildir:{root}/%n/Maildir"})
    c = login(d)
    w = whoami(c)
    assert (w["uid"], w["gid"], w["euid"]) == ("1001", "1001", "1001")
    assert (w["home"], w["mail"]) == ("/home/alice",
                                      f"{root}/alice/Maildir")


@pytest.mark.parametrize("uid, why", [
    ("100", r"uid 100 is below first_valid_uid 500"),
    ("0", r"uid 0 \(root\) is not permitted"),
    ("1001", None),
])
def test_mail_uid_wins_and_is_checked_by_the_spawner(mra, uid, why):
    # authd checks the userdb's uid (1000); mail_uid replaces it only in
    # the mail process, so these refusals are the spawner's own.
    d = mra({"mail_uid": uid, "mail_gid": "1001"})
    mark = d.mark()
    c = connect(d, "imap_listen")
    c.line()
    c.send("a LOGIN alice alice-password\r\n")
    if why is None:
        assert c.line().startswith("a OK ")
        w = whoami(c)
        assert (w["uid"], w["euid"], w["gid"]) == ("1001",) * 3
        return
    assert c.line() == ("a NO [UNAVAILABLE] Temporary authentication "
                        "failure.")
    d.wait_log(rf"imap\(alice\): mail access refused: {why}", since=mark)
    assert "Login: user=<alice>" not in d.log()[mark:]


def test_imap_literal_limits(mra):
    d = mra()
    c = connect(d, "imap_listen")
    c.line()
    # Refused before the client sends it, and the connection goes on.
    c.send("a LOGIN {4294967295}\r\n")
    assert c.line() == "a NO [TOOBIG] Literal too large."
    c.send("b NOOP\r\n")
    assert c.line() == "b OK NOOP completed."
    c.send("c LOGIN {99999999999999999999999}\r\n")
    assert c.line() == "* BYE Invalid literal size."
    assert c.closed()
    # A LITERAL+ one cannot be refused without losing the stream.
    c = connect(d, "imap_listen")
    c.line()
    c.send("a LOGIN {5000+}\r\n")
    assert c.line() == "* BYE Literal too large."
    assert c.closed()
    # A NUL in a literal is not a password.
    c = connect(d, "imap_listen")
    c.line()
    c.send("a LOGIN alice {15+}\r\nalice-password\0\r\n")
    assert c.line().startswith("a BAD ")
