"""The embedded default behind "./dev demo": a private slapd with the demo
users of tests/fixtures, a generated certificate, and dirmaild in the
foreground on unprivileged ports, all under TOP/demo.

usage: demo.py TOP BUILDDIR
"""

import grp
import os
import pathlib
import pwd
import shutil
import signal
import subprocess
import sys

PORTS = {
    "smtpd_listen": 2525, "submission_listen": 2587, "smtps_listen": 2465,
    "imap_listen": 2143, "imaps_listen": 2993, "pop3_listen": 2110,
    "pop3s_listen": 2995,
}
SERVICES = ("authd", "smtpd", "qmgr", "local", "smtp", "imapd", "pop3d")


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def start_slapd(top, demo):
    """Start the private slapd; return its settings (slapd.env)."""
    fixture = top / "tests" / "integration" / "slapd_fixture.py"
    sdir = demo / "slapd"
    stop_slapd(top, demo)
    shutil.rmtree(sdir, ignore_errors=True)
    sdir.mkdir(parents=True)
    sh(sys.executable, str(fixture), "start", str(sdir),
       stdout=subprocess.DEVNULL)
    env = {}
    for line in (sdir / "slapd.env").read_text().splitlines():
        key, _, value = line.partition("=")
        env[key] = value.strip("'\"")
    return env


def stop_slapd(top, demo):
    sdir = demo / "slapd"
    if (sdir / "slapd.env").exists():
        fixture = top / "tests" / "integration" / "slapd_fixture.py"
        subprocess.run([sys.executable, str(fixture), "stop", str(sdir)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certificate(demo):
    tls = demo / "tls"
    if not (tls / "cert.pem").exists():
        tls.mkdir(parents=True, exist_ok=True)
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
           "-days", "365", "-subj", "/CN=localhost",
           "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
           "-keyout", str(tls / "key.pem"), "-out", str(tls / "cert.pem"),
           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        (tls / "key.pem").chmod(0o600)
    return tls


def service_user():
    """The unprivileged account: 'dirmail' as root (created if needed)."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    try:
        pwd.getpwnam("dirmail")
    except KeyError:
        sh("useradd", "--system", "--no-create-home", "--home-dir",
           "/nonexistent", "--shell", "/usr/sbin/nologin", "dirmail")
    return "dirmail"


def link_services(build, demo):
    """daemon_directory: links to the service programs that are built."""
    libexec = demo / "libexec"
    shutil.rmtree(libexec, ignore_errors=True)
    libexec.mkdir(parents=True)
    for name in SERVICES:
        for prog in build.glob(f"src/*/{name}"):
            if os.access(prog, os.X_OK):
                (libexec / name).symlink_to(prog)
    return libexec


def write_tables(demo, env, user):
    """The LDAP table and passdb files: they hold the bind password, so
    root and the services' group may read them, nobody else."""
    common = (f"server_host = {env['LDAP_URI']}\n"
              f"search_base = {env['BASE']}\n"
              f"bind_dn = {env['BIND_DN']}\n"
              f"bind_pw = {env['BIND_PW']}\n")
    (demo / "ldap-virtual-alias.cf").write_text(
        common + "query_filter = (mailacceptinggeneralid=%s)\n"
                 "result_attribute = maildrop\n")
    (demo / "ldap-virtual-mailbox.cf").write_text(
        common + "query_filter = (&(objectClass=inetOrgPerson)"
                 "(|(mail=%s)(mailacceptinggeneralid=%s)))\n"
                 "result_attribute = uid\ndomain = example.com\n")
    (demo / "dovecot-ldap.conf.ext").write_text(
        f"uris = {env['LDAP_URI']}\ndn = {env['BIND_DN']}\n"
        f"dnpass = {env['BIND_PW']}\nauth_bind = yes\nbase = {env['BASE']}\n"
        "pass_filter = (&(objectClass=posixAccount)(uid=%n))\n"
        "user_filter = (&(objectClass=posixAccount)(uid=%n))\n")
    gid = grp.getgrnam(user).gr_gid if os.geteuid() == 0 else -1
    for name in ("ldap-virtual-alias.cf", "ldap-virtual-mailbox.cf",
                 "dovecot-ldap.conf.ext"):
        (demo / name).chmod(0o640)
        os.chown(demo / name, -1, gid)


def write_config(demo, build, env, user):
    tls = make_certificate(demo)
    libexec = link_services(build, demo)
    write_tables(demo, env, user)
    for sub in ("run", "queue", "mail"):
        (demo / sub).mkdir(exist_ok=True)
    # Each user's Maildir (mail_location below) is made by the delivery
    # agent as that user, in a directory everyone may create in (with
    # the sticky bit, as /tmp).
    os.chmod(demo / "mail", 0o1777)
    lines = {
        "myhostname": "mail.example.com",
        "mydomain": "example.com",
        "mydestination": "localhost",
        # A maildrop without a domain ("alice") means alice@example.com.
        "myorigin": "example.com",
        "run_directory": demo / "run",
        "queue_directory": demo / "queue",
        "daemon_directory": libexec,
        "dirmail_user": user, "dirmail_group": user, "mail_owner": user,
        "smtpd_tls_cert_file": tls / "cert.pem",
        "smtpd_tls_key_file": tls / "key.pem",
        "virtual_mailbox_domains": "example.com",
        "virtual_mailbox_maps": f"ldap:{demo}/ldap-virtual-mailbox.cf",
        "virtual_alias_maps": f"ldap:{demo}/ldap-virtual-alias.cf",
        "passdb": f"ldap:{demo}/dovecot-ldap.conf.ext",
        "userdb": f"ldap:{demo}/dovecot-ldap.conf.ext",
        "mail_location": f"maildir:{demo}/mail/%n",
        "alias_maps": "", "alias_database": "",
        "auth_listen": "unix:$run_directory/auth-client:0660",
        "auth_userdb_listen": "unix:$run_directory/auth-userdb:0600",
        "pickup_listen": "unix:$run_directory/pickup:0666",
    }
    lines.update({k: f"127.0.0.1:{v}" for k, v in PORTS.items()})
    cfg = demo / "dirmail.cf"
    cfg.write_text("# Generated by ./dev demo.\n" +
                   "".join(f"{k} = {v}\n" for k, v in lines.items()))
    return cfg


def stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main():
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    top = pathlib.Path(sys.argv[1]).resolve()
    build = pathlib.Path(sys.argv[2]).resolve()
    demo = top / "demo"
    demo.mkdir(exist_ok=True)
    os.chmod(demo, 0o755)
    env = start_slapd(top, demo)
    try:
        user = service_user()
        cfg = write_config(demo, build, env, user)
        ctl = build / "src" / "tools" / "dirmailctl"
        print(f"dirmail demo: slapd at {env['LDAP_URI']} "
              f"(base {env['BASE']}), configuration {cfg}")
        print("try:")
        print(f"  {ctl} -c {cfg} config -n")
        print(f"  {ctl} -c {cfg} map query "
              f"ldap:{demo}/ldap-virtual-mailbox.cf alice@example.com")
        print(f"  {ctl} -c {cfg} map query "
              f"ldap:{demo}/ldap-virtual-alias.cf staff@example.com")
        print(f"  {ctl} -c {cfg} auth test alice alice-password")
        print(f"  {ctl} -c {cfg} auth lookup bob")
        print("  swaks --server 127.0.0.1 --port 2525 "
              "--to alice@example.com")
        print("  swaks --server 127.0.0.1 --port 2587 --tls --auth-user alice "
              "--auth-password alice-password --from alice@example.com "
              "--to bob@example.com")
        print("dirmaild runs in the foreground; Ctrl-C stops it.",
              flush=True)
        subprocess.run([str(ctl), "-c", str(cfg), "check"])
        proc = subprocess.Popen([str(build / "src" / "master" / "dirmaild"),
                                 "-f", "-c", str(cfg)])
        try:
            proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGTERM)
            proc.wait()
    finally:
        stop_slapd(top, demo)


if __name__ == "__main__":
    main()
