"""A PAM user reading mail: authd's pam passdb through pam_matrix under
Debian's libpam-wrapper, the system's passwd as userdb for a user the test
creates, mail for user@localhost delivered by smtpd, qmgr and local into
~/Maildir, then read over IMAP (imaplib) and POP3 (poplib) by a mail
process running as that user."""

import email
import email.policy
import imaplib
import grp
import os
import poplib
import subprocess
import types

import pytest

from dirmail_fixture import wait_for
from smtp_util import smtp_params, write_tables
from test_authd_pam import pam_env
from test_authd_pam import pytestmark as NEED_PAM_WRAPPER
from test_delivery_e2e import smtp_send
from test_local import add_user, mail_root, maildir_files, tmpdirs  # noqa: F401
from test_mra import mpid_groups, mpid_uids
from util import program

try:
    for _name in ("smtpd", "qmgr", "local", "imapd", "pop3d"):
        program(_name)
    HAVE_ALL = True
except FileNotFoundError:
    HAVE_ALL = False

pytestmark = [NEED_PAM_WRAPPER, pytest.mark.skipif(
    not HAVE_ALL, reason="smtpd, qmgr, local, imapd or pop3d not built")]

# The service file of the pam_env() fixtures that runs pam_matrix alone.
SERVICE = "fast"
PASSWORD = "Matrix-pw 1"
SUBJECT = "PAM user check"
BODY = "A line only this message carries."


@pytest.fixture
def pam_user(tmpdirs):  # noqa: F811
    """A system user made for the test, home under a world-traversable
    directory; removed at teardown."""
    name = f"dmpam{os.getpid() % 100000}"
    # Before the try: useradd fails on a name that exists already, and
    # that account is left alone.
    pw = add_user(name, mail_root(tmpdirs) / "home" / name)
    extra = f"{name}x"
    try:
        # A supplementary group, which the mail process must carry.
        subprocess.run(["groupadd", extra], check=True, capture_output=True)
        subprocess.run(["usermod", "-aG", extra, name], check=True,
                       capture_output=True)
        yield types.SimpleNamespace(
            pw_name=pw.pw_name, pw_uid=pw.pw_uid, pw_gid=pw.pw_gid,
            pw_dir=pw.pw_dir, extra_gid=grp.getgrnam(extra).gr_gid)
    finally:
        subprocess.run(["userdel", name], capture_output=True)
        subprocess.run(["groupdel", extra], capture_output=True)


@pytest.fixture
def pamimap(dirmail, tmp_path, smtp_cert, pam_user):
    """dirmail with authd (passdb pam, userdb passwd), smtpd, qmgr, local,
    imapd and pop3d, every service under pam_wrapper."""
    pamdir = tmp_path / "pam"
    pamdir.mkdir()
    env = pam_env(pamdir)
    with open(env["PAM_MATRIX_PASSWD"], "a") as f:
        f.write(f"{pam_user.pw_name}:{PASSWORD}:{SERVICE}\n")
    conf = smtp_params(write_tables(tmp_path / "tables"), smtp_cert)
    conf.update({
        "passdb": f"pam:{SERVICE}",
        "userdb": "passwd",
        "home_mailbox": "Maildir/",
        "first_valid_uid": "500",
        "auth_failure_delay": "0",
    })
    d = dirmail(params=conf, start=False,
                listen=["smtpd_listen", "imap_listen", "pop3_listen"],
                services={name: name for name in (
                    "authd", "smtpd", "qmgr", "local", "imapd", "pop3d")})
    d.env.update(env)
    d.start()
    d.user = pam_user
    d.maildir = os.path.join(pam_user.pw_dir, "Maildir")
    yield d
    log = d.log()
    print(log)      # shown when the test failed
    assert "Sanitizer" not in log and "runtime error" not in log


def deliver(d):
    """Send one message to the user through smtpd; wait for the file."""
    body = (f"From: someone@example.org\r\nTo: {d.user.pw_name}@localhost\r\n"
            f"Subject: {SUBJECT}\r\n\r\n{BODY}\r\n")
    qid = smtp_send(d, [f"{d.user.pw_name}@localhost"], body=body)
    try:
        files = wait_for(lambda: maildir_files(d.maildir), timeout=10,
                         what="the message in ~/Maildir/new")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{d.log()}") from None
    assert os.stat(files[0]).st_uid == d.user.pw_uid
    d.wait_log(rf"{qid}: to=<{d.user.pw_name}@localhost>, relay=local")
    return files[0]


def check_message(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == SUBJECT
    assert msg.get_content().strip() == BODY


def check_mail_process(d, proto, since):
    """The Login: line of PROTO names the mail process: it runs as the
    PAM user, not as root."""
    m = d.wait_log(rf"{proto}-login: Login: user=<{d.user.pw_name}>, "
                   r"method=PLAIN, rip=127\.0\.0\.1, .*mpid=(\d+)",
                   since=since)
    uids, gids = mpid_uids(int(m.group(1)))
    assert set(uids) == {d.user.pw_uid}
    assert set(gids) == {d.user.pw_gid}
    # A system user's supplementary groups, as Dovecot's passwd userdb
    # gives them; never root's.
    assert mpid_groups(int(m.group(1))) == {d.user.pw_gid,
                                           d.user.extra_gid}


def test_pam_user_reads_smtp_mail_over_imap_and_pop3(pamimap):
    d = pamimap
    deliver(d)

    mark = d.mark()
    c = imaplib.IMAP4("127.0.0.1", d.ports["imap_listen"], timeout=15)
    typ, _ = c.login(d.user.pw_name, PASSWORD)
    assert typ == "OK"
    check_mail_process(d, "imap", mark)
    typ, data = c.select("INBOX")
    assert (typ, data) == ("OK", [b"1"])
    typ, data = c.fetch("1", "(BODY.PEEK[])")
    assert typ == "OK"
    check_message(data[0][1])
    c.logout()
    d.wait_log(rf"imap\({d.user.pw_name}\): Logged out in=\d+ out=\d+",
               since=mark)

    mark = d.mark()
    p = poplib.POP3("127.0.0.1", d.ports["pop3_listen"], timeout=15)
    p.user(d.user.pw_name)
    assert p.pass_(PASSWORD) == b"+OK Logged in."
    check_mail_process(d, "pop3", mark)
    assert p.stat()[0] == 1
    _, lines, _ = p.retr(1)
    check_message(b"\r\n".join(lines) + b"\r\n")
    p.quit()
    d.wait_log(rf"pop3\({d.user.pw_name}\): Disconnected: Logged out "
               r"top=0/0, retr=1/\d+, del=0/1", since=mark)


def test_wrong_password_and_pam_only_user(pamimap):
    d = pamimap
    c = imaplib.IMAP4("127.0.0.1", d.ports["imap_listen"], timeout=15)
    with pytest.raises(imaplib.IMAP4.error,
                       match=r"\[AUTHENTICATIONFAILED\]"):
        c.login(d.user.pw_name, PASSWORD + "x")
    # alice passes pam_matrix but has no system account: the userdb has
    # no uid for her, so there is no mail process to hand over to.
    with pytest.raises(imaplib.IMAP4.error):
        c.login("alice", "s3cret")
    # The session is still usable after failures.
    assert c.login(d.user.pw_name, PASSWORD)[0] == "OK"
    c.logout()

    p = poplib.POP3("127.0.0.1", d.ports["pop3_listen"], timeout=15)
    p.user(d.user.pw_name)
    with pytest.raises(poplib.error_proto, match=r"-ERR \[AUTH\]"):
        p.pass_("wrong")
    p.quit()
    assert f"Login: user=<{d.user.pw_name}>" in d.log()
    assert "Login: user=<alice>" not in d.log()
