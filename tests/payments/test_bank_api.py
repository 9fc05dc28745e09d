"""The bank import API: multipart upload, statements with lines, confirm and ignore lines."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from punchclock.payments.models import BankLine, BankStatement, Payment
from tests.api.helpers import PREFIX, Api, assert_error, token_for
from tests.api.openapi_walk import document
from tests.payments.conftest import issued
from tests.payments.test_bank_samples import GERMAN_FIELDS, Entry, camt, german_csv

pytestmark = pytest.mark.usefixtures("frozen_today")


def upload(api: Api, data: bytes | None, name: str = "s.xml", **fields):
    body = dict(fields)
    if data is not None:
        body["file"] = SimpleUploadedFile(name, data)
    return api.http.post(PREFIX + "/bank/statements", body, **api.headers)


@pytest.fixture
def owner(billing) -> Api:
    return Api(token_for(billing.owner))


def test_a_camt_upload_answers_the_summary_and_the_lines_can_be_read(billing, owner):
    invoice = issued(billing)
    created = upload(owner, camt(Entry("119.00", f"RE {invoice.number}"), Entry("-2.00", "fee")))

    assert created.status_code == 201, created.content
    summary = created.json()
    assert {k: summary[k] for k in ("filename", "line_count", "new_lines", "duplicate_lines")} == {
        "filename": "s.xml",
        "line_count": 2,
        "new_lines": 2,
        "duplicate_lines": 0,
    }
    assert summary["uploaded_by"] == "Olivia Owner"
    detail = owner.get(f"/bank/statements/{summary['id']}").json()
    received, paid_out = detail["lines"]
    assert received["amount"] == "119.00"
    assert received["proposed_invoice_id"] == invoice.pk
    assert received["proposed_invoice_number"] == invoice.number
    assert (received["status"], received["payment_id"]) == ("open", None)
    assert paid_out["amount"] == "-2.00"
    listed = owner.get("/bank/statements").json()
    assert (listed["count"], listed["items"][0]["id"]) == (1, summary["id"])


def test_an_overlapping_upload_counts_new_and_duplicate_lines(billing, owner):
    upload(owner, camt(Entry("1.00", "a"), Entry("2.00", "b")))
    again = upload(owner, camt(Entry("2.00", "b"), Entry("3.00", "c")))
    assert (again.json()["new_lines"], again.json()["duplicate_lines"]) == (1, 1)

    same = upload(owner, camt(Entry("2.00", "b"), Entry("3.00", "c")))
    assert_error(same, 422)
    assert same.json()["detail"] == "file: All 2 lines were imported before; nothing was added."
    assert BankStatement.objects.count() == 2
    assert BankLine.objects.count() == 3


def test_a_csv_upload_takes_the_mapping_fields_then_remembers_them(billing, owner):
    first = german_csv(("17.11.2026", "1.190,00", "Globex", "a"))
    assert upload(owner, first, "a.csv", **GERMAN_FIELDS).status_code == 201
    # Without mapping fields, the last CSV import's mapping is used.
    second = german_csv(("18.11.2026", "20,00", "Globex", "b"))
    created = upload(owner, second, "b.csv")
    assert created.status_code == 201, created.content
    assert BankLine.objects.order_by("pk").last().amount == 20


@pytest.mark.parametrize(
    ("data", "fields", "message"),
    [
        (None, {}, "file: Send the statement as multipart/form-data field “file”."),
        (b"\x00\xff" * 10, {}, "is not a CAMT.053 XML statement"),
        (german_csv(), {"date_column": "Datum"}, "Choose an amount column"),
        (german_csv(), {**GERMAN_FIELDS, "amount_colum": "1"}, "amount_colum: Unknown field"),
        (german_csv(), {**GERMAN_FIELDS, "skip_rows": "-1"}, "skip_rows"),
    ],
    ids=["no file", "binary", "half a mapping", "unknown field", "negative skip"],
)
def test_bad_uploads_get_422_and_write_nothing(billing, owner, data, fields, message):
    response = upload(owner, data, "x.csv", **fields)
    assert_error(response, 422)
    assert message in response.json()["detail"]
    assert not BankStatement.objects.exists()


def test_confirming_a_line_answers_the_payment_and_only_once(billing, owner):
    invoice = issued(billing)
    statement = upload(owner, camt(Entry("119.00", "x", bank_id="TX9"))).json()
    line_id = owner.get(f"/bank/statements/{statement['id']}").json()["lines"][0]["id"]

    created = owner.post(f"/bank/lines/{line_id}/confirm", {"invoice_id": invoice.pk})
    assert created.status_code == 201, created.content
    payment = created.json()
    assert (payment["amount"], payment["reference"], payment["bank_line_id"]) == (
        "119.00",
        "TX9",
        line_id,
    )
    assert payment["allocations"][0]["invoice_id"] == invoice.pk

    again = owner.post(f"/bank/lines/{line_id}/confirm", {"invoice_id": invoice.pk})
    assert_error(again, 422)
    assert again.json()["detail"] == "This bank line is already recorded as a payment."
    assert Payment.objects.count() == 1


def test_confirming_on_a_draft_or_an_unknown_invoice_is_refused(billing, owner):
    from punchclock.invoicing.services import start_draft

    draft = start_draft(billing.client, by=billing.owner)
    statement = upload(owner, camt(Entry("119.00", "x"))).json()
    line_id = owner.get(f"/bank/statements/{statement['id']}").json()["lines"][0]["id"]

    refused = owner.post(f"/bank/lines/{line_id}/confirm", {"invoice_id": draft.pk})
    assert_error(refused, 422)
    assert refused.json()["detail"] == "A draft cannot be paid: issue it first."
    unknown = owner.post(f"/bank/lines/{line_id}/confirm", {"invoice_id": 10**15})
    assert_error(unknown, 422)
    assert not Payment.objects.exists()


def test_ignore_and_reopen_a_line(billing, owner):
    statement = upload(owner, camt(Entry("5.00", "x"))).json()
    line_id = owner.get(f"/bank/statements/{statement['id']}").json()["lines"][0]["id"]

    assert owner.post(f"/bank/lines/{line_id}/ignore").json()["status"] == "ignored"
    assert owner.post(f"/bank/lines/{line_id}/reopen").json()["status"] == "open"


def test_outsiders_and_members_get_nothing(billing, owner, outsider):
    invoice = issued(billing)
    statement = upload(owner, camt(Entry("119.00", "x"))).json()
    line_id = BankLine.objects.get().pk
    rival = Api(token_for(outsider))

    assert rival.get("/bank/statements").json() == {"items": [], "count": 0}
    for response in (
        rival.get(f"/bank/statements/{statement['id']}"),
        rival.post(f"/bank/lines/{line_id}/confirm", {"invoice_id": invoice.pk}),
        rival.post(f"/bank/lines/{line_id}/ignore"),
    ):
        assert_error(response, 404)
    member = Api(token_for(billing.member))
    assert_error(member.get("/bank/statements"), 403)
    assert_error(upload(member, camt(Entry("1.00", "y"))), 403)
    assert not Payment.objects.exists()
    assert BankLine.objects.get().status == "open"


def test_the_endpoints_are_in_the_openapi_document(db):
    paths = document()["paths"]
    upload_body = paths[PREFIX + "/bank/statements"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload_body
    assert PREFIX + "/bank/lines/{bank_line_id}/confirm" in paths
    assert PREFIX + "/bank/statements/{statement_id}" in paths
