"""`punch invoice` against a live test server."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from punchclock.accounts.services import create_api_token
from punchclock.cli.main import main
from punchclock.invoicing.models import Invoice, InvoiceDocument
from tests.invoicing.conftest import at, track


@pytest.fixture
def punch_as(live_server, tmp_path):
    def make(membership):
        _, raw = create_api_token(membership=membership, name="cli", scope="write")
        env = {
            "PUNCH_CONFIG": str(tmp_path / f"config-{membership.pk}.json"),
            "PUNCH_URL": live_server.url,
            "PUNCH_TOKEN": raw,
        }
        runner = CliRunner()

        def run(*args: str):
            return runner.invoke(main, list(args), env=env)

        return run

    return make


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
