"""authd starts as root only to create the PAM helper, then runs as
dirmail_user; the PAM helper keeps root so that pam_unix can read
/etc/shadow."""

import base64
import grp
import os
import pwd
import time

import pytest

from test_authd import Authd

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="dropping privileges needs root")


def children(pid):
    """The pids whose parent is PID, with their command names."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == pid:
            found[int(entry)] = comm
    return found


def uid_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    raise AssertionError("no Uid line")


def test_authd_runs_as_dirmail_user_and_pam_helper_as_root(dirmail):
    nobody = pwd.getpwnam("nobody").pw_uid
    group = grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
    a = Authd(dirmail, params={"dirmail_user": "nobody",
                               "dirmail_group": group})
    try:
        a.d.stop()
        a.d.write_config(passdb=f"passwd-file:{a.passwd}, pam:dirmail-test")
        a.d.start()
        deadline = time.monotonic() + 10
        authd_pid = None
        while authd_pid is None and time.monotonic() < deadline:
            authd_pid = next((p for p, c in children(a.d.pid).items()
                              if c == "authd"), None)
            time.sleep(0.05)
        assert authd_pid is not None, "authd did not start"
        c = a.conn()
        c.send("AUTH\t1\tPLAIN\tservice=smtp\tresp="
               + base64.b64encode(b"\0bob\0hunter2").decode())
        assert c.readline().startswith("OK\t1\tuser=bob")
        assert uid_of(authd_pid) == nobody
        helpers = children(authd_pid)
        assert helpers, "no PAM helper under authd"
        assert all(uid_of(p) == 0 for p in helpers)
    finally:
        a.cleanup()
