"""Client commands for retainers: `punch retainer list` and `punch retainer run`.

Like every client command they talk to the REST API and never import Django.
"""

from __future__ import annotations

import click

from punchclock.cli.billing_runs import DONE, LARGEST_ID, WOULD, all_pages
from punchclock.cli.client import Env, json_option, pass_env
from punchclock.cli.receivables import _table


@click.group()
def retainer() -> None:
    """Retainers: hours (or an amount) bought per period, drawn down by tracked time."""


@retainer.command(name="list")
@json_option
@pass_env
def retainer_list(env: Env, as_json: bool) -> None:
    """Retainers with what is left of this period's allowance.

    \b
    Example:
      punch retainer list
    """
    items = all_pages(env, "/retainers")
    for item in items:
        # The list leaves the balance out (it reads the tracked time); one request each.
        item["balance"] = env.api().request("GET", f"/retainers/{item['id']}/balance")
    if as_json:
        env.dump(items)
        return
    if not items:
        env.echo("No retainers: create one on the Retainers page.")
        return
    rows = [["ID", "Retainer", "Client", "Per period", "This period"]]
    for item in items:
        unit = " h" if item["kind"] == "hours" else f" {item['currency']}"
        included = (
            item["included"].removesuffix(".00") if item["kind"] == "hours" else item["included"]
        )
        per = f"{included}{unit} for {item['fee']} {item['currency']}"
        found = item["balance"]
        now = f"{found['label']}: {found['text']}" if found else "not running"
        name = item["name"] + ("" if item["is_active"] else " (paused)")
        rows.append([str(item["id"]), name, item["client"], per, now])
    for line in _table(rows, right={0}):
        env.echo(line)


@retainer.command(name="run")
@click.argument("retainer_id", required=False, type=click.IntRange(min=1, max=LARGEST_ID))
@click.option("--dry-run", is_flag=True, help="Only say what closing would do; change nothing.")
@json_option
@pass_env
def retainer_run(env: Env, retainer_id: int | None, dry_run: bool, as_json: bool) -> None:
    """Close the ended periods: of every active retainer, or of the one with this ID.

    Each period closes once, whoever runs it; the worker does the same every day.

    \b
    Examples:
      punch retainer run --dry-run
      punch retainer run 3
    """
    ids = (
        [retainer_id]
        if retainer_id
        else [r["id"] for r in all_pages(env, "/retainers", active="true")]
    )
    results = [
        env.api().request("POST", f"/retainers/{pk}/run", {"dry_run": dry_run}) for pk in ids
    ]
    if as_json:
        env.dump(results)
        return
    if not any(r["planned"] or r["closed"] for r in results):
        env.echo("Nothing is due.")
        return
    for result in results:
        if result["planned"] or result["closed"]:
            env.echo(f"Retainer {result['retainer_id']}:")
        for plan in result["planned"]:
            span = f"{plan['period_start']} – {plan['period_end']}"
            if plan["status"] == "failed":
                env.echo(f"  {span}  would fail: {plan['message']}")
            else:
                env.echo(f"  {span}  {WOULD[plan['status']]}: {plan['text']}")
        for done in result["closed"]:
            span = f"{done['period_start']} – {done['period_end']}"
            if done["invoice_id"] is None:
                env.echo(f"  {span}  failed: {done['message']}")
                continue
            name = done["invoice_number"] or f"draft {done['invoice_id']}"
            env.echo(f"  {span}  {DONE[done['status']]} {name}  {done['invoice_total']}")


COMMANDS = [retainer]


def register(group: click.Group) -> None:
    for command in COMMANDS:
        group.add_command(command)
