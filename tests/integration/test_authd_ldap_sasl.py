"""SASL binds (EXTERNAL) and TLS client certificates of authd's ldap
passdb and userdb, against the test slapd, through tests/unit/test_db_ldap.

Only the identity EXTERNAL gives is tested: the process's uid and gid over
ldapi://, and a client certificate over ldaps:// and StartTLS.  GSSAPI
goes through the same interactive bind but needs a Kerberos KDC, which
the tests do not have.  slapd maps both EXTERNAL identities to
slapd.sasl_dn, the only one (besides the manager) that may read
userPassword: so a password lookup (auth_bind = no) that works proves the
search ran as the SASL identity."""

import os
import socket
import subprocess
import threading

import pytest

from slapd_fixture import SRCDIR
from test_authd_ldap import FILTER, PEOPLE, PROGRAM, conf, run  # noqa: F401
from util import ctl, write_config

PASS_ATTRS = "uid=user,userPassword=password"
# libldap leaks each client-certificate TLS context (once per pool).
CERT_ENV = {
    "ASAN_OPTIONS": "fast_unwind_on_malloc=0",
    "LSAN_OPTIONS": f"suppressions={SRCDIR}/tests/fixtures/lsan-ldap-tls.supp",
}


def init_error(confs):
    """Open CONFS, which must fail; return the error printed."""
    args = [str(PROGRAM)]
    for c in confs:
        args += ["-c", str(c)]
    env = dict(os.environ, DIRMAIL_TEST_LDAP_URI="1", **CERT_ENV)
    r = subprocess.run(args + ["u0:alice"], env=env, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Sanitizer" not in r.stderr, r.stderr
    return r.stderr


@pytest.fixture
def mute_server():
    """A server that records what its clients send and never answers:
    (its ldap:// URI, the bytes received)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    s.settimeout(0.2)
    received = bytearray()
    done = threading.Event()
    clients = []

    def serve():
        while not done.is_set():
            try:
                c, _ = s.accept()
                c.settimeout(0.2)
                clients.append(c)
            except OSError:
                pass
            for c in clients:
                try:
                    received.extend(c.recv(4096))
                except OSError:
                    pass
    t = threading.Thread(target=serve)
    t.start()
    yield f"ldap://127.0.0.1:{s.getsockname()[1]}/", received
    done.set()
    t.join()
    for c in clients:
        c.close()
    s.close()


@pytest.fixture
def external(conf, slapd):
    """A factory of EXTERNAL configurations over ldapi://."""
    def make(**settings):
        c = dict(uris=slapd.ldapi_uri, sasl_bind="yes", sasl_mech="EXTERNAL",
                 pass_filter=FILTER, pass_attrs=PASS_ATTRS)
        c.update(settings)
        return conf(**c)
    return make


def test_external_password_lookup(external):
    r = run([external(auth_bind="no")], "p0:dave:dave-password",
            "p0:erin:erin-password", "p0:dave:erin-password",
            "p0:nobody:x", "n0:erin")
    assert [r[i][0] for i in range(5)] == [
        "ok", "ok", "mismatch", "notfound", "ok"]
    assert r[0][2] == {"user": "dave"}


def test_the_service_dn_may_not_read_passwords(conf, slapd):
    # The same lookup as the simple-bound service account finds no hash:
    # the EXTERNAL identity above really was the one searching.
    c = conf(uris=slapd.ldapi_uri, dn=slapd.service_dn,
             dnpass=slapd.service_pw, auth_bind="no", pass_filter=FILTER,
             pass_attrs=PASS_ATTRS)
    r = run([c], "p0:dave:dave-password")
    assert r[0][0] == "mismatch"
    assert "no password in the entry" in r["stderr"]


def test_external_search_then_bind_and_userdb(external):
    c = external(auth_bind="yes", pass_attrs="uid=user",
                 user_filter="(&(objectClass=posixAccount)(uid=%n))",
                 user_attrs="=home=%{ldap:homeDirectory}")
    r = run([c], "p0:alice:alice-password", "p0:alice:wrong",
            "p0:nobody:x", "u0:alice", "p0:alice:")
    assert [r[i][0] for i in range(5)] == [
        "ok", "mismatch", "notfound", "ok", "mismatch"]
    assert r[3][2] == {"home": "/home/alice"}


def test_sasl_bind_sets_version_3_and_ignores_dn_for_external(external):
    # dn is the authentication id, which EXTERNAL does not use; the
    # version is raised to 3 as Dovecot does.
    c = external(auth_bind="no", ldap_version="2", dn="ignored-authcid")
    assert run([c], "p0:dave:dave-password")[0][0] == "ok"


def test_external_without_an_identity_is_a_temporary_failure(external,
                                                              slapd):
    # Over plain TCP there is no external identity: the bind fails, and
    # that is never "unknown user".
    r = run([external(uris=slapd.ldap_uri, auth_bind="no")],
            "p0:dave:dave-password", "u0:dave")
    assert (r[0][0], r[1][0]) == ("tempfail", "tempfail")
    assert "SASL EXTERNAL bind failed" in r["stderr"]


def test_unknown_mechanism_is_a_temporary_failure(external):
    r = run([external(sasl_mech="NO-SUCH-MECH")], "p0:dave:dave-password")
    assert r[0][0] == "tempfail"


def test_mechanism_questions_and_timeout(external, mute_server):
    # PLAIN asks for the authentication id ("dn"), the password ("dnpass")
    # and the authorization id (sasl_authz_id): its one message shows
    # them.  The server never answers: the bind, synchronous when the
    # connection is set up, gives up after the network timeout (3 s).
    # libldap refuses PLAIN without TLS by default ("noplain"): the test
    # lifts that through libldap's environment.
    uri, received = mute_server
    c = external(uris=uri, sasl_mech="PLAIN", dn="svc-authcid",
                 dnpass="svc-secret", sasl_authz_id="u:dirmail",
                 sasl_realm="EXAMPLE.ORG", auth_bind="no")
    r = run([c], "p0:dave:dave-password", env={"LDAPSASL_SECPROPS": "none"})
    assert r[0][0] == "tempfail"
    assert 2500 <= r[0][1] < 10000
    assert b"PLAIN" in received
    assert b"u:dirmail\0svc-authcid\0svc-secret" in received
    assert "svc-secret" not in r["stderr"]


def cert_conf(conf, slapd, ldap_ca, cert, key, **settings):
    c = dict(uris=slapd.ldaps_uri, tls_ca_cert_file=ldap_ca,
             tls_cert_file=cert, tls_key_file=key, sasl_bind="yes",
             sasl_mech="EXTERNAL", auth_bind="no", pass_filter=FILTER,
             pass_attrs=PASS_ATTRS)
    c.update(settings)
    return conf(**c)


def test_client_certificate_external(conf, slapd, ldap_ca):
    good = cert_conf(conf, slapd, ldap_ca, slapd.client_cert,
                     slapd.client_key)
    starttls = cert_conf(conf, slapd, ldap_ca, slapd.client_cert,
                         slapd.client_key, uris=slapd.ldap_uri, tls="yes")
    # A certificate slapd cannot verify gives no EXTERNAL identity.
    bad = cert_conf(conf, slapd, ldap_ca, slapd.bad_client_cert,
                    slapd.bad_client_key)
    r = run([good, starttls, bad], "p0:dave:dave-password",
            "p1:erin:erin-password", "p0:dave:wrong",
            "p2:dave:dave-password", env=CERT_ENV)
    assert [r[i][0] for i in range(4)] == ["ok", "ok", "mismatch",
                                           "tempfail"]


def test_client_certificate_with_simple_binds(conf, slapd, ldap_ca):
    # The certificate is offered on user binds' connections too.
    c = conf(uris=slapd.ldaps_uri, tls_ca_cert_file=ldap_ca,
             tls_cert_file=slapd.client_cert, tls_key_file=slapd.client_key,
             auth_bind="yes", auth_bind_userdn=f"uid=%u,{PEOPLE}")
    r = run([c], "p0:bob:bob-password", "p0:bob:wrong", env=CERT_ENV)
    assert (r[0][0], r[1][0]) == ("ok", "mismatch")


@pytest.mark.parametrize("which,want", [
    ("missing-cert", "tls_cert_file: cannot read"),
    ("missing-key", "tls_key_file: cannot read"),
    ("no-key", "tls_key_file: needed with tls_cert_file"),
    ("no-cert", "tls_cert_file: needed with tls_key_file"),
    ("garbage-cert", "no PEM certificate"),
    ("garbage-key", "no unencrypted PEM private key"),
    ("other-key", "does not belong to the certificate"),
])
def test_bad_client_certificate_files(conf, slapd, ldap_ca, tmp_path,
                                      which, want):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    cert, key = slapd.client_cert, slapd.client_key
    cert, key = {
        "missing-cert": (str(tmp_path / "none.pem"), key),
        "missing-key": (cert, str(tmp_path / "none.key")),
        "no-key": (cert, None),
        "no-cert": (None, key),
        "garbage-cert": (str(garbage), key),
        "garbage-key": (cert, str(garbage)),
        "other-key": (cert, slapd.bad_client_key),
    }[which]
    c = cert_conf(conf, slapd, ldap_ca, cert, key)
    error = init_error([c])
    assert want in error
    assert str(c) in error


def test_dirmailctl_check_agrees(tmp_path, conf, slapd, ldap_ca):
    good = conf(uris=slapd.ldapi_uri, sasl_bind="yes", sasl_mech="EXTERNAL",
                tls_cert_file=slapd.client_cert, tls_key_file=slapd.client_key)
    bad = conf(sasl_bind="yes", sasl_mech="EXTERNAL",
               tls_cert_file=slapd.client_cert,
               tls_key_file=str(tmp_path / "missing.key"))
    for path, want_ok in ((good, True), (bad, False)):
        cfg = write_config(tmp_path / "dirmail.cf", {
            "passdb": f"ldap:{path}", "userdb": f"ldap:{path}"})
        r = ctl("check", config=cfg)
        if want_ok:
            assert str(path) not in r.stderr, r.stderr
        else:
            assert r.returncode == 1
            assert f"{path}:6: tls_key_file: cannot read" in r.stderr, r.stderr
