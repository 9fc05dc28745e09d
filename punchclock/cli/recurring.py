"""Client commands for recurring invoices: `punch recurring list` and `punch recurring run`.

Like every client command they talk to the REST API and never import Django.
"""

from __future__ import annotations

from typing import Any

import click

from punchclock.cli.billing_runs import DONE, LARGEST_ID, WOULD, all_pages
from punchclock.cli.client import Env, json_option, pass_env
from punchclock.cli.receivables import _table


@click.group()
def recurring() -> None:
    """Recurring invoices: fixed lines invoiced once per period (owners and admins)."""


@recurring.command(name="list")
@json_option
@pass_env
def recurring_list(env: Env, as_json: bool) -> None:
    """Recurring invoices with their next run.

    \b
    Example:
      punch recurring list
    """
    items = all_pages(env, "/recurring-invoices")
    for item in items:
        item |= env.api().request("GET", f"/recurring-invoices/{item['id']}/preview")
    if as_json:
        env.dump(items)
        return
    if not items:
        env.echo("No recurring invoices: create one on the Recurring invoices page.")
        return
    rows = [["ID", "Client", "Name", "Frequency", "Action", "Next run"]]
    for item in items:
        frequency = item["frequency_text"] + ("" if item["is_active"] else " (paused)")
        nxt = item["next_run"]["text"] if item["next_run"] else "ended"
        if item["due_periods"]:
            nxt = f"{item['due_periods']} due; {nxt}"
        rows.append([str(item["id"]), item["client"], item["name"], frequency, item["action"], nxt])
    for line in _table(rows, right={0}):
        env.echo(line)


@recurring.command(name="run")
@click.argument("recurring_id", required=False, type=click.IntRange(min=1, max=LARGEST_ID))
@click.option("--dry-run", is_flag=True, help="Only say what would be invoiced; change nothing.")
@json_option
@pass_env
def recurring_run(env: Env, recurring_id: int | None, dry_run: bool, as_json: bool) -> None:
    """Invoice the periods that are due now: of every active recurring invoice, or of this ID.

    Each period is invoiced once, whoever runs it; the worker does the same every minute.

    \b
    Examples:
      punch recurring run --dry-run
      punch recurring run 3
    """
    if recurring_id is not None:
        ids = [recurring_id]
    else:
        ids = [
            item["id"]
            for item in all_pages(env, "/recurring-invoices", active="true")
            if item["due_periods"]
        ]
    results = [
        env.api().request("POST", f"/recurring-invoices/{pk}/run", {"dry_run": dry_run})
        for pk in ids
    ]
    if as_json:
        env.dump(results)
        return
    if not any(result["periods"] for result in results):
        env.echo("Nothing is due.")
        return
    for result in results:
        if result["periods"]:
            env.echo(f"Recurring invoice {result['recurring_id']}:")
            for period in result["periods"]:
                span = f"{period['period_start']} – {period['period_end']}"
                env.echo(f"  #{period['cycle']}  {span}  {_text(period, result['dry_run'])}")


def _text(period: dict[str, Any], dry_run: bool) -> str:
    status = period["status"]
    if status == "failed":
        return f"failed: {period['message']}"
    if dry_run:
        guess = period["invoice_estimate"]
        lines = "; ".join(line["description"] for line in guess["lines"])
        return f"{WOULD[status]}: {lines} ≈ {guess['gross']} {guess['currency']}"
    name = period["invoice_number"] or f"draft {period['invoice_id']}"
    text = f"{DONE[status]} {name}  {period['invoice_total']} {period['currency']}"
    return f"{text}  ({period['message']})" if period["message"] else text
