"""pytest configuration: the fixtures every integration test may use.

slapd_fixture starts a private OpenLDAP server for the session;
dirmail_fixture starts dirmaild from a generated configuration.
"""

from slapd_fixture import *  # noqa: F401,F403
from dirmail_fixture import *  # noqa: F401,F403
from smtp_util import smtp_cert  # noqa: F401,E402
