"""authd's ldap passdb and userdb against the test slapd, through
tests/unit/test_db_ldap (the drivers on an event loop of their own):
each lookup prints "INDEX RESULT MS fields..." when it is answered."""

import os
import signal
import socket
import subprocess

import pytest

from slapd_fixture import Slapd
from util import BUILDDIR, free_port

PROGRAM = BUILDDIR / "tests/unit/test_db_ldap"
PEOPLE = "ou=people,dc=example,dc=com"
FILTER = "(&(objectClass=inetOrgPerson)(uid=%u))"


def run(confs, *lookups, timeout=30, env=None):
    """Run LOOKUPS on CONFS; return {index: (result, ms, fields)}.
    ENV adds to the environment."""
    env = dict(os.environ, DIRMAIL_TEST_LDAP_URI="1", **(env or {}))
    args = [str(PROGRAM)]
    for c in confs:
        args += ["-c", str(c)]
    r = subprocess.run(args + list(lookups), env=env, capture_output=True,
                       text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr
    assert "Sanitizer" not in r.stderr, r.stderr
    out = {}
    order = []
    for line in r.stdout.splitlines():
        i, result, ms, *fields = line.split(" ")
        out[int(i)] = (result, int(ms), dict(f.split("=", 1) for f in fields))
        order.append(int(i))
    assert sorted(out) == list(range(len(lookups))), r.stdout
    out["order"] = order
    out["stderr"] = r.stderr
    return out


def result(conf, lookup):
    return run([conf], lookup)[0][0]


@pytest.fixture
def conf(tmp_path, slapd):
    """A factory: conf(**settings) -> path of a dovecot-ldap.conf.ext."""
    count = iter(range(1000))

    def make(**settings):
        c = {"uris": slapd.ldap_uri, "base": slapd.base}
        c.update(settings)
        path = tmp_path / f"ldap{next(count)}.conf.ext"
        path.write_text("".join(f"{k} = {v}\n" for k, v in c.items()
                                if v is not None))
        return path
    return make


@pytest.fixture
def dn_template(conf):
    return conf(auth_bind="yes", auth_bind_userdn=f"uid=%u,{PEOPLE}")


@pytest.fixture
def search_bind(conf, slapd):
    return conf(auth_bind="yes", dn=slapd.service_dn,
                dnpass=slapd.service_pw, pass_filter=FILTER,
                pass_attrs="uid=user")


@pytest.fixture
def lookup_pw(conf, slapd):
    # The service account may not read userPassword; the manager may.
    return conf(auth_bind="no", dn=slapd.root_dn, dnpass=slapd.root_pw,
                pass_filter=FILTER, pass_attrs="uid=user,userPassword=password")


def test_dn_template(dn_template):
    assert result(dn_template, "p0:alice:alice-password") == "ok"
    assert result(dn_template, "p0:alice:bob-password") == "mismatch"
    assert result(dn_template, "p0:bob:bob-password") == "ok"


def test_search_then_bind(search_bind):
    r = run([search_bind], "p0:alice:alice-password", "p0:nobody:x",
            "p0:alice:wrong", "p0:carol:carol-password",
            "p0:dave:dave-password", "p0:carol:dave-password")
    assert [r[i][0] for i in range(6)] == [
        "ok", "notfound", "mismatch", "ok", "ok", "mismatch"]
    assert r[0][2] == {"user": "alice"}


def test_several_entries_are_a_failure_never_a_success(search_bind):
    r = run([search_bind], "p0:twin:carol-password")
    assert r[0][0] == "tempfail"
    assert "2 entries" in r["stderr"]


def test_base_of_one_subtree_only(conf, slapd):
    c = conf(auth_bind="yes", dn=slapd.service_dn, dnpass=slapd.service_pw,
             pass_filter=FILTER, base="ou=west,ou=authtest,dc=example,dc=com")
    r = run([c], "p0:dave:dave-password", "p0:carol:carol-password",
            "p0:twin:carol-password")
    assert [r[i][0] for i in range(3)] == ["ok", "notfound", "ok"]


@pytest.mark.parametrize("user,password,want", [
    ("dave", "dave-password", "ok"),       # {SSHA}
    ("erin", "erin-password", "ok"),       # {CRYPT}$6$
    ("dave", "erin-password", "mismatch"),
    ("erin", "dave-password", "mismatch"),
    ("nobody", "x", "notfound"),
])
def test_password_lookup(lookup_pw, user, password, want):
    assert result(lookup_pw, f"p0:{user}:{password}") == want


def test_password_lookup_keeps_the_hash_out_of_the_fields(lookup_pw):
    r = run([lookup_pw], "p0:dave:dave-password", "n0:erin")
    assert r[0] == ("ok", r[0][1], {"user": "dave"})
    assert r[1][0] == "ok" and r[1][2] == {"user": "erin"}


def test_empty_password_never_binds(dn_template, search_bind, slapd):
    # The server is frozen: an answer proves it was never asked.
    os.kill(slapd.pid, signal.SIGSTOP)
    try:
        r = run([dn_template, search_bind], "p0:alice:", "p1:alice:")
    finally:
        os.kill(slapd.pid, signal.SIGCONT)
    assert r[0][0] == r[1][0] == "mismatch"
    assert r[0][1] < 1000 and r[1][1] < 1000


INJECTIONS = ["*", "*)(uid=*", "alice)(uid=*", "alice,ou=x", "alice\\",
              "\\2a", "alice*", "uid=alice," + PEOPLE, "*)(|(uid=*"]


@pytest.mark.parametrize("user", INJECTIONS)
def test_injection_never_authenticates(dn_template, search_bind, lookup_pw,
                                       user):
    for password in ("alice-password", "dave-password", "x"):
        r = run([dn_template, search_bind, lookup_pw],
                f"p0:{user}:{password}", f"p1:{user}:{password}",
                f"p2:{user}:{password}")
        assert [r[i][0] for i in range(3)] != ["ok"] * 3
        for i in range(3):
            assert r[i][0] in ("mismatch", "notfound"), (user, i, r[i])


def test_userdb_fields(conf, slapd):
    c = conf(dn=slapd.service_dn, dnpass=slapd.service_pw,
             user_filter="(&(objectClass=posixAccount)(uid=%n))",
             user_attrs="=home=%{ldap:homeDirectory}, =uid=%{ldap:uidNumber},"
             " gidNumber=gid, =mail=maildir:~/Maildir,"
             " =quota_rule=*:storage=1G")
    r = run([c], "u0:alice@example.com", "u0:nobody")
    assert r[0][0] == "ok"
    assert r[0][2] == {"home": "/home/alice", "uid": "1001", "gid": "1001",
                       "mail": "maildir:~/Maildir",
                       "quota_rule": "*:storage=1G"}
    assert r[1][0] == "notfound"


def dead_uri():
    return f"ldap://127.0.0.1:{free_port()}/"


def test_server_unreachable_is_a_temporary_failure(conf, slapd):
    c = conf(uris=dead_uri(), auth_bind="yes",
             auth_bind_userdn=f"uid=%u,{PEOPLE}")
    s = conf(uris=dead_uri(), dn=slapd.service_dn, dnpass=slapd.service_pw,
             pass_filter=FILTER)
    r = run([c, s], "p0:alice:alice-password", "p1:alice:alice-password",
            "u1:alice")
    assert [r[i][0] for i in range(3)] == ["tempfail"] * 3


def test_failover_to_the_next_uri(conf, slapd):
    c = conf(uris=f"{dead_uri()} {slapd.ldap_uri}", auth_bind="yes",
             dn=slapd.service_dn, dnpass=slapd.service_pw,
             pass_filter=FILTER)
    r = run([c], "p0:alice:alice-password", "p0:alice:nope", "u0:alice")
    assert [r[i][0] for i in range(3)] == ["ok", "mismatch", "ok"]


def test_starttls(conf, slapd, ldap_ca):
    good = conf(tls="yes", tls_ca_cert_file=ldap_ca, auth_bind="yes",
                auth_bind_userdn=f"uid=%u,{PEOPLE}")
    bad = conf(tls="yes", tls_ca_cert_file=slapd.bad_ca_file,
               auth_bind="yes", auth_bind_userdn=f"uid=%u,{PEOPLE}")
    r = run([good, bad], "p0:alice:alice-password", "p1:alice:alice-password")
    assert r[0][0] == "ok"
    assert r[1][0] == "tempfail"


def test_ldaps(conf, slapd, ldap_ca):
    good = conf(uris=slapd.ldaps_uri, tls_ca_cert_file=ldap_ca,
                auth_bind="yes", auth_bind_userdn=f"uid=%u,{PEOPLE}")
    bad = conf(uris=slapd.ldaps_uri, tls_ca_cert_file=slapd.bad_ca_file,
               auth_bind="yes", auth_bind_userdn=f"uid=%u,{PEOPLE}")
    r = run([good, bad], "p0:bob:bob-password", "p1:bob:bob-password")
    assert (r[0][0], r[1][0]) == ("ok", "tempfail")


def test_50_concurrent_logins(dn_template, search_bind):
    lookups, want = [], []
    for i in range(50):
        user, pw = [("alice", "alice-password"), ("bob", "bob-password"),
                    ("carol", "carol-password")][i % 3]
        ok = i % 5 != 0
        db = i % 2
        if user == "carol" and db == 0:
            ok_result = "ok" if ok else "mismatch"
            lookups.append(f"p1:{user}:{pw if ok else 'wrong'}")
        else:
            ok_result = "ok" if ok else "mismatch"
            lookups.append(f"p{db}:{user}:{pw if ok else 'wrong'}")
        want.append(ok_result)
    r = run([dn_template, search_bind], *lookups)
    assert [r[i][0] for i in range(50)] == want


@pytest.fixture
def silent_server():
    """A listening socket that accepts connections and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    yield f"ldap://127.0.0.1:{s.getsockname()[1]}/"
    s.close()


def test_a_stuck_server_does_not_hold_up_other_logins(conf, slapd,
                                                      silent_server):
    stuck = conf(uris=silent_server, auth_bind="yes",
                 auth_bind_userdn=f"uid=%u,{PEOPLE}")
    stuck_search = conf(uris=silent_server, dn=slapd.service_dn,
                        dnpass=slapd.service_pw, pass_filter=FILTER)
    healthy = conf(auth_bind="yes", dn=slapd.service_dn,
                   dnpass=slapd.service_pw, pass_filter=FILTER)
    r = run([stuck, stuck_search, healthy], "p0:alice:alice-password",
            "p1:alice:alice-password", "p2:alice:alice-password",
            "p2:bob:bob-password", "u2:bob")
    # The healthy lookups answer first and fast; the stuck ones time out.
    assert [r[i][0] for i in range(5)] == [
        "tempfail", "tempfail", "ok", "ok", "ok"]
    assert set(r["order"][:3]) == {2, 3, 4}
    assert max(r[i][1] for i in (2, 3, 4)) < 2000
    assert min(r[i][1] for i in (0, 1)) >= 4000



def test_a_frozen_slapd_times_out_while_another_answers(conf, slapd,
                                                         private_slapd):
    frozen = conf(uris=private_slapd.ldap_uri, auth_bind="yes",
                  auth_bind_userdn=f"uid=%u,{PEOPLE}")
    healthy = conf(auth_bind="yes", auth_bind_userdn=f"uid=%u,{PEOPLE}")
    os.kill(private_slapd.pid, signal.SIGSTOP)
    try:
        r = run([frozen, healthy], "p0:alice:alice-password",
                "p1:alice:alice-password")
    finally:
        os.kill(private_slapd.pid, signal.SIGCONT)
    assert (r[0][0], r[1][0]) == ("tempfail", "ok")
    assert r["order"] == [1, 0]
