"""Client commands for billing schedules: `punch schedule list` and `punch schedule run`.

Like every client command they talk to the REST API and never import Django.
"""

from __future__ import annotations

from typing import Any

import click

from punchclock.cli.client import Env, json_option, pass_env
from punchclock.cli.receivables import _table
from punchclock.cli.recurring import recurring

PAGE = 200  # the API's largest page
LARGEST_ID = 10**18 - 1  # the API takes no longer id

# How a period's status reads after a run, and before one (a dry run).
DONE = {"drafted": "drafted", "issued": "issued", "sent": "issued and sent"}
WOULD = {"drafted": "would draft", "issued": "would issue", "sent": "would issue and send"}


def _all_schedules(env: Env, **query: Any) -> list[dict[str, Any]]:
    """Every schedule, page by page."""
    found: list[dict[str, Any]] = []
    while True:
        page = env.api().request(
            "GET", "/schedules", query={**query, "limit": PAGE, "offset": len(found)}
        )
        found += page["items"]
        if not page["items"] or len(found) >= page["count"]:
            return found


def _whom(schedule: dict[str, Any]) -> str:
    project = schedule["project"]
    return f"{schedule['client']} · {project}" if project else schedule["client"]


@click.group()
def schedule() -> None:
    """Billing schedules: invoices made on schedule, each period once (owners and admins)."""


@schedule.command(name="list")
@json_option
@pass_env
def schedule_list(env: Env, as_json: bool) -> None:
    """Billing schedules with what their next run would bill so far.

    \b
    Example:
      punch schedule list
    """
    schedules = _all_schedules(env)
    for item in schedules:
        # The list leaves the estimate out (it reads the unbilled work); one request each.
        item |= env.api().request("GET", f"/schedules/{item['id']}/preview")
    if as_json:
        env.dump(schedules)
        return
    if not schedules:
        env.echo("No billing schedules: create one on the Billing schedules page.")
        return
    rows = [["ID", "Client", "Frequency", "Action", "Next run"]]
    for item in schedules:
        frequency = item["frequency_text"] + ("" if item["is_active"] else " (paused)")
        nxt = item["next_run"]["text"] if item["next_run"] else "no more runs"
        if item["due_periods"]:
            nxt = f"{item['due_periods']} due; {nxt}"
        rows.append([str(item["id"]), _whom(item), frequency, item["action"], nxt])
    for line in _table(rows, right={0}):
        env.echo(line)


@schedule.command(name="run")
@click.argument("schedule_id", required=False, type=click.IntRange(min=1, max=LARGEST_ID))
@click.option("--dry-run", is_flag=True, help="Only say what would be billed; change nothing.")
@json_option
@pass_env
def schedule_run(env: Env, schedule_id: int | None, dry_run: bool, as_json: bool) -> None:
    """Bill the periods that are due now: of every active schedule, or of the one with this ID.

    Each period is billed once, whoever runs it; the worker does the same every day.

    \b
    Examples:
      punch schedule run --dry-run
      punch schedule run 3
    """
    if schedule_id is not None:
        ids = [schedule_id]
    else:
        due = _all_schedules(env, active="true")
        ids = [item["id"] for item in due if item["due_periods"]]
    results = [
        env.api().request("POST", f"/schedules/{pk}/run", {"dry_run": dry_run}) for pk in ids
    ]
    if as_json:
        env.dump(results)
        return
    if not any(result["periods"] for result in results):
        env.echo("Nothing is due.")
        return
    for result in results:
        if result["periods"]:
            _print_result(env, result)


def _print_result(env: Env, result: dict[str, Any]) -> None:
    env.echo(f"Schedule {result['schedule_id']}:")
    for period in result["periods"]:
        span = f"{period['period_start']} – {period['period_end']}"
        env.echo(f"  {span}  {_period_text(period, result['dry_run'])}")


def _period_text(period: dict[str, Any], dry_run: bool) -> str:
    """One period's outcome: the invoice and its amount, nothing to bill, or the failure."""
    status = period["status"]
    if status == "empty":
        return "nothing to bill"
    if status == "failed":
        return f"failed: {period['message']}"
    if dry_run:
        guess = period["estimate"]
        count = guess["expenses"]
        expenses = f"{count} expense{'s' * (count != 1)}"
        money = f"{guess['amount']} {guess['currency']}"
        return f"{WOULD[status]}: {guess['hours']} h + {expenses} ≈ {money} net"
    name = period["invoice_number"] or f"draft {period['invoice_id']}"
    text = f"{DONE[status]} {name}  {period['invoice_total']} {period['currency']}"
    return f"{text}  ({period['message']})" if period["message"] else text


COMMANDS = [schedule, recurring]


def register(group: click.Group) -> None:
    for command in COMMANDS:
        group.add_command(command)
