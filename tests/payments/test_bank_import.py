"""Importing bank statements: new lines once per organization, proposals, clear refusals."""

from __future__ import annotations

import threading
from dataclasses import replace
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from punchclock.payments import bank, statements
from punchclock.payments.models import BankLine, BankStatement, PaymentSettings
from punchclock.payments.statements import CsvMapping
from tests.payments.conftest import issued
from tests.payments.test_bank_samples import GERMAN, Entry, camt, german_csv

pytestmark = pytest.mark.usefixtures("frozen_today")


def upload(agency, data: bytes, mapping: CsvMapping | None = None, name: str = "s.xml"):
    return bank.import_statement(
        agency.organization, by=agency.owner, data=data, filename=name, mapping=mapping
    )


def nothing_stored(agency) -> bool:
    org = agency.organization
    return not BankStatement.objects.filter(organization=org).exists() and not (
        BankLine.objects.filter(organization=org).exists()
    )


FOUR = [
    Entry("119.00", "Rechnung 2026-0001", bank_id="B1"),
    Entry("-89.90", "Server", payer="Hetzner", bank_id="B2"),
    Entry("50.00", "Danke", bank_id="B3"),
    Entry("12.00", "Zinsen", payer="Bank", bank_id="B4"),
]


def test_a_camt_statement_stores_its_lines_signed(billing):
    statement = upload(billing, camt(*FOUR))

    assert (statement.line_count, statement.new_lines) == (4, 4)
    assert statement.uploaded_by == billing.owner.user
    lines = list(statement.lines.order_by("pk"))
    assert [line.amount for line in lines] == [
        Decimal("119.00"),
        Decimal("-89.90"),
        Decimal("50.00"),
        Decimal("12.00"),
    ]
    assert lines[1].counterparty == "Hetzner"
    assert {line.status for line in lines} == {BankLine.Status.OPEN}
    assert len(statement.sha256) == 64


def test_importing_the_same_statement_again_adds_nothing_and_says_so(billing):
    first = upload(billing, camt(*FOUR))

    with pytest.raises(bank.AlreadyImported, match="All 4 lines were imported before") as caught:
        upload(billing, camt(*FOUR))

    assert caught.value.statement == first
    assert BankStatement.objects.count() == 1
    assert BankLine.objects.count() == 4


def test_an_overlapping_statement_adds_only_its_new_lines(billing):
    upload(billing, camt(*FOUR[:3]))
    later = upload(billing, camt(*FOUR[1:], Entry("7.00", "Neu", bank_id="B5")))

    assert (later.line_count, later.new_lines) == (4, 2)
    assert sorted(later.lines.values_list("bank_reference", flat=True)) == ["B4", "B5"]
    assert BankLine.objects.count() == 5


def test_another_organization_may_import_the_same_lines(billing, outsider):
    upload(billing, camt(*FOUR))
    theirs = bank.import_statement(
        outsider.organization, by=outsider, data=camt(*FOUR), filename="s.xml", mapping=None
    )
    assert theirs.new_lines == 4


def test_proposals_by_invoice_number_and_by_amount(billing):
    named = issued(billing)  # 119.00
    by_amount = issued(billing, "42.02")  # 50.00
    statement = upload(billing, camt(*FOUR))

    lines = {line.bank_reference: line for line in statement.lines.all()}
    assert lines["B1"].proposed_invoice == named
    assert lines["B1"].proposal_reason == (
        f"The payment text names invoice {named.number} and the amount equals its open balance."
    )
    assert lines["B3"].proposed_invoice == by_amount
    assert lines["B3"].proposal_reason.startswith("The amount €50.00 equals the open balance")
    assert lines["B2"].proposed_invoice is None  # money paid out is never matched
    assert lines["B4"].proposed_invoice is None


def test_paid_credited_and_draft_invoices_are_not_proposed(billing):
    from punchclock.invoicing import services as invoicing
    from punchclock.payments.services import record_payment
    from tests.payments.conftest import ISSUED, paid

    credited = issued(billing)  # 2026-0001
    invoicing.credit_invoice(credited, by=billing.owner, issue_date=ISSUED)
    settled = issued(billing, "42.02")
    record_payment(settled, paid("50.00"), by=billing.owner)
    invoicing.start_draft(billing.client, by=billing.owner)

    statement = upload(billing, camt(*FOUR))

    assert not statement.lines.filter(proposed_invoice__isnull=False).exists()


def test_a_csv_statement_is_read_with_its_mapping_which_is_remembered(billing):
    invoice = issued(billing)
    data = german_csv(
        ("17.11.2026", "119,00", "Globex Corp.", f"RE {invoice.number}"),
        ("18.11.2026", "-1.250,00", "Finanzamt", "USt"),
    )
    statement = upload(billing, data, GERMAN, name="umsaetze.csv")

    assert [line.amount for line in statement.lines.all()] == [
        Decimal("119.00"),
        Decimal("-1250.00"),
    ]
    assert statement.lines.first().proposed_invoice == invoice
    remembered = PaymentSettings.of(billing.organization.pk).csv_mapping
    assert remembered["date"] == "Buchungstag"
    assert bank.saved_mapping(billing.organization) == GERMAN


def test_a_camt_import_leaves_the_remembered_csv_mapping_alone(billing):
    upload(billing, camt(*FOUR), GERMAN)
    assert PaymentSettings.of(billing.organization.pk).csv_mapping == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"  \n", "The file is empty."),
        (b"%PDF-1.7 \x00\x01", "PDF statements cannot be read"),
        (b"PK\x03\x04\x00\x00", "ZIP archive or an Excel workbook"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not a CAMT.053 XML statement"),
        (b"<html><body>Login</body></html>", "not a CAMT.053 bank statement"),
        (b"<Document><BkToCstmrStmt>", "not valid XML"),
        (camt()[:-40], "not valid XML"),
    ],
)
def test_files_that_are_no_statement_are_refused_and_nothing_is_written(billing, data, message):
    with pytest.raises(ValidationError) as caught:
        upload(billing, data)
    assert message in caught.value.message_dict["file"][0]
    assert nothing_stored(billing)


def test_a_statement_without_booked_entries_is_refused(billing):
    with pytest.raises(ValidationError, match="holds no booked entries"):
        upload(billing, camt())
    assert nothing_stored(billing)


def test_a_mapping_that_does_not_fit_the_file_is_explained(billing):
    wrong = replace(GERMAN, date="Datum")
    with pytest.raises(ValidationError, match="Column “Datum” not found"):
        upload(billing, german_csv(("17.11.2026", "1,00", "A", "B")), wrong, name="x.csv")
    assert nothing_stored(billing)
    assert PaymentSettings.of(billing.organization.pk).csv_mapping == {}


def test_files_over_the_limit_are_refused(billing, monkeypatch):
    monkeypatch.setattr(statements, "MAX_BYTES", 100)
    with pytest.raises(ValidationError, match="statements of up to 0 MB"):
        upload(billing, camt(*FOUR))
    assert nothing_stored(billing)


@pytest.mark.parametrize("amount", ["12345678901,00", "1,00001"])
def test_amounts_no_payment_can_have_are_refused(billing, amount):
    data = german_csv(("17.11.2026", amount, "A", "B"))
    with pytest.raises(ValidationError, match=r"Row 4: the amount .* cannot be a payment"):
        upload(billing, data, GERMAN, name="x.csv")
    assert nothing_stored(billing)


def test_long_names_and_nul_characters_are_stored_safely(billing):
    data = german_csv(("17.11.2026", "1,00", "N" * 300, "a\x00b"))
    line = upload(billing, data, GERMAN, name="x\x00.csv").lines.get()
    assert len(line.counterparty) == 200
    assert line.reference == "ab"
    assert line.statement.filename == "x.csv"


def test_only_payment_managers_import(billing, outsider):
    with pytest.raises(PermissionDenied):
        bank.import_statement(
            billing.organization, by=billing.member, data=camt(*FOUR), filename="s", mapping=None
        )
    with pytest.raises(ValidationError, match="another organization"):
        bank.import_statement(
            billing.organization, by=outsider, data=camt(*FOUR), filename="s", mapping=None
        )
    assert nothing_stored(billing)


def test_a_remembered_mapping_that_no_longer_works_is_forgotten(billing):
    settings = PaymentSettings.of(billing.organization.pk)
    settings.csv_mapping = {"date": "", "amount": "x", "unknown": 1}
    settings.save()
    assert bank.saved_mapping(billing.organization) is None


@pytest.mark.django_db(transaction=True)
def test_the_same_file_uploaded_twice_at_once_stores_each_line_once(billing, wipe_invoices_after):
    data = camt(*[Entry(f"{n}.00", f"Payment {n}", bank_id=f"B{n}") for n in range(1, 41)])
    barrier = threading.Barrier(2)
    results: list[object] = []

    def send() -> None:
        try:
            barrier.wait()
            results.append(upload(billing, data).new_lines)
        except ValidationError as exc:
            results.append(exc.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert BankLine.objects.count() == 40
    assert sorted(results, key=str) == [40, "All 40 lines were imported before; nothing was added."]
    assert BankStatement.objects.count() == 1


def test_lines_a_concurrent_upload_stored_first_are_skipped_by_the_constraint(billing, monkeypatch):
    upload(billing, camt(*FOUR[:2]))
    # As if another upload stored these lines between the check and the insert.
    monkeypatch.setattr(bank, "_known_fingerprints", lambda organization, fingerprints: set())

    later = upload(billing, camt(*FOUR))
    assert (later.line_count, later.new_lines) == (4, 2)
    with pytest.raises(bank.AlreadyImported):
        upload(billing, camt(*FOUR))
    assert BankLine.objects.count() == 4
    assert BankStatement.objects.count() == 2
