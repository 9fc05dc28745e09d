"""Generating and validating one e-invoice in each format, and embedding Factur-X.

Run from the repository root with the project's virtualenv:

    python bench/einvoice_bench.py                       # 100 invoices of 20 lines
    python bench/einvoice_bench.py --invoices 20         # a smoke test
    python bench/einvoice_bench.py --database-url postgres://postgres@127.0.0.1:5432/punch_einv

It sets up what `invoice_bench.py` sets up (a temporary data folder with embedded SQLite, or
the throw-away PostgreSQL database given; an organization with a full billing identity and a
German client), gives both parties what XRechnung and Peppol ask for (electronic addresses,
a Leitweg-ID as buyer reference, a seller contact with phone and email), issues
`--invoices` drafts of `--lines` lines (one in ten lines discounted, one in ten with a
surcharge, every fifth invoice with a document surcharge) and then, for every issued
invoice and each of the five formats, times separately:

- `model`: `from_invoice`, the EN 16931 model from the stored snapshot, lines and totals;
- `write`: the syntax writer (UBL or CII, with the CIUS's specification identifier);
- `validate`: `validation.validate`, XSD plus the official Schematron as XSLT (SaxonC);

and once per invoice `embed`: attaching the CII to the stored PDF as Factur-X. Every
validation must report zero errors; the run fails otherwise. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cli_bench import RESULTS, checkout, load_average, log, machine_info  # sibling scripts
from invoice_bench import (
    SEED,
    create_fixture,
    django_env,
    line_specs,
    setup_django,
    summary,
    version_of,
)


def prepare_for_cius(fixture: Any) -> None:
    """What XRechnung and Peppol need beyond EN 16931, as a German public client has it."""
    from punchclock.accounts.models import Organization
    from punchclock.clients.models import Client

    Organization.objects.filter(pk=fixture.organization.pk).update(
        electronic_address="billing@northwind.test",
        electronic_address_scheme="EM",
        registration_number="HRB 123456 B",
    )
    Client.objects.filter(pk=fixture.client.pk).update(
        buyer_reference="05315000-12345-67",
        electronic_address="rechnungseingang@acme.test",
        electronic_address_scheme="EM",
    )
    fixture.client.refresh_from_db()


def issue_invoices(fixture: Any, count: int, lines: int, rng: random.Random) -> list[Any]:
    from punchclock.invoicing import services

    issued = []
    began = time.perf_counter()
    for n in range(count):
        draft = services.start_draft(fixture.client, by=fixture.owner)
        for spec in line_specs(rng, lines):
            if rng.random() < 0.1:
                spec["surcharge_percent"] = Decimal(rng.choice([25, 50, 100]))
            services.add_line(draft, by=fixture.owner, **spec)
        if n % 5 == 0:
            services.set_surcharge(
                draft, by=fixture.owner, surcharge_percent=Decimal(10), reason="Rush delivery"
            )
        issued.append(services.issue_invoice(draft, by=fixture.owner))
        if (n + 1) % 25 == 0:
            rate = (n + 1) / (time.perf_counter() - began)
            log(f"  {n + 1:,} invoices issued ({rate:.1f}/s)")
    return issued


def time_formats(invoices: list[Any]) -> dict[str, Any]:
    from punchclock.invoicing.documents.einvoice import formats, validation
    from punchclock.invoicing.documents.einvoice.model import cius_gaps, from_invoice

    timings: dict[str, dict[str, list[float]]] = {
        code: {"model": [], "write": [], "validate": [], "total": []} for code in formats.FORMATS
    }
    embed: list[float] = []
    failures: list[str] = []
    sizes: dict[str, list[int]] = {code: [] for code in formats.FORMATS}
    for invoice in invoices:
        for code, found in formats.FORMATS.items():
            began = time.perf_counter()
            model = from_invoice(invoice)
            modelled = time.perf_counter()
            gaps = cius_gaps(model, found.specification)
            if gaps:
                failures.append(f"{invoice.number} {code}: {gaps}")
                continue
            xml = found.write(model, found.specification)
            written = time.perf_counter()
            report = validation.validate(xml)
            validated = time.perf_counter()
            if report.errors:
                failures.append(f"{invoice.number} {code}: {[e.rule for e in report.errors]}")
            row = timings[code]
            row["model"].append(modelled - began)
            row["write"].append(written - modelled)
            row["validate"].append(validated - written)
            row["total"].append(validated - began)
            sizes[code].append(len(xml))
        pdf = bytes(invoice.documents.get(kind="pdf").content)
        cii = formats.write(invoice, "cii")
        began = time.perf_counter()
        formats.embed_facturx(pdf, cii, lang=invoice.language)
        embed.append(time.perf_counter() - began)
    return {
        "formats": {
            code: {
                **{part: summary([s * 1000 for s in values]) for part, values in row.items()},
                "xml_bytes_median": sorted(sizes[code])[len(sizes[code]) // 2]
                if sizes[code]
                else 0,
            }
            for code, row in timings.items()
        },
        "embed_facturx": summary([s * 1000 for s in embed]),
        "validations": sum(len(row["validate"]) for row in timings.values()),
        "failures": failures,
    }


def print_table(result: dict[str, Any]) -> None:
    print(f"\n{'format':<15}{'model':>9}{'write':>9}{'validate':>10}{'total':>9}{'p95':>9}")
    for code, row in result["formats"].items():
        print(
            f"{code:<15}{row['model']['median_ms']:>9.2f}{row['write']['median_ms']:>9.2f}"
            f"{row['validate']['median_ms']:>10.2f}{row['total']['median_ms']:>9.2f}"
            f"{row['total']['p95_ms']:>9.2f}"
        )
    embed = result["embed_facturx"]
    print(f"Factur-X embed: median {embed['median_ms']:.2f} ms, p95 {embed['p95_ms']:.2f} ms")
    print(f"validations: {result['validations']}, failures: {len(result['failures'])}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=100, help="invoices to issue (100)")
    parser.add_argument("--lines", type=int, default=20, help="lines per invoice (20)")
    parser.add_argument("--database-url", help="a throw-away PostgreSQL database")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results go")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="punch-einvoice-bench-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        load_before = load_average()
        started = datetime.now(UTC)
        env = django_env(workdir, args.database_url)
        database = setup_django(env, args.database_url)
        fixture = create_fixture()
        prepare_for_cius(fixture)
        log(f"Issuing {args.invoices} invoices of {args.lines} lines ({database['database']})")
        invoices = issue_invoices(fixture, args.invoices, args.lines, random.Random(SEED))
        log("Timing every format of every invoice")
        result = time_formats(invoices)
        print_table(result)
        record = {
            "bench": "einvoice",
            "started": started.isoformat(timespec="seconds"),
            "machine": machine_info(),
            "load_average": {"before": load_before, "after": load_average()},
            "versions": {
                name: version_of(name)
                for name in ("django", "saxonche", "lxml", "factur-x", "pypdf", "typst")
            },
            "checkout": checkout(),
            "settings": {"invoices": args.invoices, "lines": args.lines, **database},
            **result,
        }
        args.out.mkdir(parents=True, exist_ok=True)
        stem = f"einvoice-{started:%Y-%m-%d}" + ("-postgres" if args.database_url else "")
        path = args.out / f"{stem}.json"
        n = 2
        while path.exists():
            path = args.out / f"{stem}-{n}.json"
            n += 1
        path.write_text(json.dumps(record, indent=2, default=str) + "\n")
        log(f"Wrote {path}")
        return 1 if result["failures"] else 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
