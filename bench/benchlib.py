"""What the benchmarks share: starting and probing servers, running
Postfix's smtp-source, describing the machine.  Standard library only."""

import grp
import os
import platform
import pwd
import shutil
import socket
import subprocess
import sys
import time

SMTP_SOURCE = "/usr/sbin/smtp-source"
POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
POSTSUPER = shutil.which("postsuper") or "/usr/sbin/postsuper"

# Debian's master.cf services, with smtpd on {addr}.  (Without a qmgr in
# master.cf, cleanup stalls about a second per message.)
POSTFIX_MASTER_CF = """\
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
virtual unix - n n - - virtual
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def greeting(port):
    """Return the first line the server at 127.0.0.1:PORT sends, or ''."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            f = s.makefile("rb")
            line = f.readline().decode(errors="replace").strip()
            s.sendall(b"QUIT\r\n")
            return line
    except OSError:
        return ""


def wait_for_220(port, timeout, alive, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"{what} exited")
        line = greeting(port)
        if line.startswith("220"):
            return line
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer 220 on port {port}")


def count_files(dirs):
    """Count the regular files not starting with '.' under DIRS."""
    n = 0
    for d in dirs:
        for _, _, files in os.walk(d):
            n += sum(1 for f in files if not f.startswith("."))
    return n


def tail(path, n=30):
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def send(port, sessions, messages, size, sender, recipient, helo):
    """Run smtp-source; return (seconds, error text or None)."""
    cmd = [SMTP_SOURCE, "-4", "-d", "-s", str(sessions),
           "-m", str(messages), "-l", str(size), "-M", helo,
           "-f", sender, "-t", recipient, f"127.0.0.1:{port}"]
    start = time.monotonic()
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True,
                           timeout=120 + messages * 0.1)
    except subprocess.TimeoutExpired:
        return time.monotonic() - start, "smtp-source timed out"
    seconds = time.monotonic() - start
    if r.returncode != 0:
        return seconds, (f"smtp-source exited {r.returncode}: "
                         f"{(r.stdout + r.stderr).strip()[-300:]}")
    return seconds, None


def build_flags(builddir):
    """Return the CFLAGS of BUILDDIR's Makefile, or ''."""
    try:
        for line in (builddir / "Makefile").read_text().splitlines():
            if line.startswith("CFLAGS = "):
                return line[len("CFLAGS = "):].strip()
    except OSError:
        pass
    return ""


def check_postfix():
    if not os.access(POSTFIX, os.X_OK):
        return "postfix is not installed"
    if os.geteuid() != 0:
        return "a private Postfix needs root (postfix start)"
    try:
        pwd.getpwnam("postfix")
        grp.getgrnam("postdrop")
    except KeyError:
        return "no postfix user or postdrop group"
    return None


def machine():
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"nproc {os.cpu_count()}, load average {load}, "
            f"kernel {platform.release()}")


def fs_type(path):
    r = subprocess.run(["stat", "-f", "-c", "%T", str(path)],
                       capture_output=True, text=True)
    return r.stdout.strip() or "?"


def build_warning(builddir):
    """Return why BUILDDIR is not fit for measuring (its CFLAGS lack -O2
    or use a sanitizer), or None."""
    flags = build_flags(builddir)
    if "-O2" not in flags.split() or "sanitize" in flags:
        return (f"{builddir} is built with CFLAGS '{flags}'; "
                f"measure an -O2 build without sanitizers")
    return None


def percentile(values, p):
    """The P-th quantile (0..1) of the sorted list VALUES, or nan."""
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(p * len(values)))]
