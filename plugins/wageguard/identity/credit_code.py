"""统一社会信用代码 (GB 32100-2015): normalising a typed code and checking its check character."""

from __future__ import annotations

import re
import unicodedata

# GB 32100 leaves out I, O, S, V and Z so they cannot be misread as 1, 0, 5, U and 2.
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: value for value, ch in enumerate(_ALPHABET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_LEGACY_NUMBER = re.compile(r"[0-9]{15}")


def normalise_credit_code(s: str | None) -> str | None:
    """NFKC, trim, upper-case; None for a missing or blank code."""
    if s is None:
        return None
    code = unicodedata.normalize("NFKC", s).strip().upper()
    return code or None


def gb32100_check_char(first17: str) -> str:
    """The 18th character that makes `first17` a code passing GB 32100."""
    if len(first17) != 17 or any(ch not in _VALUE for ch in first17):
        raise ValueError(f"not 17 characters of the GB 32100 alphabet: {first17!r}")
    total = sum(_VALUE[ch] * weight for ch, weight in zip(first17, _WEIGHTS, strict=True))
    return _ALPHABET[(31 - total % 31) % 31]


def passes_gb32100(code: str) -> bool:
    """Whether an already normalised code is 18 characters with a correct check character.

    Lower case fails: normalising is the caller's step, so the check never hides a typo
    the resolution report should show.
    """
    if len(code) != 18 or any(ch not in _VALUE for ch in code):
        return False
    return gb32100_check_char(code[:17]) == code[17]


def is_legacy_number(s: str) -> bool:
    """Whether an already normalised code is a 15-digit 注册号 from before credit codes."""
    return _LEGACY_NUMBER.fullmatch(s) is not None
