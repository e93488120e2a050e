"""How the report shows a figure measured over several rounds: its median, and its range."""

from __future__ import annotations

import statistics
from collections.abc import Iterable


def median(values: Iterable[float]) -> float:
    """The median, or NaN when nothing was measured."""
    found = list(values)
    return statistics.median(found) if found else float("nan")


def spread(values: list[float], digits: int = 0) -> str:
    """`median [min-max]` of the rounds; the value alone for one round, `-` for none."""
    if not values:
        return "-"
    fmt = f"{{:.{digits}f}}"
    middle = fmt.format(median(values))
    if len(values) == 1:
        return middle
    return f"{middle} [{fmt.format(min(values))}-{fmt.format(max(values))}]"
