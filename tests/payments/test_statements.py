"""Bank statements: CAMT.053 and CSV exports read into signed lines with stable fingerprints."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from punchclock.payments import statements
from punchclock.payments.statements import (
    CsvMapping,
    StatementError,
    parse_bank_amount,
    parse_camt053,
    parse_csv,
    parse_statement,
)

# A March statement in camt.053.001.02, as German banks sent it for years: <Sts> as text,
# party names directly under <Dbtr>/<Cdtr>, batch amounts in AmtDtls.
CAMT_02 = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>STMT20260331-0001</MsgId><CreDtTm>2026-04-01T06:12:00+02:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>2026-03-DE89370400440532013000</Id>
      <ElctrncSeqNb>3</ElctrncSeqNb>
      <CreDtTm>2026-04-01T06:12:00+02:00</CreDtTm>
      <Acct>
        <Id><IBAN>DE89370400440532013000</IBAN></Id>
        <Ccy>EUR</Ccy>
        <Ownr><Nm>Acme Agency GmbH</Nm></Ownr>
      </Acct>
      <Bal>
        <Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="EUR">10000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>2026-03-01</Dt></Dt>
      </Bal>
      <Ntry>
        <Amt Ccy="EUR">1190.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2026-03-02</Dt></BookgDt>
        <ValDt><Dt>2026-03-03</Dt></ValDt>
        <AcctSvcrRef>2026030200001234</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
          <AmtDtls><TxAmt><Amt Ccy="EUR">1190.00</Amt></TxAmt></AmtDtls>
          <RltdPties>
            <Dbtr><Nm>Globex Corporation</Nm></Dbtr>
            <DbtrAcct><Id><IBAN>DE02 1203 0000 0000 2020 51</IBAN></Id></DbtrAcct>
          </RltdPties>
          <RmtInf><Ustrd>Rechnung RE-2026-0012</Ustrd><Ustrd>  vielen   Dank</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">89.90</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2026-03-05</Dt></BookgDt>
        <ValDt><Dt>2026-03-05</Dt></ValDt>
        <AcctSvcrRef>2026030500004711</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <RltdPties>
            <Cdtr><Nm>Hetzner Online GmbH</Nm></Cdtr>
            <CdtrAcct><Id><IBAN>DE92760700120750007700</IBAN></Id></CdtrAcct>
          </RltdPties>
          <RmtInf><Ustrd>Kundennummer K0815 Server Maerz</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">5000.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>PDNG</Sts>
        <BookgDt><Dt>2026-03-31</Dt></BookgDt>
        <AcctSvcrRef>2026033100000001</AcctSvcrRef>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">300.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2026-03-10</Dt></BookgDt>
        <ValDt><Dt>2026-03-10</Dt></ValDt>
        <AcctSvcrRef>2026031000000042</AcctSvcrRef>
        <AddtlNtryInf>SAMMELGUTSCHRIFT</AddtlNtryInf>
        <NtryDtls>
          <Btch><NbOfTxs>2</NbOfTxs></Btch>
          <TxDtls>
            <AmtDtls><TxAmt><Amt Ccy="EUR">100.00</Amt></TxAmt></AmtDtls>
            <RltdPties><Dbtr><Nm>Initech LLC</Nm></Dbtr></RltdPties>
            <RmtInf><Ustrd>RE-2026-0014</Ustrd></RmtInf>
          </TxDtls>
          <TxDtls>
            <AmtDtls><TxAmt><Amt Ccy="EUR">200.00</Amt></TxAmt></AmtDtls>
            <RltdPties><Dbtr><Nm>Umbrella plc</Nm></Dbtr></RltdPties>
          </TxDtls>
        </NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">450.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2026-03-12</Dt></BookgDt>
        <ValDt><Dt>2026-03-12</Dt></ValDt>
        <AcctSvcrRef>NONREF</AcctSvcrRef>
        <NtryRef>BANK-REF-77</NtryRef>
        <NtryDtls><TxDtls>
          <RltdPties><Dbtr><Nm>Stark Industries</Nm></Dbtr></RltdPties>
          <RmtInf><Strd><CdtrRefInf>
            <Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>
            <Ref>RF18539007547034</Ref>
          </CdtrRefInf></Strd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">12.50</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2026-03-31</Dt></BookgDt>
        <ValDt><Dt>2026-03-31</Dt></ValDt>
        <AddtlNtryInf>Kontofuehrungsgebuehr Maerz</AddtlNtryInf>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""

# The same kind of statement in camt.053.001.08: <Sts><Cd>, parties wrapped in <Pty>, the
# amount of each transaction in TxDtls/Amt, and two identical payments on one day.
CAMT_08 = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>20260401-CH-0001</MsgId><CreDtTm>2026-04-01T05:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>STMT-2026-03</Id>
      <Acct><Id><IBAN>CH9300762011623852957</IBAN></Id><Ccy>CHF</Ccy></Acct>
      <Ntry>
        <NtryRef>1</NtryRef>
        <Amt Ccy="CHF">2500.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><DtTm>2026-03-16T09:30:00+01:00</DtTm></BookgDt>
        <ValDt><Dt>2026-03-16</Dt></ValDt>
        <AcctSvcrRef>CH-20260316-000981</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <Amt Ccy="CHF">2500.00</Amt>
          <CdtDbtInd>CRDT</CdtDbtInd>
          <RltdPties>
            <Dbtr><Pty><Nm>Wayne Enterprises AG</Nm></Pty></Dbtr>
            <DbtrAcct><Id><IBAN>CH5604835012345678009</IBAN></Id></DbtrAcct>
          </RltdPties>
          <RmtInf><Ustrd>Invoice re 2026 0021</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="CHF">50.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-03-20</Dt></BookgDt>
        <NtryDtls><TxDtls>
          <RltdPties><Dbtr><Pty><Nm>Hooli</Nm></Pty></Dbtr></RltdPties>
          <RmtInf><Ustrd>Support</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="CHF">50.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-03-20</Dt></BookgDt>
        <NtryDtls><TxDtls>
          <RltdPties><Dbtr><Pty><Nm>Hooli</Nm></Pty></Dbtr></RltdPties>
          <RmtInf><Ustrd>Support</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="CHF">700.00</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts><Cd>INFO</Cd></Sts>
        <BookgDt><Dt>2026-03-31</Dt></BookgDt>
      </Ntry>
      <Ntry>
        <Amt Ccy="CHF">1000.00</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-03-25</Dt></BookgDt>
        <AcctSvcrRef>CH-20260325-001200</AcctSvcrRef>
        <NtryDtls>
          <Btch><NbOfTxs>2</NbOfTxs></Btch>
          <TxDtls>
            <Amt Ccy="CHF">600.00</Amt>
            <RltdPties><Cdtr><Pty><Nm>Freelancer One</Nm></Pty></Cdtr></RltdPties>
          </TxDtls>
          <TxDtls>
            <Amt Ccy="CHF">400.00</Amt>
            <RltdPties><Cdtr><Pty><Nm>Freelancer Two</Nm></Pty></Cdtr></RltdPties>
          </TxDtls>
        </NtryDtls>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""


def _entry(xml: str) -> bytes:
    """A camt.053.001.02 statement around one <Ntry>."""
    return (
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        f"<Stmt><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>{xml}</Stmt>"
        "</BkToCstmrStmt></Document>"
    ).encode()


# CAMT.053 -------------------------------------------------------------------------------


def test_camt_02_gives_the_booked_entries_in_order_with_signed_amounts():
    lines = parse_camt053(CAMT_02)

    amounts = [line.amount for line in lines]
    assert amounts == [Decimal(a) for a in ("1190.00", "-89.90", "100.00", "200.00", "450.00")] + [
        Decimal("-12.50")
    ]
    assert all(line.currency == "EUR" for line in lines)
    assert [line.source_line for line in lines] == [1, 2, 4, 4, 5, 6]


def test_a_credit_names_the_debtor_and_joins_the_unstructured_text():
    credit = parse_camt053(CAMT_02)[0]

    assert credit.booking_date == date(2026, 3, 2)
    assert credit.value_date == date(2026, 3, 3)
    assert credit.reference == "Rechnung RE-2026-0012 vielen Dank"
    assert credit.counterparty == "Globex Corporation"
    assert credit.counterparty_iban == "DE02120300000000202051"
    assert credit.bank_reference == "2026030200001234"


def test_a_debit_is_negative_and_names_the_creditor():
    debit = parse_camt053(CAMT_02)[1]

    assert debit.amount == Decimal("-89.90")
    assert debit.counterparty == "Hetzner Online GmbH"
    assert debit.counterparty_iban == "DE92760700120750007700"
    assert debit.reference == "Kundennummer K0815 Server Maerz"


def test_pending_and_information_entries_are_skipped():
    assert Decimal("5000.00") not in [line.amount for line in parse_camt053(CAMT_02)]
    assert Decimal("-700.00") not in [line.amount for line in parse_camt053(CAMT_08)]


def test_a_batch_gives_one_line_per_transaction_with_its_own_party():
    first, second = parse_camt053(CAMT_02)[2:4]

    assert (first.amount, first.counterparty, first.reference) == (
        Decimal("100.00"),
        "Initech LLC",
        "RE-2026-0014",
    )
    # Without its own remittance text a transaction falls back to the entry's.
    assert (second.amount, second.counterparty, second.reference) == (
        Decimal("200.00"),
        "Umbrella plc",
        "SAMMELGUTSCHRIFT",
    )
    assert first.bank_reference == second.bank_reference == "2026031000000042"
    assert first.fingerprint != second.fingerprint


def test_a_structured_creditor_reference_becomes_the_reference():
    line = parse_camt053(CAMT_02)[4]

    assert line.reference == "RF18539007547034"
    assert line.counterparty == "Stark Industries"


def test_nonref_is_no_reference_and_the_entry_reference_steps_in():
    assert parse_camt053(CAMT_02)[4].bank_reference == "BANK-REF-77"


def test_an_entry_without_any_reference_keeps_its_additional_information():
    fee = parse_camt053(CAMT_02)[5]

    assert fee.bank_reference == ""
    assert fee.reference == "Kontofuehrungsgebuehr Maerz"
    assert fee.counterparty == ""
    assert fee.value_date == date(2026, 3, 31)


def test_camt_08_reads_status_codes_wrapped_parties_and_date_times():
    lines = parse_camt053(CAMT_08)

    assert [line.amount for line in lines] == [
        Decimal("2500.00"),
        Decimal("50.00"),
        Decimal("50.00"),
        Decimal("-600.00"),
        Decimal("-400.00"),
    ]
    payment = lines[0]
    assert payment.booking_date == date(2026, 3, 16)
    assert payment.counterparty == "Wayne Enterprises AG"
    assert payment.counterparty_iban == "CH5604835012345678009"
    assert payment.currency == "CHF"
    assert payment.bank_reference == "CH-20260316-000981"
    assert [line.counterparty for line in lines[3:]] == ["Freelancer One", "Freelancer Two"]


def test_a_transaction_in_another_currency_keeps_the_booked_amount():
    lines = parse_camt053(
        _entry(
            '<Ntry><Amt Ccy="EUR">92.10</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
            "<BookgDt><Dt>2026-03-02</Dt></BookgDt><NtryDtls><TxDtls>"
            '<AmtDtls><InstdAmt><Amt Ccy="USD">100.00</Amt></InstdAmt></AmtDtls>'
            "</TxDtls></NtryDtls></Ntry>"
        )
    )

    assert [(line.amount, line.currency) for line in lines] == [(Decimal("92.10"), "EUR")]


def test_a_statement_without_entries_is_empty():
    assert parse_camt053(_entry("")) == []


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            '<Ntry><Amt Ccy="EUR">12,50</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
            "<BookgDt><Dt>2026-03-02</Dt></BookgDt></Ntry>",
            "Entry 1: the amount (Amt) “12,50” is not a number.",
        ),
        (
            '<Ntry><Amt Ccy="EURO">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
            "<BookgDt><Dt>2026-03-02</Dt></BookgDt></Ntry>",
            "Entry 1: “EURO” (Ccy of Amt) is not a currency code.",
        ),
        (
            '<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>PLUS</CdtDbtInd><Sts>BOOK</Sts>'
            "<BookgDt><Dt>2026-03-02</Dt></BookgDt></Ntry>",
            "Entry 1: the credit/debit indicator (CdtDbtInd) is “PLUS”, not CRDT or DBIT.",
        ),
        (
            '<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
            "<BookgDt><Dt>02.03.2026</Dt></BookgDt></Ntry>",
            "Entry 1: the booking date (BookgDt) “02.03.2026” is not a date.",
        ),
        (
            '<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts></Ntry>',
            "Entry 1: the booking date (BookgDt) is missing.",
        ),
        (
            '<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
            "<BookgDt><Dt>2026-03-02</Dt></BookgDt></Ntry>",
            "Entry 1: the status (Sts) is missing.",
        ),
    ],
)
def test_a_broken_entry_is_named_with_its_element(entry, message):
    with pytest.raises(StatementError) as error:
        parse_camt053(_entry(entry))

    assert str(error.value) == message


def test_a_document_type_declaration_is_refused():
    doctype = b'<?xml version="1.0"?><!DOCTYPE Document SYSTEM "camt.dtd">' + _entry("")

    with pytest.raises(StatementError, match="DTD or entities"):
        parse_camt053(doctype)


def test_entity_expansion_is_refused():
    laughs = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Document><BkToCstmrStmt><Stmt><Ntry><AddtlNtryInf>&lol3;</AddtlNtryInf></Ntry></Stmt>
</BkToCstmrStmt></Document>"""

    with pytest.raises(StatementError, match="refused for safety"):
        parse_camt053(laughs)


def test_an_undeclared_entity_is_malformed_xml():
    with pytest.raises(StatementError, match="not valid XML"):
        parse_camt053(b"<Document>&xxe;</Document>")


@pytest.mark.parametrize(
    "xml",
    [
        b"<Document><BkToCstmrStmt><Stmt>",
        b"<?xml version='1.0' encoding='no-such-charset'?><Document/>",
        b"<Document>\x00</Document>",
    ],
)
def test_malformed_xml_is_refused(xml):
    with pytest.raises(StatementError, match="not valid XML"):
        parse_camt053(xml)


def test_another_camt_message_is_named():
    report = b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08">'
    report += b"<BkToCstmrAcctRpt/></Document>"

    with pytest.raises(StatementError) as error:
        parse_camt053(report)

    assert str(error.value).startswith(
        "This is not a CAMT.053 bank statement but a CAMT.052 intraday account report."
    )


def test_any_other_xml_is_not_a_statement():
    with pytest.raises(StatementError, match=r"This is not a CAMT\.053 bank statement"):
        parse_camt053(b"<Invoice><ID>RE-2026-0012</ID></Invoice>")


# Fingerprints ---------------------------------------------------------------------------


def test_parsing_again_gives_the_same_fingerprints():
    first = [line.fingerprint for line in parse_camt053(CAMT_02)]

    assert first == [line.fingerprint for line in parse_camt053(CAMT_02)]
    assert all(len(fingerprint) == 64 for fingerprint in first)
    assert len(set(first)) == len(first)


def test_identical_payments_on_one_day_get_different_fingerprints():
    lines = parse_camt053(CAMT_08)
    twins = lines[1:3]

    assert twins[0].reference == twins[1].reference == "Support"
    assert twins[0].fingerprint != twins[1].fingerprint
    assert len({line.fingerprint for line in lines}) == len(lines)


def test_a_bank_reference_fingerprint_ignores_reworded_texts():
    reworded = CAMT_02.replace(b"vielen   Dank", b"Danke!").replace(b"Kontofuehrung", b"Konto")
    before, after = parse_camt053(CAMT_02), parse_camt053(reworded)

    assert before[0].reference != after[0].reference
    assert before[0].fingerprint == after[0].fingerprint
    # Without a bank reference the text is all there is to go on.
    assert before[5].fingerprint != after[5].fingerprint


def test_an_entry_reference_alone_does_not_make_the_fingerprint():
    # Many banks number entries per statement in NtryRef: a monthly export gives the same
    # entry another NtryRef than the daily one did.
    renumbered = parse_camt053(CAMT_02.replace(b"BANK-REF-77", b"BANK-REF-3"))[4]

    assert renumbered.bank_reference == "BANK-REF-3"
    assert renumbered.fingerprint == parse_camt053(CAMT_02)[4].fingerprint


def test_the_statement_account_is_part_of_the_fingerprint():
    other_account = CAMT_02.replace(b"DE89370400440532013000", b"DE75512108001245126199")

    before, after = parse_camt053(CAMT_02), parse_camt053(other_account)

    assert not {line.fingerprint for line in before} & {line.fingerprint for line in after}


# CSV ------------------------------------------------------------------------------------

GERMAN = CsvMapping(
    date="Buchungstag",
    value_date="Valuta",
    reference=("Buchungstext", "Verwendungszweck"),
    counterparty="Auftraggeber / Empfänger",
    iban="IBAN",
    credit="Haben",
    debit="Soll",
    currency="Währung",
    date_format="%d.%m.%Y",
    decimal_comma=True,
    skip_rows=4,
)

GERMAN_EXPORT = (
    '"Umsatzanzeige";"Konto DE89 3704 0044 0532 0130 00"\r\n'
    '"Zeitraum:";"01.03.2026 - 31.03.2026"\r\n'
    '"Kontostand vom 31.03.2026:";"12.345,67 EUR"\r\n'
    "\r\n"
    '"Buchungstag";"Valuta";"Auftraggeber / Empfänger";"Buchungstext";"Verwendungszweck";'
    '"IBAN";"Soll";"Haben";"Währung"\r\n'
    '"02.03.2026";"03.03.2026";"Müller & Söhne GmbH";"Gutschrift";"RE-2026-0012 Dank";'
    '"DE02 1203 0000 0000 2020 51";"";"1.190,00";"EUR"\r\n'
    '"05.03.2026";"05.03.2026";"Bäckerei Weiß";"Lastschrift";"Brötchen für das Büro";'
    '"DE75512108001245126199";"-23,40";"";"EUR"\r\n'
    ";;;;;;;;\r\n"
    '"20.03.2026";"20.03.2026";"Jürgen Groß";"Gutschrift";"Beratung";'
    '"";"";"50,00";"EUR"\r\n'
    '"20.03.2026";"20.03.2026";"Jürgen Groß";"Gutschrift";"Beratung";'
    '"";"";"50,00";"EUR"\r\n'
).encode("cp1252")

ENGLISH = CsvMapping(
    date="Date",
    amount="Amount",
    reference=("Description",),
    counterparty="Payee",
    bank_reference="Transaction ID",
    default_currency="USD",
)

ENGLISH_EXPORT = (
    b"Date,Transaction ID,Payee,Description,Amount\n"
    b'2026-03-02,TX-0001,"Globex, Inc.","Invoice RE-2026-0012","+1,234.56"\n'
    b"2026-03-04,TX-0002,AWS,Cloud services,-312.08\n"
    b'2026-03-05,TX-0003,Initech,"Payment for\nRE-2026-0014",500.00\n'
    b"2026-03-06,TX-0004,Bank,Fee,(12.00)\n"
)


def test_a_german_export_reads_preamble_cp1252_and_debit_credit_columns():
    lines = parse_csv(GERMAN_EXPORT, GERMAN)

    assert [line.amount for line in lines] == [
        Decimal("1190.00"),
        Decimal("-23.40"),
        Decimal("50.00"),
        Decimal("50.00"),
    ]
    credit, debit = lines[0], lines[1]
    assert credit.booking_date == date(2026, 3, 2)
    assert credit.value_date == date(2026, 3, 3)
    assert credit.counterparty == "Müller & Söhne GmbH"
    assert credit.counterparty_iban == "DE02120300000000202051"
    assert credit.reference == "Gutschrift RE-2026-0012 Dank"
    assert credit.currency == "EUR"
    assert credit.source_line == 6  # the row as a spreadsheet shows it
    assert debit.counterparty == "Bäckerei Weiß"
    assert debit.reference == "Lastschrift Brötchen für das Büro"
    assert lines[2].source_line == 9  # the empty row 8 was skipped


def test_an_english_export_reads_one_signed_amount_and_quoted_cells():
    lines = parse_csv(ENGLISH_EXPORT, ENGLISH)

    assert [line.amount for line in lines] == [
        Decimal("1234.56"),
        Decimal("-312.08"),
        Decimal("500.00"),
        Decimal("-12.00"),
    ]
    assert lines[0].counterparty == "Globex, Inc."
    assert lines[0].currency == "USD"
    assert lines[0].bank_reference == "TX-0001"
    assert lines[0].value_date is None
    assert lines[2].reference == "Payment for RE-2026-0014"
    assert lines[3].source_line == 6  # row 4 spans two lines of the file


def test_csv_fingerprints_are_stable_and_twins_differ():
    first, again = parse_csv(GERMAN_EXPORT, GERMAN), parse_csv(GERMAN_EXPORT, GERMAN)

    assert [line.fingerprint for line in first] == [line.fingerprint for line in again]
    assert first[2].fingerprint != first[3].fingerprint


def test_a_csv_transaction_id_makes_the_fingerprint_whatever_the_text():
    reworded = ENGLISH_EXPORT.replace(b"Cloud services", b"AWS EMEA SARL cloud services")

    before, after = parse_csv(ENGLISH_EXPORT, ENGLISH), parse_csv(reworded, ENGLISH)

    assert [line.fingerprint for line in before] == [line.fingerprint for line in after]


def test_a_utf8_export_with_byte_order_mark_reads_the_first_header():
    data = "\ufeffDate,Description,Amount\n2026-03-02,Zahlung für RE-1,5.00\n".encode()

    (line,) = parse_csv(data, CsvMapping(date="date", amount="AMOUNT", reference=("Description",)))

    assert line.reference == "Zahlung für RE-1"


def test_a_missing_column_lists_the_headers_found():
    mapping = CsvMapping(date="Buchungstag", amount="Betrag", reference=("Text",), skip_rows=4)

    with pytest.raises(StatementError) as error:
        parse_csv(GERMAN_EXPORT, mapping)

    message = str(error.value)
    assert message.startswith("Columns “Betrag” and “Text” not found in the header (row 5).")
    assert "“Buchungstag”, “Valuta”, “Auftraggeber / Empfänger”" in message


def test_forgetting_the_preamble_shows_what_was_taken_for_the_header():
    with pytest.raises(StatementError, match="“Umsatzanzeige”"):
        parse_csv(GERMAN_EXPORT, replace(GERMAN, skip_rows=0))


def test_a_bad_amount_names_the_row_and_column():
    data = b"Date,Description,Amount\n2026-03-02,ok,1.00\n2026-03-03,broken,abc\n"

    with pytest.raises(StatementError) as error:
        parse_csv(data, CsvMapping(date="Date", amount="Amount", reference=("Description",)))

    assert str(error.value) == "Row 3: the amount “abc” in column “Amount” is not a number."


def test_an_amount_in_the_other_style_hints_at_the_decimal_comma_setting():
    data = b"Date;Amount\n2026-03-02;1.234,56\n"

    with pytest.raises(StatementError, match=r"Row 2: .*1\.234,56 style"):
        parse_csv(data, CsvMapping(date="Date", amount="Amount"))


def test_a_bad_date_shows_the_expected_format():
    data = b"Datum;Betrag\n31.02.2026;1,00\n"
    mapping = CsvMapping(date="Datum", amount="Betrag", date_format="%d.%m.%Y", decimal_comma=True)

    with pytest.raises(StatementError) as error:
        parse_csv(data, mapping)

    assert str(error.value) == (
        "Row 2: the date “31.02.2026” in column “Datum” is not a date like DD.MM.YYYY."
    )


@pytest.mark.parametrize(
    ("soll", "haben", "message"),
    [
        ("1,00", "2,00", "both “Haben” and “Soll” hold an amount"),
        ("", "", "neither “Haben” nor “Soll” holds an amount"),
    ],
)
def test_debit_and_credit_columns_need_exactly_one_amount(soll, haben, message):
    data = f"Datum;Soll;Haben\n2026-03-02;{soll};{haben}\n".encode()
    mapping = CsvMapping(date="Datum", credit="Haben", debit="Soll", decimal_comma=True)

    with pytest.raises(StatementError, match=message):
        parse_csv(data, mapping)


def test_a_zero_in_the_unused_column_is_no_amount():
    data = b"Datum;Soll;Haben\n2026-03-02;0,00;5,00\n2026-03-03;5,00;0,00\n"
    mapping = CsvMapping(date="Datum", credit="Haben", debit="Soll", decimal_comma=True)

    assert [line.amount for line in parse_csv(data, mapping)] == [Decimal(5), Decimal(-5)]


def test_a_currency_in_the_amount_must_agree_with_the_currency_column():
    data = b"Date,Amount,Currency\n2026-03-02,12.50 USD,USD\n2026-03-03,12.50 USD,EUR\n"

    with pytest.raises(StatementError, match="Row 3: the amount is in USD but the currency"):
        parse_csv(data, CsvMapping(date="Date", amount="Amount", currency="Currency"))


def test_a_currency_written_with_the_amount_wins_over_the_default():
    data = "Date,Amount\n2026-03-02,£12.50\n".encode()

    (line,) = parse_csv(data, CsvMapping(date="Date", amount="Amount"))

    assert (line.amount, line.currency) == (Decimal("12.50"), "GBP")


def test_a_tab_separated_export_is_recognised():
    data = b"Date\tText\tAmount\n2026-03-02\tRE-1, thanks\t5.00\n"

    (line,) = parse_csv(data, CsvMapping(date="Date", amount="Amount", reference=("Text",)))

    assert line.reference == "RE-1, thanks"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"amount": "A", "credit": "C"}, "either an amount column or credit and debit"),
        ({"credit": "C"}, "both a credit and a debit column"),
        ({"amount": "A", "default_currency": "EURO"}, "“EURO” is not a currency code"),
        ({"amount": "A", "delimiter": ";;"}, "single character"),
        ({"amount": "A", "skip_rows": -1}, "cannot be negative"),
    ],
)
def test_a_mapping_that_cannot_work_is_refused(settings, message):
    with pytest.raises(StatementError, match=message):
        CsvMapping(date="Date", **settings)


def test_a_single_reference_column_may_be_given_as_text():
    assert CsvMapping(date="D", amount="A", reference="Text").reference == ("Text",)  # type: ignore[arg-type]


def test_an_unknown_encoding_is_explained():
    with pytest.raises(StatementError, match="not a text encoding"):
        parse_csv(b"Date,Amount\n", CsvMapping(date="Date", amount="Amount", encoding="klingon"))


# Limits and dispatch --------------------------------------------------------------------


def test_files_over_ten_megabytes_are_refused():
    with pytest.raises(StatementError, match="up to 10 MB"):
        parse_statement(b"x" * (10 * 1024 * 1024 + 1), "huge.csv", ENGLISH)


def test_statements_with_too_many_lines_are_refused(monkeypatch):
    monkeypatch.setattr(statements, "MAX_LINES", 3)

    with pytest.raises(StatementError, match="more than 3 lines"):
        parse_csv(ENGLISH_EXPORT, ENGLISH)
    with pytest.raises(StatementError, match="more than 3 lines"):
        parse_camt053(CAMT_02)


def test_xml_is_recognised_by_its_content_whatever_its_name():
    lines = parse_statement(b"\xef\xbb\xbf\n  " + CAMT_08, "export.csv", ENGLISH)

    assert len(lines) == 5


def test_csv_needs_a_mapping():
    with pytest.raises(StatementError, match=r"“umsatz\.csv” is not a CAMT\.053 XML statement"):
        parse_statement(GERMAN_EXPORT, "umsatz.csv", None)

    assert len(parse_statement(GERMAN_EXPORT, "umsatz.csv", GERMAN)) == 4


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"  \r\n", "The file is empty."),
        (b"PK\x03\x04\x14\x00", "ZIP archive"),
        (b"%PDF-1.7\n", "PDF statements cannot be read"),
    ],
)
def test_files_that_are_no_statement_are_explained(data, message):
    with pytest.raises(StatementError, match=message):
        parse_statement(data, "statement.zip", ENGLISH)


# Amounts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "decimal_comma", "expected"),
    [
        ("1.234,56", True, "1234.56"),
        ("-12,50", True, "-12.50"),
        ("12,50-", True, "-12.50"),
        ("1 234,56 €", True, "1234.56"),
        ("EUR -1.000.000,00", True, "-1000000.00"),
        ("1,234.56", False, "1234.56"),
        ("+5.00", False, "5.00"),
        ("12.50 EUR", False, "12.50"),
        ("$1,000", False, "1000"),
        ("(12.50)", False, "-12.50"),
        ("−7.25", False, "-7.25"),
        ("1'234.50", False, "1234.50"),
        ("1.234", False, "1.234"),
        ("0", False, "0"),
    ],
)
def test_amounts_as_banks_write_them(text, decimal_comma, expected):
    assert parse_bank_amount(text, decimal_comma=decimal_comma) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "decimal_comma"),
    [
        ("abc", False),
        ("", False),
        ("12,50", False),  # a decimal comma read in 1,234.56 style is no thousands group
        ("1,234.56", True),
        ("1.234,56", False),
        ("1,2,3", False),
        ("12.", False),
        ("--5", False),
        ("-(5)", False),
        ("5 EUR USD", False),
        ("EUR 5 USD", False),
        ("12.50 XYZ", False),
        ("1e5", False),
        ("NaN", False),
        ("1.23.45", True),
        ("1" * 50, False),
    ],
)
def test_garbage_and_ambiguous_amounts_are_refused(text, decimal_comma):
    with pytest.raises(StatementError):
        parse_bank_amount(text, decimal_comma=decimal_comma)


@given(
    st.decimals(min_value=-(10**12), max_value=10**12, places=2),
    st.sampled_from(["{}", "{} EUR", "€{}", "{} €"]),
)
def test_formatted_amounts_read_back_exactly(amount, decoration):
    english = f"{amount:,.2f}"
    german = english.translate(str.maketrans(",.", ".,"))

    assert parse_bank_amount(decoration.format(english)) == amount
    assert parse_bank_amount(decoration.format(german), decimal_comma=True) == amount
    assert parse_bank_amount(f"{amount:.2f}") == amount


@given(
    st.sampled_from([(CAMT_02, None), (CAMT_08, None), (GERMAN_EXPORT, GERMAN)]),
    st.lists(st.tuples(st.integers(0, 10**6), st.binary(max_size=4)), min_size=1, max_size=4),
)
def test_a_damaged_statement_gives_a_statement_error_or_lines(sample, edits):
    data, mapping = sample
    for position, replacement in edits:
        at = position % len(data)
        data = data[:at] + replacement + data[at + len(replacement) + 1 :]

    try:
        lines = parse_statement(data, "statement", mapping)
    except StatementError:
        return
    assert all(isinstance(line.amount, Decimal) for line in lines)
