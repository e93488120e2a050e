"""The Mermaid export (SPEC §7 `mermaid`): a flowchart that renders on GitHub."""

from __future__ import annotations

from bot.core.exports.links import Links
from bot.core.model import ElementInfo, Snapshot

# Mermaid decodes `#name;` and `#123;` inside labels; everything that could end a string,
# start HTML, or be read by its pre-processor (`:`, `;`, `#`) goes in as such an entity.
_MERMAID_ESCAPES = {
    '"': "#quot;",
    "#": "#35;",
    ";": "#59;",
    ":": "#58;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "|": "#124;",
    "`": "#96;",
}
_MERMAID_TABLE = str.maketrans(_MERMAID_ESCAPES)
_MERMAID_CLASSES = {
    "event": "fill:#ffb35c,stroke:#c75f00,color:#000",
    "command": "fill:#9ccbff,stroke:#1f6fc5,color:#000",
    "view": "fill:#a8e6a1,stroke:#2f8a2a,color:#000",
    "actor": "fill:#fff5a5,stroke:#b3a100,color:#000",
    "external": "fill:#ffc4dd,stroke:#c2457b,color:#000",
    "screen": "fill:#ffffff,stroke:#495057,color:#000",
    "aggregate": "fill:#fffbe0,stroke:#d4b800,color:#000",
}
_MERMAID_SHAPES = {
    "actor": ('(["', '"])'),
    "external": ('[["', '"]]'),
    "screen": ('[/"', '"/]'),
}


def _mermaid_label(element: ElementInfo) -> str:
    text = " ".join(element.name.splitlines())
    return f"{element.key} " + text.translate(_MERMAID_TABLE)


def _mermaid_node(element: ElementInfo) -> str:
    opening, closing = _MERMAID_SHAPES.get(element.kind, ('["', '"]'))
    return f"{element.key}{opening}{_mermaid_label(element)}{closing}"


def to_mermaid(snapshot: Snapshot) -> str:
    """A left-to-right flowchart: who and what triggers commands, the events, the views.
    Screens issue commands (solid arrows) and show views (dotted arrows into the screen); a
    policy is a dotted arrow from its trigger, an event or a view, to its command.

    Node IDs are element IDs (letters and digits only), so user text only ever appears inside
    quoted labels. Aggregates are drawn first so that their members are placed inside them.
    """
    links = Links(snapshot)
    lines = ["flowchart LR"]
    members: dict[str | None, list[ElementInfo]] = {}
    for element in snapshot.of_kind("command") + snapshot.events + snapshot.of_kind("view"):
        members.setdefault(links.aggregate_of(element), []).append(element)
    for aggregate in snapshot.of_kind("aggregate"):
        lines.append(f'  subgraph {aggregate.key}["{_mermaid_label(aggregate)}"]')
        lines += [f"    {_mermaid_node(m)}" for m in members.pop(aggregate.key, [])]
        lines.append("  end")
    loose = members.get(None, [])
    people = snapshot.of_kind("screen") + snapshot.of_kind("actor") + snapshot.of_kind("external")
    for element in people + loose:
        lines.append(f"  {_mermaid_node(element)}")

    for source in snapshot.of_kind("actor") + snapshot.of_kind("screen"):
        lines += [f"  {source.key} --> {command}" for command in links.keys(source.issues)]
    for screen in snapshot.of_kind("screen"):
        lines += [f"  {view} -.-> {screen.key}" for view in links.keys(screen.shows)]
    for source in snapshot.of_kind("external") + snapshot.of_kind("command"):
        lines += [f"  {source.key} --> {event}" for event in links.keys(source.causes)]
    for view in snapshot.of_kind("view"):
        lines += [f"  {event} --> {view.key}" for event in links.keys(view.fed_by)]
    for policy in snapshot.of_kind("policy"):
        on, label = links.key(policy.on), _mermaid_label(policy)
        if on:
            lines += [f'  {on} -.->|"{label}"| {command}' for command in links.keys(policy.issues)]

    for kind, style in _MERMAID_CLASSES.items():
        lines.append(f"  classDef {kind} {style}")
    for kind in _MERMAID_CLASSES:
        keys = [e.key for e in snapshot.of_kind(kind)]
        if keys:
            lines.append(f"  class {','.join(keys)} {kind}")
    return "\n".join(lines) + "\n"
