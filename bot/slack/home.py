"""The App Home tab (SPEC §4.4): its listeners, and its Block Kit from the core's `HomeTab`.

Opening the tab and clicking its page buttons are recorded in the inbox before the ack and
published after it (`bot.service.home`): by a Bolt lazy listener in a single process, by the
background worker when web workers only record, as reactions are (`bot.slack.events`).
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.home import HomeTab
from bot.service.home import OPENED, PAGE_EVENT
from bot.service.ports import SlackFailure
from bot.service.reactions import ReactionInbox
from bot.slack.blocks import MAX_HEADER_TEXT

SUBSCRIBED_EVENTS = (OPENED,)
NEWER = "storm_home_newer"
OLDER = "storm_home_older"
PAGE_ACTION = re.compile(f"^({NEWER}|{OLDER})$")
MAX_HOME_BLOCKS = 100  # Slack's limit for a home tab


def build_home(tab: HomeTab) -> dict[str, Any]:
    """The home view: a heading and intro, one divided card per workshop in progress, the
    finished workshops, and buttons to the newer and older pages when there are several."""
    heading = tab.heading[:MAX_HEADER_TEXT]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": heading, "emoji": True}},
        _section(tab.intro),
    ]
    for card in tab.cards:
        blocks.append({"type": "divider"})
        blocks.extend(_section(text) for text in (card.title, *card.sections))
    if tab.finished:
        blocks.extend(({"type": "divider"}, _section(tab.finished)))
    buttons = []
    if tab.page > 0:
        buttons.append(_button("← Newer workshops", NEWER, tab.page - 1))
    if tab.page < tab.pages - 1:
        buttons.append(_button("Older workshops →", OLDER, tab.page + 1))
    if buttons:
        blocks.append({"type": "actions", "block_id": "storm_home_pages", "elements": buttons})
    assert len(blocks) <= MAX_HOME_BLOCKS, "bot.core.home keeps a page under Slack's limit"
    return {"type": "home", "blocks": blocks}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(label: str, action_id: str, page: int) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "value": str(page),
    }


class HomeViews:
    """`HomePort` over slack_sdk's client: `views.publish`; Slack's errors become
    `SlackFailure`."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def publish_home(self, user_id: str, tab: HomeTab) -> None:
        try:
            self._client.views_publish(user_id=user_id, view=build_home(tab))
        except SlackApiError as error:
            raise SlackFailure(str(error.response.get("error"))) from error


def page_event(body: dict[str, Any]) -> dict[str, Any] | None:
    """A click on a page button of the home tab as an event for the inbox (None for a click
    elsewhere). The button's value only says which page: what the page shows is the clicking
    person's own workshops, read from the signed payload's user and team."""
    view = body.get("view") or {}
    actions = body.get("actions") or []
    user = body.get("user") or {}
    if view.get("type") != "home" or not actions or not user.get("id"):
        return None
    action = actions[0]
    try:
        page = max(int(action.get("value") or 0), 0)
    except ValueError:
        page = 0
    team = (body.get("team") or {}).get("id") or user.get("team_id") or ""
    stamp = action.get("action_ts") or body.get("trigger_id") or ""
    return {
        "event_id": f"home-page:{team}:{user['id']}:{stamp}",
        "team_id": team,
        "event": {"type": PAGE_EVENT, "user": user["id"], "page": page},
    }


def register(app: App, *, inbox: ReactionInbox) -> None:
    def record_opening(ack: Ack, body: dict[str, Any]) -> None:
        if (body.get("event") or {}).get("tab") == "home":  # not the Messages tab
            inbox.record(body)
        ack()

    def publish_opening(body: dict[str, Any]) -> None:
        inbox.process_delivery(body["event_id"])

    def record_click(ack: Ack, body: dict[str, Any]) -> None:
        event = page_event(body)
        if event is not None:
            inbox.record(event)
        ack()

    def publish_click(body: dict[str, Any]) -> None:
        event = page_event(body)
        if event is not None:
            inbox.process_delivery(event["event_id"])

    if inbox.applies_after_ack:
        app.event(OPENED)(ack=record_opening, lazy=[publish_opening])
        app.action(PAGE_ACTION)(ack=record_click, lazy=[publish_click])
    else:
        app.event(OPENED)(record_opening)
        app.action(PAGE_ACTION)(record_click)
