"""Client commands: a thin, fast client of the REST API. This module never imports Django.

The environment (config file, output streams, HTTP transport) is injectable so the tests run
these commands in-process against a live test server.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode, urlsplit

import click

EXIT_ERROR, EXIT_UNREADABLE, EXIT_CONNECT, EXIT_AUTH = 1, 2, 3, 4


class ClientError(Exception):
    """Something to tell the user, with the exit code to leave with."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


def config_path() -> Path:
    explicit = os.environ.get("PUNCH_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "punchclock" / "config.json"


@dataclass
class Config:
    url: str = ""
    token: str = ""

    @classmethod
    def load(cls, path: Path) -> Config:
        data: dict[str, Any] = {}
        if path.exists():
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise ClientError(f"Cannot read {path}: {exc}") from exc
        return cls(
            url=os.environ.get("PUNCH_URL") or data.get("url", ""),
            token=os.environ.get("PUNCH_TOKEN") or data.get("token", ""),
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created with 0600 from the start: the token must never be readable by others.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"url": self.url, "token": self.token}, handle)
        path.chmod(0o600)


class Api:
    """JSON over HTTP with the standard library only.

    Plain http:// (the local server) goes over a bare socket: importing http.client costs
    about 15 ms of the 100 ms a `punch start` may take. https:// uses http.client and ssl.
    """

    def __init__(self, url: str, token: str, timeout: float = 15) -> None:
        if not url:
            raise ClientError("Not logged in: run `punch login URL` first.", EXIT_AUTH)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ClientError(f"“{url}” is not a server address like http://127.0.0.1:8000")
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout
        self._parts = parts

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
    ) -> Any:
        target = self._parts.path.rstrip("/") + "/api/v1" + path
        if query:
            clean = {k: v for k, v in query.items() if v not in (None, "")}
            if clean:
                target += "?" + urlencode(clean)
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/json",
            "User-Agent": "punch/cli",
        }
        payload = b""
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        return self._exchange(method, target, payload, headers)

    def upload(self, path: str, name: str, data: bytes, field_name: str = "file") -> Any:
        """POST one file as multipart/form-data (receipts, rate files)."""
        boundary = "punch-" + os.urandom(12).hex()
        safe = name.replace('"', "%22").replace("\r", "").replace("\n", "")
        disposition = f'form-data; name="{field_name}"; filename="{safe}"'
        payload = b"".join(
            [
                f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode(),
                b"Content-Type: application/octet-stream\r\n\r\n",
                data,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/json",
            "User-Agent": "punch/cli",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        }
        return self._exchange(
            "POST", self._parts.path.rstrip("/") + "/api/v1" + path, payload, headers
        )

    def download(self, path: str) -> bytes:
        """GET a file (an invoice PDF) as bytes; errors still arrive as the JSON error body."""
        headers = {"Authorization": f"Bearer {self.token}", "User-Agent": "punch/cli"}
        target = self._parts.path.rstrip("/") + "/api/v1" + path
        status, raw = self._send(lambda: self._transport("GET", target, b"", headers))
        if status >= 400:
            try:
                data = json.loads(raw)
            except ValueError:
                data = {"detail": raw[:200].decode(errors="replace")}
            raise _error_from(status, data)
        return raw

    def _transport(
        self, method: str, target: str, payload: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        if self._parts.scheme == "https":
            return self._https(method, target, payload, headers)
        return self._http(method, target, payload, headers)

    def _send(self, call: Any) -> tuple[int, bytes]:
        try:
            result: tuple[int, bytes] = call()
        except (OSError, ValueError) as exc:
            raise ClientError(
                f"Cannot reach the Punchclock server at {self.url} ({exc}). Is it running?",
                EXIT_CONNECT,
            ) from exc
        return result

    def _exchange(self, method: str, target: str, payload: bytes, headers: dict[str, str]) -> Any:
        try:
            if self._parts.scheme == "https":
                status, raw = self._https(method, target, payload, headers)
            else:
                status, raw = self._http(method, target, payload, headers)
        except (OSError, ValueError) as exc:
            raise ClientError(
                f"Cannot reach the Punchclock server at {self.url} ({exc}). Is it running?",
                EXIT_CONNECT,
            ) from exc
        data: Any = None
        if raw:
            try:
                data = json.loads(raw)
            except ValueError:
                data = {"detail": raw[:200].decode(errors="replace")}
        if status >= 400:
            raise _error_from(status, data)
        return data

    def _http(
        self, method: str, target: str, payload: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        import socket

        host, port = self._parts.hostname or "", self._parts.port or 80
        # HTTP/1.0: the server closes after one response and never sends it chunked, so the
        # body is simply everything after the headers.
        lines = [f"{method} {target} HTTP/1.0", f"Host: {self._parts.netloc}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(payload)}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload
        with socket.create_connection((host, port), timeout=self.timeout) as connection:
            connection.sendall(request)
            chunks = []
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        response = b"".join(chunks)
        head, _, raw = response.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].split()
        if len(status_line) < 2 or not status_line[1].isdigit():
            raise ValueError("the server's answer is not HTTP")
        return int(status_line[1]), raw

    def _https(
        self, method: str, target: str, payload: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        import http.client

        connection = http.client.HTTPSConnection(
            self._parts.hostname or "", self._parts.port, timeout=self.timeout
        )
        try:
            connection.request(method, target, body=payload or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except http.client.HTTPException as exc:
            raise ValueError(str(exc)) from exc
        finally:
            connection.close()


def _error_from(status: int, data: Any) -> ClientError:
    detail = data.get("detail") if isinstance(data, dict) else None
    errors = data.get("errors") if isinstance(data, dict) else None
    if status == 401:
        return ClientError("The server refused the token: run `punch login URL` again.", EXIT_AUTH)
    lines = [
        f"{e.get('field')}: {e.get('message')}" if e.get("field") else str(e.get("message"))
        for e in errors or []
        if isinstance(e, dict)
    ]
    message = "\n".join(lines) or str(detail or f"The server answered {status}.")
    return ClientError(message, EXIT_AUTH if status == 403 else EXIT_ERROR)


@dataclass
class Env:
    """What the commands touch outside themselves; tests pass their own."""

    config_file: Path = field(default_factory=config_path)
    out: IO[str] = field(default_factory=lambda: sys.stdout)
    api_factory: Any = Api

    def api(self) -> Api:
        config = Config.load(self.config_file)
        return self.api_factory(config.url, config.token)

    def echo(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def dump(self, data: Any) -> None:
        self.out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


pass_env = click.make_pass_decorator(Env, ensure=True)


# Formatting -----------------------------------------------------------------------------


def _clock(iso: str | None) -> str:
    if not iso:
        return "…"
    return datetime.fromisoformat(iso).astimezone().strftime("%H:%M")


def _day(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone().strftime("%a %d %b")


def _hm(seconds: int) -> str:
    minutes = seconds // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


def _describe(entry: dict[str, Any]) -> str:
    what = entry["project"]
    if entry.get("task"):
        what += f" [{entry['task']}]"
    if entry.get("description"):
        what += f" “{entry['description']}”"
    return what


def _entry_line(entry: dict[str, Any]) -> str:
    tags = " ".join(f"#{t}" for t in entry.get("tags", []))
    money = "" if entry.get("billable") else "  (non-billable)"
    return (
        f"{entry['id']:>7}  {_day(entry['start'])}  {_clock(entry['start'])}–"
        f"{_clock(entry.get('end'))}  {_hm(entry['seconds']):>6}  {_describe(entry)}"
        f"{'  ' + tags if tags else ''}{money}"
    )


# Commands -------------------------------------------------------------------------------

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
at_option = click.option("--at", help="When, instead of now: 9:15, yesterday 17:00, or ISO 8601.")


@click.command()
@click.argument("url")
@click.option("--token", help="An API token (create one under API tokens); prompted if omitted.")
@pass_env
def login(env: Env, url: str, token: str | None) -> None:
    """Remember the server and your API token.

    \b
    Example:
      punch login http://127.0.0.1:8000
    """
    token = token or click.prompt("API token", hide_input=True)
    me = env.api_factory(url, token).request("GET", "/me")
    Config(url=url, token=token).save(env.config_file)
    who = me.get("user", {}).get("email", "?")
    env.echo(f"Logged in to {me.get('organization', {}).get('name', url)} as {who}.")


def _start_body(
    project: str,
    description: str,
    task: str | None,
    at: str | None,
    tags: tuple[str, ...],
    ref: str | None,
    billable: bool | None,
) -> dict[str, Any]:
    return {
        "project": project,
        "description": description,
        "task": task,
        "at": at,
        "tags": list(tags),
        "external_ref": ref or "",
        "billable": billable,
    }


def _start(env: Env, body: dict[str, Any], as_json: bool) -> None:
    result = env.api().request("POST", "/timer/start", body)
    if as_json:
        env.dump(result)
        return
    if result.get("stopped"):
        stopped = result["stopped"]
        env.echo(
            f"Stopped {_describe(stopped)} at {_clock(stopped['end'])} ({_hm(stopped['seconds'])})."
        )
    started = result["started"]
    env.echo(f"Started {_describe(started)} at {_clock(started['start'])}.")


_start_options = [
    click.argument("project"),
    click.argument("description", required=False, default=""),
    click.option("--task", "-t", help="Task name (a unique prefix is enough)."),
    at_option,
    click.option("--tag", "tags", multiple=True, help="Tag, repeatable."),
    click.option("--ref", help="Issue key, pull request or commit."),
    click.option("--billable/--non-billable", default=None, help="Override the default."),
    json_option,
]


def _with(options: list[Any]) -> Any:
    def wrap(function: Any) -> Any:
        for option in reversed(options):
            function = option(function)
        return function

    return wrap


@click.command()
@_with(_start_options)
@pass_env
def start(
    env: Env,
    project: str,
    description: str,
    task: str | None,
    at: str | None,
    tags: tuple[str, ...],
    ref: str | None,
    billable: bool | None,
    as_json: bool,
) -> None:
    """Start a timer on a project (stopping the running one at the same instant).

    \b
    Example:
      punch start acme/api "fix login" --at 9:15 --tag bug
    """
    _start(env, _start_body(project, description, task, at, tags, ref, billable), as_json)


# `switch` is `start` under the name people reach for after lunch: starting always switches.
switch = click.Command(
    name="switch",
    callback=start.callback,
    params=start.params,
    help="""Stop the running timer and start another at the same instant.

    \b
    Example:
      punch switch globex/web "review PR #42"
    """,
    short_help="Stop the running timer and start another at the same instant.",
)


@click.command()
@at_option
@json_option
@pass_env
def stop(env: Env, at: str | None, as_json: bool) -> None:
    """Stop the running timer.

    \b
    Example:
      punch stop --at 18:30
    """
    entry = env.api().request("POST", "/timer/stop", {"at": at})
    if as_json:
        env.dump(entry)
    else:
        env.echo(f"Stopped {_describe(entry)} at {_clock(entry['end'])} ({_hm(entry['seconds'])}).")


@click.command()
@at_option
@json_option
@pass_env
def resume(env: Env, at: str | None, as_json: bool) -> None:
    """Start again what you tracked last."""
    _start_result = env.api().request("POST", "/timer/resume", {"at": at})
    if as_json:
        env.dump(_start_result)
    else:
        started = _start_result["started"]
        env.echo(f"Resumed {_describe(started)} at {_clock(started['start'])}.")


@click.command()
@json_option
@pass_env
def status(env: Env, as_json: bool) -> None:
    """Show the running timer."""
    result = env.api().request("GET", "/timer")
    if as_json:
        env.dump(result)
        return
    running = result.get("running")
    if not running:
        env.echo("No timer is running.")
        return
    env.echo(
        f"Tracking {_describe(running)} since {_clock(running['start'])} "
        f"({_hm(running['seconds'])})."
    )


@click.command()
@click.argument("project")
@click.argument("duration")
@click.argument("description", required=False, default="")
@click.option(
    "--date",
    "day",
    default="today",
    show_default=True,
    help="today, yesterday, a weekday or 2026-11-20.",
)
@click.option("--task", "-t", help="Task name (a unique prefix is enough).")
@click.option("--tag", "tags", multiple=True, help="Tag, repeatable.")
@click.option("--ref", help="Issue key, pull request or commit.")
@click.option("--billable/--non-billable", default=None)
@json_option
@pass_env
def add(
    env: Env,
    project: str,
    duration: str,
    description: str,
    day: str,
    task: str | None,
    tags: tuple[str, ...],
    ref: str | None,
    billable: bool | None,
    as_json: bool,
) -> None:
    """Add finished time: a duration like 1h30, 1.5h, 90m or 1:30.

    \b
    Example:
      punch add acme/api 1h30 "review" --date yesterday
    """
    entry = env.api().request(
        "POST",
        "/entries",
        {
            "project": project,
            "duration": duration,
            "date": day,
            "description": description,
            "task": task,
            "tags": list(tags),
            "external_ref": ref or "",
            "billable": billable,
        },
    )
    if as_json:
        env.dump(entry)
    else:
        env.echo(f"Added {_hm(entry['seconds'])} on {_describe(entry)}, {_day(entry['start'])}.")
        for warning in entry.get("warnings", []):
            env.echo(f"Note: {warning}")


@click.command(name="log")
@click.option("--week", "period", flag_value="week", help="This week.")
@click.option("--month", "period", flag_value="month", help="This month.")
@click.option(
    "--period",
    "period",
    default="today",
    show_default=True,
    type=click.Choice(["today", "yesterday", "week", "last-week", "month", "last-month", "all"]),
)
@json_option
@pass_env
def log_(env: Env, period: str, as_json: bool) -> None:
    """List your entries (today by default)."""
    data = env.api().request("GET", "/entries", query={"period": period, "limit": 500})
    if as_json:
        env.dump(data)
        return
    items = data["items"]
    if not items:
        env.echo(f"No entries ({period}).")
        return
    for entry in items:
        env.echo(_entry_line(entry))
    total = sum(e["seconds"] for e in items)
    more = f" (showing {len(items)} of {data['count']})" if data["count"] > len(items) else ""
    env.echo(f"{'':>7}  Total {_hm(total)}{more}")


@click.command()
@click.argument("entry_id", type=int)
@click.option("--description", "-d")
@click.option("--start", help="New start: 9:15, yesterday 17:00 or ISO 8601.")
@click.option("--end", help="New end.")
@click.option("--project", help="Move to another project (acme/api).")
@click.option("--task", "-t")
@click.option("--billable/--non-billable", default=None)
@json_option
@pass_env
def edit(
    env: Env,
    entry_id: int,
    description: str | None,
    start: str | None,
    end: str | None,
    project: str | None,
    task: str | None,
    billable: bool | None,
    as_json: bool,
) -> None:
    """Change an entry.

    \b
    Example:
      punch edit 1234 --end 18:30 -d "fix login and tests"
    """
    changes = {
        k: v
        for k, v in {
            "description": description,
            "start": start,
            "end": end,
            "project": project,
            "task": task,
            "billable": billable,
        }.items()
        if v is not None
    }
    if not changes:
        raise ClientError(
            "Nothing to change: give --description, --start, --end, --project, "
            "--task or --billable."
        )
    entry = env.api().request("PATCH", f"/entries/{entry_id}", changes)
    if as_json:
        env.dump(entry)
    else:
        env.echo("Changed: " + _entry_line(entry).strip())


@click.command()
@click.argument("entry_id", type=int)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_env
def delete(env: Env, entry_id: int, yes: bool) -> None:
    """Delete an entry."""
    if not yes:
        click.confirm(f"Delete entry {entry_id}?", abort=True)
    env.api().request("DELETE", f"/entries/{entry_id}")
    env.echo(f"Deleted entry {entry_id}.")


@click.command()
@json_option
@pass_env
def projects(env: Env, as_json: bool) -> None:
    """List the projects you can track time on, with their codes and tasks."""
    data = env.api().request("GET", "/tracking/projects")
    if as_json:
        env.dump(data)
        return
    for project in data["items"]:
        tasks = ", ".join(project["tasks"])
        env.echo(
            f"{project['code']:<24} {project['name']} ({project['client']})"
            f"{'  — ' + tasks if tasks else ''}"
        )


@click.command()
@click.argument(
    "kind",
    required=False,
    default="time",
    type=click.Choice(["time", "unbilled", "budgets", "revenue", "tax", "utilisation", "profit"]),
)
@click.option(
    "--period",
    default="month",
    show_default=True,
    type=click.Choice(
        [
            "today",
            "yesterday",
            "week",
            "last-week",
            "month",
            "last-month",
            "year",
            "last-year",
            "all",
        ]
    ),
)
@click.option("--all", "everything", is_flag=True, help="All time (same as --period all).")
@click.option("--from", "first", metavar="DATE", help="First day, YYYY-MM-DD (a custom period).")
@click.option("--to", "last", metavar="DATE", help="Last day, included, YYYY-MM-DD.")
@click.option(
    "--by",
    default="project",
    show_default=True,
    metavar="A[,B]",
    help="One or two of client, project, task, person, tag, day, week, month.",
)
@click.option("--client", metavar="IDS", help="Only these client ids (comma-separated).")
@click.option("--project", metavar="IDS", help="Only these project ids.")
@click.option("--task", metavar="IDS", help="Only these task ids.")
@click.option("--person", metavar="IDS", help="Only these people (membership ids).")
@click.option("--tag", metavar="IDS", help="Only entries with one of these tag ids.")
@click.option("--billable", type=click.Choice(["yes", "no"]), help="Billable time only, or not.")
@click.option("--invoiced", type=click.Choice(["yes", "no"]), help="On an issued invoice, or not.")
@click.option("--approved", type=click.Choice(["yes", "no"]), help="In an approved timesheet.")
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "json", "csv", "xlsx"]),
    default="table",
    show_default=True,
    help="xlsx is an Excel workbook and needs --output.",
)
@click.option(
    "--output",
    "-o",
    "target",
    metavar="FILE",
    help="Write the csv or xlsx export to FILE instead of the terminal.",
)
@json_option
@pass_env
def report(
    env: Env,
    kind: str,
    period: str,
    everything: bool,
    first: str | None,
    last: str | None,
    by: str,
    output: str,
    target: str | None,
    as_json: bool,
    **filters: str | None,
) -> None:
    """Hours, billed hours, amounts and cost by --by; or another report named by KIND.

    \b
    Examples:
      punch report --period last-month --by client
      punch report --from 2026-07-01 --to 2026-09-30 --by project,person --format csv
      punch report --period last-month --by client --format xlsx -o clients.xlsx
      punch report unbilled
      punch report budgets
      punch report revenue --period year
      punch report tax --from 2026-07-01 --to 2026-09-30 --format csv
      punch report utilisation --period last-month
      punch report profit --by client --period last-year
    """
    from punchclock.cli import reports

    if as_json:
        output = "json"
    reports.check_output(output, target)
    if kind != "time":
        ctx = click.get_current_context()
        explicit = ctx.get_parameter_source("period") != click.core.ParameterSource.DEFAULT
        asked: dict[str, Any] = {"period": "all" if everything else period if explicit else None}
        if first or last:
            asked.update({"period": "custom", "from": first, "to": last})
        if kind in ("budgets", "unbilled"):
            asked = {}
        if (
            kind == "profit"
            and ctx.get_parameter_source("by") != click.core.ParameterSource.DEFAULT
        ):
            asked["by"] = by
        reports.run(env, kind, asked, output, target)
        return
    query: dict[str, Any] = {"period": "all" if everything else period, "by": by, **filters}
    if first or last:
        query.update({"period": "custom", "from": first, "to": last})
    if output in reports.FILES:
        reports.export(env, "/reports/time", query, output, target)
        return
    data = env.api().request("GET", "/reports/time", query=query)
    if output == "json":
        env.dump(data)
        return
    rows = data["rows"]
    if not rows:
        env.echo("No time in this period.")
        return
    lines: list[tuple[str, dict[str, Any]]] = []
    for row in rows:
        lines.append((row["label"], row))
        lines.extend(("  " + child["label"], child) for child in row.get("children", []))
    lines.append(("Total", data["total"]))
    width = max(len(label) for label, _ in lines)
    heading = " / ".join(part.capitalize() for part in data["by"].split(","))
    env.echo(f"{heading:<{width}}  {'Hours':>9}  {'Billable':>9}  {'Billed':>9}  Amount")
    for label, row in lines:
        amounts = ", ".join(f"{a} {c}" for c, a in row["amounts"].items())
        env.echo(
            f"{label:<{width}}  {row['hours']:>9}  {row['billable_hours']:>9}  "
            f"{row.get('billed_hours', ''):>9}  {amounts}"
        )


# Expenses and exchange rates --------------------------------------------------------------


def _local_today() -> date:
    # The terminal's own day: "yesterday" means the user's yesterday, wherever the server is.
    return datetime.now().astimezone().date()


def _expense_day(text: str) -> str:
    word = text.strip().lower()
    if word == "today":
        return _local_today().isoformat()
    if word == "yesterday":
        return (_local_today() - timedelta(days=1)).isoformat()
    try:
        return date.fromisoformat(word).isoformat()
    except ValueError:
        raise ClientError(f"“{text}” is not a date: use today, yesterday or 2026-11-20.") from None


def _read_file(path: str, what: str, code: int = EXIT_ERROR) -> tuple[str, bytes]:
    file = Path(path).expanduser()
    try:
        return file.name, file.read_bytes()
    except OSError as exc:
        message = f"Cannot read the {what} {path}: {exc.strerror or exc}."
        raise ClientError(message, code) from exc


def _expense_line(expense: dict[str, Any]) -> str:
    where = expense.get("project") or expense["client"]
    flags = "".join(
        [
            "  [receipt]" if expense.get("receipts") else "",
            "  (reimbursable)" if expense.get("reimbursable") else "",
            "" if expense.get("billable") else "  (non-billable)",
        ]
    )
    money = f"{expense['amount']} {expense['currency']}"
    return (
        f"{expense['id']:>7}  {expense['spent_on']}  {money:>14}  {expense['category']:<12} "
        f"{where}  “{expense['description']}”  {expense['status']}{flags}"
    )


@click.group()
def expense() -> None:
    """Record and list expenses (with receipts)."""


@expense.command(name="add")
@click.argument("where", metavar="CLIENT_OR_PROJECT")
@click.argument("amount")
@click.argument("currency")
@click.argument("description")
@click.option("--category", "-c", help="Category name, any case (a unique prefix works).")
@click.option(
    "--date", "day", default="today", show_default=True, help="today, yesterday or 2026-11-20."
)
@click.option("--vendor", help="Who was paid.")
@click.option("--tax", help="Tax rate in percent, e.g. 19 (default: the category's).")
@click.option("--net", is_flag=True, help="The amount is without tax.")
@click.option("--non-billable", is_flag=True, help="Do not bill it to the client.")
@click.option("--reimbursable", is_flag=True, help="You paid it yourself; pay it back.")
@click.option("--receipt", help="A PDF, PNG, JPEG or WebP file to attach.")
@json_option
@pass_env
def expense_add(
    env: Env,
    where: str,
    amount: str,
    currency: str,
    description: str,
    category: str | None,
    day: str,
    vendor: str | None,
    tax: str | None,
    net: bool,
    non_billable: bool,
    reimbursable: bool,
    receipt: str | None,
    as_json: bool,
) -> None:
    """Record an expense for a client (acme) or a project (acme/api).

    For a unit category such as mileage, give the quantity and the unit instead of an
    amount and a currency: punch expense add acme 120 km "Drive to Hamburg" -c mileage

    \b
    Example:
      punch expense add acme 42.50 EUR "Train to client" --category travel --receipt ticket.pdf
    """
    spent_on = _expense_day(day)
    # Read before recording anything: a wrong path must not leave an expense behind.
    attachment = _read_file(receipt, "receipt") if receipt else None
    body: dict[str, Any] = {
        "project" if "/" in where else "client": where,
        "category": category,
        "spent_on": spent_on,
        "description": description,
        "vendor": vendor or "",
        "tax_rate": tax,
        "amount_includes_tax": not net,
        "billable": False if non_billable else None,
        "reimbursable": reimbursable,
    }
    if len(currency) == 3 and currency.isalpha() and currency.lower() != "km":
        body.update(amount=amount, currency=currency.upper())
    else:
        body["quantity"] = amount
    api = env.api()
    created = api.request("POST", "/expenses", {k: v for k, v in body.items() if v is not None})
    if attachment is not None:
        try:
            created = api.upload(f"/expenses/{created['id']}/receipts", *attachment)
        except ClientError as exc:
            # All or nothing, as on the web: the expense goes again with its refused receipt.
            api.request("DELETE", f"/expenses/{created['id']}")
            raise ClientError(f"Nothing recorded: the receipt was refused.\n{exc}") from exc
    if as_json:
        env.dump(created)
        return
    receipt_note = f", receipt {attachment[0]}" if attachment else ""
    env.echo(
        f"Recorded expense {created['id']}: {created['amount']} {created['currency']} "
        f"{created['category']} for {created.get('project') or created['client']} "
        f"“{created['description']}” on {created['spent_on']}{receipt_note}."
    )


def _period_bounds(period: str) -> tuple[str | None, str | None]:
    today = _local_today()
    first = today.replace(day=1)
    if period == "month":
        return first.isoformat(), today.isoformat()
    if period == "last-month":
        last = first - timedelta(days=1)
        return last.replace(day=1).isoformat(), last.isoformat()
    return None, None


@expense.command(name="list")
@click.option(
    "--period",
    default="month",
    show_default=True,
    type=click.Choice(["month", "last-month", "all"]),
)
@json_option
@pass_env
def expense_list(env: Env, period: str, as_json: bool) -> None:
    """List expenses (yours; everyone's for admins), newest first.

    \b
    Example:
      punch expense list --period last-month
    """
    start, end = _period_bounds(period)
    data = env.api().request("GET", "/expenses", query={"from": start, "to": end, "limit": 200})
    if as_json:
        env.dump(data)
        return
    items = data["items"]
    if not items:
        env.echo(f"No expenses ({period}).")
        return
    totals: dict[str, Decimal] = {}
    for item in items:
        env.echo(_expense_line(item))
        totals[item["currency"]] = totals.get(item["currency"], Decimal(0)) + Decimal(
            item["amount"]
        )
    summed = ", ".join(f"{amount} {currency}" for currency, amount in sorted(totals.items()))
    more = f" (showing {len(items)} of {data['count']})" if data["count"] > len(items) else ""
    env.echo(f"{'':>7}  Total {summed}{more}")


@click.group()
def rates() -> None:
    """Exchange rates for converting expenses into the client's currency."""


@rates.command(name="import")
@click.argument("file")
@pass_env
def rates_import(env: Env, file: str) -> None:
    """Import the ECB's reference rates (eurofxref-daily.xml, -hist-90d or -hist).

    \b
    Example:
      punch rates import eurofxref-hist-90d.xml
    """
    name, data = _read_file(file, "rates file")
    added = env.api().upload("/exchange-rates/ecb", name, data)["added"]
    if added:
        env.echo(f"Imported {added} exchange rate{'s' if added != 1 else ''} from {name}.")
    else:
        env.echo(f"No new rates in {name}: they were all imported before.")


# Invoices ---------------------------------------------------------------------------------


def _invoice_period(period: str) -> tuple[str, str]:
    word = period.strip().lower()
    first = _local_today().replace(day=1)
    if word == "month":
        following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return first.isoformat(), (following - timedelta(days=1)).isoformat()
    if word == "last-month":
        last = first - timedelta(days=1)
        return last.replace(day=1).isoformat(), last.isoformat()
    first_text, sep, last_text = word.partition(":")
    try:
        if not sep:
            raise ValueError(word)
        return date.fromisoformat(first_text).isoformat(), date.fromisoformat(last_text).isoformat()
    except ValueError:
        raise ClientError(
            f"“{period}” is not a period: use month, last-month or 2026-11-01:2026-11-30."
        ) from None


def _invoice_line(invoice: dict[str, Any]) -> str:
    name = invoice.get("number") or "(draft)"
    kind = "credit note" if invoice["kind"] == "credit_note" else "invoice"
    day = invoice.get("issue_date") or "—"
    money = f"{invoice['gross_total']} {invoice['currency']}"
    return (
        f"{invoice['id']:>7}  {name:<12}  {day:<10}  {money:>16}  {invoice['client']}"
        f"  {invoice['status']} {kind}"
    )


def _invoice_summary(invoice: dict[str, Any]) -> str:
    lines = len(invoice.get("lines", []))
    return (
        f"{invoice['gross_total']} {invoice['currency']} gross "
        f"({invoice['net_total']} net, {invoice['tax_total']} tax), "
        f"{lines} line{'s' if lines != 1 else ''}"
    )


def _invoice_id(text: str) -> int:
    if not text.isdigit() or len(text) > 18:
        raise ClientError(
            f"“{text}” is not an invoice id: use the number `punch invoice list` shows."
        )
    return int(text)


@click.group()
def invoice() -> None:
    """Draft, issue, credit and download invoices (owners and admins)."""


@invoice.command(name="draft")
@click.argument("client")
@click.option(
    "--period",
    default="last-month",
    show_default=True,
    help="month, last-month or 2026-11-01:2026-11-30 (inclusive).",
)
@click.option(
    "--group",
    "group_by",
    default="project",
    show_default=True,
    type=click.Choice(["project", "task", "person", "day", "entry", "summary"]),
    help="One line per …",
)
@json_option
@pass_env
def invoice_draft(env: Env, client: str, period: str, group_by: str, as_json: bool) -> None:
    """A draft invoice from a client's unbilled time and expenses.

    \b
    Example:
      punch invoice draft acme --period last-month --group task
    """
    start, end = _invoice_period(period)
    body = {"client": client, "period_start": start, "period_end": end, "group_by": group_by}
    created = env.api().request("POST", "/invoices/drafts", body)
    if as_json:
        env.dump(created)
        return
    env.echo(
        f"Draft {created['id']} for {created['client']} ({start} to {end}): "
        f"{_invoice_summary(created)}."
    )
    env.echo(f"Issue it with: punch invoice issue {created['id']}")


@invoice.command(name="issue")
@click.argument("invoice_id", metavar="ID")
@click.option("--date", "day", help="Issue date (default today): today, yesterday or 2026-11-30.")
@json_option
@pass_env
def invoice_issue(env: Env, invoice_id: str, day: str | None, as_json: bool) -> None:
    """Issue a draft: it gets its number and can never change again.

    \b
    Example:
      punch invoice issue 42
    """
    pk = _invoice_id(invoice_id)
    body = {"issue_date": _expense_day(day)} if day else {}
    issued = env.api().request("POST", f"/invoices/{pk}/issue", body)
    if as_json:
        env.dump(issued)
        return
    env.echo(
        f"Issued invoice {issued['number']} to {issued['client']} on {issued['issue_date']}, "
        f"due {issued['due_date']}: {_invoice_summary(issued)}."
    )


@invoice.command(name="credit")
@click.argument("invoice_id", metavar="ID")
@click.option(
    "--line",
    "lines",
    multiple=True,
    type=int,
    help="Credit only this line (its position on the invoice); repeat for several.",
)
@click.option("--date", "day", help="Date of the credit note (default today).")
@json_option
@pass_env
def invoice_credit(
    env: Env, invoice_id: str, lines: tuple[int, ...], day: str | None, as_json: bool
) -> None:
    """Issue a credit note: for some lines, or cancelling the whole invoice (then its
    work can be billed again).

    \b
    Examples:
      punch invoice credit 42
      punch invoice credit 42 --line 3 --date 2026-12-01
    """
    pk = _invoice_id(invoice_id)
    body: dict[str, Any] = {}
    if lines:
        original = env.api().request("GET", f"/invoices/{pk}")
        by_position = {line["position"]: line["id"] for line in original["lines"]}
        missing = [str(n) for n in lines if n not in by_position]
        if missing:
            raise click.ClickException(
                f"Invoice {original['number'] or pk} has no line {', '.join(missing)}."
            )
        body["line_ids"] = [by_position[n] for n in lines]
    if day:
        body["issue_date"] = _expense_day(day)
    note = env.api().request("POST", f"/invoices/{pk}/credit", body)
    if as_json:
        env.dump(note)
        return
    env.echo(f"Issued credit note {note['number']}: {_invoice_summary(note)}.")


@invoice.command(name="send")
@click.argument("invoice_id", metavar="ID")
@click.option("--to", "to", multiple=True, help="Recipient (default: the client's billing email).")
@click.option("--cc", "cc", multiple=True, help="Copy to (default: the client's copy list).")
@click.option("--bcc", "bcc", multiple=True, help="Blind copy to (default: your settings).")
@click.option("--subject", help="Subject (default: your wording for the client's language).")
@click.option("--message", "body", help="Text of the email (default: your wording).")
@json_option
@pass_env
def invoice_send(
    env: Env,
    invoice_id: str,
    to: tuple[str, ...],
    cc: tuple[str, ...],
    bcc: tuple[str, ...],
    subject: str | None,
    body: str | None,
    as_json: bool,
) -> None:
    """Email an issued invoice or credit note with its PDF attached.

    \b
    Examples:
      punch invoice send 42
      punch invoice send 42 --to ap@acme.test --cc pm@acme.test
    """
    pk = _invoice_id(invoice_id)
    payload: dict[str, Any] = {}
    for name, values in (("to", to), ("cc", cc), ("bcc", bcc)):
        if values:
            payload[name] = list(values)
    if subject is not None:
        payload["subject"] = subject
    if body is not None:
        payload["body"] = body
    event = env.api().request("POST", f"/invoices/{pk}/send", payload)
    if as_json:
        env.dump(event)
        return
    detail = event["detail"]
    copies = f" (cc {', '.join(detail['cc'])})" if detail.get("cc") else ""
    env.echo(f"Sent {detail['attachment']} to {', '.join(detail['to'])}{copies}.")


@invoice.command(name="pdf")
@click.argument("invoice_id", metavar="ID")
@click.option("--output", "-o", "output", required=True, help="The file to write.")
@pass_env
def invoice_pdf(env: Env, invoice_id: str, output: str) -> None:
    """Download an invoice's PDF (a preview while it is a draft).

    \b
    Example:
      punch invoice pdf 42 -o 2026-0001.pdf
    """
    pk = _invoice_id(invoice_id)
    content = env.api().download(f"/invoices/{pk}/pdf")
    target = Path(output).expanduser()
    try:
        target.write_bytes(content)
    except OSError as exc:
        raise ClientError(f"Cannot write {output}: {exc.strerror or exc}.") from exc
    env.echo(f"Wrote {target} ({len(content):,} bytes).")


EINVOICE_FORMATS = ("cii", "ubl", "xrechnung-ubl", "xrechnung-cii", "peppol")


@invoice.command(name="xml")
@click.argument("invoice_id", metavar="ID")
@click.option(
    "--format",
    "code",
    type=click.Choice(EINVOICE_FORMATS),
    default="ubl",
    show_default=True,
    help="The e-invoice syntax (the PDF carries CII as Factur-X).",
)
@click.option("--output", "-o", "output", help="The file to write (default: NUMBER-FORMAT.xml).")
@pass_env
def invoice_xml(env: Env, invoice_id: str, code: str, output: str | None) -> None:
    """Download an issued invoice as EN 16931 e-invoice XML.

    \b
    Examples:
      punch invoice xml 42 --format xrechnung-ubl
      punch invoice xml 42 --format cii -o invoice.xml
    """
    pk = _invoice_id(invoice_id)
    content = env.api().download(f"/invoices/{pk}/einvoice?format={code}")
    if output is None:
        number = env.api().request("GET", f"/invoices/{pk}")["number"] or str(pk)
        output = f"{number}-{code}.xml"
    target = Path(output).expanduser()
    try:
        target.write_bytes(content)
    except OSError as exc:
        raise ClientError(f"Cannot write {output}: {exc.strerror or exc}.") from exc
    env.echo(f"Wrote {target} ({len(content):,} bytes).")


UNBILLED_PERIODS = (
    "all",
    "today",
    "yesterday",
    "week",
    "last-week",
    "month",
    "last-month",
    "year",
    "last-year",
)


def _unbilled_query(period: str) -> dict[str, str]:
    word = period.strip().lower()
    if word in UNBILLED_PERIODS:
        return {"period": word}
    first, sep, last = word.partition(":")
    try:
        if not sep:
            raise ValueError(word)
        return {
            "from": date.fromisoformat(first).isoformat(),
            "to": date.fromisoformat(last).isoformat(),
        }
    except ValueError:
        raise ClientError(
            f"“{period}” is not a period: use {', '.join(UNBILLED_PERIODS)} "
            "or 2026-11-01:2026-11-30."
        ) from None


def _unbilled_notes(row: dict[str, Any], currency: str) -> str:
    notes = []
    if row.get("fixed_fee"):
        notes.append(f"fixed fee {row['fixed_fee']}")
    elif row.get("billing_method") == "fixed_fee":
        notes.append("fixed fee already billed")
    elif row.get("fixed_fees") and Decimal(row["fixed_fees"]):
        notes.append(f"fixed fees {row['fixed_fees']}")
    if row["expenses"]:
        count = row["expenses"]
        notes.append(f"{count} expense{'s' if count != 1 else ''} {row['expenses_amount']}")
    if row["missing_rate"]:
        count = row["unpriced_entries"]
        notes.append(f"{count} entr{'ies' if count != 1 else 'y'} without a {currency} rate")
    return "; ".join(notes)


@click.command()
@click.argument("client", required=False)
@click.option(
    "--period",
    default="all",
    show_default=True,
    help="all, month, last-month, week, year, … or 2026-11-01:2026-11-30 (inclusive).",
)
@json_option
@pass_env
def unbilled(env: Env, client: str | None, period: str, as_json: bool) -> None:
    """Unbilled time, fixed fees and expenses per client and project (owners and admins).

    \b
    Example:
      punch unbilled acme --period last-month
    """
    query: dict[str, Any] = {"client": client, **_unbilled_query(period)}
    data = env.api().request("GET", "/invoices/unbilled", query=query)
    if as_json:
        env.dump(data)
        return
    span = f"{data['period_start']} to {data['period_end']}" if data["period_start"] else "all time"
    if not data["clients"]:
        env.echo(f"Nothing is unbilled ({span}).")
        return
    env.echo(f"Unbilled work, {span}:")
    totals: dict[str, Decimal] = {}
    incomplete: set[str] = set()
    for work in data["clients"]:
        currency = work["currency"]
        rows = [(r["project"] or "(no project)", r) for r in work["projects"]]
        rows.append(("Total", work["total"]))
        width = max(len("Project"), *(len(label) for label, _ in rows))
        env.echo()
        env.echo(f"{work['client']} ({work['code']}), {currency}")
        env.echo(
            f"  {'Project':<{width}}  {'Hours':>8}  {'Billed':>8}  {'Amount':>12}  "
            f"{'Oldest':<10}  Notes"
        )
        for label, row in rows:
            amount = row["amount"] if row["amount"] is not None else "no rate"
            line = (
                f"  {label:<{width}}  {row['hours']:>8}  {row['billed_hours']:>8}  "
                f"{amount:>12}  {row['oldest'] or '':<10}  {_unbilled_notes(row, currency)}"
            )
            env.echo(line.rstrip())
        for row in work["projects"]:
            if row["amount"] is None:
                # What is known without the unpriced time: the fee and the expenses.
                incomplete.add(currency)
                known = Decimal(row["fixed_fee"] or 0) + Decimal(row["expenses_amount"])
            else:
                known = Decimal(row["amount"])
            totals[currency] = totals.get(currency, Decimal(0)) + known
    env.echo()
    summed = ", ".join(
        f"{amount} {currency}{' + time without a rate' if currency in incomplete else ''}"
        for currency, amount in sorted(totals.items())
    )
    env.echo(f"Total unbilled: {summed}")


@invoice.command(name="list")
@click.option("--status", type=click.Choice(["draft", "issued"]), help="Only drafts or issued.")
@json_option
@pass_env
def invoice_list(env: Env, status: str | None, as_json: bool) -> None:
    """List invoices and credit notes, newest first.

    \b
    Example:
      punch invoice list --status draft
    """
    data = env.api().request("GET", "/invoices", query={"status": status, "limit": 200})
    if as_json:
        env.dump(data)
        return
    items = data["items"]
    if not items:
        env.echo("No invoices.")
        return
    for item in items:
        env.echo(_invoice_line(item))
    if data["count"] > len(items):
        env.echo(f"(showing {len(items)} of {data['count']})")


@click.group()
def einvoice() -> None:
    """Check e-invoices (EN 16931: UBL 2.1, CII / Factur-X / ZUGFeRD), offline."""


@einvoice.command(name="validate")
@click.argument("file")
@json_option
@pass_env
def einvoice_validate(env: Env, file: str, as_json: bool) -> None:
    """Check a UBL or CII invoice against the EN 16931 schema and business rules.

    Runs on this machine, without a server. XRechnung and Peppol add rules of their own
    that are not checked here. Exit code 0 valid, 1 invalid, 2 the file cannot be read.

    \b
    Example:
      punch einvoice validate invoice.xml
    """
    name, data = _read_file(file, "file", EXIT_UNREADABLE)
    # Imported here: lxml and SaxonC would slow down every other `punch` command.
    from punchclock.invoicing.documents.einvoice.validation import validate

    report = validate(data)
    if as_json:
        env.dump(
            {
                "file": name,
                "syntax": report.syntax,
                "valid": report.valid,
                "errors": [asdict(finding) for finding in report.errors],
                "warnings": [asdict(finding) for finding in report.warnings],
            }
        )
    else:
        env.echo(f"{name}: {report.syntax or 'not an e-invoice'}")
        for finding in report.errors:
            env.echo(f"  error    {finding.rule}: {finding.message}")
        for finding in report.warnings:
            env.echo(f"  warning  {finding.rule}: {finding.message}")
        count = len(report.errors)
        env.echo("valid" if report.valid else f"invalid: {count} error{'s' * (count != 1)}")
    if not report.valid:
        click.get_current_context().exit(EXIT_ERROR)


COMMANDS = [
    login,
    start,
    switch,
    stop,
    resume,
    status,
    add,
    log_,
    edit,
    delete,
    projects,
    report,
    expense,
    rates,
    invoice,
    unbilled,
    einvoice,
]


class ClientGroup(click.Group):
    """Maps every ClientError to its message and exit code: never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ClientError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.code)


def register(group: click.Group) -> None:
    for command in COMMANDS:
        group.add_command(command)
