"""The public schemas the exports are checked against, read from `shared/` beside the checkout.

They are not copied into the project: `shared/schemas/` keeps them verbatim with their
licences. CI puts `shared` beside the checkout; a git worktree sits a folder deeper
(`wt/<branch>` beside `shared`), so the nearest `shared` above the repository root is the one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SHARED = next(
    (folder / "shared" for folder in ROOT.parents if (folder / "shared" / "schemas").is_dir()),
    ROOT / ".." / "shared",
)


def schema(name: str) -> dict[str, Any]:
    """A schema from `shared/schemas/`, e.g. `eventmodeling.schema.json`."""
    return json.loads((SHARED / "schemas" / name).read_text(encoding="utf-8"))


EVENT_MODEL = schema("eventmodeling.schema.json")
