"""The dirmail fixture: a private dirmail instance run by dirmaild.

    def test_something(dirmail):
        d = dirmail(listen=["smtpd_listen"], services={"smtpd": "testsvc"})
        line = d.talk("smtpd_listen")

dirmail(...) writes a dirmail.cf under tmp_path (run_directory,
queue_directory and daemon_directory there too, every listener named in
LISTEN on a free 127.0.0.1 port, PARAMS on top), fills daemon_directory
with symlinks to built programs, starts "dirmaild -f -c CFG" with its
stderr in a log file, and waits until the pid file is written and the
listeners accept.  Teardown kills whatever is left.

SERVICES maps a service name (the program dirmaild looks for in
daemon_directory: authd, smtpd, qmgr, local, smtp, imapd,
pop3d) to the built program
that plays it ("testsvc" or the real one).  By default every real
service that is built is linked under its own name.
"""

import grp
import os
import pathlib
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from util import program, free_port, write_config

SERVICES = ("authd", "smtpd", "qmgr", "local", "smtp", "showq", "imapd",
            "pop3d")


def pid_alive(pid):
    """True when process PID exists and is not a zombie."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def child_pids(pid):
    """Return the pids of the live children of process PID."""
    kids = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            kids.append(int(entry.name))
    return kids


def wait_for(predicate, timeout=10, interval=0.05, what="condition"):
    """Poll PREDICATE until it returns a true value; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting "
                                 f"for {what}")
        time.sleep(interval)


class Dirmail:
    """One dirmail instance: its configuration, dirmaild and its log."""

    def __init__(self, base, params, listen, services, tmpdirs):
        self.dir = pathlib.Path(base)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.run_dir = self.dir / "run"
        self.config = self.dir / "dirmail.cf"
        self.log_path = self.dir / "dirmaild.log"
        self.proc = None
        self.returncode = None
        self.extra_pids = []
        self.libexec = self._daemon_directory(tmpdirs)
        self.params = {
            "run_directory": str(self.run_dir),
            "queue_directory": str(self.dir / "queue"),
            "daemon_directory": str(self.libexec),
            "dirmail_user": pwd.getpwuid(os.getuid()).pw_name,
            "dirmail_group": grp.getgrgid(os.getgid()).gr_name,
        }
        self.ports = {}
        for name in listen:
            self.ports[name] = free_port()
            self.params[name] = f"127.0.0.1:{self.ports[name]}"
        self.params.update(params or {})
        self.link_services(services)
        self.write_config()
        self.env = dict(os.environ)
        self.env.pop("DIRMAIL_CONFIG", None)
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=0")

    def _daemon_directory(self, tmpdirs):
        # Services drop to dirmail_user before exec: when that user is not
        # the one running the tests, the programs must be reachable by
        # it, which pytest's private tmp_path is not.
        if os.geteuid() != 0:
            path = self.dir / "libexec"
            path.mkdir()
            return path
        path = pathlib.Path(tempfile.mkdtemp(prefix="dirmail-libexec-"))
        path.chmod(0o755)
        tmpdirs.append(path)
        return path

    def link_services(self, services):
        """Link daemon_directory/NAME to the built program of each service
        in SERVICES (a dict NAME -> program; None: every real one built)."""
        if services is None:
            services = {}
            for name in SERVICES:
                try:
                    services[name] = program(name)
                except FileNotFoundError:
                    pass
        for name, prog in services.items():
            link = self.libexec / name
            if link.is_symlink() or link.exists():
                link.unlink()
            target = prog if os.path.isabs(prog) else program(prog)
            link.symlink_to(target)

    def write_config(self, **changes):
        """Rewrite dirmail.cf with CHANGES on top of the current values (a
        value of None removes the parameter)."""
        for name, value in changes.items():
            if value is None:
                self.params.pop(name, None)
            else:
                self.params[name] = value
        write_config(self.config, self.params)
        return self.config

    def listen_port(self, name):
        """Give listener parameter NAME a free 127.0.0.1 port (not written
        until write_config()); return the port."""
        self.ports[name] = free_port()
        self.params[name] = f"127.0.0.1:{self.ports[name]}"
        return self.ports[name]

    # Running dirmaild.

    def command(self, *args, foreground=True):
        cmd = [program("dirmaild")]
        if foreground:
            cmd.append("-f")
        return cmd + ["-c", str(self.config)] + [str(a) for a in args]

    def start(self, *args, wait=True, timeout=20):
        """Start dirmaild -f with ARGS; wait until it serves."""
        self.log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(*args),
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.log_file,
                                     stderr=subprocess.STDOUT, env=self.env)
        if wait:
            self.wait_started(timeout)
        return self

    def run(self, *args, foreground=True, timeout=20):
        """Run dirmaild with ARGS to its end (for start-up failures);
        return the CompletedProcess (text mode)."""
        return subprocess.run(self.command(*args, foreground=foreground),
                              capture_output=True, text=True,
                              timeout=timeout, env=self.env,
                              stdin=subprocess.DEVNULL)

    def _started(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"dirmaild exited with status "
                                 f"{self.proc.returncode}:\n{self.log()}")
        try:
            pid = int(self.pid_path.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return False
        if pid != self.proc.pid:
            return False
        return all(self._accepts(name) for name in self.listeners())

    def wait_started(self, timeout=20):
        wait_for(self._started, timeout, what="dirmaild to start")

    def _accepts(self, name):
        try:
            with self.connect(name, timeout=1):
                return True
        except OSError:
            return False

    @property
    def pid_path(self):
        return self.run_dir / "dirmaild.pid"

    @property
    def pid(self):
        """The pid dirmaild wrote into its pid file."""
        return int(self.pid_path.read_text().strip())

    def log(self):
        """Everything dirmaild and its services logged so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def mark(self):
        """The current end of the log, for wait_log(since=...)."""
        return len(self.log())

    def wait_log(self, regex, timeout=10, since=0):
        """Wait until REGEX matches the log after offset SINCE; return the
        match."""
        pattern = re.compile(regex, re.M)

        def search():
            return pattern.search(self.log(), since)
        try:
            return wait_for(search, timeout, what=f"log /{regex}/")
        except AssertionError as e:
            raise AssertionError(f"{e}; log:\n{self.log()}") from None

    def reload(self):
        """Send SIGHUP to dirmaild."""
        os.kill(self.pid, signal.SIGHUP)

    def stop(self, timeout=15):
        """Send SIGTERM and wait for dirmaild to exit; return the seconds
        it took (the exit status is in .returncode)."""
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.returncode = self.proc.wait(timeout)
        return time.monotonic() - start

    def children(self):
        """The pids of dirmaild's live children."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        return child_pids(self.proc.pid)

    def service_pid(self, name):
        """The pid of the live service NAME (its process name), or None."""
        for pid in self.children():
            try:
                comm = pathlib.Path(f"/proc/{pid}/comm").read_text()
            except OSError:
                continue
            if comm.strip() == name:
                return pid
        return None

    # Talking to the services.

    def listeners(self):
        """The listeners the fixture knows how to reach: its TCP ports and
        the unix: sockets set in the configuration."""
        names = list(self.ports)
        for name, value in self.params.items():
            if name.endswith("_listen") and name not in names and \
                    str(value).startswith("unix:"):
                names.append(name)
        return names

    def address(self, name):
        """(family, address) of the listener parameter NAME."""
        if name in self.ports:
            return socket.AF_INET, ("127.0.0.1", self.ports[name])
        value = str(self.params[name])
        if value.startswith("unix:"):
            path = value[5:].split(":")[0]
            return socket.AF_UNIX, path.replace("$run_directory",
                                                str(self.run_dir))
        raise KeyError(f"{name}: no address known")

    def connect(self, name, timeout=10):
        """A socket connected to the listener parameter NAME."""
        family, addr = self.address(name)
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(addr)
        except OSError:
            s.close()
            raise
        return s

    def talk(self, name, line=None, timeout=15):
        """Connect to NAME, read the first line, then send LINE if given;
        return the first line."""
        with self.connect(name, timeout) as s:
            f = s.makefile("rb")
            first = f.readline().decode()
            if line is not None:
                s.sendall(line.encode() + b"\n")
            return first

    # Teardown.

    def kill(self):
        """Kill dirmaild and every child it left."""
        pids = list(self.extra_pids)
        try:
            pid = self.pid
            cmdline = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"dirmaild" in cmdline and pid not in pids:
                self.extra_pids.append(pid)
                pids.append(pid)
        except (OSError, ValueError):
            pass
        if self.proc is not None and self.proc.poll() is None:
            pids += child_pids(self.proc.pid)
            self.proc.kill()
            self.proc.wait()
        for pid in pids + [c for p in self.extra_pids
                           for c in child_pids(p)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if getattr(self, "log_file", None) is not None:
            self.log_file.close()


@pytest.fixture
def dirmail(tmp_path):
    """Factory: dirmail(params=None, listen=(), services=None, start=True,
    args=(), name="dirmail") returns a running Dirmail instance."""
    instances = []
    tmpdirs = []

    def make(params=None, listen=(), services=None, start=True, args=(),
             name="dirmail"):
        d = Dirmail(tmp_path / name, params, listen, services, tmpdirs)
        instances.append(d)
        if start:
            d.start(*args)
        return d

    yield make
    for d in instances:
        d.kill()
    for path in tmpdirs:
        shutil.rmtree(path, ignore_errors=True)
