"""smtpd asks its tables from a lookup thread: a directory that hangs
delays the answers that need it, never the rest of the server."""

import os
import signal
import threading
import time

import pytest

from smtp_util import MESSAGE, Raw, queued, smtp_instance



def test_a_frozen_directory_does_not_hold_up_a_message_in_data(
        dirmail, tmp_path, smtp_cert, private_slapd):
    table = tmp_path / "ldap-aliases.cf"
    table.write_text(
        f"server_host = {private_slapd.ldap_uri}\n"
        f"search_base = {private_slapd.base}\n"
        f"bind_dn = {private_slapd.service_dn}\n"
        f"bind_pw = {private_slapd.service_pw}\n"
        "query_filter = (mail=%s)\nresult_attribute = mail\n"
        "timeout = 4\n")
    d = smtp_instance(dirmail, tmp_path, smtp_cert,
                      relay_domains="ldap.example",
                      relay_recipient_maps=f"ldap:{table}")
    a = Raw(d)
    a.cmd("EHLO a.example.org")
    a.cmd("MAIL FROM:<a@example.org>")
    assert a.cmd("RCPT TO:<bob@example.com>")[0] == 250
    assert a.cmd("DATA")[0] == 354
    os.kill(private_slapd.pid, signal.SIGSTOP)
    b = Raw(d)
    b.cmd("EHLO b.example.org")
    b.cmd("MAIL FROM:<b@example.org>")
    answer = {}

    def stuck_rcpt():
        answer["rcpt"] = b.cmd("RCPT TO:<x@ldap.example>")
        answer["at"] = time.monotonic()
    t = threading.Thread(target=stuck_rcpt)
    t.start()
    time.sleep(0.5)             # B's lookup now waits on the directory
    start = time.monotonic()
    a.send(MESSAGE + ".\r\n")
    code, text = a.reply()
    took = time.monotonic() - start
    t.join(timeout=30)
    assert code == 250, text
    assert took < 2, f"the 250 waited {took:.1f}s for another lookup"
    # B's lookup timed out: a temporary failure, later than A's 250.
    assert answer["rcpt"][0] == 451, answer["rcpt"]
    assert answer["at"] > start + took
    assert len(queued(d)) == 1
