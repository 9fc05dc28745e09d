"""The `punch` command.

Two halves: client commands (time tracking, invoices, what is owed) talk to a server
over HTTP and must never import Django, so `punch` starts fast; server commands (`serve`,
`demo`, `createuser`) run inside this installation and import Django only when invoked.
"""

from __future__ import annotations

import click

from punchclock.cli import automation, client, notifications, receivables, retainers, server


@click.group(cls=client.ClientGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="punchclock", prog_name="punch")
def main() -> None:
    """Punchclock: time billing and invoicing from your terminal.

    \b
    Start the app with the demo organization:
      punch serve --demo
    Then, with an API token from the web app:
      punch login http://127.0.0.1:8000
      punch start acme/api "fix login"
    """


client.register(main)
receivables.register(main)
automation.register(main)
server.register(main)
retainers.register(main)
notifications.register(main)
