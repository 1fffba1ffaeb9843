"""投资项目统一代码 (GB/T 40058-2021): the only key that links a housing project to a
development-reform project."""

from __future__ import annotations

import re
import unicodedata

# ASCII digits only: `\d` would also accept other scripts' digits, which NFKC leaves alone.
_SHAPE = re.compile(r"[0-9]{4}-[0-9]{6}-[0-9]{2}-[0-9]{2}-[0-9]{6}")
_BARE = re.compile(r"[0-9]{20}")
_NON_DIGITS = re.compile(r"[^0-9]+")


def normalise_investment_code(s: str | None) -> str | None:
    """`YYYY-AAAAAA-NN-NN-NNNNNN`, or None when the value cannot be read as one."""
    if s is None:
        return None
    text = unicodedata.normalize("NFKC", s).strip()
    if _BARE.fullmatch(text):
        code = f"{text[:4]}-{text[4:10]}-{text[10:12]}-{text[12:14]}-{text[14:]}"
    else:
        code = _NON_DIGITS.sub("-", text).strip("-")
    return code if _SHAPE.fullmatch(code) else None
