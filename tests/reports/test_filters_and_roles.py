"""Filters narrow the report exactly as the entries say; roles limit entries and money."""

from __future__ import annotations

from datetime import date

import pytest

from punchclock.invoicing.services import create_draft, issue_invoice
from punchclock.reports.params import FieldError, parse_request
from punchclock.reports.query import TimeFilter
from punchclock.reports.timereport import time_report
from punchclock.tracking.models import Timesheet, TimesheetStatus
from tests.reports.conftest import ZONE
from tests.reports.test_totals_match_entries import cells_of, expected_cells


def _check(world, where: TimeFilter, keep, by=("project", "person"), viewer=None):
    report = time_report(viewer or world.agency.owner, where, by=by, zone=ZONE)
    assert cells_of(report) == expected_cells(world, by, where=keep)
    return report


def window(world, **kw) -> TimeFilter:
    return TimeFilter(start=world.start, end=world.end, **kw)


def test_client_project_task_person_and_billable_filters(world):
    a = world.agency
    _check(world, window(world, clients=(a.client.pk,)), lambda e: True)
    _check(
        world,
        window(world, projects=(a.other_project.pk,)),
        lambda e: e.project_id == a.other_project.pk,
    )
    _check(world, window(world, tasks=(a.task.pk,)), lambda e: e.task_id == a.task.pk)
    _check(world, window(world, people=(a.member.pk,)), lambda e: e.membership_id == a.member.pk)
    _check(world, window(world, billable=True), lambda e: e.billable)
    _check(world, window(world, billable=False), lambda e: not e.billable)
    nothing = time_report(a.owner, window(world, projects=(999999,)), by=("project",), zone=ZONE)
    assert nothing.groups == []
    assert nothing.total.seconds == 0


def test_tag_filter_keeps_entries_with_any_of_the_tags(world):
    bug = world.tags["bug"]
    report = _check(
        world,
        window(world, tags=(bug.pk,)),
        lambda e: any(t.pk == bug.pk for t in e.tags.all()),
        by=("tag",),
    )
    assert report.total.seconds > 0


def test_invoiced_filter_follows_issued_invoices_only(world):
    a = world.agency
    a.organization.vat_id = "DE811907980"  # issuing checks the e-invoice rules
    a.organization.save()
    draft = create_draft(
        a.client,
        by=a.owner,
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 15),
        project=a.project,
        tax_rate=None,
    )
    on_draft = set(draft.lines.values_list("billed_entries__entry_id", flat=True)) - {None}
    assert on_draft
    # A draft is not invoiced yet.
    _check(world, window(world, invoiced=True), lambda e: False)
    issue_invoice(draft, by=a.owner, issue_date=date(2026, 12, 1))
    _check(world, window(world, invoiced=True), lambda e: e.pk in on_draft)
    _check(world, window(world, invoiced=False), lambda e: e.pk not in on_draft)


def test_approved_filter_uses_the_organizations_days(world):
    a = world.agency
    Timesheet.objects.create(
        organization=a.organization,
        membership=a.member,
        period_start=date(2026, 10, 26),
        period_end=date(2026, 11, 1),
        status=TimesheetStatus.APPROVED,
        submitted_at=world.start,
    )
    Timesheet.objects.create(
        organization=a.organization,
        membership=a.manager,
        period_start=date(2026, 10, 26),
        period_end=date(2026, 11, 1),
        status=TimesheetStatus.SUBMITTED,
        submitted_at=world.start,
    )

    def approved(e) -> bool:
        from punchclock.core.timeutil import local_date

        day = local_date(e.start, ZONE)
        return e.membership_id == a.member.pk and date(2026, 10, 26) <= day <= date(2026, 11, 1)

    report = _check(world, window(world, approved=True), approved)
    assert report.total.seconds > 0
    _check(world, window(world, approved=False), lambda e: not approved(e))


def test_members_see_their_own_time_and_no_money(world):
    a = world.agency
    report = time_report(a.member, window(world), by=("person",), zone=ZONE)
    assert [g.key for g in report.groups] == [(a.member.pk,)]
    assert not report.shows_amounts
    assert not report.shows_cost
    assert report.total.amounts == {}
    assert report.total.cost == {}
    own = expected_cells(world, ("person",), where=lambda e: e.membership_id == a.member.pk)
    assert report.total.seconds == own[("total",)][0]


def test_managers_see_their_projects_priced_and_no_cost(world):
    a = world.agency  # the manager manages the API project, not the website
    report = time_report(a.manager, window(world), by=("project", "person"), zone=ZONE)
    visible = lambda e: e.membership_id == a.manager.pk or e.project_id == a.project.pk  # noqa: E731
    expected = expected_cells(world, ("project", "person"), where=visible)
    assert report.total.seconds == expected[("total",)][0]
    assert not report.shows_cost
    assert report.total.cost == {}
    for group in report.groups:
        if group.key == (a.project.pk,):
            assert group.figures.amounts == expected[((a.project.pk,),)][3]
        else:  # their own time elsewhere: hours yes, money of a project they do not manage no
            assert group.figures.amounts == {}


def test_admins_see_cost(world):
    report = time_report(world.agency.admin, window(world), by=("person",), zone=ZONE)
    assert report.shows_cost
    assert report.total.cost["EUR"] > 0


def test_outsiders_ids_match_nothing(world, outsider):
    a = world.agency
    report = time_report(
        outsider, window(world, projects=(a.project.pk,), people=(a.member.pk,)), by=("project",)
    )
    assert report.groups == []
    assert report.total.seconds == 0


def test_bad_filters_name_their_field(world):
    owner = world.agency.owner
    cases = {
        "by": {"by": "planet"},
        "period": {"period": "fortnight"},
        "from": {"period": "custom", "to": "2026-01-01"},
        "to": {"from": "2026-02-01", "to": "2026-01-01"},
        "project": {"project": "abc"},
        "billable": {"billable": "maybe"},
    }
    for field, source in [*cases.items(), ("by", {"by": "project,project"})]:
        with pytest.raises(FieldError) as caught:
            parse_request(owner, source, zone=ZONE)
        assert caught.value.field == field, source
