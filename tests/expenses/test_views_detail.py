"""The expense detail page: its facts, receipts, and submit, decide, remove and delete."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from punchclock.expenses import services
from punchclock.expenses.models import Expense, ExpenseStatus, Receipt
from punchclock.expenses.services import ExpenseInput
from tests.conftest import login
from tests.expenses.conftest import pdf_bytes, png_bytes


@pytest.fixture
def expense(agency, categories, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return services.record_expense(
        agency.member,
        by=agency.member,
        data=ExpenseInput(
            client=agency.client,
            project=agency.project,
            category=categories["Travel"],
            spent_on=date(2026, 11, 2),
            description="Taxi to the airport",
            vendor="City Cabs",
            amount="42.00",
            reimbursable=True,
        ),
        receipts=[("cab.png", png_bytes()), ("cab.pdf", pdf_bytes())],
    )


def url(name, expense):
    return reverse(f"expenses:{name}", args=[expense.pk])


def test_the_detail_shows_the_facts_and_the_receipts(expense, as_member):
    page = as_member.get(url("detail", expense)).content.decode()
    assert "Taxi to the airport" in page
    assert "City Cabs" in page
    assert "€42.00" in page
    assert 'class="pdf-icon"' in page
    image = expense.receipts.get(content_type="image/png")
    assert f'<img src="{reverse("expenses:receipt", args=[image.pk])}"' in page
    assert "Submit for approval" in page


def test_outsiders_get_404(expense, as_outsider):
    for name in ("detail", "edit", "submit", "decide", "delete"):
        response = (
            as_outsider.post(url(name, expense))
            if name != "detail"
            else as_outsider.get(url(name, expense))
        )
        assert response.status_code == 404, name


def test_the_owner_submits_and_can_no_longer_edit(expense, as_member):
    response = as_member.post(url("submit", expense))
    assert response.status_code == 302
    expense.refresh_from_db()
    assert expense.status == ExpenseStatus.SUBMITTED
    assert as_member.get(url("edit", expense)).status_code == 403
    assert as_member.post(url("delete", expense)).status_code == 403


def test_someone_else_cannot_submit_it(expense, agency):
    response = login(agency.manager).post(url("submit", expense))
    assert response.status_code == 403


def test_the_manager_rejects_with_a_comment_on_the_detail_page(expense, agency, as_member):
    as_member.post(url("submit", expense))
    manager = login(agency.manager)
    page = manager.get(url("detail", expense)).content.decode()
    assert "Your decision" in page
    response = manager.post(url("decide", expense), {"decision": "reject"})
    assert response.status_code == 400
    assert "Say why the expense is rejected." in response.content.decode()
    response = manager.post(url("decide", expense), {"decision": "reject", "comment": "No receipt"})
    assert response.status_code == 302
    expense.refresh_from_db()
    assert expense.status == ExpenseStatus.REJECTED
    assert "No receipt" in as_member.get(url("detail", expense)).content.decode()


def test_the_owner_may_not_decide_their_own(expense, as_member):
    as_member.post(url("submit", expense))
    assert "Your decision" not in as_member.get(url("detail", expense)).content.decode()
    response = as_member.post(url("decide", expense), {"decision": "approve"})
    assert response.status_code == 403


def test_a_receipt_is_removed_with_its_file(expense, as_member, tmp_path):
    receipt = expense.receipts.get(content_type="image/png")
    path = tmp_path / receipt.file.name
    assert path.exists()
    response = as_member.post(
        reverse("expenses:receipt_remove", args=[receipt.pk]), HTTP_HX_REQUEST="true"
    )
    assert response["HX-Redirect"] == url("detail", expense)
    assert not Receipt.objects.filter(pk=receipt.pk).exists()


def test_delete_asks_first_and_redirects_htmx_to_the_list(expense, as_member):
    page = as_member.get(url("detail", expense)).content.decode()
    assert "hx-confirm=" in page
    response = as_member.post(url("delete", expense), HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == reverse("expenses:list")
    assert not Expense.objects.exists()


def test_garbage_decisions_never_give_a_500(expense, agency, as_member):
    as_member.post(url("submit", expense))
    owner = login(agency.owner)
    for data in ({}, {"decision": "maybe"}, {"decision": "approve", "comment": "x" * 5000}):
        assert owner.post(url("decide", expense), data).status_code == 400
    assert owner.get(url("decide", expense)).status_code == 405
