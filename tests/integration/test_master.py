"""dirmaild, the master: listeners, socket passing, supervision, reload and
stop, with real processes (tests/svc/testsvc plays the services)."""

import grp
import os
import pwd
import re
import signal
import stat
import threading
import time

import pytest

from dirmail_fixture import pid_alive, wait_for
from util import free_port

SMTPD = {"smtpd": "testsvc"}


def greeting_fields(line):
    """Parse 'testsvc name=X uid=N ...' into a dict."""
    assert line.startswith("testsvc "), line
    return dict(f.split("=", 1) for f in line.split()[1:])


def crash(d, name, command="crash"):
    """Send COMMAND to the service behind NAME; wait until the master
    logged the end of that process; return its log line."""
    since = d.mark()
    pid = greeting_fields(d.talk(name, command))["pid"]
    return d.wait_log(rf"^.*service \w+ \(pid {pid}\) .*$",
                      since=since).group(0)


def test_listeners_answer_and_pass_their_names(dirmail):
    d = dirmail(listen=["smtpd_listen", "submission_listen"],
                params={"pickup_listen": "unix:$run_directory/pickup:0660"},
                services=SMTPD)
    smtp = greeting_fields(d.talk("smtpd_listen"))
    sub = greeting_fields(d.talk("submission_listen"))
    pickup = greeting_fields(d.talk("pickup_listen"))
    assert (smtp["name"], sub["name"], pickup["name"]) == \
        ("smtpd_listen", "submission_listen", "pickup_listen")
    # One process serves every listener of its service.
    assert smtp["pid"] == sub["pid"] == pickup["pid"]
    assert smtp["config"] == str(d.config)
    st = os.stat(d.run_dir / "pickup")
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660
    assert re.search(r"started with 3 sockets: smtpd_listen:"
                     r"submission_listen:pickup_listen", d.log())


def test_overrides_apply_and_reach_the_services(dirmail):
    port = free_port()
    d = dirmail(listen=["smtpd_listen"], services=SMTPD,
                args=["-o", f"submission_listen=127.0.0.1:{port}"])
    d.ports["submission_listen"] = port
    f = greeting_fields(d.talk("submission_listen"))
    assert f["name"] == "submission_listen"
    assert f["foreground"] == "1"
    assert f["overrides"] == f"submission_listen=127.0.0.1:{port}"


def test_protocols_decides_whether_imapd_runs(dirmail):
    port = free_port()
    d = dirmail(listen=["smtpd_listen"], params={
        "protocols": "pop3", "imap_listen": f"127.0.0.1:{port}"},
        services={"smtpd": "testsvc", "imapd": "testsvc"})
    d.wait_log(r"service imapd: imap is not in protocols; not started")
    d.ports["imap_listen"] = port
    with pytest.raises(ConnectionRefusedError):
        d.connect("imap_listen").close()
    since = d.mark()
    d.write_config(protocols="imap pop3")
    d.reload()
    d.wait_log(r"service imapd started", since=since)
    assert greeting_fields(d.talk("imap_listen"))["name"] == "imap_listen"


def test_missing_service_program_is_logged_once_and_skipped(dirmail):
    d = dirmail(listen=["smtpd_listen", "imap_listen"], services=SMTPD)
    d.wait_log(r"warning: service imapd: .*/imapd is not installed; "
               r"not started")
    assert greeting_fields(d.talk("smtpd_listen"))["name"] == "smtpd_listen"
    since = d.mark()
    d.reload()
    d.wait_log(r"service smtpd started", since=since)
    assert len(re.findall(r"imapd is not installed", d.log())) == 1


def test_crashed_service_is_restarted_and_the_reason_logged(dirmail):
    d = dirmail(listen=["smtpd_listen"], services=SMTPD)
    first = greeting_fields(d.talk("smtpd_listen"))["pid"]
    line = crash(d, "smtpd_listen")
    assert re.search(rf"warning: service smtpd \(pid {first}\) killed by "
                     rf"signal {int(signal.SIGABRT)}; restarting in 1s", line)
    second = greeting_fields(d.talk("smtpd_listen"))["pid"]
    assert second != first
    line = crash(d, "smtpd_listen", "exit 3")
    assert re.search(rf"service smtpd \(pid {second}\) exited with status 3",
                     line)
    assert greeting_fields(d.talk("smtpd_listen"))["pid"] not in (first,
                                                                  second)


def test_restart_backoff_grows_to_the_limit_and_resets(dirmail):
    d = dirmail(listen=["smtpd_listen"], services=SMTPD,
                params={"service_throttle_time": "2s"})
    waits = []
    for _ in range(3):
        start = time.monotonic()
        line = crash(d, "smtpd_listen")
        waits.append(int(re.search(r"restarting in (\d+)s", line).group(1)))
        d.talk("smtpd_listen")
        # The restart waits for the back-off: no fork storm.
        assert time.monotonic() - start >= waits[-1]
    assert waits == [1, 2, 2]
    # A service that ran longer than service_throttle_time starts over.
    time.sleep(2.2)
    line = crash(d, "smtpd_listen")
    assert "restarting in 1s" in line


@pytest.mark.parametrize("param,value,reason", [
    ("service_throttle_time", "banana", ""),
    ("smtpd_listen", "127.0.0.1:99999", "127.0.0.1:99999: the port must be"),
])
def test_reload_with_a_bad_config_is_refused(dirmail, param, value, reason):
    d = dirmail(listen=["smtpd_listen"], services=SMTPD)
    before = greeting_fields(d.talk("smtpd_listen"))["pid"]
    since = d.mark()
    d.write_config(**{param: value})
    d.reload()
    d.wait_log(rf"error: reload refused: {re.escape(str(d.config))}:\d+: "
               rf"{param}: {re.escape(reason)}", since=since)
    # The old configuration keeps serving, with the same process.
    assert greeting_fields(d.talk("smtpd_listen"))["pid"] == before
    assert pid_alive(d.pid)


def test_reload_adds_and_removes_listeners_without_refusing(dirmail):
    d = dirmail(listen=["smtpd_listen"], services=SMTPD)
    before = greeting_fields(d.talk("smtpd_listen"))["pid"]
    failures = []
    done = threading.Event()

    def hammer():
        while not done.is_set():
            try:
                line = d.talk("smtpd_listen", timeout=10)
                if not line.startswith("testsvc "):
                    failures.append(line)
            except OSError as e:
                failures.append(e)
            time.sleep(0.01)
    t = threading.Thread(target=hammer)
    t.start()
    try:
        d.listen_port("submission_listen")
        d.write_config()
        since = d.mark()
        d.reload()
        d.wait_log(r"configuration reloaded", since=since)
        sub = greeting_fields(d.talk("submission_listen"))
        assert sub["name"] == "submission_listen"
        assert sub["pid"] != before     # restarted with the new config
        time.sleep(0.3)
    finally:
        done.set()
        t.join()
    assert failures == []
    port = d.ports.pop("submission_listen")
    d.write_config(submission_listen=None)
    since = d.mark()
    d.reload()
    d.wait_log(r"submission_listen: closing", since=since)
    d.ports["gone"] = port

    def refused():
        # The service that had the socket may take a moment to exit.
        try:
            d.connect("gone").close()
        except ConnectionRefusedError:
            return True
        return False
    wait_for(refused, timeout=5, what="the removed listener to refuse")


def test_sigterm_stops_quickly_and_cleans_up(dirmail):
    d = dirmail(listen=["smtpd_listen"], services=SMTPD,
                params={"pickup_listen": "unix:$run_directory/pickup"})
    child = int(greeting_fields(d.talk("smtpd_listen"))["pid"])
    elapsed = d.stop()
    assert d.returncode == 0
    assert elapsed < 3
    assert not pid_alive(child)
    assert not d.pid_path.exists()
    assert not (d.run_dir / "pickup").exists()
    assert re.search(r"dirmail/master\[\d+\]: stopped$", d.log(), re.M)


def test_sigterm_kills_a_service_that_ignores_it_within_5s(dirmail):
    d = dirmail(listen=["smtpd_listen", "imap_listen"],
                services={"smtpd": "testsvc", "imapd": "testsvc"})
    stubborn = int(greeting_fields(d.talk("imap_listen", "ignore-term"))
                   ["pid"])
    other = int(greeting_fields(d.talk("smtpd_listen"))["pid"])
    d.wait_log(r"ignoring SIGTERM")
    elapsed = d.stop()
    assert elapsed < 5
    assert d.returncode == 0
    assert not pid_alive(stubborn) and not pid_alive(other)
    assert re.search(rf"service imapd \(pid {stubborn}\) did not stop "
                     rf"within \d+s; killing it", d.log())
    assert not d.pid_path.exists()


def test_second_dirmaild_on_the_same_run_directory_refuses(dirmail):
    d = dirmail(listen=["smtpd_listen"], services=SMTPD)
    other = dirmail(listen=["smtpd_listen"], services=SMTPD, start=False,
                    name="second",
                    params={"run_directory": str(d.run_dir)})
    r = other.run()
    assert r.returncode == 1
    assert f"another dirmaild is running (pid {d.pid}" in r.stderr
    assert d.pid == d.proc.pid
    assert greeting_fields(d.talk("smtpd_listen"))["name"] == "smtpd_listen"


@pytest.mark.parametrize("param,value,reason", [
    ("service_throttle_time", "banana", ""),
    ("smtpd_listen", "127.0.0.1:99999", "127.0.0.1:99999: the port must be"),
    ("smtpd_listen", "::1:25", "::1:25: an IPv6 address needs brackets"),
    ("pickup_listen", "unix:pickup", "unix:pickup: the socket path must be "
     "absolute"),
    ("auth_listen", "unix:/tmp/x:0999", "unix:/tmp/x:0999: the mode must be "
     "octal"),
])
def test_bad_config_exits_2_with_file_line_name_reason(dirmail, param, value,
                                                       reason):
    d = dirmail(services=SMTPD, start=False, params={param: value})
    r = d.run()
    assert r.returncode == 2, r.stderr
    assert re.search(rf"fatal: {re.escape(str(d.config))}:\d+: {param}: "
                     rf"{re.escape(reason)}", r.stderr), r.stderr
    assert not d.pid_path.exists()


def test_a_busy_port_is_a_fatal_error_naming_the_listener(dirmail):
    d = dirmail(listen=["smtpd_listen"], services=SMTPD)
    other = dirmail(services=SMTPD, start=False, name="second", params={
        "submission_listen": f"127.0.0.1:{d.ports['smtpd_listen']}"})
    r = other.run()
    assert r.returncode == 1
    assert re.search(rf"fatal: submission_listen: 127.0.0.1:"
                     rf"{d.ports['smtpd_listen']}: Address already in use",
                     r.stderr), r.stderr
    assert not other.pid_path.exists()


def test_daemon_mode_returns_once_the_pid_file_is_written(dirmail):
    d = dirmail(listen=["smtpd_listen"], services=SMTPD, start=False)
    r = d.run(foreground=False)
    assert r.returncode == 0, r.stderr
    pid = d.pid
    d.extra_pids.append(pid)
    assert pid_alive(pid)
    assert greeting_fields(d.talk("smtpd_listen"))["name"] == "smtpd_listen"
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not pid_alive(pid), 5, what="dirmaild to stop")
    assert not d.pid_path.exists()


root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@root_only
def test_services_run_as_dirmail_user(dirmail):
    nobody = pwd.getpwnam("nobody")
    group = grp.getgrgid(nobody.pw_gid).gr_name
    # smtpd, authd, local, imapd and pop3d drop privileges themselves;
    # qmgr (here testsvc, which says who it runs as) is dropped by the
    # master.
    d = dirmail(listen=["smtpd_listen"],
                services={"smtpd": "testsvc", "qmgr": "testsvc"},
                params={"dirmail_user": "nobody", "dirmail_group": group,
                        "pickup_listen": "unix:$run_directory/pickup:0660"})
    m = d.wait_log(r"no listeners: uid=(\d+) gid=(\d+) groups=(\S*)")
    assert (int(m[1]), int(m[2])) == (nobody.pw_uid, nobody.pw_gid)
    assert "0" not in m[3].split(",")
    # The master keeps root; the socket belongs to the services' user.
    assert os.stat(f"/proc/{d.pid}").st_uid == 0
    st = os.stat(d.run_dir / "pickup")
    assert (st.st_uid, st.st_gid) == (nobody.pw_uid, nobody.pw_gid)


@root_only
@pytest.mark.parametrize("param", ["dirmail_user", "dirmail_group"])
def test_unknown_dirmail_user_or_group_is_fatal(dirmail, param):
    d = dirmail(services=SMTPD, start=False,
                params={param: "no-such-dirmail-name"})
    r = d.run()
    assert r.returncode == 2
    assert re.search(rf"{re.escape(str(d.config))}:\d+: {param}: unknown "
                     r"(user|group) \"no-such-dirmail-name\"", r.stderr)
