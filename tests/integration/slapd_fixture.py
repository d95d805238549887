"""A private OpenLDAP server (slapd) for the integration tests and the demo.

It runs from one directory: a test CA and a server certificate made with
openssl (and a second, unrelated "bad" CA for refused-TLS tests), a
cn=config built with slapadd -n0 (mdb backend, schemas core, cosine, nis,
inetorgperson and schema/dirmail.ldif), the demo directory of
tests/fixtures/*.ldif, and slapd listening on 127.0.0.1 only:
ldap://, ldaps:// and ldapi://.

SASL EXTERNAL: slapd asks TLS clients for a certificate (olcTLSVerifyClient
try: none is fine; one it cannot verify gives no EXTERNAL identity).  Two external
identities are mapped (olcAuthzRegexp) to SASL_DN, the only identity
besides the manager that may read userPassword: this process's uid and
gid over ldapi://, and the client certificate client.pem (CN
dirmail-client, signed by the test CA) over TLS.  bad-client.pem is the
same name signed by the unrelated CA.

In pytest: the session fixture "slapd" (a started Slapd), "private_slapd"
(one per test) and "ldap_ca"
(the test CA's path).  From the command line:

    python3 tests/integration/slapd_fixture.py start DIR
    python3 tests/integration/slapd_fixture.py stop DIR

"start" prints shell-style KEY=value lines (LDAP_URI, LDAPS_URI,
LDAPI_URI, BASE, BIND_DN, BIND_PW, CA_FILE, PID), writes them to
DIR/slapd.env too, and leaves slapd running in the background.

Needs the Debian 12 packages slapd, ldap-utils and openssl.
"""

import os
import pathlib
import shlex
import signal
import subprocess
import sys
import time
import urllib.parse

try:
    import pytest
except ImportError:  # the command line does not need pytest
    pytest = None

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from util import free_port  # noqa: E402

__all__ = ["Slapd", "slapd", "ldap_ca", "private_slapd"]

SRCDIR = pathlib.Path(__file__).resolve().parents[2]
SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
MODULE_PATH = "/usr/lib/ldap"
SCHEMA_DIR = pathlib.Path("/etc/ldap/schema")
SCHEMAS = [SCHEMA_DIR / f"{name}.ldif"
           for name in ("core", "cosine", "nis", "inetorgperson")]

BASE = "dc=example,dc=com"
ROOT_DN = f"cn=admin,{BASE}"
ROOT_PW = "admin-password"
SERVICE_DN = f"cn=dirmail,ou=services,{BASE}"
SERVICE_PW = "dirmail-password"
# What SASL EXTERNAL binds become (no entry: an identity for the ACLs).
SASL_DN = f"cn=dirmail-sasl,ou=services,{BASE}"
CLIENT_CN = "dirmail-client"
# The demo users of tests/fixtures/example.ldif.
USERS = {
    "alice": (f"uid=alice,ou=people,{BASE}", "alice-password"),
    "bob": (f"uid=bob,ou=people,{BASE}", "bob-password"),
}


def _run(*cmd, cwd=None, input=None):
    """Run CMD; raise with its output when it fails."""
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, input=input,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))}: exit {r.returncode}"
                           f"\n{r.stdout}{r.stderr}")
    return r.stdout


def _make_ca(directory, name, cn):
    """Make a self-signed CA NAME.pem / NAME.key in DIRECTORY."""
    _run("openssl", "req", "-x509", "-new", "-newkey", "ec",
         "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "30",
         "-subj", f"/CN={cn}",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    return directory / f"{name}.pem"


def _make_cert(directory, ca, name, cn, extensions):
    """Make NAME.pem / NAME.key for CN, signed by the CA named CA."""
    (directory / f"{name}.ext").write_text(
        "basicConstraints = CA:FALSE\n"
        "keyUsage = critical, digitalSignature\n" + extensions)
    _run("openssl", "req", "-new", "-newkey", "ec",
         "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", f"{name}.key", "-out", f"{name}.csr",
         "-subj", f"/CN={cn}", cwd=directory)
    _run("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem",
         "-CAkey", f"{ca}.key", "-CAcreateserial", "-out", f"{name}.pem",
         "-days", "30", "-extfile", f"{name}.ext", cwd=directory)


def _make_server_cert(directory, ca):
    """Make server.pem / server.key for localhost and 127.0.0.1."""
    _make_cert(directory, ca, "server", "localhost",
               "subjectAltName = IP:127.0.0.1, DNS:localhost\n"
               "extendedKeyUsage = serverAuth\n")


def _make_client_certs(directory):
    """Make client.pem (the test CA) and bad-client.pem (the other CA)."""
    for name, ca in (("client", "ca"), ("bad-client", "bad-ca")):
        _make_cert(directory, ca, name, CLIENT_CN,
                   "extendedKeyUsage = clientAuth\n")


def _ldif_attr_lines(name, values):
    return "".join(f"{name}: {v}\n" for v in values)


class Slapd:
    """One slapd instance living in DIRECTORY."""

    def __init__(self, directory):
        self.dir = pathlib.Path(directory).resolve()
        self.cfg_dir = self.dir / "slapd.d"
        self.data_dir = self.dir / "data"
        self.tls_dir = self.dir / "tls"
        self.ca_file = str(self.tls_dir / "ca.pem")
        self.bad_ca_file = str(self.tls_dir / "bad-ca.pem")
        self.client_cert = str(self.tls_dir / "client.pem")
        self.client_key = str(self.tls_dir / "client.key")
        self.bad_client_cert = str(self.tls_dir / "bad-client.pem")
        self.bad_client_key = str(self.tls_dir / "bad-client.key")
        self.sasl_dn = SASL_DN
        self.socket = self.dir / "ldapi"
        self.base = BASE
        self.root_dn, self.root_pw = ROOT_DN, ROOT_PW
        self.service_dn, self.service_pw = SERVICE_DN, SERVICE_PW
        self.users = dict(USERS)
        self.proc = None
        self.pid = None
        self.ldap_port = self.ldaps_port = None
        self._load_ports()

    # -- where it listens -------------------------------------------------

    @property
    def ldap_uri(self):
        return f"ldap://127.0.0.1:{self.ldap_port}/"

    @property
    def ldaps_uri(self):
        return f"ldaps://127.0.0.1:{self.ldaps_port}/"

    @property
    def ldapi_uri(self):
        return "ldapi://" + urllib.parse.quote(str(self.socket), safe="") + "/"

    @property
    def uris(self):
        return [self.ldap_uri, self.ldaps_uri, self.ldapi_uri]

    def _load_ports(self):
        ports = self.dir / "ports"
        if ports.exists():
            self.ldap_port, self.ldaps_port = map(
                int, ports.read_text().split())

    # -- building the instance --------------------------------------------

    def setup(self):
        """Create certificates, cn=config and the database (once)."""
        if self.cfg_dir.exists():
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        self.tls_dir.mkdir()
        _make_ca(self.tls_dir, "ca", "dirmail test CA")
        _make_ca(self.tls_dir, "bad-ca", "unrelated test CA")
        _make_server_cert(self.tls_dir, "ca")
        _make_client_certs(self.tls_dir)
        self.ldap_port, self.ldaps_port = free_port(), free_port()
        while self.ldaps_port == self.ldap_port:
            self.ldaps_port = free_port()
        (self.dir / "ports").write_text(f"{self.ldap_port} {self.ldaps_port}\n")
        self.data_dir.mkdir()
        self.cfg_dir.mkdir()
        config = self.dir / "config.ldif"
        config.write_text(self._config_ldif())
        _run(SLAPADD, "-n0", "-F", self.cfg_dir, "-l", config)
        data = self.dir / "data.ldif"
        data.write_text("\n".join(
            p.read_text() for p in sorted((SRCDIR / "tests/fixtures")
                                          .glob("*.ldif"))))
        _run(SLAPADD, "-q", "-F", self.cfg_dir, "-b", BASE, "-l", data)

    def _acl(self):
        return [
            "to attrs=userPassword by self =xw "
            f'by dn.exact="{SASL_DN}" read '
            "by anonymous auth by * none",
            # Where mail goes is for authenticated readers only.
            "to attrs=maildrop by users read by * none",
            "to * by users read by anonymous read",
        ]

    def _authz_regexp(self):
        """Map the EXTERNAL identities (see the module's comment)."""
        peer = (f"gidNumber={os.getegid()}\\+uidNumber={os.geteuid()},"
                "cn=peercred,cn=external,cn=auth")
        return _ldif_attr_lines("olcAuthzRegexp", [
            f'{{0}}"^{peer}$" "{SASL_DN}"',
            f'{{1}}"^cn={CLIENT_CN}$" "{SASL_DN}"'])

    def _config_ldif(self):
        root_hash = _run("slappasswd", "-h", "{SSHA}", "-s", ROOT_PW).strip()
        includes = "".join(f"include: file://{p}\n\n"
                           for p in SCHEMAS + [SRCDIR / "schema/dirmail.ldif"])
        acl = _ldif_attr_lines("olcAccess", [f"{{{i}}}{a}" for i, a in
                                             enumerate(self._acl())])
        return f"""\
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {self.dir}/slapd.pid
olcArgsFile: {self.dir}/slapd.args
olcTLSCACertificateFile: {self.tls_dir}/ca.pem
olcTLSCertificateFile: {self.tls_dir}/server.pem
olcTLSCertificateKeyFile: {self.tls_dir}/server.key
olcTLSVerifyClient: try
{self._authz_regexp()}
dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {MODULE_PATH}
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

{includes}dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcSizeLimit: 500

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {BASE}
olcDbDirectory: {self.data_dir}
olcDbMaxSize: 67108864
olcRootDN: {ROOT_DN}
olcRootPW: {root_hash}
olcDbIndex: objectClass eq
olcDbIndex: uid eq
olcDbIndex: mailacceptinggeneralid eq
{acl}"""

    # -- running it -------------------------------------------------------

    def start(self, timeout=15):
        """Start slapd in the background and wait until it answers."""
        if self.running():
            return
        self.setup()
        if self.socket.exists():
            self.socket.unlink()
        urls = " ".join(self.uris)
        log = open(self.dir / "slapd.log", "ab")
        # -d 0: stay in the foreground (our child), log nothing.
        self.proc = subprocess.Popen(
            [SLAPD, "-d", "0", "-h", urls, "-F", str(self.cfg_dir)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True)
        log.close()
        self.pid = self.proc.pid
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.proc.poll() is not None:
                raise RuntimeError(f"slapd exited with {self.proc.returncode}"
                                   f"; see {self.dir}/slapd.log")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("slapd does not answer")
            time.sleep(0.1)
        self.write_env()

    def _answers(self):
        for uri in (self.ldap_uri, self.ldapi_uri):
            r = subprocess.run(["ldapsearch", "-x", "-H", uri, "-b", BASE,
                                "-s", "base", "-LLL", "dn"],
                               capture_output=True)
            if r.returncode != 0:
                return False
        return True

    def running(self):
        if self.proc is not None:
            return self.proc.poll() is None
        return False

    def stop(self):
        """Stop slapd (SIGTERM, then SIGKILL) and wait for it."""
        pid = self.pid
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        else:
            _wait_gone(pid)
        self.proc = self.pid = None

    # -- what clients need ------------------------------------------------

    def env(self):
        return {
            "LDAP_URI": self.ldap_uri,
            "LDAPS_URI": self.ldaps_uri,
            "LDAPI_URI": self.ldapi_uri,
            "BASE": self.base,
            "BIND_DN": self.service_dn,
            "BIND_PW": self.service_pw,
            "CA_FILE": self.ca_file,
            "PID": str(self.pid or ""),
        }

    def write_env(self):
        text = "".join(f"{k}={shlex.quote(v)}\n" for k, v in self.env().items())
        (self.dir / "slapd.env").write_text(text)
        return text


def _wait_gone(pid, timeout=10):
    """Wait until process PID (not our child) is gone; SIGKILL it late."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _read_env(directory):
    env = {}
    path = pathlib.Path(directory) / "slapd.env"
    if path.exists():
        for line in path.read_text().splitlines():
            key, _, value = line.partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


def main(argv):
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        print(f"usage: {argv[0]} start|stop DIR", file=sys.stderr)
        return 64
    server = Slapd(argv[2])
    if argv[1] == "start":
        old = _read_env(argv[2]).get("PID")
        if old and _alive(int(old)):
            print(f"slapd already runs in {argv[2]} (pid {old})",
                  file=sys.stderr)
            return 1
        server.start()
        server.proc = None  # it outlives us
        sys.stdout.write(server.write_env())
        return 0
    pid = _read_env(argv[2]).get("PID")
    if pid and _alive(int(pid)):
        server.pid = int(pid)
        server.stop()
    return 0


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


if pytest is not None:
    @pytest.fixture(scope="session")
    def slapd(tmp_path_factory):
        """A started slapd for the whole session (see Slapd)."""
        server = Slapd(tmp_path_factory.mktemp("slapd"))
        server.start()
        yield server
        server.stop()

    @pytest.fixture(scope="session")
    def ldap_ca(slapd):
        """The path of the CA that signed the test slapd's certificate."""
        return slapd.ca_file

    @pytest.fixture
    def private_slapd(tmp_path):
        """A slapd of the test's own, for tests that stop or freeze (SIGSTOP)
        the server; it is thawed and stopped afterwards."""
        server = Slapd(tmp_path / "private-slapd")
        server.start()
        yield server
        try:
            os.kill(server.pid, signal.SIGCONT)
        except (ProcessLookupError, TypeError):
            pass
        server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
