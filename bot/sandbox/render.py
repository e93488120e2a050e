"""The channel as people would read it, in a terminal: Slack messages to `rich` text.

Why its own module: what the sandbox prints is a reading of the fake Slack's state (Block
Kit blocks and mrkdwn, exactly what Storm sent), so the translation is kept pure — messages
in, renderables out — and the console only decides when to print.  `rich` does the colour
and drops it where the terminal has none (`NO_COLOR`, `TERM=dumb`, a pipe).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.emoji import Emoji, NoEmoji
from rich.style import Style
from rich.text import Text

from bot.sandbox.blockkit import entered, form_fields, options_of, state_entry, text_of
from bot.sandbox.fake_slack import Message

__all__ = ["Feed", "Reader", "controls_line", "emoji", "has_controls", "mrkdwn", "render_view"]

_INLINE = re.compile(
    r"`(?P<code>[^`\n]+)`"
    r"|<(?P<token>[^<>\n]+)>"
    r"|(?<![\w*])\*(?P<bold>[^*\n]+?)\*(?![\w*])"
    r"|(?<![\w_])_(?P<italic>[^_\n]+?)_(?![\w_])"
    r"|(?<![\w~])~(?P<strike>[^~\n]+?)~(?![\w~])"
    r"|:(?P<emoji>[a-z0-9_+'-]+(?:::skin-tone-\d)?):"
)
_EMOJI = re.compile(r":([a-z0-9_+'-]+(?:::skin-tone-\d)?):")
_BULLET = re.compile(r"^(\s*)[-*•] ")
_QUOTE = re.compile(r"^(?:&gt;|>) ?")
_INDENT = 4
STYLES = {
    "number": Style(color="yellow", bold=True),
    "author": Style(bold=True),
    "bot": Style(color="magenta", bold=True),
    "time": Style(dim=True),
    "only": Style(italic=True, dim=True),
    "header": Style(bold=True, underline=True),
    "context": Style(dim=True),
    "code": Style(color="cyan"),
    "mention": Style(color="blue", bold=True),
    "quote": Style(dim=True),
    "note": Style(dim=True, italic=True),
    "day": Style(color="green", dim=True),
    "error": Style(color="red"),
    "control": Style(color="cyan"),
}


def emoji(name: str) -> str | None:
    """The character for a Slack shortcode, or None; Slack's `large_*` squares and circles are
    rich's plain ones, and skin tones are dropped."""
    base = name.split("::", 1)[0]
    for candidate in (base, base.removeprefix("large_")):
        try:
            return str(Emoji(candidate))
        except NoEmoji:
            continue
    return None


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass(frozen=True)
class Reader:
    """What rendering needs to know about the workspace: names of people and channels, and
    the sandbox clock's time of a message."""

    name_of: Callable[[str], str]
    channel_label: Callable[[str], str]
    time_of: Callable[[str], datetime]


def _token(inner: str, reader: Reader) -> tuple[str, Style]:
    """A Slack `<…>` token as a reader sees it: a mention, a channel, a date, a link."""
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return "@" + (label or reader.name_of(target[1:])), STYLES["mention"]
    if target.startswith("#"):
        return ("#" + label if label else reader.channel_label(target[1:])), STYLES["mention"]
    if target.startswith("!date^"):
        return _unescape(label or target), Style()
    if target.startswith("!"):
        return "@" + (label or target[1:].split("^", 1)[0]), STYLES["mention"]
    url = _unescape(target)
    return _unescape(label) or url, Style(underline=True, link=url)


def _inline(out: Text, text: str, style: Style, reader: Reader) -> None:
    position = 0
    for match in _INLINE.finditer(text):
        out.append(_unescape(text[position : match.start()]), style)
        position = match.end()
        kind = match.lastgroup
        value = match.group(kind or 0)
        if kind == "code":
            out.append(_unescape(value), style + STYLES["code"])
        elif kind == "token":
            shown, extra = _token(value, reader)
            out.append(shown, style + extra)
        elif kind == "emoji":
            out.append(emoji(value) or match.group(0), style)
        else:
            extra = Style(bold=kind == "bold", italic=kind == "italic", strike=kind == "strike")
            _inline(out, value, style + extra, reader)
    out.append(_unescape(text[position:]), style)


def mrkdwn(text: str, reader: Reader, style: Style | None = None) -> Text:
    """Slack mrkdwn as terminal text: bold, italic, strike, code (inline and fenced), quotes,
    bullets, links, mentions, emoji and `<!date…|fallback>`; entities unescaped."""
    base = style or Style()
    out = Text()
    for n, part in enumerate(text.split("```")):
        if n % 2:  # inside a fenced code block: literal, as Slack shows it
            out.append(_unescape(part.strip("\n")), base + STYLES["code"])
            continue
        for i, line in enumerate(part.split("\n")):
            if i:
                out.append("\n")
            quote = _QUOTE.match(line)
            if quote:
                out.append("▎ ", STYLES["quote"])
                line = line[quote.end() :]
            line = _BULLET.sub(r"\1• ", line)
            _inline(out, line, base + (STYLES["quote"] if quote else Style()), reader)
    return out


def _plain(text: str, style: Style | None = None) -> Text:
    """Slack `plain_text`: shown as written, but with emoji shortcodes as emoji."""
    return Text(_EMOJI.sub(lambda m: emoji(m.group(1)) or m.group(0), text), style or Style())


def _text_object(obj: Any, reader: Reader, style: Style | None = None) -> Text:
    if not isinstance(obj, dict):
        return Text()
    text = str(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        return mrkdwn(text, reader, style)
    return _plain(text, style)


def _body(message: Message, reader: Reader) -> list[Text]:
    """A message's blocks (or, without blocks, its text) as paragraphs of terminal text."""
    parts: list[Text] = []
    for block in message.blocks or []:
        kind = block.get("type")
        if kind == "header":
            parts.append(_text_object(block.get("text"), reader, STYLES["header"]))
        elif kind == "section":
            if block.get("text"):
                parts.append(_text_object(block["text"], reader))
            for item in block.get("fields") or []:
                parts.append(_text_object(item, reader))
            accessory = controls_line(block)
            if accessory is not None:
                parts.append(accessory)
        elif kind == "actions":
            controls = controls_line(block)
            if controls is not None:
                parts.append(controls)
        elif kind == "context":
            line = Text(" ").join(
                _text_object(element, reader, STYLES["context"])
                if element.get("type") != "image"
                else Text(str(element.get("alt_text", "")), STYLES["context"])
                for element in block.get("elements", [])
            )
            parts.append(line)
        elif kind == "divider":
            parts.append(Text("───", STYLES["context"]))
        elif kind == "markdown":
            parts.append(mrkdwn(str(block.get("text", "")), reader))
    if not parts and message.text:
        parts.append(mrkdwn(message.text, reader))
    return parts


def _control(element: dict[str, Any]) -> str:
    """One interactive element, compactly: `[Vote 2]`, `[⋯ Rename… | Drop]`, `[▾ Pick…]`."""
    kind = element.get("type")
    if kind == "button":
        return f"[{text_of(element.get('text'))}]"
    options = [text_of(o.get("text")) for o in options_of(element)]
    if kind == "overflow":
        return f"[⋯ {' | '.join(options)}]"
    if kind in ("radio_buttons", "checkboxes"):
        return " ".join(f"[○ {label}]" for label in options)
    shown = text_of(element.get("placeholder")) or str(kind).replace("_", " ")
    return f"[▾ {shown}{': ' + ' | '.join(options) if options else ''}]"


def controls_line(block: dict[str, Any]) -> Text | None:
    """What a person can click in a block (an actions block, or a section's accessory)."""
    if block.get("type") == "actions":
        elements = [e for e in block.get("elements") or [] if isinstance(e, dict)]
    elif block.get("type") == "section" and isinstance(block.get("accessory"), dict):
        elements = [block["accessory"]] if block["accessory"].get("type") != "image" else []
    else:
        return None
    shown = [_control(e) for e in elements]
    return Text(" ".join(shown), STYLES["control"]) if shown else None


def has_controls(message: Message) -> bool:
    """True when a message offers something to click (`:click` can reach it)."""
    return any(controls_line(block) is not None for block in message.blocks or [])


def render_view(
    view: dict[str, Any],
    reader: Reader,
    *,
    errors: dict[str, str] | None = None,
) -> RenderableType:
    """A modal or the App Home tab as a person sees it: title, text, each field with what it
    holds now (its options, whether optional), the buttons, and any errors under a field."""
    errors = errors or {}
    home = view.get("type") == "home"
    title = "App Home" if home else text_of(view.get("title"))
    lines: list[Text] = [Text(f"┌ {title}", STYLES["header"])]
    values = (view.get("state") or {}).get("values") or {}
    for block in view.get("blocks") or []:
        if block.get("type") == "input":
            lines.extend(_field_lines(block, values, errors))
            continue
        lines.extend(_body(Message(ts="0", channel="", user="", blocks=[block]), reader))
    if not home:
        buttons = [text_of(view.get("submit")), text_of(view.get("close")) or "Cancel"]
        lines.append(Text(" ".join(f"[{b}]" for b in buttons if b), STYLES["control"]))
    return Group(Indented(lines[:1], 0), Indented(lines[1:], 2), Text("└", STYLES["header"]))


def _field_lines(
    block: dict[str, Any], values: dict[str, Any], errors: dict[str, str]
) -> list[Text]:
    """An input block: `Label = what it holds` (optional, hint, options, error beneath)."""
    [field] = form_fields({"blocks": [block]})
    entry = values.get(field.block_id, {}).get(field.action_id) or state_entry(field.element)
    # A value of several lines continues under its first, not at the margin.
    value = (entered(entry) or "—").replace("\n", "\n" + " " * (len(field.label) + 3))
    line = Text.assemble((field.label, STYLES["author"]), " = ", value)
    extras = []
    if field.optional:
        extras.append("optional")
    options = [text_of(o.get("text")) for o in options_of(field.element)]
    if options:
        extras.append(("several of: " if field.multiple else "one of: ") + ", ".join(options))
    elif field.kind in ("external_select", "multi_external_select"):
        extras.append("type to search")
    elif field.element.get("multiline"):
        extras.append("several lines: write \\n between them")
    elif field.kind == "file_input":
        extras.append("a file from this computer: give its path")
    if extras:
        line.append(f"   ({'; '.join(extras)})", STYLES["note"])
    out = [line]
    if field.hint:
        out.append(Text(f"  {field.hint}", STYLES["context"]))
    if field.block_id in errors:
        out.append(Text(f"  ✗ {errors[field.block_id]}", STYLES["error"]))
    return out


@dataclass
class Feed:
    """Prints each message once, numbered in the order it is first shown.

    The numbers are what people type to react (`:react 12 zap`) or reply (`:thread 12`), so
    a message keeps its number.  Ephemeral messages cannot be reacted to and get none, unless
    they carry buttons (`:click 14 Next step`).
    """

    reader: Reader
    _numbers: dict[tuple[str, str], int] = field(default_factory=dict)
    _messages: dict[int, Message] = field(default_factory=dict)
    _seen: set[tuple[str, str]] = field(default_factory=set)
    _gone: set[tuple[str, str]] = field(default_factory=set)
    _edits: dict[tuple[str, str], str | None] = field(default_factory=dict)  # as last shown
    _day: str | None = None

    def message(self, number: int) -> Message | None:
        """The message shown with `number`, as it was when shown."""
        return self._messages.get(number)

    def latest(self, wanted: Callable[[Message], bool]) -> int | None:
        """The number of the most recent shown message that is `wanted`."""
        return max((n for n, m in self._messages.items() if wanted(m)), default=None)

    def number_of(self, channel: str, ts: str) -> int | None:
        return self._numbers.get((channel, ts))

    def seen(self, message: Message) -> bool:
        return (message.channel, message.ts) in self._seen

    def changed(self, message: Message) -> bool:
        """Not shown yet, or edited since it was last shown."""
        key = (message.channel, message.ts)
        return key not in self._seen or self._edits.get(key) != message.edited_ts

    def take_new(self, messages: Iterable[Message]) -> list[Message]:
        """The messages not shown yet, oldest first; numbers them and marks them shown."""
        fresh = []
        for message in messages:
            key = (message.channel, message.ts)
            if key in self._seen:
                continue
            self._seen.add(key)
            self._edits[key] = message.edited_ts
            if not message.is_ephemeral or has_controls(message):
                number = len(self._numbers) + 1
                self._numbers[key] = number
                self._messages[number] = message
            fresh.append(message)
        return fresh

    def take_updated(self, messages: Iterable[Message]) -> list[Message]:
        """Shown messages edited (`chat.update`) since they were last shown, oldest first;
        the number then stands for the new version."""
        edited = []
        for message in messages:
            key = (message.channel, message.ts)
            if key not in self._seen or self._edits.get(key) == message.edited_ts:
                continue
            self._edits[key] = message.edited_ts
            number = self._numbers.get(key)
            if number is not None:
                self._messages[number] = message
            edited.append(message)
        return edited

    def take_deleted(self, deleted: Iterable[Message]) -> list[int]:
        """Numbers of shown messages deleted since the last call."""
        gone = []
        for message in deleted:
            key = (message.channel, message.ts)
            if key in self._numbers and key not in self._gone:
                self._gone.add(key)
                gone.append(self._numbers[key])
        return gone

    def day_break(self, message: Message) -> Text | None:
        """A line naming the day when the clock has moved to a new one, as Slack shows."""
        moment = self.reader.time_of(message.ts)
        day = f"{moment:%A} {moment.day} {moment:%B %Y}"
        if day == self._day:
            return None
        self._day = day
        return Text(f"──── {day} ────", STYLES["day"])

    def render(
        self,
        message: Message,
        *,
        viewer: str | None = None,
        here: str | None = None,
        files: Iterable[Path] = (),
        compact: bool = False,
        updated: bool = False,
    ) -> RenderableType:
        """One message: its number, author, time (and channel when not `here`), then its
        text indented; a reply is indented under its thread, an ephemeral says who sees it.
        `compact` keeps the first line, and for a post with a heading the line after it.
        `updated`: it was shown before and has been edited since (`[12 updated]`)."""
        reader = self.reader
        head = Text()
        number = self.number_of(message.channel, message.ts)
        if number is not None:
            head.append(f"[{number}{' updated' if updated else ''}] ", STYLES["number"])
        author = reader.name_of(message.user)
        head.append(author, STYLES["bot"] if message.is_bot else STYLES["author"])
        head.append("  " + reader.time_of(message.ts).strftime("%H:%M"), STYLES["time"])
        if here is not None and message.channel != here:
            head.append(f"  {reader.channel_label(message.channel)}", STYLES["time"])
        if message.is_reply:
            parent = self.number_of(message.channel, message.thread_ts or "")
            head.append(
                f"  in thread [{parent}]" if parent else "  in an earlier thread", STYLES["time"]
            )
        if message.ephemeral_to is not None:
            who = reader.name_of(message.ephemeral_to)
            head.append(f"  (only {'you, ' if who == viewer else ''}{who})", STYLES["only"])
        paragraphs = _body(message, reader)
        attachments = [_file_line(path) for path in files] or [
            Text(f"📎 {f.get('name', 'file')}", STYLES["note"]) for f in message.files
        ]
        outer = _INDENT if message.is_reply else 0
        if compact:
            first = Indented([Text.assemble(head, "  ", _first_line(paragraphs[:1]))], outer)
            after = _first_line(paragraphs[1:2]) if _is_headed(message) else Text()
            return Group(first, Indented([after] if after else [], outer + _INDENT), *attachments)
        return Group(
            Indented([head], outer), Indented([*paragraphs, *attachments], outer + _INDENT)
        )


@dataclass(frozen=True)
class Indented:
    """Paragraphs wrapped to the terminal and indented, without the trailing padding that
    `rich.padding.Padding` adds (which would end every copied line in spaces)."""

    paragraphs: list[Text]
    indent: int

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(options.max_width - self.indent, 20)
        for paragraph in self.paragraphs:
            for line in paragraph.wrap(console, width):
                line.rstrip()
                yield Text(" " * self.indent) + line


def _first_line(paragraphs: list[Text]) -> Text:
    return paragraphs[0].split("\n")[0] if paragraphs else Text()


def _is_headed(message: Message) -> bool:
    return any(block.get("type") == "header" for block in message.blocks or [])


def _file_line(path: Path) -> Text:
    return Text.assemble(
        ("📎 ", ""), (path.name, STYLES["author"]), (f"  → {path}", STYLES["note"])
    )
