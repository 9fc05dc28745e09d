"""The invoices API edits drafts line by line, credits some lines, and sends documents."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail

from punchclock.invoicing import services
from punchclock.invoicing.models import EventKind, Invoice, InvoiceLine
from tests.api.helpers import Api, assert_error, token_for
from tests.invoicing.conftest import NOVEMBER, at, free_draft, track


@pytest.fixture
def owner(billing) -> Api:
    return Api(token_for(billing.owner))


def test_a_draft_is_edited_line_by_line_and_then_deleted(owner, billing):
    track(billing.member, billing.project, at(2), 90)
    draft = owner.post(
        "/invoices/drafts",
        {
            "client": "globex",
            "period_start": NOVEMBER[0].isoformat(),
            "period_end": NOVEMBER[1].isoformat(),
        },
    ).json()
    added = owner.post(
        f"/invoices/{draft['id']}/lines",
        {"description": "Hosting", "quantity": "1", "unit_price": "40.00", "unit": "C62"},
    )
    assert added.status_code == 201, added.content
    body = added.json()
    assert [line["description"] for line in body["lines"]] == ["API", "Hosting"]
    assert body["net_total"] == "190.00"
    hosting = body["lines"][1]
    changed = owner.patch(
        f"/invoices/lines/{hosting['id']}", {"unit_price": "45.50", "discount_percent": "10"}
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["lines"][1]["net_amount"] == "40.95"
    patched = owner.patch(
        f"/invoices/{draft['id']}",
        {"message": "Thank you!", "time_appendix": True, "discount_percent": "5"},
    )
    assert patched.status_code == 200, patched.content
    assert (patched.json()["message"], patched.json()["time_appendix"]) == ("Thank you!", True)
    assert patched.json()["discount_percent"] == "5"
    assert owner.delete(f"/invoices/lines/{hosting['id']}").status_code == 204
    assert owner.delete(f"/invoices/{draft['id']}").status_code == 204
    assert not Invoice.objects.exists()
    # The time is unbilled again: a new draft takes it.
    assert services.unbilled_entries(billing.client, start=at(1, 0), end=at(30, 23)).count() == 1


def test_bad_edits_are_refused_and_change_nothing(owner, billing):
    draft = free_draft(billing, ("Design", "2", "100"))
    line = draft.lines.get()
    assert_error(owner.patch(f"/invoices/lines/{line.pk}", {"quantity": None}), 422)
    assert_error(owner.patch(f"/invoices/lines/{line.pk}", {"tax_rate": "120"}), 422)
    assert_error(owner.patch(f"/invoices/{draft.pk}", {"discount_percent": "101"}), 422)
    assert_error(owner.post(f"/invoices/{draft.pk}/lines", {"description": ""}), 422)
    issued = services.issue_invoice(draft, by=billing.owner)
    assert_error(owner.patch(f"/invoices/lines/{line.pk}", {"quantity": "3"}), 422)
    assert_error(owner.patch(f"/invoices/{issued.pk}", {"message": "late"}), 422)
    assert_error(owner.delete(f"/invoices/{issued.pk}"), 422)
    line.refresh_from_db()
    assert line.quantity == 2
    issued.refresh_from_db()
    assert issued.message == ""


def test_some_lines_are_credited_on_a_chosen_date(owner, billing):
    invoice = services.issue_invoice(
        free_draft(billing, ("Design", "2", "100"), ("Hosting", "1", "40")),
        by=billing.owner,
        issue_date=date(2026, 11, 10),
    )
    hosting = invoice.lines.get(description="Hosting")
    response = owner.post(
        f"/invoices/{invoice.pk}/credit", {"line_ids": [hosting.pk], "issue_date": "2026-11-12"}
    )
    assert response.status_code == 201, response.content
    note = response.json()
    assert (note["issue_date"], note["gross_total"]) == ("2026-11-12", "-47.60")
    assert [line["description"] for line in note["lines"]] == ["Hosting"]
    again = owner.post(f"/invoices/{invoice.pk}/credit", {"line_ids": [hosting.pk]})
    assert_error(again, 422)
    other = free_draft(billing, ("Other", "1", "1"))
    foreign = owner.post(f"/invoices/{invoice.pk}/credit", {"line_ids": [other.lines.get().pk]})
    assert_error(foreign, 422, "line_ids")
    assert Invoice.objects.filter(kind="credit_note").count() == 1


def test_send_uses_the_defaults_and_records_the_event(owner, billing):
    billing.client.email = "billing@globex.test"
    billing.client.save()
    invoice = services.issue_invoice(free_draft(billing, ("Design", "2", "100")), by=billing.owner)
    response = owner.post(f"/invoices/{invoice.pk}/send", {"cc": ["pm@globex.test"]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["kind"] == "sent"
    assert body["detail"]["to"] == ["billing@globex.test"]
    assert body["detail"]["cc"] == ["pm@globex.test"]
    assert mail.outbox[0].attachments[0].filename == f"{invoice.number}.pdf"
    detail = owner.get(f"/invoices/{invoice.pk}").json()
    assert detail["sent_at"] is not None
    assert [e["kind"] for e in detail["events"]][-1] == "sent"


def test_send_refuses_drafts_and_bad_addresses(owner, billing):
    draft = free_draft(billing, ("Design", "2", "100"))
    assert_error(owner.post(f"/invoices/{draft.pk}/send", {"to": ["a@b.test"]}), 422)
    invoice = services.issue_invoice(draft, by=billing.owner)
    assert_error(owner.post(f"/invoices/{invoice.pk}/send", {}), 422, "to")
    assert_error(owner.post(f"/invoices/{invoice.pk}/send", {"to": ["nope"]}), 422, "to")
    assert mail.outbox == []
    assert not invoice.events.filter(kind=EventKind.SENT).exists()


def test_members_and_outsiders_cannot_edit_or_send(billing, outsider):
    draft = free_draft(billing, ("Design", "2", "100"))
    line = draft.lines.get()
    member = Api(token_for(billing.member))
    assert_error(member.patch(f"/invoices/lines/{line.pk}", {"quantity": "9"}), 403)
    stranger = Api(token_for(outsider))
    assert_error(stranger.patch(f"/invoices/lines/{line.pk}", {"quantity": "9"}), 404)
    assert_error(stranger.post(f"/invoices/{draft.pk}/send", {}), 404)
    assert InvoiceLine.objects.get(pk=line.pk).quantity == 2


def test_surcharges_on_a_line_and_on_the_draft(owner, billing):
    draft = free_draft(billing, ("Design", "2", "100"))
    added = owner.post(
        f"/invoices/{draft.pk}/lines",
        {
            "description": "Weekend release",
            "quantity": "4",
            "unit_price": "100",
            "unit": "HUR",
            "surcharge_percent": "50",
        },
    )
    assert added.status_code == 201, added.content
    assert added.json()["lines"][1]["net_amount"] == "600.00"
    assert added.json()["lines"][1]["surcharge_percent"] == "50"
    # A surcharge without saying what it is for is refused, and nothing changes.
    assert_error(owner.patch(f"/invoices/{draft.pk}", {"surcharge_percent": "10"}), 422)
    assert_error(owner.patch(f"/invoices/{draft.pk}", {"surcharge_percent": "1001"}), 422)
    draft.refresh_from_db()
    assert (draft.surcharge_percent, draft.net_total) == (0, Decimal("800.00"))
    patched = owner.patch(
        f"/invoices/{draft.pk}", {"surcharge_percent": "10", "surcharge_reason": "Rush delivery"}
    )
    assert patched.status_code == 200, patched.content
    body = patched.json()
    assert (body["surcharge_percent"], body["surcharge_reason"]) == ("10", "Rush delivery")
    assert body["net_total"] == "880.00"
