"""authd: the Dovecot auth-client protocol as Postfix and Dovecot's own
clients speak it, over passwd-file users made here."""

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

from authproto import AuthConn, b64, plain, userdb_handshake
from util import program

try:
    program("authd")
    HAVE_AUTHD = True
except FileNotFoundError:
    HAVE_AUTHD = False

pytestmark = pytest.mark.skipif(not HAVE_AUTHD, reason="authd not built")

USERS = {"alice": "secret", "bob": "hunter2", "carol": "two words"}


def sha512_crypt(password):
    """A $6$ hash of PASSWORD made by openssl(1)."""
    return subprocess.run(["openssl", "passwd", "-6", "-stdin"],
                          input=password, capture_output=True, text=True,
                          check=True).stdout.strip()


def write_passwd_file(path, users=USERS):
    """Dovecot passwd-file with USERS (alice gets a $6$ hash)."""
    lines = []
    for i, (user, password) in enumerate(sorted(users.items())):
        stored = "{SHA512-CRYPT}" + sha512_crypt(password) \
            if user == "alice" else "{PLAIN}" + password
        lines.append(f"{user}:{stored}:{1000 + i}:{1000 + i}::"
                     f"/home/{user}::userdb_quota_rule=*:storage=1G\n")
    path.write_text("".join(lines))
    return path


class Authd:
    """A dirmail instance running authd; sockets in a directory others
    can reach (the postfix user)."""

    def __init__(self, dirmail, params=None, name="dirmail", env=None):
        self.sockdir = tempfile.mkdtemp(prefix="dirmail-auth-")
        os.chmod(self.sockdir, 0o755)
        self.passwd = write_passwd_file(
            __import__("pathlib").Path(self.sockdir) / "users")
        self.client_path = os.path.join(self.sockdir, "auth-client")
        self.userdb_path = os.path.join(self.sockdir, "auth-userdb")
        p = {
            "auth_listen": f"unix:{self.client_path}:0666",
            "auth_userdb_listen": f"unix:{self.userdb_path}:0666",
            "passdb": f"passwd-file:{self.passwd}",
            "userdb": f"passwd-file:{self.passwd}",
            "auth_failure_delay": "1s",
        }
        p.update(params or {})
        self.d = dirmail(params=p, services={"authd": "authd"}, name=name,
                         start=False)
        self.d.env.update(env or {})
        self.d.start()

    def conn(self, minor=2):
        c = AuthConn(self.client_path)
        c.handshake(minor)
        return c

    def userdb(self):
        c = AuthConn(self.userdb_path)
        userdb_handshake(c)
        return c

    def cleanup(self):
        shutil.rmtree(self.sockdir, ignore_errors=True)


@pytest.fixture
def authd(dirmail):
    made = []

    def make(params=None, env=None):
        a = Authd(dirmail, params, name=f"dirmail{len(made)}", env=env)
        made.append(a)
        return a
    yield make
    for a in made:
        a.cleanup()


def test_handshake_lines(authd):
    a = authd()
    with AuthConn(a.client_path) as c:
        # The whole handshake comes without waiting for the client.
        lines = c.read_until("DONE")
        assert lines[0] == "VERSION\t1\t2"
        assert lines[1:3] == ["MECH\tPLAIN\tplaintext",
                              "MECH\tLOGIN\tplaintext"]
        assert re.fullmatch(r"SPID\t\d+", lines[3])
        assert re.fullmatch(r"CUID\t\d+", lines[4])
        assert re.fullmatch(r"COOKIE\t[0-9a-f]{32}", lines[5])
        assert lines[6:] == ["DONE"]
        c.send("VERSION\t1\t2", "CPID\t1")
        c.auth(1, "PLAIN", resp=plain("bob", "hunter2"))
        assert c.reply() == ["OK", "1", "user=bob"]
    with AuthConn(a.client_path) as c2:
        assert c2.read_until("DONE")[5] != lines[5], "cookie is reused"


def test_mechanisms_follow_auth_mechanisms(authd):
    a = authd({"auth_mechanisms": "login"})
    with AuthConn(a.client_path) as c:
        lines = c.handshake()
        assert [ln for ln in lines if ln.startswith("MECH")] == \
            ["MECH\tLOGIN\tplaintext"]
        c.auth(1, "PLAIN", resp=plain("bob", "hunter2"))
        assert c.closed(), "a mechanism not offered was accepted"


def test_plain_success_postfix_line(authd):
    a = authd()
    with a.conn(minor=0) as c:
        c.send("AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\t"
               "rip=192.0.2.7\tsecured\tresp=" + plain("alice", "secret"))
        assert c.reply(timeout=5) == ["OK", "1", "user=alice"]
        c.auth(2, "plain", "lip=", "rip=", resp=plain("carol", "two words"))
        assert c.reply(timeout=5) == ["OK", "2", "user=carol"]
        c.auth(3, "PLAIN", "lip=::1", "rip=::1", resp=plain("bob", "hunter2"))
        assert c.reply(timeout=5) == ["OK", "3", "user=bob"]


def test_plain_without_initial_response(authd):
    a = authd()
    with a.conn() as c:
        c.auth(2, "PLAIN")
        assert c.reply() == ["CONT", "2", ""]
        c.send("CONT\t2\t" + plain("alice", "secret", authzid="alice"))
        assert c.reply() == ["OK", "2", "user=alice"]


def test_login_exchange(authd):
    a = authd()
    with a.conn() as c:
        c.auth(3, "LOGIN")
        assert c.reply() == ["CONT", "3", b64("Username:")]
        c.send("CONT\t3\t" + b64("bob"))
        assert c.reply() == ["CONT", "3", b64("Password:")]
        c.send("CONT\t3\t" + b64("hunter2"))
        assert c.reply() == ["OK", "3", "user=bob"]
        # With an initial response, straight to Password:.
        c.auth(4, "LOGIN", resp=b64("alice"))
        assert c.reply() == ["CONT", "4", b64("Password:")]
        c.send("CONT\t4\t" + b64("wrong"))
        start = time.monotonic()
        assert c.reply() == ["FAIL", "4", "user=alice"]
        assert 0.4 < time.monotonic() - start < 10


def test_fail_identical_for_unknown_user_and_wrong_password(authd):
    a = authd({"auth_failure_delay": "2s"})
    with a.conn() as c:
        times = {}
        start = time.monotonic()
        c.auth(7, "PLAIN", "no-penalty", "rip=192.0.2.8", "secured",
               resp=plain("alice", "wrong"))
        c.auth(8, "PLAIN", "no-penalty", "rip=192.0.2.8", "secured",
               resp=plain("nosuchuser", "wrong"))
        got = {}
        for _ in range(2):
            r = c.reply()
            got[r[1]] = r[2:]
            times[r[1]] = time.monotonic() - start
        assert got["7"] == ["user=alice"]
        assert got["8"] == ["user=nosuchuser"]
        for t in times.values():
            assert 1.4 < t < 10, times


def test_failure_delay_does_not_stall_others(authd):
    a = authd({"auth_failure_delay": "3s"})
    with a.conn() as c, a.conn() as other:
        start = time.monotonic()
        for i in range(1, 5):
            c.auth(i, "PLAIN", "no-penalty", resp=plain("alice", f"bad{i}"))
        c.auth(5, "PLAIN", "no-penalty", resp=plain("bob", "hunter2"))
        c.auth(100, "LOGIN", "no-penalty")
        first = [c.reply(), c.reply()]
        assert ["OK", "5", "user=bob"] in first
        assert ["CONT", "100", b64("Username:")] in first
        c.send("CONT\t100\t" + b64("bob"))
        assert c.reply()[0] == "CONT"
        c.send("CONT\t100\t" + b64("hunter2"))
        assert c.reply() == ["OK", "100", "user=bob"]
        other.auth(1, "PLAIN", resp=plain("carol", "two words"))
        assert other.reply() == ["OK", "1", "user=carol"]
        assert time.monotonic() - start < 2, "a failure stalled others"
        fails = c.replies(4)
        assert sorted(fails) == [1, 2, 3, 4]
        assert all(r[0] == "FAIL" for r in fails.values())
        assert 2.4 < time.monotonic() - start < 10


def test_penalty_grows_but_replies_stay_under_10s(authd):
    a = authd({"auth_failure_delay": "1s"})
    with a.conn() as c:
        took = []
        for i in range(4):
            start = time.monotonic()
            c.auth(i + 1, "PLAIN", "rip=192.0.2.99", "secured",
                   resp=plain("alice", f"guess{i}"))
            assert c.reply(timeout=12)[0] == "FAIL"
            took.append(time.monotonic() - start)
        assert max(took) < 10, took
        assert took[-1] > took[0] + 1.5, f"no growing penalty: {took}"
        # Another client address is not slowed down.
        start = time.monotonic()
        c.auth(9, "PLAIN", "rip=192.0.2.100", "secured",
               resp=plain("bob", "hunter2"))
        assert c.reply() == ["OK", "9", "user=bob"]
        assert time.monotonic() - start < 1


def test_many_interleaved_requests(authd):
    a = authd()
    with a.conn() as c:
        lines = []
        for i in range(1, 101):
            if i % 10 == 0:
                lines.append(f"AUTH\t{i}\tPLAIN\tservice=smtp\tno-penalty\t"
                             f"resp={plain('alice', 'nope')}")
            elif i % 3 == 0:
                lines.append(f"AUTH\t{i}\tLOGIN\tservice=smtp\tresp="
                             + b64("carol"))
            else:
                lines.append(f"AUTH\t{i}\tPLAIN\tservice=smtp\tresp="
                             + plain("bob", "hunter2"))
        c.send(*lines)
        got = {}
        while len(got) < 100:
            r = c.reply()
            rid = int(r[1])
            if r[0] == "CONT":
                c.send(f"CONT\t{rid}\t" + b64("two words"))
                continue
            got[rid] = r
        for i in range(1, 101):
            if i % 10 == 0:
                assert got[i][0] == "FAIL", got[i]
            elif i % 3 == 0:
                assert got[i] == ["OK", str(i), "user=carol"]
            else:
                assert got[i] == ["OK", str(i), "user=bob"]


def test_bad_input_closes_only_that_connection(authd):
    a = authd()
    bad = ["HELLO", "", "NOOP", "AUTH\t0\tPLAIN\tservice=smtp",
           "AUTH\tx\tPLAIN\tservice=smtp", "AUTH\t4294967296\tPLAIN\t"
           "service=smtp", "AUTH\t1\tPLAIN", "AUTH\t1\tFOO\tservice=smtp",
           "AUTH\t1\tPLAIN\tservice=smtp\tresp=AAAA\tsecured",
           "\x01\x02garbage\xff"]
    with a.conn() as keep:
        for line in bad:
            with a.conn() as c:
                c.send(line.encode("latin-1"))
                assert c.closed(), f"{line!r} did not close"
        # Oversize line: closed without unbounded buffering.
        with a.conn() as c:
            c.send("AUTH\t1\tPLAIN\tservice=smtp\tresp=" + "A" * 16400)
            assert c.closed()
        # 16383 bytes + LF is still parsed.
        with a.conn() as c:
            head = "AUTH\t1\tPLAIN\tservice=smtp\tresp="
            c.send(head + "A" * (16383 - len(head) - 1) + "!")
            r = c.reply()
            assert r[:3] == ["FAIL", "1", "code=invalid_base64"]
        # Handshake violations.
        for first in (["VERSION\t2\t0", "CPID\t1"],
                      ["VERSION\t1\t2", "AUTH\t1\tPLAIN\tservice=smtp"],
                      ["VERSION\t1\t2", "CPID\t0"]):
            with AuthConn(a.client_path) as c:
                c.send(*first)
                assert c.closed()
        keep.auth(1, "PLAIN", resp=plain("bob", "hunter2"))
        assert keep.reply() == ["OK", "1", "user=bob"]


def test_invalid_base64_cont_unknown_id_and_cancel(authd):
    a = authd()
    with a.conn() as c:
        c.auth(1, "PLAIN", resp="!!!notbase64")
        assert c.reply(timeout=1) == [
            "FAIL", "1", "code=invalid_base64",
            "reason=Invalid base64 data in initial response"]
        c.auth(2, "PLAIN", resp="AGFsaWNlAHNlY3JldA")
        assert c.reply(timeout=1)[2] == "code=invalid_base64"
        c.send("CONT\t99\tAAAA")
        assert c.reply(timeout=1) == [
            "FAIL", "99", "reason=Authentication request timed out"]
        c.auth(4, "LOGIN")
        assert c.reply()[0] == "CONT"
        c.send("CANCEL\t4", "CANCEL\t42", "CONT\t4\t" + b64("bob"))
        assert c.reply(timeout=1) == [
            "FAIL", "4", "reason=Authentication request timed out"]
        c.auth(5, "LOGIN")
        assert c.reply()[0] == "CONT"
        c.send("CONT\t5\t%%%%")
        assert c.reply(timeout=1) == [
            "FAIL", "5", "code=invalid_base64",
            "reason=Invalid base64 data in continued response"]
        # Abandoned (SMTP "*"): the next request is served.
        c.auth(6, "LOGIN")
        assert c.reply()[0] == "CONT"
        c.auth(7, "PLAIN", resp=plain("alice", "secret"))
        assert c.reply() == ["OK", "7", "user=alice"]


def test_duplicate_id(authd):
    a = authd()
    with a.conn() as c:
        c.auth(5, "PLAIN", resp=plain("bob", "hunter2"))
        assert c.reply() == ["OK", "5", "user=bob"]
        c.auth(5, "PLAIN", resp=plain("bob", "hunter2"))
        assert c.reply() == ["OK", "5", "user=bob"], "reuse after OK"
        c.auth(5, "LOGIN")
        assert c.reply()[0] == "CONT"
        c.auth(5, "LOGIN")
        assert c.closed(), "a duplicate pending id was accepted"


def test_empty_response_semantics(authd):
    a = authd()
    with a.conn(minor=2) as c:
        c.auth(1, "PLAIN", "no-penalty", resp="=")
        assert c.reply() == ["FAIL", "1"]
        c.auth(2, "PLAIN", "no-penalty", resp="")
        assert c.reply() == ["FAIL", "2"]
    with a.conn(minor=1) as c:
        c.auth(1, "PLAIN", resp="")
        assert c.reply() == ["CONT", "1", ""]


def test_protocol_alias_and_escaping(authd):
    a = authd()
    with a.conn() as c:
        c.send("AUTH\t2\tPLAIN\tprotocol=smtp\tsession=a\x01tb\tfoo=bar"
               "\tnologin\tresp=" + plain("bob", "hunter2"))
        assert c.reply() == ["OK", "2", "user=bob"]
        # A login name with a TAB is refused and sent back escaped.
        c.auth(3, "PLAIN", "no-penalty", resp=plain("bo\tb", "x"))
        assert c.reply() == ["FAIL", "3", "user=bo\x01tb"]


def test_plaintext_refused_when_not_secured_nor_local(authd):
    a = authd()
    with a.conn() as c:
        start = time.monotonic()
        c.auth(1, "PLAIN", "no-penalty", "lip=192.0.2.1", "rip=192.0.2.50",
               resp=plain("bob", "hunter2"))
        r = c.reply()
        assert r[:2] == ["FAIL", "1"] and "reason=Plaintext" in r[-1]
        assert time.monotonic() - start < 10
        c.auth(2, "LOGIN", "no-penalty", "lip=192.0.2.1", "rip=192.0.2.50")
        assert c.reply()[:2] == ["FAIL", "2"]
        # TLS (secured), same addresses (local) and loopback are fine.
        c.auth(3, "PLAIN", "lip=192.0.2.1", "rip=192.0.2.50", "secured",
               resp=plain("bob", "hunter2"))
        assert c.reply() == ["OK", "3", "user=bob"]
        c.auth(4, "PLAIN", "lip=192.0.2.1", "rip=192.0.2.1",
               resp=plain("bob", "hunter2"))
        assert c.reply() == ["OK", "4", "user=bob"]
        c.auth(5, "PLAIN", "lip=192.0.2.1", "rip=127.0.0.1",
               resp=plain("bob", "hunter2"))
        assert c.reply() == ["OK", "5", "user=bob"]


def test_plaintext_allowed_when_disable_plaintext_auth_is_no(authd):
    a = authd({"disable_plaintext_auth": "no"})
    with a.conn() as c:
        c.auth(1, "PLAIN", "lip=192.0.2.1", "rip=192.0.2.50",
               resp=plain("bob", "hunter2"))
        assert c.reply() == ["OK", "1", "user=bob"]


def test_temporary_failure_closes_old_clients_only(authd):
    a = authd()
    os.rename(a.passwd, str(a.passwd) + ".away")
    with a.conn(minor=2) as new, a.conn(minor=1) as old:
        start = time.monotonic()
        new.auth(1, "PLAIN", "no-penalty", resp=plain("bob", "hunter2"))
        assert new.reply() == ["FAIL", "1", "code=temp_fail", "user=bob"]
        old.auth(1, "PLAIN", "no-penalty", resp=plain("bob", "hunter2"))
        assert old.closed(timeout=10), "a 1.1 client got no close"
        assert time.monotonic() - start < 10
    with a.conn(minor=0) as old:
        old.auth(2, "PLAIN", "no-penalty", resp=plain("bob", "hunter2"))
        assert old.closed(timeout=10)
    os.rename(str(a.passwd) + ".away", a.passwd)
    with a.conn(minor=0) as old:
        old.auth(3, "PLAIN", resp=plain("bob", "hunter2"))
        assert old.reply() == ["OK", "3", "user=bob"]
    assert re.search(r"result=tempfail, backend=passwd-file", a.d.log())


def test_one_log_line_per_login_without_password(authd):
    a = authd()
    with a.conn() as c:
        c.auth(1, "PLAIN", "rip=127.0.0.1", resp=plain("alice", "secret"))
        c.auth(2, "PLAIN", "no-penalty", "rip=127.0.0.1",
               resp=plain("bob", "wrongpw"))
        c.replies(2)
    log = a.d.wait_log(r"user=<bob>.*result=failed")
    log = a.d.log()
    assert re.search(r"user=<alice>, method=PLAIN, service=smtp, "
                     r"rip=127\.0\.0\.1, result=ok, backend=passwd-file, "
                     r"time=\d+ms", log)
    assert len(re.findall(r"user=<alice>", log)) == 1
    assert "secret" not in log and "wrongpw" not in log


def test_username_format_realm_and_chars(authd):
    users = {"alice@example.com": "secret", "bob": "hunter2"}
    a = authd({"auth_default_realm": "example.com",
               "auth_username_format": "%Lu"})
    write_passwd_file(a.passwd, users)
    with a.conn() as c:
        c.auth(1, "PLAIN", resp=plain("ALICE", "secret"))
        assert c.reply() == ["OK", "1", "user=alice@example.com"]
        c.auth(2, "PLAIN", "no-penalty", resp=plain("al*ice", "secret"))
        assert c.reply()[:2] == ["FAIL", "2"]
    b = authd({"auth_username_format": "%Ln"})
    write_passwd_file(b.passwd, users)
    with b.conn() as c:
        c.auth(1, "PLAIN", resp=plain("Bob@Example.ORG", "hunter2"))
        assert c.reply() == ["OK", "1", "user=bob"]


def test_userdb_user_pass_list(authd):
    a = authd()
    with a.userdb() as u:
        u.send("USER\t1\talice\tservice=lmtp")
        assert u.reply() == ["USER", "1", "alice", "uid=1000", "gid=1000",
                             "home=/home/alice", "quota_rule=*:storage=1G"]
        u.send("USER\t2\tnobody\tservice=lmtp")
        assert u.reply() == ["NOTFOUND", "2"]
        u.send("PASS\t3\tbob\tservice=doveadm")
        assert u.reply() == ["PASS", "3", "user=bob"]
        u.send("LIST\t4")
        got = [u.reply() for _ in range(4)]
        assert got[-1] == ["DONE", "4", ""]
        assert sorted(r[2] for r in got[:3]) == ["alice", "bob", "carol"]
        u.send("LIST\t5\tuser=c*")
        assert u.reply() == ["LIST", "5", "carol"]
        assert u.reply() == ["DONE", "5", ""]
        u.send("USER\t6\talice")
        assert u.closed(), "USER without service= was accepted"
    with AuthConn(a.userdb_path) as u:
        assert u.readline() == "VERSION\t1\t1"
        assert re.fullmatch(r"SPID\t\d+", u.readline())
        u.send("VERSION\t1\t0", "REQUEST\t1\t2\t3\tabc")
        assert u.closed()


def test_userdb_static_passwd_and_overrides(authd):
    a = authd({"userdb": "static:uid=1234 gid=5678 home=/var/mail/%d/%n",
               "userdb_override_fields": "mail=maildir:~/Mail"})
    with a.userdb() as u:
        u.send("USER\t1\tAnn@Example.com\tservice=lmtp")
        assert u.reply() == ["USER", "1", "ann@example.com", "uid=1234",
                             "gid=5678", "home=/var/mail/example.com/ann",
                             "mail=maildir:~/Mail"]
    b = authd({"userdb": f"passwd-file:{a.passwd}, passwd",
               "userdb_override_fields": "gid=42",
               "first_valid_uid": "0"})
    with b.userdb() as u:
        u.send("USER\t1\troot\tservice=lmtp")
        assert u.reply() == ["USER", "1", "root", "uid=0", "gid=42",
                             "home=/root"]
        u.send("USER\t2\tbob\tservice=lmtp")
        assert u.reply()[3:5] == ["uid=1001", "gid=42"]
    with b.userdb() as u:
        os.rename(a.passwd, str(a.passwd) + ".away")
        u.send("USER\t3\troot\tservice=lmtp")
        assert u.reply()[:2] == ["FAIL", "3"], \
            "a failing userdb was skipped"


def test_passwd_file_then_ldap_passdb(authd, slapd, tmp_path):
    conf = tmp_path / "dovecot-ldap.conf.ext"
    conf.write_text(f"uris = {slapd.ldap_uri}\nbase = {slapd.base}\n"
                    f"auth_bind = yes\n"
                    f"auth_bind_userdn = uid=%u,ou=people,{slapd.base}\n")
    a = authd()
    write_passwd_file(a.passwd, {"carol": "two words"})
    a.d.stop()
    a.d.write_config(passdb=f"passwd-file:{a.passwd}, ldap:{conf}")
    a.d.start()
    with a.conn() as c:
        # Not in the passwd-file: the next passdb (LDAP) answers.
        c.auth(1, "PLAIN", resp=plain("alice", "alice-password"))
        assert c.reply() == ["OK", "1", "user=alice"]
        c.auth(2, "PLAIN", "no-penalty", resp=plain("alice", "secret"))
        assert c.reply() == ["FAIL", "2", "user=alice"]
        c.auth(3, "PLAIN", resp=plain("carol", "two words"))
        assert c.reply() == ["OK", "3", "user=carol"]
    log = a.d.log()
    assert re.search(r"user=<alice>.*result=ok, backend=ldap", log)
    assert re.search(r"user=<carol>.*result=ok, backend=passwd-file", log)


def test_unreadable_passwd_file_kinds_are_temporary_failures(authd):
    a = authd()
    os.rename(a.passwd, str(a.passwd) + ".away")
    os.mkfifo(a.passwd)
    with a.conn() as c:
        start = time.monotonic()
        c.auth(1, "PLAIN", "no-penalty", resp=plain("bob", "hunter2"))
        assert c.reply() == ["FAIL", "1", "code=temp_fail", "user=bob"]
        assert time.monotonic() - start < 10
    os.unlink(a.passwd)
    os.mkdir(a.passwd)
    with a.conn() as c:
        c.auth(2, "PLAIN", "no-penalty", resp=plain("bob", "hunter2"))
        assert c.reply() == ["FAIL", "2", "code=temp_fail", "user=bob"]
    os.rmdir(a.passwd)
    os.rename(str(a.passwd) + ".away", a.passwd)
    with a.conn() as c:
        c.auth(3, "PLAIN", resp=plain("bob", "hunter2"))
        assert c.reply() == ["OK", "3", "user=bob"]


def test_penalty_ignores_a_repeated_password_and_groups_ipv6(authd):
    a = authd({"auth_failure_delay": "1s"})
    with a.conn() as c:
        took = []
        for i in range(4):
            start = time.monotonic()
            c.auth(i + 1, "PLAIN", "rip=192.0.2.77", "secured",
                   resp=plain("alice", "stale"))
            assert c.reply()[0] == "FAIL"
            took.append(time.monotonic() - start)
        # One penalty level (1 s) at most: the same stale password.
        assert max(took) < 3.5, took
        for i, rip in enumerate(["2001:db8:1:1::1", "2001:db8:1:2::2"]):
            c.auth(10 + i, "PLAIN", f"rip={rip}", "secured",
                   resp=plain("alice", f"guess{i}"))
            assert c.reply()[0] == "FAIL"
        # The same /48: already one level (1 s plus 1 s delay).
        start = time.monotonic()
        c.auth(20, "PLAIN", "rip=2001:db8:1:3::3", "secured",
               resp=plain("alice", "guess9"))
        assert c.reply()[0] == "FAIL"
        assert time.monotonic() - start > 2.5
