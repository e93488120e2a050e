"""`stormbot`: the command line (`python -m bot` is the same)."""

from __future__ import annotations

import argparse
import logging
import sys

from bot.settings import SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="stormbot",
        description="Storm: an Event Storming + Event Modeling workshop in a Slack channel.",
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser(
        "serve", help="connect to Slack (HTTP, or Socket Mode with SLACK_APP_TOKEN)"
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        if settings.log_level != "DEBUG":  # it announces every job it plans
            logging.getLogger("apscheduler").setLevel(logging.WARNING)
        if args.command in (None, "serve"):
            from bot.server import ServeError, serve

            try:
                serve(settings)
            except ServeError as error:
                print(f"stormbot: {error}", file=sys.stderr)
                return 1
    except SettingsError as error:
        print(f"stormbot: configuration error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
