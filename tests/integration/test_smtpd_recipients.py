"""smtpd's recipient validation as a client sees it: LDAP virtual maps
and groups against a real slapd, a directory that goes away (451, never
5xx), virtual alias rewriting, bare local parts, sender-specified routing
that must never be relayed, and a real Dovecot as the SASL server."""

import os
import pathlib
import re
import subprocess
import tempfile
import time

import pytest

from slapd_fixture import SRCDIR, Slapd
from smtp_util import MESSAGE, Raw, plain, queued, smtp_instance
from test_ldap_table import make_table
from util import DOVECOT, ctl, free_port, private_dovecot

LDIF = SRCDIR / "tests/fixtures/smtpd_recipients.ldif"
LDIF_TOP = "ou=smtpdtest,dc=example,dc=com"
STRICT_RELAY = ("permit_mynetworks, permit_sasl_authenticated, "
                "reject_unauth_destination")


def ldap_load(server):
    """Add the entries of LDIF to SERVER as its rootdn, unless there."""
    r = subprocess.run(["ldapsearch", "-x", "-H", server.ldap_uri,
                        "-D", server.root_dn, "-w", server.root_pw,
                        "-b", LDIF_TOP, "-s", "base", "-LLL", "dn"],
                       capture_output=True, text=True)
    if r.returncode == 0:
        return
    assert r.returncode == 32, r.stderr  # noSuchObject
    subprocess.run(["ldapadd", "-x", "-H", server.ldap_uri,
                    "-D", server.root_dn, "-w", server.root_pw,
                    "-f", str(LDIF)], check=True, capture_output=True)


@pytest.fixture(scope="module")
def ldap(slapd):
    """The session slapd with this module's entries."""
    ldap_load(slapd)
    return slapd


@pytest.fixture(scope="module")
def own_slapd(tmp_path_factory):
    """A slapd of this module's own, for the test that stops it."""
    server = Slapd(tmp_path_factory.mktemp("own-slapd"))
    server.start()
    ldap_load(server)
    yield server
    server.stop()


def ldap_tables(directory, server):
    """The LDAP tables of the tests on SERVER: a dict of "ldap:FILE"."""
    directory.mkdir(parents=True, exist_ok=True)
    people = f"ou=people,{server.base}"
    return {
        # example.com: the fixture's people, lists and groups.
        "mailbox": make_table(directory / "mailbox.cf", server,
                              search_base=people,
                              query_filter="(mail=%s)",
                              result_attribute="uid"),
        "alias": make_table(directory / "alias.cf", server,
                            query_filter="(mailacceptinggeneralid=%s)",
                            result_attribute="maildrop",
                            special_result_attribute="member"),
        # example.net: Active Directory style proxyAddresses.
        "ad_mailbox": make_table(directory / "ad-mailbox.cf", server,
                                 search_base=LDIF_TOP,
                                 query_filter="(mail=%s)",
                                 result_attribute="uid"),
        "ad_alias": make_table(directory / "ad-alias.cf", server,
                               search_base=LDIF_TOP,
                               query_filter="mailacceptinggeneralid=smtp:%s",
                               result_attribute="mail",
                               special_result_attribute="member"),
    }


def ldap_mta(dirmail, tmp_path, cert, server, **params):
    """smtpd with example.com and example.net looked up in SERVER."""
    t = ldap_tables(tmp_path / "ldap", server)
    conf = {
        "myorigin": "example.com",
        "virtual_mailbox_domains": "example.com example.net",
        "virtual_mailbox_maps": f"{t['mailbox']} {t['ad_mailbox']}",
        "virtual_alias_maps": f"{t['alias']} {t['ad_alias']}",
        "virtual_alias_domains": "",
    }
    conf.update(params)
    return smtp_instance(dirmail, tmp_path, cert, **conf)


def rcpt(c, addr):
    """RCPT TO:<ADDR> on C; return the reply's (code, text)."""
    return c.cmd(f"RCPT TO:<{addr}>")


def transaction(d, rcpts, sender="someone@example.org"):
    """Send MESSAGE to RCPTS (each must get 250); return the queue file."""
    c = Raw(d)
    c.cmd("EHLO client.example.org")
    assert c.cmd(f"MAIL FROM:<{sender}>")[0] == 250
    for r in rcpts:
        code, text = rcpt(c, r)
        assert code == 250, text
    assert c.cmd("DATA")[0] == 354
    c.send(MESSAGE + ".\r\n")
    code, text = c.reply()
    assert code == 250, text
    c.cmd("QUIT")
    c.close()
    qid = text.split()[-1]
    return next(q for q in queued(d) if q["id"] == qid)


def finals(q):
    return [r["final"] for r in q["recipients"]]


def session(d, name="smtpd_listen", sender="someone@example.org"):
    """A session on listener NAME inside a transaction."""
    c = Raw(d, name)
    c.cmd("EHLO client.example.org")
    assert c.cmd(f"MAIL FROM:<{sender}>")[0] == 250
    return c


# -- LDAP virtual maps and groups -------------------------------------------

@pytest.fixture
def ldap_d(dirmail, tmp_path, smtp_cert, ldap):
    return ldap_mta(dirmail, tmp_path, smtp_cert, ldap)


def test_ldap_mailbox_maps_accept_known_and_refuse_unknown(ldap_d):
    c = session(ldap_d)
    assert rcpt(c, "alice@example.com")[0] == 250
    assert rcpt(c, "Bob@Example.COM")[0] == 250
    assert rcpt(c, "nobody@example.com") == (
        550, "550 5.1.1 <nobody@example.com>: Recipient address rejected: "
        "User unknown in virtual mailbox table")
    # A filter metacharacter in the address is escaped, not a wildcard.
    assert rcpt(c, "*@example.com")[0] == 550
    assert rcpt(c, "nobody@example.net")[1].startswith("550 5.1.1 ")


def test_ldap_address_extension_is_accepted(dirmail, tmp_path, smtp_cert,
                                            ldap):
    d = ldap_mta(dirmail, tmp_path, smtp_cert, ldap, recipient_delimiter="+")
    c = session(d)
    assert rcpt(c, "alice+news@example.com")[0] == 250
    assert rcpt(c, "staff+x@example.com")[0] == 250
    assert rcpt(c, "nobody+news@example.com")[0] == 550


def test_ldap_unmatched_extension_propagates(dirmail, tmp_path, smtp_cert,
                                             ldap):
    d = ldap_mta(dirmail, tmp_path, smtp_cert, ldap, recipient_delimiter="+")
    q = transaction(d, ["alice+news@example.com", "staff+x@example.com"])
    assert finals(q) == ["alice+news@example.com", "alice+x@example.com",
                         "bob+x@example.com"]


def test_ldap_list_group_and_second_address_in_the_queue(ldap_d):
    q = transaction(ldap_d, ["staff@example.com"])
    # staff holds maildrop: alice, bob; bare logins get @$myorigin.
    assert finals(q) == ["alice@example.com", "bob@example.com"]
    assert q["recipients"][0]["orcpt"] == "staff@example.com"
    # team is a groupOfNames: special_result_attribute = member.
    q = transaction(ldap_d, ["team@example.com"])
    assert finals(q) == ["alice@example.com", "bob@example.com"]
    q = transaction(ldap_d, ["a.smith@example.com", "bob@example.com"])
    assert finals(q) == ["alice@example.com", "bob@example.com"]


def test_ldap_proxy_addresses_active_directory_style(ldap_d):
    q = transaction(ldap_d, ["f.jones@example.net"])
    assert finals(q) == ["fred@example.net"]
    # The group's members' mail attribute, whatever the case of "smtp:".
    q = transaction(ldap_d, ["Sales@example.net", "gina@example.net"])
    assert finals(q) == ["fred@example.net", "gina@example.net"]
    c = session(ldap_d)
    assert rcpt(c, "fjones@example.net")[0] == 550


# -- the directory is unreachable -------------------------------------------

def test_directory_down_is_451_then_accepted_again(dirmail, tmp_path,
                                                   smtp_cert, own_slapd):
    d = ldap_mta(dirmail, tmp_path, smtp_cert, own_slapd)
    c = session(d)
    assert rcpt(c, "alice@example.com")[0] == 250
    own_slapd.stop()
    try:
        for addr in ("alice@example.com", "staff@example.com",
                     "nobody@example.com", "f.jones@example.net"):
            assert rcpt(c, addr) == (
                451, f"451 4.3.0 <{addr}>: Temporary lookup failure")
        # A new session too, and the answer is quick.
        c2 = session(d)
        start = time.monotonic()
        assert rcpt(c2, "bob@example.com")[0] == 451
        assert time.monotonic() - start < 10
    finally:
        own_slapd.start()
    assert rcpt(c, "alice@example.com")[0] == 250
    assert rcpt(c, "nobody@example.com")[0] == 550
    assert c.cmd("DATA")[0] == 354
    c.send(MESSAGE + ".\r\n")
    assert c.reply()[0] == 250
    assert re.search(r"<alice@example\.com>: temporary lookup failure",
                     d.log())


def test_table_on_a_closed_port_is_451(dirmail, tmp_path, smtp_cert, ldap):
    table = make_table(tmp_path / "dead.cf", ldap,
                       server_host=f"ldap://127.0.0.1:{free_port()}/",
                       query_filter="(mail=%s)", result_attribute="uid")
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      virtual_mailbox_maps=table)
    c = session(d)
    assert rcpt(c, "alice@example.com") == (
        451, "451 4.3.0 <alice@example.com>: Temporary lookup failure")
    # Aliases found in the texthash table end in the dead table too.
    assert rcpt(c, "info@example.com")[0] == 451
    # Other classes do not need it.
    assert rcpt(c, "x@aol.com")[0] == 454


# -- virtual alias rewriting (texthash and lmdb) ----------------------------

ALIASES = """\
@old.example            @example.com
@catchall.example       bob@example.com
many@example.com        alice@example.com, bob@example.com, info@example.com
info@example.com        alice@example.com
keep@example.com        keep@example.com, bob@example.com
loop1@example.com       loop2@example.com
loop2@example.com       loop1@example.com
big@example.com         a@example.com b@example.com c@example.com d@example.com
deep1@example.com       deep2@example.com
deep2@example.com       deep3@example.com
deep3@example.com       alice@example.com
"""


@pytest.fixture(params=["texthash", "lmdb"])
def alias_d(request, dirmail, tmp_path, smtp_cert):
    path = tmp_path / "aliases"
    path.write_text(ALIASES)
    if request.param == "lmdb":
        r = ctl("map", "build", path)
        assert r.returncode == 0, r.stderr
    mailboxes = tmp_path / "mailboxes"
    mailboxes.write_text("".join(f"{u}@example.com {u}\n" for u in
                                 ("alice", "bob", "keep", "a", "b", "c")))
    return smtp_instance(
        dirmail, tmp_path, smtp_cert,
        virtual_alias_maps=f"{request.param}:{path}",
        virtual_alias_domains="old.example catchall.example "
                              "aliasonly.example",
        virtual_mailbox_maps=f"texthash:{mailboxes}",
        virtual_alias_recursion_limit="3",
        virtual_alias_expansion_limit="3")


def test_alias_domain_rewrite_catch_all_and_one_to_many(alias_d):
    q = transaction(alias_d, ["alice@old.example", "anyone@catchall.example",
                              "many@example.com", "keep@example.com"])
    assert finals(q) == ["alice@example.com", "bob@example.com",
                         "keep@example.com"]
    c = session(alias_d)
    # The rewritten address must exist.
    assert rcpt(c, "nobody@old.example")[1] == (
        "550 5.1.1 <nobody@old.example>: Recipient address rejected: "
        "User unknown in virtual mailbox table")
    # Every address of an alias domain must be an alias.
    assert rcpt(c, "x@aliasonly.example")[1] == (
        "550 5.1.1 <x@aliasonly.example>: Recipient address rejected: "
        "User unknown in virtual alias table")


def test_alias_loop_and_size_limits_are_never_accepted(alias_d):
    c = session(alias_d)
    # Three levels are within virtual_alias_recursion_limit = 3.
    assert rcpt(c, "deep2@example.com")[0] == 250
    assert rcpt(c, "deep1@example.com")[0] == 250
    for addr in ("loop1@example.com", "big@example.com"):
        code, text = rcpt(c, addr)
        assert code == 451 and text.startswith("451 4.3.0 "), text
    assert "virtual alias expansion limit exceeded" in alias_d.log()


# -- local recipients and bare local parts -----------------------------------

def test_mydestination_users_and_alias_maps(dirmail, tmp_path, smtp_cert):
    aliases = tmp_path / "aliases"
    aliases.write_text("postmaster root\n")
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      alias_maps=f"texthash:{aliases}",
                      local_recipient_maps="unix:passwd.byname $alias_maps")
    c = session(d)
    assert rcpt(c, "root@localhost")[0] == 250
    assert rcpt(c, "Postmaster@LOCALHOST")[0] == 250
    assert rcpt(c, "nosuchuser@localhost")[1] == (
        "550 5.1.1 <nosuchuser@localhost>: Recipient address rejected: "
        "User unknown in local recipient table")


def test_bare_local_part_trusted_gets_myorigin(dirmail, tmp_path, smtp_cert):
    d = smtp_instance(dirmail, tmp_path, smtp_cert, myorigin="example.com",
                      mynetworks="127.0.0.0/8")
    q = transaction(d, ["alice", "staff"])
    assert [r["orcpt"] for r in q["recipients"]][0] == "alice@example.com"
    assert finals(q) == ["alice@example.com", "bob@example.com"]
    c = session(d)
    assert rcpt(c, "nobody")[1].startswith(
        "550 5.1.1 <nobody@example.com>: ")


def test_bare_local_part_untrusted_is_504(dirmail, tmp_path, smtp_cert):
    d = smtp_instance(dirmail, tmp_path, smtp_cert, myorigin="example.com")
    c = session(d)
    assert rcpt(c, "alice") == (
        504, "504 5.5.2 <alice>: Recipient address rejected: "
        "need fully-qualified address")
    assert rcpt(c, "alice@example.com")[0] == 250


# -- sender-specified routing is never relayed -------------------------------

# Forms that leave routing operators in the local part of an address in
# one of our domains.  In a local domain the router acts on them (the
# address becomes alice@remote.example); anywhere else they stay, the
# destination is uncertain, and Postfix does not count it as ours.
ROUTED_LOCAL_PART = [
    "alice%remote.example@{ours}",
    "alice%remote.example.@{ours}",
    "alice%remote.example%{ours}@{ours}",
    "alice%192.0.2.1@{ours}",
    "remote.example!alice@{ours}",
    "REMOTE.example!alice@{ours}",
    "192.0.2.1!alice@{ours}",
    '"alice@remote.example"@{ours}',
    '"alice@remote.example."@{ours}',
    '"alice%remote.example"@{ours}',
    '"remote.example!alice"@{ours}',
    '"@remote.example:alice@other.example"@{ours}',
]

# Forms whose routing the parser or the resolver settle alone.
ROUTING = [
    "@{ours}:alice@remote.example",
    "@{ours},@{ours}:alice@remote.example",
    "alice@remote.example.",
    "alice@remote.example@{ours}",
    "alice@[192.0.2.1]",
    "alice@[IPv6:2001:db8::1]",
    "alice@192.0.2.1",
    "alice@",
    "alice@{ours}@",
    "alice@.{ours}",
    "alice@{ours}..",
]


@pytest.fixture
def strict(dirmail, tmp_path, smtp_cert):
    return smtp_instance(dirmail, tmp_path, smtp_cert,
                         smtpd_relay_restrictions=STRICT_RELAY,
                         virtual_alias_maps="",
                         relay_domains="relay.example",
                         smtpd_hard_error_limit="100")


def refused(d, forms, ours):
    """Send each of FORMS with OURS on one session; return those that
    got neither 554 5.7.1 Relay access denied nor a 501 syntax error."""
    c = session(d)
    bad = []
    for form in forms:
        addr = form.format(ours=ours)
        code, text = rcpt(c, addr)
        if not (re.fullmatch(r"554 5\.7\.1 <.*>: Relay access denied", text)
                or text.startswith("501 5.")):
            bad.append((addr, text))
    # The same session still accepts what is ours.
    assert rcpt(c, "bob@example.com")[0] == 250
    assert rcpt(c, "root@localhost")[0] == 250
    assert rcpt(c, "anyone@relay.example")[0] == 250
    return bad


@pytest.mark.parametrize("ours", ["localhost", "example.com",
                                  "relay.example"])
def test_sender_routing_is_never_relayed(strict, ours):
    assert refused(strict, ROUTING, ours) == []


@pytest.mark.parametrize("ours", ["localhost", "relay.example"])
def test_routed_local_part_is_never_relayed(strict, ours):
    assert refused(strict, ROUTED_LOCAL_PART, ours) == []


def test_routed_local_part_in_a_virtual_domain_is_not_ours(strict):
    assert refused(strict, ROUTED_LOCAL_PART, "example.com") == []


def test_routed_local_part_in_a_virtual_domain_is_never_accepted(strict):
    c = session(strict)
    for form in ROUTED_LOCAL_PART:
        addr = form.format(ours="example.com")
        code, text = rcpt(c, addr)
        assert code in (554, 550), (addr, text)


# -- a real Dovecot as the SASL server ---------------------------------------



def dovecot_skip_reason():
    if not os.path.exists(DOVECOT):
        return "dovecot is not installed (dovecot-core)"
    if os.geteuid() != 0:
        return "a private Dovecot instance needs root"
    return None


@pytest.fixture
def dovecot():
    """A private Dovecot whose auth-client socket serves a passwd-file
    passdb (dana / dana-password); yields the socket's path."""
    why = dovecot_skip_reason()
    if why is not None:
        pytest.skip(why)
    top = pathlib.Path(tempfile.mkdtemp(prefix="dirmail-dovecot-"))
    top.chmod(0o755)
    (top / "passwd").write_text("dana:{PLAIN}dana-password::::::\n")
    socket_path = top / "auth-client"
    (top / "dovecot.conf").write_text(f"""\
base_dir = {top}/run
state_dir = {top}/state
instance_name = dirmail-smtpd-{os.getpid()}
log_path = {top}/dovecot.log
protocols = none
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
service auth {{
  unix_listener {socket_path} {{
    mode = 0666
  }}
}}
passdb {{
  driver = passwd-file
  args = {top}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home=/tmp
}}
""")
    with private_dovecot(top, socket_path):
        yield str(socket_path)


def submission_tls(d):
    """A session on the submission port after STARTTLS and EHLO."""
    c = Raw(d, "submission_listen")
    c.cmd("EHLO client.example.org")
    c.starttls()
    code, text = c.cmd("EHLO client.example.org")
    assert code == 250 and re.search(r"^250.AUTH .*PLAIN", text, re.M), text
    return c


def test_submission_auth_through_dovecot(dirmail, tmp_path, smtp_cert,
                                         dovecot):
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      smtpd_sasl_path=f"unix:{dovecot}",
                      smtpd_relay_restrictions=STRICT_RELAY)
    c = submission_tls(d)
    # A user that only Dovecot knows (authd's passwd-file has no dana).
    assert c.cmd("AUTH PLAIN " + plain("dana", "dana-password")) == (
        235, "235 2.7.0 Authentication successful")
    # Authenticated: relaying is permitted.
    assert c.cmd("MAIL FROM:<dana@example.com>")[0] == 250
    assert rcpt(c, "someone@remote.example")[0] == 250
    assert "sasl_username=dana" in d.log()
    c = submission_tls(d)
    code, text = c.cmd("AUTH PLAIN " + plain("dana", "wrong"))
    assert text.startswith("535 5.7.8 Error: authentication failed"), text
    # Still no mail on the submission port without a login.
    assert c.cmd("MAIL FROM:<dana@example.com>")[0] == 530
