"""Receipt files are streamed through a permission check, with headers that keep them inert."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from punchclock.accounts.models import Role
from punchclock.expenses import services
from punchclock.expenses.services import ExpenseInput
from tests import factories
from tests.conftest import login
from tests.expenses.conftest import pdf_bytes, png_bytes


@pytest.fixture
def receipt(agency, categories, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    expense = services.record_expense(
        agency.member,
        by=agency.member,
        data=ExpenseInput(
            client=agency.client,
            project=agency.project,
            category=categories["Travel"],
            spent_on=date(2026, 11, 2),
            description="Taxi",
            amount="12.00",
        ),
        receipts=[("taxi receipt.png", png_bytes()), ("invoice.pdf", pdf_bytes())],
    )
    return expense.receipts.order_by("pk").first()


def test_the_owner_gets_the_file_with_its_type_and_a_strict_policy(receipt, as_member):
    response = as_member.get(reverse("expenses:receipt", args=[receipt.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="taxi receipt.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    assert b"".join(response.streaming_content) == png_bytes()


def test_a_pdf_is_served_as_a_pdf(receipt, as_member):
    pdf = receipt.expense.receipts.get(content_type="application/pdf")
    response = as_member.get(reverse("expenses:receipt", args=[pdf.pk]))
    assert response["Content-Type"] == "application/pdf"


def test_the_manager_of_the_project_and_the_owner_may_see_it(receipt, agency):
    for who in (agency.manager, agency.owner):
        assert login(who).get(reverse("expenses:receipt", args=[receipt.pk])).status_code == 200


def test_an_outsider_gets_404(receipt, as_outsider):
    assert as_outsider.get(reverse("expenses:receipt", args=[receipt.pk])).status_code == 404


def test_another_member_of_the_agency_gets_404(receipt, agency):
    other = factories.make_membership(
        agency.organization, Role.MEMBER, factories.make_user("two@acme.test")
    )
    assert login(other).get(reverse("expenses:receipt", args=[receipt.pk])).status_code == 404


def test_the_file_is_not_served_from_a_public_media_url(receipt, as_member, client):
    assert client.get("/media/" + receipt.file.name).status_code == 404
    page = as_member.get(reverse("expenses:detail", args=[receipt.expense_id])).content.decode()
    assert receipt.file.name not in page
    assert reverse("expenses:receipt", args=[receipt.pk]) in page


def test_anonymous_visitors_are_sent_to_sign_in(receipt, client):
    response = client.get(reverse("expenses:receipt", args=[receipt.pk]))
    assert response.status_code == 302


def test_posting_to_a_receipt_is_not_allowed(receipt, as_member):
    assert as_member.post(reverse("expenses:receipt", args=[receipt.pk])).status_code == 405
