"""authd's authentication cache: passdb and userdb answers kept for
auth_cache_ttl, negative ones for auth_cache_negative_ttl, a changed
password honoured, and dirmailctl auth cache flush."""

import os
import time

import pytest

from authproto import plain
from test_authd import HAVE_AUTHD, authd, write_passwd_file  # noqa: F401
from util import ctl

pytestmark = pytest.mark.skipif(not HAVE_AUTHD, reason="authd not built")

CACHE = {"auth_cache_size": "1M", "auth_cache_ttl": "1h",
         "auth_cache_negative_ttl": "2s"}


def login(a, user, password, rid=1):
    """One PLAIN login on a new connection; the reply's first word."""
    with a.conn() as c:
        c.auth(rid, "PLAIN", "no-penalty", resp=plain(user, password))
        return c.reply()[0]


def hide(a):
    """Make the passwd-file unreadable (a directory in its place)."""
    os.rename(a.passwd, str(a.passwd) + ".away")
    os.mkdir(a.passwd)


def unhide(a):
    os.rmdir(a.passwd)
    os.rename(str(a.passwd) + ".away", a.passwd)


def flush(a, *user):
    r = ctl("auth", "cache", "flush", *user, config=a.d.config)
    assert r.returncode == 0, r.stdout + r.stderr
    return int(r.stdout.split()[0])


def test_second_login_served_from_cache(authd):  # noqa: F811
    a = authd(CACHE)
    assert login(a, "bob", "hunter2") == "OK"
    with a.userdb() as u:
        u.send("USER\t1\tbob\tservice=imap")
        assert u.reply()[0] == "USER"
    hide(a)
    assert login(a, "bob", "hunter2") == "OK"
    with a.userdb() as u:
        u.send("USER\t2\tbob\tservice=smtp")
        r = u.reply()
        assert r[:3] == ["USER", "2", "bob"] and "home=/home/bob" in r
    # A password never seen goes to the backend: temporary failure,
    # never a mismatch from the cache.
    with a.conn() as c:
        c.auth(3, "PLAIN", "no-penalty", resp=plain("bob", "other"))
        assert c.reply() == ["FAIL", "3", "code=temp_fail", "user=bob"]
    unhide(a)


def test_changed_password_honoured(authd):  # noqa: F811
    a = authd(CACHE)
    assert login(a, "carol", "two words") == "OK"
    users = {"alice": "secret", "bob": "hunter2", "carol": "new pass"}
    write_passwd_file(a.passwd, users)
    assert login(a, "carol", "new pass") == "OK"
    assert flush(a, "carol") >= 1
    assert login(a, "carol", "two words") == "FAIL"
    assert login(a, "carol", "new pass") == "OK"


def test_negative_entries_expire(authd):  # noqa: F811
    a = authd(CACHE)
    assert login(a, "dave", "pw") == "FAIL"
    users = {"alice": "secret", "bob": "hunter2", "dave": "pw"}
    write_passwd_file(a.passwd, users)
    assert login(a, "dave", "pw") == "FAIL"    # cached unknown user
    time.sleep(2.5)
    assert login(a, "dave", "pw") == "OK"


def test_flush_one_user_and_all(authd):  # noqa: F811
    a = authd(CACHE)
    assert login(a, "alice", "secret") == "OK"
    assert login(a, "bob", "hunter2") == "OK"
    with a.userdb() as u:
        u.send("USER\t1\talice\tservice=imap")
        assert u.reply()[0] == "USER"
    assert flush(a, "alice") == 2
    assert flush(a, "alice") == 0
    hide(a)
    assert login(a, "alice", "secret") == "FAIL"
    assert login(a, "bob", "hunter2") == "OK"
    unhide(a)
    assert flush(a) == 1
    assert flush(a) == 0
    with a.userdb() as u:
        u.send("CACHE-FLUSH\t7")
        assert u.reply() == ["OK", "7", "0"]


def test_cache_off_never_stale(authd):  # noqa: F811
    a = authd()
    assert login(a, "bob", "hunter2") == "OK"
    hide(a)
    with a.conn() as c:
        c.auth(2, "PLAIN", "no-penalty", resp=plain("bob", "hunter2"))
        assert c.reply() == ["FAIL", "2", "code=temp_fail", "user=bob"]
    unhide(a)
    users = {"alice": "secret", "bob": "changed"}
    write_passwd_file(a.passwd, users)
    assert login(a, "bob", "hunter2") == "FAIL"
    assert login(a, "bob", "changed") == "OK"
    assert flush(a) == 0
