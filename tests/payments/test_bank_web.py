"""The bank pages: upload, reconcile with checkboxes, ignore and reopen, for owners only."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from punchclock.payments import bank
from punchclock.payments.models import BankLine, BankStatement, Payment, PaymentSettings
from tests.conftest import login
from tests.payments.conftest import issued
from tests.payments.test_bank_samples import GERMAN_FIELDS, Entry, camt, german_csv

pytestmark = pytest.mark.usefixtures("frozen_today")

BANK = reverse("payments:bank")


def post_file(http, data: bytes, name: str = "statement.xml", **fields):
    return http.post(BANK, {"file": SimpleUploadedFile(name, data), **fields})


def statement_url(statement: BankStatement) -> str:
    return reverse("payments:bank_statement", kwargs={"pk": statement.pk})


def imported(agency, *entries: Entry) -> BankStatement:
    return bank.import_statement(
        agency.organization, by=agency.owner, data=camt(*entries), filename="s.xml", mapping=None
    )


def test_the_page_offers_the_upload_and_lists_statements(billing):
    statement = imported(billing, Entry("5.00", "x"))
    page = login(billing.owner).get(BANK)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in html
    assert statement_url(statement) in html
    assert 'name="date_column"' in html


def test_uploading_camt_goes_to_the_statement_with_its_proposals(billing):
    invoice = issued(billing)
    http = login(billing.owner)
    response = post_file(http, camt(Entry("119.00", f"Re {invoice.number}"), Entry("-3.00")))

    statement = BankStatement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == statement_url(statement)
    page = http.get(response["Location"])
    html = page.content.decode()
    assert "2 new lines imported. 1 with a proposed invoice." in html
    assert f'<option value="{invoice.pk}" selected>' in html
    assert f"Proposed: {invoice.number} · Globex · €119.00 open." in html
    assert "To reconcile (1)" in html
    assert "All lines (2)" in html
    assert "Paid out" not in html  # money paid out is listed with all lines only
    assert "Paid out" in http.get(response["Location"] + "?show=all").content.decode()


def test_uploading_the_same_statement_again_says_nothing_was_added(billing):
    http = login(billing.owner)
    post_file(http, camt(Entry("1.00", "a"), Entry("2.00", "b")))
    again = post_file(http, camt(Entry("1.00", "a"), Entry("2.00", "b")), "copy.xml")

    assert again["Location"] == statement_url(BankStatement.objects.get())
    assert (
        "All 2 lines were imported before; nothing was added."
        in http.get(again["Location"]).content.decode()
    )
    assert BankLine.objects.count() == 2


def test_uploading_csv_uses_the_mapping_and_prefills_it_next_time(billing):
    http = login(billing.owner)
    data = german_csv(("17.11.2026", "1.190,00", "Globex", "RE 2026-0001"))
    response = post_file(http, data, "umsaetze.csv", **GERMAN_FIELDS)

    assert response.status_code == 302
    assert BankLine.objects.get().amount == 1190
    form = http.get(BANK).content.decode()
    assert 'name="date_column" value="Buchungstag"' in form
    assert 'name="decimal_comma" id="id_decimal_comma" checked' in form


def test_csv_without_a_mapping_asks_for_the_columns(billing):
    response = post_file(login(billing.owner), german_csv(), "umsaetze.csv")
    assert response.status_code == 400
    assert "which columns hold the date, the amount" in response.content.decode()
    assert not BankStatement.objects.exists()


@pytest.mark.parametrize(
    ("data", "fields", "message"),
    [
        (b"", {}, "The submitted file is empty."),
        (b"\x00\x01\x02\xff" * 100, {}, "is not a CAMT.053 XML statement"),
        (b"%PDF-1.4", {}, "PDF statements cannot be read"),
        (b"<Document>", {}, "not valid XML"),
        (
            german_csv(("17.11.2026", "1,00", "A", "B")),
            {**GERMAN_FIELDS, "amount_column": "Betrag", "credit_column": "Haben"},
            "Choose either an amount column or credit and debit columns.",
        ),
        (
            german_csv(("17.11.2026", "1,00", "A", "B")),
            {**GERMAN_FIELDS, "date_column": ""},
            "Name the column that holds the booking date.",
        ),
        (
            german_csv(("2026-11-17", "1,00", "A", "B")),
            GERMAN_FIELDS,
            "Row 4: the date “2026-11-17” in column “Buchungstag” is not a date like DD.MM.YYYY.",
        ),
    ],
    ids=["empty", "binary", "pdf", "broken xml", "two amounts", "no date", "wrong date format"],
)
def test_bad_files_and_mappings_are_explained_and_nothing_is_written(
    billing, data, fields, message
):
    response = post_file(login(billing.owner), data, "upload.csv", **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BankStatement.objects.exists()
    assert PaymentSettings.of(billing.organization.pk).csv_mapping == {}


def test_a_huge_file_is_refused_before_it_is_read(billing, monkeypatch):
    from punchclock.payments import statements

    monkeypatch.setattr(statements, "MAX_BYTES", 1000)
    response = post_file(login(billing.owner), camt(*[Entry("1.00", str(n)) for n in range(9)]))
    assert response.status_code == 400
    assert "statements of up to 0 MB can be imported" in response.content.decode()


def test_recording_the_selected_lines(billing):
    first, second = issued(billing), issued(billing, "50.00")
    statement = imported(
        billing, Entry("119.00", "a"), Entry("59.50", "b"), Entry("7.00", "not selected")
    )
    one, two, _ = statement.lines.order_by("pk")
    http = login(billing.owner)

    response = http.post(
        reverse("payments:bank_confirm", kwargs={"pk": statement.pk}),
        {
            "line": [one.pk, two.pk],
            f"invoice_{one.pk}": first.pk,
            f"invoice_{two.pk}": second.pk,
        },
    )

    assert response.status_code == 302
    assert sorted(Payment.objects.values_list("bank_line_id", flat=True)) == [one.pk, two.pk]
    page = http.get(statement_url(statement)).content.decode()
    assert "2 payments recorded." in page
    assert "To reconcile (1)" in page
    every = http.get(statement_url(statement) + "?show=all").content.decode()
    assert every.count("Recorded</span>") == 2
    assert f'<a href="/invoices/{first.pk}/">{first.number}</a>' in every


def test_lines_that_fail_are_marked_and_the_others_recorded(billing):
    invoice = issued(billing)
    statement = imported(billing, Entry("119.00", "a"), Entry("5.00", "b"), Entry("9.00", "c"))
    good, unchosen, foreign = statement.lines.order_by("pk")

    response = login(billing.owner).post(
        reverse("payments:bank_confirm", kwargs={"pk": statement.pk}),
        {
            "line": [good.pk, unchosen.pk, foreign.pk, "junk", "9" * 30],
            f"invoice_{good.pk}": invoice.pk,
            f"invoice_{foreign.pk}": 10**17,
        },
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "1 payment recorded." in html
    assert "2 could not be recorded; see the lines marked." in html
    assert html.count("Choose the invoice this payment is for.") == 2
    assert list(Payment.objects.values_list("bank_line_id", flat=True)) == [good.pk]


def test_long_statements_come_in_pages_and_errors_stay_on_theirs(billing, monkeypatch):
    from punchclock.payments import bank_views

    monkeypatch.setattr(bank_views, "LINES_PER_PAGE", 2)
    statement = imported(billing, *[Entry(f"{n}.00", str(n)) for n in range(1, 6)])
    http = login(billing.owner)
    second_page = http.get(statement_url(statement) + "?page=2").content.decode()
    assert "3–4 of 5 lines" in second_page
    third = statement.lines.order_by("pk")[2]
    assert f'id="line-{third.pk}"' in second_page
    assert "/confirm/?page=2" in second_page

    response = http.post(
        reverse("payments:bank_confirm", kwargs={"pk": statement.pk}) + "?page=2",
        {"line": [third.pk]},
    )
    assert response.status_code == 400
    assert f'<tr id="line-{third.pk}" class="bank-line bank-open has-error">' in (
        response.content.decode()
    )


def test_recording_nothing_selected_says_so(billing):
    statement = imported(billing, Entry("1.00", "a"))
    http = login(billing.owner)
    response = http.post(reverse("payments:bank_confirm", kwargs={"pk": statement.pk}), {})
    assert response.status_code == 302
    assert "Select the lines to record" in http.get(response["Location"]).content.decode()


def test_ignore_and_reopen_answer_htmx_with_the_row(billing):
    statement = imported(billing, Entry("1.00", "a"))
    line = statement.lines.get()
    http = login(billing.owner)
    htmx = {"HTTP_HX_REQUEST": "true"}

    ignored = http.post(reverse("payments:bank_line_ignore", kwargs={"pk": line.pk}), **htmx)
    html = ignored.content.decode()
    assert ignored.status_code == 200
    assert html.lstrip().startswith(f'<tr id="line-{line.pk}"')
    assert "Ignored" in html
    assert "Reopen" in html
    assert "<html" not in html

    reopened = http.post(reverse("payments:bank_line_reopen", kwargs={"pk": line.pk}))
    assert reopened.status_code == 302
    assert reopened["Location"] == f"{statement_url(statement)}#line-{line.pk}"
    line.refresh_from_db()
    assert line.status == BankLine.Status.OPEN


def test_a_recorded_line_cannot_be_ignored(billing):
    invoice = issued(billing)
    line = imported(billing, Entry("119.00", "a")).lines.get()
    bank.confirm(line, invoice, by=billing.owner)

    response = login(billing.owner).post(
        reverse("payments:bank_line_ignore", kwargs={"pk": line.pk}), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "delete that payment" in response.content.decode()
    line.refresh_from_db()
    assert line.status == BankLine.Status.MATCHED


def test_outsiders_get_404_and_change_nothing(billing, outsider):
    invoice = issued(billing)
    statement = imported(billing, Entry("119.00", "Globex"))
    line = statement.lines.get()
    http = login(outsider)

    assert http.get(statement_url(statement)).status_code == 404
    for name, pk in [
        ("payments:bank_confirm", statement.pk),
        ("payments:bank_line_ignore", line.pk),
        ("payments:bank_line_reopen", line.pk),
    ]:
        response = http.post(
            reverse(name, kwargs={"pk": pk}), {"line": [line.pk], f"invoice_{line.pk}": invoice.pk}
        )
        assert response.status_code == 404, name
    assert "Globex" not in http.get(BANK).content.decode()
    assert not Payment.objects.exists()
    line.refresh_from_db()
    assert line.status == BankLine.Status.OPEN


def test_a_line_of_another_statement_is_not_confirmed_through_this_one(billing):
    invoice = issued(billing)
    first = imported(billing, Entry("119.00", "a"))
    second = imported(billing, Entry("5.00", "b"))
    line = first.lines.get()

    login(billing.owner).post(
        reverse("payments:bank_confirm", kwargs={"pk": second.pk}),
        {"line": [line.pk], f"invoice_{line.pk}": invoice.pk},
    )
    assert not Payment.objects.exists()


@pytest.mark.parametrize("role", ["manager", "member"])
def test_only_owners_and_admins_reach_the_bank_pages(billing, role):
    statement = imported(billing, Entry("1.00", "a"))
    http = login(getattr(billing, role))
    assert http.get(BANK).status_code == 403
    assert http.get(statement_url(statement)).status_code == 403
    assert post_file(http, camt(Entry("2.00", "b"))).status_code == 403
    assert BankStatement.objects.count() == 1
