"""Recurring invoice pages: list, form with lines and price changes, detail, run, delete."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from punchclock.automation import recurring as service
from punchclock.automation.models import (
    Action,
    RecurringInvoice,
    RecurringPrice,
    RecurringRun,
    RunStatus,
)
from punchclock.automation.recurring import LineSpec
from punchclock.invoicing.models import Invoice
from tests.conftest import login


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    """The pages live on 20 November 2026."""
    monkeypatch.setattr(service, "now", lambda: datetime(2026, 11, 20, 12, tzinfo=UTC))


def hosting(agency, **fields) -> RecurringInvoice:
    fields.setdefault("name", "Hosting")
    fields.setdefault("frequency", "monthly")
    fields.setdefault("starts_on", date(2026, 10, 1))
    fields.setdefault("action", Action.ISSUE)
    lines = fields.pop(
        "lines",
        [
            LineSpec(
                "Hosting {month} {year}",
                Decimal(1),
                Decimal(49),
                prices=((date(2027, 1, 1), Decimal(59)),),
            )
        ],
    )
    return service.save_recurring(agency.owner, client=agency.client, lines=lines, **fields)


def form_data(agency, **changes) -> dict[str, object]:
    data = {
        "client": agency.client.pk,
        "name": "Hosting",
        "frequency": "monthly",
        "interval_months": "1",
        "day_of_month": "1",
        "billing": "advance",
        "starts_on": "2026-12-01",
        "ends_on": "",
        "cycles": "",
        "note": "Period {period_start} – {period_end}",
        "action": "issue",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-0-description": "Hosting {month} {year}",
        "lines-0-quantity": "1",
        "lines-0-unit": "C62",
        "lines-0-unit_price": "49.00",
        "lines-0-tax_rate": "",
        "lines-0-prices": "2027-01-01 59.00",
        "lines-1-description": "",
        "lines-1-quantity": "1",
        "lines-1-unit": "C62",
        "lines-1-unit_price": "",
        "lines-1-prices": "",
    }
    data.update(changes)
    return data


def test_the_list_shows_the_next_run_and_its_preview(billing, as_owner):
    recurring = hosting(billing)
    service.run_due(today=date(2026, 11, 1))
    html = as_owner.get("/recurring/").content.decode()
    assert "Recurring invoices" in html
    assert "Monthly on the 1st, in advance" in html
    assert "on 1 Dec: Hosting December 2026 — 49.00 EUR + VAT" in html
    assert f'href="/recurring/{recurring.pk}/"' in html
    assert html.count("badge-ok") == 2  # October and November issued
    fragment = as_owner.get(
        "/recurring/", {"client": billing.client.pk}, headers={"HX-Request": "true"}
    )
    assert fragment.content.decode().lstrip().startswith('<div id="recurring-results"')


def test_the_navigation_links_recurring_next_to_schedules(billing, as_owner, as_member):
    html = as_owner.get("/schedules/").content.decode()
    assert html.index(">Schedules<") < html.index(">Recurring<")
    assert ">Recurring<" not in as_member.get("/time/").content.decode()


def test_create_with_lines_and_a_price_change(billing, as_owner):
    response = as_owner.post("/recurring/new/", form_data(billing))
    recurring = RecurringInvoice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/recurring/{recurring.pk}/"
    (line,) = recurring.lines.all()
    assert (line.description, line.unit_price) == ("Hosting {month} {year}", Decimal(49))
    assert [(p.effective_from, p.unit_price) for p in line.prices.all()] == [
        (date(2027, 1, 1), Decimal(59))
    ]
    assert recurring.run_as == billing.owner


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"lines-0-description": "Hosting {monat}"}, "“{monat}” is not a placeholder"),
        ({"note": "{month"}, "Unbalanced braces"),
        ({"lines-0-prices": "next year 59"}, "YYYY-MM-DD price"),
        ({"lines-0-unit_price": ""}, "Give the unit price."),
        ({"starts_on": "2026-12-02"}, "1 Jan 2027 is the next one"),
        (
            {"lines-0-description": "", "lines-0-unit_price": "", "lines-0-prices": ""},
            "Add at least one line.",
        ),
    ],
)
def test_bad_input_shows_the_error_and_saves_nothing(billing, as_owner, changes, words):
    response = as_owner.post("/recurring/new/", form_data(billing, **changes))
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not RecurringInvoice.objects.exists()
    assert not RecurringPrice.objects.exists()


def test_add_a_line_shows_one_more_row_and_saves_nothing(billing, as_owner):
    response = as_owner.post("/recurring/new/", {**form_data(billing), "add_line": "1"})
    assert response.status_code == 200
    assert 'name="lines-2-description"' in response.content.decode()
    assert not RecurringInvoice.objects.exists()


def test_edit_replaces_the_lines(billing, as_owner):
    recurring = hosting(billing)
    page = as_owner.get(f"/recurring/{recurring.pk}/edit/").content.decode()
    assert "2027-01-01 59" in page
    data = form_data(
        billing,
        **{
            "starts_on": "2026-10-01",
            "lines-0-description": "Managed hosting {month}",
            "lines-0-prices": "",
            "lines-1-description": "Support",
            "lines-1-unit_price": "20",
        },
    )
    response = as_owner.post(f"/recurring/{recurring.pk}/edit/", data)
    assert response.status_code == 302
    assert [line.description for line in recurring.lines.all()] == [
        "Managed hosting {month}",
        "Support",
    ]
    assert not RecurringPrice.objects.exists()


def test_the_detail_shows_lines_preview_dry_run_and_runs(billing, as_owner):
    recurring = hosting(billing)
    html = as_owner.get(f"/recurring/{recurring.pk}/").content.decode()
    assert "Hosting {month} {year}" in html
    assert "from 1 Jan 2027" in html
    assert "Hosting December 2026" in html  # the next run's line, resolved
    # October and November are due: the dry run lists them and writes nothing.
    assert "1 Oct – 31 Oct 2026" in html
    assert "1 Nov – 30 Nov 2026" in html
    assert "Hosting October 2026 — €58.31" in html
    assert not RecurringRun.objects.exists()
    response = as_owner.post(f"/recurring/{recurring.pk}/run/", follow=True)
    text = response.content.decode()
    assert "issued, invoice" in text
    assert RecurringRun.objects.filter(status=RunStatus.ISSUED).count() == 2
    invoice = Invoice.objects.order_by("pk").first()
    assert f'href="/invoices/{invoice.pk}/"' in text
    again = as_owner.post(f"/recurring/{recurring.pk}/run/", follow=True)
    assert "Nothing was due" in again.content.decode()
    assert Invoice.objects.count() == 2


def test_pause_resume_and_delete_keeping_invoices(billing, as_owner):
    recurring = hosting(billing)
    as_owner.post(f"/recurring/{recurring.pk}/pause/")
    recurring.refresh_from_db()
    assert not recurring.is_active
    paused = as_owner.post(f"/recurring/{recurring.pk}/run/", follow=True)
    assert "paused: resume it" in paused.content.decode()
    as_owner.post(f"/recurring/{recurring.pk}/resume/")
    as_owner.post(f"/recurring/{recurring.pk}/run/")
    confirm = as_owner.get(f"/recurring/{recurring.pk}/delete/").content.decode()
    assert "It has run 2 times" in confirm
    response = as_owner.post(f"/recurring/{recurring.pk}/delete/")
    assert response.status_code == 302
    assert Invoice.objects.count() == 2
    assert RecurringRun.objects.count() == 2
    assert as_owner.get(f"/recurring/{recurring.pk}/").status_code == 404
    assert f"/recurring/{recurring.pk}/" not in as_owner.get("/recurring/").content.decode()


@pytest.mark.parametrize("role", ["manager", "member"])
def test_people_who_do_not_bill_get_403(billing, role):
    recurring = hosting(billing)
    http = login(getattr(billing, role))
    assert http.get("/recurring/").status_code == 403
    assert http.get(f"/recurring/{recurring.pk}/").status_code == 403
    assert http.post(f"/recurring/{recurring.pk}/run/").status_code == 403
    assert http.post("/recurring/new/", form_data(billing)).status_code == 403
    assert not RecurringRun.objects.exists()
    assert RecurringInvoice.objects.count() == 1


def test_an_outsider_gets_404(billing, as_outsider):
    recurring = hosting(billing)
    assert as_outsider.get(f"/recurring/{recurring.pk}/").status_code == 404
    assert as_outsider.post(f"/recurring/{recurring.pk}/delete/").status_code == 404
    assert RecurringInvoice.objects.get().deleted_at is None
