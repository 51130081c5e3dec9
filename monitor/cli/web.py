"""`monitor web` (the inbox on its own) and `monitor users` (who may sign in to it)."""
from __future__ import annotations

import re
import sys

import click

from monitor.cli.common import EXIT_CONFIG, NOTHING, case_desk, cli, load, open_store

NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")
MIN_PASSWORD = 10


@cli.command("web")
@click.option("--listen", help="HOST:PORT to serve on (default: web.listen).")
@click.pass_context
def web(ctx: click.Context, listen: str | None) -> None:
    """Serve the web inbox in the foreground, without polling (`monitor run` serves it too when web.enabled)."""
    import signal
    import threading

    from monitor.config.web import WebConfig

    config = load(ctx, ("sinks", "replies"))
    if listen:
        try:
            WebConfig(listen=listen)
        except ValueError:
            click.echo(f"--listen: expected HOST:PORT like 127.0.0.1:8090, got {listen!r}", err=True)
            sys.exit(EXIT_CONFIG)
    store = open_store(ctx, ("sinks",))
    store.schema.upgrade()
    if not store.users.all():
        click.echo("no users yet: add one with `monitor users add NAME --role agent`", err=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server, close = inbox_server(config, store, listen)
    ops = None
    try:
        server.start()
        ops = _ops_endpoint(config, store)
        stop.wait()
    finally:
        server.stop()
        if ops is not None:
            ops.stop()
        close()
        store.close()


def _ops_endpoint(config, store):
    """/healthz, /readyz and /metrics (the inbox's request figures) when service.http.enabled, as `monitor run`
    serves them."""
    http = config.root.service.http
    if not http.enabled:
        return None
    from monitor.ops.server import Limits, OpsServer
    from monitor.service import database_health

    def healthy() -> tuple[bool, str]:
        return database_health(store)

    ops = OpsServer(http.host, http.port, healthy, healthy, limits=Limits.of(http))
    ops.start()
    return ops


def inbox_server(config, store, listen: str | None = None):
    """The inbox over this store with its own case desk (the sinks' messages follow the changes made in it);
    the server and what closes the sinks."""
    from monitor.cases.replying import ReplyDesk
    from monitor.web.context import Inbox
    from monitor.web.server import WebServer

    desk, sinks = case_desk(config, store)
    replies = ReplyDesk(config.root.replies, config.reply_accounts, config.sources, store.replies, desk, sinks) \
        if config.reply_accounts else None
    host, port = (listen.rpartition(":")[0].strip("[]"), int(listen.rpartition(":")[2])) if listen else (None, None)

    def close() -> None:
        if replies is not None:
            replies.close()
        for sink in sinks.values():
            sink.close()

    return WebServer(Inbox(config, store, desk, replies), host, port), close


@cli.group("users")
def users() -> None:
    """People who may sign in to the web inbox: agents work cases, viewers read."""


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        click.echo(f"the password must have at least {MIN_PASSWORD} characters", err=True)
        sys.exit(EXIT_CONFIG)
    return password


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["agent", "viewer"]), required=True,
              help="agent: works cases and labels; viewer: reads only.")
@click.option("--password-stdin", "password_stdin", is_flag=True, help="Read the password from the first line of "
              "standard input (for scripts) instead of asking for it.")
@click.pass_context
def add_user(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Add a user who signs in as NAME."""
    load(ctx, NOTHING)
    if not NAME.fullmatch(name):
        click.echo(f"a user name is 1 to 64 letters, digits, dots, dashes, underscores or @, got {name!r}", err=True)
        sys.exit(EXIT_CONFIG)
    password = _password(password_stdin)
    store = open_store(ctx)
    store.schema.upgrade()
    try:
        user = store.users.add(name, role, password)
    except ValueError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"added {user.name} ({user.role})")


@users.command("password")
@click.argument("name")
@click.option("--password-stdin", "password_stdin", is_flag=True, help="Read the new password from standard input.")
@click.pass_context
def set_password(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Set a user's password (signs them out everywhere and lifts a lockout)."""
    load(ctx, NOTHING)
    password = _password(password_stdin)
    store = open_store(ctx)
    store.schema.upgrade()
    if not store.users.set_password(name, password):
        click.echo(f"there is no user named {name!r}", err=True)
        sys.exit(1)
    click.echo(f"password of {name} changed; their sessions are signed out")


@users.command("list")
@click.pass_context
def list_users(ctx: click.Context) -> None:
    """The users, their roles and when they last signed in."""
    load(ctx, NOTHING)
    store = open_store(ctx)
    store.schema.upgrade()
    found = store.users.all()
    for user in found:
        last = f"{user.last_login_at:%Y-%m-%d %H:%M} UTC" if user.last_login_at else "never"
        click.echo(f"{user.name:<24} {user.role:<7} added {user.created_at:%Y-%m-%d}, last signed in {last}")
    if not found:
        click.echo("no users (add one with `monitor users add NAME --role agent`)", err=True)


@users.command("remove")
@click.argument("name")
@click.pass_context
def remove_user(ctx: click.Context, name: str) -> None:
    """Remove a user; every browser they are signed in on is signed out at once."""
    load(ctx, NOTHING)
    store = open_store(ctx)
    store.schema.upgrade()
    if not store.users.remove(name):
        click.echo(f"there is no user named {name!r}", err=True)
        sys.exit(1)
    click.echo(f"removed {name}")
