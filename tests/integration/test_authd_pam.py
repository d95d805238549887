"""authd's pam passdb through the PAM worker pool, with pam_matrix under
Debian's libpam-wrapper (no change to the system)."""

import os
import time

import pytest

from authproto import plain
from test_authd import HAVE_AUTHD, authd  # noqa: F401
from test_pam_worker import FIXTURES, LIBWRAP, MATRIX, MODDIR

pytestmark = pytest.mark.skipif(
    not HAVE_AUTHD or LIBWRAP is None or MATRIX is None or MODDIR is None,
    reason="authd not built or libpam-wrapper not installed")


def pam_env(tmp_path):
    """Service files and pam_matrix users under TMP_PATH; the environment
    that makes PAM use them."""
    svc = tmp_path / "pamsvc"
    svc.mkdir()
    for f in FIXTURES.iterdir():
        if f.suffix == ".sh":
            (tmp_path / f.name).write_text(f.read_text())
            os.chmod(tmp_path / f.name, 0o755)
        elif f.name != "README":
            text = f.read_text().replace("@MATRIX@", MATRIX)
            text = text.replace("@MODDIR@", MODDIR)
            text = text.replace("@DIR@", str(tmp_path))
            (svc / f.name).write_text(text)
    passdb = tmp_path / "matrix"
    passdb.write_text("alice:s3cret:fast\nbob:hunter2:fast\n"
                      "carol:sl0w:slow\n")
    (tmp_path / "pwrap").mkdir()
    return {
        "LD_PRELOAD": LIBWRAP,
        "PAM_WRAPPER": "1",
        "PAM_WRAPPER_SERVICE_DIR": str(svc),
        "PAM_MATRIX_PASSWD": str(passdb),
        "UID_WRAPPER_DISABLE_DEEPBIND": "1",
        "PAMTEST_DIR": str(tmp_path),
        "PAM_WRAPPER_RUNTIME_DIR": str(tmp_path / "pwrap"),
        "ASAN_OPTIONS": "detect_leaks=0:verify_asan_link_order=0",
    }


def test_pam_passdb(authd, tmp_path):  # noqa: F811
    a = authd({"passdb": "pam:fast"}, env=pam_env(tmp_path))
    with a.conn() as c:
        c.auth(1, "PLAIN", resp=plain("alice", "s3cret"))
        assert c.reply() == ["OK", "1", "user=alice"]
        start = time.monotonic()
        c.auth(2, "PLAIN", "no-penalty", resp=plain("alice", "wrong"))
        c.auth(3, "PLAIN", "no-penalty", resp=plain("nosuch", "wrong"))
        c.auth(4, "LOGIN", resp=b"Ym9i".decode())
        assert c.reply()[:2] == ["CONT", "4"]
        c.send("CONT\t4\taHVudGVyMg==")
        assert c.reply() == ["OK", "4", "user=bob"]
        fails = c.replies(2)
        assert fails == {2: ["FAIL", "2", "user=alice"],
                         3: ["FAIL", "3", "user=nosuch"]}
        assert time.monotonic() - start < 10
    assert "backend=pam" in a.d.log()
