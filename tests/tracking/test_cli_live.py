"""`punch` against a live test server: the client half end to end."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from punchclock.accounts.services import create_api_token
from punchclock.cli.main import main
from punchclock.tracking.models import TimeEntry


@pytest.fixture
def punch(agency, live_server, tmp_path):
    agency.member.user.timezone = "Europe/Berlin"
    agency.member.user.save()
    _, raw = create_api_token(membership=agency.member, name="cli", scope="write")
    config = tmp_path / "config.json"
    runner = CliRunner()
    env = {"PUNCH_CONFIG": str(config), "PUNCH_URL": "", "PUNCH_TOKEN": ""}
    login = runner.invoke(main, ["login", live_server.url, "--token", raw], env=env)
    assert login.exit_code == 0, login.output
    assert config.stat().st_mode & 0o777 == 0o600

    def run(*args: str):
        return runner.invoke(main, list(args), env=env)

    return run


@pytest.mark.django_db(transaction=True)
def test_a_working_day_from_the_terminal(agency, punch):
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    started = punch("start", "globex/api", "fix login", "--at", an_hour_ago)
    assert "Started globex/api “fix login”" in started.output
    status = punch("status")
    assert "Tracking globex/api" in status.output
    half_an_hour_ago = (datetime.now(UTC) - timedelta(minutes=30)).isoformat()
    switched = punch(
        "switch", "globex/api", "review PR #42", "--task", "dev", "--at", half_an_hour_ago
    )
    assert "Stopped globex/api" in switched.output
    stopped = punch("stop")
    assert stopped.exit_code == 0, stopped.output
    added = punch("add", "globex/api", "1h30", "pairing", "--date", "yesterday")
    assert added.exit_code == 0, added.output
    assert "Added 1:30" in added.output
    assert TimeEntry.objects.filter(membership=agency.member).count() == 3
    log = punch("log", "--period", "all", "--json")
    assert json.loads(log.output)["count"] == 3
    report = punch("report", "--all", "--by", "task", "--json")
    assert json.loads(report.output)["total"]["seconds"] >= 5400
    projects = punch("projects")
    assert "globex/api" in projects.output


@pytest.mark.django_db(transaction=True)
def test_errors_are_messages_with_exit_codes(agency, punch, live_server, tmp_path):
    unknown = punch("start", "nothing/here")
    assert unknown.exit_code == 1
    assert "project" in unknown.output
    assert "Traceback" not in unknown.output
    assert punch("stop").exit_code == 1
    bad_time = punch("start", "globex/api", "--at", "2026-03-29 2:30")
    assert "does not exist" in bad_time.output
    runner = CliRunner()
    nobody = runner.invoke(
        main,
        ["status"],
        env={"PUNCH_CONFIG": str(tmp_path / "none.json"), "PUNCH_URL": "", "PUNCH_TOKEN": ""},
    )
    assert nobody.exit_code == 4
    wrong = runner.invoke(
        main,
        ["status"],
        env={
            "PUNCH_URL": live_server.url,
            "PUNCH_TOKEN": "pc_wrong",
            "PUNCH_CONFIG": str(tmp_path / "x.json"),
        },
    )
    assert wrong.exit_code == 4
    assert "refused the token" in wrong.output
    offline = runner.invoke(
        main,
        ["status"],
        env={
            "PUNCH_URL": "http://127.0.0.1:9",
            "PUNCH_TOKEN": "pc_x",
            "PUNCH_CONFIG": str(tmp_path / "y.json"),
        },
    )
    assert offline.exit_code == 3
    assert "Cannot reach" in offline.output
