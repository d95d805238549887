"""A small client of the Dovecot auth-client and auth-userdb protocols,
for the authd tests: raw lines in, raw lines out, with deadlines."""

import base64
import socket
import time


def b64(data):
    """Base64 of DATA (str or bytes) as str."""
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def tab_escape(value):
    """Dovecot's tab-escaping of one field (0x01, TAB, LF, CR), as the
    auth protocols and the delivery protocol use it."""
    return (str(value).replace("\x01", "\x011").replace("\t", "\x01t")
            .replace("\n", "\x01n").replace("\r", "\x01r"))


def tab_unescape(field):
    """Undo tab_escape(); 0x01 before any other byte stands for it."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\x01" and i + 1 < len(field):
            out.append({"1": "\x01", "t": "\t", "n": "\n",
                        "r": "\r"}.get(field[i + 1], field[i + 1]))
            i += 2
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def plain(user, password, authzid=""):
    """The base64 PLAIN response for USER and PASSWORD."""
    return b64(f"{authzid}\0{user}\0{password}")


class AuthConn:
    """One connection to an authd socket (a path or a (host, port))."""

    def __init__(self, address, timeout=15):
        family = socket.AF_UNIX if isinstance(address, str) \
            else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(address)
        self.buf = b""

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, *lines):
        """Send LINES (str or bytes), each with an LF, in one write."""
        data = b"".join((ln.encode() if isinstance(ln, str) else ln)
                        + b"\n" for ln in lines)
        self.sock.sendall(data)

    def readline(self, timeout=15):
        """The next line (str, without LF); None on EOF."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no line from authd")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace")

    def handshake(self, minor=2, pid=4242):
        """Send VERSION/CPID, read up to DONE; return the lines read."""
        self.send(f"VERSION\t1\t{minor}", f"CPID\t{pid}")
        return self.read_until("DONE")

    def read_until(self, last, timeout=15):
        lines = []
        while True:
            line = self.readline(timeout)
            if line is None:
                raise EOFError(f"EOF after {lines}")
            lines.append(line)
            if line.split("\t")[0] == last:
                return lines

    def closed(self, timeout=15):
        """True when the server closes the connection within TIMEOUT
        (lines still arriving are skipped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.readline(deadline - time.monotonic()) is None:
                    return True
            except TimeoutError:
                return False
        return False

    def auth(self, rid, mech, *params, resp=None, service="smtp"):
        """Send an AUTH line."""
        fields = ["AUTH", str(rid), mech]
        if service is not None:
            fields.append(f"service={service}")
        fields += list(params)
        if resp is not None:
            fields.append(f"resp={resp}")
        self.send("\t".join(fields))

    def reply(self, timeout=15):
        """The next reply split on TAB."""
        line = self.readline(timeout)
        if line is None:
            raise EOFError("authd closed the connection")
        return line.split("\t")

    def replies(self, count, timeout=15):
        """COUNT replies as a dict id -> fields."""
        out = {}
        for _ in range(count):
            r = self.reply(timeout)
            out[int(r[1])] = r
        return out


def userdb_handshake(conn):
    """Send the auth-userdb VERSION; return the server's VERSION and SPID."""
    conn.send("VERSION\t1\t0")
    return [conn.readline(), conn.readline()]
