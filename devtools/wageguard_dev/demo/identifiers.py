"""The identifiers the province's systems issue, shaped as the real ones are: districts,
credit codes, 15-digit registration numbers and investment project codes."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from wageguard.identity import gb32100_check_char


@dataclass(frozen=True)
class District:
    code: str  # GB/T 2260 county-level code
    city: str
    name: str
    weight: int  # how much of the province's building happens there


# Real Inner Mongolia county-level divisions; the city districts build the most.
DISTRICTS = (
    District("150102", "呼和浩特市", "新城区", 8),
    District("150105", "呼和浩特市", "赛罕区", 9),
    District("150202", "包头市", "东河区", 7),
    District("150203", "包头市", "昆都仑区", 10),
    District("150204", "包头市", "青山区", 8),
    District("150205", "包头市", "石拐区", 1),
    District("150206", "包头市", "白云鄂博矿区", 1),
    District("150207", "包头市", "九原区", 6),
    District("150221", "包头市", "土默特右旗", 3),
    District("150222", "包头市", "固阳县", 2),
    District("150902", "乌兰察布市", "集宁区", 6),
    District("150921", "乌兰察布市", "卓资县", 2),
    District("150925", "乌兰察布市", "凉城县", 2),
    District("150981", "乌兰察布市", "丰镇市", 3),
)
DISTRICT_BY_CODE = {d.code: d for d in DISTRICTS}

_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_ALPHABET = "0123456789" * 4 + "ABCDEFGHJKLMNPQRTUWXY"  # organisation codes are mostly digits


class IdentifierBook:
    """Hands out identifiers that are unique across the whole world."""

    def __init__(self, rng: random.Random):
        self._rng = rng
        self._issued: set[str] = set()
        self._sequences: dict[str, itertools.count] = {}

    def _unique(self, make) -> str:
        while True:
            value = make()
            if value not in self._issued:
                self._issued.add(value)
                return value

    def credit_code(self, district: str) -> str:
        """An 18-character code passing GB 32100: 9 (market regulator) 1 (enterprise),
        the registering district, a 9-character organisation code, the check character."""
        return self._unique(lambda: self._draw_credit_code(district))

    def credit_code_failing_check(self, district: str) -> str:
        """A code as some early real ones are: right shape, wrong check character."""

        def make() -> str:
            valid = self._draw_credit_code(district)
            index = (_CODE_ALPHABET.index(valid[17]) + 1) % len(_CODE_ALPHABET)
            return valid[:17] + _CODE_ALPHABET[index]

        return self._unique(make)

    def _draw_credit_code(self, district: str) -> str:
        first17 = "91" + district + "".join(self._rng.choices(_ORG_ALPHABET, k=9))
        return first17 + gb32100_check_char(first17)

    def legacy_registration_no(self, district: str) -> str:
        return self._unique(lambda: district + f"{self._rng.randrange(10**9):09d}")

    def investment_code(self, year: int, district: str) -> str:
        # GB/T 4754 divisions: buildings, civil works, real estate.
        industry = self._rng.choice(("47", "47", "48", "70"))
        kind = self._rng.choice(("01", "02", "03"))  # 审批 / 核准 / 备案
        return self._unique(
            lambda: f"{year}-{district}-{industry}-{kind}-{self._rng.randrange(10**6):06d}"
        )

    def next_in_sequence(self, prefix: str, width: int = 8) -> str:
        """The next id of a sequence such as wage accounts: "ZH00000001", "ZH00000002"…"""
        sequence = self._sequences.setdefault(prefix, itertools.count(1))
        return self._unique(lambda: f"{prefix}{next(sequence):0{width}d}")
