"""The invoice list: filters, pagination and a fixed number of queries."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from punchclock.invoicing import services
from tests.invoicing.conftest import free_draft


def _queries(http, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert http.get(url).status_code == 200
    return len(captured)


def test_the_list_shows_number_client_total_and_status(billing, as_owner):
    draft = free_draft(billing, ("Workshop", "1", "500"))
    issued = services.issue_invoice(free_draft(billing, ("Audit", "2", "100")), by=billing.owner)
    html = as_owner.get("/invoices/").content.decode()
    assert issued.number in html
    assert f"Draft {draft.pk}" in html
    assert "Globex" in html
    assert "€595.00" in html
    assert "Issued" in html


def test_filters_by_status_and_kind(billing, as_owner):
    draft = free_draft(billing, ("Workshop", "1", "500"))
    issued = services.issue_invoice(free_draft(billing, ("Audit", "2", "100")), by=billing.owner)
    html = as_owner.get("/invoices/?status=issued").content.decode()
    assert issued.number in html
    assert f"Draft {draft.pk}" not in html
    assert "No invoices match" in as_owner.get("/invoices/?kind=credit_note").content.decode()
    assert as_owner.get("/invoices/?status=bogus&client=x&page=x").status_code == 200


def test_the_number_of_queries_does_not_grow_with_the_invoices(billing, as_owner):
    for _ in range(3):
        free_draft(billing, ("Workshop", "1", "500"))
    few = _queries(as_owner, "/invoices/")
    for _ in range(27):
        free_draft(billing, ("Workshop", "1", "500"))
    assert _queries(as_owner, "/invoices/") == few


def test_members_get_403(agency, as_member):
    assert as_member.get("/invoices/").status_code == 403
