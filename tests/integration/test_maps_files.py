"""dirmailctl map build and map query with the file tables (lmdb,
texthash, cidr, regexp), through the built dirmailctl."""

import os
import pwd
import select
import subprocess
import tempfile

import pytest

from util import ctl, program

EX_USAGE = 64
EX_TEMPFAIL = 75


def write(path, text):
    """Write TEXT to a new file that replaces PATH; return PATH as str."""
    tmp = f"{path}.new"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return str(path)


def build(source):
    r = ctl("map", "build", source)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    return r


VIRTUAL = """\
# virtual_mailbox_maps
alice@example.com   alice
Bob@Example.COM     bob
@example.org        catchall
carol               carol-local
long@example.com    one,
    two,
    three
"""


@pytest.fixture
def virtual(tmp_path):
    source = write(tmp_path / "virtual", VIRTUAL)
    build(source)
    return source


def test_build_then_query_found_and_not_found(virtual):
    r = ctl("map", "query", f"lmdb:{virtual}", "alice@example.com")
    assert (r.returncode, r.stdout) == (0, "alice\n"), r.stderr
    r = ctl("map", "query", f"lmdb:{virtual}", "BOB@example.com")
    assert (r.returncode, r.stdout) == (0, "bob\n")
    r = ctl("map", "query", f"lmdb:{virtual}", "long@example.com")
    assert r.stdout == "one, two, three\n"
    r = ctl("map", "query", f"lmdb:{virtual}", "nobody@example.com")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "")


def test_build_leaves_only_the_table_behind(tmp_path, virtual):
    assert sorted(os.listdir(tmp_path)) == ["virtual", "virtual.lmdb"]
    ctl("map", "query", f"lmdb:{virtual}", "alice@example.com")
    assert sorted(os.listdir(tmp_path)) == ["virtual", "virtual.lmdb"]


def test_build_accepts_the_lmdb_prefix(tmp_path):
    source = write(tmp_path / "t", "k v\n")
    r = ctl("map", "build", f"lmdb:{source}")
    assert r.returncode == 0, r.stderr
    assert ctl("map", "query", f"lmdb:{source}", "k").stdout == "v\n"


def test_postfix_hash_and_btree_tables_are_read_as_lmdb(tmp_path):
    """A site's main.cf names hash: and btree: tables (Postfix's Berkeley
    DB types): they build and read as lmdb tables, FILE.lmdb."""
    source = write(tmp_path / "access", "k v\n")
    r = ctl("map", "build", f"hash:{source}")
    assert r.returncode == 0, r.stderr
    assert os.path.exists(f"{source}.lmdb")
    for kind in ("hash", "btree", "lmdb"):
        r = ctl("map", "query", f"{kind}:{source}", "k")
        assert (r.returncode, r.stdout) == (0, "v\n"), kind
    r = ctl("map", "build", f"cidr:{source}")
    assert r.returncode == 64 and "only lmdb tables are built" in r.stderr


def test_bad_source_names_file_and_line_and_keeps_old_table(virtual):
    old = os.stat(f"{virtual}.lmdb").st_ino
    write(virtual, "a 1\n\n# c\nno-value-here\n")
    r = ctl("map", "build", virtual)
    assert r.returncode == 1
    assert r.stderr.startswith("dirmailctl: ")
    assert f"{virtual}:4:" in r.stderr
    assert os.stat(f"{virtual}.lmdb").st_ino == old
    r = ctl("map", "query", f"lmdb:{virtual}", "alice@example.com")
    assert r.stdout == "alice\n"


def test_duplicate_key_warns_and_first_wins(tmp_path):
    source = write(tmp_path / "dup", "k first\nK second\n")
    r = build(source)
    assert f"{source}:2: duplicate entry" in r.stderr
    assert ctl("map", "query", f"lmdb:{source}", "k").stdout == "first\n"


def test_missing_source_is_an_error(tmp_path):
    r = ctl("map", "build", tmp_path / "absent")
    assert r.returncode == 1
    assert str(tmp_path / "absent") in r.stderr


def test_missing_lmdb_is_a_temporary_failure(tmp_path):
    source = write(tmp_path / "unbuilt", "k v\n")
    r = ctl("map", "query", f"lmdb:{source}", "k")
    assert r.returncode == EX_TEMPFAIL
    assert r.stdout == ""
    assert f"{source}.lmdb" in r.stderr


def test_corrupt_lmdb_is_a_temporary_failure(virtual):
    with open(f"{virtual}.lmdb", "r+b") as f:
        f.write(b"\xff" * 8192)
    r = ctl("map", "query", f"lmdb:{virtual}", "alice@example.com")
    assert r.returncode == EX_TEMPFAIL
    assert r.stdout == ""
    assert f"{virtual}.lmdb" in r.stderr


def test_truncated_lmdb_is_a_temporary_failure(tmp_path):
    source = write(tmp_path / "big",
                   "".join(f"key{i} value{i}\n" for i in range(3000)))
    build(source)
    with open(f"{source}.lmdb", "r+b") as f:
        f.truncate(8192)
    r = ctl("map", "query", f"lmdb:{source}", "key2999")
    assert r.returncode == EX_TEMPFAIL, (r.stdout, r.stderr)


def test_address_lookup_order(virtual):
    table = f"lmdb:{virtual}"
    cases = [
        ("alice@example.com", 0, "alice"),      # user@domain
        ("carol@example.net", 0, "carol-local"),  # user
        ("dave@example.org", 0, "catchall"),    # @domain
        ("Dave@Example.ORG", 0, "catchall"),
        ("dave@example.net", 1, ""),
    ]
    for key, rc, out in cases:
        r = ctl("map", "query", "-a", table, key)
        assert (key, r.returncode, r.stdout.strip()) == (key, rc, out)
    # Without -a the key is looked up as given, once.
    r = ctl("map", "query", table, "dave@example.org")
    assert r.returncode == 1


def test_texthash(tmp_path):
    source = write(tmp_path / "aliases", "Postmaster root\nroot admin\n")
    assert ctl("map", "query", f"texthash:{source}",
               "postmaster").stdout == "root\n"
    assert ctl("map", "query", f"texthash:{source}",
               "nobody").returncode == 1
    r = ctl("map", "query", f"texthash:{tmp_path}/absent", "x")
    assert r.returncode == EX_TEMPFAIL
    assert f"{tmp_path}/absent" in r.stderr


def test_cidr(tmp_path):
    source = write(tmp_path / "clients", """\
192.0.2.0/24        REJECT net
192.0.2.7           OK never reached
[2001:db8::]/32     OK v6
10.0.0.1            DUNNO
""")
    table = f"cidr:{source}"
    for key, rc, out in [("192.0.2.7", 0, "REJECT net\n"),
                         ("2001:DB8::25", 0, "OK v6\n"),
                         ("10.0.0.1", 0, "DUNNO\n"),
                         ("10.0.0.2", 1, ""),
                         ("not-an-address", 1, "")]:
        r = ctl("map", "query", table, key)
        assert (key, r.returncode, r.stdout) == (key, rc, out)
    write(source, "10.0.0.0/8 OK\n10.0.0.1/8 bad\n")
    r = ctl("map", "query", table, "10.0.0.1")
    assert r.returncode == EX_TEMPFAIL
    assert f"{source}:2:" in r.stderr


def test_regexp(tmp_path):
    source = write(tmp_path / "senders", r"""
/^(.*)@example\.com$/   user $1
if /\.org$/
/^admin@/               org admin
endif
!/@/                    no domain
""")
    table = f"regexp:{source}"
    for key, rc, out in [("Joe@EXAMPLE.com", 0, "user Joe\n"),
                         ("admin@x.org", 0, "org admin\n"),
                         ("admin@x.net", 1, ""),
                         ("plain", 0, "no domain\n")]:
        r = ctl("map", "query", table, key)
        assert (key, r.returncode, r.stdout) == (key, rc, out)
    # A pattern table sees the whole address once, even with -a.
    assert ctl("map", "query", "-a", table, "x@y.org").returncode == 1
    write(source, "/ok/ OK\n/a(/ broken\n")
    r = ctl("map", "query", table, "ok")
    assert r.returncode == EX_TEMPFAIL
    assert f"{source}:2:" in r.stderr


def test_usage_errors(tmp_path):
    for args in (["map"], ["map", "query"], ["map", "query", "lmdb:x"],
                 ["map", "build"], ["map", "frobnicate"],
                 ["map", "query", "-z", "lmdb:x", "k"]):
        r = ctl(*args)
        assert r.returncode == EX_USAGE, args
        assert "usage:" in r.stderr
    r = ctl("map", "query", "nosuch:/etc/x", "k")
    assert r.returncode == EX_USAGE
    assert "nosuch:/etc/x" in r.stderr


class Stream:
    """A running "dirmailctl map query TABLE -" answering keys."""

    def __init__(self, *args):
        self.proc = subprocess.Popen(
            [program("dirmailctl"), "map", "query", *args, "-"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, bufsize=1)

    def ask(self, key, timeout=10):
        self.proc.stdin.write(key + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, f"no answer for {key!r} within {timeout}s"
        return self.proc.stdout.readline()

    def finish(self):
        _, err = self.proc.communicate(timeout=10)
        return self.proc.returncode, err


def test_running_query_sees_rebuilt_table(tmp_path):
    source = write(tmp_path / "relocated", "alice@example.com v1\n")
    build(source)
    s = Stream(f"lmdb:{source}")
    try:
        assert s.ask("alice@example.com") == "alice@example.com\tv1\n"
        assert s.ask("bob@example.com") == "bob@example.com\n"
        write(source, "alice@example.com v2\nbob@example.com new\n")
        build(source)
        assert s.ask("alice@example.com") == "alice@example.com\tv2\n"
        assert s.ask("BOB@example.com") == "BOB@example.com\tnew\n"
    finally:
        rc, err = s.finish()
    assert rc == 0, err


def test_stream_reports_temporary_failure_per_key(tmp_path):
    source = write(tmp_path / "t", "k v\n")
    build(source)
    s = Stream(f"lmdb:{source}")
    try:
        assert s.ask("k") == "k\tv\n"
        os.unlink(f"{source}.lmdb")
        assert s.ask("k") == "k\t?\n"
        build(source)
        assert s.ask("k") == "k\tv\n"
    finally:
        rc, err = s.finish()
    assert rc == EX_TEMPFAIL
    assert f"{source}.lmdb" in err


def test_stream_exit_status_not_found(tmp_path):
    source = write(tmp_path / "t", "k v\n")
    s = Stream("-a", f"texthash:{source}")
    try:
        assert s.ask("x@y") == "x@y\n"
        assert s.ask("k@y") == "k@y\tv\n"
    finally:
        rc, _ = s.finish()
    assert rc == 0
    r = ctl("map", "query", f"texthash:{source}", "-", input="a\nb\n")
    assert (r.returncode, r.stdout) == (1, "a\nb\n")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch user")
def test_unprivileged_reader_needs_no_lock_file():
    top = tempfile.mkdtemp(prefix="dirmail-maps-")
    try:
        os.chmod(top, 0o755)
        source = write(os.path.join(top, "t"), "k v\n")
        os.chmod(source, 0o644)
        build(source)
        nobody = pwd.getpwnam("nobody")
        r = subprocess.run(
            [program("dirmailctl"), "map", "query", f"lmdb:{source}", "k"],
            capture_output=True, text=True, timeout=30,
            user=nobody.pw_uid, group=nobody.pw_gid, extra_groups=[])
        if r.returncode == 126 or "Permission denied" in r.stderr \
                and "dirmailctl:" not in r.stderr:
            pytest.skip("the build tree is not readable by nobody")
        assert (r.returncode, r.stdout) == (0, "v\n"), r.stderr
        assert sorted(os.listdir(top)) == ["t", "t.lmdb"]
    finally:
        for name in os.listdir(top):
            os.unlink(os.path.join(top, name))
        os.rmdir(top)


def test_unix_passwd_table_answers_from_the_system_user_database():
    r = ctl("map", "query", "unix:passwd.byname", "root")
    assert r.returncode == 0
    assert r.stdout.startswith("root:x:0:0:")
    r = ctl("map", "query", "unix:passwd.byname", "no-such-user-here")
    assert r.returncode == 1
    r = ctl("map", "query", "unix:group.byname", "root")
    assert r.returncode == 0
    r = ctl("map", "query", "unix:shadow.byname", "root")
    assert r.returncode != 0 and "unknown database" in r.stderr
