"""Server-side commands: they run Django in this process, imported only when called."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import subprocess  # imported when used: `punch` must start fast

# How long `punch serve` lets its worker finish the job at hand before killing it; a killed
# job's transaction rolls back and the next tick redoes it.
WORKER_STOP_SECONDS = 10


def _django() -> None:
    """Set up Django for a command; local defaults suit the embedded single-user mode."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "punchclock.config.settings")
    import django

    django.setup()


def _fail_on_validation(exc: Exception) -> click.ClickException:
    from django.core.exceptions import ValidationError

    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        lines = [f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()]
        return click.ClickException("\n".join(lines))
    if isinstance(exc, ValidationError):
        return click.ClickException(" ".join(exc.messages))
    return click.ClickException(str(exc))


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--demo", is_flag=True, help="Load the demo organization if the database is empty.")
def serve(host: str, port: int, workers: int, demo: bool) -> None:
    """Migrate the database and serve Punchclock.

    Without DATABASE_URL it uses the embedded SQLite database in the data folder
    (PUNCHCLOCK_DATA_DIR, default ~/.local/share/punchclock).

    \b
    Example:
      punch serve --port 8000 --demo
    """
    if host in {"127.0.0.1", "localhost", "::1"}:
        # Plain HTTP on the loopback address: secure-only cookies would never be sent back.
        os.environ.setdefault("SECURE_HTTPS", "0")
        os.environ.setdefault("SITE_URL", f"http://{host}:{port}")
    _django()
    from django.conf import settings
    from django.core.management import call_command

    from punchclock.core.dbstats import refresh_planner_statistics

    click.echo(f"Database: {_describe_db(settings.DATABASES['default'])}")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if demo:
        from punchclock.core import demo as demo_data

        if demo_data.database_is_empty():
            _load_demo_in_child()
            click.echo("Loaded the demo organization.")
        click.echo(
            f"Demo login: {demo_data.OWNER_EMAIL} / {demo_data.PASSWORD}"
            "  (other demo people use the same password)"
        )
    # After the demo's data, so that its tables have statistics too; the worker refreshes
    # them as the kept report periods grow (automation.tasks.keep_reports).
    refresh_planner_statistics()
    worker_process = _start_worker()
    click.echo(f"Punchclock is running on http://{_url_host(host)}:{port}/  (Ctrl+C stops it)")
    try:
        _run_gunicorn(host, port, workers)
    finally:
        if worker_process is not None:
            _stop_worker(worker_process)


def _start_worker() -> subprocess.Popen[bytes] | None:
    """Run `punch worker` beside the server, so billing schedules work out of the box.

    A process, not a thread of gunicorn's master: jobs issue invoices, which start SaxonC,
    and one started in the master breaks the workers forked from it (see
    _load_demo_in_child). A session of its own keeps the terminal's Ctrl+C away from it:
    the server stops it with a single SIGTERM, which lets the job at hand finish.
    PUNCHCLOCK_EMBEDDED_WORKER=0 leaves the jobs to a `punch worker` service instead.
    """
    import subprocess
    import sys

    from punchclock.config.env import env_bool

    if not env_bool("PUNCHCLOCK_EMBEDDED_WORKER", True):
        return None
    code = "from punchclock.cli.main import main; main(prog_name='punch')"
    command = [sys.executable, "-c", code, "worker", "--parent-pid", str(os.getpid())]
    process = subprocess.Popen(command, start_new_session=True)  # noqa: S603 - our own code
    click.echo(f"Background worker started (pid {process.pid}).")
    return process


def _stop_worker(process: subprocess.Popen[bytes]) -> None:
    """Let the worker finish its job for a while, then kill it: no job keeps half its work."""
    import subprocess

    process.terminate()
    try:
        process.wait(timeout=WORKER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _load_demo_in_child() -> None:
    """Load the demo in a process of its own, never in the server's master process.

    Issuing the demo's invoices starts the e-invoice rule engine (SaxonC, a GraalVM
    native image); one started in gunicorn's master is inherited by the forked workers,
    where using it from their threads crashes the worker."""
    import subprocess
    import sys

    code = "from punchclock.core import demo; demo.load()"
    command = [sys.executable, "-c", f"import django; django.setup(); {code}"]
    subprocess.run(command, check=True)  # noqa: S603 - our own interpreter and code


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _describe_db(db: Any) -> str:
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite at {db['NAME']}"
    return f"{db['ENGINE'].rsplit('.', 1)[-1]} {db.get('NAME')} on {db.get('HOST') or 'localhost'}"


def _run_gunicorn(host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    from punchclock.config.wsgi import application

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{_url_host(host)}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", "-")
            self.cfg.set("graceful_timeout", 5)

        def load(self) -> Any:
            return application

    Server().run()


@click.command()
def demo() -> None:
    """Load the demo organization (a small IT agency) into the database."""
    _django()
    from django.core.management import call_command

    from punchclock.core import demo as demo_data

    call_command("migrate", interactive=False, verbosity=0)
    if demo_data.demo_exists():
        raise click.ClickException(
            f"The demo organization already exists (log in as {demo_data.OWNER_EMAIL})."
        )
    demo_data.load()
    click.echo(
        f"Demo organization loaded. Log in as {demo_data.OWNER_EMAIL} / {demo_data.PASSWORD}"
    )


@click.command()
@click.option("--email", prompt=True, help="Sign-in email address.")
@click.option("--name", default="", help="Full name.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Password (prompted when omitted).",
)
@click.option(
    "--organization",
    "organization_name",
    default="",
    help="Also create this organization with the user as owner.",
)
@click.option("--superuser", is_flag=True, help="Allow the Django admin site.")
def createuser(
    email: str, name: str, password: str, organization_name: str, superuser: bool
) -> None:
    """Create a user, optionally with a new organization they own.

    \b
    Example:
      punch createuser --email lena@example.com --name "Lena" --organization "Lena Codes"
    """
    _django()
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from punchclock.accounts import services

    try:
        with transaction.atomic():
            user = services.create_user(email=email, password=password, name=name)
            if superuser:
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
            if organization_name:
                services.create_organization(owner=user, name=organization_name)
    except ValidationError as exc:
        raise _fail_on_validation(exc) from exc
    suffix = f" and organization “{organization_name}”" if organization_name else ""
    click.echo(f"Created {user.email}{suffix}.")


@click.command()
@click.option("--organization", "organization_id", type=int, help="Only this organization (id).")
def verify(organization_id: int | None) -> None:
    """Recompute every organization's chain of issued documents and name the first break.

    \b
    Example:
      punch verify
    """
    _django()
    from punchclock.accounts.models import Organization
    from punchclock.invoicing.models import InvoiceChain
    from punchclock.invoicing.services import verify_chain

    organizations = Organization.objects.order_by("pk")
    if organization_id is not None:
        organizations = organizations.filter(pk=organization_id)
        if not organizations.exists():
            raise click.ClickException(f"No organization with id {organization_id}.")
    broken = 0
    for organization in organizations:
        chain = InvoiceChain.objects.filter(organization=organization).first()
        length = chain.length if chain else 0
        found = verify_chain(organization)
        if found is None:
            click.echo(f"{organization.name}: intact ({length} documents)")
            continue
        broken += 1
        what = found.invoice.number if found.invoice is not None else "a missing document"
        click.echo(
            f"{organization.name}: BROKEN at position {found.position} ({what}): {found.reason}"
        )
    if broken:
        raise click.exceptions.Exit(1)


@click.command()
@click.option(
    "--poll",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.1, 60),
    help="Seconds between looks at an empty queue.",
)
@click.option(
    "--tick",
    "tick_every",
    default=60.0,
    show_default=True,
    type=click.FloatRange(1, 3600),
    help="Seconds between ticks, which queue the schedules' run (at most once a minute).",
)
@click.option("--failures", is_flag=True, help="List recent failed jobs and exit.")
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(1), help="With --failures."
)
@click.option("--parent-pid", type=int, hidden=True)  # `punch serve`: stop when it is gone
def worker(
    poll: float, tick_every: float, failures: bool, limit: int, parent_pid: int | None
) -> None:
    """Run background jobs: billing schedules each minute, reminders each hour, queued jobs.

    Several workers may run at once against PostgreSQL: each job runs once. SIGTERM or
    Ctrl+C stops a worker after the job at hand (a second one abandons that job, whose
    unfinished changes roll back). `punch serve` starts one of its own unless
    PUNCHCLOCK_EMBEDDED_WORKER=0.

    \b
    Examples:
      punch worker
      punch worker --failures
    """
    _django()
    from punchclock.automation import worker as background

    _require_migrated()
    if failures:
        _list_failures(background.failures(limit=limit))
        return
    try:
        runner = background.BackgroundWorker(
            poll=poll, tick_every=tick_every, parent_pid=parent_pid
        )
    except background.NotADatabaseQueue as exc:
        raise click.ClickException(str(exc)) from exc
    runner.stop_on_signals()
    try:
        runner.run()
    except KeyboardInterrupt:
        raise click.exceptions.Exit(130) from None


def _list_failures(found: list[Any]) -> None:
    if not found:
        click.echo("No failed jobs.")
        return
    for failure in found:
        when = failure.at.strftime("%Y-%m-%d %H:%M UTC")
        click.echo(f"{when}  {failure.task}  {failure.error}  (job {failure.job_id})")


def _require_migrated() -> None:
    """A worker on a database without its tables would only log errors: say so instead."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise click.ClickException(
            "The database is not migrated yet: run `python manage.py migrate` "
            "(or `punch serve`, which migrates) first."
        )


def register(group: click.Group) -> None:
    for command in (serve, worker, demo, createuser, verify):
        group.add_command(command)
