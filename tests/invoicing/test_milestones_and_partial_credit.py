"""Fixed fees billed in milestone shares, never above 100 %; partial credit notes from the page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from punchclock.invoicing import services
from punchclock.invoicing.models import BilledFixedFee, Invoice
from punchclock.projects.models import BillingMethod
from tests.conftest import login
from tests.factories import make_project
from tests.invoicing.conftest import NOVEMBER, at, free_draft, track


@pytest.fixture
def fixed(billing):
    return make_project(
        billing.client,
        "Relaunch",
        billing_method=BillingMethod.FIXED_FEE,
        fixed_fee=Decimal("12000.00"),
    )


def _draft(agency, project, fee_percent=None):
    return services.create_draft(
        agency.client,
        by=agency.owner,
        period_start=NOVEMBER[0],
        period_end=NOVEMBER[1],
        project=project,
        fee_percent=fee_percent,
    )


def test_milestones_bill_shares_of_the_fee_and_the_rest_once(billing, fixed):
    first = _draft(billing, fixed, Decimal(30))
    line = first.lines.get()
    assert line.description == "Relaunch (fixed fee, 30 %)"
    assert (line.quantity, line.unit_price, line.net_amount) == (
        Decimal("0.3000"),
        Decimal("12000.0000"),
        Decimal("3600.0000"),
    )
    services.issue_invoice(first, by=billing.owner, issue_date=date(2026, 11, 10))
    second = _draft(billing, fixed, Decimal("45.5"))
    assert second.lines.get().net_amount == Decimal("5460.0000")
    with pytest.raises(ValidationError, match=r"Only 24\.5 % of the fee of Relaunch is left"):
        _draft(billing, fixed, Decimal(25))
    rest = _draft(billing, fixed)
    assert rest.lines.get().description == "Relaunch (fixed fee, 24.5 %)"
    assert services.fee_share_billed(fixed) == Decimal(100)
    with pytest.raises(ValidationError, match="no unbilled work"):
        _draft(billing, fixed)
    total = sum(f.line.net_amount for f in BilledFixedFee.objects.filter(project=fixed))
    assert total == Decimal("12000.00")


def test_deleting_a_draft_or_a_full_credit_releases_its_share(billing, fixed):
    draft = _draft(billing, fixed, Decimal(50))
    services.delete_draft(draft, by=billing.owner)
    assert services.fee_share_billed(fixed) == 0
    issued = services.issue_invoice(_draft(billing, fixed, Decimal(50)), by=billing.owner)
    assert services.fee_share_billed(fixed) == 50
    services.credit_invoice(issued, by=billing.owner)
    assert services.fee_share_billed(fixed) == 0


@pytest.mark.parametrize(
    ("percent", "project", "message"),
    [
        (Decimal(0), "fixed", "more than 0"),
        (Decimal("100.5"), "fixed", "at most 100"),
        (Decimal(10), "hourly", "needs a fixed-fee project"),
        (Decimal(10), None, "needs a fixed-fee project"),
    ],
)
def test_bad_shares_are_refused_and_write_nothing(billing, fixed, percent, project, message):
    chosen = {"fixed": fixed, "hourly": billing.project, None: None}[project]
    with pytest.raises(ValidationError, match=message):
        _draft(billing, chosen, percent)
    assert not Invoice.objects.exists()


def test_the_unbilled_page_creates_a_milestone_draft(billing, fixed):
    track(billing.member, fixed, at(4), 60)
    response = login(billing.owner).post(
        reverse("invoicing:unbilled") + "?start=2026-11-01&end=2026-11-30",
        {
            "client": billing.client.pk,
            "period_start": "2026-11-01",
            "period_end": "2026-11-30",
            "project": fixed.pk,
            "group_by": "project",
            "fee_percent": "25",
        },
    )
    assert response.status_code == 302
    draft = Invoice.objects.get()
    assert [line.description for line in draft.lines.all()] == ["Relaunch (fixed fee, 25 %)"]


def test_the_page_issues_a_partial_credit_note_on_a_chosen_date(billing):
    invoice = services.issue_invoice(
        free_draft(billing, ("Design", "2", "100"), ("Hosting", "1", "40")),
        by=billing.owner,
        issue_date=date(2026, 11, 10),
    )
    design, hosting = invoice.lines.order_by("position")
    http = login(billing.owner)
    page = http.get(reverse("invoicing:detail", args=[invoice.pk])).content.decode()
    assert "Issue credit note" in page
    response = http.post(
        reverse("invoicing:credit", args=[invoice.pk]),
        {"lines": [str(hosting.pk)], "issue_date": "2026-11-15"},
    )
    assert response.status_code == 302
    note = Invoice.objects.get(kind="credit_note")
    assert note.issue_date == date(2026, 11, 15)
    assert [(n.description, n.quantity) for n in note.lines.all()] == [
        ("Hosting", Decimal("-1.0000"))
    ]
    assert note.gross_total == Decimal("-47.6000")
    # Only the design line is left to credit; the hosting line cannot be credited twice.
    again = http.post(reverse("invoicing:credit", args=[invoice.pk]), {"lines": [str(hosting.pk)]})
    assert again.status_code == 400
    assert Invoice.objects.filter(kind="credit_note").count() == 1
    backwards = http.post(
        reverse("invoicing:credit", args=[invoice.pk]),
        {"lines": [str(design.pk)], "issue_date": "2026-11-01"},
    )
    assert backwards.status_code == 400
    assert "cannot go backwards" in backwards.content.decode()
    assert services.verify_chain(billing.organization) is None
