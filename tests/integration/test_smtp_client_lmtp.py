"""LMTP from the smtp agent into a real Dovecot LMTP service (Debian's
dovecot-lmtpd), over a UNIX socket and over TCP with STARTTLS: one reply
per recipient after the final dot, the message in the Maildir.  qmgr is
played by the test."""

import os
import pathlib
import tempfile

import pytest

from test_smtp_client_helpers import Qmgr, agent
from util import DOVECOT, free_port, private_dovecot

LMTP = "/usr/lib/dovecot/lmtp"


@pytest.fixture
def dovecot_lmtp(smtp_cert):
    """A private Dovecot serving LMTP on a UNIX socket and on a TCP port
    (STARTTLS with the test certificate); user dana exists."""
    if not os.path.exists(DOVECOT) or not os.path.exists(LMTP):
        pytest.skip("dovecot-lmtpd is not installed")
    if os.geteuid() != 0:
        pytest.skip("a private Dovecot instance needs root")
    top = pathlib.Path(tempfile.mkdtemp(prefix="dirmail-lmtp-"))
    top.chmod(0o755)
    (top / "mail").mkdir(mode=0o777)
    (top / "mail").chmod(0o777)
    (top / "passwd").write_text(
        f"dana:{{PLAIN}}x:65534:65534::{top}/mail/dana::\n")
    port = free_port()
    (top / "dovecot.conf").write_text(f"""\
base_dir = {top}/run
state_dir = {top}/state
instance_name = dirmail-lmtp-{os.getpid()}-{port}
log_path = {top}/dovecot.log
protocols = lmtp
ssl = yes
ssl_cert = <{smtp_cert[0]}
ssl_key = <{smtp_cert[1]}
auth_username_format = %Ln
mail_location = maildir:{top}/mail/%n/Maildir
service lmtp {{
  unix_listener {top}/lmtp {{
    mode = 0666
  }}
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {port}
  }}
}}
passdb {{
  driver = passwd-file
  args = {top}/passwd
}}
userdb {{
  driver = passwd-file
  args = {top}/passwd
}}
""")
    with private_dovecot(top, top / "lmtp"):
        yield {"socket": str(top / "lmtp"), "port": port,
               "maildir": top / "mail" / "dana" / "Maildir"}


def delivered(maildir):
    new = maildir / "new"
    return [p.read_bytes() for p in new.iterdir()] if new.exists() else []


def test_lmtp_unix_socket(dirmail, dovecot_lmtp):
    d = agent(dirmail)
    q = Qmgr(d)
    res = q.request("lmtp", f"unix:{dovecot_lmtp['socket']}",
                    ["dana@example.com", "nobody-here@example.com"])
    assert res["dana@example.com"][:3] == (2, "2.0.0",
                                           dovecot_lmtp["socket"])
    r = res["nobody-here@example.com"]
    assert r[:2] == (5, "5.1.1"), r
    assert r[3].startswith(f"host {dovecot_lmtp['socket']} said: 550 ")
    assert r[3].endswith("(in reply to RCPT TO command)")
    [msg] = delivered(dovecot_lmtp["maildir"])
    assert b"Subject: smtp client test" in msg
    # Unstuffed by the server: exactly the lines of the queue file.
    assert b"\n.leading dot\n..two dots\nend\n" in msg
    d.wait_log(rf"{q.qid}: to=<dana@example\.com>, relay=.*status=sent")


def test_lmtp_tcp_with_starttls(dirmail, dovecot_lmtp):
    d = agent(dirmail, {"smtp_tls_security_level": "encrypt"})
    q = Qmgr(d)
    port = dovecot_lmtp["port"]
    res = q.request("lmtp", f"inet:127.0.0.1:{port}",
                    ["dana@example.com", "dana@example.com"])
    assert [r[:3] for r in res.values()] == \
        [(2, "2.0.0", f"127.0.0.1[127.0.0.1]:{port}")]
    d.wait_log(rf"{q.qid}: Untrusted TLS connection established to "
               rf"127.0.0.1\[127.0.0.1\]:{port}")
    assert len(delivered(dovecot_lmtp["maildir"])) >= 1
