"""Client commands for billing schedules and reminders: `punch schedule list|run`,
`punch reminders list|run`.

Like every client command they talk to the REST API and never import Django.
"""

from __future__ import annotations

from typing import Any

import click

from punchclock.cli.billing_runs import DONE, LARGEST_ID, PAGE, WOULD, all_pages
from punchclock.cli.client import Env, json_option, pass_env
from punchclock.cli.receivables import _table
from punchclock.cli.recurring import recurring


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
    schedules = all_pages(env, "/schedules")
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
        due = all_pages(env, "/schedules", active="true")
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


@click.group()
def reminders() -> None:
    """Payment reminders: what is due, what went out, and sending them (owners and admins)."""


@reminders.command(name="list")
@click.option("--limit", type=click.IntRange(1, PAGE), default=20, show_default=True)
@json_option
@pass_env
def reminders_list(env: Env, limit: int, as_json: bool) -> None:
    """Reminders due now (what `punch reminders run` would send) and the latest ones sent.

    \b
    Example:
      punch reminders list
    """
    api = env.api()
    due = api.request("GET", "/reminders/due")
    recent = api.request("GET", "/reminders/sent", query={"limit": limit})["items"]
    if as_json:
        env.dump({"due": due, "recent": recent})
        return
    if not due:
        env.echo("Nothing is due.")
    else:
        env.echo("Due now:")
        rows = [["Invoice", "Client", "Level", "Open", "Late fee", ""]]
        for item in due:
            fee = f"{item['late_fee']} {item['currency']}" if item["late_fee"] else ""
            rows.append(
                [
                    item["invoice_number"],
                    item["client"],
                    _level(item),
                    f"{item['open_amount']} {item['currency']}",
                    fee,
                    item["problem"],
                ]
            )
        for line in _table(rows, right={3, 4}):
            env.echo("  " + line)
    if recent:
        env.echo("Recent:")
        rows = [["Invoice", "Client", "Level", "State", "When (UTC)"]]
        for item in recent:
            when = (item["sent_at"] or item["created_at"])[:16].replace("T", " ")
            rows.append(
                [item["invoice_number"], item["client"], _level(item), item["state_text"], when]
            )
        for line in _table(rows, right=set()):
            env.echo("  " + line)


@reminders.command(name="run")
@click.option("--dry-run", is_flag=True, help="Only say what would be sent; change nothing.")
@json_option
@pass_env
def reminders_run(env: Env, dry_run: bool, as_json: bool) -> None:
    """Send the reminders due now, each once (the worker does it every hour anyway).

    \b
    Examples:
      punch reminders run --dry-run
      punch reminders run
    """
    if dry_run:
        due = env.api().request("GET", "/reminders/due")
        if as_json:
            env.dump(due)
        elif not due:
            env.echo("Nothing is due.")
        for item in due if not as_json else []:
            fee = f", late fee {item['late_fee']} {item['currency']}" if item["late_fee"] else ""
            problem = f"  ({item['problem']})" if item["problem"] else ""
            env.echo(f"would send {_level(item)} for {item['invoice_number']}{fee}{problem}")
        return
    result = env.api().request("POST", "/reminders/send")
    if as_json:
        env.dump(result)
        return
    if not result["outcomes"]:
        env.echo("Nothing is due.")
    for item in result["outcomes"]:
        fee = f", late fee {item['late_fee_number']}" if item["late_fee_number"] else ""
        message = f"  ({item['message']})" if item["message"] else ""
        env.echo(f"{item['status']}: {_level(item)} for {item['invoice_number']}{fee}{message}")


def _level(item: dict[str, Any]) -> str:
    if item["level"] == 4:
        return f"repeat {item['repetition'] + 1}"
    return f"level {item['level']}"


COMMANDS = [schedule, reminders, recurring]


def register(group: click.Group) -> None:
    for command in COMMANDS:
        group.add_command(command)
