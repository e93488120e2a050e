"""Help at capture: point out names that are not in the past tense or that repeat others.

Nothing here refuses anything (SPEC §4.1): it only finds what is worth a word in the
confirmation, with the existing ID and a way to merge.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

from bot.core.model import normalise
from bot.core.references import Candidate

# Past participles that do not end in -ed; enough for the business words people storm with.
_IRREGULAR = frozenset(
    [
        "arisen",
        "awoken",
        "been",
        "borne",
        "beaten",
        "become",
        "begun",
        "bent",
        "bet",
        "bid",
        "bound",
        "bitten",
        "bled",
        "blown",
        "broken",
        "bred",
        "brought",
        "built",
        "burnt",
        "burst",
        "bought",
        "cast",
        "caught",
        "chosen",
        "come",
        "cost",
        "crept",
        "cut",
        "dealt",
        "done",
        "drawn",
        "dreamt",
        "drunk",
        "driven",
        "eaten",
        "fallen",
        "fed",
        "felt",
        "fought",
        "found",
        "fled",
        "flown",
        "forbidden",
        "forgotten",
        "forgiven",
        "frozen",
        "got",
        "gotten",
        "given",
        "gone",
        "ground",
        "grown",
        "hung",
        "had",
        "heard",
        "hidden",
        "hit",
        "held",
        "hurt",
        "kept",
        "known",
        "laid",
        "led",
        "leant",
        "learnt",
        "left",
        "lent",
        "let",
        "lain",
        "lit",
        "lost",
        "made",
        "meant",
        "met",
        "paid",
        "proven",
        "put",
        "quit",
        "read",
        "rid",
        "ridden",
        "rung",
        "risen",
        "run",
        "said",
        "seen",
        "sought",
        "sold",
        "sent",
        "set",
        "shaken",
        "shone",
        "shot",
        "shown",
        "shut",
        "sung",
        "sunk",
        "sat",
        "slept",
        "slid",
        "spoken",
        "spent",
        "spun",
        "split",
        "spread",
        "stood",
        "stolen",
        "stuck",
        "stung",
        "struck",
        "sworn",
        "swept",
        "swum",
        "taken",
        "taught",
        "torn",
        "told",
        "thought",
        "thrown",
        "understood",
        "undone",
        "upset",
        "woken",
        "worn",
        "woven",
        "won",
        "withdrawn",
        "written",
        "rebuilt",
        "resent",
        "reset",
        "resold",
        "rewritten",
        "overpaid",
        "prepaid",
        "underpaid",
    ]
)
_AUXILIARIES = re.compile(r"\b(?:was|were|has been|have been|had been|got|is|are|been)\b", re.I)
_WORD = re.compile(r"[A-Za-z]+")


def looks_past_tense(name: str) -> bool:
    """Whether some word of the name reads as a past participle (“Order Placed”, “Invoice Sent”)."""
    words = [w.lower() for w in _WORD.findall(name)]
    return any((w.endswith("ed") and len(w) > 3) or w in _IRREGULAR for w in words)


@lru_cache(maxsize=65536)
def _core(name: str) -> str:
    """The name without auxiliaries, normalised: “Order was placed” → “orderplaced”."""
    return normalise(_AUXILIARIES.sub(" ", name))


# Names are indexed by the first characters of their key: enough to tell names apart.
_INDEXED_LENGTH = 40


def name_keys(name: str) -> frozenset[str]:
    """The two keys a name is indexed under: the first and the second half of its key
    (normalised, auxiliaries left out), tagged `<` and `>`.

    One typo, one missing or extra letter, or one plural `s` changes only one half, so a name
    and its near-duplicate always share a half; `twin_keys` says which halves to look for.
    Storage indexes every element's two keys, so capture finds the few candidates for
    `similar` with one indexed query instead of comparing a new name with every element.
    """
    key = _core(name)[:_INDEXED_LENGTH]
    half = len(key) // 2
    return frozenset({"<" + key[:half], ">" + key[half:]})


def twin_keys(name: str) -> frozenset[str]:
    """The keys under which `name`'s near-duplicates are indexed (at most six).

    A name one edit away is at most one character longer or shorter, so its halves were cut
    at one of three places; the halves of this name cut at each of them.
    """
    key = _core(name)[:_INDEXED_LENGTH]
    length = len(key)
    keys: set[str] = set()
    for cut in {max(0, (length - 1) // 2), length // 2, (length + 1) // 2}:
        keys.update(("<" + key[:cut], ">" + key[cut:]))
    return frozenset(keys)


def similar(name: str, existing: list[Candidate], *, cutoff: float = 0.85) -> list[Candidate]:
    """Elements whose names are equal after normalisation or very close to `name`.

    `existing` is usually the few elements found through `twin_keys`; the comparison itself
    does not depend on that.
    """
    if not existing:  # the usual case: the name index found nothing close
        return []
    wanted = _core(name)
    matcher = difflib.SequenceMatcher(None, b=wanted)  # compares many names against one
    found = []
    for candidate in existing:
        other = _core(candidate.name)
        if other == wanted:
            found.append(candidate)
            continue
        matcher.set_seq1(other)
        # The cheap upper bounds first: most names are nowhere near.
        if (
            matcher.real_quick_ratio() >= cutoff
            and matcher.quick_ratio() >= cutoff
            and matcher.ratio() >= cutoff
        ):
            found.append(candidate)
    return found


def hints(name: str, kind: str, key: str, existing: list[Candidate]) -> list[str]:
    """Plain-language notes for a new or renamed element (unescaped; callers escape names)."""
    notes = []
    if kind == "event" and not looks_past_tense(name):
        notes.append(
            f"{key} “{name}” does not read as past tense: domain events are facts that "
            "happened, like “Order Placed”."
        )
    for twin in similar(name, [c for c in existing if c.kind == kind and c.key != key]):
        notes.append(
            f"{key} looks like {twin.key} “{twin.name}”: if they are the same, "
            f"`/storm merge {key} into {twin.key}`."
        )
    return notes
