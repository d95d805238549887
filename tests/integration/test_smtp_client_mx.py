"""MX lookups of the smtp agent through a fake DNS (FakeDNS, reached
through Debian's libresolv-wrapper): preference order, the next MX when one fails, the
fallback to the A record, null MX (RFC 7505), a domain that does not
exist, a DNS failure and a [host] nexthop that skips the MX lookup.  The servers are
FakeSMTP (written for these tests) on several loopback addresses; qmgr is
played by the test."""

import os

import pytest

from test_smtp_client_helpers import FakeDNS, FakeSMTP, Qmgr, agent
from util import free_port

WRAPPER = "/usr/lib/x86_64-linux-gnu/libresolv_wrapper.so"

pytestmark = pytest.mark.skipif(
    not os.path.exists(WRAPPER),
    reason="libresolv-wrapper is not installed")

RECORDS = {
    # mx.test: the preferred MX refuses connections, the next one works.
    ("mx.test", "MX"): [(10, "mx1.mx.test"), (20, "mx2.mx.test")],
    ("mx1.mx.test", "A"): ["127.0.0.2"],
    ("mx2.mx.test", "A"): ["127.0.0.3"],
    # order.test: both work; the preferred one must get the mail.
    ("order.test", "MX"): [(30, "low.order.test"), (5, "high.order.test")],
    ("low.order.test", "A"): ["127.0.0.4"],
    ("high.order.test", "A"): ["127.0.0.3"],
    # greet.test: the preferred MX answers 421, the next one works.
    ("greet.test", "MX"): [(10, "busy.greet.test"), (20, "mx2.mx.test")],
    ("busy.greet.test", "A"): ["127.0.0.5"],
    # nomx.test: no MX at all, an A record.
    ("nomx.test", "A"): ["127.0.0.3"],
    # nullmx.test: "MX 0 ." does not accept mail (RFC 7505).
    ("nullmx.test", "MX"): [(0, ".")],
    # relay.test: an MX that the [relay.test] nexthop must not use.
    ("relay.test", "MX"): [(10, "mx1.mx.test")],
    ("relay.test", "A"): ["127.0.0.3"],
}


@pytest.fixture
def dns(dirmail, tmp_path):
    """The agent with the fake DNS, and the servers on port PORT:
    127.0.0.3 and 127.0.0.4 accept, 127.0.0.5 answers 421."""
    port = free_port()
    servers = {
        "127.0.0.3": FakeSMTP(host="127.0.0.3", port=port),
        "127.0.0.4": FakeSMTP(host="127.0.0.4", port=port),
        "127.0.0.5": FakeSMTP(host="127.0.0.5", port=port,
                              greeting="421 4.7.0 Try again later"),
    }
    dns = FakeDNS(RECORDS, servfail=["broken.test"])
    d = agent(dirmail, {"smtp_tcp_port": str(port)}, env=dns.env(tmp_path))
    yield d, servers, port
    dns.stop()
    for s in servers.values():
        s.stop()


def test_next_mx_after_connection_failure(dns):
    d, servers, port = dns
    q = Qmgr(d)
    res = q.request("smtp", "mx.test", ["a@mx.test"])
    assert res["a@mx.test"][:3] == (2, "2.0.0",
                                    f"mx2.mx.test[127.0.0.3]:{port}")
    d.wait_log(rf"{q.qid}: connect to mx1.mx.test\[127.0.0.2\]:{port}: "
               "Connection refused")
    assert len(servers["127.0.0.3"].sessions[0]["messages"]) == 1


def test_preference_order(dns):
    d, servers, port = dns
    for _ in range(3):
        res = Qmgr(d).request("smtp", "order.test", ["a@order.test"])
        assert res["a@order.test"][2] == \
            f"high.order.test[127.0.0.3]:{port}"
    assert servers["127.0.0.4"].sessions == []


def test_next_mx_after_4xx_greeting(dns):
    d, servers, port = dns
    res = Qmgr(d).request("smtp", "greet.test", ["a@greet.test"])
    assert res["a@greet.test"][:3] == (2, "2.0.0",
                                       f"mx2.mx.test[127.0.0.3]:{port}")
    assert len(servers["127.0.0.5"].sessions) == 1


def test_fallback_to_a_record(dns):
    d, servers, port = dns
    res = Qmgr(d).request("smtp", "nomx.test", ["a@nomx.test"])
    assert res["a@nomx.test"][:3] == (2, "2.0.0",
                                      f"nomx.test[127.0.0.3]:{port}")


def test_null_mx_bounces(dns):
    d, servers, port = dns
    res = Qmgr(d).request("smtp", "nullmx.test", ["a@nullmx.test"])
    assert res["a@nullmx.test"][:2] == (5, "5.1.10")
    assert "does not accept mail (nullMX)" in res["a@nullmx.test"][3]


def test_unknown_domain_bounces(dns):
    d, servers, port = dns
    res = Qmgr(d).request("smtp", "nowhere.test", ["a@nowhere.test"])
    assert res["a@nowhere.test"][:2] == (5, "5.4.4")
    assert "Host or domain name not found" in res["a@nowhere.test"][3]


def test_bracketed_nexthop_skips_mx(dns):
    d, servers, port = dns
    res = Qmgr(d).request("relay", "[relay.test]", ["a@example.net"])
    assert res["a@example.net"][:3] == (2, "2.0.0",
                                        f"relay.test[127.0.0.3]:{port}")


def test_dns_failure_defers(dns):
    d, servers, port = dns
    res = Qmgr(d).request("smtp", "broken.test", ["a@broken.test"])
    assert res["a@broken.test"][:2] == (4, "4.4.3")
