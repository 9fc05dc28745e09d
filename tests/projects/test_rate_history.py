"""Rate histories: each rate runs until the day before the next; states for the pages."""

from __future__ import annotations

from datetime import date

from punchclock.projects.services import rate_histories
from tests.factories import make_rate

TODAY = date(2026, 6, 15)


def test_periods_and_states(agency):
    org, project = agency.organization, agency.project
    old = make_rate(org, "80", project=project, effective_from=date(2025, 1, 1))
    now = make_rate(org, "90", project=project, effective_from=date(2026, 1, 1))
    later = make_rate(org, "99", project=project, effective_from=date(2027, 1, 1))
    (rows,) = rate_histories([old, later, now], today=TODAY).values()
    assert [r.rate for r in rows] == [later, now, old]
    assert [r.state for r in rows] == ["scheduled", "current", "past"]
    assert [r.until for r in rows] == [None, date(2026, 12, 31), date(2025, 12, 31)]
    assert [r.deletable for r in rows] == [True, False, False]


def test_a_rate_starting_today_is_in_force(agency):
    rate = make_rate(agency.organization, "90", effective_from=TODAY)
    (rows,) = rate_histories([rate], today=TODAY).values()
    assert rows[0].state == "current"


def test_scopes_are_kept_apart(agency):
    a = make_rate(agency.organization, "90", project=agency.project)
    b = make_rate(agency.organization, "95", task=agency.task)
    histories = rate_histories([a, b], today=TODAY)
    assert len(histories) == 2
    assert all(rows[0].state == "current" for rows in histories.values())
