"""Server time of the time-tracking pages and API lists of an organization with 500,000 entries.

Run from the repository root with the project's virtualenv:

    python bench/pages_bench.py                       # 500,000 entries, SQLite, 20 runs
    python bench/pages_bench.py --entries 20000 --runs 3          # a smoke test
    python bench/pages_bench.py --database-url postgres://postgres@127.0.0.1:5432/punch_pages_bench

A child process builds a throw-away database (a temporary PUNCHCLOCK_DATA_DIR with embedded
SQLite, or the PostgreSQL database given): migrations, an organization with 30 people, 15
clients, 60 projects with tasks, assignments and rates (all through the services), timesheets,
and the history through `tracking.services.record_history`, then ANALYZE. This process then
opens the pages in-process with Django's test client, as a logged-in person or with a Bearer
token, and times each request from the call to the finished response: the server's work
without a network or a browser. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import random
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cli_bench import (  # a sibling script, not a package
    REPO,
    RESULTS,
    _ms,
    checkout,
    load_average,
    log,
    machine_info,
    p90,
)

ZONE = "Europe/Berlin"
HISTORY_YEARS = 3
PEOPLE = 30
CLIENTS = 15
PROJECTS_PER_CLIENT = 4
TASKS = ["Development", "Review", "Meetings"]
TAGS = ["bug", "feature", "ops", "call", "docs", "urgent", "research", "support"]
DESCRIPTIONS = [
    "Implementation",
    "Code review",
    "Stand-up",
    "Bug fixing",
    "Planning",
    "Deployment",
    "Customer call",
    "Documentation",
    "",
]
SEED = 20261125
TMP_INDEX = "bench_tmp_entry_project"


# Seeding (in a child process, so the measuring process never holds the history) -------------


def rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size (ru_maxrss is in KiB on Linux)."""
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


def workdays(first: date, last: date) -> list[date]:
    days, day = [], first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


@dataclass
class Org:
    organization: Any
    people: list[Any]  # memberships; [0] owner, [1] admin, [2] manager, [3] the measured member
    projects: list[Any]
    tasks: dict[int, list[Any]]  # project pk -> tasks
    assigned: list[list[int]]  # person index -> project indexes


def create_organization(history_start: date) -> tuple[Org, dict[str, str]]:
    """An agency built through the services, as a person would set it up."""
    from django.test.utils import override_settings

    from punchclock.accounts import services as accounts
    from punchclock.accounts.models import Membership, Role
    from punchclock.clients import services as clients
    from punchclock.projects import services as projects
    from punchclock.projects.models import BillingMethod, RateKind

    rng = random.Random(SEED)
    suffix = secrets.token_hex(3)
    password = secrets.token_urlsafe(18)
    # Nobody logs in with a password here (the pages use force_login, the API tokens), so
    # the 30 accounts get a cheap hash instead of 30 PBKDF2 rounds; invitation mails stay
    # in memory instead of on the console.
    cheap = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        MAILERS={"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}},
    )
    with cheap:
        user, organization = accounts.sign_up(
            email=f"owner-{suffix}@bench.test",
            password=password,
            name="Olga Owner",
            organization_name=f"Pages Bench {suffix}",
            timezone=ZONE,
            currency="EUR",
        )
        owner = Membership.objects.select_related("user", "organization").get(
            user=user, organization=organization
        )
        roles = [Role.ADMIN, Role.MANAGER, Role.MEMBER, Role.ADMIN]
        roles += [Role.MANAGER] * 3 + [Role.MEMBER] * (PEOPLE - 1 - len(roles) - 3)
        names = ["Adam Admin", "Mia Manager", "Max Member"]
        people = [owner]
        for n, role in enumerate(roles):
            name = names[n] if n < len(names) else f"Person {n + 2:02d}"
            email = f"p{n + 2:02d}-{suffix}@bench.test"
            account = accounts.create_user(email=email, password=password, name=name, timezone=ZONE)
            _, raw = accounts.invite_member(organization, email=email, role=role, by=owner)
            membership = accounts.accept_invitation(raw_token=raw, user=account)
            accounts.update_membership(
                membership, by=owner, weekly_capacity_hours=Decimal(rng.choice([32, 40, 40, 40]))
            )
            people.append(membership)
    people = list(
        Membership.objects.select_related("user", "organization").filter(
            pk__in=[p.pk for p in people]
        )
    )
    people.sort(key=lambda m: m.pk)

    # Rates change on a handful of dates over the three years, as they do: the report prices
    # every (person, project, task) once per period between two changes.
    span = timedelta(days=365 * HISTORY_YEARS)
    change_days = [history_start + span * k // 6 for k in range(6)]
    for amount, since in ((Decimal("100"), change_days[0]), (Decimal("110"), change_days[3])):
        projects.set_rate(
            by=owner, kind=RateKind.BILL, amount=amount, effective_from=since, currency="EUR"
        )
    for n, person in enumerate(people):
        projects.set_rate(
            by=owner,
            kind=RateKind.BILL,
            amount=Decimal(80 + 5 * (n % 8)),
            effective_from=change_days[n % 2],
            membership=person,
            currency="EUR",
        )
        projects.set_rate(
            by=owner,
            kind=RateKind.COST,
            amount=Decimal(40 + 2 * (n % 8)),
            effective_from=change_days[0],
            membership=person,
        )
    methods = [
        BillingMethod.HOURLY_PROJECT,
        BillingMethod.HOURLY_TASK,
        BillingMethod.HOURLY_PERSON,
        BillingMethod.HOURLY_PROJECT,
        BillingMethod.FIXED_FEE,
        BillingMethod.NON_BILLABLE,
    ]
    made_projects: list[Any] = []
    tasks: dict[int, list[Any]] = {}
    for c in range(CLIENTS):
        client = clients.create_client(
            by=owner, name=f"Client {c + 1:02d}", code=f"c{c + 1:02d}", country="DE"
        )
        if c % 3 == 0:
            projects.set_rate(
                by=owner,
                kind=RateKind.BILL,
                client=client,
                amount=Decimal(120 + c),
                effective_from=change_days[1],
            )
        for p in range(PROJECTS_PER_CLIENT):
            index = len(made_projects)
            method = methods[index % len(methods)]
            extras: dict[str, Any] = {"billing_method": method}
            if method == BillingMethod.FIXED_FEE:
                extras["fixed_fee"] = Decimal(15000)
            project = projects.create_project(
                by=owner, client=client, name=f"Project {index + 1:02d}", code=f"p{p + 1}", **extras
            )
            tasks[project.pk] = [
                projects.create_task(
                    project, by=owner, name=name, billable_default=name != TASKS[2]
                )
                for name in TASKS
            ]
            if method == BillingMethod.HOURLY_PROJECT:
                for euros, since in ((125, change_days[2]), (135, change_days[4])):
                    projects.set_rate(
                        by=owner,
                        kind=RateKind.BILL,
                        project=project,
                        amount=Decimal(euros),
                        effective_from=since,
                    )
            if method == BillingMethod.HOURLY_TASK:
                for task, euros in zip(tasks[project.pk], (130, 115), strict=False):
                    projects.set_rate(
                        by=owner,
                        kind=RateKind.BILL,
                        task=task,
                        amount=Decimal(euros),
                        effective_from=change_days[5],
                    )
            made_projects.append(project)

    # Five people per project, one of them a manager who manages it; everyone on ~10.
    managers = [i for i, p in enumerate(people) if p.role == Role.MANAGER]
    assigned: list[list[int]] = [[] for _ in people]
    for index, project in enumerate(made_projects):
        manager = managers[index % len(managers)]
        others = rng.sample([i for i in range(len(people)) if i != manager], 4)
        for i in [manager, *others]:
            projects.assign_member(project, by=owner, membership=people[i], is_manager=i == manager)
            assigned[i].append(index)
    for i, own in enumerate(assigned):  # nobody without work
        if not own:
            index = rng.randrange(len(made_projects))
            projects.assign_member(made_projects[index], by=owner, membership=people[i])
            own.append(index)

    tokens: dict[str, str] = {}
    for who, index in (("admin", 1), ("member", 3), ("manager", 2)):
        _, tokens[who] = accounts.create_api_token(
            membership=people[index], name="bench", scope="read"
        )
    return Org(organization, people, made_projects, tasks, assigned), tokens


@dataclass(frozen=True)
class Planned:
    person: int
    start: datetime
    end: datetime
    project: int
    task: int | None  # index into the project's tasks
    description: str
    tags: tuple[int, ...]


def plan_history(org: Org, count: int, first: date, last: date) -> Iterator[Planned]:
    """`count` entries on the workdays of [first, last], about 21 a person a day at 500,000.

    A person's day runs from 08:00–09:00 local time for 8–9.5 hours, cut into consecutive
    entries of 75–95 % of their slot; the project changes now and then, not every entry.
    Day by day, person by person, as real time arrives.
    """
    rng = random.Random(SEED + 1)
    zone = ZoneInfo(ZONE)
    days = workdays(first, last)
    slots = len(days) * len(org.people)
    base, extra = divmod(count, slots)
    bonus = set(rng.sample(range(slots), extra))
    slot = 0
    for day in days:
        for person in range(len(org.people)):
            k = base + (slot in bonus)
            slot += 1
            if not k:
                continue
            begin = datetime.combine(day, clock(8), tzinfo=zone) + timedelta(
                minutes=rng.randrange(60)
            )
            length = timedelta(hours=rng.uniform(8, 9.5)) / k
            project = rng.choice(org.assigned[person])
            for n in range(k):
                if rng.random() < 0.3:
                    project = rng.choice(org.assigned[person])
                start = begin + length * n
                end = start + max(timedelta(minutes=1), length * rng.uniform(0.75, 0.95))
                task = rng.choice((None, 0, 0, 1, 2))
                tags = (
                    tuple(rng.sample(range(len(TAGS)), rng.choice((1, 2))))
                    if (rng.random() < 0.15)
                    else ()
                )
                yield Planned(
                    person,
                    start.astimezone(UTC),
                    end.astimezone(UTC),
                    project,
                    task,
                    rng.choice(DESCRIPTIONS),
                    tags,
                )


def seed_history(org: Org, planned: Iterator[Planned], chunk: int) -> dict[str, Any]:
    from punchclock.tracking import services as tracking
    from punchclock.tracking.models import Source, Tag, TimeEntry

    tag_rows = [Tag.objects.get_or_create(organization=org.organization, name=n)[0] for n in TAGS]
    through = TimeEntry.tags.through
    stored = tagged = 0
    insert_s = tag_s = build_s = 0.0
    last_person_day: dict[int, date] = {}
    zone = ZoneInfo(ZONE)
    began = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        batch = list(itertools.islice(planned, chunk))
        if not batch:
            break
        entries = []
        for p in batch:
            project = org.projects[p.project]
            task = org.tasks[project.pk][p.task] if p.task is not None else None
            billable = project.is_billable_method and (task is None or task.billable_default)
            entries.append(
                TimeEntry(
                    organization=org.organization,
                    membership=org.people[p.person],
                    project=project,
                    task=task,
                    description=p.description,
                    start=p.start,
                    end=p.end,
                    billable=billable,
                    source=Source.IMPORT,
                )
            )
            last_person_day[p.person] = p.start.astimezone(zone).date()
        t1 = time.perf_counter()
        stored += tracking.record_history(org.organization, entries)
        t2 = time.perf_counter()
        # record_history stores entries, not their tags: those go into the through table.
        links = [
            through(timeentry_id=e.pk, tag_id=tag_rows[t].pk)
            for e, p in zip(entries, batch, strict=True)
            for t in p.tags
        ]
        through.objects.bulk_create(links, batch_size=2000)
        tagged += len(links)
        t3 = time.perf_counter()
        build_s, insert_s, tag_s = build_s + t1 - t0, insert_s + t2 - t1, tag_s + t3 - t2
        if stored % (chunk * 5) == 0:
            rate = stored / (time.perf_counter() - began)
            log(f"  {stored:,} entries stored ({rate:,.0f}/s)")
    return {
        "entries": stored,
        "tag_links": tagged,
        "build_objects_s": round(build_s, 1),
        "record_history_s": round(insert_s, 1),
        "tag_links_s": round(tag_s, 1),
        "last_day_of": {str(k): v.isoformat() for k, v in last_person_day.items()},
    }


def seed_timesheets(org: Org, today: date) -> dict[str, int]:
    """Approved weeks for everyone (the last eight before last week) and last week pending."""
    from punchclock.core.timeutil import week_start
    from punchclock.tracking import services as tracking

    owner = org.people[0]
    this_monday = week_start(today)
    approved = pending = 0
    for weeks_ago in range(9, 1, -1):
        monday = this_monday - timedelta(days=7 * weeks_ago)
        for person in org.people:
            sheet = tracking.submit_timesheet(
                person, period_start=monday, period_end=monday + timedelta(days=6)
            )
            tracking.decide_timesheet(sheet, by=owner, approve=True)
            approved += 1
    monday = this_monday - timedelta(days=7)
    for person in org.people[:-5]:
        tracking.submit_timesheet(
            person, period_start=monday, period_end=monday + timedelta(days=6)
        )
        pending += 1
    return {"approved": approved, "pending": pending}


def analyze() -> float:
    from django.db import connection

    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return round(time.perf_counter() - began, 1)


def seed_main(state_file: Path, entries: int, chunk: int) -> int:
    """The child process: migrate, build the organization and its history, write the state."""
    import django

    django.setup()
    from django.core.management import call_command

    from punchclock.core.timeutil import local_date, now
    from punchclock.tracking import services as tracking

    timings: dict[str, Any] = {}
    began = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    timings["migrate_collectstatic_s"] = round(time.perf_counter() - began, 1)

    today = local_date(now(), ZONE)
    first = today - timedelta(days=365 * HISTORY_YEARS)
    last = today - timedelta(days=1)
    began = time.perf_counter()
    org, tokens = create_organization(first)
    timings["organization_s"] = round(time.perf_counter() - began, 1)
    log(
        f"  organization: {len(org.people)} people, {CLIENTS} clients, {len(org.projects)} "
        f"projects, {sum(len(t) for t in org.tasks.values())} tasks ({timings['organization_s']} s)"
    )

    began = time.perf_counter()
    history = seed_history(org, plan_history(org, entries, first, last), chunk)
    timings["history_s"] = round(time.perf_counter() - began, 1)
    log(f"  {history['entries']:,} entries in {timings['history_s']} s")

    began = time.perf_counter()
    sheets = seed_timesheets(org, today)
    timings["timesheets_s"] = round(time.perf_counter() - began, 1)

    # The measured member's timer runs: every page's header shows it.
    member = org.people[3]
    project = org.projects[org.assigned[3][0]]
    tracking.start_timer(
        member,
        project=project,
        task=org.tasks[project.pk][0],
        description="Running while measured",
        at=now() - timedelta(minutes=40),
    )
    timings["analyze_s"] = analyze()
    log(f"  ANALYZE: {timings['analyze_s']} s")
    state = {
        "organization_id": org.organization.pk,
        "people": {
            "owner": org.people[0].pk,
            "admin": org.people[1].pk,
            "manager": org.people[2].pk,
            "member": org.people[3].pk,
        },
        "people_count": len(org.people),
        "projects": len(org.projects),
        "clients": CLIENTS,
        "tasks": sum(len(t) for t in org.tasks.values()),
        "member_projects": len(org.assigned[3]),
        "tokens": tokens,
        "history": {"first": first.isoformat(), "last": last.isoformat(), **history},
        "timesheets": sheets,
        "today": today.isoformat(),
        "timings": timings,
        "peak_rss_mib": rss_mib(),
    }
    state_file.write_text(json.dumps(state))
    state_file.chmod(0o600)
    return 0


# Measuring -------------------------------------------------------------------------------


@dataclass
class Target:
    key: str
    label: str
    persona: str
    url: str  # what is shown; for queries a description
    call: Callable[[], Any]
    samples: list[float] = field(default_factory=list)
    queries: int | None = None
    sql_ms: float | None = None
    size: int | None = None
    top_queries: list[dict[str, Any]] = field(default_factory=list)
    slowest_plan: str = ""
    plan: str = ""

    def as_dict(self) -> dict[str, Any]:
        ms = [round(s * 1000, 2) for s in self.samples]
        return {
            "key": self.key,
            "label": self.label,
            "as": self.persona,
            "request": self.url,
            "runs": len(ms),
            "median_ms": round(statistics.median(ms), 1) if ms else None,
            "p90_ms": p90(ms) if ms else None,
            "min_ms": min(ms) if ms else None,
            "max_ms": max(ms) if ms else None,
            "queries": self.queries,
            "sql_ms_one_run": self.sql_ms,
            "response_bytes": self.size,
            "samples_ms": ms,
            "top_queries": self.top_queries,
            "slowest_query_plan": self.slowest_plan,
            "plan": self.plan,
        }


def page(client: Any, url: str) -> Callable[[], Any]:
    def call() -> Any:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        return response

    return call


def timed_rounds(
    passes: list[tuple[Callable[[], None] | None, list[Target]]], runs: int, warmup: int
) -> None:
    """Warm-up rounds, then `runs` rounds of every target; the order rotates each round.

    With several passes (database states), every round runs each pass in turn after its
    `prepare`, so load on the machine and warming caches fall on all of them alike.
    """
    for n in range(warmup + runs):
        for prepare, targets in passes:
            if prepare is not None:
                prepare()
            shift = n % len(targets)
            for target in targets[shift:] + targets[:shift]:
                began = time.perf_counter()
                target.call()
                elapsed = time.perf_counter() - began
                if n >= warmup:
                    target.samples.append(elapsed)
        if (n + 1) % 5 == 0:
            log(f"  round {n + 1 - warmup}/{runs} done" if n >= warmup else "  warm-up done")


def explain(sql: str, analyze: bool = False) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN {'(ANALYZE, BUFFERS) ' if analyze else ''}{sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def count_queries(target: Target) -> None:
    """One more request with the query log on: how many queries, how long, which were slow.

    CaptureQueriesContext counts the queries and keeps their SQL. Their time: each SELECT is
    run again on its own with all rows fetched (Django's log, and an execute wrapper, time
    only `execute`, and SQLite hands out the rows of a streaming query during the fetch);
    other statements keep the time of their execute, taken with perf_counter.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    spent: list[float] = []

    def timer(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.append((time.perf_counter() - began) * 1000)

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timer):
        result = target.call()
    queries = captured.captured_queries
    target.queries = len(queries)
    with contextlib.suppress(AttributeError, TypeError):
        target.size = len(result.content)
    if len(spent) != len(queries):  # should not happen; keep the log's rounded times then
        spent = [float(q["time"]) * 1000 for q in queries]
    timed = []
    for ms, query in zip(spent, queries, strict=True):
        sql = query["sql"]
        if sql.lstrip().upper().startswith("SELECT") and "FOR UPDATE" not in sql.upper():
            with connection.cursor() as cursor:
                began = time.perf_counter()
                cursor.execute(sql)
                cursor.fetchall()
                ms = (time.perf_counter() - began) * 1000
        timed.append((ms, query))
    target.sql_ms = round(sum(ms for ms, _ in timed), 2)
    ranked = sorted(timed, key=lambda pair: -pair[0])
    target.top_queries = [{"ms": round(ms, 2), "sql": q["sql"][:1500]} for ms, q in ranked[:3]]
    if ranked and ranked[0][1]["sql"].lstrip().upper().startswith("SELECT"):
        with contextlib.suppress(Exception):
            target.slowest_plan = explain(ranked[0][1]["sql"], analyze=True)


def month_bounds(today: date) -> tuple[date, datetime, datetime]:
    """The last complete calendar month, as UTC instants of the organization's midnights."""
    from punchclock.core.timeutil import start_of_day

    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    return first, start_of_day(first, ZONE), start_of_day(today.replace(day=1), ZONE)


def month_query(organization_id: int, start: datetime, end: datetime) -> Any:
    from django.db.models import Sum

    from punchclock.tracking.models import TimeEntry

    return (
        TimeEntry.objects.filter(
            organization_id=organization_id, billable=True, start__gte=start, start__lt=end
        )
        .values("project_id")
        .annotate(total=Sum("duration_seconds"))
        .order_by()
    )


def compare_month_query(
    organization_id: int, start: datetime, end: datetime, runs: int
) -> list[Target]:
    """The same month query with the start-led indexes out of the planner's reach."""
    from django.db import connection, transaction

    sql, params = month_query(organization_id, start, end).query.sql_with_params()
    table = '"tracking_timeentry"'
    if f"FROM {table}" not in sql:
        raise RuntimeError(f"unexpected SQL for the month query: {sql}")
    targets: list[Target] = []

    def raw(text: str, setup: list[str] | None = None) -> Callable[[], Any]:
        def call() -> Any:
            # SET LOCAL needs a transaction; without settings run as the ORM runs (autocommit).
            in_transaction = transaction.atomic() if setup else contextlib.nullcontext()
            with in_transaction, connection.cursor() as cursor:
                for statement in setup or []:
                    cursor.execute(statement)
                cursor.execute(text, params)
                return cursor.fetchall()

        return call

    def plan_of(text: str, setup: list[str] | None = None) -> str:
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in setup or []:
                cursor.execute(statement)
            if connection.vendor == "sqlite":
                cursor.execute(f"EXPLAIN QUERY PLAN {text}", params)
                return "\n".join(str(row[-1]) for row in cursor.fetchall())
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {text}", params)
            return "\n".join(row[0] for row in cursor.fetchall())

    expected = sorted(raw(sql)())
    timings: dict[str, float] = {}
    with connection.cursor() as cursor:
        began = time.perf_counter()
        cursor.execute(f'CREATE INDEX "{TMP_INDEX}" ON {table} ("project_id")')
        timings["create_index_s"] = round(time.perf_counter() - began, 2)
        began = time.perf_counter()
        cursor.execute(
            f"ANALYZE {table}" if connection.vendor == "postgresql" else f"ANALYZE {TMP_INDEX}"
        )
        timings["analyze_s"] = round(time.perf_counter() - began, 2)
    try:
        variants: list[tuple[str, str, str, list[str] | None]] = []
        if connection.vendor == "sqlite":
            variants = [
                (
                    "month_natural_with_fk_index",
                    "same query, a single-column project_id index present too (planner's choice)",
                    sql,
                    None,
                ),
                (
                    "month_forced_fk_index",
                    f"same query, INDEXED BY {TMP_INDEX} "
                    "(project_id only: Django's default FK index)",
                    sql.replace(f"FROM {table}", f"FROM {table} INDEXED BY {TMP_INDEX}", 1),
                    None,
                ),
                (
                    "month_forced_org_start",
                    "same query, INDEXED BY entry_org_start (organization, start, project)",
                    sql.replace(f"FROM {table}", f"FROM {table} INDEXED BY entry_org_start", 1),
                    None,
                ),
                (
                    "month_no_index",
                    "same query, NOT INDEXED (full table scan)",
                    sql.replace(f"FROM {table}", f"FROM {table} NOT INDEXED", 1),
                    None,
                ),
            ]
        else:
            off = [
                "SET LOCAL enable_indexscan = off",
                "SET LOCAL enable_bitmapscan = off",
                "SET LOCAL enable_indexonlyscan = off",
            ]
            variants = [
                (
                    "month_natural_with_fk_index",
                    "same query, a single-column project_id index present too (planner's choice)",
                    sql,
                    None,
                ),
                (
                    "month_no_index",
                    "same query, enable_indexscan/bitmapscan/indexonlyscan = off (sequential scan)",
                    sql,
                    off,
                ),
            ]
        for key, label, text, setup in variants:
            call = raw(text, setup)
            if sorted(call()) != expected:
                raise RuntimeError(f"{key} returned other sums than the month query")
            target = Target(key, label, "–", "raw SQL", call)
            target.plan = plan_of(text, setup)
            targets.append(target)
        log(f"  comparison: {len(targets)} variants, {runs} runs each")
        timed_rounds([(None, targets)], runs, warmup=1)
    finally:
        with connection.cursor() as cursor:  # its statistics go with it
            cursor.execute(f'DROP INDEX "{TMP_INDEX}"')
    for target in targets:
        target.top_queries = [{"note": "temporary index", **timings}]
    return targets


def build_targets(state: dict[str, Any]) -> list[Target]:
    """The pages and API lists, each as the person who opens it, and the raw month query."""
    from django.db import connection
    from django.test import Client

    from punchclock.accounts.models import Membership
    from punchclock.core.timeutil import week_start

    people = {
        role: Membership.objects.select_related("user").get(pk=pk)
        for role, pk in state["people"].items()
    }
    browsers = {}
    for role in ("admin", "member"):
        browser = Client()
        browser.force_login(people[role].user)
        browsers[role] = browser
    api = {
        role: Client(headers={"Authorization": f"Bearer {raw}"})
        for role, raw in state["tokens"].items()
    }
    day, monday = measured_day(state), week_start(measured_day(state))
    first, start, end = month_bounds(date.fromisoformat(state["today"]))
    organization_id = state["organization_id"]

    def web(key: str, label: str, role: str, url: str) -> Target:
        return Target(key, label, role, url, page(browsers[role], url))

    targets = [
        web("day", "day view", "member", f"/time/?date={day}"),
        web("week", "week grid", "member", f"/time/week/?week={monday}"),
        web("team", "team view", "admin", f"/time/team/?week={monday}"),
        web("approvals", "approvals", "admin", "/time/approvals/"),
        web("home", "overview", "member", "/"),
    ]
    for role in ("admin", "member"):
        for key, label, url in (
            ("entries_month", "API entries, this month", "/api/v1/entries?period=month"),
            (
                "report_month",
                "API report, this month by project",
                "/api/v1/reports/time?period=month&by=project",
            ),
            (
                "report_all",
                "API report, all time by client",
                "/api/v1/reports/time?period=all&by=client",
            ),
        ):
            targets.append(Target(f"api_{key}_{role}", label, role, url, page(api[role], url)))
    month = Target(
        "month_sum",
        "a month's billable sum per project (ORM, indexes as shipped)",
        "–",
        f"ORM, {first:%Y-%m}",
        lambda: list(month_query(organization_id, start, end)),
    )
    sql, params = month_query(organization_id, start, end).query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            month.plan = "\n".join(str(r[-1]) for r in cursor.fetchall())
        else:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            month.plan = "\n".join(r[0] for r in cursor.fetchall())
    targets.append(month)
    return targets


def measured_day(state: dict[str, Any]) -> date:
    # people[3] is the measured member (see create_organization): their last day with entries.
    return date.fromisoformat(state["history"]["last_day_of"]["3"])


class SqliteStatistics:
    """Switch ANALYZE's statistics off (as in a file nobody ever analyzed) and on again."""

    BACKUP = "bench_stat1_backup"

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE {self.BACKUP} AS SELECT * FROM sqlite_stat1")

    def _set(self, present: bool) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("DELETE FROM sqlite_stat1")
            if present:
                cursor.execute(f"INSERT INTO sqlite_stat1 SELECT * FROM {self.BACKUP}")
        # SQLite reads the statistics when a connection loads the schema; every request
        # opens a new connection anyway (CONN_MAX_AGE=0), the raw query's one is closed here.
        self.connection.close()

    def on(self) -> None:
        self._set(True)

    def off(self) -> None:
        self._set(False)

    def restore(self) -> None:
        self.on()
        with self.connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {self.BACKUP}")


def count_all(targets: list[Target]) -> None:
    for target in targets:
        count_queries(target)


def measure(state: dict[str, Any], runs: int, warmup: int, no_stats_pass: bool) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection

    from punchclock.tracking.models import TimeEntry

    first, start, end = month_bounds(date.fromisoformat(state["today"]))
    organization_id = state["organization_id"]
    month_groups = len(list(month_query(organization_id, start, end)))
    month_entries = TimeEntry.objects.filter(
        organization_id=organization_id, start__gte=start, start__lt=end
    ).count()

    targets = build_targets(state)
    passes: list[tuple[Callable[[], None] | None, list[Target]]] = [(None, targets)]
    without_stats: list[Target] = []
    stats = None
    if no_stats_pass and connection.vendor == "sqlite":
        stats = SqliteStatistics()
        stats.off()
        without_stats = build_targets(state)  # the raw query's plan as SQLite then picks it
        stats.on()
        passes = [(stats.on, targets), (stats.off, without_stats)]
    log(
        f"Pages: {len(targets)} targets, {len(passes)} database state(s), "
        f"{warmup} warm-up + {runs} rounds"
    )
    try:
        timed_rounds(passes, runs, warmup)
        log("Query counts (one more request each, with the query log on)")
        if stats is not None:
            stats.off()
            count_all(without_stats)
            stats.on()
        count_all(targets)
    finally:
        if stats is not None:
            stats.restore()
    rss_after_pages = rss_mib()
    log(f"Peak RSS after the page runs: {rss_after_pages} MiB")
    log("The month query without the start-led indexes")
    comparison = compare_month_query(organization_id, start, end, runs)
    return {
        "targets": targets,
        "without_stats": without_stats,
        "comparison": comparison,
        "measured": {
            "member_id": state["people"]["member"],
            "day": measured_day(state).isoformat(),
            "week": (
                measured_day(state) - timedelta(days=measured_day(state).weekday())
            ).isoformat(),
            "month_for_raw_query": first.strftime("%Y-%m"),
            "month_entries": month_entries,
            "month_groups": month_groups,
        },
        "peak_rss_mib_after_pages": rss_after_pages,
    }


# Output ----------------------------------------------------------------------------------


def markdown_pages(rows: list[dict[str, Any]], unanalyzed: list[dict[str, Any]]) -> str:
    """Medians and p90 after ANALYZE; with SQLite also the median in a never-analyzed file."""
    other = {r["key"]: r for r in unanalyzed}
    head = "| page | as | request | median | p90 | queries | SQL time (1 run) | response |"
    rule = "|---|---|---|---:|---:|---:|---:|---:|"
    if other:
        head += " median, no statistics (p90) |"
        rule += "---:|"
    lines = [head, rule]
    for r in rows:
        size = f"{r['response_bytes'] / 1024:.0f} KiB" if r["response_bytes"] else "–"
        line = (
            f"| {r['label']} | {r['as']} | `{r['request']}` | {_ms2(r['median_ms'])} | "
            f"{_ms2(r['p90_ms'])} | {r['queries']} | {_ms2(r['sql_ms_one_run'])} | {size} |"
        )
        if other:
            o = other.get(r["key"])
            line += f" {_ms2(o['median_ms'])} ({_ms2(o['p90_ms'])}) |" if o else " – |"
        lines.append(line)
    return "\n".join(lines)


def markdown_comparison(
    month: dict[str, Any], rows: list[dict[str, Any]], unanalyzed: dict[str, Any] | None
) -> str:
    lines = ["| variant | median | p90 | plan |", "|---|---:|---:|---|"]
    first = [month]
    if unanalyzed:
        first.append({**unanalyzed, "label": "the same ORM query, no statistics (never analyzed)"})
    for r in [*first, *rows]:
        lines.append(
            f"| {r['label']} | {_ms2(r['median_ms'])} | {_ms2(r['p90_ms'])} | "
            f"{plan_summary(r['plan'])} |"
        )
    return "\n".join(lines)


def plan_summary(plan: str) -> str:
    """SQLite's plan lines; PostgreSQL's scan nodes (without costs) and its execution time."""
    lines = [line.strip() for line in plan.splitlines() if line.strip()]
    if any("cost=" in line for line in lines):
        nodes = [
            line.lstrip("-> ").split("  (")[0]
            for line in lines
            if "Scan" in line or "Aggregate" in line or line.startswith("Execution Time")
        ]
        lines = nodes
    return "; ".join(lines)[:200]


def _ms2(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f} ms" if value < 10 else _ms(value)


# Main ------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=500_000, help="past entries (500000)")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per page (20)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds first (2)")
    parser.add_argument("--chunk", type=int, default=10_000, help="entries per record_history")
    parser.add_argument(
        "--database-url",
        help="a throw-away PostgreSQL database (migrated; gets a new organization)",
    )
    parser.add_argument(
        "--skip-no-stats",
        action="store_true",
        help="SQLite: skip the second pass without ANALYZE's statistics",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument("--seed-state", type=Path, help=argparse.SUPPRESS)  # the child's mode
    return parser.parse_args()


def django_env(workdir: Path, database_url: str | None) -> dict[str, str]:
    """The environment `punch serve` runs with on the loopback address, minus the server."""
    env = dict(os.environ)
    env.update(
        PUNCHCLOCK_DATA_DIR=str(workdir / "punch-data"),
        DJANGO_SETTINGS_MODULE="punchclock.config.settings",
        DEBUG="0",
        SECURE_HTTPS="0",
        SITE_URL="http://127.0.0.1:8000",
        LOG_LEVEL="WARNING",
    )
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    args = parse_args()
    if args.seed_state:
        return seed_main(args.seed_state, args.entries, args.chunk)
    signal.signal(signal.SIGTERM, _interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="punch-pages-bench-"))
    env = django_env(workdir, args.database_url)
    database = "PostgreSQL" if args.database_url else "SQLite (embedded, WAL)"
    began = time.time()
    load_before = load_average()
    code = checkout()
    try:
        log(f"Seeding {args.entries:,} entries into {database} (child process)")
        state_file = workdir / "state.json"
        seed_began = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--seed-state",
                str(state_file),
                "--entries",
                str(args.entries),
                "--chunk",
                str(args.chunk),
            ],
            env=env,
            check=True,
        )
        seeding_s = round(time.perf_counter() - seed_began, 1)
        state = json.loads(state_file.read_text())
        log(f"Seeded in {seeding_s} s; child's peak RSS {state['peak_rss_mib']} MiB")

        os.environ.update(env)
        if not args.database_url:
            os.environ.pop("DATABASE_URL", None)
        result = measure(state, args.runs, args.warmup, not args.skip_no_stats)
        from django.db import connection

        db_version = ""
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("select sqlite_version()")
                db_version = f"SQLite {cursor.fetchone()[0]}"
                size = sum(
                    f.stat().st_size for f in (workdir / "punch-data").glob("punchclock.sqlite3*")
                )
            else:
                cursor.execute("show server_version")
                db_version = f"PostgreSQL {cursor.fetchone()[0]}"
                cursor.execute("select pg_database_size(current_database())")
                size = cursor.fetchone()[0]
                cursor.execute("show autovacuum")
                db_version += f" (autovacuum {cursor.fetchone()[0]})"
        connection.close()

        rows = [t.as_dict() for t in result["targets"]]
        comparison = [t.as_dict() for t in result["comparison"]]
        unanalyzed = [t.as_dict() for t in result["without_stats"]]
        month = next(r for r in rows if r["key"] == "month_sum")
        table = markdown_pages(rows, unanalyzed)
        month_unanalyzed = next((r for r in unanalyzed if r["key"] == "month_sum"), None)
        comparison_table = markdown_comparison(month, comparison, month_unanalyzed)
        stamp = datetime.now(UTC)
        state.pop("tokens", None)
        state["history"].pop("last_day_of", None)
        document = {
            "benchmark": "pages",
            "date": stamp.isoformat(timespec="seconds"),
            "argv": sys.argv[1:],
            "duration_s": round(time.time() - began, 1),
            "machine": machine_info(),
            "load_average": {"before": load_before, "after": load_average()},
            "punchclock_checkout": code,
            "database": db_version,
            "database_bytes": size,
            "settings": {
                "entries": args.entries,
                "runs": args.runs,
                "warmup_rounds": args.warmup,
                "chunk": args.chunk,
                "zone": ZONE,
                "history_years": HISTORY_YEARS,
                "client": "django.test.Client in-process (full middleware, templates), "
                "DEBUG=0, SECURE_HTTPS=0 as punch serve on 127.0.0.1",
            },
            "seeding_s": seeding_s,
            "seed": state,
            "measured": result["measured"],
            "peak_rss_mib_after_pages": result["peak_rss_mib_after_pages"],
            "peak_rss_mib_end": rss_mib(),
            "results": rows,
            "results_without_statistics": unanalyzed,
            "month_query_comparison": comparison,
            "table_markdown": table,
            "comparison_markdown": comparison_table,
        }
        args.out.mkdir(parents=True, exist_ok=True)
        suffix = "-postgres" if args.database_url else ""
        suffix += "" if args.entries == 500_000 else f"-{args.entries // 1000}k"
        path = args.out / f"pages-{stamp:%Y-%m-%d}{suffix}.json"
        number = 1
        while path.exists():
            number += 1
            path = args.out / f"pages-{stamp:%Y-%m-%d}{suffix}-{number}.json"
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
        machine = machine_info()
        print()
        print(
            f"Server time per request, median and p90 of {args.runs} runs — {args.entries:,} "
            f"entries, {db_version}, {machine['cpu']}, {machine['cores']} cores, "
            f"Python {platform.python_version()}"
        )
        print(f"Measured day {result['measured']['day']}, week of {result['measured']['week']}")
        print()
        print(table)
        print(
            f"\nA month's billable sum per project ({result['measured']['month_for_raw_query']}: "
            f"{result['measured']['month_entries']:,} entries of the organization):"
        )
        print()
        print(comparison_table)
        print(
            f"\nPeak RSS of this process after the page runs: "
            f"{result['peak_rss_mib_after_pages']} MiB (seeding child: {state['peak_rss_mib']} MiB)"
        )
        print(f"Seeding: {seeding_s} s ({state['timings']})")
        print(f"\nWrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
        return 0
    except KeyboardInterrupt:
        log("Interrupted.")
        return 130
    finally:
        if args.keep:
            log(f"Kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
