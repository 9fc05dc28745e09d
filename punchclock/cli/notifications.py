"""`punch notifications`: what the team was told about you, unread first.

Like every client command it talks to the REST API and never imports Django.
"""

from __future__ import annotations

from typing import Any

import click

from punchclock.cli.client import Env, json_option, pass_env

PAGE = 200  # the API's largest page


@click.command()
@click.option("--all", "everything", is_flag=True, help="Read ones too, not only unread.")
@click.option("--read", "mark_read", is_flag=True, help="Then mark them all read.")
@json_option
@pass_env
def notifications(env: Env, everything: bool, mark_read: bool, as_json: bool) -> None:
    """Your notifications, newest first: unread ones unless --all.

    \b
    Examples:
      punch notifications
      punch notifications --read     (list, then mark all read)
    """
    query: dict[str, Any] = {"limit": PAGE}
    if not everything:
        query["unread"] = "true"
    page = env.api().request("GET", "/notifications", query=query)
    if as_json:
        env.dump(page["items"])
    elif not page["items"]:
        click.echo("No unread notifications." if not everything else "No notifications.")
    else:
        for item in page["items"]:
            mark = " " if item["read_at"] else "*"
            click.echo(f"{mark} {item['created_at'][:10]}  {item['title']}")
            if item["text"]:
                click.echo(f"              {item['text']}")
        if page["count"] > len(page["items"]):
            click.echo(f"… and {page['count'] - len(page['items'])} more in the web app.")
    if mark_read:
        marked = env.api().request("POST", "/notifications/read")["marked"]
        if not as_json:
            click.echo(f"Marked {marked} read.")


def register(group: click.Group) -> None:
    group.add_command(notifications)
