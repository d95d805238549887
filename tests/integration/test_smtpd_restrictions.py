"""smtpd's restrictions and access tables as a Postfix admin writes them:
the restriction lists of every stage, access(5) tables in texthash, lmdb
and cidr form, relay control, AUTH, pipelining and smtpd_delay_reject,
with the replies and the NOQUEUE log lines Postfix gives.

The configurations follow the Postfix guides the admins work from (a
sender domain REJECT, a client IP REJECT, "openstack@ REJECT", relay
denied to aol.com, an unknown local user).  Each test starts one
instance and plays several sessions against it.
"""

import re
import socket

import pytest

from smtp_util import MESSAGE, Raw, plain, queued, smtp_instance
from util import ctl

HELO = "client.example.org"
CLIENT = "unknown[127.0.0.1]"


def table(tmp_path, name, text, kind="texthash"):
    """Write the table NAME (built into NAME.lmdb for lmdb); return its
    TYPE:NAME."""
    path = tmp_path / name
    new = tmp_path / (name + ".new")
    new.write_text(text)
    new.replace(path)
    if kind == "lmdb":
        r = ctl("map", "build", path)
        assert r.returncode == 0, r.stderr
    return f"{kind}:{path}"


def hello(d, helo=HELO, listener="smtpd_listen", verb="EHLO"):
    """A new connection that has said EHLO (or VERB) HELO."""
    c = Raw(d, listener)
    code, text = c.cmd(f"{verb} {helo}")
    assert code == 250, text
    return c


def login(d, user):
    """A submission connection after STARTTLS and AUTH PLAIN as USER."""
    c = hello(d, listener="submission_listen")
    c.starttls()
    c.cmd(f"EHLO {HELO}")
    code, text = c.cmd("AUTH PLAIN " + plain(user, f"{user}-password"))
    assert code == 235, text
    return c


def rcpt(d, sender, recipient, helo=HELO, c=None):
    """MAIL FROM:<SENDER> (accepted: the decision waits for RCPT) and
    RCPT TO:<RECIPIENT> on C or a new connection; return RCPT's reply."""
    c = c or hello(d, helo)
    code, text = c.cmd(f"MAIL FROM:<{sender}>")
    assert code == 250, text
    text = c.cmd(f"RCPT TO:<{recipient}>")[1]
    c.cmd("RSET")
    return text


def logged(d, stage, reply, sender=None, recipient=None, helo=HELO,
           proto="ESMTP"):
    """Wait for Postfix's log line of a refusal at STAGE."""
    line = f"NOQUEUE: reject: {stage} from {CLIENT}: {reply};"
    if sender is not None:
        line += f" from=<{sender}>"
    if recipient is not None:
        line += f" to=<{recipient}>"
    pattern = re.escape(line + f" proto={proto}")
    if helo is not None:
        pattern += re.escape(f" helo=<{helo}>")
    d.wait_log(pattern + "$", timeout=5)


def refused(d, sender, recipient, want, helo=HELO, c=None, proto="ESMTP"):
    """RCPT is refused with WANT, and the refusal is logged."""
    assert rcpt(d, sender, recipient, helo, c) == want
    logged(d, "RCPT", want, sender, recipient, helo, proto)


def accepted(d, sender, recipient, helo=HELO, c=None):
    text = rcpt(d, sender, recipient, helo, c)
    assert text.startswith("250 2.1.5 "), (sender, recipient, text)


def send(c, sender, recipients):
    """A whole transaction on C; return the queue id."""
    assert c.cmd(f"MAIL FROM:<{sender}>")[0] == 250
    for r in recipients:
        code, text = c.cmd(f"RCPT TO:<{r}>")
        assert code == 250, text
    assert c.cmd("DATA")[0] == 354
    c.send(MESSAGE + ".\r\n")
    code, text = c.reply()
    assert code == 250, text
    return text.split()[-1]


def finals(d, qid):
    """The final recipients of the queued message QID."""
    for q in queued(d):
        if q["id"] == qid:
            return [r["final"] for r in q["recipients"]]
    raise AssertionError(f"{qid} is not queued")


SENDER_TABLE = """\
# The guide's example: a whole domain, written without "@".
whitehouse.com          REJECT
friend@whitehouse.com   OK
dunno@whitehouse.com    DUNNO
microsoft.com           OK
# A leading dot: subdomains only.
.spam.example           REJECT Go away
slow.example            DEFER
later.example           DEFER 4.7.2 try again later
grey.example            450 Greylisted, try again
blocked.example         550 5.7.0 Blocked by the access table
spammer@                REJECT
<>                      REJECT No bounces here
"""

RECIPIENT_TABLE = """\
# The guide's example: openstack@ in all our domains.
openstack@              REJECT
closed@example.com      550 5.2.1 Mailbox disabled
"""

HELO_TABLE = """\
bad.example             REJECT
liar.example            REJECT You are not me
"""


@pytest.mark.parametrize("kind", ["texthash", "lmdb"])
def test_access_tables_as_in_the_guides(dirmail, tmp_path, smtp_cert, kind):
    t = tmp_path / "access"
    t.mkdir()
    d = smtp_instance(
        dirmail, tmp_path, smtp_cert, recipient_delimiter="+",
        smtpd_client_restrictions="check_client_access " + table(
            t, "client", "192.168.101.106 REJECT\n", kind),
        smtpd_helo_restrictions="check_helo_access " + table(
            t, "helo", HELO_TABLE, kind),
        smtpd_sender_restrictions="check_sender_access " + table(
            t, "sender", SENDER_TABLE, kind),
        # The guides predate smtpd_relay_restrictions: relay control is
        # in the recipient list.
        smtpd_relay_restrictions="",
        smtpd_recipient_restrictions="check_recipient_access " + table(
            t, "recipient", RECIPIENT_TABLE, kind) +
        ", permit_mynetworks, reject_unauth_destination")

    # Sender addresses: the full address, the domain, its subdomains,
    # "user@", "<>", and every action.
    c = hello(d)
    for sender, want in [
            ("obama@whitehouse.com", "554 5.7.1 <obama@whitehouse.com>: "
             "Sender address rejected: Access denied"),
            ("aide@mail.whitehouse.com", "554 5.7.1 "
             "<aide@mail.whitehouse.com>: Sender address rejected: Access "
             "denied"),
            ("x@host.spam.example", "554 5.7.1 <x@host.spam.example>: "
             "Sender address rejected: Go away"),
            ("a@slow.example", "450 4.7.1 <a@slow.example>: Sender address "
             "rejected: Access denied"),
            ("a@later.example", "450 4.7.2 <a@later.example>: Sender "
             "address rejected: try again later"),
            ("a@grey.example", "450 4.7.1 <a@grey.example>: Sender address "
             "rejected: Greylisted, try again"),
            ("a@blocked.example", "550 5.7.0 <a@blocked.example>: Sender "
             "address rejected: Blocked by the access table"),
            ("spammer@anywhere.example", "554 5.7.1 "
             "<spammer@anywhere.example>: Sender address rejected: Access "
             "denied"),
            ("spammer+1@anywhere.example", "554 5.7.1 "
             "<spammer+1@anywhere.example>: Sender address rejected: Access "
             "denied"),
            ("", "554 5.7.1 <>: Sender address rejected: No bounces here")]:
        refused(d, sender, "alice@example.com", want, c=c)
    # Keys are looked up in lower case.
    assert rcpt(d, "Obama@WhiteHouse.COM", "alice@example.com", c=c).lower() \
        == ("554 5.7.1 <obama@whitehouse.com>: sender address rejected: "
            "access denied")
    # OK and DUNNO end the search before the domain's REJECT, with or
    # without an address extension; the dot form does not match the
    # domain itself.
    for sender in ("friend@whitehouse.com", "friend+news@whitehouse.com",
                   "dunno@whitehouse.com",
                   "bill@microsoft.com", "x@spam.example",
                   "someone@example.org"):
        accepted(d, sender, "alice@example.com", c=c)

    # Recipients: "openstack@" in each of our domains, a 5NN text, the
    # relay attempts and the unknown users of the guides.
    for recipient, want in [
            ("openstack@example.com", "554 5.7.1 <openstack@example.com>: "
             "Recipient address rejected: Access denied"),
            ("openstack@localhost", "554 5.7.1 <openstack@localhost>: "
             "Recipient address rejected: Access denied"),
            ("openstack+x@example.com", "554 5.7.1 "
             "<openstack+x@example.com>: Recipient address rejected: Access "
             "denied"),
            ("closed@example.com", "550 5.2.1 <closed@example.com>: "
             "Recipient address rejected: Mailbox disabled"),
            ("hadoop@aol.com", "554 5.7.1 <hadoop@aol.com>: Relay access "
             "denied"),
            ("hello@aol.com", "554 5.7.1 <hello@aol.com>: Relay access "
             "denied"),
            ("bbb@example.com", "550 5.1.1 <bbb@example.com>: Recipient "
             "address rejected: User unknown in virtual mailbox table"),
            ("bbb@localhost", "550 5.1.1 <bbb@localhost>: Recipient "
             "address rejected: User unknown in local recipient table")]:
        refused(d, "root@example.com", recipient, want, c=c)
    c.cmd("QUIT")

    # HELO names: the name, a subdomain, a text; the HELO list comes
    # before the sender list.
    refused(d, "someone@example.org", "alice@example.com", "554 5.7.1 "
            "<bad.example>: Helo command rejected: Access denied",
            helo="bad.example")
    refused(d, "someone@example.org", "alice@example.com", "554 5.7.1 "
            "<mx.bad.example>: Helo command rejected: Access denied",
            helo="mx.bad.example")
    refused(d, "obama@whitehouse.com", "alice@example.com", "554 5.7.1 "
            "<liar.example>: Helo command rejected: You are not me",
            helo="liar.example")

    # What passes every list is queued.
    c = hello(d)
    qid = send(c, "bill@microsoft.com", ["alice@example.com",
                                         "staff@example.com"])
    assert finals(d, qid) == ["alice@example.com", "bob@example.com"]


DENIED = "554 5.7.1 <x@aol.com>: Relay access denied"

# A client table's contents, the reply to RCPT TO:<alice@example.com>
# (None: accepted) and to RCPT TO:<x@aol.com> (None: relayed).
CLIENT_KEYS = [
    ("127.0.0.1 REJECT\n", "554 5.7.1 <unknown[127.0.0.1]>: Client host "
     "rejected: Access denied", None),
    ("127.0.0 DEFER\n", "450 4.7.1 <unknown[127.0.0.1]>: Client host "
     "rejected: Access denied", None),
    ("127.0 550 5.7.0 Network blocked\n", "550 5.7.0 <unknown[127.0.0.1]>: "
     "Client host rejected: Network blocked", None),
    ("127 REJECT Loopback is not welcome\n", "554 5.7.1 "
     "<unknown[127.0.0.1]>: Client host rejected: Loopback is not welcome",
     None),
    # DUNNO stops the search: the shorter prefix is not looked up.
    ("127.0.0.1 DUNNO\n127 REJECT\n", None, DENIED),
    # The guide's "10.1.1 OK": the network may relay.
    ("127.0.0 OK\n127 REJECT\n", None, None),
    ("127.0.0.1 PERMIT\n", None, None),
    ("127.0.0.10 REJECT\n127.0.0.2 REJECT\n127.0.1 REJECT\n"
     "192.168.1 REJECT\n", None, DENIED),
]


def test_client_address_and_prefixes_in_a_rebuilt_lmdb_table(
        dirmail, tmp_path, smtp_cert):
    t = tmp_path / "access"
    t.mkdir()
    spec = table(t, "client", "192.168.1 REJECT\n", "lmdb")
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      smtpd_client_restrictions="check_client_access "
                      + spec,
                      smtpd_relay_restrictions="check_client_access "
                      + spec + ", permit_mynetworks, "
                      "reject_unauth_destination")
    # A rebuilt table is used without a restart.
    for text, want, relay in CLIENT_KEYS:
        table(t, "client", text, "lmdb")
        if want is not None:
            refused(d, "someone@example.org", "alice@example.com", want)
            refused(d, "someone@example.org", "x@aol.com", want)
            continue
        accepted(d, "someone@example.org", "alice@example.com")
        if relay is None:
            accepted(d, "someone@example.org", "x@aol.com")
        else:
            refused(d, "someone@example.org", "x@aol.com", relay)


@pytest.mark.parametrize("kind,text,want", [
    ("texthash", "192.168.101.106 REJECT\n127.0.0.1 REJECT\n",
     "554 5.7.1 <unknown[127.0.0.1]>: Client host rejected: Access denied"),
    ("cidr", "192.168.101.0/24 OK\n127.0.0.0/8 REJECT Loopback blocked\n",
     "554 5.7.1 <unknown[127.0.0.1]>: Client host rejected: Loopback "
     "blocked"),
    ("cidr", "127.0.0.1/32 OK\n0.0.0.0/0 REJECT\n", None),
])
def test_client_access_texthash_and_cidr(dirmail, tmp_path, smtp_cert, kind,
                                         text, want):
    t = tmp_path / "access"
    t.mkdir()
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      smtpd_client_restrictions="check_client_access "
                      + table(t, "client", text, kind) + ", defer")
    if want is None:
        # OK ends the client list before "defer".
        accepted(d, "someone@example.org", "alice@example.com")
        return
    refused(d, "someone@example.org", "alice@example.com", want)
    # The client is refused for every recipient, and never earlier.
    c = hello(d)
    assert c.cmd("MAIL FROM:<alice@example.com>")[0] == 250
    assert c.cmd("RCPT TO:<bob@example.com>")[1] == want
    assert c.cmd("RCPT TO:<alice@example.com>")[1] == want
    assert c.cmd("DATA")[1] == "554 5.5.1 Error: no valid recipients"


# The guide's SASL configuration, old names included.
SEED_SASL_RESTRICTIONS = (
    "permit_mynetworks,permit_sasl_authenticated,reject_invalid_hostname,"
    "reject_non_fqdn_hostname,reject_unknown_sender_domain,"
    "reject_non_fqdn_sender,reject_non_fqdn_recipient,"
    "reject_unknown_recipient_domain,reject_unauth_pipelining,"
    "reject_unauth_destination")


def test_relay_allowed_from_mynetworks(dirmail, tmp_path, smtp_cert):
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      mynetworks="127.0.0.0/8", smtpd_relay_restrictions="",
                      smtpd_recipient_restrictions=SEED_SASL_RESTRICTIONS)
    c = hello(d, helo="localhost")
    # permit_mynetworks comes first: no HELO, sender or DNS check.
    accepted(d, "root@localhost", "hello@aol.com", helo="localhost", c=c)
    # An unknown user in our domains is still unknown.
    refused(d, "root@example.com", "bbb@example.com", "550 5.1.1 "
            "<bbb@example.com>: Recipient address rejected: User unknown "
            "in virtual mailbox table", helo="localhost", c=c)
    qid = send(c, "root@example.com", ["hadoop@aol.com"])
    assert finals(d, qid) == ["hadoop@aol.com"]


def test_guide_sasl_restrictions(dirmail, tmp_path, smtp_cert):
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      smtpd_relay_restrictions="",
                      smtpd_recipient_restrictions=SEED_SASL_RESTRICTIONS)
    good = "alice@example.com"
    refused(d, "s@example.com", good, "501 5.5.2 <bad!host.example>: Helo "
            "command rejected: Invalid name", helo="bad!host.example")
    refused(d, "s@example.com", good, "504 5.5.2 <localhost>: Helo "
            "command rejected: need fully-qualified hostname",
            helo="localhost")
    c = hello(d)
    # Names under .invalid never resolve: no DNS is asked.
    refused(d, "x@nx.invalid", good, "450 4.1.8 <x@nx.invalid>: Sender "
            "address rejected: Domain not found", c=c)
    refused(d, "x@localhost", good, "504 5.5.2 <x@localhost>: Sender "
            "address rejected: need fully-qualified address", c=c)
    refused(d, "s@example.com", "y@host", "504 5.5.2 <y@host>: Recipient "
            "address rejected: need fully-qualified address", c=c)
    refused(d, "s@example.com", "y@nx.invalid", "450 4.1.2 "
            "<y@nx.invalid>: Recipient address rejected: Domain not found",
            c=c)
    accepted(d, "s@example.com", good, c=c)

    # HELO, then MAIL, RCPT, DATA and the text without waiting: the
    # client cannot know that we pipeline.
    c = hello(d, verb="HELO")
    c.send("MAIL FROM:<s@example.com>\r\nRCPT TO:<bob@example.com>\r\n"
           "DATA\r\n" + MESSAGE + ".\r\n")
    assert c.reply()[0] == 250
    want = ("503 5.5.0 <bob@example.com>: Recipient address rejected: "
            "Improper use of SMTP command pipelining")
    assert c.reply()[1] == want
    assert c.reply()[1] == "554 5.5.1 Error: no valid recipients"
    logged(d, "RCPT", want, "s@example.com", "bob@example.com",
           proto="SMTP")
    c.close()
    # After EHLO the same pipeline is fine.
    c = hello(d)
    c.send("MAIL FROM:<s@example.com>\r\nRCPT TO:<bob@example.com>\r\n"
           "DATA\r\n")
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    c.send(MESSAGE + ".\r\n")
    assert c.reply()[0] == 250

    # After AUTH on the submission port, relaying is allowed before any
    # HELO, sender or DNS check.
    c = login(d, "alice")
    qid = send(c, "alice@example.com", ["hadoop@aol.com"])
    assert finals(d, qid) == ["hadoop@aol.com"]


def test_whitelists_with_permit_reject_and_defer(dirmail, tmp_path,
                                                 smtp_cert):
    t = tmp_path / "access"
    t.mkdir()
    d = smtp_instance(
        dirmail, tmp_path, smtp_cert,
        smtpd_client_restrictions="permit",
        smtpd_helo_restrictions="reject_non_fqdn_helo_hostname",
        smtpd_sender_restrictions="check_sender_access " + table(
            t, "senders", "friends.example OK\n") + ", reject",
        smtpd_recipient_restrictions="check_recipient_access " + table(
            t, "recipients", "alice@example.com OK\n") + ", defer")
    accepted(d, "a@friends.example", "alice@example.com")
    accepted(d, "a@mx.friends.example", "alice@example.com")
    refused(d, "a@other.example", "alice@example.com", "554 5.7.1 "
            "<a@other.example>: Sender address rejected: Access denied")
    refused(d, "a@friends.example", "bob@example.com", "450 4.7.1 "
            "<bob@example.com>: Recipient address rejected: Access denied")
    # "permit" ends the client list only.
    refused(d, "a@friends.example", "alice@example.com", "504 5.5.2 "
            "<localhost>: Helo command rejected: need fully-qualified "
            "hostname", helo="localhost")
    # The default smtpd_relay_restrictions run before the recipient list.
    refused(d, "a@friends.example", "x@aol.com", "454 4.7.1 <x@aol.com>: "
            "Relay access denied")


def test_no_delay_reject_refuses_at_each_stage(dirmail, tmp_path,
                                               smtp_cert):
    t = tmp_path / "access"
    t.mkdir()
    d = smtp_instance(
        dirmail, tmp_path, smtp_cert, smtpd_delay_reject="no",
        smtpd_client_restrictions="check_client_access " + table(
            t, "client", "192.168.101.106 REJECT\n", "lmdb"),
        smtpd_helo_restrictions="check_helo_access " + table(
            t, "helo", HELO_TABLE) + ", reject_non_fqdn_helo_hostname",
        # The old shorthand: a bare table is the list's access check.
        smtpd_sender_restrictions=table(t, "sender", SENDER_TABLE))

    c = Raw(d)
    want = "554 5.7.1 <bad.example>: Helo command rejected: Access denied"
    assert c.cmd("EHLO bad.example")[1] == want
    logged(d, "EHLO", want, helo="bad.example")
    want = ("504 5.5.2 <localhost>: Helo command rejected: need "
            "fully-qualified hostname")
    assert c.cmd("HELO localhost")[1] == want
    logged(d, "HELO", want, helo="localhost", proto="SMTP")

    c = hello(d)
    want = ("554 5.7.1 <obama@whitehouse.com>: Sender address rejected: "
            "Access denied")
    assert c.cmd("MAIL FROM:<obama@whitehouse.com>")[1] == want
    logged(d, "MAIL", want, "obama@whitehouse.com")
    # Not asked again at RCPT.
    accepted(d, "friend@whitehouse.com", "alice@example.com", c=c)

    # The client list runs when the client connects: nothing it sends
    # afterwards is accepted.
    table(t, "client", "127.0.0.1 REJECT\n", "lmdb")
    want = ("554 5.7.1 <unknown[127.0.0.1]>: Client host rejected: Access "
            "denied")
    c = Raw(d, greet=False)
    code, text = c.reply()
    if code == 220:
        c.cmd(f"EHLO {HELO}")
        code, text = c.cmd("MAIL FROM:<friend@whitehouse.com>")
        assert text == want
        assert c.cmd("RCPT TO:<alice@example.com>")[0] >= 500
    else:
        assert text == want
    d.wait_log(re.escape(f"NOQUEUE: reject: CONNECT from {CLIENT}: {want};"),
               timeout=5)
    assert queued(d) == []


def test_sender_login_mismatch_relay_after_auth_and_data_pipelining(
        dirmail, tmp_path, smtp_cert):
    t = tmp_path / "access"
    t.mkdir()
    d = smtp_instance(
        dirmail, tmp_path, smtp_cert, recipient_delimiter="+",
        smtpd_sender_login_maps=table(t, "logins", "alice@example.com "
                                      "alice\nbob@example.com bob\n"),
        smtpd_sender_restrictions="reject_sender_login_mismatch",
        smtpd_data_restrictions="reject_unauth_pipelining")

    # alice may send as alice@example.com, and relay.
    c = login(d, "alice")
    qid = send(c, "alice@example.com", ["bob@example.com", "x@aol.com"])
    assert finals(d, qid) == ["bob@example.com", "x@aol.com"]
    accepted(d, "alice+list@example.com", "bob@example.com", c=c)
    # bob may not.
    c = login(d, "bob")
    want = ("553 5.7.1 <alice@example.com>: Sender address rejected: not "
            "owned by user bob")
    assert rcpt(d, "alice@example.com", "bob@example.com", c=c) == want
    d.wait_log(re.escape(f"NOQUEUE: reject: RCPT from {CLIENT}: {want}; "
                         "from=<alice@example.com> to=<bob@example.com> "
                         "proto=ESMTP"), timeout=5)
    assert rcpt(d, "x@unowned.example", "bob@example.com", c=c) == (
        "553 5.7.1 <x@unowned.example>: Sender address rejected: not owned "
        "by user bob")
    accepted(d, "bob@example.com", "alice@example.com", c=c)
    # Without AUTH: an owned address is refused, an unowned one is not,
    # and the default relay restrictions defer the relay attempt.
    refused(d, "alice@example.com", "bob@example.com", "553 5.7.1 "
            "<alice@example.com>: Sender address rejected: not logged in")
    refused(d, "alice+x@example.com", "bob@example.com", "553 5.7.1 "
            "<alice+x@example.com>: Sender address rejected: not logged in")
    accepted(d, "carol@example.org", "bob@example.com")
    refused(d, "carol@example.org", "x@aol.com", "454 4.7.1 <x@aol.com>: "
            "Relay access denied")

    # The message text sent before the 354: DATA is refused.
    c = hello(d)
    assert c.cmd("MAIL FROM:<carol@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<bob@example.com>")[0] == 250
    c.send("DATA\r\n" + MESSAGE + ".\r\n")
    want = ("503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP "
            "command pipelining")
    assert c.reply()[1] == want
    d.wait_log(re.escape(f"NOQUEUE: reject: DATA from {CLIENT}: {want}; "
                         "from=<carol@example.org>"), timeout=5)
    c.close()
    assert len(queued(d)) == 1


@pytest.mark.parametrize("param,value,message", [
    ("smtpd_helo_restrictions", "frobnicate",
     'smtpd_helo_restrictions: unknown restriction "frobnicate"'),
    ("smtpd_recipient_restrictions", "permit_mynetwork, "
     "reject_unauth_destination", 'smtpd_recipient_restrictions: unknown '
     'restriction "permit_mynetwork"'),
    ("smtpd_sender_restrictions", "check_sender_access",
     "smtpd_sender_restrictions: check_sender_access needs a type:name "
     "table"),
    ("smtpd_relay_restrictions", "permit_mynetworks",
     "smtpd_relay_restrictions and smtpd_recipient_restrictions: need "
     "reject_unauth_destination or defer_unauth_destination"),
])
def test_bad_restriction_stops_smtpd(dirmail, tmp_path, smtp_cert, param,
                                     value, message):
    d = smtp_instance(dirmail, tmp_path, smtp_cert, start=False,
                      **{param: value})
    d.start(wait=False)
    d.wait_log(r"smtpd\[\d+\]: fatal: " + re.escape(message) + "$",
               timeout=10)
    # Nobody answers on port 25.
    s = socket.create_connection(("127.0.0.1", d.ports["smtpd_listen"]),
                                 timeout=5)
    s.settimeout(1)
    try:
        assert not s.recv(100).startswith(b"220")
    except (socket.timeout, ConnectionResetError):
        pass
    finally:
        s.close()
