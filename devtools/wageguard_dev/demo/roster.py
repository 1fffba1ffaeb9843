"""A roster for the generated province: one or two inspectors per district,
with one district left off on purpose so that delivery's report of a district
with flags and nobody to send them to can be seen."""

from __future__ import annotations

import random
from pathlib import Path

from wageguard.delivery.roster import COLUMNS
from wageguard.exports.files import write_csv

from .identifiers import DISTRICTS, District
from .vocabulary import NameBook

# 白云鄂博矿区: small, yet flagged in every world, as planted cases take each
# district in turn.
LEFT_OFF = "150206"


def _city_code(district: District) -> str:
    return district.code[:4] + "00"


def write_demo_roster(path: Path, seed: int = 7) -> District:
    """Writes the roster; returns the district left off it."""
    rng = random.Random(f"{seed}:roster")
    names = NameBook(rng)
    rows = [
        [d.code, d.name, _city_code(d), d.city, names.person(),
         f"jc{d.code}-{i}@rsj.example"]
        for d in DISTRICTS if d.code != LEFT_OFF
        for i in range(1, rng.choice((1, 2)) + 1)
    ]
    write_csv(path, list(COLUMNS), rows)
    return next(d for d in DISTRICTS if d.code == LEFT_OFF)
