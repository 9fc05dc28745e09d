"""`punch invoice` against a live test server."""

from __future__ import annotations

import json

import pytest
from django.core import mail

from punchclock.invoicing import services
from punchclock.invoicing.models import Invoice, InvoiceDocument
from tests import factories
from tests.invoicing.conftest import approved_expense, at, free_draft, track


@pytest.mark.django_db(transaction=True)
def test_draft_issue_download_list_and_credit(billing, punch_as, tmp_path, wipe_invoices_after):
    track(billing.member, billing.project, at(2), 90)
    punch = punch_as(billing.owner)
    drafted = punch(
        "invoice", "draft", "globex", "--period", "2026-11-01:2026-11-30", "--group", "task"
    )
    assert drafted.exit_code == 0, drafted.output
    draft = Invoice.objects.get()
    assert f"Draft {draft.pk} for Globex" in drafted.output
    assert "178.50 EUR gross" in drafted.output

    preview = tmp_path / "preview.pdf"
    previewed = punch("invoice", "pdf", str(draft.pk), "-o", str(preview))
    assert previewed.exit_code == 0, previewed.output
    assert preview.read_bytes().startswith(b"%PDF-")

    issued = punch("invoice", "issue", str(draft.pk))
    assert issued.exit_code == 0, issued.output
    draft.refresh_from_db()
    assert f"Issued invoice {draft.number} to Globex" in issued.output

    target = tmp_path / "invoice.pdf"
    downloaded = punch("invoice", "pdf", str(draft.pk), "--output", str(target))
    assert downloaded.exit_code == 0, downloaded.output
    assert target.read_bytes() == bytes(InvoiceDocument.objects.get(invoice=draft).content)

    credited = punch("invoice", "credit", str(draft.pk))
    assert credited.exit_code == 0, credited.output
    assert "Issued credit note" in credited.output
    assert "-178.50 EUR gross" in credited.output

    listed = punch("invoice", "list", "--json")
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.output)
    assert data["count"] == 2
    assert {i["kind"] for i in data["items"]} == {"invoice", "credit_note"}
    table = punch("invoice", "list")
    assert draft.number in table.output
    assert "issued credit note" in table.output


@pytest.mark.django_db(transaction=True)
def test_invoice_errors_are_messages_with_exit_codes(billing, punch_as, tmp_path):
    owner = punch_as(billing.owner)
    nothing = owner("invoice", "draft", "globex", "--period", "2020-01-01:2020-01-31")
    assert nothing.exit_code == 1
    assert "no unbilled work" in nothing.output
    bad_period = owner("invoice", "draft", "globex", "--period", "someday")
    assert (bad_period.exit_code, "is not a period" in bad_period.output) == (1, True)
    unknown = owner("invoice", "draft", "nobody", "--period", "month")
    assert (unknown.exit_code, "nobody" in unknown.output) == (1, True)
    missing = owner("invoice", "pdf", "999999", "-o", str(tmp_path / "x.pdf"))
    assert (missing.exit_code, "No such invoice" in missing.output) == (1, True)
    assert not (tmp_path / "x.pdf").exists()
    bad_id = owner("invoice", "issue", "abc")
    assert (bad_id.exit_code, "not an invoice id" in bad_id.output) == (1, True)
    assert owner("invoice", "list").output.strip() == "No invoices."
    member = punch_as(billing.member)
    refused = member("invoice", "list")
    assert refused.exit_code == 4
    assert "does not allow invoicing" in refused.output
    for result in (nothing, bad_period, unknown, missing, bad_id, refused):
        assert "Traceback" not in result.output
    assert not Invoice.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_unbilled_prints_a_table_with_totals_per_client_and_currency(billing, punch_as):
    billing.project.rounding_minutes = 15
    billing.project.save()
    track(billing.member, billing.project, at(2), 50)  # billed 1 h at 100
    track(billing.member, billing.other_project, at(3), 90)  # 1.5 h at 80
    approved_expense(billing.owner, "42.00")
    punch = punch_as(billing.owner)

    table = punch("unbilled", "--period", "2026-11-01:2026-11-30")
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0] == "Unbilled work, 2026-11-01 to 2026-11-30:"
    assert "Globex (globex), EUR" in lines
    api = next(line for line in lines if "globex/api" in line).split()
    assert api == ["globex/api", "0.83", "1.00", "100.00", "2026-11-02"]
    web = next(line for line in lines if "globex/web" in line).split()
    assert web == ["globex/web", "1.50", "1.50", "120.00", "2026-11-03"]
    loose = next(line for line in lines if "(no project)" in line)
    assert "42.00" in loose
    assert "1 expense 42.00" in loose
    total = next(line for line in lines if line.strip().startswith("Total ")).split()
    assert total[:4] == ["Total", "2.33", "2.50", "262.00"]
    assert lines[-1] == "Total unbilled: 262.00 EUR"

    as_json = punch("unbilled", "globex", "--json")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["clients"][0]["total"]["amount"] == "262.00"


@pytest.mark.django_db(transaction=True)
def test_unbilled_says_when_nothing_is_left_and_refuses_bad_input(billing, punch_as):
    owner = punch_as(billing.owner)
    nothing = owner("unbilled")
    assert (nothing.exit_code, nothing.output) == (0, "Nothing is unbilled (all time).\n")
    last_month = owner("unbilled", "--period", "last-month")
    assert last_month.exit_code == 0
    assert last_month.output.startswith("Nothing is unbilled (")
    bad_period = owner("unbilled", "--period", "someday")
    assert (bad_period.exit_code, "is not a period" in bad_period.output) == (1, True)
    unknown = owner("unbilled", "nobody")
    assert (unknown.exit_code, "There is no client “nobody”" in unknown.output) == (1, True)
    refused = punch_as(billing.member)("unbilled")
    assert (refused.exit_code, "does not allow invoicing" in refused.output) == (4, True)
    for result in (bad_period, unknown, refused):
        assert "Traceback" not in result.output


@pytest.mark.django_db(transaction=True)
def test_unbilled_marks_time_without_a_rate(billing, punch_as):
    research = factories.make_project(billing.client, "Research", code="res")
    track(billing.member, research, at(2), 30)
    track(billing.member, billing.project, at(3), 60)
    result = punch_as(billing.owner)("unbilled")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "globex/res" in line)
    assert "no rate" in row
    assert "1 entry without a EUR rate" in row
    assert result.output.splitlines()[-1] == "Total unbilled: 100.00 EUR + time without a rate"


@pytest.mark.django_db(transaction=True)
def test_send_and_credit_some_lines_from_the_terminal(billing, punch_as, wipe_invoices_after):
    billing.client.email = "billing@globex.test"
    billing.client.save()
    invoice = services.issue_invoice(
        free_draft(billing, ("Design", "2", "100"), ("Hosting", "1", "40")), by=billing.owner
    )
    punch = punch_as(billing.owner)
    sent = punch("invoice", "send", str(invoice.pk), "--cc", "pm@globex.test")
    assert sent.exit_code == 0, sent.output
    assert f"Sent {invoice.number}.pdf to billing@globex.test (cc pm@globex.test)." in sent.output
    assert mail.outbox[-1].cc == ["pm@globex.test"]

    refused = punch("invoice", "send", str(invoice.pk), "--to", "not-an-address")
    assert refused.exit_code == 1
    assert "is not an email address" in refused.output

    missing = punch("invoice", "credit", str(invoice.pk), "--line", "7")
    assert missing.exit_code == 1
    assert "has no line 7" in missing.output
    credited = punch("invoice", "credit", str(invoice.pk), "--line", "2")
    assert credited.exit_code == 0, credited.output
    assert "-47.60 EUR gross" in credited.output
    note = Invoice.objects.get(kind="credit_note")
    assert [line.description for line in note.lines.all()] == ["Hosting"]


@pytest.mark.django_db(transaction=True)
def test_invoice_xml_downloads_a_valid_e_invoice(
    billing, punch_as, tmp_path, monkeypatch, wipe_invoices_after
):
    from punchclock.invoicing.documents.einvoice import validation

    invoice = services.issue_invoice(free_draft(billing, ("Design", "2", "100")), by=billing.owner)
    punch = punch_as(billing.owner)
    monkeypatch.chdir(tmp_path)
    done = punch("invoice", "xml", str(invoice.pk))
    assert done.exit_code == 0, done.output
    written = tmp_path / f"{invoice.number}-ubl.xml"
    assert validation.validate(written.read_bytes()).valid
    target = tmp_path / "cii.xml"
    done = punch("invoice", "xml", str(invoice.pk), "--format", "cii", "-o", str(target))
    assert done.exit_code == 0, done.output
    assert validation.validate(target.read_bytes()).syntax == "CII"
    refused = punch("invoice", "xml", str(invoice.pk), "--format", "xrechnung-ubl")
    assert refused.exit_code == 1
    assert "BT-10" in refused.output
