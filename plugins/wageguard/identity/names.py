"""Enterprise names as the matching key: the same company typed by different offices."""

from __future__ import annotations

import unicodedata


def normalise_name(s: str | None) -> str | None:
    """NFKC, every whitespace character removed, （）as (); no case folding.

    None for a missing or blank name.
    """
    if s is None:
        return None
    name = unicodedata.normalize("NFKC", s)
    # NFKC already folds full-width brackets; saying so here keeps the rule true even if the
    # steps change. str.replace, because a translate table is ten times slower per name.
    name = name.replace("（", "(").replace("）", ")")
    name = "".join(name.split())
    return name or None
