"""An organization's own template, footer text and time appendix, and the settings page."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from punchclock.clients.models import Client
from punchclock.invoicing import preferences, services
from punchclock.invoicing.documents.pdf import DEFAULT_TEMPLATE, document_data, render_pdf
from punchclock.invoicing.models import Invoice, InvoiceDocument
from punchclock.invoicing.sending import invoice_settings
from tests.conftest import login
from tests.invoicing.conftest import NOVEMBER, at, free_draft, track

OWN_TEMPLATE = """#let d = json(bytes(sys.inputs.at("data")))
#set document(title: d.title)
= Custom layout for #d.buyer.name
Total: #d.gross
"""


def _text(pdf: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


pdftotext = pytest.mark.skipif(
    subprocess.run(["which", "pdftotext"], capture_output=True).returncode != 0,
    reason="pdftotext (poppler-utils) is not installed",
)


@pdftotext
def test_an_uploaded_template_that_compiles_is_used_for_issued_documents(billing):
    preferences.upload_template(
        billing.organization, by=billing.owner, content=OWN_TEMPLATE.encode(), name="mine.typ"
    )
    draft = free_draft(billing, ("Consulting", "2", "100"))
    invoice = services.issue_invoice(draft, by=billing.owner, issue_date=date(2026, 11, 20))
    stored = bytes(InvoiceDocument.objects.get(invoice=invoice).content)
    assert stored.startswith(b"%PDF-")
    assert "Custom layout for Globex" in _text(stored)
    assert "Custom layout" not in _text(render_pdf(invoice, template=DEFAULT_TEMPLATE))
    # The check renders a sample invoice and leaves nothing behind.
    assert not Client.objects.filter(code__startswith="sample-").exists()
    assert Invoice.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"#let x = (\n", "The template does not work"),
        (b"#nonexistent_function()", "unknown variable: nonexistent_function"),
        (b'#read("pyproject.toml")', "file not found"),
        (b"\xff\xfe\x00", "UTF-8 text file"),
        (b"   ", "The file is empty"),
        (b"x" * (preferences.MAX_TEMPLATE_BYTES + 1), "at most 256 KB"),
    ],
)
def test_a_broken_template_is_refused_with_typsts_message(billing, content, message):
    with pytest.raises(ValidationError) as caught:
        preferences.upload_template(
            billing.organization, by=billing.owner, content=content, name="bad.typ"
        )
    assert message in " ".join(caught.value.message_dict["template"])
    assert invoice_settings(billing.organization).template_source == ""
    assert not Client.objects.filter(code__startswith="sample-").exists()


def test_the_settings_page_shows_a_broken_templates_error_not_a_500(billing):
    http = login(billing.owner)
    upload = SimpleUploadedFile("bad.typ", b"#let broken = (", content_type="text/plain")
    response = http.post(reverse("invoicing:template_upload"), {"template": upload})
    assert response.status_code == 400
    page = response.content.decode()
    assert "The template does not work" in page
    assert "unclosed delimiter" in page or "expected" in page


def test_upload_download_and_remove_through_the_pages(billing):
    http = login(billing.owner)
    default = http.get(reverse("invoicing:template_download"))
    assert default.content.decode() == DEFAULT_TEMPLATE.read_text()
    upload = SimpleUploadedFile("mine.typ", OWN_TEMPLATE.encode(), content_type="text/plain")
    assert http.post(reverse("invoicing:template_upload"), {"template": upload}).status_code == 302
    assert http.get(reverse("invoicing:template_download")).content.decode() == OWN_TEMPLATE
    assert "mine.typ" in http.get(reverse("invoicing:settings")).content.decode()
    assert http.post(reverse("invoicing:template_remove")).status_code == 302
    assert invoice_settings(billing.organization).template_source == ""


def test_members_cannot_reach_invoice_settings(billing):
    http = login(billing.member)
    assert http.get(reverse("invoicing:settings")).status_code == 403
    upload = SimpleUploadedFile("mine.typ", OWN_TEMPLATE.encode(), content_type="text/plain")
    assert http.post(reverse("invoicing:template_upload"), {"template": upload}).status_code == 403
    assert invoice_settings(billing.organization).template_source == ""


def test_email_wording_is_saved_per_language_and_reset(billing):
    http = login(billing.owner)
    url = reverse("invoicing:email_template", args=["de"])
    response = http.post(url, {"de-subject": "Rechnung {number}", "de-body": "Hallo {client}"})
    assert response.status_code == 302
    template = billing.organization.email_templates.get()
    assert (template.language, template.subject) == ("de", "Rechnung {number}")
    bad = http.post(url, {"de-subject": "Rechnung {nummer}", "de-body": "x"})
    assert bad.status_code == 400
    assert "is not a placeholder" in bad.content.decode()
    assert billing.organization.email_templates.get().subject == "Rechnung {number}"
    assert http.post(url, {"reset": "1"}).status_code == 302
    assert not billing.organization.email_templates.exists()
    assert http.post(reverse("invoicing:email_template", args=["xx"])).status_code == 302


def test_settings_form_refuses_a_bad_copy_address(billing):
    response = login(billing.owner).post(
        reverse("invoicing:settings"), {"footer_text": "Reg. HRB 1", "bcc": "not-mail"}
    )
    assert response.status_code == 400
    assert invoice_settings(billing.organization).pk is None


@pdftotext
def test_footer_text_is_frozen_into_the_issued_document(billing):
    footer = "Registered at AG Berlin HRB 1234"
    preferences.save_settings(billing.organization, by=billing.owner, footer_text=footer, bcc="")
    draft = free_draft(billing, ("Consulting", "2", "100"))
    invoice = services.issue_invoice(draft, by=billing.owner, issue_date=date(2026, 11, 20))
    assert invoice.snapshot["footer_text"] == "Registered at AG Berlin HRB 1234"
    preferences.save_settings(billing.organization, by=billing.owner, footer_text="New", bcc="")
    invoice.refresh_from_db()
    assert document_data(invoice)[0]["footer_text"] == "Registered at AG Berlin HRB 1234"
    stored = bytes(InvoiceDocument.objects.get(invoice=invoice).content)
    assert "AG Berlin HRB 1234" in _text(stored)
    assert services.verify_chain(billing.organization) is None


@pdftotext
def test_the_time_appendix_lists_each_billed_entry(billing):
    track(billing.member, billing.project, at(2), 90, description="Auth endpoints")
    track(billing.manager, billing.project, at(3), 25, description="Code review")
    draft = services.create_draft(
        billing.client, by=billing.owner, period_start=NOVEMBER[0], period_end=NOVEMBER[1]
    )
    services.update_details(draft, by=billing.owner, time_appendix=True)
    draft.refresh_from_db()
    rows = document_data(draft)[0]["appendix"]
    assert [(r["person"], r["description"], r["hours"]) for r in rows] == [
        ("Max Member", "API: Auth endpoints", "1.50"),
        ("Mia Manager", "API: Code review", "0.42"),
    ]
    text = _text(render_pdf(draft))
    assert "Time record" in text
    assert "Auth endpoints" in text


def test_draft_details_are_saved_and_an_exempt_invoice_needs_its_reason(billing):
    draft = free_draft(billing, ("Medical training", "1", "500"))
    line = draft.lines.get()
    services.update_line(line, by=billing.owner, tax_category="E", tax_rate=0)
    with pytest.raises(ValidationError, match="BR-E-10"):
        services.issue_invoice(draft, by=billing.owner)
    http = login(billing.owner)
    response = http.post(
        reverse("invoicing:details", args=[draft.pk]),
        {"message": "  Thank you!  ", "tax_note": "Exempt under § 4 Nr. 21 UStG"},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.message, draft.tax_note, draft.time_appendix) == (
        "Thank you!",
        "Exempt under § 4 Nr. 21 UStG",
        False,
    )
    issued = services.issue_invoice(draft, by=billing.owner)
    assert issued.number
    too_late = http.post(reverse("invoicing:details", args=[draft.pk]), {"message": "x"})
    assert too_late.status_code == 400
    issued.refresh_from_db()
    assert issued.message == "Thank you!"


def test_a_draft_page_shows_its_pages_drawn_by_the_pdf_template(billing):
    draft = free_draft(billing, *[(f"Line {n}", "1", "10") for n in range(45)])
    http = login(billing.owner)
    page = http.get(reverse("invoicing:detail", args=[draft.pk])).content.decode()
    assert f'hx-get="{reverse("invoicing:preview", args=[draft.pk])}"' in page
    preview = http.get(reverse("invoicing:preview", args=[draft.pk])).content.decode()
    images = preview.count('src="data:image/png;base64,')
    assert images == 2, "45 lines fill two pages"
    assert "Page 2 of 2 of the draft" in preview
    # Nothing is framed: not even the PDF.
    assert http.get(reverse("invoicing:pdf", args=[draft.pk]))["X-Frame-Options"] == "DENY"


def test_a_broken_own_template_shows_its_error_in_the_preview(billing):
    draft = free_draft(billing, ("Consulting", "1", "10"))
    settings_row = invoice_settings(billing.organization)
    settings_row.template_source = "#let broken = ("
    settings_row.save()
    response = login(billing.owner).get(reverse("invoicing:preview", args=[draft.pk]))
    assert response.status_code == 400
    assert "cannot draw this invoice" in response.content.decode()


def test_a_client_that_needs_a_purchase_order_gets_none_without_one(billing):
    billing.client.requires_purchase_order = True
    billing.client.save()
    draft = free_draft(billing, ("Consulting", "2", "100"))
    with pytest.raises(ValidationError, match="BT-13"):
        services.issue_invoice(draft, by=billing.owner)
    services.update_details(draft, by=billing.owner, purchase_order_reference="PO-4711")
    issued = services.issue_invoice(draft, by=billing.owner)
    assert issued.snapshot["purchase_order_reference"] == "PO-4711"
    assert ["Purchase order", "PO-4711"] in document_data(issued)[0]["meta"]
    # A credit note corrects the invoice; it needs no order of its own.
    note = services.credit_invoice(issued, by=billing.owner)
    assert note.number


@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="pdffonts (poppler-utils) missing")
def test_the_chosen_typeface_is_frozen_and_embedded(billing, tmp_path):
    response = login(billing.owner).post(
        reverse("invoicing:settings"), {"footer_text": "", "bcc": "", "font": "classic"}
    )
    assert response.status_code == 302
    draft = free_draft(billing, ("Consulting", "2", "100"))
    invoice = services.issue_invoice(draft, by=billing.owner)
    assert invoice.snapshot["font"] == "classic"
    path = tmp_path / "invoice.pdf"
    path.write_bytes(bytes(InvoiceDocument.objects.get(invoice=invoice).content))
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "NewCM" in fonts
    preferences.save_settings(billing.organization, by=billing.owner, footer_text="", bcc="")
    invoice.refresh_from_db()
    assert document_data(invoice)[0]["fonts"][0] == "New Computer Modern"
