"""Importing a model file into a channel's workshop (SPEC §7.1), whoever asks: the Slack
adapter (the `/storm import` form, the *Import into Storm* shortcut, the sandbox's `:upload`)
and `stormbot import` call `Importing.run` with the file's bytes.

A file is read and checked in full before anything is stored (`bot.core.imports`); what it
holds is then stored in one transaction, so a bad file stores nothing and a good one all of
it. Into a channel without an unfinished workshop, the import starts one as `/storm start`
does, with the importer as facilitator. Into a workshop that has elements it first asks
(`confirm`): the person sees what the file holds and which names the workshop has already,
and imports again with `confirmed`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Engine

from bot.core import commands
from bot.core.clock import Clock
from bot.core.imports import MAX_IMPORT_BYTES, ImportProblem, read_model
from bot.core.imports import report as say
from bot.core.messages import Post
from bot.service import facilitation
from bot.service.context import Actor, Context, row_id
from bot.service.import_store import existing, matches, store
from storage import repository as repo
from storage.unit_of_work import unit_of_work

__all__ = ["MAX_IMPORT_BYTES", "ImportOutcome", "ImportRequest", "Importing"]


@dataclass(frozen=True)
class ImportRequest:
    team_id: str
    channel_id: str
    user_id: str  # who imports (becomes facilitator if a workshop is started)
    data: bytes  # the file's content
    filename: str
    confirmed: bool = False  # the person already confirmed adding to a workshop with elements


@dataclass(frozen=True)
class ImportOutcome:
    """`imported`: stored, `post` says what; `confirm`: nothing stored, `post` asks whether to
    add to the workshop's elements; `refused`: a bad file, nothing stored, `post` says why.
    `post` is for the person who imports (ephemeral); `workshop_id` is the workshop imported
    into or asked about."""

    status: Literal["imported", "confirm", "refused"]
    post: Post
    workshop_id: int | None = None


class Importing:
    def __init__(self, engine: Engine, clock: Clock, wake: Callable[[], None]) -> None:
        self._engine = engine
        self._clock = clock
        self._wake = wake

    def run(self, request: ImportRequest) -> ImportOutcome:
        try:
            plan = read_model(request.data, request.filename)
        except ImportProblem as problem:
            return ImportOutcome("refused", say.refused(request.filename, str(problem)))
        actor = Actor(request.team_id, request.channel_id, request.user_id)
        with unit_of_work(self._engine) as session:
            now = self._clock.now()
            # Numbers and positions follow the workshop's: no one else writes to it meanwhile.
            repo.lock_channel(session, team_id=actor.team_id, channel_id=actor.channel_id)
            workshop = repo.open_workshop(
                session, team_id=actor.team_id, channel_id=actor.channel_id, for_update=True
            )
            started = workshop is None
            if workshop is None:
                facilitation.start(Context(session, actor, now), commands.Start(plan.title))
                workshop = repo.open_workshop(
                    session, team_id=actor.team_id, channel_id=actor.channel_id, for_update=True
                )
                assert workshop is not None
            found = existing(session, row_id(workshop))
            same = matches(plan, found)
            if found.live and not request.confirmed:
                # Nothing was written: the workshop is open already, so none was started.
                question = say.confirm(
                    request.filename, plan.source, plan.counts(), workshop.title, same
                )
                return ImportOutcome("confirm", question, row_id(workshop))
            added = store(session, workshop, plan, found, user_id=actor.user_id, now=now)
            told = say.announcement(actor.user_id, request.filename, added)
            repo.schedule_post(
                session,
                workshop_id=row_id(workshop),
                kind="notice",
                due_at=now,
                step_number=workshop.current_step,
                payload={"text": told.text, "sections": list(told.sections)},
            )
            answer = say.imported(request.filename, added, workshop.title, same, started)
            workshop_id = row_id(workshop)
        self._wake()
        return ImportOutcome("imported", answer, workshop_id)
