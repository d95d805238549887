"""qmgr, the queue manager: pickup, done marks, transports, deferral and
back-off, flush, forwards, bounces, agents that die, crashes.

Messages come in through the real smtpd.  The delivery agent is FAKED:
FakeAgent below is a small UNIX server in this test that listens on
queue_directory/private/smtp and speaks doc/delivery-protocol.md, with
per-recipient answers the test chooses.  transport_maps sends
discard.test to discard:, error.test to error: and fake.test (and
other.test) to smtp: so that the fake agent serves them.
"""

import os
import re
import signal
import socket
import threading
import time

import pytest

import queuefile
from authproto import tab_unescape
from dirmail_fixture import wait_for
from smtp_util import LISTENERS, Raw, smtp_params, wait_greeting, \
    write_tables
from test_smtpd import send_ok
from util import ctl

TRANSPORT = ("discard.test discard:\n"
             "error.test error:no such user here\n"
             "fake.test smtp:[fake.test]:2525\n"
             ".other.test smtp:\n")


class FakeAgent:
    """A fake delivery agent on private/smtp.  ANSWER(final) returns
    (class, dsn, text) or ("F", [addresses]) for a forward, or "die" to
    close the connection without a reply."""

    def __init__(self, path, answer):
        self.path = str(path)
        self.answer = answer
        self.requests = []      # (queue id, transport, nexthop, [finals])
        self.lock = threading.Lock()
        self.delay = 0          # seconds before each reply
        self.busy = self.max_busy = 0
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(16)
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,),
                             daemon=True).start()

    def _serve(self, conn):
        f = conn.makefile("rb")
        try:
            while True:
                req = self._read_request(f)
                if req is None:
                    return
                reply = self._reply(req)
                if reply is None:
                    return
                conn.sendall(reply.encode())
        except OSError:
            pass
        finally:
            conn.close()

    def _read_request(self, f):
        head, rcpts = None, []
        while True:
            line = f.readline()
            if not line:
                return None
            fields = [tab_unescape(x) for x in
                      line.decode().rstrip("\n").split("\t")]
            if fields[0] == "D":
                head = fields
            elif fields[0] == "R":
                rcpts.append((int(fields[1]), fields[2]))
            elif fields[0] == ".":
                return head, rcpts

    def _reply(self, req):
        head, rcpts = req
        with self.lock:
            self.requests.append((head[1], head[5], head[6],
                                  [r[1] for r in rcpts]))
            self.busy += 1
            self.max_busy = max(self.max_busy, self.busy)
        time.sleep(self.delay)
        with self.lock:
            self.busy -= 1
        out = []
        for index, final in rcpts:
            a = self.answer(final)
            if a == "die":
                return None
            if a == "bogus":
                # A status for an index the request did not have.
                out.append(f"S\t{index + 1000}\t2\t2.0.0\tx\tok\n")
                continue
            if a[0] == "F":
                out += [f"F\t{index}\t{x}\n" for x in a[1]]
                a = (2, "2.0.0", "forwarded")
            out.append(f"S\t{index}\t{a[0]}\t{a[1]}\tfake.test\t{a[2]}\n")
        return "".join(out) + ".\n"

    def delivered(self, final):
        with self.lock:
            return sum(r[3].count(final) for r in self.requests)

    def close(self):
        self.running = False
        self.sock.close()


def instance(dirmail, tmp_path, cert, **params):
    tables = write_tables(tmp_path / "tables")
    transport = tmp_path / "tables" / "transport"
    transport.write_text(TRANSPORT)
    conf = smtp_params(tables, cert)
    conf.update({"mynetworks": "127.0.0.0/8",
                 "transport_maps": f"texthash:{transport}",
                 "queue_run_delay": "1s",
                 "minimal_backoff_time": "100s",
                 "maximal_backoff_time": "200s"})
    conf.update(params)
    d = dirmail(params=conf, listen=LISTENERS,
                services={"authd": "authd", "smtpd": "smtpd",
                          "qmgr": "qmgr"})
    wait_greeting(d)
    d.queue = d.dir / "queue"
    return d


@pytest.fixture
def mta(dirmail, tmp_path, smtp_cert):
    return instance(dirmail, tmp_path, smtp_cert)


def send(d, rcpts, sender="<alice@example.com>"):
    c = Raw(d)
    assert c.cmd("EHLO client.example.org")[0] == 250
    qid = send_ok(c, sender, [f"<{r}>" if "<" not in r else r
                              for r in rcpts])
    c.cmd("QUIT")
    c.close()
    return qid


def where(d, qid):
    """The queue subdirectories that hold QID."""
    return [e["queue"] for e in queuefile.list_queue(str(d.queue))
            if e["id"] == qid]


def gone(d, qid):
    return lambda: not where(d, qid)


def agent(d, answer):
    a = FakeAgent(d.queue / "private" / "smtp", answer)
    return a


def test_discard_pickup_and_removal(mta):
    since = mta.mark()
    qid = send(mta, ["a@discard.test", "b@discard.test"])
    wait_for(gone(mta, qid), 10, what="message removed")
    for r in ("a@discard.test", "b@discard.test"):
        mta.wait_log(rf"{qid}: to=<{re.escape(r)}>, relay=none, "
                     rf"delay=[0-9.e-]+, delays=[0-9.e-]+/[0-9.e-]+/"
                     rf"[0-9.e-]+/[0-9.e-]+, dsn=2\.0\.0, status=sent "
                     rf"\(discarded\)", since=since)
    mta.wait_log(rf"{qid}: removed", since=since)
    assert not os.path.exists(mta.queue / "defer" / qid)


def test_defer_flush_and_mixed_results(mta):
    answers = {"ok@fake.test": (2, "2.0.0", "delivered"),
               "later@fake.test": (4, "4.4.1", "try again"),
               "bad@fake.test": (5, "5.1.1", "unknown user")}
    fake = agent(mta, lambda r: answers[r])
    since = mta.mark()
    qid = send(mta, ["<alice@discard.test>", "ok@fake.test",
                     "later@fake.test", "bad@fake.test"],
               sender="<double-bounce@mail.example.com>")
    path = mta.queue / "deferred" / qid
    wait_for(path.exists, 10, what="deferred")
    start = time.time()
    st = os.stat(path)
    # Back-off: the message's age clamped to minimal_backoff_time.
    assert 90 <= st.st_mtime - start <= 110
    mta.wait_log(rf"{qid}: to=<ok@fake\.test>, relay=fake\.test, .*"
                 rf"dsn=2\.0\.0, status=sent \(delivered\)", since=since)
    mta.wait_log(rf"{qid}: to=<later@fake\.test>, relay=fake\.test, .*"
                 rf"dsn=4\.4\.1, status=deferred \(try again\)",
                 since=since)
    mta.wait_log(rf"{qid}: to=<bad@fake\.test>, relay=fake\.test, .*"
                 rf"dsn=5\.1\.1, status=bounced \(unknown user\)",
                 since=since)
    # A bounce from the double-bounce sender is only logged.
    mta.wait_log(rf"{qid}: undeliverable postmaster notification "
                 rf"discarded", since=since)
    env = queuefile.read(str(path))
    done = {r["final"]: r["done"] for r in env["recipients"]}
    assert done == {"alice@discard.test": True, "ok@fake.test": True,
                    "later@fake.test": False, "bad@fake.test": True}
    assert fake.requests[0][1:3] == ("smtp", "[fake.test]:2525")
    # The listing shows the reason above the recipient.
    r = ctl("queue", "list", config=mta.config)
    assert r.returncode == 0, r.stderr
    block = r.stdout[r.stdout.index(qid):]
    assert re.search(r"\n\(try again\)\n +later@fake\.test\n", block), \
        r.stdout
    assert "ok@fake.test" not in block
    # Flush: delivered now, only the deferred recipient is tried again.
    answers["later@fake.test"] = (2, "2.0.0", "delivered")
    since = mta.mark()
    r = ctl("queue", "flush", config=mta.config)
    assert r.returncode == 0, r.stderr
    wait_for(gone(mta, qid), 10, what="delivered after flush")
    mta.wait_log(rf"{qid}: to=<later@fake\.test>, .*status=sent",
                 since=since)
    assert fake.delivered("ok@fake.test") == 1
    assert fake.delivered("later@fake.test") == 2
    assert not os.path.exists(mta.queue / "defer" / qid)
    fake.close()


def test_agent_dies_mid_request_then_retried(mta):
    state = {"die": True}

    def answer(r):
        return "die" if state["die"] else (2, "2.0.0", "delivered")
    fake = agent(mta, answer)
    since = mta.mark()
    qid = send(mta, ["x@fake.test"])
    path = mta.queue / "deferred" / qid
    wait_for(path.exists, 10, what="deferred")
    mta.wait_log(rf"{qid}: to=<x@fake\.test>, relay=none, .*dsn=4\.3\.0, "
                 rf"status=deferred \(delivery agent failed", since=since)
    state["die"] = False
    # requeue moves it back to incoming/ and wakes qmgr.
    r = ctl("queue", "requeue", qid, config=mta.config)
    assert r.returncode == 0, r.stderr
    wait_for(gone(mta, qid), 10, what="delivered after requeue")
    assert fake.delivered("x@fake.test") == 2
    fake.close()


def test_corrupt_file_moves_to_corrupt(mta):
    bad = mta.queue / "incoming" / "0123456789ABCDEF01"
    bad.write_bytes(b"DMQ1 garbage\n")
    dot = mta.queue / "incoming" / ".0123456789ABCDEF02"
    dot.write_bytes(b"partial")
    since = mta.mark()
    os.write(os.open(mta.queue / "public" / "qmgr",
                     os.O_WRONLY | os.O_NONBLOCK), b"x")
    wait_for((mta.queue / "corrupt" / bad.name).exists, 10,
             what="moved to corrupt/")
    mta.wait_log(r"0123456789ABCDEF01: .*moved to corrupt/", since=since)
    assert dot.exists()


def test_forward_and_error_bounce(mta):
    fake = agent(mta, lambda r: ("F", ["one@discard.test",
                                       "two@discard.test"]))
    since = mta.mark()
    qid = send(mta, ["list@fake.test", "nobody@error.test"])
    m = mta.wait_log(rf"{qid}: to=<list@fake\.test>, .*status=sent "
                     rf"\(forwarded as ([0-9A-F]+)\)", since=since)
    new = m.group(1)
    mta.wait_log(rf"{qid}: to=<nobody@error\.test>, relay=none, .*"
                 rf"dsn=5\.0\.0, status=bounced \(no such user here\)",
                 since=since)
    mta.wait_log(rf"{qid}: sender non-delivery notification: [0-9A-F]+",
                 since=since)
    mta.wait_log(rf"{new}: to=<one@discard\.test>, .*status=sent",
                 since=since)
    wait_for(gone(mta, qid), 10, what="original removed")
    fake.close()


def test_lifetime_expired_bounces(dirmail, tmp_path, smtp_cert):
    # Lifetime 0: one attempt only (Postfix's meaning); a message from
    # <> follows bounce_queue_lifetime.
    d = instance(dirmail, tmp_path, smtp_cert, bounce_queue_lifetime="0",
                 maximal_queue_lifetime="0")
    fake = agent(d, lambda r: (4, "4.4.1", "host down"))
    since = d.mark()
    qid = send(d, ["slow@fake.test"], sender="<>")
    d.wait_log(rf"{qid}: from=<>, status=expired, returned to sender",
               since=since)
    d.wait_log(rf"{qid}: postmaster non-delivery notification: "
               rf"[0-9A-F]+", since=since)
    wait_for(gone(d, qid), 10, what="expired message removed")
    fake.close()


def test_kill9_nothing_lost_nothing_twice(mta):
    fake = agent(mta, lambda r: (2, "2.0.0", "delivered"))
    ids = [send(mta, [f"m{i}@fake.test"]) for i in range(20)]
    qmgr_pid = wait_for(lambda: mta.service_pid("qmgr"), 10,
                        what="qmgr running")
    os.kill(qmgr_pid, signal.SIGKILL)
    more = [send(mta, [f"n{i}@fake.test"]) for i in range(10)]
    # dirmaild restarts qmgr; everything is delivered in the end.
    for qid in ids + more:
        wait_for(gone(mta, qid), 30, what=f"{qid} delivered")
    counts = [fake.delivered(f"m{i}@fake.test") for i in range(20)]
    counts += [fake.delivered(f"n{i}@fake.test") for i in range(10)]
    assert all(c >= 1 for c in counts), counts
    assert sum(c - 1 for c in counts) <= 20, counts
    fake.close()


def test_destination_concurrency_limit(dirmail, tmp_path, smtp_cert):
    d = instance(dirmail, tmp_path, smtp_cert,
                 default_destination_concurrency_limit="2")
    fake = agent(d, lambda r: (2, "2.0.0", "delivered"))
    fake.delay = 0.3
    ids = [send(d, [f"c{i}@fake.test"]) for i in range(6)]
    for qid in ids:
        wait_for(gone(d, qid), 15, what=f"{qid} delivered")
    # One destination: never more than two requests at once, but
    # parallel all the same.
    assert fake.max_busy == 2
    fake.close()


def test_notify_success_and_never(mta):
    since = mta.mark()
    qid = send(mta, ["<ok@discard.test> NOTIFY=SUCCESS",
                     "<no@error.test> NOTIFY=NEVER"])
    wait_for(gone(mta, qid), 10, what="message done")
    mta.wait_log(rf"{qid}: sender delivery status notification: "
                 rf"[0-9A-F]+", since=since)
    mta.wait_log(rf"{qid}: to=<no@error\.test>, .*status=bounced",
                 since=since)
    assert f"{qid}: sender non-delivery notification" not in \
        mta.log()[since:]


def test_delay_warning_once(dirmail, tmp_path, smtp_cert):
    d = instance(dirmail, tmp_path, smtp_cert, delay_warning_time="1s")
    fake = agent(d, lambda r: (4, "4.4.1", "host down"))
    since = d.mark()
    qid = send(d, ["slow@fake.test"])
    wait_for((d.queue / "deferred" / qid).exists, 10, what="deferred")
    time.sleep(1.2)
    for _ in range(2):
        mark = d.mark()
        ctl("queue", "flush", config=d.config)
        d.wait_log(rf"{qid}: to=<slow@fake\.test>, .*status=deferred",
                   since=mark)
        wait_for((d.queue / "deferred" / qid).exists, 10,
                 what="deferred again")
    log = d.log()[since:]
    assert len(re.findall(rf"{qid}: sender delay notification: "
                          rf"[0-9A-F]+", log)) == 1, log
    fake.close()


def test_active_limit(dirmail, tmp_path, smtp_cert):
    d = instance(dirmail, tmp_path, smtp_cert, qmgr_message_active_limit="1")
    fake = agent(d, lambda r: (2, "2.0.0", "delivered"))
    fake.delay = 0.2
    ids = [send(d, [f"l{i}@fake.test"]) for i in range(4)]
    for qid in ids:
        wait_for(gone(d, qid), 15, what=f"{qid} delivered")
    # One message in active/ at a time: one request at a time.
    assert fake.max_busy == 1
    assert sum(fake.delivered(f"l{i}@fake.test") for i in range(4)) == 4
    fake.close()


def test_sigterm_keeps_in_flight_work(mta):
    fake = agent(mta, lambda r: (2, "2.0.0", "delivered"))
    fake.delay = 6
    qid = send(mta, ["slow@fake.test"])
    wait_for(lambda: fake.requests, 10, what="request sent")
    mta.stop()
    # No answer came: the message waits in active/ for the next start.
    assert where(mta, qid) == ["active"]
    fake.delay = 0
    since = mta.mark()
    mta.start()
    wait_for(gone(mta, qid), 15, what="delivered after the restart")
    mta.wait_log(rf"{qid}: to=<slow@fake\.test>, .*status=sent",
                 since=since)
    fake.close()


def test_protocol_error_defers(mta):
    fake = agent(mta, lambda r: "bogus")
    since = mta.mark()
    qid = send(mta, ["p@fake.test"])
    wait_for((mta.queue / "deferred" / qid).exists, 10, what="deferred")
    mta.wait_log(rf"{qid}: to=<p@fake\.test>, .*dsn=4\.3\.0, "
                 rf"status=deferred \(delivery agent failed: status for "
                 rf"a recipient the request did not have\)", since=since)
    fake.close()
