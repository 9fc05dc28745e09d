"""Time summaries: hours and billable amounts per client, project, task and person."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from punchclock.core.money import round_money
from punchclock.projects.services import resolve_rates
from punchclock.tracking import services
from punchclock.tracking.reports import time_summary, totals
from tests.factories import make_rate, make_task

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_now(monkeypatch):
    monkeypatch.setattr(services, "now", lambda: NOW)


def add(agency, who, start, minutes, **kw):
    return services.add_entry(
        who,
        by=who,
        project=kw.pop("project", agency.project),
        start=start,
        end=start + timedelta(minutes=minutes),
        **kw,
    )


def test_a_rate_change_mid_month_prices_each_side_with_its_rate(agency):
    org = agency.organization
    make_rate(org, "100", project=agency.project, effective_from=date(2026, 1, 1))
    make_rate(org, "120", project=agency.project, effective_from=date(2026, 11, 16))
    add(agency, agency.member, datetime(2026, 11, 10, 9, tzinfo=UTC), 90)  # 1.5 h at 100
    add(agency, agency.member, datetime(2026, 11, 17, 9, tzinfo=UTC), 45)  # 0.75 h at 120
    add(agency, agency.member, datetime(2026, 11, 18, 9, tzinfo=UTC), 60, billable=False)
    rows = time_summary(
        agency.owner,
        start=datetime(2026, 11, 1, tzinfo=UTC),
        end=datetime(2026, 12, 1, tzinfo=UTC),
        by="project",
    )
    assert len(rows) == 1
    row = rows[0]
    assert row.seconds == (90 + 45 + 60) * 60
    assert row.billable_seconds == (90 + 45) * 60
    assert row.amounts == {"EUR": Decimal("240.00")}


def test_groupings_and_totals_agree(agency):
    make_rate(agency.organization, "80", project=agency.project)
    review = make_task(agency.project, "Review")
    add(agency, agency.member, datetime(2026, 11, 3, 8, tzinfo=UTC), 60, task=agency.task)
    add(agency, agency.manager, datetime(2026, 11, 3, 8, tzinfo=UTC), 30, task=review)
    add(
        agency, agency.admin, datetime(2026, 11, 4, 8, tzinfo=UTC), 20, project=agency.other_project
    )
    window = {"start": datetime(2026, 11, 1, tzinfo=UTC), "end": datetime(2026, 12, 1, tzinfo=UTC)}
    by_task = time_summary(agency.owner, by="task", **window)
    by_person = time_summary(agency.owner, by="person", **window)
    by_client = time_summary(agency.owner, by="client", **window)
    assert {r.label for r in by_person} == {"Max Member", "Mia Manager", "Adam Admin"}
    assert len(by_task) == 3
    assert totals(by_task).seconds == totals(by_person).seconds == totals(by_client).seconds
    assert totals(by_task).amounts == totals(by_client).amounts == {"EUR": Decimal("120.00")}


def test_members_only_see_their_own_time_in_reports(agency):
    add(agency, agency.member, datetime(2026, 11, 3, 8, tzinfo=UTC), 60)
    add(
        agency, agency.admin, datetime(2026, 11, 3, 8, tzinfo=UTC), 60, project=agency.other_project
    )
    rows = time_summary(agency.member, start=None, end=None, by="person")
    assert [r.label for r in rows] == ["Max Member"]


def test_amounts_equal_pricing_each_group_with_the_rate_resolver(agency):
    org = agency.organization
    make_rate(org, "90", membership=agency.member, effective_from=date(2026, 1, 1))
    make_rate(
        org,
        "97.5",
        project=agency.project,
        membership=agency.member,
        effective_from=date(2026, 11, 12),
    )
    make_rate(org, "110", task=agency.task, effective_from=date(2026, 11, 20))
    start = datetime(2026, 11, 2, 7, 13, tzinfo=UTC)
    entries = []
    for i in range(40):
        entries.append(
            add(
                agency,
                agency.member,
                start + timedelta(hours=11 * i),
                7 + 13 * i % 97,
                task=agency.task if i % 3 == 0 else None,
            )
        )
    # Oracle: price each entry at its own instant, sum exactly per (task, rate), round once.
    exact: dict[tuple, Decimal] = defaultdict(Decimal)
    for e in entries:
        quote = resolve_rates(membership=e.membership, project=e.project, task=e.task, at=e.start)
        exact[(e.task_id, quote.bill.amount)] += quote.bill.amount * e.duration_seconds / 3600
    expected = sum(round_money(v, "EUR") for v in exact.values())
    rows = time_summary(agency.owner, start=None, end=None, by="project")
    assert rows[0].amounts["EUR"] == expected
    assert rows[0].seconds == sum(e.duration_seconds for e in entries)


def test_the_summary_is_a_fixed_number_of_queries(agency, django_assert_max_num_queries):
    make_rate(agency.organization, "80", project=agency.project)
    for i in range(30):
        add(agency, agency.member, datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=5 * i), 30)
    with django_assert_max_num_queries(8):
        time_summary(agency.owner, start=None, end=None, by="task")
