"""The invoice page: a draft edited and issued, then credited; nobody else gets in."""

from __future__ import annotations

from punchclock.invoicing.models import Invoice, InvoiceKind
from tests.invoicing.conftest import at, free_draft, track

HTMX = {"HX-Request": "true"}


def test_owner_walks_from_unbilled_work_to_an_issued_invoice_and_a_credit_note(billing, as_owner):
    track(billing.member, billing.project, at(3), 120)
    as_owner.post(
        "/invoices/unbilled/",
        {
            "client": billing.client.pk,
            "period_start": "2026-11-01",
            "period_end": "2026-11-30",
            "group_by": "project",
        },
    )
    draft = Invoice.objects.get()
    line = draft.lines.get()
    assert "API" in as_owner.get(f"/invoices/{draft.pk}/").content.decode()
    form = as_owner.get(f"/invoices/lines/{line.pk}/edit/", headers=HTMX)
    assert 'name="line-description"' in form.content.decode()
    edited = as_owner.post(
        f"/invoices/lines/{line.pk}/edit/",
        {
            "line-description": "API work",
            "line-quantity": "3",
            "line-unit_price": "100",
            "line-discount_percent": "0",
            "line-tax_rate": "19",
        },
        headers=HTMX,
    )
    assert edited.status_code == 200
    assert "€357.00" in edited.content.decode()
    assert as_owner.post(f"/invoices/{draft.pk}/issue/").status_code == 302
    draft.refresh_from_db()
    page = as_owner.get(f"/invoices/{draft.pk}/").content.decode()
    assert draft.number in page
    assert "Acme Agency" in page
    credited = as_owner.post(f"/invoices/{draft.pk}/credit/")
    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert credited["Location"] == f"/invoices/{note.pk}/"
    assert note.number in as_owner.get(f"/invoices/{note.pk}/").content.decode()


def test_issuing_shows_the_rule_a_draft_breaks(billing, as_owner):
    draft = free_draft(billing)
    response = as_owner.post(f"/invoices/{draft.pk}/issue/")
    assert response.status_code == 400
    assert "An invoice needs at least one line." in response.content.decode()


def test_owner_adds_a_line_sets_a_discount_and_deletes_the_draft(billing, as_owner):
    draft = free_draft(billing)
    added = as_owner.post(
        f"/invoices/{draft.pk}/lines/add/",
        {
            "description": "Workshop",
            "quantity": "1",
            "unit": "C62",
            "unit_price": "200",
            "discount_percent": "0",
        },
    )
    assert added.status_code == 302
    assert (
        as_owner.post(f"/invoices/{draft.pk}/discount/", {"discount_percent": "10"}).status_code
        == 302
    )
    draft.refresh_from_db()
    assert str(draft.net_total).startswith("180")
    assert as_owner.post(f"/invoices/{draft.pk}/delete/")["Location"] == "/invoices/"
    assert not Invoice.objects.exists()


def test_garbage_posts_never_answer_500(billing, as_owner):
    draft = free_draft(billing, ("Workshop", "1", "500"))
    line = draft.lines.get()
    garbage = {"discount_percent": "lots", "quantity": "x", "line-tax_rate": "500"}
    for url in (
        f"/invoices/{draft.pk}/lines/add/",
        f"/invoices/{draft.pk}/discount/",
        f"/invoices/lines/{line.pk}/edit/",
    ):
        assert as_owner.post(url, garbage).status_code == 400


def test_an_issued_invoice_cannot_be_edited(billing, as_owner):
    draft = free_draft(billing, ("Workshop", "1", "500"))
    as_owner.post(f"/invoices/{draft.pk}/issue/")
    line = draft.lines.get()
    assert as_owner.get(f"/invoices/lines/{line.pk}/edit/").status_code == 404
    assert (
        as_owner.post(f"/invoices/{draft.pk}/discount/", {"discount_percent": "5"}).status_code
        == 400
    )


def test_members_and_managers_get_403(billing):
    from tests.conftest import login

    draft = free_draft(billing, ("Workshop", "1", "500"))
    for membership in (billing.member, billing.manager):
        http = login(membership)
        assert http.get(f"/invoices/{draft.pk}/").status_code == 403
        assert http.post(f"/invoices/{draft.pk}/issue/").status_code == 403


def test_outsiders_get_404_for_the_agencys_invoices(billing, as_outsider):
    draft = free_draft(billing, ("Workshop", "1", "500"))
    line = draft.lines.get()
    assert as_outsider.get(f"/invoices/{draft.pk}/").status_code == 404
    assert as_outsider.post(f"/invoices/{draft.pk}/issue/").status_code == 404
    assert as_outsider.post(f"/invoices/{draft.pk}/delete/").status_code == 404
    assert as_outsider.get(f"/invoices/lines/{line.pk}/edit/").status_code == 404
    assert Invoice.objects.filter(pk=draft.pk, status="draft").exists()


def test_owner_sets_a_surcharge_and_the_page_shows_it(billing, as_owner):
    draft = free_draft(billing, ("Design", "2", "100"))
    refused = as_owner.post(
        f"/invoices/{draft.pk}/discount/", {"discount_percent": "5", "surcharge_percent": "10"}
    )
    assert refused.status_code == 400
    assert "Say what the surcharge is for." in refused.content.decode()
    draft.refresh_from_db()
    assert (draft.discount_percent, draft.surcharge_percent) == (0, 0)  # neither was saved
    saved = as_owner.post(
        f"/invoices/{draft.pk}/discount/",
        {"discount_percent": "0", "surcharge_percent": "10", "surcharge_reason": "Rush delivery"},
    )
    assert saved.status_code == 302
    page = as_owner.get(f"/invoices/{draft.pk}/").content.decode()
    assert "Rush delivery 10 %" in page
    assert "€220.00" in page  # net 200.00 + 20.00
