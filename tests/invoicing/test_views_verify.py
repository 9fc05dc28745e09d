"""The chain check page."""

from __future__ import annotations

from punchclock.invoicing import services
from punchclock.invoicing.models import Invoice
from tests.invoicing.conftest import free_draft, triggers_disabled


def test_owner_sees_an_intact_chain_with_its_length(billing, as_owner):
    services.issue_invoice(free_draft(billing, ("Audit", "1", "100")), by=billing.owner)
    assert "Chain intact (1 document)" in as_owner.get("/invoices/verify/").content.decode()


def test_owner_sees_the_first_altered_document(billing, as_owner):
    issued = services.issue_invoice(free_draft(billing, ("Audit", "1", "100")), by=billing.owner)
    with triggers_disabled():
        Invoice.objects.filter(pk=issued.pk).update(message="changed")
    html = as_owner.get("/invoices/verify/").content.decode()
    assert "Chain broken at document 1" in html
    assert "content was altered" in html


def test_members_get_403(agency, as_member):
    assert as_member.get("/invoices/verify/").status_code == 403
