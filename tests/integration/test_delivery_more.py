"""End to end through smtpd, the real qmgr and the real agents of a
dirmail instance, with nothing played by the test: a local system user's
mbox in the spool read back by mail(1); an LDAP group whose members each
get one copy; LMTP into a real Dovecot, with a DSN for the user Dovecot
does not know; and a remote domain delivered to the working MX of the
lowest preference found through a fake DNS (libresolv-wrapper)."""

import email
import email.policy
import os
import subprocess

import pytest

from dirmail_fixture import wait_for
from test_delivery_e2e import smtp_send, wait_maildir
from test_delivery_relay import SERVICES, here_instance, queue_files, send
from test_ldap_table import make_table
from test_local import (add_user, ldap_instance, mail_read, make_dir,
                        maildir_files, tmpdirs)  # noqa: F401 (fixture)
from test_smtp_client_helpers import FakeDNS, FakeSMTP
from test_smtp_client_lmtp import dovecot_lmtp  # noqa: F401 (fixture)
from test_smtp_client_mx import WRAPPER
from util import free_port


def wait_queue_empty(d, timeout=20):
    try:
        wait_for(lambda: not queue_files(d), timeout=timeout,
                 what="an empty queue")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{d.log()}") from None


# -- 1. a local system user: mbox in the spool, read by mail(1) -------------

@pytest.fixture
def system_user():
    """A name for a system user the test makes with add_user(); removed
    at teardown."""
    name = f"dme{os.getpid() % 100000}"
    yield name
    subprocess.run(["userdel", name], capture_output=True)


def test_local_user_mbox_read_by_mail(dirmail, tmp_path, smtp_cert, tmpdirs,
                                      system_user):
    d = here_instance(dirmail, tmp_path, smtp_cert, tmpdirs)
    make_dir(d.root / "spool", 0, 0)
    pw = add_user(system_user, d.root / "home" / system_user)
    send(d, f"{system_user}@localhost", subject="for the spool")
    d.wait_log(rf"to=<{system_user}@localhost>, relay=local: delivered "
               r"to mailbox", timeout=20)
    wait_queue_empty(d)
    mbox = d.root / "spool" / system_user
    st = mbox.stat()
    assert (st.st_uid, st.st_mode & 0o777) == (pw.pw_uid, 0o600)
    text = mbox.read_text()
    assert text.startswith("From alice@example.com ")
    assert f"\nDelivered-To: {system_user}@localhost\n" in text
    out = mail_read(mbox, "h\np 1\nq\n")
    assert "1 message" in out, out
    summary = [ln for ln in out.splitlines() if "for the spool" in ln]
    assert summary and "alice@example.com" in summary[0], out
    assert "\nSubject: for the spool\n" in out
    assert "\n\nmessage 0\n" in out


# -- 2. an LDAP group: each member's Maildir gets one copy ------------------

def test_ldap_group_members_each_get_one_copy(dirmail, tmp_path, smtp_cert,
                                              tmpdirs, slapd):
    table = make_table(tmp_path / "ldap-group.cf", slapd,
                       special_result_attribute="member",
                       result_attribute="mail")
    d = ldap_instance(dirmail, tmp_path, smtp_cert, tmpdirs, slapd,
                      services=SERVICES, virtual_alias_maps=table)
    qid = smtp_send(d, ["team@example.com"])
    for user in ("alice", "bob"):
        d.wait_log(rf"{qid}: to=<{user}@example\.com>, "
                   rf"orig_to=<team@example\.com>, relay=virtual, .*"
                   r"status=sent \(delivered to maildir\)", timeout=20)
    wait_queue_empty(d)
    for user in ("alice", "bob"):
        files = wait_maildir(d, user, 1)
        assert len(files) == 1, files
        assert files[0].stat().st_uid == d.owners[user]
        text = files[0].read_text()
        assert f"Delivered-To: {user}@example.com\n" in text
        assert "Hello." in text


# -- 3. LMTP into a real Dovecot; its unknown user bounces ------------------

def test_lmtp_into_dovecot_and_dsn_for_unknown_user(
        dirmail, tmp_path, smtp_cert, tmpdirs, dovecot_lmtp):  # noqa: F811
    transport = tmp_path / "transport"
    transport.write_text(f"dovecot.example lmtp:unix:"
                         f"{dovecot_lmtp['socket']}\n")
    d = here_instance(dirmail, tmp_path, smtp_cert, tmpdirs,
                      relay_domains="dovecot.example",
                      transport_maps=f"texthash:{transport}")
    send(d, "dana@dovecot.example", subject="to dovecot")
    [msg] = wait_for(lambda: maildir_files(dovecot_lmtp["maildir"]),
                     timeout=20, what="the message in Dovecot's Maildir")
    assert "Subject: to dovecot" in msg.read_text()
    d.wait_log(r"to=<dana@dovecot\.example>, relay=.*status=sent",
               timeout=20)

    send(d, "nobody-here@dovecot.example", subject="to nobody")
    d.wait_log(r"to=<nobody-here@dovecot\.example>, .*dsn=5\.1\.1, "
               r"status=bounced", timeout=20)
    [dsn] = wait_for(lambda: maildir_files(d.maildir), timeout=20,
                     what="the notification in alice's Maildir")
    report = email.message_from_bytes(dsn.read_bytes(),
                                      policy=email.policy.default)
    assert "alice@example.com" in report["To"]
    assert report.get_content_type() == "multipart/report"
    status = list(report.iter_parts())[1].as_string()
    assert "Final-Recipient: rfc822; nobody-here@dovecot.example" in status
    assert "Action: failed" in status and "Status: 5.1.1" in status
    assert "Diagnostic-Code: smtp; 550" in status
    wait_queue_empty(d)
    assert len(maildir_files(dovecot_lmtp["maildir"])) == 1


# -- 4. a remote domain: the working MX of the lowest preference -----------

RECORDS = {
    # mx1 refuses connections; mx2 works; mx3 works but comes last.
    ("remote.test", "MX"): [(30, "mx3.remote.test"),
                            (10, "mx1.remote.test"),
                            (20, "mx2.remote.test")],
    ("mx1.remote.test", "A"): ["127.0.0.2"],
    ("mx2.remote.test", "A"): ["127.0.0.3"],
    ("mx3.remote.test", "A"): ["127.0.0.4"],
}


@pytest.mark.skipif(not os.path.exists(WRAPPER),
                    reason="libresolv-wrapper is not installed")
def test_remote_mx_of_lowest_working_preference(dirmail, tmp_path,
                                                smtp_cert, tmpdirs):
    port = free_port()
    servers = {host: FakeSMTP(host=host, port=port)
               for host in ("127.0.0.3", "127.0.0.4")}
    dns = FakeDNS(RECORDS)
    env = dns.env(tmp_path)

    def with_dns(**kw):
        # dirmaild's services inherit its environment: the smtp agent
        # asks the fake DNS.
        d = dirmail(start=False, **kw)
        d.env.update(env)
        d.start()
        return d
    try:
        d = here_instance(with_dns, tmp_path, smtp_cert, tmpdirs,
                          smtp_tcp_port=str(port),
                          smtp_connection_cache_time_limit="0s")
        send(d, "user@remote.test", subject="to the MX")
        d.wait_log(rf"to=<user@remote\.test>, relay=mx2\.remote\.test"
                   rf"\[127\.0\.0\.3\]:{port}, .*status=sent \(250 ",
                   timeout=20)
        assert f"connect to mx1.remote.test[127.0.0.2]:{port}: " \
            "Connection refused" in d.log()
        wait_queue_empty(d)
        [session] = [s for s in servers["127.0.0.3"].sessions
                     if s["messages"]]
        assert [c for c in session["commands"]
                if c.startswith("RCPT TO:")] == \
            ["RCPT TO:<user@remote.test> ORCPT=rfc822;user@remote.test"]
        assert b"Subject: to the MX" in session["messages"][0]
        assert servers["127.0.0.4"].sessions == []
        assert ("remote.test", "MX") in dns.queries
    finally:
        dns.stop()
        for s in servers.values():
            s.stop()
