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

# English irregular verbs as "base past participle" (alternatives joined by "/"): every past
# form that does not end in -ed, so that "Loan Became Overdue" and "Fine Paid" read as facts.
_IRREGULAR_VERBS = """
arise arose arisen; awake awoke awoken; bear bore borne; beat beat beaten;
become became become; begin began begun; bend bent bent; bet bet bet; bid bid bid;
bind bound bound; bite bit bitten; bleed bled bled; blow blew blown; break broke broken;
breed bred bred; bring brought brought; broadcast broadcast broadcast; build built built;
burn burnt burnt; burst burst burst; buy bought bought; cast cast cast; catch caught caught;
choose chose chosen; cling clung clung; come came come; cost cost cost; creep crept crept;
cut cut cut; deal dealt dealt; dig dug dug; do did done; draw drew drawn; dream dreamt dreamt;
drink drank drunk; drive drove driven; dwell dwelt dwelt; eat ate eaten; fall fell fallen;
feed fed fed; feel felt felt; fight fought fought; find found found; flee fled fled;
fling flung flung; fly flew flown; forbid forbade forbidden; forecast forecast forecast;
forget forgot forgotten; forgive forgave forgiven; freeze froze frozen; get got got/gotten;
give gave given; go went gone; grind ground ground; grow grew grown; hang hung hung;
have had had; hear heard heard; hide hid hidden; hit hit hit; hold held held; hurt hurt hurt;
keep kept kept; know knew known; lay laid laid; lead led led; lean leant leant;
learn learnt learnt; leave left left; lend lent lent; let let let; lie lay lain; light lit lit;
lose lost lost; make made made; mean meant meant; meet met met; pay paid paid;
prove proved proven; put put put; quit quit quit; read read read; rid rid rid;
ride rode ridden; ring rang rung; rise rose risen; run ran run; say said said; see saw seen;
seek sought sought; sell sold sold; send sent sent; set set set; shake shook shaken;
shine shone shone; shoot shot shot; show showed shown; shrink shrank shrunk; shut shut shut;
sing sang sung; sink sank sunk; sit sat sat; sleep slept slept; slide slid slid;
speak spoke spoken; spell spelt spelt; spend spent spent; spin spun spun; spill spilt spilt;
split split split; spread spread spread; stand stood stood; steal stole stolen;
stick stuck stuck; sting stung stung; strike struck struck; swear swore sworn;
sweep swept swept; swim swam swum; swing swung swung; take took taken; teach taught taught;
tear tore torn; tell told told; think thought thought; throw threw thrown; wake woke woken;
wear wore worn; weave wove woven; win won won; wind wound wound; write wrote written
"""
# Prefixed verbs inflect like their verb: "Rewritten", "Overpaid", "Withdrawn", "Reset"…
_PREFIXES = ("re", "pre", "over", "under", "mis", "out", "up", "with", "fore", "un")
# …except where the prefixed word is a noun people name things with.
_PREFIXED_NOUNS = frozenset({"outcome", "output", "outlet", "outset", "upshot", "outcast"})


def _irregular_past_forms() -> frozenset[str]:
    """Every simple past and past participle of `_IRREGULAR_VERBS`, and their prefixed forms."""
    forms: set[str] = set()
    for entry in _IRREGULAR_VERBS.split(";"):
        _base, past, participle = entry.split()
        for form in (*past.split("/"), *participle.split("/")):
            forms.add(form)
            forms.update(prefix + form for prefix in _PREFIXES)
    return frozenset(forms - _PREFIXED_NOUNS)


_IRREGULAR = _irregular_past_forms()
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
