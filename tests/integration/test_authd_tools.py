"""dirmailctl auth test|lookup|list against authd, and Debian's Dovecot
tools (doveadm) as clients of authd's sockets."""

import os
import shutil
import subprocess

import pytest

from test_authd import HAVE_AUTHD, authd  # noqa: F401
from util import ctl

pytestmark = pytest.mark.skipif(not HAVE_AUTHD, reason="authd not built")


def test_auth_test_success_failure_and_stdin(authd):  # noqa: F811
    a = authd()
    r = ctl("auth", "test", "alice", "secret", config=a.d.config)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "passdb: alice auth succeeded"
    assert "  user=alice" in r.stdout
    r = ctl("auth", "test", "-a", a.client_path, "bob", input="hunter2\n",
            config=a.d.config)
    assert r.returncode == 0 and "bob auth succeeded" in r.stdout
    r = ctl("auth", "test", "alice", "wrong", config=a.d.config)
    assert r.returncode == 1
    assert r.stdout.splitlines()[0] == "passdb: alice auth failed"
    r = ctl("auth", "test", "nosuch", "wrong", config=a.d.config)
    assert r.returncode == 1 and "nosuch auth failed" in r.stdout


def test_auth_test_temporary_failure(authd):  # noqa: F811
    a = authd()
    os.rename(a.passwd, str(a.passwd) + ".away")
    r = ctl("auth", "test", "alice", "secret", config=a.d.config)
    assert r.returncode == 75, r.stdout + r.stderr
    assert "code=temp_fail" in r.stdout
    r = ctl("auth", "test", "-a", a.client_path + ".none", "alice", "x",
            config=a.d.config)
    assert r.returncode == 75


def test_auth_lookup_and_list(authd):  # noqa: F811
    a = authd()
    r = ctl("auth", "lookup", "alice", config=a.d.config)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "field\tvalue", "user\talice", "uid\t1000", "gid\t1000",
        "home\t/home/alice", "quota_rule\t*:storage=1G"]
    r = ctl("auth", "lookup", "-a", a.userdb_path, "nosuch",
            config=a.d.config)
    assert r.returncode == 1 and "doesn't exist" in r.stdout
    r = ctl("auth", "list", config=a.d.config)
    assert r.returncode == 0
    assert sorted(r.stdout.split()) == ["alice", "bob", "carol"]
    r = ctl("auth", "frobnicate", config=a.d.config)
    assert r.returncode == 64


def test_auth_list_passwd_userdb_keeps_to_the_uid_range(authd):  # noqa: F811
    """The passwd userdb lists the system users that may own mail: root
    and the system accounts below first_valid_uid are left out."""
    import pwd
    users = pwd.getpwall()
    a = authd({"userdb": "passwd", "first_valid_uid": "1000",
               "last_valid_uid": "65534"})
    r = ctl("auth", "list", config=a.d.config)
    assert r.returncode == 0, r.stderr
    listed = set(r.stdout.split())
    assert listed == {u.pw_name for u in users
                      if 1000 <= u.pw_uid <= 65534}
    assert "root" not in listed and "nobody" in listed
    a = authd({"userdb": "passwd", "first_valid_uid": "0"})
    r = ctl("auth", "list", config=a.d.config)
    assert "root" in r.stdout.split()


def doveadm_conf(tmp_path):
    """A minimal dovecot.conf that lets doveadm run without /etc."""
    base = tmp_path / "dovecot-base"
    base.mkdir()
    conf = tmp_path / "dovecot.conf"
    conf.write_text(f"base_dir = {base}\nlog_path = /dev/stderr\n"
                    f"ssl = no\n")
    return conf


@pytest.mark.skipif(shutil.which("doveadm") is None,
                    reason="doveadm (dovecot-core) is not installed")
def test_doveadm_auth_test_and_user(authd, tmp_path):  # noqa: F811
    a = authd()
    conf = doveadm_conf(tmp_path)

    def doveadm(*args):
        return subprocess.run(["doveadm", "-c", str(conf)] + list(args),
                              capture_output=True, text=True, timeout=30)
    r = doveadm("auth", "test", "-a", a.client_path, "alice", "secret")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "passdb: alice auth succeeded" in r.stdout
    r = doveadm("auth", "test", "-a", a.client_path, "alice", "wrong")
    assert r.returncode != 0
    assert "passdb: alice auth failed" in r.stdout
    r = doveadm("user", "-a", a.userdb_path, "alice")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "uid\t1000" in r.stdout and "home\t/home/alice" in r.stdout
    r = doveadm("user", "-a", a.userdb_path, "nosuch")
    assert r.returncode != 0
    assert "doesn't exist" in r.stdout + r.stderr
