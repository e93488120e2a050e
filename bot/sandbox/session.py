"""The sandbox: the real Storm, talking to the fake Slack, driven in-process by people you play.

Why this shape: the sandbox must behave as the tests prove the bot behaves, so nothing in it
is a shortcut.  Storm is built by the same `build_app`, served over loopback HTTP by a WSGI
server, and reached only through signed Slack requests (`SlackRequests`); its Web API calls
go to the same `FakeSlack` the end-to-end tests use.  What the sandbox adds is the part of
Slack a person plays: who is typing, in which channel, what they say and react, and a clock
that can jump ahead so that reminders, deadlines and digests fire without waiting.
"""

from __future__ import annotations

import json
import re
import threading
import time
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, make_url
from sqlmodel import Session

from bot.core.clock import ManualClock
from bot.core.text import escape
from bot.runtime.app import Storm, build_app
from bot.runtime.settings import Settings
from bot.sandbox.blockkit import find_field, form_fields
from bot.sandbox.fake_slack import FakeSlack, Message
from bot.sandbox.slack_requests import Response, SlackRequests, Submission, new_event_id
from storage import repository as repo
from storage.tables import SlackEvent

__all__ = [
    "DEFAULT_CHANNEL",
    "DEFAULT_PEOPLE",
    "Sandbox",
    "SandboxError",
    "manifest_shortcuts",
    "to_slack",
]

#: The sandbox's own credentials: it never talks to Slack, so these are not secrets.
SANDBOX_BOT_TOKEN = "xoxb-storm-sandbox"
SANDBOX_SIGNING_SECRET = "storm-sandbox-signing-secret"
DEFAULT_PEOPLE = ("alice", "bob", "carol", "dana")
DEFAULT_CHANNEL = "general"
#: Slack's canonical names for reactions people know by another name.
_REACTION_ALIASES = {"thumbsup": "+1", "thumbs_up": "+1"}
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
_MENTION = re.compile(r"(?<![\w@/<])@([a-z0-9][a-z0-9_-]*(?:\.[a-z0-9_-]+)*)", re.IGNORECASE)
_CHANNEL = re.compile(r"(?<![\w#/<&])#([a-z0-9][a-z0-9_-]*)", re.IGNORECASE)
_POLL = 0.005
#: The app manifest, beside the package in a checkout: where the shortcuts' names are.
MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


class SandboxError(ValueError):
    """Something a person typed that Slack itself would not allow; the message says why."""


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """The terminal shows the channel, not an access log."""


@dataclass(frozen=True)
class Reaction:
    """A reaction one person put on one message; Slack allows each at most once."""

    channel: str
    ts: str
    user: str
    name: str


def to_slack(text: str, users: Mapping[str, str], channels: Mapping[str, str]) -> str:
    """Encode typed text as Slack sends it to apps: entities escaped, known `@name` and
    `#channel` turned into `<@U…|name>` and `<#C…|name>` (unknown ones stay as typed)."""

    def user(match: re.Match[str]) -> str:
        user_id = users.get(match.group(1).lower())
        return f"<@{user_id}|{match.group(1)}>" if user_id else match.group(0)

    def channel(match: re.Match[str]) -> str:
        channel_id = channels.get(match.group(1).lower())
        return f"<#{channel_id}|{match.group(1).lower()}>" if channel_id else match.group(0)

    return _CHANNEL.sub(channel, _MENTION.sub(user, escape(text)))


def reaction_name(text: str) -> str:
    """`:zap:`, `zap` and `thumbsup` as Slack names them in events (`zap`, `+1`)."""
    name = text.strip().strip(":").lower()
    if not name or " " in name:
        raise SandboxError(f"“{text}” is not a reaction name (try zap, +1 or question)")
    return _REACTION_ALIASES.get(name, name)


def manifest_shortcuts(path: Path) -> dict[str, str]:
    """The message shortcuts the app manifest declares: name → callback id.

    A deliberately small reader of the manifest's `shortcuts:` list (PyYAML is not a
    runtime dependency): items of `- name: …`, `type: …`, `callback_id: …` lines.  Global
    shortcuts are left out: the sandbox only offers shortcuts on messages.
    """
    if not path.exists():
        return {}
    found: dict[str, str] = {}
    item: dict[str, str] = {}
    inside, indent = False, 0

    def keep() -> None:
        if item.get("type", "message") == "message" and "name" in item and "callback_id" in item:
            found[item["name"]] = item["callback_id"]

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        depth = len(line) - len(line.lstrip())
        if line.strip() == "shortcuts:":
            inside, indent, item = True, depth, {}
            continue
        if not inside:
            continue
        if depth <= indent and not line.lstrip().startswith("-"):
            break
        entry = line.strip()
        if entry.startswith("- "):
            keep()
            item = {}
            entry = entry[2:]
        key, _, value = entry.partition(":")
        item[key.strip()] = value.strip().strip("\"'")
    if inside:
        keep()
    return found


def _stable_id(prefix: str, name: str, taken: set[str]) -> str:
    """A readable Slack-looking id (`UALICE`, `CGENERAL`), the same in every session so that
    a workshop kept in the database is found again in the same channel by the same people."""
    base = prefix + (re.sub(r"[^A-Z0-9]", "", name.upper())[:12] or "X")
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}{n}"
    return candidate


def _read_local(path: Path) -> bytes:
    """A local file's bytes, for sharing it in the sandbox's Slack."""
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise SandboxError(f"there is no file {path}") from None
    except IsADirectoryError:
        raise SandboxError(f"{path} is a folder: share one file") from None
    except OSError as error:
        raise SandboxError(f"cannot read {path}: {error.strerror}") from None
    if not content:
        raise SandboxError(f"{path.name} is empty, and Slack does not share an empty file")
    return content


def _clock_file(database_url: str) -> Path | None:
    """Where the sandbox keeps its clock: beside its SQLite file (none for other databases,
    or one in memory)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(f"{url.database}.sandbox-clock")


def _kept_clock(path: Path | None) -> datetime | None:
    """The time the sandbox's clock shows now, as `Sandbox._keep_clock` kept it (time that
    passed while the sandbox was stopped has passed for it too); None when nothing is kept."""
    if path is None or not path.exists():
        return None
    try:
        ahead = float(json.loads(path.read_text())["ahead_of_real_time_seconds"])
    except (ValueError, KeyError, TypeError):
        return None  # an unreadable file: start from real time, as the first start did
    return datetime.now(UTC) + timedelta(seconds=ahead)


class Sandbox:
    """Storm and a fake Slack workspace in this process, with people and a movable clock.

    `start` brings both up; `command`, `say` and `react` act as a person would in Slack;
    `advance` and `move_clock_to` jump the clock; `settle` waits until Storm has done what
    those actions caused, so that whatever reads the fake Slack next sees all of it.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        people: tuple[str, ...] = DEFAULT_PEOPLE,
        start_at: datetime | None = None,
        manifest: Path = MANIFEST,
    ) -> None:
        self._clock_file = _clock_file(settings.database_url)
        self.clock = ManualClock(start_at or _kept_clock(self._clock_file))
        self.fake = FakeSlack(SANDBOX_BOT_TOKEN)
        self._base_settings = settings
        self._manifest = manifest
        self._people: dict[str, str] = {}  # name -> user id
        self._channels: dict[str, str] = {}  # name -> channel id
        self._reactions: set[Reaction] = set()
        self._initial_people = people
        self._calls = 0
        self._calls_lock = threading.Lock()
        # (real time of a jump, clock offset from then on): when each message was posted
        # on the sandbox clock, although the fake stamps messages with real time.
        self._jumps: list[tuple[float, timedelta]] = []
        self._storm: Storm | None = None
        self._observer: Engine
        self._server: _ThreadingServer | None = None
        self._slack: SlackRequests | None = None

    # ---- lifecycle ---------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Serve the fake Slack and Storm on loopback ports, and seat the people."""
        self.fake.start()
        self.fake.subscribe(self._count_call)
        for name in self._initial_people:
            self.person(name)
        settings = self._base_settings.model_copy(
            update={
                "slack_bot_token": SecretStr(SANDBOX_BOT_TOKEN),
                "slack_signing_secret": SecretStr(SANDBOX_SIGNING_SECRET),
                "slack_app_token": None,
                "slack_api_url": self.fake.api_url,
            }
        )
        self._storm = build_app(settings, clock=self.clock)
        # Watching the outbox must not queue for the write lock Storm's own engine takes
        # for every transaction on SQLite: a plain engine only reads.
        self._observer = create_engine(settings.database_url)
        self._storm.start()
        self._server = make_server(
            "127.0.0.1",
            0,
            self._storm.wsgi(),
            server_class=_ThreadingServer,
            handler_class=_QuietHandler,
        )
        threading.Thread(target=self._server.serve_forever, name="storm-http", daemon=True).start()
        self._slack = SlackRequests(
            f"http://127.0.0.1:{self._server.server_port}/",
            SANDBOX_SIGNING_SECRET,
            fake=self.fake,
            team_domain="storm-sandbox",
        )
        self._record_offset()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._storm is not None:
            self._storm.stop()
            self._observer.dispose()
        self.fake.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def storm(self) -> Storm:
        """The running Storm (its Bolt app, outbox, …), for tests that look inside."""
        if self._storm is None:
            raise RuntimeError("the sandbox is not started")
        return self._storm

    @property
    def slack(self) -> SlackRequests:
        if self._slack is None:
            raise RuntimeError("the sandbox is not started")
        return self._slack

    # ---- people and channels -----------------------------------------------------------

    def person(self, name: str) -> str:
        """The user id of `name`, seating a new person in every channel on first use."""
        key = name.strip().lstrip("@").lower()
        if not _NAME.match(key):
            raise SandboxError(
                f"“{name}” is not a Slack name: use letters, digits, `.`, `_` or `-`"
            )
        if key not in self._people:
            user_id = _stable_id("U", key, set(self._people.values()))
            self.fake.add_user(user_id, key, real_name=key.capitalize(), display_name=key)
            self._people[key] = user_id
            self._seat_everyone()
        return self._people[key]

    def channel(self, name: str) -> str:
        """The channel id of `#name`, creating the channel (everyone in it) on first use."""
        key = name.strip().lstrip("#").lower()
        if not _NAME.match(key):
            raise SandboxError(f"“{name}” is not a channel name: use letters, digits, `_` or `-`")
        if key not in self._channels:
            self._channels[key] = _stable_id("C", key, set(self._channels.values()))
            self._seat_everyone()
        return self._channels[key]

    @property
    def database_url(self) -> str:
        return self._base_settings.database_url

    @property
    def people(self) -> list[str]:
        return list(self._people)

    def name_of(self, user_id: str) -> str:
        """A person's name as Slack shows it; the bot is Storm."""
        if user_id == self.fake.bot_user_id:
            return "Storm"
        user = self.fake.users().get(user_id)
        return str(user["name"]) if user else user_id

    def channel_name(self, channel_id: str) -> str:
        return next((n for n, c in self._channels.items() if c == channel_id), channel_id)

    def channel_label(self, channel_id: str) -> str:
        """`#general`, or for a direct message (Storm writes to a facilitator when it cannot
        post in the channel) `direct message to alice`."""
        if channel_id in self._channels.values():
            return f"#{self.channel_name(channel_id)}"
        if channel_id in self._people.values():
            return f"direct message to {self.name_of(channel_id)}"
        return f"#{channel_id}"

    def _seat_everyone(self) -> None:
        """Everyone is in every channel, as in a small workspace; reminders name them."""
        members = [*self._people.values(), self.fake.bot_user_id]
        for channel_id in self._channels.values():
            self.fake.set_channel_members(channel_id, members)

    # ---- acting as people --------------------------------------------------------------

    def command(self, text: str, *, user: str, channel: str) -> Message:
        """`/storm <text>` typed by `user` in `channel`; returns the ephemeral answer.

        The answer rides on Storm's acknowledgement, as in Slack, so it is not in the fake's
        channel: it is returned as an ephemeral message for whoever shows it.
        """
        response = self.slack.command(
            to_slack(text, self._people, self._channels),
            user=user,
            channel=channel,
            user_name=self.name_of(user),
            channel_name=self.channel_name(channel),
        )
        answered = f"{time.time():.6f}"
        if response.status != 200:
            raise SandboxError(f"Storm answered HTTP {response.status}: {response.body[:200]}")
        body = response.json() if response.body else {}
        self.settle()
        return Message(
            ts=answered,
            channel=channel,
            user=self.fake.bot_user_id,
            text=str(body.get("text", "")),
            blocks=body.get("blocks"),
            ephemeral_to=user,
            bot_id=self.fake.bot_id,
        )

    def upload(
        self, path: Path, *, user: str, channel: str, text: str = "", thread_ts: str | None = None
    ) -> Message:
        """Share the local file `path` in the channel as `user`, as dragging it into Slack
        does (Storm is not told: Import into Storm on the message imports it)."""
        return self.fake.share_file(
            channel,
            user,
            path.name,
            _read_local(path),
            text=to_slack(text, self._people, self._channels),
            thread_ts=thread_ts,
        )

    def say(self, text: str, *, user: str, channel: str, thread_ts: str | None = None) -> Message:
        """Post a plain message as `user`, as if typed in Slack (Storm is not told)."""
        if not text.strip():
            raise SandboxError("Slack does not post an empty message")
        return self.fake.post_user_message(
            channel, user, to_slack(text, self._people, self._channels), thread_ts=thread_ts
        )

    def react(self, message: Message, reaction: str, *, user: str, added: bool = True) -> None:
        """Add or remove a reaction, and deliver the event Slack would send for it."""
        name = reaction_name(reaction)
        key = Reaction(message.channel, message.ts, user, name)
        if message.is_ephemeral:
            raise SandboxError("Slack does not allow reactions on a message only one person sees")
        if added and key in self._reactions:
            raise SandboxError(f"{self.name_of(user)} already reacted :{name}: to that message")
        if not added and key not in self._reactions:
            raise SandboxError(f"{self.name_of(user)} has not reacted :{name}: to that message")
        if added:
            self._reactions.add(key)
        else:
            self._reactions.discard(key)
        event_id = new_event_id()
        deliver = self.slack.reaction_added if added else self.slack.reaction_removed
        response = deliver(
            name, user=user, channel=message.channel, ts=message.ts, event_id=event_id
        )
        if response.status != 200:
            raise SandboxError(f"Storm answered HTTP {response.status}: {response.body[:200]}")
        self._wait_for_event(event_id)
        # The event is applied after the acknowledgement, by a worker the database cannot
        # see until it writes; a short quiet spell on the fake Slack covers that gap.
        self.settle(quiet=0.15)

    # ---- clicking and forms ------------------------------------------------------------

    def _answered(self, response: Response) -> None:
        if response.status != 200:
            raise SandboxError(f"Storm answered HTTP {response.status}: {response.body[:200]}")
        self.settle(quiet=0.15)

    def click(self, message: Message, label: str, *, user: str, which: int | None = None) -> None:
        """Click the button, or the menu or select option, labelled `label` on `message`."""
        if message.ephemeral_to not in (None, user):
            raise SandboxError("only the person it was for sees that message")
        blocks = (message.blocks or []) if message.is_ephemeral else None
        try:
            response = self.slack.click(
                message.channel, message.ts, label, user=user, which=which, blocks=blocks
            )
        except LookupError as error:
            raise SandboxError(str(error)) from None
        self._answered(response)

    def click_in_view(self, label: str, *, user: str, home: bool, which: int | None) -> None:
        """Click `label` in the person's open form, or on their App Home tab."""
        try:
            if home:
                response = self.slack.click_home(user, label, which=which)
            else:
                response = self.slack.click_in_view(user, label, which=which)
        except LookupError as error:
            raise SandboxError(str(error)) from None
        self._answered(response)

    def open_form(self, user: str) -> dict[str, Any] | None:
        """The form `user` sees (the top of their stack of modals), or None."""
        stack = self.fake.open_views(user)
        return stack[-1] if stack else None

    def submit_form(self, entries: Mapping[str, Any], *, user: str) -> Submission:
        """Fill in the open form by field label (or block id) and submit it. A file input
        takes the path of a local file, uploaded into the form as Slack's file picker does."""
        form = self.open_form(user)
        if form is None:
            raise SandboxError("no form is open: a button or menu with … opens one")
        try:
            entries = self._with_uploads(form, entries, user=user)
            submission = self.slack.submit(user, entries)
        except LookupError as error:
            raise SandboxError(str(error)) from None
        self._answered(submission.response)
        return submission

    def _with_uploads(
        self, form: dict[str, Any], entries: Mapping[str, Any], *, user: str
    ) -> dict[str, Any]:
        """`entries` with each file input's path replaced by the id of the file uploaded."""
        fields = form_fields(form)
        found: dict[str, Any] = {}
        for key, value in entries.items():
            field = find_field(fields, key)
            if field.kind == "file_input" and isinstance(value, str) and value:
                path = Path(value).expanduser()
                try:
                    value = self.fake.upload_to_form(user, path.name, _read_local(path))["id"]
                except ValueError as error:  # what Slack's file picker refuses
                    raise SandboxError(f"Slack refuses {path.name}: {error}") from None
            found[key] = value
        return found

    def cancel_form(self, *, user: str) -> None:
        """Close the open form, as its Cancel button does."""
        if self.open_form(user) is None:
            raise SandboxError("no form is open")
        response = self.slack.cancel(user)
        if response is not None:
            self._answered(response)

    def shortcut(self, message: Message, name: str, *, user: str) -> None:
        """Use the message shortcut `name` (as the manifest names it, or its callback id)."""
        if message.is_ephemeral:
            raise SandboxError("Slack offers no shortcuts on a message only you see")
        shortcuts = manifest_shortcuts(self._manifest)
        wanted = name.strip().casefold()
        callback_id = next(
            (cid for label, cid in shortcuts.items() if label.casefold() == wanted),
            name.strip() if name.strip() in shortcuts.values() else None,
        )
        if callback_id is None:
            known = ", ".join(shortcuts) or "none yet (the manifest lists none)"
            raise SandboxError(f"Storm has no message shortcut “{name}”; it has: {known}")
        response = self.slack.shortcut(message.channel, message.ts, callback_id, user=user)
        self._answered(response)

    def open_home(self, *, user: str) -> dict[str, Any] | None:
        """Open Storm's App Home tab: the event Slack sends, then the tab Storm published."""
        published = len(self.fake.calls_to("views.publish"))
        response = self.slack.open_home(user)
        if response.status != 200:
            raise SandboxError(f"Storm answered HTTP {response.status}: {response.body[:200]}")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(self.fake.calls_to("views.publish")) == published:
            time.sleep(_POLL)  # the event is handled after its acknowledgement
        self.settle(quiet=0.15)
        return self.fake.home_view(user)

    # ---- the clock ---------------------------------------------------------------------

    def advance(self, delta: timedelta) -> None:
        """Jump the clock forward and wait until what fell due has been posted."""
        before = time.time()
        self.clock.advance(delta)
        self._record_offset(before)
        self._keep_clock()
        self.settle()

    def move_clock_to(self, moment: datetime) -> None:
        if moment <= self.clock.now():
            raise SandboxError("the clock only moves forward")
        self.advance(moment - self.clock.now())

    def _keep_clock(self) -> None:
        """Write how far the clock is ahead of real time beside the database, so that the
        next start of the sandbox on it resumes from there rather than from real time
        (timeboxes and digests planned on the moved clock stay right)."""
        if self._clock_file is None:
            return
        ahead = self.clock.now() - datetime.now(UTC)
        self._clock_file.write_text(
            json.dumps({"ahead_of_real_time_seconds": ahead.total_seconds()}) + "\n"
        )

    def time_of(self, ts: str) -> datetime:
        """The sandbox-clock time of a Slack `ts` (which the fake stamps in real time)."""
        real = float(ts)
        index = bisect_right([at for at, _ in self._jumps], real) - 1
        offset = self._jumps[max(index, 0)][1] if self._jumps else timedelta(0)
        return datetime.fromtimestamp(real, UTC) + offset

    def _record_offset(self, since: float | None = None) -> None:
        moment = self.clock.now()
        offset = moment - datetime.fromtimestamp(self.clock.to_monotonic(moment), UTC)
        self._jumps.append((time.time() if since is None else since, offset))

    # ---- waiting for Storm -------------------------------------------------------------

    def settle(self, *, timeout: float = 15.0, quiet: float = 0.01) -> None:
        """Wait until Storm has sent everything that is due and the fake Slack is quiet.

        The outbox is the truth: a post is pending until a sender claims it, the sender is
        busy until it is sent, and posts caused by a post are queued before it is done.  On timeout it just
        returns: the terminal shows what arrived so far, and the rest when it comes.
        """
        deadline = time.monotonic() + timeout
        calls, quiet_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            seen = self._call_count()
            if seen != calls or self._busy():
                calls, quiet_since = seen, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                return
            time.sleep(_POLL)

    def _busy(self) -> bool:
        """Posts are due but not yet claimed, a sender is still at work, or an event
        recorded before an acknowledgement (an import, a reaction) is not yet applied."""
        assert self._storm is not None
        if not self._storm.outbox.idle():
            return True
        with Session(self._observer) as session:
            return bool(
                repo.due_posts(session, now=self.clock.now(), limit=1)
                or repo.unprocessed_slack_events(session)
            )

    def _wait_for_event(self, event_id: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with Session(self._observer) as session:
                row = session.get(SlackEvent, event_id)
                if row is not None and row.processed_at is not None:
                    return
            time.sleep(_POLL)

    def _count_call(self, _call: object) -> None:
        with self._calls_lock:
            self._calls += 1

    def _call_count(self) -> int:
        with self._calls_lock:
            return self._calls

    # ---- what the channel holds --------------------------------------------------------

    def messages(self) -> list[Message]:
        """Every message in every channel, ephemeral ones included, oldest first."""
        every = [
            m for ch in self.fake.channels() for m in self.fake.messages(ch, include_ephemeral=True)
        ]
        return sorted(every, key=lambda m: float(m.ts))

    def deleted(self) -> list[Message]:
        return self.fake.deleted()

    def save_files(self, message: Message, folder: Path) -> list[Path]:
        """Write the files Storm uploaded with a message into `folder` (a later upload of the
        same name replaces the earlier one, so the folder holds the latest export); people's
        own files stay where they came from."""
        wanted = {f["id"] for f in message.files}
        saved = []
        for uploaded in self.fake.files():
            if uploaded.id in wanted and uploaded.user == self.fake.bot_user_id:
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / Path(uploaded.filename).name
                path.write_bytes(uploaded.content)
                saved.append(path)
        return saved
