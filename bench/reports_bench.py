# ruff: noqa: B023, E501 - the timed lambdas run inside their loop turn; SQL text stays whole.
"""The time report at 1,000,000 entries: our query vs hand-written SQL, page time, memory.

Run from the repository root with the project's virtualenv:

    python bench/reports_bench.py                               # SQLite, 1,000,000 entries
    python bench/reports_bench.py --entries 20000 --runs 2      # a smoke test
    python bench/reports_bench.py --database-url postgres://punchclock@127.0.0.1:5432/pc_reports_bench

It builds a throw-away database (a temporary PUNCHCLOCK_DATA_DIR with SQLite, or the given
PostgreSQL database, dropped and created again), migrates it, creates one organization in
Europe/Berlin with 50 people, 40 clients, 200 projects (3 tasks each, mixed rounding rules,
three currencies), versioned bill and cost rates through the services, 8 tags, and then
inserts the entries in bulk (executemany on SQLite, COPY on PostgreSQL): 3 years ending
yesterday, every person working on ~12 projects. Then ANALYZE.

For each report it records, warm, the median of --runs runs of:
- `ours`: punchclock.reports.timereport.time_report as an owner sees it (SQL + pricing +
  labels), the function the page, the API and the CLI call;
- `sql`: hand-written SQL that returns the same figures (seconds, billable, billed per group
  and per person/project/task/rate period, i.e. what pricing needs), run on the same
  connection: the floor any implementation pays;
- `sql_hours`: the simplest hand-written SQL for the hours alone per group (no pricing keys),
  for reference;
- `page`: GET of the report page with Django's test client, logged in as the owner (chart
  query and template included);
- `peak_kib`: tracemalloc's peak of Python allocations during one `ours` call.
And once: the month query with the covering index replaced by the old (organization, start,
project) index, to show what the index buys. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
ZONE = "Europe/Berlin"
SEED = 20261126
PEOPLE, CLIENTS, PROJECTS, TASKS, TAGS = 50, 40, 200, 3, 8


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def prepare_environment(database_url: str | None, keep: str | None = None) -> None:
    """A fresh database, or (with `keep`) the one a previous run left in that folder."""
    reuse = bool(keep) and Path(keep, "DONE").exists()
    if database_url and not reuse:
        import psycopg

        parts = urlsplit(database_url)
        name = parts.path.lstrip("/")
        admin = database_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
    os.environ["PUNCHCLOCK_DATA_DIR"] = keep or tempfile.mkdtemp(prefix="reports-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "punchclock.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def seed(entries: int) -> dict[str, Any]:
    """The organization through the services, the history in bulk."""
    from punchclock.accounts.models import Membership, Role, User
    from punchclock.accounts.services import sign_up
    from punchclock.clients.models import Client
    from punchclock.projects.models import (
        BillingMethod,
        Project,
        ProjectMember,
        RateKind,
        RoundingDirection,
        RoundingScope,
        Task,
    )
    from punchclock.projects.services import set_rate
    from punchclock.tracking.models import Tag

    rng = random.Random(SEED)
    user, organization = sign_up(
        email="owner@bench.test",
        password="bench-password-123",
        name="Bench Owner",
        organization_name="Bench Agency",
        timezone=ZONE,
    )
    organization.timezone = ZONE
    organization.save(update_fields=["timezone"])
    owner = Membership.objects.get(user=user, organization=organization)
    people = [owner]
    for i in range(PEOPLE - 1):
        person = User.objects.create_user(f"p{i}@bench.test", "x" * 12, name=f"Person {i:02d}")
        person.timezone = ZONE
        person.save(update_fields=["timezone"])
        people.append(
            Membership.objects.create(
                organization=organization,
                user=person,
                role=Role.MANAGER if i < 5 else Role.MEMBER,
            )
        )
    currencies = ["EUR"] * 6 + ["USD", "GBP"]
    clients = Client.objects.bulk_create(
        Client(
            organization=organization,
            name=f"Client {i:02d}",
            code=f"c{i:02d}",
            country="DE",
            currency=currencies[i % len(currencies)],
        )
        for i in range(CLIENTS)
    )
    projects = []
    for i in range(PROJECTS):
        rounding = [(0, "up", "entry"), (15, "up", "entry"), (6, "nearest", "entry")][i % 3]
        if i % 20 == 0:
            rounding = (15, "up", "day_task")
        projects.append(
            Project(
                organization=organization,
                client=clients[i % CLIENTS],
                name=f"Project {i:03d}",
                code=f"p{i:03d}",
                billing_method=BillingMethod.FIXED_FEE
                if i % 25 == 7
                else BillingMethod.HOURLY_PROJECT,
                rounding_minutes=rounding[0],
                rounding_direction=RoundingDirection(rounding[1]),
                rounding_scope=RoundingScope(rounding[2]),
            )
        )
    projects = Project.objects.bulk_create(projects)
    tasks = Task.objects.bulk_create(
        Task(project=p, name=n)
        for p in projects
        for n in ("Development", "Review", "Meetings")[:TASKS]
    )
    tags = Tag.objects.bulk_create(
        Tag(organization=organization, name=f"tag{i}") for i in range(TAGS)
    )
    today = date.today()
    first_day = today - timedelta(days=3 * 365)
    # Rates: organization defaults per currency, a raise half-way, project rates for a third
    # of the projects with a change each year, cost rates per person.
    for currency in ("EUR", "USD", "GBP"):
        set_rate(
            by=owner,
            kind=RateKind.BILL,
            amount=Decimal("90"),
            effective_from=first_day,
            currency=currency,
        )
        set_rate(
            by=owner,
            kind=RateKind.BILL,
            amount=Decimal("97.50"),
            effective_from=first_day + timedelta(days=540),
            currency=currency,
        )
    for project in projects[::3]:
        for year in range(3):
            set_rate(
                by=owner,
                kind=RateKind.BILL,
                project=project,
                amount=Decimal(100 + 5 * year + project.pk % 7),
                effective_from=first_day + timedelta(days=365 * year + 30),
            )
    for person in people:
        set_rate(
            by=owner,
            kind=RateKind.COST,
            membership=person,
            amount=Decimal(40 + person.pk % 30) + Decimal("0.25"),
            effective_from=first_day,
        )
    assignments = {}
    for person in people:
        mine = rng.sample(projects, 12)
        assignments[person.pk] = mine
        ProjectMember.objects.bulk_create(
            ProjectMember(project=p, membership=person, is_manager=person.role == Role.MANAGER)
            for p in mine[:2]
        )
    task_of = {}
    for task in tasks:
        task_of.setdefault(task.project_id, []).append(task.pk)
    log(f"organization ready; inserting {entries:,} entries")
    started = time.perf_counter()
    inserted = insert_entries(
        organization.pk,
        people,
        assignments,
        task_of,
        [t.pk for t in tags],
        first_day,
        today,
        entries,
        rng,
    )
    log(f"inserted {inserted:,} entries in {time.perf_counter() - started:.1f} s")
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What autovacuum would have done by the next morning (it is off on the test
            # machine's server): the visibility map lets index-only scans skip the table.
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # as a day's use would
    return {"owner": owner, "organization": organization, "first_day": first_day, "today": today}


def reuse_world(keep: str) -> dict[str, Any]:
    """What seed() returned, read back from a database a previous run kept."""
    from punchclock.accounts.models import Membership

    owner = Membership.objects.select_related("organization").get(user__email="owner@bench.test")
    today = date.fromisoformat(Path(keep, "DONE").read_text().strip())
    log("reusing the kept database")
    from django.db import connection

    with connection.cursor() as cursor:  # migrations since the last run may have added some
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {
        "owner": owner,
        "organization": owner.organization,
        "first_day": today - timedelta(days=3 * 365),
        "today": today,
    }


def insert_entries(
    org_id, people, assignments, task_of, tag_ids, first_day, today, total, rng
) -> int:
    from django.db import connection, transaction

    days = (today - first_day).days
    per_person = total // len(people)
    per_day = -(-per_person // days)  # ceiling: a smaller run skips days instead of years
    work_share = per_person / (per_day * days)
    now_text = datetime.now(UTC)
    columns = (
        'organization_id, membership_id, project_id, task_id, description, start, "end", '
        "duration_seconds, billable, source, external_ref, created_at, updated_at"
    )
    rows: list[tuple[Any, ...]] = []
    count = 0
    vendor = connection.vendor
    adapt = connection.ops.adapt_datetimefield_value

    def flush() -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                with cursor.cursor.copy(f"COPY tracking_timeentry ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * 13)
                cursor.executemany(
                    f"INSERT INTO tracking_timeentry ({columns}) VALUES ({marks})", rows
                )
        rows.clear()

    with transaction.atomic():
        for person in people:
            made = 0
            mine = assignments[person.pk]
            for day_index in range(days):
                if made >= per_person:
                    break
                day = first_day + timedelta(days=day_index)
                if rng.random() > work_share:
                    continue
                # The working day starts between 05:00 and 09:00 UTC (before/after local
                # midnight never, but entries cross DST changes across the three years).
                at = datetime(
                    day.year,
                    day.month,
                    day.day,
                    5 + rng.randrange(4),
                    rng.randrange(60),
                    tzinfo=UTC,
                )
                for _ in range(min(per_day, per_person - made)):
                    seconds = rng.randrange(300, 3300)
                    project = mine[rng.randrange(len(mine))]
                    task = rng.choice(task_of[project.pk]) if rng.random() < 0.8 else None
                    end = at + timedelta(seconds=seconds)
                    billable = rng.random() < 0.85
                    start_v, end_v = (
                        (at, end) if vendor == "postgresql" else (adapt(at), adapt(end))
                    )
                    stamp = now_text if vendor == "postgresql" else adapt(now_text)
                    rows.append(
                        (
                            org_id,
                            person.pk,
                            project.pk,
                            task,
                            "work",
                            start_v,
                            end_v,
                            seconds,
                            billable,
                            "web",
                            "",
                            stamp,
                            stamp,
                        )
                    )
                    at = end + timedelta(seconds=rng.randrange(0, 120))
                    made += 1
                    if len(rows) >= 50_000:
                        count += len(rows)
                        flush()
            count += len(rows)
            flush()
        # Tags on about a quarter of the entries, one or two each.
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM tracking_timeentry WHERE organization_id = %s", [org_id])
            ids = [r[0] for r in cursor.fetchall()]
        links = []
        for entry_id in ids:
            if rng.random() < 0.25:
                index = rng.randrange(len(tag_ids))
                links.append((entry_id, tag_ids[index]))
                if rng.random() < 0.2:  # a second tag: the entry counts under both
                    links.append((entry_id, tag_ids[(index + 1) % len(tag_ids)]))
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                with cursor.cursor.copy(
                    "COPY tracking_timeentry_tags (timeentry_id, tag_id) FROM STDIN"
                ) as copy:
                    for link in links:
                        copy.write_row(link)
            else:
                cursor.executemany(
                    "INSERT INTO tracking_timeentry_tags (timeentry_id, tag_id) VALUES (%s, %s)",
                    links,
                )
    return count


# Hand-written SQL --------------------------------------------------------------------------


def hand_sql(
    vendor: str,
    by: tuple[str, ...],
    start: datetime,
    end: datetime,
    org: int,
    pricing: bool,
    boundaries: list[datetime],
) -> tuple[str, list[Any]]:
    """What a person would write for the same grouping, straight, for this database."""
    from django.db import connection

    from punchclock.reports.timecut import offsets

    adapt = connection.ops.adapt_datetimefield_value
    params: list[Any] = []
    keys: list[str] = []
    for name in by:
        if name in ("day", "week", "month"):
            if vendor == "postgresql":
                local = f"(e.start AT TIME ZONE '{ZONE}')"
                keys.append(
                    {
                        "day": f"CAST({local} AS date)",
                        "week": f"CAST(date_trunc('week', {local}) AS date)",
                        "month": f"CAST(date_trunc('month', {local}) AS date)",
                    }[name]
                )
            else:
                cut = offsets(ZONE, start, end)
                whens, previous = [], cut.first
                for at, offset in cut.changes:
                    whens.append(f"WHEN e.start < '{adapt(at)}' THEN '{previous:+d} seconds'")
                    previous = offset
                modifier = (
                    f"CASE {' '.join(whens)} ELSE '{previous:+d} seconds' END"
                    if whens
                    else f"'{previous:+d} seconds'"
                )
                keys.append(
                    {
                        "day": f"date(e.start, {modifier})",
                        "week": f"date(e.start, {modifier}, 'weekday 0', '-6 days')",
                        "month": f"strftime('%%Y-%%m', e.start, {modifier})",
                    }[name]
                )
        else:
            keys += {
                "client": ["p.client_id"],
                "project": ["e.project_id"],
                "task": ["e.project_id", "e.task_id"],
                "person": ["e.membership_id"],
                "tag": ["et.tag_id"],
            }[name]
    if pricing:
        period = (
            "CASE "
            + " ".join(
                f"WHEN e.start >= '{adapt(b)}' THEN {i + 1}"
                for i, b in reversed(list(enumerate(boundaries)))
            )
            + " ELSE 0 END"
        )
        keys += ["e.membership_id", "e.project_id", "e.task_id", period]
    join = "JOIN projects_project p ON p.id = e.project_id" if pricing or "client" in by else ""
    if "tag" in by:
        join += " LEFT JOIN tracking_timeentry_tags et ON et.timeentry_id = e.id"
    billed = (
        ", SUM(CASE WHEN NOT e.billable THEN 0 WHEN p.rounding_minutes = 0 THEN e.duration_seconds "
        "WHEN p.rounding_direction = 'up' THEN ((e.duration_seconds + p.rounding_minutes * 60 - 1) / (p.rounding_minutes * 60)) * p.rounding_minutes * 60 "
        "WHEN p.rounding_direction = 'down' THEN (e.duration_seconds / (p.rounding_minutes * 60)) * p.rounding_minutes * 60 "
        "ELSE ((e.duration_seconds + p.rounding_minutes * 30) / (p.rounding_minutes * 60)) * p.rounding_minutes * 60 END)"
        if pricing
        else ""
    )
    billable = ", SUM(CASE WHEN e.billable THEN e.duration_seconds ELSE 0 END)" if pricing else ""
    group = ", ".join(str(i + 1) for i in range(len(keys)))
    table = "tracking_timeentry e" + (
        " INDEXED BY entry_report_cover" if vendor == "sqlite" else ""
    )
    sql = (
        f"SELECT {', '.join(keys)}, SUM(e.duration_seconds){billable}{billed} FROM {table} {join} "
        f"WHERE e.organization_id = %s AND e.duration_seconds IS NOT NULL AND e.start >= %s AND e.start < %s GROUP BY {group}"
    )
    params += [org, adapt(start), adapt(end)]
    if "tag" in by:
        # An entry with two tags sits under both, so the other figures (the total, and
        # the first grouping when it is not the tag) need a scan without the tag join.
        rest = tuple(name for name in by if name != "tag") or ("person",)
        more, more_params = hand_sql(vendor, rest, start, end, org, pricing, boundaries)
        sql, params = f"{sql};{more}", [*params, SPLIT, *more_params]
    return sql, params


# The columns of reports_monthtotal (alias c) that key each grouping.
KEPT_COLUMNS = {
    "client": ["p.client_id"],
    "project": ["c.project_id"],
    "task": ["c.project_id", "c.task_id"],
    "person": ["c.membership_id"],
    "month": ["c.month"],
    "week": ["c.month"],
}


def hand_months_sql(
    vendor: str,
    by: tuple[str, ...],
    start: datetime,
    end: datetime,
    months: list[date],
    org: int,
    boundaries: list[datetime],
    grain: Any,
) -> tuple[str, list[Any]]:
    """The same figures by hand with the kept totals: the whole months (or weeks) from
    reports_monthtotal, whatever lies outside them from the entries."""
    columns = KEPT_COLUMNS
    keys = [c for name in by for c in columns[name]]
    keys += ["c.membership_id", "c.project_id", "c.task_id", "c.period"]
    join = "JOIN projects_project p ON p.id = c.project_id" if "client" in by else ""
    sql = (
        f"SELECT {', '.join(keys)}, SUM(c.seconds), SUM(c.billable_seconds), "
        f"SUM(c.billed_seconds) FROM reports_monthtotal c {join} "
        "WHERE c.organization_id = %s AND c.grain = %s AND c.month >= %s AND c.month <= %s "
        f"GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))}"
    )
    params: list[Any] = [org, grain.name, months[0], months[-1]]
    return with_edges(sql, params, vendor, by, start, end, months, org, boundaries, grain)


def hand_amounts_sql(
    vendor: str,
    by: tuple[str, ...],
    start: datetime,
    end: datetime,
    months: list[date],
    org: int,
    boundaries: list[datetime],
    grain: Any,
) -> tuple[str, list[Any]] | None:
    """The same figures by hand with the kept line amounts (decision 0021), for a report
    grouped by the kept periods, as our report reads them: the sums per line across the
    periods (person, project, task, rate), the cells by period summed with their amounts
    (and per person and rate period, which cost rates need), and whatever lies outside
    the kept periods from the entries. A range of exactly one kept period (decision 0022)
    needs the cells alone: every line lies inside it, in any grouping."""
    single = (
        len(months) == 1
        and start == start_of_day_utc(months[0])
        and end == start_of_day_utc(grain.next(months[0]))
    )
    if grain.name not in by and not single:
        return None
    columns = KEPT_COLUMNS
    where = "WHERE c.organization_id = %s AND c.grain = %s AND c.month >= %s AND c.month <= %s"
    period_params: list[Any] = [org, grain.name, months[0], months[-1]]
    keys = ["c.membership_id", "c.project_id", "c.task_id", "c.bill_rate", "c.bill_currency"]
    join = "JOIN projects_project p ON p.id = c.project_id" if "client" in by else ""
    lines = (
        f"SELECT {', '.join(keys)}, SUM(c.billed_seconds), SUM(c.billable_seconds), "
        f"SUM(c.seconds) FROM reports_monthtotal c {where} "
        f"GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))}"
    )
    lines_params = period_params
    first_day, end_day = local_day(start), local_day(end)
    if (
        grain.name == "week"
        and first_day.day == end_day.day == 1
        and (start, end) == (start_of_day_utc(first_day), start_of_day_utc(end_day))
    ):
        # Whole months: the lines spanning the range from kept months, as ours (0022).
        last_month = (end_day - timedelta(days=1)).replace(day=1)
        lines_params = [org, "month", first_day, last_month]
    keys = [c for name in by for c in columns[name]]
    keys += ["c.membership_id", "c.period", "c.bill_currency"]
    cells = (
        f"SELECT {', '.join(keys)}, SUM(c.seconds), SUM(c.billable_seconds), "
        f"SUM(c.billed_seconds), SUM(c.amount_minor) FROM reports_monthtotal c {join} {where} "
        f"GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))}"
    )
    if single:
        return cells, period_params
    params: list[Any] = [*lines_params, SPLIT, *period_params]
    sql = f"{lines};{cells}"
    return with_edges(sql, params, vendor, by, start, end, months, org, boundaries, grain)


def with_edges(
    sql: str,
    params: list[Any],
    vendor: str,
    by: tuple[str, ...],
    start: datetime,
    end: datetime,
    months: list[date],
    org: int,
    boundaries: list[datetime],
    grain: Any,
) -> tuple[str, list[Any]]:
    """`sql` followed by the hand SQL over the entries of [start, end) outside the kept
    periods (a range starting mid-period, the running one)."""
    first, after = start_of_day_utc(months[0]), start_of_day_utc(grain.next(months[-1]))
    for low, high in ((start, first), (after, end)):
        if low < high:
            more, more_params = hand_sql(vendor, by, low, high, org, True, boundaries)
            sql, params = f"{sql};{more}", [*params, SPLIT, *more_params]
    return sql, params


def local_day(instant: datetime) -> date:
    from punchclock.core.timeutil import local_date

    return local_date(instant, ZONE)


def start_of_day_utc(day: date) -> datetime:
    from punchclock.core.timeutil import start_of_day

    return start_of_day(day, ZONE)


SPLIT = object()  # where the parameters of one statement end and the next's begin


def run_sql(sql: str, params: list[Any]) -> int:
    """Run one statement, or several joined by ';' (their parameters split by SPLIT)."""
    from django.db import connection

    groups: list[list[Any]] = [[]]
    for param in params:
        if param is SPLIT:
            groups.append([])
        else:
            groups[-1].append(param)
    rows = 0
    with connection.cursor() as cursor:
        for statement, values in zip(sql.split(";"), groups, strict=True):
            cursor.execute(statement, values)
            rows += len(cursor.fetchall())
    return rows


def timed(call, runs: int) -> tuple[float, list[float]]:
    call()  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), samples


def paired_ratio(ours: Any, hand: Any, runs: int) -> float:
    """The median of ours ÷ hand over `runs` pairs, each pair timed back to back. On a
    machine shared with other work, a minute's slowdown lands on both sides of a pair,
    where medians of two separate series can catch it on one side only."""
    ours()
    hand()
    ratios = []
    for _ in range(runs):
        started = time.perf_counter()
        ours()
        middle = time.perf_counter()
        hand()
        ratios.append((middle - started) / (time.perf_counter() - middle))
    return statistics.median(ratios)


def month_bounds(day: date, months_back: int) -> date:
    year, month = day.year, day.month - months_back
    while month <= 0:
        month += 12
        year -= 1
    return date(year, month, 1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url")
    parser.add_argument("--output")
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="keep the seeded database in DIR (SQLite) and reuse it on the next run with "
        "the same DIR (and --database-url), instead of seeding again",
    )
    args = parser.parse_args()
    prepare_environment(args.database_url, args.keep)
    from django.db import connection
    from django.test import Client as TestClient

    from punchclock.core.timeutil import start_of_day
    from punchclock.reports.query import TimeFilter
    from punchclock.reports.timereport import rate_boundaries, time_report

    world = reuse_world(args.keep) if args.keep and Path(args.keep, "DONE").exists() else None
    if world is None:
        world = seed(args.entries)
        if args.keep:
            Path(args.keep, "DONE").write_text(world["today"].isoformat())
    owner, today = world["owner"], world["today"]
    vendor = connection.vendor
    last_month_first = month_bounds(today, 1)
    this_month_first = month_bounds(today, 0)
    cases = [
        ("last month by project", ("project",), last_month_first, this_month_first),
        ("last month by client, person", ("client", "person"), last_month_first, this_month_first),
        ("last month by tag", ("tag",), last_month_first, this_month_first),
        (
            "12 months by client, month",
            ("client", "month"),
            month_bounds(today, 12),
            this_month_first,
        ),
        (
            "12 months by person, week",
            ("person", "week"),
            month_bounds(today, 12),
            this_month_first,
        ),
        ("3 years by month", ("month",), world["first_day"], today),
    ]
    boundaries = rate_boundaries(owner.organization_id, ZONE)
    # Time spent in the report's own SQL (query._fetch: execute and fetch), per report call.
    from punchclock.reports import query as report_query
    from punchclock.reports import timereport as report_module

    sql_spent: list[float] = []
    fetch, report_call = report_query._fetch, report_module.time_report
    in_call = [0.0]

    def timed_fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        started = time.perf_counter()
        try:
            return fetch(sql, params)
        finally:
            in_call[0] += (time.perf_counter() - started) * 1000

    def counted_report(*args: Any, **kwargs: Any) -> Any:
        in_call[0] = 0.0
        try:
            return report_call(*args, **kwargs)
        finally:
            sql_spent.append(in_call[0])

    report_query._fetch = timed_fetch
    time_report = counted_report  # noqa: F811 - the timed calls below go through it
    browser = TestClient()
    browser.force_login(owner.user)
    # As the server's WSGI module does once loaded (punchclock.core.settle): without it a
    # full garbage collection of every loaded object lands in every other long page.
    from punchclock.core.settle import settle

    settle()
    results = []
    from punchclock.core.dbstats import refresh_planner_statistics
    from punchclock.reports import monthly
    from punchclock.reports.models import MonthState

    # The worker's job after every kept period is gone (a bulk import, a back-dated rate):
    # the last 36 months, 53 weeks and the span of the history, built from the entries.
    MonthState.objects.all().delete()
    started = time.perf_counter()
    keep_built = monthly.keep_built(owner.organization_id)
    keep_built_ms = (time.perf_counter() - started) * 1000
    log(f"keep_built after every period was dropped: {keep_built} periods, {keep_built_ms:.0f} ms")
    for name, by, first, last in cases:
        start, end = start_of_day(first, ZONE), start_of_day(last, ZONE)
        where = TimeFilter(start=start, end=end)
        # The first report after the kept months are gone: with more periods to build than
        # a request builds (decision 0026) it scans and queues the worker's job.
        MonthState.objects.all().delete()
        started = time.perf_counter()
        time_report(owner, where, by=by, zone=ZONE)
        first_ms = (time.perf_counter() - started) * 1000
        # The same report building every whole closed period of its range in its request,
        # as every report did before decision 0026.
        MonthState.objects.all().delete()
        monthly.LIMIT_BUILDS = False
        started = time.perf_counter()
        time_report(owner, where, by=by, zone=ZONE)
        first_built_ms = (time.perf_counter() - started) * 1000
        monthly.LIMIT_BUILDS = True
        # Then what the worker's hourly job keeps (keep_reports): every closed month and
        # week, those of the running month's edge included (decision 0022).
        if monthly.keep_built(owner.organization_id):
            refresh_planner_statistics()  # as the job does after building (decision 0028)
        if vendor == "postgresql":
            # What autovacuum does after a bulk write on a normal server (this one runs
            # with it off): statistics and a visibility map for index-only reads.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE reports_monthtotal")
        sql_spent.clear()
        ours, ours_samples = timed(lambda: time_report(owner, where, by=by, zone=ZONE), args.runs)
        # The time our queries took inside those same calls (the warm-up call excluded).
        ours_sql = statistics.median(sql_spent[-len(ours_samples) :])
        report_query.KEEP_MONTHS = False
        sql_spent.clear()
        scan, scan_samples = timed(lambda: time_report(owner, where, by=by, zone=ZONE), args.runs)
        scan_sql = statistics.median(sql_spent[-len(scan_samples) :])
        report_query.KEEP_MONTHS = True
        sql, params = hand_sql(vendor, by, start, end, owner.organization_id, True, boundaries)
        hand, _ = timed(lambda: run_sql(sql, params), args.runs)
        hand_months = None
        # Kept weeks for a report by week, kept months for the others (decision 0019).
        grain = monthly.usable(where, SimpleNamespace(by=by, viewer_zone=ZONE, org_zone=ZONE))
        months = monthly.closed_periods((start, end), ZONE, grain) if grain else []
        if months:
            sql_m, params_m = hand_months_sql(
                vendor, by, start, end, months, owner.organization_id, boundaries, grain
            )
            hand_months, _ = timed(lambda: run_sql(sql_m, params_m), args.runs)
        hand_amounts = None
        amounts_sql = (
            hand_amounts_sql(
                vendor, by, start, end, months, owner.organization_id, boundaries, grain
            )
            if months
            else None
        )
        if amounts_sql is not None:
            hand_amounts, _ = timed(lambda: run_sql(*amounts_sql), args.runs)
        # Our report pricing every kept row in Python, as before decision 0021.
        report_module.KEEP_AMOUNTS = False
        priced, _ = timed(lambda: time_report(owner, where, by=by, zone=ZONE), args.runs)
        report_module.KEEP_AMOUNTS = True
        # The fastest hand SQL: its median for the ratio, its call for the pairs.
        hand_calls = [(hand, lambda: run_sql(sql, params))]
        if hand_months is not None:
            hand_calls.append((hand_months, lambda: run_sql(sql_m, params_m)))
        if hand_amounts is not None and amounts_sql is not None:
            hand_calls.append((hand_amounts, lambda: run_sql(*amounts_sql)))
        best, best_call = min(hand_calls, key=lambda pair: pair[0])
        paired = paired_ratio(
            lambda: time_report(owner, where, by=by, zone=ZONE), best_call, args.runs
        )
        sql_h, params_h = hand_sql(vendor, by, start, end, owner.organization_id, False, boundaries)
        hours_only, _ = timed(lambda: run_sql(sql_h, params_h), args.runs)
        query = f"/reports/time/?from={first}&to={last - timedelta(days=1)}&by={by[0]}" + (
            f"&then={by[1]}" if len(by) > 1 else ""
        )
        status = browser.get(query, secure=True).status_code
        page, _ = timed(lambda: browser.get(query, secure=True), args.runs)
        tracemalloc.start()
        report = time_report(owner, where, by=by, zone=ZONE)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        row = {
            "report": name,
            "groups": len(report.groups),
            "entries_counted_hours": str(Decimal(report.total.seconds) / 3600),
            "kept_periods": len(months),
            "grain": grain.name if grain else None,
            "first_ms": round(first_ms, 1),
            "first_built_ms": round(first_built_ms, 1),
            "ours_ms": round(ours, 1),
            "ours_sql_ms": round(ours_sql, 1),
            "scan_ms": round(scan, 1),
            "scan_sql_ms": round(scan_sql, 1),
            "sql_ms": round(hand, 1),
            "sql_months_ms": round(hand_months, 1) if hand_months is not None else None,
            "sql_amounts_ms": round(hand_amounts, 1) if hand_amounts is not None else None,
            "ours_priced_ms": round(priced, 1),
            "ratio": round(ours / best, 2) if best else None,
            "paired_ratio": round(paired, 2),
            "scan_ratio": round(scan / hand, 2) if hand else None,
            "sql_hours_ms": round(hours_only, 1),
            "page_ms": round(page, 1),
            "page_status": status,
            "peak_kib": round(peak / 1024),
        }
        log(json.dumps(row))
        results.append(row)
    # What the covering index buys: the same month query on the old (org, start, project).

    report_query.SQLITE_INDEX = None
    report_query.KEEP_MONTHS = False
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX entry_report_cover")
        cursor.execute(
            "CREATE INDEX entry_org_start ON tracking_timeentry (organization_id, start, project_id)"
        )
        cursor.execute("ANALYZE")
    before = {}
    for name, by, first, last in (cases[0], cases[3]):
        where = TimeFilter(start=start_of_day(first, ZONE), end=start_of_day(last, ZONE))
        before[name], _ = timed(lambda: time_report(owner, where, by=by, zone=ZONE), args.runs)
        log(f"without the covering index: {name}: {before[name]:.1f} ms")
    with connection.cursor() as cursor:  # as the migration left it, for a kept database
        cursor.execute("DROP INDEX entry_org_start")
        cursor.execute(
            "CREATE INDEX entry_report_cover ON tracking_timeentry (organization_id, start, "
            "project_id, membership_id, task_id, billable, duration_seconds, invoiced)"
        )
        cursor.execute("ANALYZE")
    report_query.SQLITE_INDEX = "entry_report_cover"
    report_query.KEEP_MONTHS = True
    out = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": vendor,
        "entries": args.entries,
        "runs": args.runs,
        "machine": f"{platform.platform()}, {os.cpu_count()} cores, shared with other work during the run",
        "python": platform.python_version(),
        "results": results,
        "without_covering_index_ms": {k: round(v, 1) for k, v in before.items()},
        "keep_built": {"periods": keep_built, "ms": round(keep_built_ms, 1)},
    }
    path = Path(args.output or REPO / "bench" / "results" / f"reports-{date.today()}-{vendor}.json")
    path.write_text(json.dumps(out, indent=2) + "\n")
    log(f"written {path}")
    if args.database_url:
        connection.close()


if __name__ == "__main__":
    main()
