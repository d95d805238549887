"""Helpers shared by the integration tests: where the built programs are,
free ports, and running dirmailctl."""

import contextlib
import os
import pathlib
import shutil
import socket
import subprocess
import time

import pytest

SRCDIR = pathlib.Path(__file__).resolve().parents[2]
BUILDDIR = pathlib.Path(os.environ.get("DIRMAIL_BUILDDIR", SRCDIR / "build"))


def program(name):
    """Return the path of a built program (dirmailctl, dirmaild, testsvc...)."""
    for sub in ("src/tools", "src/master", "src/auth", "src/smtpd",
                "src/queue", "src/delivery", "src/imapd", "src/pop3d",
                "tests/svc"):
        path = BUILDDIR / sub / name
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    raise FileNotFoundError(f"{name} is not built under {BUILDDIR}")


_handed_out = set()


def free_port(host="127.0.0.1"):
    """Return a TCP port that is free on HOST right now and that this
    process has not handed out before (the kernel may offer a port again
    as soon as the probe socket is closed)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    while True:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def write_config(path, params):
    """Write a dirmail.cf with PARAMS (a dict) to PATH and return PATH."""
    path = pathlib.Path(path)
    path.write_text("".join(f"{k} = {v}\n" for k, v in params.items()))
    return str(path)


def ctl(*args, config=None, input=None, timeout=60, env=None):
    """Run dirmailctl with ARGS; return the CompletedProcess (text mode)."""
    cmd = [program("dirmailctl")]
    if config is not None:
        cmd += ["-c", str(config)]
    cmd += [str(a) for a in args]
    full_env = dict(os.environ)
    full_env.pop("DIRMAIL_CONFIG", None)
    if env:
        full_env.update(env)
    return subprocess.run(cmd, input=input, capture_output=True, text=True,
                          timeout=timeout, env=full_env)


DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


@contextlib.contextmanager
def private_dovecot(top, ready):
    """Run "dovecot -F -c TOP/dovecot.conf" (written by the caller) until
    the file READY exists (its socket); stop it and remove TOP after the
    block.  Its output goes to TOP/dovecot.out; a Dovecot that dies or
    takes over 20 s fails the test with that output and TOP/dovecot.log."""
    top = pathlib.Path(top)
    with open(top / "dovecot.out", "ab") as out:
        proc = subprocess.Popen([DOVECOT, "-F", "-c",
                                 str(top / "dovecot.conf")],
                                stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while not pathlib.Path(ready).exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("dovecot did not start: " + "".join(
                    f.read_text(errors="replace") for f in
                    (top / "dovecot.out", top / "dovecot.log")
                    if f.exists()))
            time.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(top, ignore_errors=True)
