"""The canonical JSON every payload hash is taken over comes out byte for byte
as json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
writes it, as the warehouse's stored hashes were taken: over every record of
a generated province, the planted messy and malformed ones included, and over
values chosen to break a JSON encoder."""

from __future__ import annotations

import hashlib
import json
import math
import random

import pytest
from wageguard.landing.store import canonical, canonical_bytes, encoded, payload_hash
from wageguard.tables import ALL

_REFERENCE = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _reference(record: object) -> bytes:
    return _REFERENCE.encode(record).encode("utf-8")


@pytest.fixture(scope="module")
def world():
    from wageguard_dev.demo.world import generate_world

    return generate_world(projects=1500, seed=3)


def test_every_record_of_a_province_is_encoded_as_before(world):
    planted = {dirty.table for dirty in world.planted_messy + world.planted_malformed}
    assert planted >= {"projects", "fund_disbursements"}, "the dirt the test must cover"
    for table in ALL:
        records = world.rows(table.name)
        assert records, table.name
        payloads, hashes = encoded(records)
        for record, payload, digest in zip(records, payloads, hashes, strict=True):
            before = _reference(record)
            assert payload == before, record
            assert digest == hashlib.sha256(before).digest() == payload_hash(
                payload.decode("utf-8"))


_FLOATS = [1e16, 1e+22, 1.7976931348623157e308, 5e-324, 1e-05, 1e-7, 0.0001, 0.1, -0.0, 0.0,
           1.0, 123456789.123, 12345678901234567.0, -2.5e-300, 1e15, math.nan, math.inf,
           -math.inf]
_TEXTS = ["", "\u2028\u2029", "\x00\x01\x1f\x7f", "\"\\/\b\f\n\r\t", "𝄞😀\U0010ffff",
          "\ufeff\uffff", "é", "ＡＢＣ　１２", "建设单位", "<script>&amp;", "ˀ˿"]
_INTS = [0, -1, 203, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63) - 1,
         10**40, -(10**40)]


@pytest.mark.parametrize("value", [
    *_FLOATS, *_TEXTS, *_INTS, None, True, False, [], {}, (1, "a"),
    {"k": 1e16}, {"k": [1, [2, {"x": math.nan}]]}, [{"b": 0.1, "a": None}],
    {text: text for text in _TEXTS}, {"z": 1, "Z": 2, "é": 3, "𝄞": 4, "\uffff": 5, "": 6},
    {"builder": {"name": "某公司", "credit_code": None}, "former_names": ["甲", "乙"]},
    {1: "a", 2: "b"}, {"nested": {"deeper": {"deepest": [None, True, 2**70, -0.0]}}},
], ids=repr)
def test_an_adversarial_value_is_encoded_as_before(value):
    assert canonical_bytes(value) == _reference(value)
    assert canonical(value) == _REFERENCE.encode(value)


def _random_value(rng: random.Random, depth: int = 0) -> object:
    pick = rng.randrange(9 if depth < 3 else 6)
    if pick == 0:
        return rng.choice([*_FLOATS, rng.uniform(-1e6, 1e6),
                           rng.random() * 10.0 ** rng.randrange(-30, 30)])
    if pick == 1:
        return rng.choice([*_INTS, rng.randrange(-10**6, 10**6)])
    if pick in (2, 3):
        return "".join(rng.choice([*_TEXTS, "a", "0", " ", "."]) for _ in range(rng.randrange(4)))
    if pick == 4:
        return rng.choice([None, True, False])
    if pick == 5:
        return rng.choice(_TEXTS)
    if pick == 6:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {str(_random_value(rng, 3)): _random_value(rng, depth + 1)
            for _ in range(rng.randrange(5))}


def test_random_json_values_are_encoded_as_before():
    rng = random.Random(13)
    values = [_random_value(rng) for _ in range(20_000)]
    assert any(isinstance(value, float) for value in values)
    for value in values:
        assert canonical_bytes(value) == _reference(value), value


def test_a_value_neither_encoder_can_write_still_fails():
    with pytest.raises(TypeError):
        canonical({"a": object()})
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate has no UTF-8 bytes to hash
        canonical_bytes({"a": "\ud800"})
