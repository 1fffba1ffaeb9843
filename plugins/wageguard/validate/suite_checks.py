"""A table's Great Expectations suite (expectations/<table>.json) applied to
its rows chunk by chunk, with the semantics GX's pandas engine gives each
expectation type the suites use, and results in GX's own shape.

The suites stay the source of truth: this reads them as GX writes them and
refuses one it cannot honour exactly. What it saves is running GX itself on
every row: importing GX alone costs seconds per process, and a whole-table
DataFrame per pull does not fit a province in bounded memory. Every check is
a pure function of one row, computed once per distinct value, so a province
costs little more than its distinct dates and codes; tests/test_suite_checks.py
holds the verdicts and results to GX's on the same rows.

Each expectation's GX `severity` decides what a failing row becomes:
`critical` (the rules or the exports cannot use the record) quarantines it;
`warning` and `info` keep it, the breach recorded beside it and the failing
value left out of the loaded row (it stays in the landed payload).

Uniqueness is the one expectation that spans rows. Dedupe has already kept one
version per record key, so uniqueness over columns that include the key holds
by construction; a suite asking uniqueness of anything else is refused."""

from __future__ import annotations

import json
import operator
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from itertools import compress
from pathlib import Path

from wageguard.tables import ALL, SourceTable
from wageguard.validate.gx_suites import (
    EXAMPLES,
    SUITES_DIR,
    SuiteError,
    expectation_columns,
    expectation_name,
)

_UNIQUE = ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique")
SEVERITIES = ("critical", "warning", "info")  # GX's FailureSeverity values
# What each expectation type may be given, beyond `column`/`column_A`/`column_B`/
# `column_list` and `mostly`: anything else (row_condition, condition_parser, …)
# changes what GX decides in a way these checks do not reproduce, so it is refused.
_KWARGS = {
    "expect_column_values_to_not_be_null": set(),
    "expect_column_values_to_be_unique": set(),
    "expect_compound_columns_to_be_unique": set(),
    "expect_column_values_to_match_regex": {"regex"},
    "expect_column_values_to_be_in_set": {"value_set"},
    "expect_column_values_to_match_strftime_format": {"strftime_format"},
    "expect_column_pair_values_a_to_be_greater_than_b": {"or_equal", "ignore_row_if"},
}
_COMMON_KWARGS = {"column", "column_A", "column_B", "column_list", "mostly"}
# Verdicts remembered per expectation: dates and codes repeat, amounts and
# identifiers do not, and a province's worth of them must not pile up.
_REMEMBERED = 50_000


def _strftime(fmt: str) -> Callable[[str], bool]:
    def parses(value: str) -> bool:
        try:
            datetime.strptime(value, fmt)
        except ValueError:
            return False
        return True

    return parses


def _value_check(kind: str, kwargs: dict) -> Callable[[list], Iterable[object]] | None:
    """Whether each of a list of distinct non-null values passes (truthy), for
    the single-column expectations GX evaluates value by value (pandas:
    str.contains, isin, strptime). A value comes as its column holds it: the
    regex reads it as text, and the strftime formats are set on text columns only."""
    if kind == "expect_column_values_to_match_regex":
        search = re.compile(kwargs["regex"]).search
        return lambda values: map(search, map(str, values))
    if kind == "expect_column_values_to_be_in_set":
        allowed = kwargs["value_set"]
        return (lambda values: [True] * len(values)) if allowed is None else partial(
            map, allowed.__contains__)
    if kind == "expect_column_values_to_match_strftime_format":
        return partial(map, _strftime(kwargs["strftime_format"]))
    return None


@dataclass
class _Tally:
    """What GX reports for one expectation, accumulated over chunks."""

    element_count: int = 0
    nonnull_count: int = 0
    nulls_are_values: bool = False  # not_null judges nulls; the others skip them
    unexpected_count: int = 0
    examples: list = field(default_factory=list)  # the first EXAMPLES unexpected values
    counts: Counter = field(default_factory=Counter)  # every unexpected value, for the docs

    def unexpected(self, value: object) -> None:
        self.unexpected_count += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(value)
        self.counts[tuple(value) if isinstance(value, list) else value] += 1


@dataclass(frozen=True)
class Breach:
    """A kept row's failure of a warning (or info) expectation."""

    expectation: str
    column: str | None  # None: the expectation reads several columns
    value: object  # what the check saw, after normalisation
    severity: str


# Per row: the names of the critical expectations it fails, and its breaches of
# the others; None where there are none.
Failures = list[list[str] | None]
Breaches = list[list[Breach] | None]


class _Chunk:
    """A chunk's rows column by column, each column's distinct values and
    nulls counted once for all the expectations that read it."""

    def __init__(self, columns: dict[str, list]):
        self.columns = columns
        self._distinct: dict[str, set] = {}
        self._nulls: dict[str, int] = {}

    def distinct(self, column: str) -> set:
        """The column's distinct values but null."""
        if column not in self._distinct:
            values = set(self.columns[column])
            self._nulls[column] = self.columns[column].count(None) if None in values else 0
            values.discard(None)
            self._distinct[column] = values
        return self._distinct[column]

    def nulls(self, column: str) -> int:
        self.distinct(column)
        return self._nulls[column]


def _positions(values: list, wanted: set) -> Iterator[int]:
    """The positions of the values that are in `wanted`, in order."""
    return compress(range(len(values)), map(wanted.__contains__, values))


class _Expectation:
    def __init__(self, kind: str, kwargs: dict, severity: object, key: tuple[str, ...],
                 table: str):
        self.kind, self.kwargs = kind, kwargs
        self.name = expectation_name(kind, kwargs)
        where = f"expectations/{table}.json: {self.name}"
        if severity not in SEVERITIES:
            raise SuiteError(
                f"{where} has severity {severity!r}; wageguard applies GX's severities "
                f"{', '.join(SEVERITIES)} (critical quarantines the record, the others keep "
                "it and record the breach)")
        if kind not in _KWARGS:
            raise SuiteError(
                f"expectations/{table}.json: {kind} is not among the expectation types "
                "wageguard applies with GX's semantics; add it to validate/suite_checks.py "
                "(with its GX equivalence test) before using it in a suite")
        self.severity = str(severity)
        self.columns = expectation_columns(kwargs)
        self.mostly = kwargs.get("mostly", 1.0)
        self.tally = _Tally(nulls_are_values=kind.endswith("_not_be_null"))
        self._value_ok = _value_check(kind, kwargs)
        self._passed: set = set()
        self._failed: set = set()
        unsupported = set(kwargs) - _COMMON_KWARGS - _KWARGS[kind]
        if unsupported:
            raise SuiteError(
                f"{where} sets {', '.join(sorted(unsupported))}, which wageguard's checks do "
                f"not apply as GX would; {kind} may set only "
                f"{', '.join(sorted(_KWARGS[kind] | {'mostly'}))}: remove the option or "
                "teach validate/suite_checks.py (with its GX equivalence test) to honour it")
        if kind.startswith("expect_column_pair") and kwargs.get("ignore_row_if") != (
                "either_value_is_missing"):
            raise SuiteError(
                f"{where} must set ignore_row_if to "
                "either_value_is_missing: dates are compared only when both are known")
        if kind in _UNIQUE and not set(key) <= set(self.columns):
            raise SuiteError(
                f"{where} asks uniqueness of columns that do "
                f"not include the record key ({', '.join(key)}): only the key is unique by "
                "construction after dedupe, and uniqueness of other columns would need a "
                "whole-table pass")

    def check(self, chunk: _Chunk, failures: Failures, breaches: Breaches) -> None:
        """Records each failing row i in failures[i] (critical) or breaches[i]."""
        tally, n = self.tally, len(failures)
        tally.element_count += n
        if self.kind in _UNIQUE:
            # Every row here holds a distinct record key (see the module docstring);
            # GX counts the rows that are not wholly missing.
            cells = list(zip(*(chunk.columns[c] for c in self.columns), strict=True))
            tally.nonnull_count += n - cells.count((None,) * len(self.columns))
            return
        if self.kind == "expect_column_pair_values_a_to_be_greater_than_b":
            self._check_pair(chunk.columns, failures, breaches)
            return
        column = self.columns[0]
        values, nulls = chunk.columns[column], chunk.nulls(column)
        if self._value_ok is None:  # not_null
            if nulls:
                for i in _positions(values, {None}):
                    self._fail(failures, breaches, i, None)
            return
        tally.nonnull_count += n - nulls
        failing = self._failing(chunk.distinct(column))
        if failing:
            for i in _positions(values, failing):
                self._fail(failures, breaches, i, values[i])

    def _failing(self, distinct: set) -> set:
        """Those of the column's distinct non-null values that fail, each
        judged once (and remembered across chunks: dates and codes repeat)."""
        assert self._value_ok is not None, "a value check"
        if len(self._passed) + len(self._failed) > _REMEMBERED:
            self._passed.clear()
            self._failed.clear()
        new = list(distinct.difference(self._passed, self._failed))
        verdicts = list(map(bool, self._value_ok(new)))
        self._passed.update(compress(new, verdicts))
        self._failed.update(compress(new, map(operator.not_, verdicts)))
        return distinct & self._failed

    def _check_pair(self, columns: dict[str, list], failures: Failures,
                    breaches: Breaches) -> None:
        a_values, b_values = columns[self.columns[0]], columns[self.columns[1]]
        or_equal = bool(self.kwargs.get("or_equal"))
        for i, (a, b) in enumerate(zip(a_values, b_values, strict=True)):
            if a is None or b is None:
                continue
            self.tally.nonnull_count += 1
            if not (a >= b if or_equal else a > b):
                self._fail(failures, breaches, i, [a, b])

    def _fail(self, failures: Failures, breaches: Breaches, i: int, value: object) -> None:
        self.tally.unexpected(value)
        if self.severity == "critical":
            failures[i] = (failures[i] or []) + [self.name]
            return
        column = self.columns[0] if len(self.columns) == 1 else None
        breaches[i] = (breaches[i] or []) + [Breach(self.name, column, value, self.severity)]

    def result(self) -> dict:
        """Summary-sized and JSON-safe, as validate reports it; GX's extra
        fields (missing counts, value counts) are in `gx_result`."""
        tally = self.tally
        return {
            "expectation": self.name,
            "type": self.kind,
            "columns": list(self.columns),
            "severity": self.severity,
            "success": self.success,
            "element_count": tally.element_count,
            "unexpected_count": tally.unexpected_count,
            "unexpected_percent": self._percent(),
            "partial_unexpected_list": list(tally.examples),
        }

    def _percent(self) -> float | None:
        tally = self.tally
        if tally.element_count == 0:
            return None
        if tally.nulls_are_values:
            return tally.unexpected_count / tally.element_count * 100
        if tally.nonnull_count == 0:
            return None
        return tally.unexpected_count / tally.nonnull_count * 100

    @property
    def success(self) -> bool:
        tally = self.tally
        denominator = tally.element_count if tally.nulls_are_values else tally.nonnull_count
        if denominator == 0:
            return True
        return (denominator - tally.unexpected_count) / denominator >= self.mostly

    def gx_result(self) -> dict:
        """The result as GX's SUMMARY format holds it, for the Data Docs page."""
        tally = self.tally
        out = {key: value for key, value in self.result().items()
               if key in ("element_count", "unexpected_count", "unexpected_percent",
                          "partial_unexpected_list")}
        if not tally.nulls_are_values:
            missing = tally.element_count - tally.nonnull_count
            total = (tally.unexpected_count / tally.element_count * 100
                     if tally.element_count else None)
            out |= {"missing_count": missing,
                    "missing_percent": missing / tally.element_count * 100
                    if tally.element_count else None,
                    "unexpected_percent_total": total,
                    "unexpected_percent_nonmissing": out["unexpected_percent"]}
        ranked = sorted(tally.counts.most_common(EXAMPLES), key=lambda x: (-x[1], x[0]))
        out["partial_unexpected_counts"] = [{"value": v, "count": c} for v, c in ranked]
        return out


class SuiteChecks:
    """One pull's run of its table's suite; `check` each chunk of live rows in
    order, then read `results`."""

    def __init__(self, table: SourceTable, directory: Path = SUITES_DIR):
        path = directory / f"{table.name}.json"
        spec = json.loads(path.read_text(encoding="utf-8"))
        if spec.get("name") != table.name:
            raise SuiteError(f"{path}: suite is named {spec.get('name')!r}, "
                             f"expected {table.name!r}")
        self.table = table.name
        expectations = [_Expectation(e["type"], e.get("kwargs", {}),
                                     e.get("severity", "critical"), table.key, table.name)
                        for e in spec.get("expectations", [])]
        # GX reports (and so names a row's failures) grouped by the columns an
        # expectation reads, in the order those first appear in the suite.
        domains: dict[tuple[str, ...], int] = {}
        for expectation in expectations:
            domains.setdefault(tuple(expectation.columns), len(domains))
        self.expectations = sorted(expectations, key=lambda e: domains[tuple(e.columns)])
        for expectation in self.expectations:
            unknown = set(expectation.columns) - set(table.columns)
            if unknown:
                raise SuiteError(f"{path}: {expectation.name} names columns the table does "
                                 f"not have: {', '.join(sorted(unknown))}")
        self.rows = 0

    def check(self, columns: dict[str, list], count: int) -> tuple[Failures, Breaches]:
        """For each of `count` rows, the critical expectations it fails and its
        breaches of the others (None: none), in suite order."""
        failures: Failures = [None] * count
        breaches: Breaches = [None] * count
        chunk = _Chunk(columns)
        for expectation in self.expectations:
            expectation.check(chunk, failures, breaches)
        self.rows += count
        return failures, breaches

    @property
    def success(self) -> bool:
        return all(e.success for e in self.expectations)

    def results(self) -> list[dict]:
        return [e.result() for e in self.expectations]

    def gx_results(self) -> list[tuple[str, dict, bool, dict, str]]:
        """(type, kwargs, success, GX result, severity) per expectation, for the Data Docs."""
        return [(e.kind, e.kwargs, e.success, e.gx_result(), e.severity)
                for e in self.expectations]


def check_suites(directory: Path | None = None) -> int:
    """Reads every table's suite as validation will, so that one it cannot
    honour stops the night before anything is pulled; returns how many
    expectations the suites hold."""
    return sum(len(SuiteChecks(table, directory or SUITES_DIR).expectations) for table in ALL)
