"""The sandbox's terminal: type `/storm …` as in Slack, plus a few lines that play Slack.

Why a line-based REPL: a facilitator trying Storm, or a developer chasing a bug, should be
able to replay a workshop by pasting lines (or piping a file), and a test can drive it
through a pseudo-terminal.  After each line the console waits until Storm has finished
what the line caused, then prints what is new in the channel, so the transcript reads in
the order things happened; posts that arrive by themselves while it waits for input (a
short timebox running out in real time) are printed as they come.
"""

from __future__ import annotations

import contextlib
import re
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from bot.core.durations import DurationError, parse_duration
from bot.runtime.settings import Settings
from bot.sandbox.fake_slack import Message
from bot.sandbox.render import STYLES, Feed, Reader, emoji, has_controls, mrkdwn, render_view
from bot.sandbox.session import DEFAULT_CHANNEL, Sandbox, SandboxError, reaction_name

HELP = """\
*Type as in Slack*
`/storm …`  any Storm command, e.g. `/storm start Checkout` or `/storm help`
plain text  posts a message in the channel (or the open thread), like `:say`

*Play Slack*
`:as NAME`  be someone else (a new name joins the workspace), e.g. `:as bob`
`:in #CHANNEL`  go to a channel (created on first use), e.g. `:in #payments`
`:say TEXT`  post a message, e.g. `:say We ship on Fridays`
`:react N NAME` / `:unreact N NAME`  add or remove a reaction on message [N], e.g. `:react 12 zap`
`:thread N` / `:thread off`  post your messages in the thread of message [N], or leave it
`:upload PATH [COMMENT]`  share a file from this computer in the channel, e.g. `:upload storm-files/storm-model.json`
`:clock`  show the time; `:clock +2h`, `:clock 09:00 tomorrow`, `:clock 2026-12-01 09:00` move it (UTC)
`:help`  this card · `:quit`  leave (Ctrl-D too)

*Click, don't type*
`:click N LABEL`  click a button or a menu choice on message [N], e.g. `:click 12 Vote`, `:click 12 Rename…`; `LABEL#2` picks the second of several
`:click form LABEL` / `:click home LABEL`  click in the open form, or on the App Home tab
`:form`  show the open form: its fields, what they hold, their choices
`:form LABEL=VALUE; LABEL=VALUE`  fill in the open form by field label and submit it, e.g. `:form New name=Order shipped`; `\\n` starts a new line, commas separate several choices
`:cancel`  close the open form
`:shortcut N NAME`  use a message shortcut on message [N], e.g. `:shortcut 12 Add to Storm`
`:home`  open Storm's App Home tab
`:canvas`  show the channel's canvases as Markdown (`/storm canvas on` makes Storm's)

*Import a model* (a `/storm export json` file, or an Event Modeling JSON)
`:upload PATH`, then `:shortcut N Import into Storm` on the message it makes [N]
or `/storm import`, then `:form Model file=PATH` in the form it opens

Reactions Storm knows: `zap` turns a message into an event, `question` into a hotspot, `+1` votes."""

_CLOCK_USAGE = "use :clock +2h, :clock 09:00 tomorrow or :clock 2026-12-01 09:00"


def clock_target(text: str, now: datetime) -> datetime:
    """Where `:clock …` moves the clock: `+<duration>`, or a time and/or a day (`today`,
    `tomorrow`, `YYYY-MM-DD`); a time alone is its next occurrence, a day alone keeps the
    time of day.  Always later than `now`, in UTC."""
    text = text.strip().lower()
    if text.startswith("+"):
        try:
            return now + parse_duration(text[1:])
        except DurationError as error:
            raise SandboxError(str(error)) from None
    words = text.split()
    day: date | None = None
    at: time | None = None
    for word in words:
        if word in ("today", "tomorrow"):
            day = now.date() + timedelta(days=word == "tomorrow")
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", word):
            try:
                day = date.fromisoformat(word)
            except ValueError:
                raise SandboxError(f"“{word}” is not a date") from None
        elif match := re.fullmatch(r"(\d{1,2}):(\d{2})", word):
            hour, minute = int(match.group(1)), int(match.group(2))
            if hour > 23 or minute > 59:
                raise SandboxError(f"“{word}” is not a time of day")
            at = time(hour, minute)
        else:
            raise SandboxError(f"“{word}” is not a time: {_CLOCK_USAGE}")
    if day is None and at is None:
        raise SandboxError(_CLOCK_USAGE)
    moment = datetime.combine(day or now.date(), at or now.time(), tzinfo=UTC)
    if day is None and moment <= now:
        moment += timedelta(days=1)
    if moment <= now:
        raise SandboxError("that is in the past: the clock only moves forward")
    return moment


def _which(label: str) -> tuple[str, int | None]:
    """`Vote#2` → ("Vote", 2): the second of several things with the same label."""
    match = re.fullmatch(r"(.+?)#(\d+)", label)
    if match is None:
        return label, None
    return match.group(1).strip(), int(match.group(2))


@dataclass
class _Place:
    """Who is typing, and where."""

    user: str
    channel: str
    thread: Message | None = None


class SandboxConsole:
    """Reads lines, acts them out in the sandbox, and prints the channel as it changes.

    `compact` prints a line or two per message (the demo's story); `echo` prints each line after
    its prompt, for input that is not typed at a terminal (a pipe, or a script); `strict`
    raises what a person would only be told (a script must not go on after a mistake).
    """

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        files: Path,
        out: Console | None = None,
        user: str = "alice",
        channel: str = DEFAULT_CHANNEL,
        compact: bool = False,
        echo: bool = False,
        strict: bool = False,
    ) -> None:
        self.sandbox = sandbox
        self.files = files
        self.out = out or Console(highlight=False, markup=False, emoji=False)
        self.compact = compact
        self.echo = echo
        self.strict = strict
        self.last_answer: Message | None = None  # Storm's answer to the last /storm line
        self.saved: list[Path] = []  # files Storm uploaded, as written to `files`
        self.here = _Place(sandbox.person(user), sandbox.channel(channel))
        self.feed = Feed(Reader(sandbox.name_of, sandbox.channel_label, sandbox.time_of))
        self._print_lock = threading.RLock()
        self._waiting = threading.Event()  # set while the prompt waits for a line
        self._arrived = threading.Event()
        self._closing = threading.Event()
        self._forms_shown: dict[str, tuple[str, str]] = {}  # person -> (view id, hash) shown

    # ---- the loop ----------------------------------------------------------------------

    @property
    def prompt(self) -> str:
        name = self.sandbox.name_of(self.here.user)
        where = self.sandbox.channel_label(self.here.channel)
        if self.here.thread is not None:
            number = self.feed.number_of(self.here.thread.channel, self.here.thread.ts)
            where += f" [thread {number}]"
        return f"{name} in {where}> "

    def run(self) -> None:
        """Read and act on lines until `:quit` or the end of input."""
        self.banner()
        self.flush()
        unsubscribe = self.sandbox.fake.subscribe(lambda _call: self._arrived.set())
        watcher = threading.Thread(target=self._watch, name="sandbox-watch", daemon=True)
        watcher.start()
        try:
            while True:
                self._waiting.set()
                try:
                    line = input(self.prompt)
                except EOFError:
                    self.out.print()
                    return
                except KeyboardInterrupt:
                    self.out.print("\n(:quit or Ctrl-D to leave)", style=STYLES["note"])
                    continue
                finally:
                    self._waiting.clear()
                if self.echo:
                    self.out.print(line, style=STYLES["note"])
                if not self.handle(line):
                    return
        finally:
            self._closing.set()
            self._arrived.set()
            unsubscribe()
            watcher.join(timeout=2)

    def banner(self) -> None:
        now = self.sandbox.clock.now()
        people = ", ".join(self.sandbox.people)
        self.out.print(
            mrkdwn(
                "*Storm sandbox* · a Slack workspace on this machine: no account, no token.\n"
                f"People: {people} (`:as NAME` to be someone else) · "
                f"clock: {now:%a %d %b %Y %H:%M} UTC · files go to {self.files}/ · "
                f"database: {self.sandbox.database_url}\n"
                "Type `/storm help` for Storm's commands and `:help` for the sandbox's.",
                self.feed.reader,
            )
        )

    def handle(self, line: str) -> bool:
        """Act on one line; False when it asks to leave."""
        text = line.strip()
        try:
            if text in (":quit", ":exit", ":q"):
                return False
            if text.startswith("/"):
                self._slash(text)
            elif text.startswith(":"):
                self._sandbox_line(text)
            elif text:
                self._say(text)
        except SandboxError as error:
            if self.strict:
                raise
            self.note(str(error), error=True)
        self.flush()
        return True

    def act(self, person: str, line: str) -> None:
        """`line` typed by `person` (the demo's way to play several people)."""
        self.here.user = self.sandbox.person(person)
        self.handle(line)

    # ---- lines -------------------------------------------------------------------------

    def _slash(self, text: str) -> None:
        command, _, rest = text.partition(" ")
        if command != "/storm":
            raise SandboxError(f"{command} is not a command here: this workspace has /storm")
        self.last_answer = self.sandbox.command(
            rest.strip(), user=self.here.user, channel=self.here.channel
        )
        if self.last_answer.text or self.last_answer.blocks:  # a form opened says nothing
            self.show_answer(self.last_answer)

    def _sandbox_line(self, text: str) -> None:
        word, _, rest = text.partition(" ")
        rest = rest.strip()
        if word == ":help":
            self.out.print(mrkdwn(HELP, self.feed.reader))
        elif word == ":as":
            self._as(rest)
        elif word == ":in":
            self._in(rest)
        elif word == ":say":
            self._say(rest)
        elif word in (":react", ":unreact"):
            self._react(rest, added=word == ":react")
        elif word == ":thread":
            self._thread(rest)
        elif word == ":clock":
            self._clock(rest)
        elif word == ":click":
            self._click(rest)
        elif word == ":form":
            self._form(rest)
        elif word == ":cancel":
            self.sandbox.cancel_form(user=self.here.user)
            self.note("Form closed.")
        elif word == ":shortcut":
            self._shortcut(rest)
        elif word == ":upload":
            self._upload(rest)
        elif word == ":home":
            self._home()
        elif word == ":canvas":
            self._canvas()
        else:
            raise SandboxError(f"{word} is not a sandbox line: :help lists them")

    def _as(self, name: str) -> None:
        if not name:
            raise SandboxError(f"who? People here: {', '.join(self.sandbox.people)}")
        known = name.lstrip("@").lower() in self.sandbox.people
        self.here.user = self.sandbox.person(name)
        joined = "" if known else " (new here: joined the workspace and its channels)"
        self.note(f"You are {self.sandbox.name_of(self.here.user)}{joined}.")

    def _in(self, name: str) -> None:
        if not name:
            raise SandboxError("which channel? e.g. :in #payments")
        self.here.channel = self.sandbox.channel(name)
        self.here.thread = None
        self.note(f"You are in {self.sandbox.channel_label(self.here.channel)}.")

    def _say(self, text: str) -> None:
        thread = self.here.thread
        self.sandbox.say(
            text,
            user=self.here.user,
            channel=self.here.channel,
            thread_ts=thread.ts if thread is not None else None,
        )

    def _numbered(self, text: str) -> Message:
        number = text.strip().strip("[]")
        message = self.feed.message(int(number)) if number.isdigit() else None
        if message is None:
            raise SandboxError(f"there is no message [{number}]: use the number shown before it")
        return message

    def _react(self, rest: str, *, added: bool) -> None:
        parts = rest.split()
        if len(parts) != 2:
            raise SandboxError("use :react N NAME, e.g. :react 12 zap")
        message = self._numbered(parts[0])
        name = reaction_name(parts[1])
        self.sandbox.react(message, name, user=self.here.user, added=added)
        number = self.feed.number_of(message.channel, message.ts)
        who = self.sandbox.name_of(self.here.user)
        shown = emoji(name) or f":{name}:"
        done = f"reacted {shown} to" if added else f"removed {shown} from"
        self.note(f"{who} {done} [{number}]")

    def _thread(self, rest: str) -> None:
        if rest in ("off", "close", ""):
            self.here.thread = None
            self.note("Back in the channel.")
            return
        message = self._numbered(rest)
        self.here.channel, self.here.thread = message.channel, message
        self.note(
            f"Your messages now go to the thread of [{rest.strip('[]')}]; :thread off leaves."
        )

    def _click(self, rest: str) -> None:
        where, _, label = rest.partition(" ")
        label, which = _which(label.strip())
        if not where or not label:
            raise SandboxError("use :click N LABEL, e.g. :click 12 Vote")
        who = self.sandbox.name_of(self.here.user)
        if where in ("form", "home"):
            self.sandbox.click_in_view(
                label, user=self.here.user, home=where == "home", which=which
            )
            self.note(
                f"{who} clicked “{label}” in the {'App Home tab' if where == 'home' else 'form'}"
            )
            if where == "home":
                self._show_home()
            return
        message = self._numbered(where)
        self.sandbox.click(message, label, user=self.here.user, which=which)
        self.note(f"{who} clicked “{label}” on [{where.strip('[]')}]")

    def _form(self, rest: str) -> None:
        form = self.sandbox.open_form(self.here.user)
        if form is None:
            raise SandboxError("no form is open: a button or menu choice with … opens one")
        if not rest:
            self._print_form(form)
            return
        entries: dict[str, str] = {}
        for part in rest.split(";"):
            if not part.strip():
                continue
            label, equals, value = part.partition("=")
            if not equals or not label.strip():
                raise SandboxError(f"“{part.strip()}” is not LABEL=VALUE (:form shows the labels)")
            entries[label.strip()] = value.strip().replace("\\n", "\n")
        submission = self.sandbox.submit_form(entries, user=self.here.user)
        if submission.outcome == "errors":
            self.note("Storm sent the form back: fix what it says and :form again.", error=True)
            shown = self.sandbox.fake.view(submission.view_id) or form
            self._print_form(shown, errors=submission.errors)
        elif submission.outcome in ("closed", "cleared"):
            self.note("Form sent.")
        elif submission.outcome in ("invalid", "failed"):
            self.note(
                f"Slack could not use Storm's answer to the form ({submission.outcome})", error=True
            )

    def _shortcut(self, rest: str) -> None:
        where, _, name = rest.partition(" ")
        if not where or not name.strip():
            raise SandboxError("use :shortcut N NAME, e.g. :shortcut 12 Add to Storm")
        message = self._numbered(where)
        self.sandbox.shortcut(message, name, user=self.here.user)
        self.note(
            f"{self.sandbox.name_of(self.here.user)} used “{name.strip()}” on [{where.strip('[]')}]"
        )

    def _upload(self, rest: str) -> None:
        """Share a local file in the channel (or the open thread), as a person drags one into
        Slack, and say how to import it."""
        where, _, comment = rest.partition(" ")
        if not where:
            raise SandboxError("use :upload PATH [COMMENT], e.g. :upload storm-files/model.json")
        thread = self.here.thread
        shared = self.sandbox.upload(
            Path(where).expanduser(),
            user=self.here.user,
            channel=self.here.channel,
            text=comment.strip(),
            thread_ts=thread.ts if thread is not None else None,
        )
        self.flush()
        number = self.feed.number_of(shared.channel, shared.ts)
        self.note(
            f"{self.sandbox.name_of(self.here.user)} shared {shared.files[0]['name']} as "
            f"[{number}]; :shortcut {number} Import into Storm imports it."
        )

    def _home(self) -> None:
        self.sandbox.open_home(user=self.here.user)
        self._show_home()

    def _canvas(self) -> None:
        """The Markdown of the channel's canvases, as Slack keeps them (Storm's follows the
        model within about ten seconds of a change)."""
        found = self.sandbox.fake.canvases.in_channel(self.here.channel)
        if not found:
            self.note("This channel has no canvas yet: `/storm canvas on` makes one.")
            return
        with self._print_lock:
            for canvas in found:
                self.note(f"Canvas {canvas.id} ({canvas.edits} edits):")
                self.out.print(Text(canvas.markdown))

    def _show_home(self) -> None:
        home = self.sandbox.fake.home_view(self.here.user)
        if home is None:
            self.note("Storm has published no App Home tab for you.")
            return
        with self._print_lock:
            self.out.print(render_view(home, self.feed.reader))

    def _print_form(self, form: dict[str, Any], *, errors: dict[str, str] | None = None) -> None:
        with self._print_lock:
            self._forms_shown[self.here.user] = (str(form["id"]), str(form["hash"]))
            self.out.print(render_view(form, self.feed.reader, errors=errors))
            if errors is None:
                self.note("Fill it in with :form LABEL=VALUE; … · :cancel closes it")

    def _show_form_if_changed(self) -> None:
        """Print the person's form when one opened, or Storm changed or replaced it."""
        form = self.sandbox.open_form(self.here.user)
        shown = (str(form["id"]), str(form["hash"])) if form is not None else None
        if shown == self._forms_shown.get(self.here.user):
            return
        if form is None:
            self._forms_shown.pop(self.here.user, None)
            return
        self._print_form(form)

    def _clock(self, rest: str) -> None:
        if rest:
            self.sandbox.move_clock_to(clock_target(rest, self.sandbox.clock.now()))
        self.note(f"It is {self.sandbox.clock.now():%a %d %b %Y %H:%M} UTC.")

    # ---- printing ----------------------------------------------------------------------

    def note(self, text: str, *, error: bool = False) -> None:
        """A line from the sandbox itself (not from Slack)."""
        with self._print_lock:
            style = STYLES["error"] if error else STYLES["note"]
            self.out.print(Text(("✗ " if error else "· ") + text, style))

    def show_answer(self, answer: Message) -> None:
        """Storm's answer to a command, which only the person who typed it sees (numbered
        when it has buttons, so that `:click` reaches them)."""
        with self._print_lock:
            if has_controls(answer):
                self.feed.take_new([answer])
            self._print(answer, [])

    def flush(self) -> None:
        """Print what is new in the fake Slack (deleted messages are pointed out, edited ones
        shown again as they are now)."""
        with self._print_lock:
            for number in self.feed.take_deleted(self.sandbox.deleted()):
                self.note(f"[{number}] was deleted.")
            messages = self.sandbox.messages()
            for message in self.feed.take_new(messages):
                saved = self.sandbox.save_files(message, self.files) if message.files else []
                self.saved.extend(saved)
                self._print(message, saved)
            for message in self.feed.take_updated(messages):
                self._print(message, [], updated=True)
            self._show_form_if_changed()

    def _print(self, message: Message, files: Iterable[Path], *, updated: bool = False) -> None:
        day = self.feed.day_break(message)
        if day is not None and not self.compact:
            self.out.print(day)
        viewer = self.sandbox.name_of(self.here.user)
        self.out.print(
            self.feed.render(
                message,
                viewer=viewer,
                here=self.here.channel,
                files=files,
                compact=self.compact,
                updated=updated,
            )
        )

    def _watch(self) -> None:
        """Print posts that arrive while the prompt waits (a timebox running out in real
        time), then show the prompt again with what was typed so far."""
        while not self._closing.is_set():
            self._arrived.wait()
            self._arrived.clear()
            if self._closing.is_set() or not self._waiting.is_set():
                continue
            self.sandbox.settle(timeout=5)
            with self._print_lock:
                if not self._waiting.is_set():
                    continue  # a line came in meanwhile: it prints for itself
                if not any(self.feed.changed(m) for m in self.sandbox.messages()):
                    continue
                self.out.print()
                self.flush()
                readline = sys.modules.get("readline")
                typed = readline.get_line_buffer() if readline is not None else ""
                self.out.file.write(self.prompt + typed)
                self.out.file.flush()


def run_sandbox(settings: Settings, *, files: Path) -> None:
    """`stormbot sandbox`: the console on the terminal (line editing when it is one)."""
    interactive = sys.stdin.isatty()
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (importing it gives input() editing and history)
    with Sandbox(settings) as sandbox, contextlib.suppress(KeyboardInterrupt):
        SandboxConsole(sandbox, files=files, echo=not interactive).run()
