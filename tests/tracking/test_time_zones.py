"""Local input across daylight saving changes and far-off zones; durations from UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from punchclock.core.timeutil import (
    TimeInputError,
    format_duration,
    local_date,
    parse_duration,
    to_utc,
    week_start,
)
from punchclock.tracking import services


def test_spring_forward_gap_is_refused_with_a_clear_message():
    with pytest.raises(TimeInputError, match="does not exist in Europe/Berlin"):
        to_utc(date(2026, 3, 29), time(2, 30), "Europe/Berlin")


def test_fall_back_ambiguity_takes_the_first_occurrence():
    # 02:30 happens twice on 25 Oct 2026 in Berlin; the rule is the first, still on CEST.
    assert to_utc(date(2026, 10, 25), time(2, 30), "Europe/Berlin") == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )


def test_a_night_across_the_spring_change_lasts_an_hour_less(agency, monkeypatch):
    monkeypatch.setattr(services, "now", lambda: datetime(2026, 4, 1, tzinfo=UTC))
    start = to_utc(date(2026, 3, 28), time(22, 0), "Europe/Berlin")
    end = to_utc(date(2026, 3, 29), time(6, 0), "Europe/Berlin")
    entry = services.add_entry(
        agency.member, by=agency.member, project=agency.project, start=start, end=end
    )
    assert entry.seconds() == 7 * 3600


def test_a_night_across_the_autumn_change_lasts_an_hour_more(agency, monkeypatch):
    monkeypatch.setattr(services, "now", lambda: datetime(2026, 11, 1, tzinfo=UTC))
    start = to_utc(date(2026, 10, 24), time(22, 0), "Europe/Berlin")
    end = to_utc(date(2026, 10, 25), time(6, 0), "Europe/Berlin")
    entry = services.add_entry(
        agency.member, by=agency.member, project=agency.project, start=start, end=end
    )
    assert entry.seconds() == 9 * 3600


@pytest.mark.parametrize(
    ("zone", "instant", "day"),
    [
        ("Pacific/Auckland", datetime(2026, 6, 30, 12, 30, tzinfo=UTC), date(2026, 7, 1)),
        ("Etc/GMT-12", datetime(2026, 6, 30, 12, 30, tzinfo=UTC), date(2026, 7, 1)),
        ("Pacific/Honolulu", datetime(2026, 7, 1, 9, 0, tzinfo=UTC), date(2026, 6, 30)),
        ("Etc/GMT+10", datetime(2026, 7, 1, 9, 0, tzinfo=UTC), date(2026, 6, 30)),
    ],
)
def test_days_are_cut_in_the_persons_zone(zone, instant, day):
    assert local_date(instant, zone) == day


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("1h30", 90),
        ("1.5h", 90),
        ("90m", 90),
        ("1:30", 90),
        ("1h 30m", 90),
        ("1,5", 90),
        ("2h", 120),
        ("0:05", 5),
        ("3 hours", 180),
        ("45 min", 45),
    ],
)
def test_durations_as_people_write_them(text, minutes):
    assert parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("bad", ["", "abc", "0", "1:75", "h", "-1h", "1h30m15"])
def test_durations_that_make_no_sense(bad):
    with pytest.raises(TimeInputError):
        parse_duration(bad)


def test_formatting_and_weeks():
    assert format_duration(5430) == "1:30"
    assert week_start(date(2026, 11, 25)) == date(2026, 11, 23)
