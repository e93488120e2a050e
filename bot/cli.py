"""`stormbot`: the command line (`python -m bot` is the same)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.runtime.logs import configure_logging
from bot.runtime.settings import SettingsError, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stormbot",
        description="Storm: an Event Storming + Event Modeling workshop in a Slack channel. "
        "Without a sub-command: serve when SLACK_BOT_TOKEN is set, else the sandbox.",
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser(
        "serve", help="connect to Slack (HTTP, or Socket Mode with SLACK_APP_TOKEN)"
    )
    sandbox = commands.add_parser(
        "sandbox", help="run a workshop in the terminal, against a pretend Slack (no token)"
    )
    sandbox.add_argument(
        "--files",
        type=Path,
        default=Path("storm-files"),
        metavar="DIR",
        help="where files Storm uploads (exports) are written (default: ./storm-files)",
    )
    migrate = commands.add_parser(
        "migrate", help="bring the database at DATABASE_URL up to date (serve does it too)"
    )
    migrate.add_argument(
        "--copy-from",
        metavar="SQLITE_URL",
        help="then copy every row of this SQLite database (e.g. sqlite:///storm.db, only read) "
        "into DATABASE_URL, which must be empty",
    )
    status = commands.add_parser(
        "status", help="what operators watch: the database, the outbox's and inbox's backlog"
    )
    status.add_argument(
        "--ops",
        action="store_true",
        required=True,
        help="print it as JSON (as GET /healthz answers); exit 1 when the database is down",
    )
    demo = commands.add_parser(
        "demo", help="play a scripted workshop through all eight steps and write its exports"
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("storm-demo"),
        metavar="DIR",
        help="where the exports are written (default: ./storm-demo)",
    )
    importing = commands.add_parser(
        "import",
        help="import a model file (storm-model/1 or Event Modeling JSON) into a channel's "
        "workshop, starting one if there is none",
    )
    importing.add_argument("file", type=Path, metavar="FILE", help="the JSON file to import")
    importing.add_argument(
        "--channel",
        required=True,
        metavar="CHANNEL",
        help="the channel's id (C…), or its name when SLACK_BOT_TOKEN is set",
    )
    importing.add_argument(
        "--team", metavar="T…", help="the workspace's id (default: the token's, or the only one)"
    )
    importing.add_argument(
        "--user",
        metavar="U…",
        help="who imports: the facilitator of a workshop the import starts "
        "(default: the first facilitator of the workshop in progress)",
    )
    importing.add_argument(
        "--yes",
        action="store_true",
        help="add to a workshop that has elements already (else it only says what would be added)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        command = args.command or ("serve" if settings.slack_bot_token else "sandbox")
        configure_logging(settings, quiet=command != "serve")
        if command == "serve":
            from bot.runtime.server import ServeError, serve

            try:
                serve(settings)
            except ServeError as error:
                print(f"stormbot: {error}", file=sys.stderr)
                return 1
        elif command == "sandbox":
            from bot.sandbox.console import run_sandbox

            run_sandbox(settings, files=getattr(args, "files", Path("storm-files")))
        elif command == "import":
            from bot.runtime.import_file import ImportArguments, run_import

            return run_import(
                settings, ImportArguments(args.file, args.channel, args.team, args.user, args.yes)
            )
        elif command == "migrate":
            return _migrate(settings.database_url, copy_from=args.copy_from)
        elif command == "status":
            return _status(settings.database_url)
        else:
            from bot.sandbox.demo import run_demo

            return run_demo(settings, out=args.out)
    except SettingsError as error:
        print(f"stormbot: configuration error: {error}", file=sys.stderr)
        return 2
    return 0


def _migrate(database_url: str, *, copy_from: str | None) -> int:
    """`stormbot migrate [--copy-from URL]`: upgrade, then copy a SQLite database in."""
    from storage.copying import CopyRefused, copy_database
    from storage.db import make_engine
    from storage.migrate import upgrade

    engine = make_engine(database_url)
    try:
        print(upgrade(engine))
        if copy_from is not None:
            print(copy_database(copy_from, engine))
    except CopyRefused as refusal:
        print(f"stormbot: {refusal}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


def _status(database_url: str) -> int:
    """`stormbot status --ops`: `/healthz`'s body, for an operator's terminal."""
    from bot.runtime.operations import health_body
    from storage.db import make_engine

    engine = make_engine(database_url)
    try:
        healthy, body = health_body(engine)
    finally:
        engine.dispose()
    sys.stdout.write(body.decode())
    return 0 if healthy else 1
