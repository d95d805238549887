"""The ldap table (Postfix ldap_table(5)) against a real slapd, through
"dirmailctl map query ldap:FILE KEY": exit 0 with the value when found,
1 when not found, 75 on a temporary failure."""

import os
import select
import signal
import subprocess
import time

import pytest

from slapd_fixture import Slapd
from util import BUILDDIR, ctl, free_port, program

EX_TEMPFAIL = 75


def make_table(path, slapd, **settings):
    """Write an ldap table file for SLAPD with SETTINGS; return "ldap:PATH".

    By default it searches the demo base as the service account over
    ldap://; a setting given as None is left out."""
    conf = {
        "server_host": slapd.ldap_uri,
        "search_base": slapd.base,
        "bind_dn": slapd.service_dn,
        "bind_pw": slapd.service_pw,
        "timeout": "5",
    }
    conf.update(settings)
    path.write_text("".join(f"{k} = {v}\n" for k, v in conf.items()
                            if v is not None))
    return f"ldap:{path}"


@pytest.fixture
def table(tmp_path, slapd):
    """A factory: table(**settings) -> "ldap:FILE"."""
    count = iter(range(1000))

    def make(**settings):
        return make_table(tmp_path / f"t{next(count)}.cf", slapd, **settings)
    return make



def query(spec, key):
    r = ctl("map", "query", spec, key)
    assert "Sanitizer" not in r.stderr, r.stderr
    return r


def found(spec, key):
    """Return the value KEY finds in SPEC, or fail."""
    r = query(spec, key)
    assert r.returncode == 0, r.stderr
    return r.stdout.rstrip("\n")


def not_found(spec, key):
    r = query(spec, key)
    assert (r.returncode, r.stdout) == (1, ""), r.stderr
    return r


def tempfail(spec, key):
    r = query(spec, key)
    assert r.returncode == EX_TEMPFAIL, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == ""
    return r


def dead_uri():
    return f"ldap://127.0.0.1:{free_port()}/"


# -- found, not found, values ---------------------------------------------

def test_found_with_the_postfix_defaults(table):
    spec = table()
    assert found(spec, "alice@example.com") == "alice"
    # A second address of the same person.
    assert found(spec, "a.smith@example.com") == "alice"
    assert found(spec, "bob@example.com") == "bob"
    # Keys are folded to lower case; the attribute matches case-insensitively.
    assert found(spec, "Alice@EXAMPLE.com") == "alice"


def test_not_found(table):
    spec = table()
    not_found(spec, "nobody@example.com")
    not_found(spec, "alice@example.org")
    not_found(spec, "alice")


def test_multi_valued_attribute_joined_with_commas(table):
    assert found(table(), "staff@example.com") == "alice,bob"


def test_values_of_several_entries_joined(table):
    spec = table(query_filter="(mail=*@%d)", result_attribute="uid")
    assert sorted(found(spec, "x@example.com").split(",")) == ["alice", "bob"]


def test_several_result_attributes(table):
    spec = table(result_attribute="uid, uidNumber", query_filter="(uid=%u)")
    assert found(spec, "bob") == "bob,1002"


def test_entry_without_the_result_attribute_is_not_found(table):
    # cn=team has no maildrop of its own.
    not_found(table(), "team@example.com")
    not_found(table(result_attribute="telephoneNumber"), "alice@example.com")


def test_special_result_attribute_follows_member_dns(table):
    spec = table(special_result_attribute="member")
    assert found(spec, "team@example.com") == "alice,bob"
    # Entries without the special attribute answer as before.
    assert found(spec, "alice@example.com") == "alice"


def test_leaf_and_terminal_result_attributes(table):
    # mail is a leaf attribute: taken from the members, not the group.
    spec = table(special_result_attribute="member", result_attribute="cn",
                 leaf_result_attribute="mail")
    assert found(spec, "team@example.com") == \
        "team,Alice Smith,alice@example.com,Bob Jones,bob@example.com"
    # A terminal attribute stops the expansion at the entry that has it.
    spec = table(special_result_attribute="member",
                 terminal_result_attribute="description")
    assert found(spec, "team@example.com").startswith("A group whose")


def test_recursion_limit(table):
    spec = table(special_result_attribute="member", recursion_limit="1")
    assert found(spec, "team@example.com") == "alice,bob"
    # A member DN that does not exist is skipped, as in Postfix.
    spec = table(special_result_attribute="member",
                 query_filter="(cn=%u)", search_base="ou=groups,dc=example,dc=com")
    assert found(spec, "team") == "alice,bob"


def test_result_format(table):
    spec = table(result_format="%s@mail.example.com")
    assert found(spec, "alice@example.com") == "alice@mail.example.com"
    assert found(spec, "staff@example.com") == \
        "alice@mail.example.com,bob@mail.example.com"
    # Upper-case expansions are parts of the key.
    spec = table(result_format="%s+%U@%D")
    assert found(spec, "a.smith@example.com") == "alice+a.smith@example.com"
    spec = table(result_format="%%%s%%")
    assert found(spec, "bob@example.com") == "%bob%"


def test_expansion_and_size_limits_are_errors(table):
    tempfail(table(expansion_limit="1"), "staff@example.com")
    assert found(table(expansion_limit="2"), "staff@example.com") == \
        "alice,bob"
    spec = table(query_filter="(mail=*@%d)", result_attribute="uid",
                 size_limit="1")
    r = tempfail(spec, "x@example.com")
    assert "Size limit exceeded" in r.stderr


# -- domain and expansions ------------------------------------------------

def test_domain_restriction(table):
    spec = table(domain="example.org")
    not_found(spec, "alice@example.com")
    spec = table(domain="example.net, example.com")
    assert found(spec, "alice@example.com") == "alice"
    # Without an "@" there is nothing to match the list: not looked up.
    spec = table(domain="example.com", query_filter="(uid=%s)")
    not_found(spec, "alice")
    assert found(table(query_filter="(uid=%s)"), "alice") == "alice"


def test_domain_restriction_sends_no_query(table):
    # With the only server down, a key outside the domains is "not found"
    # (no query), one inside is a temporary failure.
    spec = table(server_host=dead_uri(), domain="example.com")
    not_found(spec, "alice@example.org")
    tempfail(spec, "alice@example.com")


def test_local_part_expansion(table):
    spec = table(query_filter="(uid=%u)", result_attribute="uid")
    assert found(spec, "alice@anything.example") == "alice"
    assert found(spec, "alice") == "alice"
    not_found(spec, "@example.com")


def test_domain_expansions(table):
    spec = table(query_filter="(&(uid=%u)(mail=*@%d))", result_attribute="uid")
    assert found(spec, "alice@example.com") == "alice"
    not_found(spec, "alice@example.org")
    not_found(spec, "alice")
    spec = table(query_filter="(mail=%u@%2.%1)", result_attribute="uid")
    assert found(spec, "bob@example.com") == "bob"
    assert found(spec, "bob@mail.example.com") == "bob"
    not_found(spec, "bob@com")


def test_missing_parts_suppress_the_query(table):
    # Suppressed queries never reach the server: "not found" even while
    # the server is down, where a real query is a temporary failure.
    down = dead_uri()
    spec = table(server_host=down, query_filter="(uid=%u)")
    not_found(spec, "@example.com")
    tempfail(spec, "alice@example.com")
    spec = table(server_host=down, query_filter="(mail=*@%d)")
    not_found(spec, "alice")
    spec = table(server_host=down, query_filter="(dc=%3)")
    not_found(spec, "alice@example.com")
    tempfail(spec, "alice@mail.example.com")


INJECTIONS = ["*", "*)(uid=*", "*)(|(uid=*", "alice*", "*@example.com",
              "\\2a", "\\", "(", ")", "a*e@example.com",
              "alice)(uid=*@example.com", "*)(objectClass=*@example.com"]


@pytest.mark.parametrize("key", INJECTIONS + ["alice@example.com)(uid=*"])
def test_injection_does_not_widen_the_search(table, key):
    not_found(table(), key)
    not_found(table(query_filter="(uid=%s)", result_attribute="uid"), key)


@pytest.mark.parametrize("key", INJECTIONS)
def test_injection_in_the_local_part(table, key):
    not_found(table(query_filter="(uid=%u)", result_attribute="uid"), key)


def test_injection_in_stream_mode_answers_exactly(table):
    spec = table(query_filter="(uid=%u)", result_attribute="uid")
    keys = ["*", "alice", "*)(uid=*", "bob", "b*", "\\2a"]
    r = ctl("map", "query", spec, "-", input="".join(k + "\n" for k in keys))
    assert r.stdout.splitlines() == [
        "*", "alice\talice", "*)(uid=*", "bob\tbob", "b*", "\\2a"]


# -- binding --------------------------------------------------------------

def test_anonymous_and_simple_bind(table):
    # The directory shows maildrop to authenticated readers only.
    anon = table(bind_dn=None, bind_pw=None, result_attribute="uid")
    assert found(anon, "alice@example.com") == "alice"
    not_found(table(bind_dn=None, bind_pw=None), "alice@example.com")
    not_found(table(bind="no"), "alice@example.com")
    assert found(table(), "alice@example.com") == "alice"


def test_user_bind(table, slapd):
    # A user may bind too (and read maildrop).
    dn, pw = slapd.users["bob"]
    assert found(table(bind_dn=dn, bind_pw=pw), "staff@example.com") == \
        "alice,bob"


def test_wrong_password_is_a_temporary_failure_and_not_shown(table):
    secret = "Wr0ng-Secret-Pw"
    r = tempfail(table(bind_pw=secret), "alice@example.com")
    assert "Invalid credentials" in r.stderr
    assert secret not in r.stderr + r.stdout


def test_bind_dn_without_password_is_refused_at_open(table, tmp_path):
    spec = table(bind_pw=None)
    r = tempfail(spec, "alice@example.com")
    assert f"{spec[5:]}:3: bind_dn:" in r.stderr


# -- TLS ------------------------------------------------------------------

def test_ldaps_with_the_test_ca(table, slapd, ldap_ca):
    spec = table(server_host=slapd.ldaps_uri, tls_ca_cert_file=ldap_ca)
    assert found(spec, "alice@example.com") == "alice"


def test_ldaps_with_an_unrelated_ca_is_refused(table, slapd):
    spec = table(server_host=slapd.ldaps_uri,
                 tls_ca_cert_file=slapd.bad_ca_file)
    tempfail(spec, "alice@example.com")


def test_starttls_with_the_test_ca(table, slapd, ldap_ca):
    spec = table(start_tls="yes", tls_ca_cert_file=ldap_ca)
    assert found(spec, "alice@example.com") == "alice"
    # A host:port server_host; the certificate names IP:127.0.0.1.
    # (libldap checks "localhost" against the machine's own name.)
    spec = table(start_tls="yes", tls_ca_cert_file=ldap_ca,
                 server_host=f"127.0.0.1:{slapd.ldap_port}")
    assert found(spec, "bob@example.com") == "bob"


def test_starttls_with_an_unrelated_ca_is_refused_not_plaintext(table, slapd):
    spec = table(start_tls="yes", tls_ca_cert_file=slapd.bad_ca_file)
    r = tempfail(spec, "alice@example.com")
    assert "StartTLS failed" in r.stderr
    assert slapd.service_pw not in r.stderr
    # tls_require_cert = no, as in Postfix, skips the check.
    spec = table(start_tls="yes", tls_ca_cert_file=slapd.bad_ca_file,
                 tls_require_cert="no")
    assert found(spec, "alice@example.com") == "alice"


def test_ldapi(table, slapd):
    assert found(table(server_host=slapd.ldapi_uri), "bob@example.com") == "bob"


# -- failures and failover ------------------------------------------------

def test_failover_to_the_next_server(table, slapd):
    spec = table(server_host=f"{dead_uri()}, {slapd.ldap_uri}")
    assert found(spec, "alice@example.com") == "alice"
    r = ctl("map", "query", spec, "-",
            input="alice@example.com\nnobody@example.com\nbob@example.com\n")
    assert r.stdout.splitlines() == [
        "alice@example.com\talice", "nobody@example.com", "bob@example.com\tbob"]
    assert r.returncode == 0


def test_no_server_is_a_temporary_failure(table):
    r = tempfail(table(server_host=f"{dead_uri()} {dead_uri()}"),
                 "alice@example.com")
    assert "no LDAP server available" in r.stderr


def test_missing_search_base_is_an_error_not_not_found(table):
    tempfail(table(search_base="ou=nowhere,dc=example,dc=com"),
             "alice@example.com")


def test_bad_settings_stop_the_open(table, tmp_path):
    spec = table(scope="deep")
    r = tempfail(spec, "alice@example.com")
    assert f"{spec[5:]}:6: scope:" in r.stderr
    path = tmp_path / "unknown.cf"
    path.write_text(f"server_host = {dead_uri()}\nfrobnicate = yes\n"
                    "query_filter = (uid=%d)\n")
    r = ctl("map", "query", f"ldap:{path}", "alice")
    assert r.returncode == 1
    assert f"{path}:2: frobnicate: unknown parameter" in r.stderr


def read_line(proc, timeout=30):
    """One line of PROC's output, waiting at most TIMEOUT seconds.  The
    bytes are read from the descriptor here: select() on the file object
    would miss a line its buffer already holds."""
    buf = getattr(proc, "line_buf", b"")
    deadline = time.monotonic() + timeout
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([proc.stdout], [], [], max(left, 0))
        assert ready, "no answer"
        chunk = os.read(proc.stdout.fileno(), 4096)
        assert chunk, "no answer: output closed"
        buf += chunk
    line, proc.line_buf = buf.split(b"\n", 1)
    return line.decode()


def test_server_stopped_mid_run_then_back(tmp_path, private_slapd):
    spec = make_table(tmp_path / "t.cf", private_slapd)
    proc = subprocess.Popen([program("dirmailctl"), "map", "query", spec, "-"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, bufsize=1)
    try:
        proc.stdin.write("alice@example.com\n")
        assert read_line(proc) == "alice@example.com\talice"
        private_slapd.stop()
        for _ in range(2):
            proc.stdin.write("bob@example.com\n")
            assert read_line(proc) == "bob@example.com\t?"
        assert proc.poll() is None
        private_slapd.start()
        proc.stdin.write("bob@example.com\nnobody@example.com\n")
        assert read_line(proc) == "bob@example.com\tbob"
        assert read_line(proc) == "nobody@example.com"
        proc.stdin.close()
        assert proc.wait(timeout=30) == EX_TEMPFAIL
        err = proc.stderr.read()
        assert "Sanitizer" not in err
        assert private_slapd.service_pw not in err
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_frozen_server_times_out(tmp_path, private_slapd):
    spec = make_table(tmp_path / "t.cf", private_slapd, timeout="1")
    assert found(spec, "alice@example.com") == "alice"
    os.kill(private_slapd.pid, signal.SIGSTOP)
    start = time.monotonic()
    tempfail(spec, "alice@example.com")
    assert time.monotonic() - start < 15


def test_client_library_against_slapd(slapd):
    """The C tests of src/ldap (tests/unit/test_ldap_conn.c): searches,
    failover, password checks, with this slapd."""
    prog = BUILDDIR / "tests/unit/test_ldap_conn"
    if not prog.exists():
        pytest.skip("run make check first to build tests/unit/test_ldap_conn")
    env = dict(os.environ, **slapd.env(), DEAD_URI=dead_uri())
    r = subprocess.run([str(prog)], env=env, capture_output=True, text=True,
                       timeout=120)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "SKIPPED" not in out and "PASSED  ] 5 test(s)" in out, out
