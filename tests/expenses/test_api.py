"""The expenses API: recording, editing, receipts, approval, rates and reimbursements."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from punchclock.expenses import services
from punchclock.expenses.models import ExchangeRate, Expense, Receipt
from punchclock.expenses.services import ExpenseInput
from tests.api.helpers import PREFIX, Api, assert_error, token_for
from tests.expenses.conftest import pdf_bytes, png_bytes

DAY = "2026-11-02"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def owner(agency, categories) -> Api:
    return Api(token_for(agency.owner))


@pytest.fixture
def member(agency, categories) -> Api:
    return Api(token_for(agency.member))


def train(**fields):
    body = {
        "client": "globex",
        "category": "travel",
        "spent_on": DAY,
        "description": "Train to client",
        "amount": "42.50",
        "currency": "EUR",
    }
    body.update(fields)
    return body


def upload(api: Api, path: str, name: str, data: bytes):
    return api.http.post(PREFIX + path, {"file": SimpleUploadedFile(name, data)}, **api.headers)


# Recording and reading --------------------------------------------------------------------


def test_an_expense_is_recorded_by_client_code_and_category_name(member, agency):
    response = member.post("/expenses", train(tax_rate="19", vendor="Deutsche Bahn"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["client_id"] == agency.client.pk
    assert body["category"] == "Travel"
    assert (body["amount"], body["currency"], body["net_amount"]) == ("42.50", "EUR", "35.71")
    assert body["status"] == "draft"
    assert body["person_id"] == agency.member.pk
    assert body["receipts"] == []


def test_amounts_may_be_json_numbers_and_projects_given_by_code(member, agency):
    response = member.post(
        "/expenses", {**train(project="globex/api", amount=None), "amount": 19.99}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == "19.99"
    assert body["project"] == "globex/api"


def test_mileage_takes_a_quantity(member):
    body = train(category="mileage", amount=None, quantity="120")
    del body["amount"]
    response = member.post("/expenses", body)
    assert response.status_code == 201, response.content
    assert (response.json()["amount"], response.json()["unit"]) == ("36.00", "km")


def test_list_filters_and_get(member, owner, agency):
    member.post("/expenses", train())
    member.post("/expenses", train(reimbursable=True, description="Taxi", spent_on="2026-10-01"))
    owner.post("/expenses", train(description="Owner's lunch", category="meals"))
    mine = member.get("/expenses").json()
    assert mine["count"] == 2  # a member sees only their own
    everyone = owner.get("/expenses").json()
    assert everyone["count"] == 3
    taxi = owner.get("/expenses", {"reimbursable": "true"}).json()["items"]
    assert [e["description"] for e in taxi] == ["Taxi"]
    november = owner.get("/expenses", {"from": "2026-11-01", "to": "2026-11-30"}).json()
    assert november["count"] == 2
    drafts = owner.get("/expenses", {"status": "draft", "person_id": agency.member.pk}).json()
    assert drafts["count"] == 2
    assert_error(owner.get("/expenses", {"status": "lost"}), 422, "status")
    one = member.get(f"/expenses/{taxi[0]['id']}")
    assert one.json()["description"] == "Taxi"


def test_bad_input_is_a_422_on_the_field(member):
    assert_error(member.post("/expenses", train(amount="-3")), 422, "amount")
    assert_error(member.post("/expenses", train(category="nothing")), 422, "category")
    assert_error(member.post("/expenses", train(client="nobody")), 422, "client")
    assert_error(member.post("/expenses", train(spent_on="2999-01-01")), 422, "spent_on")
    assert_error(member.post("/expenses", train(exchange_rate="1e999")), 422, "exchange_rate")
    assert_error(member.post("/expenses", train(colour="red")), 422, "colour")
    assert not Expense.objects.exists()


def test_a_missing_exchange_rate_is_a_422_on_currency(member):
    body = assert_error(member.post("/expenses", train(currency="USD")), 422, "currency")
    assert "No exchange rate for USD" in body["detail"]


def test_a_manual_rate_entered_through_the_api_is_used(owner, agency):
    agency.client.currency = "USD"
    agency.client.save()
    rate = owner.post("/exchange-rates", {"currency": "usd", "rate": "1.10", "on": DAY})
    assert rate.status_code == 201, rate.content
    assert rate.json()["source"] == "manual"
    expense = owner.post("/expenses", train(amount="100.00")).json()
    assert (expense["billable_amount"], expense["client_currency"]) == ("110.00", "USD")
    assert owner.get("/exchange-rates", {"currency": "USD"}).json()["count"] == 1


# Editing and deleting ---------------------------------------------------------------------


def test_patch_merges_over_the_stored_expense_and_checks_it_again(member):
    created = member.post("/expenses", train(tax_rate="19")).json()
    changed = member.patch(f"/expenses/{created['id']}", {"amount": "119.00"})
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["amount"], body["net_amount"], body["description"]) == (
        "119.00",
        "100.00",
        "Train to client",
    )
    moved = member.patch(f"/expenses/{created['id']}", {"project": "globex/api"}).json()
    assert moved["project"] == "globex/api"
    cleared = member.patch(f"/expenses/{created['id']}", {"project": None}).json()
    assert cleared["project"] is None
    assert_error(member.patch(f"/expenses/{created['id']}", {"currency": "USD"}), 422, "currency")
    assert Expense.objects.get().currency == "EUR"


def test_delete_removes_the_expense_and_its_files(member, django_capture_on_commit_callbacks):
    created = member.post("/expenses", train()).json()
    upload(member, f"/expenses/{created['id']}/receipts", "t.pdf", pdf_bytes())
    path = Path(Receipt.objects.get().file.path)
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = member.delete(f"/expenses/{created['id']}")
    assert response.status_code == 200, response.content
    assert not Expense.objects.exists()
    assert not Receipt.objects.exists()
    assert not path.exists()


def test_submitted_expenses_are_locked_for_their_member(member):
    created = member.post("/expenses", train()).json()
    assert member.post("/expenses/submit", {"ids": [created["id"]]}).json() == {"submitted": 1}
    assert_error(member.patch(f"/expenses/{created['id']}", {"amount": "1.00"}), 403)
    assert_error(member.delete(f"/expenses/{created['id']}"), 403)


# Receipts ---------------------------------------------------------------------------------


def test_receipts_upload_and_download(member, agency, outsider):
    created = member.post("/expenses", train()).json()
    response = upload(member, f"/expenses/{created['id']}/receipts", "ticket.pdf", pdf_bytes())
    assert response.status_code == 201, response.content
    receipts = response.json()["receipts"]
    assert [(r["name"], r["content_type"]) for r in receipts] == [("ticket.pdf", "application/pdf")]
    download = member.get(receipts[0]["url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == pdf_bytes()
    stranger = Api(token_for(outsider))
    assert_error(stranger.get(receipts[0]["url"]), 404)
    assert_error(upload(stranger, f"/expenses/{created['id']}/receipts", "x.png", png_bytes()), 404)


def test_a_fake_receipt_is_refused_and_writes_nothing(member, settings):
    created = member.post("/expenses", train()).json()
    response = upload(member, f"/expenses/{created['id']}/receipts", "x.pdf", b"MZ\x90 nope")
    assert_error(response, 422, "receipts")
    assert not Receipt.objects.exists()
    assert not list((settings.MEDIA_ROOT).rglob("*.*"))


def test_an_oversize_receipt_is_refused_before_reading(member, settings):
    settings.RECEIPT_MAX_BYTES = 100
    created = member.post("/expenses", train()).json()
    response = upload(member, f"/expenses/{created['id']}/receipts", "big.png", png_bytes() * 3)
    assert_error(response, 422, "file")
    assert not Receipt.objects.exists()


def test_an_upload_without_a_file_is_a_422(member):
    created = member.post("/expenses", train()).json()
    assert_error(member.post(f"/expenses/{created['id']}/receipts"), 422, "file")


def test_add_receipts_service_checks_rights_and_cleans_up(agency, categories, settings):
    expense = services.record_expense(
        agency.member,
        by=agency.member,
        data=ExpenseInput(
            client=agency.client,
            category=categories["Travel"],
            spent_on=date(2026, 11, 2),
            description="Hotel",
            amount=Decimal("80"),
            currency="EUR",
        ),
    )
    added = services.add_receipts(expense, by=agency.member, receipts=[("a.png", png_bytes())])
    assert [r.original_name for r in added] == ["a.png"]
    with pytest.raises(ValidationError):
        services.add_receipts(
            expense, by=agency.member, receipts=[("b.pdf", pdf_bytes()), ("c.pdf", b"junk")]
        )
    assert expense.receipts.count() == 1
    assert len(list(settings.MEDIA_ROOT.rglob("*.*"))) == 1
    with pytest.raises(PermissionDenied):
        services.add_receipts(expense, by=agency.manager, receipts=[("d.png", png_bytes())])


# Approval ---------------------------------------------------------------------------------


def test_members_submit_and_the_project_manager_approves_or_rejects(member, agency):
    manager = Api(token_for(agency.manager))
    one = member.post("/expenses", train(project="globex/api")).json()
    two = member.post("/expenses", train(project="globex/api", description="Taxi")).json()
    submitted = member.post("/expenses/submit", {"ids": [one["id"], two["id"]]})
    assert submitted.json() == {"submitted": 2}
    assert_error(member.post(f"/expenses/{one['id']}/approve", {}), 403)
    approved = manager.post(f"/expenses/{one['id']}/approve", {})
    assert approved.status_code == 200, approved.content
    assert (approved.json()["status"], approved.json()["decided_by"]) == (
        "approved",
        "Mia Manager",
    )
    assert_error(manager.post(f"/expenses/{two['id']}/reject", {}), 422, "comment")
    rejected = manager.post(f"/expenses/{two['id']}/reject", {"comment": "No receipt"}).json()
    assert (rejected["status"], rejected["comment"]) == ("rejected", "No receipt")
    assert_error(member.post("/expenses/submit", {"ids": [10**12]}), 422, "ids")


# Categories, rates and reports ------------------------------------------------------------


def test_categories_are_listed(member):
    names = [c["name"] for c in member.get("/expense-categories").json()["items"]]
    assert "Mileage" in names
    mileage = next(
        c for c in member.get("/expense-categories").json()["items"] if c["name"] == "Mileage"
    )
    assert (mileage["unit"], mileage["unit_price"]) == ("km", "0.3")


def test_ecb_rates_are_imported_by_upload(owner, member, ecb_file):
    response = upload(owner, "/exchange-rates/ecb", "eurofxref-daily.xml", ecb_file)
    assert response.status_code == 200, response.content
    added = response.json()["added"]
    assert added > 20
    again = upload(owner, "/exchange-rates/ecb", "eurofxref-daily.xml", ecb_file)
    assert again.json() == {"added": 0}
    assert ExchangeRate.objects.count() == added
    assert_error(upload(member, "/exchange-rates/ecb", "x.xml", ecb_file), 403)
    assert_error(upload(owner, "/exchange-rates/ecb", "x.xml", b"<nope/>"), 422, "file")
    usd = owner.post(
        "/expenses", train(currency="USD", amount="105.56", spent_on="2017-03-08")
    ).json()
    assert (usd["rate_source"], usd["billable_amount"]) == ("ecb", "100.00")


def test_reimbursements_report(owner, member, agency):
    mine = member.post("/expenses", train(reimbursable=True, amount="12.30")).json()
    member.post("/expenses/submit", {"ids": [mine["id"]]})
    owner.post(f"/expenses/{mine['id']}/approve", {})
    owner.post("/expenses", train(reimbursable=True, amount="7.70"))
    owner.post("/expenses", train(amount="99.00"))  # paid by the company
    report = owner.get("/reports/reimbursements", {"from": "2026-11-01", "to": "2026-11-30"})
    assert report.status_code == 200, report.content
    rows = {r["person"]: (r["count"], r["total"]) for r in report.json()["rows"]}
    assert rows == {"Max Member": (1, "12.30"), "Olivia Owner": (1, "7.70")}
    assert_error(member.get("/reports/reimbursements", {"from": DAY, "to": DAY}), 403)
    assert_error(owner.get("/reports/reimbursements", {"from": DAY}), 422, "to")
