"""The board's typeface, shipped by a dependency so every install draws the same picture.

DejaVu Sans covers Latin, Greek, Cyrillic, Hebrew, Arabic and many symbols; it comes with
matplotlib's wheel (`mpl-data/fonts/ttf`), found on disk without importing matplotlib. Pillow
lays text out with Raqm (bundled in its wheels), so right-to-left names read right to left.
What the font lacks never reaches the picture as an empty box: an emoji or another symbol
becomes its name (`:rocket:`), marks and control characters are dropped, and a letter of a
script it does not cover becomes U+FFFD.
"""

from __future__ import annotations

import importlib.util
import unicodedata
from collections.abc import Callable
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import ImageFont

FAMILY = "DejaVu Sans"
_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}
_INVISIBLE = {"Mn", "Me", "Cf", "Cc", "Cs", "Co", "Cn", "Zl", "Zp"}
_SYMBOLS = {"So", "Sk", "Sm", "Sc"}


def font_path(bold: bool = False) -> Path:
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib, which ships the board's font, is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
    return folder / _FILES[bold]


@cache
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(bold)), size, layout_engine=ImageFont.Layout.RAQM)


@cache
def _covered() -> frozenset[int]:
    with TTFont(str(font_path()), lazy=True) as face:
        return frozenset(face.getBestCmap())


def legible(text: str) -> str:
    """`text` with only characters the font draws (see the module's docstring)."""
    covered = _covered()
    if all(ord(char) in covered for char in text):
        return text
    out = []
    for char in text:
        if ord(char) in covered:
            out.append(char)
            continue
        category = unicodedata.category(char)
        if char.isspace():
            out.append(" ")
        elif category in _INVISIBLE:
            continue
        elif category in _SYMBOLS:
            name = unicodedata.name(char, "")
            out.append(f":{name.lower().replace(' ', '_')}:" if name else "\ufffd")
        else:
            out.append("\ufffd")
    return "".join(out)


def measure(size: int, bold: bool = False) -> Callable[[str], float]:
    """The width in pixels of a text as drawn at `size`: what the layout wraps with."""
    face = font(size, bold)
    return lambda text: face.getlength(legible(text))
