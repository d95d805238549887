"""Helpers for the SMTP tests: a test certificate, a dirmail instance
with smtpd on its three listeners, a raw byte-level SMTP client, and the
queue as the tests see it.

smtp_instance() runs authd (a passwd-file passdb: alice/alice-password,
bob/bob-password) and smtpd with:
  - example.com a virtual mailbox domain (alice@, bob@ exist),
  - aliases info@example.com -> alice, staff@example.com -> alice, bob,
  - mydestination = localhost,
  - mynetworks = 192.0.2.0/24 (so 127.0.0.1 is NOT trusted unless a test
    says so),
  - the smtpd error sleep off (tests are not made to wait).
"""

import base64
import pathlib
import socket
import ssl
import subprocess
import time

import pytest

import queuefile

PASSWD = ("alice:{PLAIN}alice-password:1000:1000::/home/alice::\n"
          "bob:{PLAIN}bob-password:1001:1001::/home/bob::\n")


@pytest.fixture(scope="session")
def smtp_cert(tmp_path_factory):
    """A self-signed certificate for mail.example.com: (cert, key)."""
    d = tmp_path_factory.mktemp("cert")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=mail.example.com",
                    "-addext", "subjectAltName=DNS:mail.example.com"],
                   check=True, capture_output=True)
    key.chmod(0o600)
    return str(cert), str(key)


def write_tables(base):
    """Write the test's tables under BASE; return their paths."""
    base = pathlib.Path(base)
    base.mkdir(parents=True, exist_ok=True)
    paths = {
        "passwd": base / "passwd",
        "vmailbox": base / "vmailbox",
        "virtual": base / "virtual",
    }
    paths["passwd"].write_text(PASSWD)
    paths["vmailbox"].write_text("alice@example.com alice\n"
                                 "bob@example.com bob\n")
    paths["virtual"].write_text("info@example.com alice@example.com\n"
                                "staff@example.com alice@example.com, "
                                "bob@example.com\n")
    return paths


def smtp_params(tables, cert):
    """The base configuration of the SMTP tests."""
    return {
        "myhostname": "mail.example.com",
        "mydomain": "example.com",
        "mydestination": "localhost",
        "mynetworks": "192.0.2.0/24",
        "alias_maps": "",
        "local_recipient_maps": "unix:passwd.byname",
        "virtual_mailbox_domains": "example.com",
        "virtual_mailbox_maps": f"texthash:{tables['vmailbox']}",
        "virtual_alias_maps": f"texthash:{tables['virtual']}",
        "smtpd_tls_cert_file": cert[0],
        "smtpd_tls_key_file": cert[1],
        "smtpd_sasl_auth_enable": "yes",
        "passdb": f"passwd-file:{tables['passwd']}",
        "userdb": "static:uid=1000 gid=1000 home=/tmp/%u",
        "auth_failure_delay": "0",
        "smtpd_error_sleep_time": "0",
    }


LISTENERS = ["smtpd_listen", "submission_listen", "smtps_listen"]


def smtp_instance(dirmail, tmp_path, cert, start=True, **params):
    """A running dirmail with authd and smtpd; PARAMS on top."""
    tables = write_tables(tmp_path / "tables")
    conf = smtp_params(tables, cert)
    conf.update(params)
    d = dirmail(params=conf, listen=LISTENERS, start=start,
                services={"authd": "authd", "smtpd": "smtpd"})
    d.tables = tables
    if start:
        wait_greeting(d)
    return d


def wait_greeting(d, name="smtpd_listen", timeout=20):
    """Wait until smtpd answers on listener NAME."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            c = Raw(d, name)
            c.close()
            return
        except (OSError, AssertionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def queued(d):
    """The queue's files, read: a list of dicts (see queuefile.read)."""
    return [queuefile.read(f["path"])
            for f in queuefile.list_queue(str(d.dir / "queue"))]


def queued_ids(d):
    return sorted(f["id"] for f in queuefile.list_queue(str(d.dir / "queue")))


class Raw:
    """A byte-level SMTP client: send exactly what a test says."""

    def __init__(self, d, name="smtpd_listen", tls=False, greet=True,
                 source=None):
        """SOURCE: the client address (another loopback address keeps a
        test's rate-limit counters apart from the fixture's probes)."""
        self.sock = socket.create_connection(
            ("127.0.0.1", d.ports[name]), timeout=15,
            source_address=(source, 0) if source else None)
        if tls:
            self.sock = client_context().wrap_socket(
                self.sock, server_hostname="mail.example.com")
        self.buf = b""
        if greet:
            code, text = self.reply()
            assert code == 220, text

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; got %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        """Read one (multi-line) reply: (code, text with all lines)."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                break
        return int(lines[-1][:3]), "\n".join(lines)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self, timeout=5):
        """True when the server closed the connection (after any data)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, ssl.SSLError):
            return True
        except socket.timeout:
            return False

    def starttls(self):
        code, text = self.cmd("STARTTLS")
        assert code == 220, text
        self.sock = client_context().wrap_socket(
            self.sock, server_hostname="mail.example.com")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def client_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def plain(user, password):
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def b64(text):
    return base64.b64encode(text.encode()).decode()


MESSAGE = ("From: alice@example.com\r\nTo: bob@example.com\r\n"
           "Subject: test\r\n\r\nHello.\r\n")
