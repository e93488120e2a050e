"""`stormbot import FILE --channel C…`: an admin imports a model file into a channel's workshop
from the command line, through the same code as the Slack form (`Importing.run`).

It writes to the database at DATABASE_URL; what Storm posts about it (the new workshop's
kickoff, the line saying who imported what) goes out from the running server's outbox, which
finds the posts within its poll interval. A channel is given by its id; by its name too when
SLACK_BOT_TOKEN is set (`conversations.list`). The workspace is `--team`, or the token's
(`auth.test`), or the one workspace the database knows.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from sqlmodel import select

from bot.core.clock import SystemClock
from bot.core.imports import MAX_IMPORT_BYTES
from bot.core.imports.report import file_label
from bot.core.text import unescape
from bot.runtime.app import make_client
from bot.runtime.settings import Settings
from bot.service.importing import Importing, ImportOutcome, ImportRequest
from storage import repository as repo
from storage.migrate import ready_engine
from storage.tables import Workshop
from storage.unit_of_work import unit_of_work

_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")


class CannotImport(Exception):
    """What the command line cannot do; the message says why."""


@dataclass(frozen=True)
class ImportArguments:
    path: Path
    channel: str
    team: str | None
    user: str | None
    yes: bool


def run_import(settings: Settings, args: ImportArguments, out: TextIO = sys.stdout) -> int:
    """Import the file; 0 when imported, 1 when refused, 2 when it waits for `--yes`."""
    try:
        data = _read(args.path)
        team, channel = _where(settings, args)
    except CannotImport as problem:
        print(f"stormbot import: {problem}", file=sys.stderr)
        return 1
    engine = ready_engine(settings.database_url)
    try:
        user = args.user or _facilitator(engine, team, channel)
        if user is None:
            print(
                "stormbot import: the channel has no workshop in progress, so the import starts "
                "one: say who facilitates it with --user U… (a Slack user id)",
                file=sys.stderr,
            )
            return 1
        importing = Importing(engine, SystemClock(), wake=lambda: None)
        outcome = importing.run(
            ImportRequest(team, channel, user, data, args.path.name, confirmed=args.yes)
        )
    finally:
        engine.dispose()
    return _said(outcome, out)


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_IMPORT_BYTES:
            raise CannotImport(
                f"{file_label(path.name)} is {size / 1048576:.1f} MB; Storm imports files of at "
                f"most {MAX_IMPORT_BYTES / 1048576:.1f} MB"
            )
        return path.read_bytes()
    except OSError as error:
        raise CannotImport(f"cannot read {path}: {error.strerror}") from None


def _where(settings: Settings, args: ImportArguments) -> tuple[str, str]:
    """(team id, channel id) the arguments name."""
    client = make_client(settings) if settings.slack_bot_token else None
    team = args.team
    if team is None and client is not None:
        try:
            team = str(client.auth_test()["team_id"])
        except SlackApiError as error:
            raise CannotImport(f"Slack refused auth.test: {error.response['error']}") from None
    if team is None:
        team = _only_team(settings)
    if _CHANNEL_ID.fullmatch(args.channel):
        return team, args.channel
    if client is None:
        raise CannotImport(
            f"“{args.channel}” is not a channel id (C…); names are looked up only with "
            "SLACK_BOT_TOKEN set"
        )
    wanted = args.channel.removeprefix("#")
    cursor = None
    try:
        while True:
            page = client.conversations_list(
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=200,
                cursor=cursor,
            )
            channels: list[dict[str, Any]] = page.get("channels", [])
            for found in channels:
                if found.get("name") == wanted:
                    return team, str(found["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                raise CannotImport(f"no channel named #{wanted} that Storm is in")
    except SlackApiError as error:
        raise CannotImport(f"Slack refused conversations.list: {error.response['error']}") from None


def _only_team(settings: Settings) -> str:
    engine = ready_engine(settings.database_url)
    try:
        with unit_of_work(engine, read_only=True) as session:
            teams = list(session.exec(select(Workshop.team_id).distinct()))
    finally:
        engine.dispose()
    if len(teams) != 1:
        raise CannotImport(
            "say which workspace with --team T… (the database knows "
            f"{len(teams)} workspaces, and there is no SLACK_BOT_TOKEN to ask Slack)"
        )
    return teams[0]


def _facilitator(engine: Engine, team: str, channel: str) -> str | None:
    """The first facilitator of the channel's workshop in progress: who imports by default."""
    with unit_of_work(engine, read_only=True) as session:
        workshop = repo.open_workshop(session, team_id=team, channel_id=channel)
        if workshop is None or workshop.id is None:
            return None
        return next(iter(repo.facilitators(session, workshop_id=workshop.id)), None)


def _said(outcome: ImportOutcome, out: TextIO) -> int:
    text = "\n".join(unescape(section) for section in outcome.post.sections)
    if outcome.status == "imported":
        print(text, file=out)
        return 0
    if outcome.status == "confirm":
        print(f"{text}\nRun again with --yes to add them.", file=out)
        return 2
    print(text, file=sys.stderr)
    return 1
