"""Helpers of the smtp delivery agent's tests (no tests here).

qmgr is played by the tests: they write a queue file (the format of
doc/queue-format.md), connect to queue_directory/private/smtp, send one
request of doc/delivery-protocol.md and read the reply.  FakeSMTP is a
fake SMTP/LMTP server written for these tests (not a real MTA): it answers
from a script and records what it was sent.
"""

import os
import pathlib
import socket
import threading
import time

from authproto import tab_escape, tab_unescape
from dirmail_fixture import wait_for

CONTENT = (b"Received: from test\r\n\tby test; now\r\n"
           b"From: alice@example.org\r\nTo: bob@example.com\r\n"
           b"Subject: smtp client test\r\n\r\nHello.\r\n"
           b".leading dot\r\n..two dots\r\nend\r\n")


def _rec(kind, data):
    if isinstance(data, str):
        data = data.encode()
    return kind.encode() + str(len(data)).encode() + b":" + data + b"\n"


def write_queue_file(path, qid, sender, rcpts, content=CONTENT, attrs=()):
    """Write a complete queue file; return (offset, length) of the
    content."""
    env = _rec("I", qid) + _rec("T", "%.6f" % time.time()) + \
        _rec("S", sender)
    for a in attrs:
        env += _rec("A", a)
    for r in rcpts:
        env += _rec("R", r)
    env += _rec("M", b"")
    offset = 47 + len(env)
    header = b"DMQ1 %020d %020d\n" % (len(content), offset)
    pathlib.Path(path).write_bytes(header + env + content + b"E0:\n")
    return offset, len(content)


class Qmgr:
    """qmgr, played by the test: one connection to private/smtp."""

    def __init__(self, d, timeout=30):
        path = d.dir / "queue" / "private" / "smtp"
        wait_for(path.exists, 20, what="private/smtp")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.buf = b""
        self.d = d
        self.n = 0

    def request(self, transport, nexthop, rcpts, sender="alice@example.org",
                content=CONTENT, attrs=(), notify=None, orcpt=None):
        """Queue a message for RCPTS and ask for its delivery; return
        {address: (class, dsn, relay, text)}."""
        self.n += 1
        qid = "%018X" % (0xABC000000000000000 + os.getpid() * 100 + self.n)
        qdir = self.d.dir / "queue" / "active"
        path = qdir / qid
        offset, length = write_queue_file(path, qid, sender, rcpts,
                                          content, attrs)
        lines = ["\t".join(tab_escape(f) for f in
                           ("D", qid, path, offset, length, transport,
                            nexthop, sender))]
        lines += ["A\t" + tab_escape(a) for a in attrs]
        for i, r in enumerate(rcpts):
            lines.append("\t".join(tab_escape(f) for f in
                                   ("R", i, r, (orcpt or {}).get(r, ""),
                                    (notify or {}).get(r, ""))))
        lines.append(".")
        self.sock.sendall(("\n".join(lines) + "\n").encode())
        self.qid = qid
        result = self.reply()
        assert sorted(result) == list(range(len(rcpts))), result
        return {rcpts[i]: v for i, v in result.items()}

    def reply(self):
        result = {}
        while True:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise EOFError("agent closed; got %r" % self.buf)
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            line = line.decode()
            if line == ".":
                return result
            f = [tab_unescape(x) for x in line.split("\t")]
            assert f[0] == "S", line
            result[int(f[1])] = (int(f[2]), f[3], f[4], f[5])

    def close(self):
        self.sock.close()


class FakeDNS:
    """A fake DNS server written for these tests (UDP, on port 53 of a
    loopback address: the tests run as root).  RECORDS maps (name, type)
    to a list of answers: "MX": (pref, host) with host "." for a null MX,
    "A"/"AAAA": addresses.  A name not in RECORDS is NXDOMAIN, a name in
    SERVFAIL fails.  The agent reaches it through Debian's
    libresolv-wrapper (RESOLV_WRAPPER_CONF); the wrapper's own fake hosts
    file cannot answer MX queries."""

    TYPES = {1: "A", 15: "MX", 28: "AAAA"}

    def __init__(self, records, servfail=(), host=None):
        self.records = records
        self.servfail = set(servfail)
        self.names = {name for name, _ in records}
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for n in range(1, 250):
            self.host = host or f"127.0.53.{(os.getpid() + n) % 250 + 1}"
            try:
                self.sock.bind((self.host, 53))
                break
            except OSError:
                if host:
                    raise
        threading.Thread(target=self._serve, daemon=True).start()

    @staticmethod
    def _name(text):
        out = b""
        for label in text.rstrip(".").split("."):
            if label:
                out += bytes([len(label)]) + label.encode()
        return out + b"\0"

    def _answer(self, name, qtype):
        import ipaddress
        import struct
        out = []
        for value in self.records.get((name, self.TYPES.get(qtype)), []):
            if qtype == 15:
                rdata = struct.pack("!H", value[0]) + self._name(value[1])
            else:
                rdata = ipaddress.ip_address(value).packed
            out.append(b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 60,
                                                 len(rdata)) + rdata)
        return out

    def _serve(self):
        import struct
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            qid, _, qd = struct.unpack("!HHH", data[:6])
            i, labels = 12, []
            while data[i]:
                labels.append(data[i + 1:i + 1 + data[i]].decode())
                i += 1 + data[i]
            qtype = struct.unpack("!H", data[i + 1:i + 3])[0]
            question = data[12:i + 5]
            name = ".".join(labels).lower()
            self.queries.append((name, self.TYPES.get(qtype, qtype)))
            rcode, answers = 0, []
            if name in self.servfail:
                rcode = 2
            elif name not in self.names:
                rcode = 3
            else:
                answers = self._answer(name, qtype)
            head = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1,
                               len(answers), 0, 0)
            self.sock.sendto(head + question + b"".join(answers), peer)

    def env(self, tmp_path):
        """The environment that sends the agent's queries here."""
        conf = tmp_path / "resolv.conf"
        conf.write_text(f"nameserver {self.host}\n")
        return {"LD_PRELOAD": "libresolv_wrapper.so",
                "RESOLV_WRAPPER_CONF": str(conf),
                "RESOLV_WRAPPER_DISABLE_DEEPBIND": "1",
                "ASAN_OPTIONS": "detect_leaks=0:verify_asan_link_order=0"}

    def stop(self):
        self.sock.close()


def agent(dirmail, params=None, env=None, name="agent"):
    """A dirmail instance running smtpd (which the agent runs with) and
    the smtp agent, without qmgr; PARAMS on top."""
    conf = {"myhostname": "client.example.org",
            "smtp_connection_cache_time_limit": "0s",
            "smtp_tls_security_level": "none"}
    conf.update(params or {})
    d = dirmail(params=conf, listen=["smtpd_listen"], start=False,
                services={"smtpd": "smtpd", "smtp": "smtp"}, name=name)
    d.env.update(env or {})
    d.start()
    wait_for((d.dir / "queue" / "private" / "smtp").exists, 20,
             what="private/smtp")
    return d


class FakeSMTP:
    """A fake SMTP (or LMTP) server for the tests, on 127.0.0.1.

    RCPT maps an address to its reply (default 250); DROP names a
    command after which the connection is closed without a reply;
    DOT_REPLIES (LMTP) maps an address to its reply after the dot;
    DOT_DELAY holds that reply back."""

    def __init__(self, rcpt=None, ehlo=("PIPELINING", "SIZE 10240000",
                                        "8BITMIME", "DSN"),
                 greeting="220 fake.example.net ESMTP fake", drop=None,
                 mail_reply="250 2.1.0 Ok", data_done="250 2.0.0 Ok: "
                 "queued as FAKE1", lmtp=False, dot_replies=None,
                 stall=None, host="127.0.0.1", port=0, bad_tls=False,
                 dot_delay=0):
        self.rcpt = rcpt or {}
        self.ehlo = ehlo
        self.greeting = greeting
        self.drop = drop
        self.mail_reply = mail_reply
        self.data_done = data_done
        self.lmtp = lmtp
        self.dot_replies = dot_replies or {}
        self.stall = stall
        self.bad_tls = bad_tls
        self.dot_delay = dot_delay      # seconds before the reply to "."
        self.sessions = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,),
                             daemon=True).start()

    def _serve(self, conn):
        s = {"commands": [], "messages": [], "closed": False}
        self.sessions.append(s)
        f = conn.makefile("rb")
        try:
            self._dialogue(conn, f, s)
        except (OSError, ValueError):
            pass
        finally:
            s["closed"] = True
            conn.close()

    def _send(self, conn, text):
        conn.sendall(text.encode() + b"\r\n")

    def _dialogue(self, conn, f, s):
        self._send(conn, self.greeting)
        if not self.greeting.startswith("2"):
            f.readline()
        rcpts = []
        while True:
            line = f.readline()
            if not line:
                return
            cmd = line.decode().rstrip("\r\n")
            s["commands"].append(cmd)
            verb = cmd.split(" ")[0].upper()
            if self.stall == verb:
                time.sleep(30)
                return
            if self.drop == verb:
                return
            if verb in ("EHLO", "LHLO") and self.ehlo is None:
                self._send(conn, "502 5.5.2 Error: command not recognized")
            elif verb in ("EHLO", "LHLO"):
                lines = ["fake.example.net"] + list(self.ehlo)
                for ln in lines[:-1]:
                    self._send(conn, "250-" + ln)
                self._send(conn, "250 " + lines[-1])
            elif verb == "HELO":
                self._send(conn, "250 fake.example.net")
            elif verb == "MAIL":
                rcpts = []
                self._send(conn, self.mail_reply)
            elif verb == "RCPT":
                addr = cmd.split("<", 1)[1].split(">", 1)[0]
                reply = self.rcpt.get(addr, "250 2.1.5 Ok")
                if reply.startswith("2"):
                    rcpts.append(addr)
                self._send(conn, reply)
            elif verb == "DATA":
                if not rcpts:
                    self._send(conn, "554 5.5.1 Error: no valid recipients")
                    continue
                self._send(conn, "354 End data with <CR><LF>.<CR><LF>")
                data = b""
                while True:
                    chunk = f.readline()
                    if not chunk:
                        return
                    if chunk == b".\r\n":
                        break
                    data += chunk
                s["messages"].append(data)
                if self.drop == "DOT":
                    return
                time.sleep(self.dot_delay)
                if self.lmtp:
                    for r in rcpts:
                        self._send(conn, self.dot_replies.get(
                            r, "250 2.0.0 <%s> delivered" % r))
                else:
                    self._send(conn, self.data_done)
            elif verb == "STARTTLS" and self.bad_tls:
                # Agree, then speak no TLS at all: the handshake fails.
                self._send(conn, "220 2.0.0 Ready to start TLS")
                conn.sendall(b"this is not TLS\r\n" * 8)
                return
            elif verb == "RSET":
                self._send(conn, "250 2.0.0 Ok")
            elif verb == "QUIT":
                self._send(conn, "221 2.0.0 Bye")
                return
            else:
                self._send(conn, "502 5.5.2 Error: command not recognized")

    def stop(self):
        self.stopping = True
        self.sock.close()
