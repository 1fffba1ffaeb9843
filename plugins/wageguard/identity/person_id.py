"""Masking a person's ID number before it leaves wageguard."""

from __future__ import annotations

import unicodedata

_KEEP_HEAD = 6
_KEEP_TAIL = 4
# The old 15-digit ID card is the shortest real one. Anything shorter is not a number we
# can recognise, and keeping 10 of its characters would reveal nearly all of it.
_SHORTEST_MASKABLE = 15
# Every value mask_person_id gives, as a regular expression: the blacklist's
# field dictionary (exports/blacklist_schema.py) promises it to the credit agencies.
MASKED_PATTERN = (
    f"^(?:.{{{_KEEP_HEAD}}}\\*{{{_SHORTEST_MASKABLE - _KEEP_HEAD - _KEEP_TAIL},}}.{{{_KEEP_TAIL}}}"
    f"|\\*{{1,{_SHORTEST_MASKABLE - 1}}})$"
)


def mask_person_id(s: str | None) -> str | None:
    """First 6 and last 4 characters kept, the rest `*`; None for a missing or blank value.

    The source sends the number sometimes unmasked and sometimes already masked; both give
    the same result, so an entry does not look changed between exports. Upper-casing keeps
    a check character sent as `x` the same as `X`.
    """
    if s is None:
        return None
    text = unicodedata.normalize("NFKC", s).strip().upper()
    if not text:
        return None
    if len(text) < _SHORTEST_MASKABLE:
        return "*" * len(text)
    hidden = len(text) - _KEEP_HEAD - _KEEP_TAIL
    return text[:_KEEP_HEAD] + "*" * hidden + text[-_KEEP_TAIL:]
