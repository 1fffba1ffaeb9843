"""Turn what a source served into flat rows of the table's columns, fixing only
what people demonstrably mistyped (full-width characters, stray spaces, other
date spellings, thousands separators) and recording every fix. A value that
cannot be read with certainty is left as typed, for validation to quarantine.

Columns are processed one at a time over all records, each distinct value once:
a night's pull repeats the same dates, districts and statuses thousands of times.
"""

from __future__ import annotations

import decimal
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from wageguard.tables import SourceTable

SHANGHAI = timezone(timedelta(hours=8))

# (column, before, after, kind)
Change = tuple[str, object, object, str]
# (column the problem is in, or None for the record as a whole; the reason)
Problem = tuple[str | None, str]


def _never(raw: object) -> bool:
    return False


def _as_is(raw: object) -> object:
    return raw


def _unknown(text: str) -> None:
    return None


@dataclass(frozen=True)
class Kind:
    name: str
    # (column, raw value) -> (normalised value, reason to quarantine or None)
    read: Callable[[str, object], tuple[object, str | None]]
    # The spelling the source contract itself promises for a value that `read`
    # still rewrites (万元, YYYYMM, JSON integers): a contract conversion, not a
    # fix, so it is not recorded — a night of dev-reform rows would otherwise log
    # millions of "changes" that say nothing.
    promised: Callable[[object], bool] = _never
    shown: Callable[[object], object] = _as_is  # the raw value as a change shows it
    # The value of a string spelt as the contract promises, computed directly,
    # with nothing to record; None: read it the long way. Most of a province is
    # typed right, and this is far cheaper than reading a value that repeats
    # nowhere (an identifier, a timestamp, an amount).
    quick: Callable[[str], object] = _unknown


@dataclass
class Normalised:
    columns: dict[str, list]  # the table's columns in order, one value per record
    changes: defaultdict[int, list[Change]]  # by record; most records have none
    problems: defaultdict[int, list[Problem]]  # values that could not be read at all

    @property
    def rows(self) -> list[dict]:
        names = list(self.columns)
        return [dict(zip(names, cells, strict=True))
                for cells in zip(*self.columns.values(), strict=True)]


# re.ASCII everywhere: Python's \d also matches other scripts' digits, which
# NFKC leaves alone and which are never what an office meant.
_DATE_FORMS = tuple(
    re.compile(pattern, re.ASCII)
    for pattern in (
        r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})",
        r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})",
        r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日",
    )
)
_MONTH = re.compile(r"(?P<y>\d{4})(?:-(?P<m>\d{1,2})|(?P<mm>\d{2}))", re.ASCII)
_COMPACT_MONTH = re.compile(r"\d{6}", re.ASCII)
_GROUPED_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?", re.ASCII)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?", re.ASCII)
_DIGITS = re.compile(r"\d+", re.ASCII)
_PLAIN_AMOUNT = re.compile(r"(?P<whole>\d{1,20})(?:\.(?P<fraction>\d+))?", re.ASCII)
_WAN_AS_PROMISED = re.compile(r"\d+(?:\.\d{1,6})?", re.ASCII)
_WAN_AMOUNT = re.compile(r"(?P<whole>\d{1,20})(?:\.(?P<fraction>\d{1,6}))?", re.ASCII)
_FEN = decimal.Decimal("0.01")
# Inexact is trapped so that an amount off the fen (or too long to multiply
# exactly) raises instead of being rounded.
_EXACT = decimal.Context(prec=34, traps=[decimal.Inexact, decimal.InvalidOperation])


def nfkc_trim(text: str) -> str | None:
    text = unicodedata.normalize("NFKC", text).strip()
    return text or None


def parse_timestamp(text: object) -> datetime | None:
    """The instant an ISO 8601 timestamp with an offset names; None for anything
    else (a timestamp without offset is not guessed to be Shanghai time)."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _date(text: str) -> str:
    for form in _DATE_FORMS:
        match = form.fullmatch(text)
        if match:
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"])).isoformat()
            except ValueError:
                return text
    return text


def _timestamp(text: str) -> str:
    moment = parse_timestamp(text)
    if moment is None:
        return text
    # Sub-second precision is kept when present: it may be what orders two versions.
    return moment.astimezone(SHANGHAI).isoformat(
        timespec="microseconds" if moment.microsecond else "seconds"
    )


def _ungrouped(text: str) -> str:
    return text.replace(",", "") if _GROUPED_NUMBER.fullmatch(text) else text


def _money(scale: int) -> Callable[[str], str]:
    factor = decimal.Decimal(scale)
    places = 2 + len(str(scale)) - 1  # decimals that are still whole fen
    fen_per_unit = 100 * scale

    def convert(text: str) -> str:
        plain = _ungrouped(text)
        # The common spelling, in integers: a province has millions of distinct amounts.
        exact = _PLAIN_AMOUNT.fullmatch(plain)
        if exact and len(exact["fraction"] or "") <= places:
            fen = int(exact["whole"]) * fen_per_unit + int((exact["fraction"] or "0").ljust(
                places, "0"))
            return f"{fen // 100}.{fen % 100:02d}"
        if not _NUMBER.fullmatch(plain):
            return text
        try:
            yuan = _EXACT.multiply(decimal.Decimal(plain), factor).quantize(_FEN, context=_EXACT)
        except (decimal.Inexact, decimal.InvalidOperation):
            return text
        return f"{yuan:f}"

    return convert


def _count(text: str) -> str:
    plain = _ungrouped(text)
    return str(int(plain)) if _DIGITS.fullmatch(plain) else text


def _month(text: str) -> str:
    match = _MONTH.fullmatch(text)
    if not match:
        return text
    month = int(match["m"] or match["mm"])
    return f"{match['y']}-{month:02d}" if 1 <= month <= 12 else text


def _scalar(convert: Callable[[str], str]) -> Callable[[str, object], tuple[object, str | None]]:
    """A reader for one text-like value: NFKC, trim, blank -> None, then `convert`."""

    def read(column: str, raw: object) -> tuple[object, str | None]:
        if raw is None:
            return None, None
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            return None, f"normalise({column}): {type(raw).__name__} where a value was expected"
        text = nfkc_trim(raw if isinstance(raw, str) else repr(raw))
        return (None if text is None else convert(text)), None

    return read


def _flag(column: str, raw: object) -> tuple[object, str | None]:
    if raw is None or isinstance(raw, bool):
        return raw, None
    return None, f"normalise({column}): not true/false"


def _names(column: str, raw: object) -> tuple[object, str | None]:
    if raw is None:
        return None, None
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        return None, f"normalise({column}): not a list of names"
    names = [name for name in map(nfkc_trim, raw) if name is not None]
    return json.dumps(names, ensure_ascii=False), None


def _json_if_list(raw: object) -> object:
    return json.dumps(raw, ensure_ascii=False) if isinstance(raw, list) else raw


def _spelt(pattern: re.Pattern) -> Callable[[object], bool]:
    return lambda raw: isinstance(raw, str) and pattern.fullmatch(raw) is not None


def _trimmed(text: str) -> str | None:
    """`text` when NFKC and trimming leave it as it is."""
    return text if text != "" and text.strip() == text and (
        text.isascii() or unicodedata.is_normalized("NFKC", text)) else None


def _as_spelt(pattern: str) -> Callable[[str], str | None]:
    """`text` when spelt in full by `pattern` (ASCII), which only reading's own
    output matches."""
    spelling = re.compile(pattern, re.ASCII)
    return lambda text: text if spelling.fullmatch(text) else None


def _wan_as_promised(text: str) -> str | None:
    """万元 with up to 6 decimals, in yuan: exact in integer fen."""
    amount = _WAN_AMOUNT.fullmatch(text)
    if amount is None:
        return None
    fen = int(amount["whole"]) * 1_000_000 + int((amount["fraction"] or "0").ljust(6, "0"))
    return f"{fen // 100}.{fen % 100:02d}"


TEXT = Kind("text", _scalar(str), quick=_trimmed)
CODE = Kind("code", _scalar(str.upper),
            quick=lambda text: text if _trimmed(text) and text.upper() == text else None)
# An ISO date and a Shanghai timestamp read as themselves, valid or not: an
# impossible one (2026-13-45) is left as typed, for validation to quarantine.
DATE = Kind("date", _scalar(_date), quick=_as_spelt(r"\d{4}-\d{2}-\d{2}"))
TIMESTAMP = Kind("timestamp", _scalar(_timestamp), quick=_as_spelt(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(?!000000)\d{6})?\+08:00"))
MONEY = Kind("money", _scalar(_money(1)), quick=_as_spelt(r"(?:0|[1-9]\d{0,19})\.\d{2}"))
MONEY_WAN = Kind("money_wan", _scalar(_money(10_000)), promised=_spelt(_WAN_AS_PROMISED),
                 quick=_wan_as_promised)
COUNT = Kind(
    "count", _scalar(_count), promised=lambda raw: type(raw) is int  # a JSON integer
)
MONTH = Kind("month", _scalar(_month), quick=_as_spelt(r"\d{4}-(?:0[1-9]|1[0-2])"))
MONTH_COMPACT = Kind("month", _scalar(_month), promised=_spelt(_COMPACT_MONTH))
FLAG = Kind("flag", _flag)
NAMES = Kind("names", _names, shown=_json_if_list)

# What reads each kind of column the registry (tables.py) names.
KINDS = {
    "text": TEXT, "code": CODE, "date": DATE, "timestamp": TIMESTAMP, "money": MONEY,
    "money_wan": MONEY_WAN, "count": COUNT, "month": MONTH, "month_compact": MONTH_COMPACT,
    "flag": FLAG, "names": NAMES,
    # Masked and mapped to 1/0 when stored (warehouse/typed.py); read as text.
    "person_id": TEXT, "yes_no": TEXT,
}


def kind_of(table: SourceTable, column: str) -> Kind:
    return KINDS[table.column(column).kind]


def _raw_values(records: list, path: tuple[str, ...],
                problems: defaultdict[int, list[Problem]]) -> list:
    """One column's raw values across the records (which are known to be objects
    or recorded as a problem already)."""
    top, *nested = path
    values = [record.get(top) if isinstance(record, dict) else None for record in records]
    for step in nested:
        for i, value in enumerate(values):
            if isinstance(value, dict):
                values[i] = value.get(step)
            elif value is not None:
                # A null party is just missing data; a bare string cannot be read.
                # Resolution reads the party whole, so it is the record's problem.
                problem = (None, f"normalise({top}): not an object")
                if problem not in problems[i]:
                    problems[i].append(problem)
                values[i] = None
    return values


def _cut_short(table: SourceTable, records: list,
               problems: defaultdict[int, list[Problem]]) -> None:
    """A CSV row with fewer fields than the header: its cells cannot be trusted
    to sit under their headers. A blank cell reads as "", a missing one as
    None, so a row lacking its last header is one cut short."""
    last = table.fields[-1].source[0]
    for i, record in enumerate(records):
        if isinstance(record, dict) and record.get(last) is None:
            problems[i].append((None, f"normalise(record): row cut short before {last}"))


def normalise(table: SourceTable, records: list) -> Normalised:
    problems: defaultdict[int, list[Problem]] = defaultdict(list)
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            problems[i].append((None, "normalise(record): not an object"))
    if table.system == "devreform":
        _cut_short(table, records, problems)
    changes: defaultdict[int, list[Change]] = defaultdict(list)
    columns = {}
    for field in table.fields:
        column, path, kind = field.name, field.path, KINDS[field.kind]
        read, shown, promised, name = kind.read, kind.shown, kind.promised, kind.name
        quick = kind.quick
        seen: dict[object, tuple[object, str | None, bool]] = {}
        values: list = []
        append = values.append
        for i, raw in enumerate(_raw_values(records, path, problems)):
            if raw.__class__ is str and (value := quick(raw)) is not None:
                append(value)
                continue
            # The type is part of the key so that 1, 1.0 and True stay apart.
            memo = raw if raw.__class__ is str else (raw.__class__, raw)
            try:
                result = seen.get(memo)
            except TypeError:  # a list: read it every time
                result = None
            if result is None:
                value, problem = read(column, raw)
                recorded = problem is None and value != shown(raw) and not promised(raw)
                result = (value, problem, recorded)
                if not isinstance(raw, list | dict):
                    seen[memo] = result
            value, problem, recorded = result
            append(value)
            if problem:
                problems[i].append((column, problem))
            if recorded:
                changes[i].append((column, shown(raw), value, name))
        columns[column] = values
    return Normalised(columns=columns, changes=changes, problems=problems)
