"""`punch report budgets|revenue|tax|utilisation`: the other reports, as tables, CSV or JSON,
and the CSV/XLSX export of every report, the time report's too.

Called by `punch report` (cli/client.py) when its first argument names one of them; like
the rest of the client half it never imports Django.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import click

from punchclock.cli.client import ClientError

KINDS = ("time", "unbilled", "budgets", "revenue", "tax", "utilisation", "profit")
FILES = ("csv", "xlsx")


def check_output(output: str, target: str | None) -> None:
    """Refuse, before asking the server anything, a format and --output that do not match."""
    if output == "xlsx" and not target:
        # A workbook is binary: on a terminal it is noise, and a script can name a file.
        raise click.UsageError("--format xlsx writes an Excel file: name it with --output FILE.")
    if target and output not in FILES:
        raise click.UsageError("--output writes an export: add --format csv or --format xlsx.")


def export(env: Any, path: str, query: dict[str, Any], output: str, target: str | None) -> None:
    """The report's CSV (to the terminal or a file) or XLSX (to a file), as the server wrote it."""
    clean = {k: v for k, v in query.items() if v not in (None, "")}
    data = env.api().download(path + "?" + urlencode({**clean, "format": output, "bom": "0"}))
    if target is None:
        env.out.write(data.decode("utf-8"))
        return
    file = Path(target).expanduser()
    try:
        file.write_bytes(data)
    except OSError as exc:
        raise ClientError(f"Cannot write {target}: {exc.strerror or exc}.") from exc
    env.echo(f"Wrote {file} ({len(data):,} bytes).")


def run(env: Any, kind: str, query: dict[str, Any], output: str, target: str | None) -> None:
    """Fetch one report and print it (or write its export file) in the format asked for."""
    clean = {k: v for k, v in query.items() if v not in (None, "")}
    path = f"/reports/{'profitability' if kind == 'profit' else kind}"
    if output in FILES:
        export(env, path, clean, output, target)
        return
    data = env.api().request("GET", path, query=clean)
    if output == "json":
        env.dump(data)
        return
    printers = {
        "unbilled": _unbilled,
        "budgets": _budgets,
        "revenue": _revenue,
        "tax": _tax,
        "utilisation": _utilisation,
        "profit": _profit,
    }
    printers[kind](env, data)


def _table(env: Any, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for line in [header, *rows]:
        cells = [
            str(cell).ljust(widths[i]) if i == 0 else str(cell).rjust(widths[i])
            for i, cell in enumerate(line)
        ]
        env.echo("  ".join(cells).rstrip())


def _unbilled(env: Any, data: dict[str, Any]) -> None:
    if not data["clients"]:
        env.echo("Nothing to bill.")
        _covered(env, data.get("covered") or [])
        return

    def money(values: dict[str, str]) -> str:
        return ", ".join(f"{amount} {currency}" for currency, amount in values.items()) or "–"

    rows = []
    for client in data["clients"]:
        for p in client["projects"]:
            age = p["age_days"]
            rows.append(
                [
                    f"{client['client']} · {p['project']}",
                    p["billed_hours"],
                    money(p["time"]),
                    money(p["expenses"]),
                    p["oldest"] or "–",
                    "–" if age is None else f"{age} d",
                ]
            )
    _table(env, ["Client · project", "Billed h", "Time", "Expenses", "Oldest", "Age"], rows)
    env.echo("Total: " + money(data["totals"]))
    _covered(env, data.get("covered") or [])


def _covered(env: Any, covered: list[dict[str, Any]]) -> None:
    """Time retainers cover: their closes bill it, so it is apart from the total."""
    if not covered:
        return
    env.echo("Covered by retainers (billed when their period closes, not in the total):")
    for item in covered:
        since = f" since {item['oldest']}" if item["oldest"] else ""
        env.echo(f"  {item['retainer']} · {item['client']}: {item['billed_hours']} h{since}")


def _budgets(env: Any, data: dict[str, Any]) -> None:
    if not data["projects"]:
        env.echo("No project you can see has a budget.")
        return
    rows = []
    for p in data["projects"]:
        unit = " h" if p["kind"] == "hours" else f" {p['currency']}"
        rows.append(
            [
                p["project"],
                p["budget"] + unit,
                p["used"] + unit,
                f"{p['percent']} %",
                p["state"],
                p["runs_out_on"] or "–",
                p["effective_hourly_rate"] or "–",
            ]
        )
    _table(env, ["Project", "Budget", "Used", "Used %", "State", "Runs out", "Fee/hour"], rows)


def _revenue(env: Any, data: dict[str, Any]) -> None:
    env.echo(f"{data['first_day']} – {data['last_day']}")
    if not data["rows"]:
        env.echo("No invoice issued and no payment received in this period.")
        return
    rows = [
        [r["month"][:7], r["currency"], str(r["documents"]), r["net"], r["tax"], r["received"]]
        for r in data["rows"]
    ]
    rows += [
        ["Total", t["currency"], str(t["documents"]), t["net"], t["tax"], t["received"]]
        for t in data["totals"]
    ]
    home = data["home_currency"]
    rows += [[m["month"][:7], f"{home}*", "", m["net"], "", m["received"]] for m in data["home"]]
    _table(env, ["Month", "Currency", "Docs", "Net", "Tax", "Received"], rows)
    env.echo(f"* converted to {home} with each document's recorded rate")


def _tax(env: Any, data: dict[str, Any]) -> None:
    env.echo(f"{data['first_day']} – {data['last_day']}: {data['documents']} documents")
    if not data["rows"]:
        env.echo("No invoice or credit note issued in this period.")
        return
    home = data["home_currency"]
    rows = [
        [
            f"{r['tax']} {r['category']} {r['rate']} %",
            r["currency"],
            r["basis"],
            r["amount"],
            r["home_amount"] or "no rate",
        ]
        for r in data["rows"]
    ]
    _table(env, ["Tax", "Currency", "Basis", "Tax", f"Tax {home}"], rows)


def _utilisation(env: Any, data: dict[str, Any]) -> None:
    env.echo(f"{data['first_day']} – {data['last_day']} ({data['counted_days']} days counted)")
    rows = []
    for p in data["people"]:
        util = f"{p['utilisation_percent']} %" if p["utilisation_percent"] is not None else "–"
        rows.append([p["name"], p["hours"], p["billable_hours"], p["capacity_hours"], util])
        for share in p["projects"]:
            rows.append(["  " + share["label"], share["hours"], share["billable_hours"], "", ""])
    _table(env, ["Person / project", "Hours", "Billable", "Capacity", "Utilisation"], rows)


def _profit(env: Any, data: dict[str, Any]) -> None:
    home = data["home_currency"]
    env.echo(f"{data['first_day']} – {data['last_day']}, margin in {home}")
    rows = []
    for r in [*data["rows"], data["total"]]:
        money = ", ".join(f"{a} {c}" for c, a in {**r["invoiced"]}.items()) or "–"
        rows.append(
            [
                r["label"],
                r["hours"],
                money,
                r["revenue_home"] or "no rate",
                r["cost_home"] or "–",
                r["margin"] or "–",
                f"{r['margin_percent']} %" if r["margin_percent"] is not None else "–",
            ]
        )
    _table(
        env, [data["by"].capitalize(), "Hours", "Invoiced", "Revenue", "Cost", "Margin", "%"], rows
    )
