"""dirmailctl config and check, the sample configuration and the man page,
through the built dirmailctl."""

import os
import re
import shutil
import subprocess

import pytest

from util import SRCDIR, ctl, program, write_config


def test_config_n_prints_only_what_the_file_sets(tmp_path):
    cfg = write_config(tmp_path / "dirmail.cf", {
        "myhostname": "mail.example.com",
        "relayhost": "[smtp.example.net]:587",
    })
    r = ctl("config", "-n", config=cfg)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "myhostname = mail.example.com",
        "relayhost = [smtp.example.net]:587",
    ]


def test_config_d_prints_defaults_without_a_file(tmp_path):
    r = ctl("config", "-d", "smtpd_relay_restrictions", "message_size_limit",
            config=tmp_path / "absent.cf")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "smtpd_relay_restrictions = permit_mynetworks, "
        "permit_sasl_authenticated, defer_unauth_destination",
        "message_size_limit = 10240000",
    ]


def test_config_all_lists_every_parameter_once(tmp_path):
    cfg = write_config(tmp_path / "dirmail.cf", {})
    r = ctl("config", config=cfg)
    assert r.returncode == 0
    names = [line.split(" =")[0] for line in r.stdout.splitlines()]
    assert len(names) == len(set(names)) > 100
    for name in ("virtual_alias_maps", "mail_location", "ssl_cert",
                 "smtpd_listen", "passdb", "auth_username_format"):
        assert name in names


def test_config_x_expands_and_h_prints_the_value(tmp_path):
    cfg = write_config(tmp_path / "dirmail.cf", {
        "mydomain": "example.org", "myhostname": "mx.$mydomain",
        "myorigin": "$mydomain",
    })
    r = ctl("config", "-x", "-h", "myhostname", "smtpd_banner", config=cfg)
    assert r.stdout.splitlines() == ["mx.example.org",
                                     "mx.example.org ESMTP dirmail"]
    raw = ctl("config", "myorigin", config=cfg)
    assert raw.stdout == "myorigin = $mydomain\n"


def test_config_unknown_name_warns_and_fails(tmp_path):
    cfg = write_config(tmp_path / "dirmail.cf", {})
    r = ctl("config", "no_such_parameter", config=cfg)
    assert r.returncode == 1
    assert "no_such_parameter: unknown parameter" in r.stderr


def test_unknown_parameter_in_file_is_a_warning_with_its_line(tmp_path):
    path = tmp_path / "dirmail.cf"
    path.write_text("myorigin = example.com\nsmtpd_foo = bar\n")
    r = ctl("config", "-n", config=path)
    assert r.returncode == 0
    assert f"warning: {path}:2: smtpd_foo: unknown parameter" in r.stderr


def test_bad_value_names_file_line_and_parameter(tmp_path):
    path = tmp_path / "dirmail.cf"
    path.write_text("# comment\nmyorigin = example.com\n"
                    "message_size_limit =\n  ten megabytes\n")
    for cmd in (["config"], ["check"]):
        r = ctl(*cmd, config=path)
        assert r.returncode == 2
        assert (f"{path}:3: message_size_limit: not a number"
                in r.stderr), r.stderr


def test_dirmail_config_environment_variable(tmp_path):
    cfg = write_config(tmp_path / "env.cf", {"myorigin": "env.example"})
    r = ctl("config", "-h", "myorigin", env={"DIRMAIL_CONFIG": cfg})
    assert r.stdout == "env.example\n"


def test_override_option_wins(tmp_path):
    cfg = write_config(tmp_path / "dirmail.cf", {"myorigin": "file.example"})
    r = subprocess.run([program("dirmailctl"), "-c", cfg,
                        "-o", "myorigin=cli.example", "config", "-h",
                        "myorigin"], capture_output=True, text=True)
    assert r.stdout == "cli.example\n"


def test_sample_configuration_passes_check():
    r = ctl("check", config=SRCDIR / "conf" / "dirmail.cf")
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"dirmail\.cf: 0 errors", r.stdout)


def test_sample_smtpd_examples_pass_check(tmp_path, smtp_cert):
    """The commented smtpd_* examples of the sample are valid too."""
    lines, uncomment = [], False
    for line in (SRCDIR / "conf" / "dirmail.cf").read_text().splitlines():
        if line.startswith("#smtpd_"):
            uncomment = True
        elif not line.startswith("#\t"):
            uncomment = False
        lines.append(line[1:] if uncomment else line)
    text = "\n".join(lines).replace("/etc/dirmail/", f"{tmp_path}/")
    text = text.replace("/etc/pki/tls/certs/mail.example.com.pem",
                        smtp_cert[0])
    text = text.replace("/etc/pki/tls/private/mail.example.com.key",
                        smtp_cert[1])
    assert "\nsmtpd_sender_restrictions = reject_non_fqdn_sender," in text
    for name in ("sender_access", "recipient_access"):
        (tmp_path / name).write_text("spam@example.org REJECT\n")
    cfg = tmp_path / "dirmail.cf"
    cfg.write_text(text + "\n")
    r = ctl("check", config=cfg)
    assert r.returncode == 0, r.stderr
    assert "restrictions" not in r.stderr


def test_check_reports_each_problem(tmp_path):
    key = tmp_path / "key.pem"
    key.write_text("not really a key\n")
    key.chmod(0o644)
    cfg = write_config(tmp_path / "dirmail.cf", {
        "smtpd_listen": "127.0.0.1:notaport",
        "smtps_listen": "127.0.0.1:4650",
        "smtpd_tls_key_file": str(key),
        "ssl_cert": str(tmp_path / "missing.pem"),
        "virtual_alias_maps": f"texthash:{tmp_path}/nonexistent",
        "minimal_backoff_time": "2h",
        "maximal_backoff_time": "1h",
    })
    r = ctl("check", config=cfg)
    assert r.returncode == 1
    err = r.stderr
    assert "smtpd_listen: 127.0.0.1:notaport" in err
    assert "smtps_listen needs smtpd_tls_cert_file" in err
    assert f"ssl_cert: {tmp_path}/missing.pem: No such file" in err
    assert "private key is readable by everyone" in err
    assert "virtual_alias_maps" in err and "nonexistent" in err
    assert "minimal_backoff_time is larger than maximal_backoff_time" in err


def test_check_refuses_a_world_writable_config(tmp_path):
    cfg = write_config(tmp_path / "dirmail.cf", {})
    os.chmod(cfg, 0o666)
    r = ctl("check", config=cfg)
    assert r.returncode == 1
    assert "writable by group or others" in r.stderr


def test_man_page_lists_every_parameter_of_the_table():
    r = ctl("config", "--man")
    assert r.returncode == 0
    page = (SRCDIR / "doc" / "dirmail.cf.5").read_text()
    begin = page.index('.\\" BEGIN PARAMETERS\n') + len('.\\" BEGIN PARAMETERS\n')
    end = page.index('.\\" END PARAMETERS')
    assert page[begin:end] == r.stdout, \
        "doc/dirmail.cf.5 is out of date: run doc/update-params"
    table = ctl("config", "-d").stdout
    for line in table.splitlines():
        assert f".BR {line.split(' =')[0]} " in page


def test_check_reports_bad_passdb_and_userdb_entries(tmp_path):
    ldap_conf = tmp_path / "dovecot-ldap.conf.ext"
    ldap_conf.write_text("uris = ldap://127.0.0.1/\nbase = dc=example,dc=com\n"
                         "ldap_version = seven\n")
    cfg = write_config(tmp_path / "dirmail.cf", {
        "passdb": f"ldapp:{ldap_conf}, ldap:{ldap_conf}",
        "userdb": "static:uid=vmail gid=vmail, passwd, shadow",
    })
    r = ctl("check", config=cfg)
    assert r.returncode == 1
    assert 'passdb: ldapp:' in r.stderr and 'unknown driver "ldapp"' in r.stderr
    assert f"{ldap_conf}:3: ldap_version" in r.stderr
    assert 'userdb: shadow: unknown driver "shadow"' in r.stderr
    assert "static:uid=vmail" not in r.stderr


def test_check_reports_an_unknown_restriction(tmp_path):
    cfg = write_config(tmp_path / "dirmail.cf", {
        "smtpd_recipient_restrictions": "reject_bogus",
    })
    r = ctl("check", config=cfg)
    assert r.returncode == 1
    assert ('smtpd_recipient_restrictions: unknown restriction '
            '"reject_bogus"') in r.stderr, r.stderr
    assert re.search(r"dirmail\.cf: 1 error,", r.stdout)


def test_check_reports_a_missing_access_table_once(tmp_path):
    missing = tmp_path / "sender_access"
    cfg = write_config(tmp_path / "dirmail.cf", {
        "smtpd_sender_restrictions": f"check_sender_access texthash:{missing}",
        "smtpd_helo_restrictions": "check_helo_access",
    })
    r = ctl("check", config=cfg)
    assert r.returncode == 1
    lines = [line for line in r.stderr.splitlines()
             if "smtpd_sender_restrictions" in line]
    assert len(lines) == 1 and str(missing) in lines[0], r.stderr
    assert "No such file" in lines[0]


def test_check_reports_a_missing_table_argument_and_an_open_relay(tmp_path):
    for params, want in (
        ({"smtpd_helo_restrictions": "check_helo_access"},
         "smtpd_helo_restrictions: check_helo_access needs a type:name "
         "table"),
        ({"smtpd_relay_restrictions": "permit_mynetworks",
          "smtpd_recipient_restrictions": "permit_sasl_authenticated"},
         "smtpd_relay_restrictions and smtpd_recipient_restrictions: need "
         "reject_unauth_destination"),
    ):
        cfg = write_config(tmp_path / "dirmail.cf", params)
        r = ctl("check", config=cfg)
        assert r.returncode == 1
        assert want in r.stderr, r.stderr


def test_check_accepts_access_tables_that_open(tmp_path):
    table = tmp_path / "client_access"
    table.write_text("192.0.2.1 REJECT\n")
    cfg = write_config(tmp_path / "dirmail.cf", {
        "smtpd_client_restrictions": f"check_client_access texthash:{table}",
        "alias_maps": "", "alias_database": "",
    })
    r = ctl("check", config=cfg)
    assert r.returncode == 0, r.stderr
    assert "smtpd_client_restrictions" not in r.stderr


def test_check_smtpd_tls_needs(tmp_path, smtp_cert):
    cert, key = smtp_cert
    cfg = write_config(tmp_path / "dirmail.cf", {
        "smtps_listen": "127.0.0.1:4650",
        "submission_listen": "127.0.0.1:5870",
        "smtpd_tls_cert_file": cert, "smtpd_tls_key_file": key,
        "smtpd_tls_security_level": "none",
    })
    r = ctl("check", config=cfg)
    assert r.returncode == 1
    assert ("smtps_listen needs smtpd_tls_cert_file and "
            "smtpd_tls_security_level other than none") in r.stderr
    assert "warning: submission_listen without TLS" in r.stderr


def test_check_loads_the_smtpd_certificate_and_key(tmp_path, smtp_cert):
    cert, key = smtp_cert
    other = tmp_path / "other.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-out",
                    str(other)], check=True, capture_output=True)
    other.chmod(0o600)
    params = {"smtpd_tls_cert_file": cert, "smtpd_tls_key_file": key,
              "smtps_listen": "127.0.0.1:4650",
              "submission_listen": "127.0.0.1:5870",
              "alias_maps": "", "alias_database": ""}
    r = ctl("check", config=write_config(tmp_path / "dirmail.cf", params))
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    params["smtpd_tls_key_file"] = str(other)
    r = ctl("check", config=write_config(tmp_path / "dirmail.cf", params))
    assert r.returncode == 1
    assert f"smtpd_tls_cert_file: {other}" in r.stderr, r.stderr


def test_man_pages_are_installed_and_render_without_warnings():
    if shutil.which("man") is None:
        pytest.skip("man is not installed")
    local_mk = (SRCDIR / "doc" / "local.mk").read_text()
    pages = sorted((SRCDIR / "doc").glob("*.[158]"))
    assert "smtpd.8" in [p.name for p in pages]
    for page in pages:
        assert f"doc/{page.name}" in local_mk, f"{page.name} not installed"
        r = subprocess.run(["man", "--warnings", "-l", str(page)],
                           capture_output=True, text=True,
                           env=dict(os.environ, MANWIDTH="80"))
        assert r.returncode == 0 and r.stderr == "", (page.name, r.stderr)
