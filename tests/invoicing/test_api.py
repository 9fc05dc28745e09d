"""The invoices API: drafts from unbilled work, issuing, credit notes, PDFs and the chain."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from punchclock.invoicing import services
from punchclock.invoicing.models import Invoice, InvoiceDocument
from tests.api.helpers import Api, assert_error, token_for
from tests.invoicing.conftest import NOVEMBER, at, free_draft, track, triggers_disabled

PERIOD = {"period_start": NOVEMBER[0].isoformat(), "period_end": NOVEMBER[1].isoformat()}


@pytest.fixture
def owner(billing) -> Api:
    return Api(token_for(billing.owner))


@pytest.fixture
def worked(billing):
    track(billing.member, billing.project, at(2), 90, description="API work")
    track(billing.member, billing.other_project, at(3), 60)
    return billing


def _draft(owner: Api, **fields) -> dict:
    response = owner.post("/invoices/drafts", {"client": "globex", **PERIOD, **fields})
    assert response.status_code == 201, response.content
    return response.json()


def test_a_draft_from_unbilled_work_has_lines_and_totals_as_strings(owner, worked):
    body = _draft(owner)
    assert (body["status"], body["kind"], body["number"]) == ("draft", "invoice", None)
    assert body["client"] == "Globex"
    assert body["period_start"] == "2026-11-01"
    assert len(body["lines"]) == 2
    # 1.5 h at 100 and 1 h at 80, net 230.00 EUR plus 19 % VAT.
    assert body["net_total"] == "230.00"
    assert body["tax_total"] == "43.70"
    assert body["gross_total"] == "273.70"
    assert {line["quantity"] for line in body["lines"]} == {"1.5", "1"}
    assert all(isinstance(line["net_amount"], str) for line in body["lines"])
    assert owner.get(f"/invoices/{body['id']}").json() == body


def test_a_draft_by_client_id_and_project_grouped_by_entry(owner, worked):
    response = owner.post(
        "/invoices/drafts",
        {
            "client_id": worked.client.pk,
            "project_id": worked.project.pk,
            "group_by": "entry",
            **PERIOD,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [line["description"] for line in body["lines"]] == ["2026-11-02 API: API work"]


def test_drafts_refuse_bad_input_with_the_field(owner, worked, outsider):
    nothing = owner.post(
        "/invoices/drafts",
        {"client": "globex", "period_start": "2026-01-01", "period_end": "2026-01-31"},
    )
    assert_error(nothing, 422)
    assert "no unbilled work" in nothing.json()["detail"]
    assert_error(owner.post("/invoices/drafts", {"client": "nope", **PERIOD}), 422, "client")
    assert_error(owner.post("/invoices/drafts", PERIOD), 422, "client")
    grouped = owner.post("/invoices/drafts", {"client": "globex", **PERIOD, "group_by": "week"})
    assert_error(grouped, 422, "group_by")
    backwards = {"period_start": "2026-11-30", "period_end": "2026-11-01"}
    assert_error(owner.post("/invoices/drafts", {"client": "globex", **backwards}), 422)
    assert not Invoice.objects.exists()


def test_issue_then_list_filter_pdf_and_credit(owner, worked):
    draft = _draft(owner)
    preview = owner.get(f"/invoices/{draft['id']}/pdf")
    assert preview.status_code == 200
    assert preview["Content-Type"] == "application/pdf"
    assert preview.content.startswith(b"%PDF-")

    # Issued today, so that the credit note (also today) does not go back in time.
    issued = owner.post(f"/invoices/{draft['id']}/issue", {})
    assert issued.status_code == 200, issued.content
    body = issued.json()
    assert (body["status"], body["number"]) == ("issued", f"{body['issue_date'][:4]}-0001")
    assert body["gross_total"] == "273.70"
    assert len(body["sha256"]) == 64
    again = owner.post(f"/invoices/{draft['id']}/issue", {})
    assert_error(again, 422)

    pdf = owner.get(f"/invoices/{draft['id']}/pdf")
    stored = InvoiceDocument.objects.get(invoice_id=draft["id"])
    assert pdf.content == bytes(stored.content)
    assert f"{body['number']}.pdf" in pdf["Content-Disposition"]

    credited = owner.post(f"/invoices/{draft['id']}/credit")
    assert credited.status_code == 201, credited.content
    note = credited.json()
    assert (note["kind"], note["credits_id"], note["gross_total"]) == (
        "credit_note",
        draft["id"],
        "-273.70",
    )
    assert_error(owner.post(f"/invoices/{draft['id']}/credit"), 422)
    assert_error(owner.post(f"/invoices/{note['id']}/credit"), 422)

    listed = owner.get("/invoices").json()
    assert listed["count"] == 2
    assert all(isinstance(i["gross_total"], str) for i in listed["items"])
    notes = owner.get("/invoices", {"kind": "credit_note"}).json()
    assert [i["id"] for i in notes["items"]] == [note["id"]]
    assert owner.get("/invoices", {"status": "draft"}).json()["count"] == 0
    by_client = owner.get("/invoices", {"client_id": worked.client.pk, "limit": 1}).json()
    assert (by_client["count"], len(by_client["items"])) == (2, 1)

    # The credit released the work: it can be drafted again.
    assert _draft(owner)["gross_total"] == "273.70"


def test_an_empty_draft_cannot_be_issued(owner, billing):
    empty = services.start_draft(billing.client, by=billing.owner)
    assert_error(owner.post(f"/invoices/{empty.pk}/issue", {}), 422)
    assert_error(owner.post(f"/invoices/{empty.pk}/credit"), 422)


def test_verify_reports_an_intact_chain_and_the_first_break(owner, billing):
    assert owner.get("/invoices/verify").json() == {"intact": True, "documents": 0, "break": None}
    for n in (1, 2):
        draft = free_draft(billing, (f"Item {n}", "1", "100"))
        services.issue_invoice(draft, by=billing.owner, issue_date=date(2026, 11, 30))
    assert owner.get("/invoices/verify").json() == {"intact": True, "documents": 2, "break": None}
    first = Invoice.objects.get(chain_position=1)
    with triggers_disabled(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE invoicing_invoiceline SET unit_price = 1 WHERE invoice_id = %s", [first.pk]
        )
    body = owner.get("/invoices/verify").json()
    assert (body["intact"], body["documents"]) == (False, 2)
    assert body["break"] == {
        "position": 1,
        "invoice_id": first.pk,
        "number": first.number,
        "reason": "content was altered",
    }


@pytest.mark.parametrize("who", ["member", "manager"])
def test_members_and_managers_get_403_everywhere(billing, who):
    draft = free_draft(billing, ("Item", "1", "100"))
    api = Api(token_for(getattr(billing, who)))
    for path in (
        "/invoices",
        f"/invoices/{draft.pk}",
        f"/invoices/{draft.pk}/pdf",
        "/invoices/verify",
    ):
        assert_error(api.get(path), 403)
    assert_error(api.post("/invoices/drafts", {"client": "globex", **PERIOD}), 403)
    assert_error(api.post(f"/invoices/{draft.pk}/issue", {}), 403)
    assert_error(api.post(f"/invoices/{draft.pk}/credit"), 403)
    assert Invoice.objects.get().is_draft


def test_another_organizations_invoice_is_404(billing, outsider):
    draft = free_draft(billing, ("Item", "1", "100"))
    api = Api(token_for(outsider))
    assert_error(api.get(f"/invoices/{draft.pk}"), 404)
    assert_error(api.get(f"/invoices/{draft.pk}/pdf"), 404)
    assert_error(api.post(f"/invoices/{draft.pk}/issue", {}), 404)
    assert api.get("/invoices").json() == {"items": [], "count": 0}
    refused = api.post("/invoices/drafts", {"client_id": billing.client.pk, **PERIOD})
    assert_error(refused, 422, "client_id")


def test_read_tokens_cannot_issue(billing):
    draft = free_draft(billing, ("Item", "1", "100"))
    reader = Api(token_for(billing.owner, scope="read"))
    assert reader.get(f"/invoices/{draft.pk}").status_code == 200
    assert_error(reader.post(f"/invoices/{draft.pk}/issue", {}), 403)
    assert Invoice.objects.get().is_draft
