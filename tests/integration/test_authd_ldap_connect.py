"""Setting up a connection to the directory (TCP connect, StartTLS, the
TLS handshake of ldaps://) never holds up other logins: authd runs every
database in one event loop, so each step must wait in that loop.

The "tarpit" is a listener whose accept queue is full: the kernel drops
the SYNs of new connections, so their connect neither succeeds nor fails
until the client gives up (net_timeout, 3 seconds in authd)."""

import socket

import pytest

from test_authd_ldap import FILTER, PEOPLE, conf, run  # noqa: F401

NET_TIMEOUT_MS = 3000


@pytest.fixture
def tarpit():
    """The port of a listener that never completes a TCP handshake."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(0)
    fill = []
    # Fill the accept queue (never accepted) until a connect hangs.
    for _ in range(16):
        c = socket.socket()
        c.settimeout(0.2)
        fill.append(c)
        try:
            c.connect(s.getsockname())
        except (socket.timeout, BlockingIOError):
            break
    else:
        pytest.skip("the accept queue never filled up")
    yield s.getsockname()[1]
    for c in fill:
        c.close()
    s.close()


@pytest.fixture
def silent():
    """The port of a listener that accepts and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    yield s.getsockname()[1]
    s.close()


def logins(stalled, healthy):
    """Run logins on STALLED (p0, u0) and HEALTHY (p1, u1) at once."""
    return run([stalled, healthy], "p0:alice:alice-password", "u0:alice",
               "p1:alice:alice-password", "p1:bob:bob-password", "u1:bob")


def assert_healthy_first(r):
    """The healthy database answered at once, before the stalled one."""
    assert [r[i][0] for i in (2, 3, 4)] == ["ok"] * 3
    assert set(r["order"][:3]) == {2, 3, 4}
    assert max(r[i][1] for i in (2, 3, 4)) < 1500


def test_a_stalled_connect_fails_over_without_holding_up_others(
        conf, slapd, tarpit):
    stalled = conf(uris=f"ldap://127.0.0.1:{tarpit}/ {slapd.ldap_uri}",
                   auth_bind="yes", dn=slapd.service_dn,
                   dnpass=slapd.service_pw, pass_filter=FILTER,
                   user_filter=FILTER)
    healthy = conf(auth_bind="yes", dn=slapd.service_dn,
                   dnpass=slapd.service_pw, pass_filter=FILTER,
                   user_filter=FILTER)
    r = logins(stalled, healthy)
    assert_healthy_first(r)
    # The stalled database gave up on the tarpit after net_timeout and
    # answered from the next URI.
    assert [r[i][0] for i in (0, 1)] == ["ok", "ok"]
    assert min(r[i][1] for i in (0, 1)) >= NET_TIMEOUT_MS - 100


def test_a_stalled_connect_is_a_temporary_failure(conf, slapd, tarpit):
    stalled = conf(uris=f"ldap://127.0.0.1:{tarpit}/", auth_bind="yes",
                   auth_bind_userdn=f"uid=%u,{PEOPLE}", user_filter=FILTER)
    healthy = conf(auth_bind="yes", auth_bind_userdn=f"uid=%u,{PEOPLE}",
                   user_filter=FILTER)
    r = logins(stalled, healthy)
    assert_healthy_first(r)
    assert [r[i][0] for i in (0, 1)] == ["tempfail", "tempfail"]
    assert min(r[i][1] for i in (0, 1)) >= NET_TIMEOUT_MS - 100
    assert "cannot connect" in r["stderr"]


def test_a_stalled_ldaps_connect_fails_over(conf, slapd, ldap_ca, tarpit):
    stalled = conf(uris=f"ldaps://127.0.0.1:{tarpit}/ {slapd.ldaps_uri}",
                   tls_ca_cert_file=ldap_ca, auth_bind="yes",
                   auth_bind_userdn=f"uid=%u,{PEOPLE}", user_filter=FILTER)
    healthy = conf(uris=slapd.ldaps_uri, tls_ca_cert_file=ldap_ca,
                   auth_bind="yes", auth_bind_userdn=f"uid=%u,{PEOPLE}",
                   user_filter=FILTER)
    r = logins(stalled, healthy)
    assert_healthy_first(r)
    assert [r[i][0] for i in (0, 1)] == ["ok", "ok"]
    assert min(r[i][1] for i in (0, 1)) >= NET_TIMEOUT_MS - 100


def test_a_stalled_starttls_fails_over_without_holding_up_others(
        conf, slapd, ldap_ca, silent):
    # The silent server accepts the connection, never answers StartTLS.
    stalled = conf(uris=f"ldap://127.0.0.1:{silent}/ {slapd.ldap_uri}",
                   tls="yes", tls_ca_cert_file=ldap_ca, auth_bind="yes",
                   dn=slapd.service_dn, dnpass=slapd.service_pw,
                   pass_filter=FILTER, user_filter=FILTER)
    healthy = conf(tls="yes", tls_ca_cert_file=ldap_ca, auth_bind="yes",
                   dn=slapd.service_dn, dnpass=slapd.service_pw,
                   pass_filter=FILTER, user_filter=FILTER)
    r = logins(stalled, healthy)
    assert_healthy_first(r)
    assert [r[i][0] for i in (0, 1)] == ["ok", "ok"]
    assert min(r[i][1] for i in (0, 1)) >= NET_TIMEOUT_MS - 100
