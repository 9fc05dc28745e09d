"""The `punch` command: fast client half, server commands with clear errors."""

import subprocess
import sys

from click.testing import CliRunner

from punchclock.accounts.models import Membership, Role, User
from punchclock.cli.main import main


def test_the_client_half_does_not_import_django():
    code = "import sys, punchclock.cli.main; print('django' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_help_lists_the_server_commands():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "demo", "createuser"):
        assert command in result.output


def test_createuser_with_an_organization(db):
    result = CliRunner().invoke(
        main,
        [
            "createuser",
            "--email",
            "Lena@Example.com",
            "--name",
            "Lena",
            "--password",
            "a long enough passphrase",
            "--organization",
            "Lena Codes",
        ],
    )
    assert result.exit_code == 0, result.output
    user = User.objects.get(email="lena@example.com")
    assert Membership.objects.get(user=user).role == Role.OWNER


def test_createuser_refuses_a_weak_password_and_writes_nothing(db):
    result = CliRunner().invoke(
        main,
        [
            "createuser",
            "--email",
            "x@example.com",
            "--password",
            "1234",
            "--organization",
            "X",
        ],
    )
    assert result.exit_code == 1
    assert "password:" in result.output
    assert "Traceback" not in result.output
    assert not User.objects.exists()


def test_demo_loads_once_and_then_says_it_exists(db):
    first = CliRunner().invoke(main, ["demo"])
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(main, ["demo"])
    assert second.exit_code == 1
    assert "already exists" in second.output
