"""The column-wise readings of values already spelt as the contracts promise
give exactly what reading each value gives, and record nothing, for every
kind that has one, over values typed right and wrong."""

from __future__ import annotations

import random

import pytest
from wageguard.validate.normalise import (
    CODE,
    DATE,
    MONEY,
    MONEY_WAN,
    MONTH,
    TEXT,
    TIMESTAMP,
    Kind,
)

_ALPHABET = "0123456789-.:T+ ,/年月日abcXYZ０１２　\u3000 甲乙某 \t\n\x85ﬁ①"


def _samples(rng: random.Random) -> list[str]:
    typed_right = [
        "2026-11-20", "2026-13-45", "0000-01-01", "2024-02-29", "2023-02-29",
        "2026-11-20T10:00:00+08:00", "2026-11-20T10:00:00.123456+08:00",
        "2026-11-20T10:00:00.000000+08:00", "2026-11-20T24:00:00+08:00",
        "2026-11-20T02:00:00Z", "12.50", "0.00", "0012.50", "12.5", "1,234.56", "-5.00",
        "12.345678", "0.000001", "0.0000001", "007", "2026-10", "2026-13", "202610",
        "91150203MA0N00000X", "91150203ma0n00000x", " 某某小区 ", "某某小区", "ＡＢＣ", "",
        "a\u3000b", "\u3000", "x" * 30, "1" * 25 + ".5", "1" * 20 + ".123456", "0", "00",
        "AB CD", "A_B`{~}", "é", "e\u0301",
    ]
    noise = ["".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(1, 14)))
             for _ in range(3000)]
    spelt = []
    for _ in range(300):
        y, m, d = rng.randrange(1990, 2031), rng.randrange(0, 14), rng.randrange(0, 33)
        micro = rng.choice(["", ".000000", f".{rng.randrange(10**6):06d}"])
        spelt += [f"{y}-{m:02d}-{d:02d}", f"{y}-{m:02d}",
                  (f"{y}-{m:02d}-{d:02d}T{rng.randrange(25):02d}:{rng.randrange(61):02d}:"
                  f"{rng.randrange(61):02d}{micro}+08:00"),
                  f"{rng.randrange(10**rng.randrange(1, 12))}.{rng.randrange(100):02d}",
                  f"{rng.randrange(10**6)}.{rng.randrange(10**6):0{rng.randrange(1, 8)}d}",
                  str(rng.randrange(10**rng.randrange(1, 21)))]
    return typed_right + spelt + noise


@pytest.mark.parametrize("kind", [TEXT, CODE, DATE, TIMESTAMP, MONEY, MONTH],
                         ids=lambda k: k.name)
def test_what_a_column_takes_as_read_reads_as_itself_with_nothing_to_record(kind: Kind):
    texts = _samples(random.Random(kind.name))
    as_read = list(kind.as_read(texts))
    assert len(as_read) >= 5
    for text in as_read:
        assert kind.read("c", text) == (text, None), text
        assert not kind.promised(text), text


def test_a_quick_reading_is_the_long_reading_with_nothing_to_record():
    texts = _samples(random.Random(MONEY_WAN.name))
    quick = MONEY_WAN.quick(texts)
    assert len(quick) >= 5
    for text in texts:
        if text in quick:
            value, problem = MONEY_WAN.read("c", text)
            assert (quick[text], None) == (value, problem), text
            assert MONEY_WAN.promised(text), text
