"""Turn what a source served into flat rows of the table's columns, fixing only
what people demonstrably mistyped (full-width characters, stray spaces, other
date spellings, thousands separators) and recording every fix. A value that
cannot be read with certainty is left as typed, for validation to quarantine.

Columns are processed one at a time over all records, each distinct value once:
a night's pull repeats the same dates, districts and statuses thousands of times.
Most of a province is typed right, so the values already spelt as reading
would leave them are found a column at a time, in compiled code (a regular
expression, a normal-form check); only the rest is read value by value.
"""

from __future__ import annotations

import decimal
import json
import operator
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import partial
from itertools import compress, repeat

import numpy as np

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


def _none_as_read(texts: list[str]) -> Iterable[str]:
    return ()


def _none_quick(texts: list[str]) -> dict[str, object]:
    return {}


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
    # Of a column's distinct texts, those that `read` leaves as they are with
    # nothing to record, found in compiled code; one it misses is read.
    as_read: Callable[[list[str]], Iterable[str]] = _none_as_read
    # Of a column's distinct texts, those spelt as the contract promises that
    # `read` turns into another form (万元 into yuan), with that form, computed
    # a column at a time; one it misses is read.
    quick: Callable[[list[str]], dict[str, object]] = _none_quick


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


def _spelt_as_read(pattern: str) -> Callable[[list[str]], Iterable[str]]:
    """The texts spelt in full by `pattern` (ASCII), which only reading's own
    output matches."""
    return partial(filter, re.compile(pattern, re.ASCII).fullmatch)


_NFKC = partial(unicodedata.is_normalized, "NFKC")


def _text_as_read(texts: list[str]) -> Iterable[str]:
    """Texts that NFKC and trimming leave as they are; a blank one becomes null."""
    texts = list(filter(None, texts))
    return filter(_NFKC, compress(texts, map(str.__eq__, map(str.strip, texts), texts)))


def _wan_in_yuan(texts: list[str]) -> dict[str, object]:
    """万元 with up to 6 decimals, in yuan, exactly: in digits, 万元 to the
    sixth decimal are fen, so the fen are the whole part followed by six
    decimals, and yuan are those with a point before the last two."""
    promised = list(compress(texts, map(_WAN_AMOUNT.fullmatch, texts)))
    if not promised:
        return {}
    whole, _, fraction = np.strings.partition(np.array(promised), ".")
    fen = np.strings.lstrip(np.strings.add(whole, np.strings.ljust(fraction, 6, "0")), "0")
    fen = np.strings.zfill(fen, 3)
    yuan = np.strings.add(np.strings.add(np.strings.slice(fen, 0, -2), "."),
                          np.strings.slice(fen, -2, None))
    return dict(zip(promised, yuan.tolist(), strict=True))


TEXT = Kind("text", _scalar(str), as_read=_text_as_read)
# Printable ASCII without a space or a lower-case letter: upper-casing, NFKC
# and trimming leave it as it is. Any other code is read.
CODE = Kind("code", _scalar(str.upper), as_read=_spelt_as_read(r"[!-`{-~]+"))
# An ISO date and a Shanghai timestamp read as themselves, valid or not: an
# impossible one (2026-13-45) is left as typed, for validation to quarantine.
DATE = Kind("date", _scalar(_date), as_read=_spelt_as_read(r"\d{4}-\d{2}-\d{2}"))
TIMESTAMP = Kind("timestamp", _scalar(_timestamp), as_read=_spelt_as_read(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(?!000000)\d{6})?\+08:00"))
MONEY = Kind("money", _scalar(_money(1)),
             as_read=_spelt_as_read(r"(?:0|[1-9]\d{0,19})\.\d{2}"))
MONEY_WAN = Kind("money_wan", _scalar(_money(10_000)), promised=_spelt(_WAN_AS_PROMISED),
                 quick=_wan_in_yuan)
COUNT = Kind(
    "count", _scalar(_count), promised=lambda raw: type(raw) is int  # a JSON integer
)
MONTH = Kind("month", _scalar(_month), as_read=_spelt_as_read(r"\d{4}-(?:0[1-9]|1[0-2])"))
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


def _fields(records: list, tops: list[str], objects: bool) -> dict[str, list]:
    """Each named top-level field's values across the records (a record that
    is not an object, `objects` being false, is recorded as a problem already).
    When every record carries them all, in one pass over the records."""
    if objects and len(tops) > 1:
        try:
            rows = list(map(operator.itemgetter(*tops), records))
        except KeyError:  # a record without one of them: field by field
            pass
        else:
            columns = zip(*rows, strict=True) if rows else repeat((), len(tops))
            return dict(zip(tops, map(list, columns), strict=True))
    if objects:
        return {top: list(map(operator.methodcaller("get", top), records)) for top in tops}
    return {top: [record.get(top) if isinstance(record, dict) else None for record in records]
            for top in tops}


def _raw_values(values: list, path: tuple[str, ...],
                problems: defaultdict[int, list[Problem]]) -> list:
    """One column's raw values across the records, from the values of the top
    of its path."""
    top, *nested = path
    for step in nested:
        if set(map(type, values)) <= {dict}:
            values = list(map(operator.methodcaller("get", step), values))
            continue
        values = list(values)
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


def _cut_short(table: SourceTable, records: list, tops: dict[str, list],
               problems: defaultdict[int, list[Problem]]) -> None:
    """A CSV row with fewer fields than the header: its cells cannot be trusted
    to sit under their headers. A blank cell reads as "", a missing one as
    None, so a row lacking its last header is one cut short."""
    last = table.fields[-1].source[0]
    for i in compress(range(len(records)), map(operator.is_, tops[last], repeat(None))):
        if isinstance(records[i], dict):
            problems[i].append((None, f"normalise(record): row cut short before {last}"))


# (normalised value, reason to quarantine or None, whether the fix is recorded)
_Reading = tuple[object, str | None, bool]
_SCALARS = frozenset({str, int, float, bool, type(None)})
_NUMBERS = frozenset({int, float, bool})


def _reading(column: str, kind: Kind, raw: object) -> _Reading:
    value, problem = kind.read(column, raw)
    return value, problem, problem is None and value != kind.shown(raw) and not kind.promised(raw)


def _read_each(column: str, kind: Kind, raws: list) -> list[_Reading]:
    """Each value's reading, remembered by type and value so that 1, 1.0 and
    True stay apart; a list or an object is read every time."""
    seen: dict[tuple[type, object], _Reading] = {}
    out = []
    for raw in raws:
        if isinstance(raw, list | dict):
            out.append(_reading(column, kind, raw))
            continue
        key = (raw.__class__, raw)
        reading = seen.get(key)
        if reading is None:
            reading = seen[key] = _reading(column, kind, raw)
        out.append(reading)
    return out


def _read_column(column: str, kind: Kind, raws: list, changes: defaultdict[int, list[Change]],
                 problems: defaultdict[int, list[Problem]]) -> list:
    """The column's normalised values, each distinct value read once; what
    the reading fixed or could not read is added to `changes` and `problems`."""
    types = set(map(type, raws))
    flagged: Iterable[tuple[int, _Reading]]
    if types <= _SCALARS and len(types & _NUMBERS) <= 1:  # equal values are the same value
        distinct = set(raws)
        distinct.discard(None)  # every kind reads a null as null, recording nothing
        only_text = types <= {str, type(None)}
        texts = list(distinct) if only_text else [raw for raw in distinct if raw.__class__ is str]
        unread = distinct.difference(kind.as_read(texts))
        changed = kind.quick([raw for raw in unread if only_text or raw.__class__ is str])
        readings = {raw: _reading(column, kind, raw) for raw in unread.difference(changed)}
        changed.update((raw, reading[0]) for raw, reading in readings.items()
                       if reading[0] is not raw)
        values = list(map(changed.get, raws, raws)) if changed else raws
        noted = {raw: reading for raw, reading in readings.items() if reading[1] or reading[2]}
        flagged = ((i, noted[raws[i]]) for i in
                   compress(range(len(raws)), map(noted.__contains__, raws))) if noted else ()
    else:  # the rare column read value by value: a list in it, or numbers of two types
        each = _read_each(column, kind, raws)
        values = [reading[0] for reading in each]
        flagged = ((i, reading) for i, reading in enumerate(each) if reading[1] or reading[2])
    for i, (value, problem, recorded) in flagged:
        if problem:
            problems[i].append((column, problem))
        if recorded:
            changes[i].append((column, kind.shown(raws[i]), value, kind.name))
    return values


def normalise(table: SourceTable, records: list) -> Normalised:
    problems: defaultdict[int, list[Problem]] = defaultdict(list)
    objects = set(map(type, records)) <= {dict}
    if not objects:
        for i, record in enumerate(records):
            if not isinstance(record, dict):
                problems[i].append((None, "normalise(record): not an object"))
    tops = _fields(records, list(dict.fromkeys(field.path[0] for field in table.fields)), objects)
    if table.system == "devreform":
        _cut_short(table, records, tops, problems)
    changes: defaultdict[int, list[Change]] = defaultdict(list)
    columns = {field.name: _read_column(field.name, KINDS[field.kind],
                                        _raw_values(tops[field.path[0]], field.path, problems),
                                        changes, problems)
               for field in table.fields}
    return Normalised(columns=columns, changes=changes, problems=problems)
