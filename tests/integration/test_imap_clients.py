"""Real IMAP clients against imapd: curl over imap:// and imaps:// (LIST,
a message by UID, a search), and Debian's fetchmail pulling and deleting
mail over IMAP."""

import os
import shutil
import subprocess

import pytest

from imap_util import imap_instance, mailroot  # noqa: F401 (fixture)
from smtp_util import smtp_cert  # noqa: F401 (fixture)

MSG1 = "From: a@example.com\nSubject: first\n\nhello one\n"
MSG2 = "From: b@example.com\nSubject: second\n\nhello two\n"


@pytest.fixture
def imap(dirmail, tmp_path, mailroot, smtp_cert):  # noqa: F811
    i = imap_instance(dirmail, tmp_path, mailroot, cert=smtp_cert)
    i.deliver("alice", MSG1, name="1.M1P1.test")
    i.deliver("alice", MSG2, name="2.M1P1.test")
    return i


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "20",
                           "-u", "alice:alice-password", *args],
                          capture_output=True, timeout=30)


def test_curl_imap_and_imaps(imap):
    port = imap.d.ports["imap_listen"]
    r = curl(f"imap://127.0.0.1:{port}/")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert '* LIST (\\HasNoChildren) "." INBOX' in out
    assert "\\Sent" in out
    r = curl(f"imap://127.0.0.1:{port}/INBOX;UID=2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().replace("\r\n", "\n") == MSG2
    r = curl(f"imap://127.0.0.1:{port}/INBOX?SUBJECT%20first")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().strip() == "* SEARCH 1"
    port = imap.d.ports["imaps_listen"]
    r = curl("-k", f"imaps://127.0.0.1:{port}/INBOX;UID=1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().replace("\r\n", "\n") == MSG1


def test_fetchmail(imap, tmp_path):
    if shutil.which("fetchmail") is None:
        pytest.skip("fetchmail is not installed")
    out = tmp_path / "fetched"
    out.mkdir()
    rc = tmp_path / "fetchmailrc"
    rc.write_text(
        f"poll 127.0.0.1 protocol imap port {imap.d.ports['imap_listen']}\n"
        f"  user alice password alice-password is root here\n"
        f"  sslproto '' no keep fetchall\n"
        f"  mda \"sh -c 'cat > {out}/$$'\"\n")
    rc.chmod(0o600)
    env = dict(os.environ, HOME=str(tmp_path), FETCHMAILHOME=str(tmp_path))
    r = subprocess.run(["fetchmail", "-f", str(rc), "-v", "--nodetach"],
                       capture_output=True, timeout=60, env=env)
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    fetched = sorted(p.read_text() for p in out.iterdir())
    assert len(fetched) == 2
    assert "hello one" in fetched[0] + fetched[1]
    assert "hello two" in fetched[0] + fetched[1]
    # fetchmail marked them \Deleted and expunged them.
    c = imap.login()
    assert c.select("INBOX")[1] == [b"0"]
    c.logout()
