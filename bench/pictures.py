"""The board's pictures (SPEC §4.5): how long laying out and painting a board takes, and how
much memory painting needs.

Each size is a generated workshop (`bench.model.plan`) of that many elements. The figure is
the whole job the background worker does for `/storm board`: the layout plus every page
painted as PNG (`bot.pictures.pictures`), timed with `bench.model.time_sizes` (sizes taking
turns, the first call untimed). Memory is measured in a fresh process, since Pillow's pixels
are not Python objects: the peak RSS is started over (`/proc/self/clear_refs`) once the workshop
is built, and its new peak (`VmHWM`) over the RSS then is what painting needed.
"""

from __future__ import annotations

import itertools
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.model import Timing, plan, snapshot, time_sizes
from bench.model import growth as model_growth


@dataclass
class PicturesResult:
    times: dict[int, Timing]  # seconds for layout + PNG of every page, by elements
    pages: dict[int, int]  # pictures the board took, by elements
    peak_extra_mb: float  # peak RSS added by painting the largest size, in a fresh process
    largest: int


def _paint_all(size: int) -> tuple[int, int]:
    from bot.pictures import pictures

    found = pictures(snapshot(plan(size, seed=11)), "png")
    return len(found), sum(len(p.content) for p in found)


def _peak_extra(size: int) -> float:
    """MiB of peak RSS that painting a board of `size` elements adds (run in a fresh process)."""
    from bot.pictures import pictures

    model = snapshot(plan(size, seed=11))
    pictures(snapshot(plan(20, seed=1)), "png")  # fonts loaded, modules imported
    # Building the model peaked higher than painting may: start the peak over from here.
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_kib("VmRSS")
    pictures(model, "png")
    return (_status_kib("VmHWM") - before) / 1024


def _status_kib(field: str) -> int:
    """A size from /proc/self/status (`VmRSS` now, `VmHWM` the peak since it was reset)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


def _measure(sizes: list[int], min_reps: int, budget: float) -> PicturesResult:
    from bot.pictures import pictures

    models = {size: snapshot(plan(size, seed=11)) for size in sizes}
    times = time_sizes(
        {size: (lambda m=m: pictures(m, "png")) for size, m in models.items()},
        min_reps=min_reps,
        budget=budget,
    )
    pages = {size: len(pictures(m, "png")) for size, m in models.items()}
    return PicturesResult(times=times, pages=pages, peak_extra_mb=0.0, largest=max(sizes))


def measure(sizes: list[int], *, min_reps: int, budget: float) -> PicturesResult:
    """Timings in one fresh process, the memory peak in another."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as fresh:
        result = fresh.submit(_measure, sizes, min_reps, budget).result()
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as fresh:
        result.peak_extra_mb = fresh.submit(_peak_extra, max(sizes)).result()
    return result


def section(result: PicturesResult) -> list[str]:
    sizes = sorted(result.times)
    out = [
        "8. The board's pictures: layout + every page as PNG (median seconds [min-max])",
        f"{'elements':>10}{'seconds':>28}{'pictures':>10}",
    ]
    for size in sizes:
        t = result.times[size]
        out.append(
            f"{size:>10}{f'{t.median:.3f} [{t.low:.3f}-{t.high:.3f}]':>28}{result.pages[size]:>10}"
        )
    for a, b in itertools.pairwise(sizes):
        growth = model_growth(result.times[a], result.times[b]) * (10 * a / b)
        out.append(f"  {a:,}→{b:,}: {growth:.1f}x per 10x")
    out.append(
        f"  peak extra memory while painting {result.largest:,} elements: "
        f"{result.peak_extra_mb:.1f} MiB (fresh process, VmHWM after a reset)"
    )
    return out
