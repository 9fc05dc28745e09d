"""Settings for the test suite: the real settings, fed a test environment."""

import os
import tempfile

_tmp = tempfile.mkdtemp(prefix="punchclock-test-")
os.environ.setdefault("PUNCHCLOCK_DATA_DIR", _tmp)
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ["SECURE_HTTPS"] = "0"
os.environ["DEBUG"] = "0"
os.environ["STATIC_MANIFEST"] = "0"
os.environ["DATABASE_URL"] = os.environ.get(
    "PUNCHCLOCK_TEST_DATABASE_URL", f"sqlite:///{_tmp}/punchclock.sqlite3"
)

from punchclock.config.settings import *  # noqa: E402, F403

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not shared-cache memory: concurrency tests need real locking (WAL, busy
    # timeout), as the embedded mode has it.
    DATABASES["default"]["TEST"] = {"NAME": f"{_tmp}/test.sqlite3"}  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
