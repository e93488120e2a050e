"""The App Home (SPEC §4.4): each person's workshops, published when they open the tab.

Opening the tab (`app_home_opened`) and clicking to another page of it reach Storm as events
in the inbox (`bot.service.reactions.ReactionInbox`, `latest_only`), so the work happens after
the acknowledgement, like every Web API call Storm makes: right after it in a single process,
in the background worker when web workers only acknowledge. Of several such events from one
person waiting there, only the latest is applied.

Who is in which channel is what Storm last read (`bot.slack.people.People.refresh_channel`);
a person is also shown the workshops they facilitate or contributed to. When the tab is shown,
the channels of workshops in progress where the person was not seen are read again (a few, at
most once in `REFRESH_EVERY` each), after a first publish, so that someone who just joined a
channel finds its workshop without waiting for Slack.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core import home
from bot.core.clock import Clock
from bot.core.model import element_key
from bot.service.context import row_id
from bot.service.ports import HomePort
from bot.service.snapshots import load_snapshot
from storage import repository as repo
from storage.tables import Workshop
from storage.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

OPENED = "app_home_opened"
# The inbox's name for a click on the tab's page buttons (`bot.slack.home` records it).
PAGE_EVENT = "storm_home_page"
EVENT_TYPES = (OPENED, PAGE_EVENT)
# A channel's members are read again for the tab at most this often...
REFRESH_EVERY = timedelta(minutes=10)
# ...and at most this many channels each time the tab is shown.
MAX_REFRESHES = 3


class Home:
    """Composes each person's App Home from the database and publishes it."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        port: HomePort,
        refresh_members: Callable[[str, str], None],
    ) -> None:
        """`refresh_members(team_id, channel_id)` reads a channel's members from Slack again."""
        self._engine = engine
        self._clock = clock
        self._port = port
        self._refresh_members = refresh_members
        self._refreshed: dict[tuple[str, str], datetime] = {}
        self._lock = threading.Lock()

    def apply(self, body: dict[str, Any]) -> None:
        """The inbox's applier for `EVENT_TYPES`: the tab was opened (page 1) or a page asked
        for. The Messages tab opens nothing here."""
        event = body["event"]
        if event["type"] == OPENED and event.get("tab") != "home":
            return
        page = event.get("page", 0) if event["type"] == PAGE_EVENT else 0
        self.show(body.get("team_id", ""), event["user"], page if isinstance(page, int) else 0)

    def show(self, team_id: str, user_id: str, page: int = 0) -> None:
        """Publish the person's tab; again if reading channels found them somewhere new."""
        shown = self._publish(team_id, user_id, page)
        if self._refresh(team_id, user_id) and self._workshop_ids(team_id, user_id) != shown:
            self._publish(team_id, user_id, page)

    def _publish(self, team_id: str, user_id: str, page: int) -> list[int]:
        """Publish one page of the tab; returns the ids of every workshop the person is in."""
        with unit_of_work(self._engine, read_only=True) as session:
            workshops = repo.workshops_of_person(session, team_id=team_id, user_id=user_id)
            active = [w for w in workshops if w.finished_at is None]
            shown, window = home.page_range(len(active), page)
            involvements = [_involvement(session, w, user_id) for w in active[window]]
        finished = sorted(
            (
                home.Finished(w.title, w.channel_id, w.finished_at)
                for w in workshops
                if w.finished_at is not None
            ),
            key=lambda f: f.finished_at,
            reverse=True,
        )
        tab = home.home_tab(
            involvements, finished, now=self._clock.now(), page=shown, in_progress=len(active)
        )
        self._port.publish_home(user_id, tab)
        return [row_id(w) for w in workshops]

    def _workshop_ids(self, team_id: str, user_id: str) -> list[int]:
        with unit_of_work(self._engine, read_only=True) as session:
            found = repo.workshops_of_person(session, team_id=team_id, user_id=user_id)
            return [row_id(w) for w in found]

    def _refresh(self, team_id: str, user_id: str) -> bool:
        """Read the members of channels with a workshop in progress where the person was not
        seen, unless read lately; whether any was read."""
        with unit_of_work(self._engine, read_only=True) as session:
            channels = repo.channels_in_progress_without(session, team_id=team_id, user_id=user_id)
        now = self._clock.now()
        due: list[str] = []
        with self._lock:
            for channel in channels:
                last = self._refreshed.get((team_id, channel))
                if len(due) < MAX_REFRESHES and (last is None or now - last >= REFRESH_EVERY):
                    self._refreshed[(team_id, channel)] = now
                    due.append(channel)
        for channel in due:
            self._refresh_members(team_id, channel)
        return bool(due)


def _involvement(session: Session, workshop: Workshop, user_id: str) -> home.Involvement:
    added = repo.added_in_step(
        session,
        workshop_id=row_id(workshop),
        step_number=workshop.current_step,
        user_id=user_id,
    )
    return home.Involvement(
        snapshot=load_snapshot(session, workshop),
        yours=tuple(element_key(kind, number) for kind, number in added),
    )
