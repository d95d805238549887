"""authd: the master's REQUEST for a finished login on the auth-userdb
socket, and first_valid_uid/last_valid_uid on every userdb answer."""

import time

import pytest

from authproto import AuthConn, plain, userdb_handshake
from test_authd import HAVE_AUTHD, USERS, authd  # noqa: F401
from test_authd import write_passwd_file

pytestmark = pytest.mark.skipif(not HAVE_AUTHD, reason="authd not built")

ALICE = ["alice", "uid=1000", "gid=1000", "home=/home/alice",
         "quota_rule=*:storage=1G"]


def login_conn(a, pid=4242):
    """An auth-client connection after its handshake, and its cookie."""
    c = AuthConn(a.client_path)
    lines = c.handshake(pid=pid)
    cookie = [ln.split("\t")[1] for ln in lines if ln.startswith("COOKIE")]
    return c, cookie[0]


def login(c, rid, user, *params):
    """A successful PLAIN login of USER as request RID on C."""
    c.auth(rid, "PLAIN", *params, resp=plain(user, USERS[user]))
    assert c.reply() == ["OK", str(rid), f"user={user}"]


def master(a):
    """A master connection on the auth-userdb socket."""
    u = AuthConn(a.userdb_path)
    userdb_handshake(u)
    return u


def request(u, rid, pid, client_id, cookie):
    u.send(f"REQUEST\t{rid}\t{pid}\t{client_id}\t{cookie}")
    return u.reply()


def other_cookie(cookie):
    """COOKIE with its last hex digit changed."""
    return cookie[:-1] + ("0" if cookie[-1] != "0" else "1")


def test_request_returns_the_userdb_record_once(authd):
    a = authd()
    c, cookie = login_conn(a)
    with c, master(a) as u:
        login(c, 1, "alice")
        mark = a.d.mark()
        assert request(u, 7, 4242, 1, cookie) == ["USER", "7"] + ALICE
        a.d.wait_log(r"master request: user=<alice>, result=found, "
                     r"backend=passwd-file", since=mark)
        assert request(u, 8, 4242, 1, cookie) == ["FAIL", "8"], \
            "a login was given out twice"
        # Upper-case hex and parameters after the cookie are accepted.
        login(c, 2, "bob")
        u.send(f"REQUEST\t9\t4242\t2\t{cookie.upper()}\tsession_pid=1")
        assert u.reply()[:3] == ["USER", "9", "bob"]


def test_request_needs_the_right_pid_cookie_and_id(authd):
    a = authd()
    c, cookie = login_conn(a)
    with c, master(a) as u:
        login(c, 3, "alice")
        mark = a.d.mark()
        assert request(u, 1, 4242, 3, other_cookie(cookie)) == ["FAIL", "1"]
        a.d.wait_log(r"master request 4242\.3: invalid cookie", since=mark)
        assert request(u, 2, 4243, 3, cookie) == ["FAIL", "2"]
        assert request(u, 3, 4242, 4, cookie) == ["FAIL", "3"]
        # None of the failed attempts used the login up.
        assert request(u, 4, 4242, 3, cookie) == ["USER", "4"] + ALICE


@pytest.mark.parametrize("line", [
    "REQUEST\t1\t4242\t1",
    "REQUEST\t1\t4242\t1\tnothex",
    "REQUEST\t1\t4242\t1\t" + "0" * 31,
    "REQUEST\t1\t4242\t1\t" + "g" * 32,
    "REQUEST\tx\t4242\t1\t" + "0" * 32,
    "REQUEST\t1\t-1\t1\t" + "0" * 32,
])
def test_broken_request_closes_the_connection(authd, line):
    a = authd()
    with master(a) as u:
        u.send(line)
        assert u.closed(), f"{line!r} was accepted"


def test_no_request_for_failed_pending_nologin_or_closed(authd):
    a = authd()
    c, cookie = login_conn(a)
    with c, master(a) as u:
        c.auth(1, "PLAIN", "no-penalty", resp=plain("alice", "wrong"))
        assert c.reply()[:2] == ["FAIL", "1"]
        assert request(u, 1, 4242, 1, cookie) == ["FAIL", "1"]
        c.auth(2, "LOGIN")
        assert c.reply()[:2] == ["CONT", "2"]
        assert request(u, 2, 4242, 2, cookie) == ["FAIL", "2"]
        # Postfix says nologin: no REQUEST will follow.
        login(c, 3, "bob", "nologin")
        assert request(u, 3, 4242, 3, cookie) == ["FAIL", "3"]
        login(c, 4, "bob")
        c.close()
        time.sleep(0.5)
        assert request(u, 4, 4242, 4, cookie) == ["FAIL", "4"], \
            "a closed client's login was given out"


def test_same_pid_and_reused_id(authd):
    a = authd()
    c1, cookie1 = login_conn(a, pid=77)
    c2, cookie2 = login_conn(a, pid=77)
    with c1, c2, master(a) as u:
        c1.auth(1, "PLAIN", resp=plain("alice", "secret"))
        c2.auth(1, "PLAIN", resp=plain("bob", "hunter2"))
        assert c1.reply() == ["OK", "1", "user=alice"]
        assert c2.reply() == ["OK", "1", "user=bob"]
        assert request(u, 1, 77, 1, cookie2)[:3] == ["USER", "1", "bob"]
        assert request(u, 2, 77, 1, cookie1)[:3] == ["USER", "2", "alice"]
        # An id reused after its OK: the newer login counts.
        login(c1, 5, "alice")
        login(c1, 5, "carol")
        assert request(u, 3, 77, 5, cookie1)[:3] == ["USER", "3", "carol"]
        assert request(u, 4, 77, 5, cookie1) == ["FAIL", "4"]


def test_request_userdb_notfound_and_tempfail(authd, tmp_path):
    only_alice = write_passwd_file(tmp_path / "userdb",
                                   {"alice": "secret"})
    a = authd({"userdb": f"passwd-file:{only_alice}"})
    c, cookie = login_conn(a)
    with c, master(a) as u:
        login(c, 1, "bob")
        assert request(u, 1, 4242, 1, cookie) == ["NOTFOUND", "1"]
        login(c, 2, "alice")
        only_alice.rename(tmp_path / "away")
        assert request(u, 2, 4242, 2, cookie)[:2] == ["FAIL", "2"]


def test_waiting_logins_are_bounded(authd):
    a = authd()
    c, cookie = login_conn(a)
    with c, master(a) as u:
        n = 1025
        resp = plain("bob", "hunter2")
        c.send(*[f"AUTH\t{i}\tPLAIN\tservice=imap\tno-penalty\tresp={resp}"
                 for i in range(1, n + 1)])
        got = c.replies(n, timeout=60)
        assert all(r[0] == "OK" for r in got.values())
        a.d.wait_log(r"master: 1024 logins wait for a REQUEST: "
                     r"forgetting the oldest")
        assert request(u, 1, 4242, 1, cookie) == ["FAIL", "1"]
        assert request(u, 2, 4242, 2, cookie)[:3] == ["USER", "2", "bob"]
        assert request(u, 3, 4242, n, cookie)[:3] == ["USER", "3", "bob"]


def test_userdb_uid_range(authd):
    a = authd({"first_valid_uid": "1001", "last_valid_uid": "1001"})
    with a.userdb() as u:
        mark = a.d.mark()
        u.send("USER\t1\talice\tservice=lmtp")
        assert u.reply() == [
            "FAIL", "1", "reason=Mail access for users with UID 1000 not "
            "permitted (see first_valid_uid in config file, uid from "
            "userdb lookup)"]
        a.d.wait_log(r"userdb lookup alice: Mail access for users with "
                     r"UID 1000 not permitted", since=mark)
        a.d.wait_log(r"userdb lookup: user=<alice>, result=refused",
                     since=mark)
        u.send("USER\t2\tbob\tservice=lmtp")
        assert u.reply()[:4] == ["USER", "2", "bob", "uid=1001"]
        u.send("USER\t3\tcarol\tservice=lmtp")
        r = u.reply()
        assert r[:2] == ["FAIL", "3"] and "UID 1002" in r[2] and \
            "last_valid_uid" in r[2]
        # The passdb has no uid to check.
        u.send("PASS\t4\talice\tservice=doveadm")
        assert u.reply() == ["PASS", "4", "user=alice"]


def test_uid_range_defaults_and_mail_uid(authd):
    # first_valid_uid = 500 by default: root's mail is refused.
    a = authd({"userdb": "passwd"})
    with a.userdb() as u:
        u.send("USER\t1\troot\tservice=lmtp")
        r = u.reply()
        assert r[:2] == ["FAIL", "1"] and "UID 0 not permitted" in r[2]
    # mail_uid stands for the uid the userdb left out.
    b = authd({"userdb": "static:home=/var/mail/%n", "mail_uid": "400"})
    with b.userdb() as u:
        u.send("USER\t1\tann\tservice=lmtp")
        r = u.reply()
        assert r[:2] == ["FAIL", "1"] and "UID 400 " in r[2]
    c = authd({"userdb": "static:home=/var/mail/%n", "mail_uid": "600",
               "last_valid_uid": "600"})
    with c.userdb() as u:
        u.send("USER\t1\tann\tservice=lmtp")
        r = u.reply()
        assert r[:3] == ["USER", "1", "ann"] and "uid=600" in r
    # No uid at all: nothing to check, the mail process decides.
    d = authd({"userdb": "static:home=/var/mail/%n"})
    with d.userdb() as u:
        u.send("USER\t1\tann\tservice=lmtp")
        assert u.reply() == ["USER", "1", "ann", "home=/var/mail/ann"]
    e = authd({"userdb": "static:uid=nosuchuser-here home=/x"})
    with e.userdb() as u:
        u.send("USER\t1\tann\tservice=lmtp")
        r = u.reply()
        assert r[:2] == ["FAIL", "1"] and "Invalid uid" in r[2]


def test_request_uid_refused(authd):
    a = authd({"first_valid_uid": "1001"})
    c, cookie = login_conn(a)
    with c, master(a) as u:
        # The password is right: the login itself succeeds...
        login(c, 1, "alice")
        # ... but the mail access is refused.
        r = request(u, 1, 4242, 1, cookie)
        assert r[:2] == ["FAIL", "1"] and "UID 1000 not permitted" in r[2]
        a.d.wait_log(r"master request: user=<alice>, result=refused")
        login(c, 2, "bob")
        assert request(u, 2, 4242, 2, cookie)[:4] == \
            ["USER", "2", "bob", "uid=1001"]
