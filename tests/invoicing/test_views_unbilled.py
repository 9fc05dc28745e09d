"""The unbilled page: work per client and a draft made from it."""

from __future__ import annotations

from punchclock.invoicing.models import Invoice
from tests.invoicing.conftest import approved_expense, at, track

PERIOD = "?start=2026-11-01&end=2026-11-30"


def test_owner_sees_unbilled_time_and_expenses_per_client(billing, as_owner):
    track(billing.member, billing.project, at(3), 90)
    approved_expense(billing.owner, "42")
    page = as_owner.get("/invoices/unbilled/" + PERIOD)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Globex" in html
    assert "1.50 h" in html
    assert "150.00" in html
    assert "42.00" in html


def test_owner_creates_a_draft_from_unbilled_work(billing, as_owner):
    track(billing.member, billing.project, at(3), 60)
    response = as_owner.post(
        "/invoices/unbilled/" + PERIOD,
        {
            "client": billing.client.pk,
            "period_start": "2026-11-01",
            "period_end": "2026-11-30",
            "group_by": "task",
        },
    )
    invoice = Invoice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/invoices/{invoice.pk}/"
    assert invoice.lines.count() == 1


def test_a_period_without_work_shows_the_services_message(billing, as_owner):
    response = as_owner.post(
        "/invoices/unbilled/" + PERIOD,
        {
            "client": billing.client.pk,
            "period_start": "2026-10-01",
            "period_end": "2026-10-31",
            "group_by": "project",
        },
    )
    assert response.status_code == 400
    assert "has no unbilled work" in response.content.decode()
    assert not Invoice.objects.exists()


def test_garbage_posts_are_refused_without_500(billing, as_owner):
    for data in ({}, {"client": "x", "period_start": "soon"}, {"client": 10**20, "group_by": "z"}):
        assert as_owner.post("/invoices/unbilled/", data).status_code == 400
    assert not Invoice.objects.exists()


def test_members_and_managers_get_403(agency):
    from tests.conftest import login

    for membership in (agency.member, agency.manager):
        assert login(membership).get("/invoices/unbilled/").status_code == 403
