"""Production settings pass Django's deployment checks; the readers parse the environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from punchclock.config import env

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_", "DEBUG"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="punchclock.config.settings",
        PUNCHCLOCK_DATA_DIR=str(tmp_path),
        SECRET_KEY="x" * 20 + "a-long-random-production-secret-key-0123456789",
        ALLOWED_HOSTS="punchclock.example.com",
        EMAIL_HOST="smtp.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = env.secret_key(tmp_path, debug=False)
    assert len(first) > 40
    assert env.secret_key(tmp_path, debug=False) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("yes", True), ("0", False), ("off", False), ("", True)]
)
def test_booleans(monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)
    assert env.env_bool("FLAG", True) is expected


def test_lists(monkeypatch):
    monkeypatch.setenv("HOSTS", "a.example, b.example,,")
    assert env.env_list("HOSTS", []) == ["a.example", "b.example"]


def test_the_wsgi_module_settles_the_process_it_loads_in(tmp_path):
    """Loaded objects leave the collector's full passes (punchclock.core.settle)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(
        DJANGO_SETTINGS_MODULE="punchclock.config.settings", PUNCHCLOCK_DATA_DIR=str(tmp_path)
    )
    code = (
        "import gc; from punchclock.config import wsgi; "
        "assert wsgi.application is not None; print(gc.get_freeze_count())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert int(done.stdout.split()[-1]) > 50_000
