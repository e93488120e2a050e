"""Names and time zones of people, from `users.info` and `conversations.members`, cached."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from storage import repository as repo
from storage.unit_of_work import unit_of_work

log = logging.getLogger(__name__)


class People:
    """Looks people up once and remembers them, so posts can show names instead of mentions."""

    def __init__(self, engine: Engine, client: WebClient) -> None:
        self._engine = engine
        self._client = client
        # People this process knows are stored: Storm never forgets anyone, so once stored,
        # an element's author needs no look-up for the next one.
        self._stored: set[tuple[str, str]] = set()

    def ensure_known(self, team_id: str, user_ids: Iterable[str]) -> None:
        """Fetch `users.info` for the people Storm has not seen yet."""
        wanted = {user_id for user_id in user_ids if (team_id, user_id) not in self._stored}
        if not wanted:
            return
        with unit_of_work(self._engine, read_only=True) as session:
            known = set(repo.known_users(session, team_id=team_id, user_ids=wanted))
        self._stored.update((team_id, user_id) for user_id in known)
        missing = wanted - known
        found = []
        for user_id in sorted(missing):
            try:
                user = self._client.users_info(user=user_id)["user"]
            except SlackApiError as error:
                code = error.response.get("error")
                log.warning("users.info failed for %s: %s", user_id, code)
                if code != "user_not_found":
                    continue  # a passing failure: ask again next time
                user = {"id": user_id, "name": user_id}  # remember, so we stop asking
            found.append((user_id, user))
        if not found:
            return
        with unit_of_work(self._engine) as session:
            for user_id, user in found:
                profile = user.get("profile") or {}
                repo.save_user(
                    session,
                    team_id=team_id,
                    user_id=user_id,
                    name=profile.get("display_name")
                    or user.get("real_name")
                    or profile.get("real_name")
                    or user.get("name")
                    or user_id,
                    tz=user.get("tz"),
                    is_bot=bool(user.get("is_bot")),
                )
        self._stored.update((team_id, user_id) for user_id, _ in found)

    def refresh_channel(self, team_id: str, channel_id: str) -> None:
        """Re-read who is in the channel, so reminders name the right people."""
        members: list[str] = []
        try:
            for page in self._client.conversations_members(channel=channel_id, limit=200):
                members.extend(page.get("members", []))
        except SlackApiError as error:
            log.warning(
                "conversations.members failed for %s: %s", channel_id, error.response.get("error")
            )
            return
        self.ensure_known(team_id, members)
        with unit_of_work(self._engine) as session:
            repo.replace_channel_members(
                session, team_id=team_id, channel_id=channel_id, user_ids=members
            )
