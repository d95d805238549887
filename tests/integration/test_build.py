"""configure stops on a missing library and names the packages to install."""

import subprocess

import pytest

from util import SRCDIR


@pytest.mark.parametrize("cache_var, want", [
    ("ac_cv_header_lmdb_h=no",
     "LMDB not found: install liblmdb-dev (Debian/Ubuntu) or lmdb-devel "
     "(Fedora/RHEL)"),
    ("ac_cv_lib_ldap_ldap_initialize=no",
     "OpenLDAP libldap not found: install libldap2-dev (Debian/Ubuntu) or "
     "openldap-devel (Fedora/RHEL)"),
])
def test_configure_names_the_missing_package(tmp_path, cache_var, want):
    r = subprocess.run([str(SRCDIR / "configure"), "-q", cache_var],
                       cwd=tmp_path, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode != 0
    assert f"configure: error: {want}" in r.stderr
