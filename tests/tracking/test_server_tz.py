"""Reports and day cuts do not depend on the server process's time zone."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest

from punchclock.core.timeutil import period_bounds
from punchclock.tracking import services
from punchclock.tracking.reports import time_summary
from tests.factories import make_rate


@pytest.fixture
def server_tz():
    original = os.environ.get("TZ")

    def switch(zone: str) -> None:
        os.environ["TZ"] = zone
        time.tzset()

    yield switch
    if original is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = original
    time.tzset()


def test_the_same_report_under_any_server_time_zone(agency, monkeypatch, server_tz):
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    monkeypatch.setattr(services, "now", lambda: now)
    make_rate(agency.organization, "90", project=agency.project)
    agency.member.user.timezone = "Pacific/Auckland"
    agency.member.user.save()
    # Entries around local midnights of the viewer and of several server zones.
    for hours in (-1, 0, 1, 10, 11, 12, 13, 23, 24, 25):
        start = datetime(2026, 10, 31, tzinfo=UTC) + timedelta(hours=hours)
        services.add_entry(
            agency.member,
            by=agency.member,
            project=agency.project,
            start=start,
            end=start + timedelta(minutes=50),
        )
    results = []
    for zone in ("UTC", "Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata"):
        server_tz(zone)
        start, end = period_bounds("month", "Pacific/Auckland", today=datetime(2026, 11, 25).date())
        rows = time_summary(agency.member, start=start, end=end, by="project")
        results.append([(r.key, r.seconds, r.amounts) for r in rows])
    assert all(result == results[0] for result in results)
    assert results[0]  # the month did contain time
