"""The model in the formats people and other tools read (SPEC §7): one module per format, and
this registry, the one place that lists them.

The grammar reads the format names from here, the outbox uploads what a format's `files` make,
and a new format is one module and one line below. The board's formats are listed here too but
drawn by `bot.pictures`, which the core cannot import: they have no `files`, and the outbox
has them painted. Every format reads relations through
`links.Links`, so aliases of merged elements resolve to their survivor and dropped elements are
absent everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.core.exports.eventmodel import to_eventmodel
from bot.core.exports.gherkin import gherkin_features
from bot.core.exports.markdown import to_markdown
from bot.core.exports.mermaid import to_mermaid
from bot.core.exports.slices import ZIP_NAME, slices_zip
from bot.core.exports.storm_model import to_json_text
from bot.core.model import Snapshot

# A file to upload: its name and its text, or its bytes (a zip).
ExportFile = tuple[str, str | bytes]


@dataclass(frozen=True)
class ExportFormat:
    name: str
    what: str  # for people choosing a format
    files: Callable[[Snapshot], Sequence[ExportFile]] | None = None  # None: drawn, not written

    @property
    def drawn(self) -> bool:
        """The board as pictures of this kind (`bot.pictures`), not text the core writes."""
        return self.files is None


def _one(
    file_name: str, write: Callable[[Snapshot], str]
) -> Callable[[Snapshot], list[ExportFile]]:
    return lambda snapshot: [(file_name, write(snapshot))]


FORMATS: dict[str, ExportFormat] = {
    export.name: export
    for export in (
        ExportFormat("md", "the whole workshop for people", _one("storm.md", to_markdown)),
        ExportFormat(
            "json", "the model for tools (storm-model/1)", _one("storm-model.json", to_json_text)
        ),
        ExportFormat("mermaid", "a flowchart diagram", _one("storm.mmd", to_mermaid)),
        ExportFormat(
            "eventmodel",
            "slices in the Event Modeling Specification's JSON",
            _one("storm-eventmodel.json", to_eventmodel),
        ),
        # Gherkin allows one feature per file: one file per aggregate.
        ExportFormat(
            "gherkin",
            "one feature file per aggregate",
            lambda s: gherkin_features(s) or [("storm.feature", "# No scenarios yet.\n")],
        ),
        ExportFormat(
            "slices",
            "one Markdown file per slice, in a zip, for builders",
            lambda s: [(ZIP_NAME, slices_zip(s))],
        ),
        ExportFormat("png", "the board as a picture"),
        ExportFormat("svg", "the board as a vector drawing"),
    )
}
# Other names people type for a format.
ALIASES = {"markdown": "md"}
