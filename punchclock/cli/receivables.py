"""Client commands for money: `punch owed`, `punch statement` and `punch payment`.

Like every client command they talk to the REST API and never import Django. Amounts stay
the API's decimal strings (or Decimals, to add them up): never floats.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import click

from punchclock.cli.client import ClientError, Env, _expense_day, json_option, pass_env

METHODS = ("transfer", "card", "cash", "other")
LONGEST_ID = 18  # digits; longer numbers are no database id


def _client_id(env: Env, code: str) -> int:
    """The id of the client with this code, as `punch unbilled` names clients."""
    wanted = code.strip().lower()
    found = env.api().request("GET", "/clients", query={"search": wanted, "limit": 200})
    for client in found["items"]:
        if client["code"] == wanted:
            return int(client["id"])
    raise ClientError(f"There is no client “{code}”: use the code `punch projects` shows.")


def _invoice_id(env: Env, text: str) -> int:
    """An invoice by its number (2026-0007) or, failing that, by its numeric id."""
    wanted = text.strip()
    found = env.api().request("GET", "/invoices", query={"number": wanted, "limit": 1})
    if found["items"]:
        return int(found["items"][0]["id"])
    if wanted.isdigit() and len(wanted) <= LONGEST_ID:
        return int(wanted)
    raise ClientError(f"There is no invoice {text}: give its number (2026-0007) or its id.")


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ClientError(f"“{text}” is not {what}: write it like 500.00.") from None
    if not value.is_finite():
        raise ClientError(f"“{text}” is not {what}: write it like 500.00.")
    return value


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    """Rows as aligned text columns; the columns in `right` are right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def _write(env: Env, path: str, content: bytes) -> None:
    target = Path(path).expanduser()
    try:
        target.write_bytes(content)
    except OSError as exc:
        raise ClientError(f"Cannot write {path}: {exc.strerror or exc}.") from exc
    env.echo(f"Wrote {target} ({len(content):,} bytes).")


# punch owed ---------------------------------------------------------------------------------


def _overdue(days: int) -> str:
    return f"{days} day{'s' * (days != 1)}" if days else "not due"


@click.command()
@click.option("--client", "code", help="Only this client (its code).")
@json_option
@pass_env
def owed(env: Env, code: str | None, as_json: bool) -> None:
    """What clients owe: open invoices, longest overdue first, with totals per currency
    (owners and admins).

    \b
    Example:
      punch owed --client acme
    """
    query = {"client_id": _client_id(env, code)} if code else {}
    data = env.api().request("GET", "/receivables", query=query)
    if as_json:
        env.dump(data)
        return
    if not data["invoices"]:
        env.echo("Nothing is owed to you.")
    else:
        rows = [["Client", "Invoice", "Due", "Overdue", "Balance"]]
        for item in data["invoices"]:
            rows.append(
                [
                    item["client"],
                    item["number"],
                    item["due_date"] or "",
                    _overdue(item["days_overdue"]),
                    f"{item['balance']} {item['currency']}",
                ]
            )
        for line in _table(rows, right={3, 4}):
            env.echo(line)
        env.echo()
        for total in data["totals"]:
            if not total["invoices"]:
                continue
            overdue = f"{total['overdue']} overdue" if Decimal(total["overdue"]) else "none overdue"
            env.echo(f"Total owed: {total['outstanding']} {total['currency']} ({overdue})")
    for row in data["clients"]:
        if Decimal(row["credit"]):
            env.echo(f"Unused credit: {row['client']} {row['credit']} {row['currency']}")


# punch statement -----------------------------------------------------------------------------


@click.command()
@click.argument("client")
@click.option("--from", "start", help="First day (default 1 January): 2026-01-01, today …")
@click.option("--to", "end", help="Last day, inclusive (default 31 December).")
@click.option("--pdf", "pdf_file", help="Write the statement as PDF to this file.")
@click.option("--csv", "csv_file", help="Write the statement as CSV to this file.")
@json_option
@pass_env
def statement(
    env: Env,
    client: str,
    start: str | None,
    end: str | None,
    pdf_file: str | None,
    csv_file: str | None,
    as_json: bool,
) -> None:
    """A client's statement of account: the opening balance, every invoice, credit note,
    payment and refund with the running balance, and the closing balance, per currency.

    \b
    Examples:
      punch statement acme
      punch statement acme --from 2026-01-01 --to 2026-06-30 --pdf acme.pdf
    """
    pk = _client_id(env, client)
    period = {key: _expense_day(value) for key, value in (("start", start), ("end", end)) if value}
    files = [(kind, name) for kind, name in (("pdf", pdf_file), ("csv", csv_file)) if name]
    for kind, name in files:
        query = urlencode({**period, "format": kind})
        _write(env, name, env.api().download(f"/clients/{pk}/statement?{query}"))
    if files:
        return
    data = env.api().request("GET", f"/clients/{pk}/statement", query=period)
    if as_json:
        env.dump(data)
        return
    env.echo(
        f"Statement of account: {data['client']} ({data['code']}), {data['start']} to {data['end']}"
    )
    if not data["currencies"]:
        env.echo("No documents or payments up to the end of this period.")
    for section in data["currencies"]:
        env.echo()
        _section(env, data, section)


def _section(env: Env, data: dict[str, Any], section: dict[str, Any]) -> None:
    rows = [["Date", "Document", "Details", "Debit", "Credit", "Balance"]]
    rows.append([data["start"], "Opening balance", "", "", "", section["opening"]])
    for row in section["rows"]:
        kind = row["kind"].replace("_", " ").capitalize()
        document = f"{kind} {row['reference']}" if row["invoice_id"] else kind
        rows.append(
            [
                row["date"],
                document,
                row["details"],
                row["debit"] if Decimal(row["debit"]) else "",
                row["credit"] if Decimal(row["credit"]) else "",
                row["balance"],
            ]
        )
    rows.append([data["end"], "Closing balance", "", "", "", section["closing"]])
    env.echo(section["currency"])
    for line in _table(rows, right={3, 4, 5}):
        env.echo(line)


# punch payment ------------------------------------------------------------------------------


@click.group()
def payment() -> None:
    """Record and list payments (owners and admins)."""


def _paid_on(item: dict[str, Any]) -> str:
    return ", ".join(f"{a['number']} {a['amount']}" for a in item["allocations"])


@payment.command(name="add")
@click.argument("invoice")
@click.argument("amount")
@click.option(
    "--date", "day", default="today", show_default=True, help="Received: today or 2026-11-20."
)
@click.option("--method", type=click.Choice(METHODS), default="transfer", show_default=True)
@click.option("--currency", help="The currency received, if not the invoice's (e.g. USD).")
@click.option("--rate", help="Invoice currency per unit received (default: the stored rate).")
@click.option("--reference", default="", help="The bank's reference.")
@click.option("--note", default="", help="A note for yourself.")
@json_option
@pass_env
def payment_add(
    env: Env,
    invoice: str,
    amount: str,
    day: str,
    method: str,
    currency: str | None,
    rate: str | None,
    reference: str,
    note: str,
    as_json: bool,
) -> None:
    """Record money received for an issued invoice; what exceeds its balance becomes the
    client's credit. INVOICE is its number or its id.

    \b
    Examples:
      punch payment add 2026-0007 500.00 --date 2026-11-20 --method transfer
      punch payment add 2026-0008 540.00 --currency USD --rate 0.92
    """
    body: dict[str, Any] = {
        "amount": str(_decimal(amount, "an amount")),
        "received_on": _expense_day(day),
        "method": method,
        "reference": reference,
        "note": note,
    }
    if currency:
        body["currency"] = currency.strip().upper()
    if rate:
        body["exchange_rate"] = str(_decimal(rate, "an exchange rate"))
    pk = _invoice_id(env, invoice)
    created = env.api().request("POST", f"/invoices/{pk}/payments", body)
    if as_json:
        env.dump(created)
        return
    money = f"{created['amount']} {created['currency']}"
    env.echo(
        f"Recorded payment {created['id']}: {money} from {created['client']}, received "
        f"{created['received_on']} by {created['method']}."
    )
    if created["allocations"]:
        env.echo(f"Paid: {_paid_on(created)}.")
    used = sum((Decimal(a["amount"]) for a in created["allocations"]), Decimal(0))
    left = Decimal(created["amount"]) - used
    if left > 0 and not created.get("exchange_rate"):
        env.echo(f"Kept as credit: {left} {created['currency']}.")


@payment.command(name="list")
@click.option("--client", "code", help="Only this client's payments (its code).")
@json_option
@pass_env
def payment_list(env: Env, code: str | None, as_json: bool) -> None:
    """Payments and refunds, newest first, with the invoices they paid.

    \b
    Example:
      punch payment list --client acme
    """
    query: dict[str, Any] = {"limit": 200}
    if code:
        query["client_id"] = _client_id(env, code)
    data = env.api().request("GET", "/payments", query=query)
    if as_json:
        env.dump(data)
        return
    items = data["items"]
    if not items:
        env.echo("No payments.")
        return
    rows = [["ID", "Received", "Amount", "Method", "Client", "Paid"]]
    for item in items:
        paid = _paid_on(item) or "credit"
        if item["refund_of_id"]:
            paid = f"refund of {item['refund_of_id']}: {paid}"
        rows.append(
            [
                str(item["id"]),
                item["received_on"],
                f"{item['amount']} {item['currency']}",
                item["method"],
                item["client"],
                paid,
            ]
        )
    for line in _table(rows, right={0, 2}):
        env.echo(line)
    if data["count"] > len(items):
        env.echo(f"(showing {len(items)} of {data['count']})")


COMMANDS = [owed, statement, payment]


def register(group: click.Group) -> None:
    for command in COMMANDS:
        group.add_command(command)
