"""The PAM worker pool (src/auth/pam_worker.c) driven by tests/svc/pamcheck:
pam_matrix under Debian's libpam-wrapper for everyone, and the real
pam_unix with a local user created by the test when running as root."""

import os
import pathlib
import queue
import shutil
import signal
import subprocess
import threading
import time
import uuid

import pytest

import util

FIXTURES = util.SRCDIR / "tests" / "fixtures" / "pam"


def wrapper_file(name):
    """Return the path of a file of the libpam-wrapper package, or None."""
    try:
        out = subprocess.run(["dpkg", "-L", "libpam-wrapper"],
                             capture_output=True, text=True).stdout
    except FileNotFoundError:
        return None
    for line in out.splitlines():
        if line.endswith("/" + name):
            return line
    return None


LIBWRAP = wrapper_file("libpam_wrapper.so")
MATRIX = wrapper_file("pam_matrix.so")
MODDIR = next((d for d in ("/usr/lib/x86_64-linux-gnu/security",
                           "/lib/x86_64-linux-gnu/security",
                           "/usr/lib64/security", "/lib/security")
               if os.path.exists(d + "/pam_unix.so")), None)

pytestmark = pytest.mark.skipif(
    LIBWRAP is None or MATRIX is None or MODDIR is None,
    reason="libpam-wrapper (libpam_wrapper.so, pam_matrix.so) not installed")


def wait_for(cond, timeout=10.0):
    """Poll COND until it returns something true; fail after TIMEOUT s."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {cond}")


def pid_alive(pid):
    """True while PID exists and is not a zombie."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def open_fds(pid):
    """Return what each open descriptor of PID points at."""
    fds = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            fds[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            pass
    return fds


class Pamcheck:
    """pamcheck running under pam_wrapper; lines in, results out."""

    def __init__(self, env, *args):
        self.stderr = open(env["PAMTEST_DIR"] + "/stderr", "w+")
        self.proc = subprocess.Popen(
            [util.program("pamcheck"), *args], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.stderr, text=True,
            bufsize=1, env=env)
        self.lines = queue.Queue()
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def send(self, *lines):
        self.proc.stdin.write("".join(line + "\n" for line in lines))
        self.proc.stdin.flush()

    def results(self, n, timeout=20.0):
        """Return N results as (user, outcome, reason, elapsed_ms)."""
        out, end = [], time.monotonic() + timeout
        while len(out) < n:
            line = self.lines.get(timeout=max(0.01, end - time.monotonic()))
            assert line is not None, "pamcheck exited early"
            user, outcome, rest = line.split(" ", 2)
            reason, ms = rest.rsplit(" ", 1)
            out.append((user, outcome, reason, int(ms)))
        return out

    def helper_pid(self):
        self.send("pid")
        line = self.lines.get(timeout=10)
        assert line.startswith("helper ")
        return int(line.split()[1])

    def close(self):
        if self.stderr.closed:
            return self.log
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.seek(0)
        self.log = self.stderr.read()
        self.stderr.close()
        return self.log


@pytest.fixture
def pamenv(tmp_path):
    """Service files and a pam_matrix password file in TMP_PATH."""
    svc = tmp_path / "svc"
    svc.mkdir()
    for f in FIXTURES.iterdir():
        if f.suffix == ".sh":
            shutil.copy(f, tmp_path / f.name)
            os.chmod(tmp_path / f.name, 0o755)
        elif f.name != "README":
            text = f.read_text().replace("@MATRIX@", MATRIX)
            text = text.replace("@MODDIR@", MODDIR)
            text = text.replace("@DIR@", str(tmp_path))
            (svc / f.name).write_text(text)
    passdb = tmp_path / "passdb"
    # pam_matrix knows one service per user.
    passdb.write_text("alice:s3cret:fast\nbob:hunter2:fast\n"
                      "carol:sl0w:slow\ndave:d4ve:pidlog\n")
    env = dict(os.environ)
    env.update({
        "LD_PRELOAD": LIBWRAP,
        "PAM_WRAPPER": "1",
        "PAM_WRAPPER_SERVICE_DIR": str(svc),
        "PAM_MATRIX_PASSWD": str(passdb),
        # pam_wrapper 1.1 reads this name to stop dlopen(RTLD_DEEPBIND),
        # which AddressSanitizer refuses.
        "UID_WRAPPER_DISABLE_DEEPBIND": "1",
        "PAMTEST_DIR": str(tmp_path),
        # Keep pam_wrapper's scratch directories out of /tmp.
        "PAM_WRAPPER_RUNTIME_DIR": str(tmp_path / "pwrap"),
    })
    (tmp_path / "pwrap").mkdir()
    asan = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + \
        "verify_asan_link_order=0"
    started = []

    def start(*args):
        p = Pamcheck(env, *args)
        started.append(p)
        return p
    yield start, tmp_path
    for p in started:
        p.close()


def test_matrix_outcomes(pamenv):
    start, tmp = pamenv
    p = start()
    p.send("fast alice s3cret 192.0.2.1", "fast alice wrong",
           "fast nobody s3cret", "fast bob hunter2", "fast bob s3cret")
    got = {(u, o) for u, o, _, _ in p.results(5)}
    assert got == {("alice", "OK"), ("alice", "FAIL"), ("nobody", "FAIL"),
                   ("bob", "OK"), ("bob", "FAIL")}
    log = p.close()
    assert "s3cret" not in log and "hunter2" not in log


def test_many_concurrent(pamenv):
    start, tmp = pamenv
    p = start("-w", "4", "-n", "50")
    lines = []
    for i in range(150):
        lines.append(f"fast alice {'s3cret' if i % 2 == 0 else 'bad'}")
    p.send(*lines)
    res = p.results(150)
    assert sum(1 for r in res if r[1] == "OK") == 75
    assert sum(1 for r in res if r[1] == "FAIL") == 75


def test_slow_module_does_not_stall_others(pamenv):
    start, tmp = pamenv
    p = start("-w", "4", "-t", "20")
    p.send("slow carol sl0w", "slow carol sl0w")
    # Both slow checks have reached their sleeping module.
    wait_for(lambda: (tmp / "slow.pids").exists() and
             len((tmp / "slow.pids").read_text().split()) == 2)
    p.send(*["fast alice s3cret"] * 10)
    fast = p.results(10)
    assert all(r[:2] == ("alice", "OK") for r in fast)
    assert max(r[3] for r in fast) < 2000
    slow = p.results(2)
    assert all(r[:2] == ("carol", "OK") and r[3] >= 2500 for r in slow)


def test_overload_is_a_temporary_failure(pamenv):
    start, tmp = pamenv
    p = start("-w", "2", "-t", "20")
    p.send("slow carol sl0w", "slow carol sl0w")
    wait_for(lambda: (tmp / "slow.pids").exists() and
             len((tmp / "slow.pids").read_text().split()) == 2)
    # 1000 in flight at most: the last two are refused at once.
    p.send(*["fast alice s3cret"] * 1000)
    first = p.results(2)
    assert all(r[1] == "TEMPFAIL" and "too many" in r[2] for r in first)
    rest = p.results(1000, timeout=30)
    assert sum(1 for r in rest if r[1] == "OK") == 1000


def test_cancelled_check_never_answers(pamenv):
    start, tmp = pamenv
    p = start("-w", "2")
    p.send("cancel fast alice s3cret", "cancel slow carol sl0w",
           *["fast bob hunter2"] * 5)
    assert all(r[:2] == ("bob", "OK") for r in p.results(5))
    p.proc.stdin.close()
    assert p.proc.wait(timeout=10) == 0
    # Nothing more came out: pamcheck exits once nothing is in flight.
    assert p.lines.get(timeout=5) is None


def test_workers_are_recycled(pamenv):
    start, tmp = pamenv
    p = start("-w", "2", "-n", "3")
    for _ in range(6):
        p.send(*["pidlog dave d4ve"] * 5)
        assert all(r[1] == "OK" for r in p.results(5))
    pids = (tmp / "worker.pids").read_text().split()
    assert len(pids) == 30
    # 30 requests, at most 3 per worker.
    assert len(set(pids)) >= 10
    assert max(pids.count(x) for x in set(pids)) <= 3


def test_worker_timeout(pamenv):
    start, tmp = pamenv
    p = start("-w", "2", "-t", "1")
    p.send("slow carol sl0w")
    (user, outcome, reason, ms), = p.results(1)
    assert (user, outcome) == ("carol", "TEMPFAIL")
    assert "timed out" in reason and ms < 2900
    p.send("fast alice s3cret")
    assert p.results(1)[0][:2] == ("alice", "OK")


def test_killed_worker(pamenv):
    start, tmp = pamenv
    p = start("-w", "2", "-t", "20")
    p.send("slow carol sl0w")
    worker = int(wait_for(lambda: (tmp / "slow.pids").exists() and
                          (tmp / "slow.pids").read_text().split())[0])
    os.kill(worker, signal.SIGKILL)
    (user, outcome, reason, ms), = p.results(1)
    assert (user, outcome) == ("carol", "TEMPFAIL") and ms < 2500
    p.send("fast alice s3cret")
    assert p.results(1)[0][:2] == ("alice", "OK")


def test_killed_helper_is_replaced(pamenv):
    start, tmp = pamenv
    p = start("-w", "2", "-t", "20")
    helper = p.helper_pid()
    p.send("slow carol sl0w")
    worker = int(wait_for(lambda: (tmp / "slow.pids").exists() and
                          (tmp / "slow.pids").read_text().split())[0])
    os.kill(helper, signal.SIGKILL)
    (user, outcome, reason, ms), = p.results(1)
    assert (user, outcome) == ("carol", "TEMPFAIL") and ms < 2500
    # Its worker does not outlive it.
    wait_for(lambda: not pid_alive(worker))
    p.send("fast alice s3cret")
    assert p.results(1)[0][:2] == ("alice", "OK")
    new = p.helper_pid()
    assert new not in (helper, -1)
    # The pool reaped the old helper: no zombie left behind.
    wait_for(lambda: not os.path.exists(f"/proc/{helper}"))


def test_no_orphans_and_no_stray_fds(pamenv):
    start, tmp = pamenv
    p = start("-w", "2", "-t", "20")
    helper = p.helper_pid()
    p.send("slow carol sl0w")
    worker = int(wait_for(lambda: (tmp / "slow.pids").exists() and
                          (tmp / "slow.pids").read_text().split())[0])
    for pid in (helper, worker):
        fds = open_fds(pid)
        # stdin/stdout on /dev/null, stderr kept, one socket per peer.
        assert fds[0] == "/dev/null" and fds[1] == "/dev/null"
        others = [t for fd, t in fds.items() if fd > 2]
        assert all(t.startswith("socket:") for t in others), fds
    assert len(open_fds(worker)) == 4
    assert len(open_fds(helper)) == 5
    # The caller dies without a word: helper and worker go too.
    p.proc.kill()
    p.proc.wait()
    wait_for(lambda: not pid_alive(helper) and not pid_alive(worker))


@pytest.fixture
def unix_user():
    """A local user with a known password, removed afterwards."""
    if os.geteuid() != 0:
        pytest.skip("pam_unix with a local user needs root (useradd)")
    name = "dmpam" + uuid.uuid4().hex[:8]
    subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", name],
                   check=True)
    try:
        subprocess.run(["chpasswd"], input=f"{name}:UnixPw-1\n", text=True,
                       check=True)
        yield name
    finally:
        subprocess.run(["userdel", name], check=False)


def test_pam_unix_local_user(pamenv, unix_user):
    start, tmp = pamenv
    p = start()
    p.send(f"unix {unix_user} UnixPw-1", f"unix {unix_user} wrong")
    got = sorted(r[1] for r in p.results(2))
    assert got == ["FAIL", "OK"]
    subprocess.run(["chage", "-E", "0", unix_user], check=True)
    p.send(f"unix {unix_user} UnixPw-1")
    (user, outcome, reason, ms), = p.results(1)
    # The password is right: pam_acct_mgmt refuses the expired account.
    assert outcome == "FAIL" and "expired" in reason
    subprocess.run(["chage", "-E", "-1", unix_user], check=True)
    subprocess.run(["usermod", "-L", unix_user], check=True)
    p.send(f"unix {unix_user} UnixPw-1")
    assert p.results(1)[0][1] == "FAIL"
    assert "UnixPw-1" not in p.close()
