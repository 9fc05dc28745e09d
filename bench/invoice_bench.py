"""Issuing invoices with their PDF/A-3b (Typst), and the same invoice through WeasyPrint.

Run from the repository root with the project's virtualenv:

    python bench/invoice_bench.py                        # 1,000 invoices of 20 lines each
    python bench/invoice_bench.py --invoices 50          # a smoke test
    python bench/invoice_bench.py --database-url postgres://postgres@127.0.0.1:5432/punch_inv

It builds everything in a temporary folder (a Punchclock data folder with embedded SQLite, or
the throw-away PostgreSQL database given): migrations, an organization with a full billing
identity (address, VAT ID, IBAN, so the PDF carries the EPC QR code), one client and its
owner. Then, in this process and through the services:

1. `--invoices` drafts of `--lines` free lines each (`start_draft`, `add_line`);
2. every draft issued with `services.issue_invoice`, which numbers, snapshots, chains,
   renders the Typst PDF/A-3b and stores it; each call is timed;
3. `render_pdf` called again on `--render-runs` issued invoices (the Typst render alone);
4. the same invoice, from the same document data, laid out in HTML/CSS and rendered by
   WeasyPrint `--weasyprint-runs` times (skipped with a note when WeasyPrint is missing:
   `.venv/bin/pip install weasyprint`; it is not a Punchclock dependency);
5. `--profile-issues` more drafts issued under cProfile: where an issue's time goes.

The target (product spec): under 50 ms per issued invoice, PDF included. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import html
import io
import json
import os
import platform
import pstats
import random
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cli_bench import (  # a sibling script, not a package
    REPO,
    RESULTS,
    _ms,
    checkout,
    load_average,
    log,
    machine_info,
)

TARGET_MS = 50.0
SEED = 20261126

# Free lines as an agency writes them: (description, unit, quantity range, price range).
LINE_KINDS = [
    ("Backend development: {topic}", "HUR", (1, 40), (95, 135)),
    ("Frontend development: {topic}", "HUR", (1, 32), (90, 125)),
    ("Code review and pair programming ({topic})", "HUR", (0.5, 8), (95, 120)),
    ("Project management, {month}", "HUR", (2, 16), (85, 110)),
    ("Workshop: {topic}", "DAY", (0.5, 3), (900, 1400)),
    ("Consulting day on site, {city}", "DAY", (1, 4), (1000, 1500)),
    ("Hosting and monitoring, {month}", "C62", (1, 1), (49, 490)),
    ("Software licence: {product}", "C62", (1, 25), (9, 199)),
    ("Security audit of {topic}", "C62", (1, 1), (1500, 4800)),
    ("Travel expenses, {city}", "C62", (1, 1), (35, 620)),
    ("Support hours (SLA), {month}", "HUR", (0.25, 12), (80, 105)),
    ("Design iterations: {topic}", "HUR", (1, 20), (85, 115)),
]
TOPICS = [
    "checkout flow",
    "customer portal",
    "payment provider integration",
    "search indexing",
    "invoice export",
    "single sign-on",
    "mobile app API",
    "data migration",
    "reporting dashboard",
    "warehouse scanner",
]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August"]
CITIES = ["Hamburg", "Berlin", "Munich", "Cologne", "Frankfurt am Main"]
PRODUCTS = ["JetBrains All Products", "Sentry Team", "GitHub Enterprise", "Figma Professional"]


# Small helpers ---------------------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(samples)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil without floats
    return ordered[int(rank) - 1]


def summary(samples_ms: list[float]) -> dict[str, Any]:
    if not samples_ms:
        return {"n": 0}
    return {
        "n": len(samples_ms),
        "median_ms": round(statistics.median(samples_ms), 2),
        "p95_ms": round(percentile(samples_ms, 95), 2),
        "mean_ms": round(statistics.fmean(samples_ms), 2),
        "min_ms": round(min(samples_ms), 2),
        "max_ms": round(max(samples_ms), 2),
    }


def version_of(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""


def django_env(workdir: Path, database_url: str | None) -> dict[str, str]:
    env = {
        "PUNCHCLOCK_DATA_DIR": str(workdir / "punch-data"),
        "DJANGO_SETTINGS_MODULE": "punchclock.config.settings",
        "DEBUG": "0",  # with DEBUG on, Django would keep every query in memory
        "SECURE_HTTPS": "0",
        "SITE_URL": "http://127.0.0.1:8000",
        "LOG_LEVEL": "WARNING",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


# Instrumentation: SQL and render time inside each issue ----------------------------------


@dataclass
class Meter:
    """Counts queries and adds up SQL, render_pdf and Typst compile time while active."""

    queries: int = 0
    sql_s: float = 0.0
    sql_in_render_s: float = 0.0
    render_s: float = 0.0
    compile_s: float = 0.0
    commit_s: float = 0.0
    in_render: bool = False

    def reset(self) -> None:
        self.queries, self.sql_s, self.sql_in_render_s = 0, 0.0, 0.0
        self.render_s = self.compile_s = self.commit_s = 0.0

    def sql(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - began
            self.queries += 1
            self.sql_s += spent
            if self.in_render:
                self.sql_in_render_s += spent


@contextlib.contextmanager
def metered(meter: Meter) -> Iterator[None]:
    """Wrap pdf.render_pdf and pdf.compile_document (looked up at call time) with timers.

    Only this process's module attributes are swapped; no file under punchclock/ changes."""
    from django.db import connection

    from punchclock.invoicing.documents import pdf

    original_render, original_compile = pdf.render_pdf, pdf.compile_document

    def render_pdf(*args: Any, **kwargs: Any) -> bytes:
        began = time.perf_counter()
        meter.in_render = True
        try:
            return original_render(*args, **kwargs)
        finally:
            meter.in_render = False
            meter.render_s += time.perf_counter() - began

    def compile_document(*args: Any, **kwargs: Any) -> bytes:
        began = time.perf_counter()
        try:
            return original_compile(*args, **kwargs)
        finally:
            meter.compile_s += time.perf_counter() - began

    original_commit = connection._commit

    def commit() -> None:
        began = time.perf_counter()
        try:
            original_commit()
        finally:
            meter.commit_s += time.perf_counter() - began

    pdf.render_pdf = render_pdf  # type: ignore[assignment]
    pdf.compile_document = compile_document  # type: ignore[assignment]
    connection._commit = commit  # this connection object only
    try:
        with connection.execute_wrapper(meter.sql):
            yield
    finally:
        pdf.render_pdf, pdf.compile_document = original_render, original_compile
        del connection._commit


# Set-up ----------------------------------------------------------------------------------


@dataclass
class Fixture:
    organization: Any
    owner: Any
    client: Any


def setup_django(env: dict[str, str], database_url: str | None) -> dict[str, Any]:
    os.environ.update(env)
    if not database_url:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    began = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select sqlite_version()")
            db = f"SQLite {cursor.fetchone()[0]} (embedded, WAL)"
        else:
            cursor.execute("show server_version")
            db = f"PostgreSQL {cursor.fetchone()[0]}"
    return {"database": db, "migrate_s": round(time.perf_counter() - began, 1)}


def create_fixture() -> Fixture:
    """An organization with a full billing identity, its owner and one German client."""
    from django.test.utils import override_settings

    from punchclock.accounts import services as accounts
    from punchclock.accounts.models import Membership
    from punchclock.clients import services as clients
    from punchclock.clients.models import TaxTreatment

    suffix = secrets.token_hex(3)
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        user, organization = accounts.sign_up(
            email=f"owner-{suffix}@bench.test",
            password=secrets.token_urlsafe(18),
            name="Dana Fischer",
            organization_name=f"Invoice Bench {suffix}",
            timezone="Europe/Berlin",
            currency="EUR",
        )
    owner = Membership.objects.select_related("user", "organization").get(
        user=user, organization=organization
    )
    accounts.update_organization_profile(
        organization,
        by=owner,
        address_line1="Torstraße 140",
        postal_code="10119",
        city="Berlin",
        country="DE",
        email="billing@northwind.test",
        phone="+49 30 1234567",
        website="https://northwind.test",
        brand_colour="#0f766e",
    )
    accounts.update_billing_identity(
        organization,
        by=owner,
        legal_name="Northwind Digital GmbH",
        vat_id="DE298765435",
        tax_number="37/123/45678",
        iban="DE89370400440532013000",
        bic="COBADEFFXXX",
    )
    owner.organization.refresh_from_db()
    client = clients.create_client(
        by=owner,
        name="Acme Logistics GmbH",
        code="acme",
        country="DE",
        currency="EUR",
        language="de",
        vat_id="DE812345673",
        tax_treatment=TaxTreatment.DOMESTIC,
        payment_terms_days=14,
        address_line1="Speicherstadt 12",
        postal_code="20457",
        city="Hamburg",
        email="accounts@acme.test",
    )
    return Fixture(organization, owner, client)


def line_specs(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """`count` varied free lines: hours, days and pieces, a discount now and then."""
    specs = []
    for _ in range(count):
        text, unit, (q_low, q_high), (p_low, p_high) = rng.choice(LINE_KINDS)
        description = text.format(
            topic=rng.choice(TOPICS),
            month=rng.choice(MONTHS),
            city=rng.choice(CITIES),
            product=rng.choice(PRODUCTS),
        )
        if unit == "HUR":
            quantity = Decimal(round(rng.uniform(q_low, q_high) * 4) / 4).quantize(Decimal("0.25"))
        elif unit == "DAY":
            quantity = Decimal(round(rng.uniform(q_low, q_high) * 2) / 2).quantize(Decimal("0.5"))
        else:
            quantity = Decimal(rng.randint(int(q_low), int(q_high)))
        quantity = max(quantity, Decimal("0.25"))
        price = Decimal(rng.randrange(p_low * 100, p_high * 100 + 1, 50)) / 100
        discount = Decimal(rng.choice([5, 10, 15])) if rng.random() < 0.1 else Decimal(0)
        specs.append(
            {
                "description": description,
                "quantity": quantity,
                "unit": unit,
                "unit_price": price,
                "discount_percent": discount,
            }
        )
    return specs


def create_drafts(fixture: Fixture, count: int, lines: int, rng: random.Random) -> list[Any]:
    from punchclock.invoicing import services

    drafts = []
    began = time.perf_counter()
    for n in range(count):
        draft = services.start_draft(fixture.client, by=fixture.owner)
        for spec in line_specs(rng, lines):
            services.add_line(draft, by=fixture.owner, **spec)
        drafts.append(draft)
        if (n + 1) % 100 == 0:
            rate = (n + 1) / (time.perf_counter() - began)
            log(f"  {n + 1:,} drafts of {lines} lines ({rate:.1f} drafts/s)")
    return drafts


# Issuing ---------------------------------------------------------------------------------


@dataclass
class IssueRun:
    total_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)  # process CPU (all threads) per issue
    render_s: list[float] = field(default_factory=list)
    compile_s: list[float] = field(default_factory=list)
    sql_s: list[float] = field(default_factory=list)
    sql_in_render_s: list[float] = field(default_factory=list)
    commit_s: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    wall_s: float = 0.0


def issue_all(fixture: Fixture, drafts: list[Any]) -> tuple[IssueRun, list[Any]]:
    from punchclock.invoicing import services

    run = IssueRun()
    meter = Meter()
    issued = []
    began = time.perf_counter()
    with metered(meter):
        for n, draft in enumerate(drafts):
            meter.reset()
            c0, t0 = time.process_time(), time.perf_counter()
            invoice = services.issue_invoice(draft, by=fixture.owner)
            run.total_s.append(time.perf_counter() - t0)
            run.cpu_s.append(time.process_time() - c0)
            run.render_s.append(meter.render_s)
            run.compile_s.append(meter.compile_s)
            run.sql_s.append(meter.sql_s)
            run.sql_in_render_s.append(meter.sql_in_render_s)
            run.commit_s.append(meter.commit_s)
            run.queries.append(meter.queries)
            issued.append(invoice)
            if (n + 1) % 100 == 0:
                rate = (n + 1) / (time.perf_counter() - began)
                log(f"  {n + 1:,} issued ({rate:.1f} invoices/s)")
    run.wall_s = time.perf_counter() - began
    return run, issued


def issue_report(run: IssueRun) -> dict[str, Any]:
    def ms(values: list[float]) -> list[float]:
        return [v * 1000 for v in values]

    other = [
        t - r - (s - sr) - c
        for t, r, s, sr, c in zip(
            run.total_s, run.render_s, run.sql_s, run.sql_in_render_s, run.commit_s, strict=True
        )
    ]
    document_data = [r - c for r, c in zip(run.render_s, run.compile_s, strict=True)]
    return {
        "invoices": len(run.total_s),
        "wall_s": round(run.wall_s, 2),
        "invoices_per_second": round(len(run.total_s) / run.wall_s, 1),
        "first_issue_ms": round(run.total_s[0] * 1000, 1),
        "issue": summary(ms(run.total_s)),
        "issue_without_first": summary(ms(run.total_s[1:])),
        "issue_cpu": summary(ms(run.cpu_s)),
        "within_target_share": round(
            sum(t * 1000 < TARGET_MS for t in run.total_s) / len(run.total_s), 3
        ),
        "breakdown_median_ms": {
            "render_pdf (all of it)": round(statistics.median(ms(run.render_s)), 2),
            "  typst compile (compile_document)": round(statistics.median(ms(run.compile_s)), 2),
            "  SQL inside render_pdf": round(statistics.median(ms(run.sql_in_render_s)), 2),
            "  document_data, logo, template lookup (rest of render_pdf)": round(
                statistics.median(ms(document_data)), 2
            ),
            "SQL outside render_pdf": round(
                statistics.median(
                    ms([s - sr for s, sr in zip(run.sql_s, run.sql_in_render_s, strict=True)])
                ),
                2,
            ),
            "commit": round(statistics.median(ms(run.commit_s)), 2),
            "Python outside render_pdf (not SQL, not commit)": round(
                statistics.median(ms(other)), 2
            ),
        },
        "render_pdf_in_issue": summary(ms(run.render_s)),
        "typst_compile_in_issue": summary(ms(run.compile_s)),
        "sql_per_issue": summary(ms(run.sql_s)),
        "queries_per_issue": {
            "median": statistics.median(run.queries),
            "min": min(run.queries),
            "max": max(run.queries),
        },
        "issue_ms_every_50th": [round(t * 1000, 1) for t in run.total_s[::50]],
    }


def check_issued(issued: list[Any]) -> dict[str, Any]:
    """Every invoice issued, numbered, chained, with a stored PDF; the chain verifies."""
    from punchclock.invoicing import services
    from punchclock.invoicing.models import InvoiceDocument, InvoiceStatus

    organization = issued[0].organization
    documents = InvoiceDocument.objects.filter(invoice__in=[i.pk for i in issued], kind="pdf")
    sizes = list(documents.values_list("size", flat=True))
    heads = {bytes(c[:5]) for c in documents.values_list("content", flat=True)[:20]}
    chain_break = services.verify_chain(organization)
    return {
        "issued": sum(i.status == InvoiceStatus.ISSUED for i in issued),
        "numbers": [issued[0].number, issued[-1].number],
        "stored_pdfs": len(sizes),
        "pdf_bytes_median": int(statistics.median(sizes)) if sizes else 0,
        "pdf_headers": sorted(h.decode("latin-1") for h in heads),
        "chain": "intact" if chain_break is None else f"broken: {chain_break.reason}",
    }


# Rendering alone -------------------------------------------------------------------------


def time_calls(
    call: Callable[[], Any], runs: int, warmup: int = 2, cpu: list[float] | None = None
) -> tuple[list[float], Any]:
    """Wall milliseconds of `runs` calls after `warmup`; process CPU ms into `cpu` if given."""
    result = None
    for _ in range(warmup):
        result = call()
    samples = []
    for _ in range(runs):
        spent, began = time.process_time(), time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - began) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - spent) * 1000)
    return samples, result


def typst_renders(
    issued: list[Any], runs: int
) -> tuple[dict[str, Any], dict[str, Any], list[tuple[dict[str, Any], str]]]:
    """render_pdf on `runs` issued invoices; then its two parts on `runs` others.

    Typst memoizes: compiling identical input again right away is far cheaper than a new
    invoice, so every timed compile here is of an invoice not compiled for a while (the
    issue loop compiled it, hundreds of compiles earlier). The parts use other invoices
    than the whole render, and their document data is kept for the WeasyPrint runs."""
    from punchclock.invoicing.documents import pdf

    step = max(1, len(issued) // runs)
    whole = issued[::step][:runs]
    parts_of = issued[step // 2 :: step][:runs] if step > 1 else issued[:runs]
    render, render_cpu, size = [], [], 0
    for invoice in whole:
        cpu, began = time.process_time(), time.perf_counter()
        content = pdf.render_pdf(invoice)
        render.append((time.perf_counter() - began) * 1000)
        render_cpu.append((time.process_time() - cpu) * 1000)
        size = len(content)
    data_ms, compile_ms = [], []
    documents: list[tuple[dict[str, Any], str]] = []
    for invoice in parts_of:
        t0 = time.perf_counter()
        data, qr_svg = pdf.document_data(invoice)
        data["logo_png"] = None
        t1 = time.perf_counter()
        pdf.compile_document(data, qr_svg=qr_svg)
        t2 = time.perf_counter()
        data_ms.append((t1 - t0) * 1000)
        compile_ms.append((t2 - t1) * 1000)
        documents.append((data, qr_svg))
    parts = {
        "document_data (queries, babel formatting, EPC QR as SVG)": summary(data_ms),
        "compile_document (Typst: layout and PDF/A-3b)": summary(compile_ms),
    }
    result = summary(render)
    result["cpu"] = summary(render_cpu)
    result["pdf_bytes"] = size
    result["invoices"] = len(whole)
    return result, parts, documents


def what_if(documents: list[tuple[dict[str, Any], str]]) -> dict[str, Any]:
    """Variants measured here only (production code unchanged), on the same document data.

    Each variant runs over all the invoices before the next starts, so no compile repeats
    input Typst compiled moments before; the last row shows what such a repeat costs."""
    import segno
    import typst

    from punchclock.invoicing.documents import pdf

    compiler = pdf._get_compiler()
    source = pdf.DEFAULT_TEMPLATE.read_bytes()

    def compile_with(data: dict[str, Any], qr_svg: str, standard: str | None) -> bytes:
        inputs = {"data": json.dumps(data, ensure_ascii=False), "qr": qr_svg, "logo": ""}
        options: dict[str, Any] = {"input": source, "sys_inputs": inputs}
        if standard:
            options["pdf_standards"] = standard
        result = compiler.compile(**options)
        assert isinstance(result, bytes)
        return result

    def over_all(call: Callable[[dict[str, Any], str], Any]) -> dict[str, Any]:
        samples = []
        for data, qr_svg in documents:
            began = time.perf_counter()
            call(data, qr_svg)
            samples.append((time.perf_counter() - began) * 1000)
        return summary(samples)

    make_data: Any = getattr(segno.helpers, "_make_epc_qr_data")  # noqa: B009

    def qr_fixed_mask(data: dict[str, Any], _: str) -> str:
        epc = data["epc"]
        payload = make_data(
            name=epc["name"],
            iban=epc["iban"],
            amount=Decimal(epc["amount"]),
            text=epc["text"],
            reference=None,
            bic=epc["bic"] or None,
            purpose=None,
            encoding=None,
        )
        code = segno.make_qr(payload, error="m", boost_error=False, mask=0)
        out = io.BytesIO()
        code.save(out, kind="svg", border=0, xmldecl=False)
        return out.getvalue().decode()

    result = {
        "typst_compile_as_shipped_pdf_a_3b_with_qr": over_all(
            lambda d, q: compile_with(d, q, pdf.PDF_STANDARD)
        ),
        "typst_compile_plain_pdf_with_qr": over_all(lambda d, q: compile_with(d, q, None)),
        "typst_compile_pdf_a_3b_without_qr": over_all(
            lambda d, q: compile_with(d, "", pdf.PDF_STANDARD)
        ),
        "epc_qr_svg_as_shipped (segno, best of 8 masks)": over_all(
            lambda d, q: pdf._epc_svg(d["epc"])
        ),
        "epc_qr_svg_fixed_mask (segno mask=0)": over_all(qr_fixed_mask),
    }
    data, qr_svg = documents[0]
    repeat, _ = time_calls(lambda: compile_with(data, qr_svg, pdf.PDF_STANDARD), 10, warmup=1)
    result["typst_compile_identical_input_again (memoized)"] = summary(repeat)
    with contextlib.suppress(Exception):
        result["typst_module"] = getattr(typst, "__version__", "")
    return result


# WeasyPrint: the same invoice as HTML/CSS ------------------------------------------------

CSS = """
@page {
  size: A4;
  margin: 18mm 18mm 26mm 18mm;
  @bottom-left { content: element(footer); width: 100%; }
}
body { font-family: FONTS; font-size: 9pt; color: #1e1e1e; line-height: 1.3; margin: 0; }
p { margin: 0 0 4pt 0; }
.bar { height: 3pt; background: BRAND; margin-bottom: 8pt; }
.head { display: flex; justify-content: space-between; align-items: flex-start; }
.seller-name { font-size: 16pt; font-weight: bold; color: BRAND; }
.title { text-align: right; }
.title h1 { font-size: 22pt; margin: 0; color: BRAND; }
.title .number { font-size: 10pt; color: #6e6e6e; }
.parties { display: flex; gap: 16pt; margin: 12pt 0; }
.parties > div { flex: 1; }
.parties .meta { flex: 0 0 auto; background: BRAND_LIGHT; padding: 8pt; border-radius: 3pt; }
.label { font-size: 7pt; color: #6e6e6e; font-weight: bold; letter-spacing: 0.6pt;
  text-transform: uppercase; margin-bottom: 2pt; }
.party-name { font-size: 10.5pt; font-weight: bold; }
.meta td { padding: 2pt 0; }
.meta td:first-child { color: #6e6e6e; padding-right: 10pt; }
.meta td:last-child { text-align: right; font-weight: bold; }
table.lines { width: 100%; border-collapse: collapse; margin-top: 6pt; }
table.lines th { background: BRAND; color: white; font-size: 7.5pt; text-align: right;
  padding: 5pt; }
table.lines td { padding: 3pt 5pt; text-align: right; border-bottom: 0.4pt solid #d7d7d7;
  vertical-align: middle; white-space: nowrap; line-height: 1.15; }
table.lines td:nth-child(2) { white-space: normal; }
table.lines th:nth-child(-n+2), table.lines td:nth-child(-n+2) { text-align: left; }
table.lines td:first-child, .muted { color: #6e6e6e; }
table.lines td:last-child { font-weight: bold; }
table.lines thead { display: table-header-group; }
table.lines tr { page-break-inside: avoid; }
.totals { width: 62%; margin: 8pt 0 0 auto; page-break-inside: avoid; }
.totals table { width: 100%; }
.totals td { padding: 2pt 0; }
.totals td:first-child { color: #6e6e6e; }
.totals td:last-child { text-align: right; }
.gross { display: flex; justify-content: space-between; background: BRAND; color: white;
  font-weight: bold; font-size: 11pt; padding: 8pt; border-radius: 3pt; margin-top: 4pt; }
.payment { display: flex; gap: 16pt; margin-top: 10pt; page-break-inside: avoid; }
.payment > div:first-child { flex: 1; }
.payment .qr { text-align: center; font-size: 7pt; color: #6e6e6e; }
.payment .qr img { width: 28mm; height: 28mm; display: block; }
.bank td { padding: 1pt 8pt 1pt 0; }
.footer { position: running(footer); font-size: 7pt; color: #6e6e6e;
  border-top: 0.5pt solid #d7d7d7; padding-top: 3pt; display: flex; gap: 10pt; }
.footer > div { flex: 1; white-space: pre-line; }
.footer .page { flex: 0 0 auto; text-align: right; }
.footer .page::after { content: "PAGE " counter(page) " OF " counter(pages); }
"""


def _lighten(colour: str, amount: float) -> str:
    """`colour` (#rrggbb) mixed with white, as Typst's `lighten(92%)` (no color-mix here)."""
    channels = [int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]
    return "#" + "".join(f"{round(c + (255 - c) * amount):02x}" for c in channels)


def invoice_html(data: dict[str, Any], qr_svg: str) -> str:
    """The invoice the Typst template draws, as one HTML page, from the same document data."""
    e = html.escape
    labels = data["labels"]
    brand = data["brand_colour"]
    css = (
        CSS.replace("BRAND_LIGHT", _lighten(brand, 0.92))
        .replace("BRAND", brand)
        .replace("FONTS", ", ".join(f'"{f}"' for f in data["fonts"]))
        .replace("PAGE", labels["page"])
        .replace("OF", labels["of"])
    )

    def party(key: str, who: dict[str, Any]) -> str:
        rows = "<br>".join(e(x) for x in who["address"])
        vat = f"<br>{e(labels['vat_id'])}: {e(who['vat_id'])}" if who.get("vat_id") else ""
        return (
            f'<div><div class="label">{e(labels[key])}</div>'
            f'<div class="party-name">{e(who["name"])}</div>{rows}{vat}</div>'
        )

    meta = "".join(f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in data["meta"])
    head = "".join(
        f"<th>{e(x)}</th>"
        for x in (
            "#",
            labels["description"],
            labels["quantity"],
            labels["unit_price"],
            labels["discount"],
            labels["tax"],
            labels["amount"],
        )
    )
    rows = "".join(
        f"<tr><td>{e(r['position'])}</td><td>{e(r['description'])}</td>"
        f'<td>{e(r["quantity"])} <span class="muted">{e(r["unit"])}</span></td>'
        f"<td>{e(r['unit_price'])}</td><td>{e(r['discount'])}</td><td>{e(r['tax'])}</td>"
        f"<td>{e(r['amount'])}</td></tr>"
        for r in data["lines"]
    )
    totals = "".join(f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in data["totals"])
    payment = data.get("payment") or {}
    bank = "".join(
        f"<tr><td class='muted'>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in payment.get("bank", [])
    )
    notes = "".join(f"<p>{e(n)}</p>" for n in data["notes"])
    if notes:
        notes = f'<div class="label" style="margin-top:8pt">{e(labels["notes"])}</div>{notes}'
    qr = ""
    if qr_svg:
        import base64

        source = "data:image/svg+xml;base64," + base64.b64encode(qr_svg.encode()).decode()
        qr = f'<div class="qr"><img src="{source}">{e(labels["scan_to_pay"])}</div>'
    footer = "".join(f"<div>{e(x)}</div>" for x in data["footer"])
    message = f"<p>{e(data['message'])}</p>" if data.get("message") else ""
    footer_text = (
        f'<p class="muted" style="font-size:8pt">{e(data["footer_text"])}</p>'
        if data.get("footer_text")
        else ""
    )
    return f"""<!doctype html>
<html lang="{e(data["lang"])}"><head><meta charset="utf-8">
<title>{e(data["title"])} {e(data["number"])}</title>
<meta name="author" content="{e(data["seller"]["name"])}">
<style>{css}</style></head><body>
<div class="footer">{footer}<div class="page"></div></div>
<div class="bar"></div>
<div class="head"><div class="seller-name">{e(data["seller"]["name"])}</div>
<div class="title"><h1>{e(data["title"])}</h1><div class="number">{e(data["number"])}</div></div>
</div>
<div class="parties">{party("bill_to", data["buyer"])}{party("from", data["seller"])}
<div class="meta"><table>{meta}</table></div></div>
{message}
<table class="lines"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>
<div class="totals"><table>{totals}</table>
<div class="gross"><span>{e(labels["total_due"])}</span><span>{e(data["gross"])}</span></div>
</div>
<div class="payment"><div><div class="label">{e(labels["payment"])}</div>
<p>{e(payment.get("terms", ""))}</p><table class="bank">{bank}</table>{notes}</div>{qr}</div>
{footer_text}
</body></html>"""


def weasyprint_renders(
    documents: list[tuple[dict[str, Any], str]], runs: int, samples_dir: Path | None
) -> tuple[dict[str, Any] | None, str]:
    """The invoices Typst compiled in typst_renders, from the same data, through WeasyPrint."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the Pango libraries are missing
        message = (
            f"WeasyPrint is not available ({exc.__class__.__name__}: {exc}); skipped. "
            "Install it for this benchmark only: .venv/bin/pip install weasyprint "
            "(needs Debian's libpango-1.0-0 and libpangoft2-1.0-0)."
        )
        return None, message
    from weasyprint.text.fonts import FontConfiguration

    from punchclock.invoicing.documents import pdf

    data, qr_svg = documents[0]
    markup = invoice_html(data, qr_svg)
    fonts = FontConfiguration()  # one per process, as a server would keep it
    turn = iter(range(10**9))

    def render(variant: str | None) -> Callable[[], bytes]:
        def call() -> bytes:
            data, qr_svg = documents[next(turn) % len(documents)]
            document = weasyprint.HTML(string=invoice_html(data, qr_svg))
            options: dict[str, Any] = {"font_config": fonts}
            if variant:
                options["pdf_variant"] = variant
            content = document.write_pdf(**options)
            assert content is not None
            return bytes(content)

        return call

    results: dict[str, Any] = {"version": weasyprint.__version__, "html_bytes": len(markup)}
    for key, variant in (("pdf_a_3b", "pdf/a-3b"), ("plain_pdf", None)):
        log(f"  WeasyPrint, {variant or 'plain PDF'}: {runs} renders")
        cpu: list[float] = []
        samples, content = time_calls(render(variant), runs, warmup=1, cpu=cpu)
        results[key] = summary(samples)
        results[key]["cpu"] = summary(cpu)
        results[key]["pdf_bytes"] = len(content)
        pages = weasyprint.HTML(string=markup).render(font_config=fonts).pages
        results[key]["pages"] = len(pages)
        if samples_dir is not None:
            (samples_dir / f"weasyprint-{key}.pdf").write_bytes(content)
    if samples_dir is not None:
        (samples_dir / "weasyprint.html").write_text(markup)
        (samples_dir / "typst.pdf").write_bytes(pdf.compile_document(data, qr_svg=qr_svg))
    return results, ""


# Profile ---------------------------------------------------------------------------------


# (label, file suffix or "", function name): summed cumulative time per issue in the profile.
KEY_COSTS = [
    ("issue_invoice (everything)", "invoicing/services.py", "issue_invoice"),
    ("render_pdf", "documents/pdf.py", "render_pdf"),
    ("Typst Compiler.compile (layout, fonts, PDF/A-3b)", "", "compile"),
    ("document_data", "documents/pdf.py", "document_data"),
    ("EPC QR code (segno, as SVG)", "documents/pdf.py", "_epc_svg"),
    ("babel formatting (_Formats.money/number/percent/date)", "documents/pdf.py", "_FMT_"),
    ("json.dumps of the document data", "json/__init__.py", "dumps"),
    ("invoice.typ read from disk", "pathlib/__init__.py", "read_bytes"),
    ("_snapshot", "invoicing/services.py", "_snapshot"),
    ("invoice_totals", "invoicing/services.py", "invoice_totals"),
    ("document_hash (canonical JSON, SHA-256)", "invoicing/services.py", "document_hash"),
    ("_store_pdf (render + INSERT of the blob)", "invoicing/services.py", "_store_pdf"),
    ("SQL: cursor execute", "backends/sqlite3/base.py", "execute"),
    ("SQL: cursor execute (PostgreSQL)", "psycopg/cursor.py", "execute"),
    ("commit", "", "commit"),
    ("Model.save", "db/models/base.py", "save"),
]


FORMAT_METHODS = {"money", "number", "percent", "date"}


def key_costs(raw: dict[Any, Any], issues: int) -> dict[str, float]:
    found: dict[str, float] = {}
    for label, suffix, name in KEY_COSTS:
        total = 0.0
        for (filename, _, function), (_, _, _, cum, _) in raw.items():
            if name == "_FMT_":
                hit = filename.endswith(suffix) and function in FORMAT_METHODS
            elif name == "compile":
                hit = "typst" in function or (filename == "~" and "Compiler" in function)
            elif name == "commit" and not suffix:
                hit = filename == "~" and "commit" in function and "sqlite3" in function
                hit = hit or (filename.endswith("psycopg/connection.py") and function == "commit")
            else:
                hit = filename.endswith(suffix) and function == name
            if hit:
                total += cum
        if total:
            found[label] = round(total / issues * 1000, 2)
    return found


def profile_issues(fixture: Fixture, drafts: list[Any], top: int = 25) -> dict[str, Any]:
    from punchclock.invoicing import services

    profiler = cProfile.Profile()
    began = time.perf_counter()
    profiler.enable()
    for draft in drafts:
        services.issue_invoice(draft, by=fixture.owner)
    profiler.disable()
    wall = time.perf_counter() - began
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows: dict[str, list[dict[str, Any]]] = {}
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for key, index in (("by_cumulative", 3), ("by_own_time", 2)):
        ordered = sorted(raw.items(), key=lambda item: item[1][index], reverse=True)[:top]
        rows[key] = [
            {
                "function": _where(func),
                "calls": calls,
                "own_ms_per_issue": round(own / len(drafts) * 1000, 2),
                "cumulative_ms_per_issue": round(cum / len(drafts) * 1000, 2),
                "cumulative_share": round(cum / total, 3) if total else 0,
            }
            for func, (_, calls, own, cum, _) in ordered
        ]
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(top)
    return {
        "issues": len(drafts),
        "wall_ms_per_issue_under_profiler": round(wall / len(drafts) * 1000, 1),
        "key_costs_ms_per_issue": key_costs(raw, len(drafts)),
        **rows,
        "pstats_cumulative": text.getvalue().split("\n", 3)[-1],
    }


def _where(func: tuple[str, int, str]) -> str:
    filename, line, name = func
    if filename == "~":
        return name
    path = Path(filename)
    for anchor in (REPO, Path(sys.prefix)):
        with contextlib.suppress(ValueError):
            path = path.relative_to(anchor)
            break
    short = str(path).split("site-packages/")[-1]
    return f"{short}:{line}({name})"


# Main ------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=1000, help="drafts to issue (1000)")
    parser.add_argument("--lines", type=int, default=20, help="free lines per draft (20)")
    parser.add_argument(
        "--render-runs", type=int, default=50, help="issued invoices rendered again (50)"
    )
    parser.add_argument(
        "--weasyprint-runs", type=int, default=50, help="WeasyPrint renders per variant (50)"
    )
    parser.add_argument(
        "--profile-issues", type=int, default=20, help="extra drafts issued under cProfile (20)"
    )
    parser.add_argument("--database-url", help="a throw-away PostgreSQL database instead")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument(
        "--samples", type=Path, help="write one Typst PDF, the HTML and WeasyPrint PDFs here"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.invoices < 1 or args.lines < 1 or args.render_runs < 1:
        parser.error("--invoices, --lines and --render-runs must be at least 1")
    return args


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="punch-invoice-bench-"))
    stamp = datetime.now(UTC)
    load_before = load_average()
    code = checkout()
    rng = random.Random(SEED)
    try:
        log(f"Database and fixtures in {workdir}")
        database = setup_django(django_env(workdir, args.database_url), args.database_url)
        fixture = create_fixture()

        log(f"Creating {args.invoices:,} drafts of {args.lines} lines (start_draft, add_line)")
        began = time.perf_counter()
        drafts = create_drafts(fixture, args.invoices + args.profile_issues, args.lines, rng)
        drafts_s = time.perf_counter() - began
        measured, profiled = drafts[: args.invoices], drafts[args.invoices :]

        log(f"Issuing {args.invoices:,} invoices (services.issue_invoice, Typst PDF/A-3b)")
        run, issued = issue_all(fixture, measured)
        issuing = issue_report(run)
        checks = check_issued(issued)

        log(f"render_pdf alone on {args.render_runs} issued invoices")
        typst_result, typst_parts, documents = typst_renders(issued, args.render_runs)
        log("What-if variants (Typst without PDF/A or QR, QR with a fixed mask)")
        variants = what_if(documents)

        samples_dir = args.samples
        if samples_dir is not None:
            samples_dir.mkdir(parents=True, exist_ok=True)
        weasy: dict[str, Any] | None = None
        note = ""
        if args.weasyprint_runs > 0:
            log(f"The same {len(documents)} invoices' data through WeasyPrint")
            weasy, note = weasyprint_renders(documents, args.weasyprint_runs, samples_dir)
            if note:
                log(note)

        profile: dict[str, Any] = {}
        if profiled:
            log(f"Issuing {len(profiled)} more under cProfile")
            profile = profile_issues(fixture, profiled)

        load_after = load_average()
        median_issue = issuing["issue"]["median_ms"]
        document = {
            "benchmark": "invoice_bench",
            "date": stamp.isoformat(timespec="seconds"),
            "duration_s": round((datetime.now(UTC) - stamp).total_seconds(), 1),
            "machine": machine_info(),
            "load_average_before": load_before,
            "load_average_after": load_after,
            "versions": {
                "python": platform.python_version(),
                "django": version_of("django"),
                "typst": version_of("typst"),
                "weasyprint": version_of("weasyprint") or None,
                "babel": version_of("babel"),
                "segno": version_of("segno"),
            },
            "code": code,
            "settings": {
                "invoices": args.invoices,
                "lines_per_invoice": args.lines,
                "render_runs": args.render_runs,
                "weasyprint_runs": args.weasyprint_runs,
                "profile_issues": args.profile_issues,
                "database": database["database"],
                "client": "German client (language de, EUR, 19 % VAT), seller with IBAN: "
                "every PDF carries the EPC QR code",
            },
            "setup_s": {
                "migrate": database["migrate_s"],
                "drafts": round(drafts_s, 1),
                "drafts_per_second": round(len(drafts) / drafts_s, 1),
            },
            "target_ms": TARGET_MS,
            "target_met": median_issue < TARGET_MS,
            "issuing": issuing,
            "checks": checks,
            "typst_render_pdf": typst_result,
            "typst_render_parts": typst_parts,
            "what_if": variants,
            "weasyprint": weasy,
            "weasyprint_note": note or None,
            "profile": profile,
        }
        args.out.mkdir(parents=True, exist_ok=True)
        suffix = "-postgres" if args.database_url else ""
        if (args.invoices, args.lines) != (1000, 20):
            suffix += f"-{args.invoices}x{args.lines}"
        path = args.out / f"invoices-{stamp:%Y-%m-%d}{suffix}.json"
        number = 1
        while path.exists():  # a second run on the same day keeps the first
            number += 1
            path = args.out / f"invoices-{stamp:%Y-%m-%d}{suffix}-{number}.json"
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
        print_summary(document)
        print(f"\nWrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
        return 0
    except KeyboardInterrupt:
        log("Interrupted.")
        return 130
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if args.keep:
            log(f"Kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def print_summary(d: dict[str, Any]) -> None:
    m, s, i = d["machine"], d["settings"], d["issuing"]
    print()
    print(
        f"{s['invoices']:,} invoices × {s['lines_per_invoice']} lines — {m['cpu']}, "
        f"{m['cores']} cores, Python {m['python']}, typst {d['versions']['typst']}, "
        f"{s['database']}; load average {d['load_average_before']} → {d['load_average_after']}"
    )
    print(f"  drafts: {d['setup_s']['drafts']} s ({d['setup_s']['drafts_per_second']}/s)")
    print(f"  issued: {i['invoices']:,} in {i['wall_s']} s = {i['invoices_per_second']} invoices/s")
    print(
        f"  per issue_invoice: median {_ms(i['issue']['median_ms'])}, "
        f"p95 {_ms(i['issue']['p95_ms'])}, max {_ms(i['issue']['max_ms'])}, "
        f"first {_ms(i['first_issue_ms'])}; "
        f"{i['within_target_share']:.0%} under {d['target_ms']:.0f} ms"
    )
    print(
        f"  CPU per issue_invoice (process, all threads): median {_ms(i['issue_cpu']['median_ms'])}"
        f", p95 {_ms(i['issue_cpu']['p95_ms'])}"
    )
    verdict = "met" if d["target_met"] else "MISSED"
    print(f"  target < {d['target_ms']:.0f} ms per issued invoice (median): {verdict}")
    print("  where an issue's time goes (medians):")
    for name, value in i["breakdown_median_ms"].items():
        print(f"    {name:<62} {value:>8.2f} ms")
    print(f"    queries per issue: {i['queries_per_issue']}")
    print(f"  checks: {d['checks']}")
    t = d["typst_render_pdf"]
    print(
        f"  Typst render_pdf alone ({t['invoices']} issued invoices): "
        f"median {t['median_ms']:.1f} ms, p95 {t['p95_ms']:.1f} ms, "
        f"CPU median {t['cpu']['median_ms']:.1f} ms, {t['pdf_bytes']:,} bytes"
    )
    for name, part in d["typst_render_parts"].items():
        print(f"    {name:<62} {part['median_ms']:>8.2f} ms median")
    print("  what-if (same invoices' data; production code unchanged), median:")
    for name, value in d["what_if"].items():
        if isinstance(value, dict):
            print(f"    {name:<62} {value['median_ms']:>8.2f} ms")
    w = d["weasyprint"]
    compiled = d["typst_render_parts"]["compile_document (Typst: layout and PDF/A-3b)"]["median_ms"]
    if w:
        for key, label in (("pdf_a_3b", "PDF/A-3b"), ("plain_pdf", "plain PDF")):
            r = w[key]
            print(
                f"  WeasyPrint {w['version']} ({label}, {r['n']} runs, same invoices): median "
                f"{r['median_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, CPU median "
                f"{r['cpu']['median_ms']:.1f} ms, {r['pdf_bytes']:,} bytes, "
                f"{r['pages']} page(s) — {r['median_ms'] / t['median_ms']:.1f}× Typst render_pdf, "
                f"{r['median_ms'] / compiled:.1f}× Typst compile_document from the same data"
            )
    elif d["weasyprint_note"]:
        print(f"  {d['weasyprint_note']}")
    p = d["profile"]
    if p:
        print(
            f"  cProfile, {p['issues']} issues ({p['wall_ms_per_issue_under_profiler']} ms each "
            "under the profiler), key costs per issue (cumulative):"
        )
        for name, value in p["key_costs_ms_per_issue"].items():
            print(f"    {value:>8.2f} ms  {name}")
        print("  top by cumulative time per issue:")
        for row in p["by_cumulative"][:15]:
            print(f"    {row['cumulative_ms_per_issue']:>8.2f} ms  {row['function']}")
        print("  top by own time per issue:")
        for row in p["by_own_time"][:12]:
            print(f"    {row['own_ms_per_issue']:>8.2f} ms  {row['function']} ×{row['calls']}")


if __name__ == "__main__":
    sys.exit(main())
