"""One pull of one table through the validate stage in bounded memory.

First every chunk of records is normalised and indexed for dedupe, and its
normalised columns wait in a spool on disk; then the kept version of each
record is settled; then the chunks come back in pull order, their kept live
rows are checked against the table's suite, and each chunk is split into good
rows and quarantine for the loader. Memory holds one chunk and the compact
dedupe index, whatever the size of the pull."""

from __future__ import annotations

import bisect
import json
import pickle
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator

from wageguard.tables import SourceTable
from wageguard.validate.dedupe import Deduped, Versions
from wageguard.validate.normalise import normalise
from wageguard.validate.split import ChunkVerdict, judge, split_chunk
from wageguard.validate.suite_checks import SuiteChecks

# Records per chunk: large enough that per-chunk costs vanish, small enough
# that a chunk of the widest table stays a few megabytes.
CHUNK = 10_000


def _rows_of(columns: dict[str, list], rows: list[int], count: int) -> dict[str, list]:
    """The columns of `rows` out of `count` (often all of them: then as they are)."""
    if len(rows) == count:
        return columns
    return {c: [values[i] for i in rows] for c, values in columns.items()}


class BatchValidation:
    """`add` the pull's records chunk by chunk in pull order, with their
    payload hashes; then iterate `verdicts()`; then read `summary`."""

    def __init__(self, table: SourceTable):
        self.table = table
        self.pulled = 0
        self._versions = Versions(table)
        self._spool = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the validation
        self._chunks: list[tuple[int, int]] = []  # (first position, spool offset)
        self._deduped: Deduped | None = None
        self._checks: SuiteChecks | None = None
        self._fields: Counter = Counter()  # how many records carry each field
        self.summary: dict = {}

    def add(self, records: list, payload_hashes: list[bytes]) -> None:
        # Records mostly share one set of fields: counted once per shape.
        shapes = Counter(tuple(record) for record in records if isinstance(record, dict))
        for shape, count in shapes.items():
            for name in shape:
                self._fields[name] += count
        normalised = normalise(self.table, records)
        self._versions.add(normalised.columns, payload_hashes)
        self._chunks.append((self.pulled, self._spool.tell()))
        pickle.dump((payload_hashes, list(normalised.columns.values()),
                     dict(normalised.problems), dict(normalised.changes)), self._spool,
                    pickle.HIGHEST_PROTOCOL)
        self.pulled += len(records)

    def _chunk(self, index: int) -> tuple[list[bytes], dict[str, list], dict, dict]:
        self._spool.seek(self._chunks[index][1])
        hashes, columns, problems, changes = pickle.load(self._spool)
        return hashes, dict(zip(self.table.columns, columns, strict=True)), problems, changes

    def _canonical_rows(self, positions: list[int]) -> dict[int, str]:
        """The normalised rows at `positions` as canonical text, for dedupe to
        compare versions whose payloads differ."""
        starts = [start for start, _ in self._chunks]
        wanted: dict[int, list[int]] = {}
        for position in positions:
            wanted.setdefault(bisect.bisect_right(starts, position) - 1, []).append(position)
        out = {}
        for index, members in wanted.items():
            _, columns, _, _ = self._chunk(index)
            for position in members:
                i = position - starts[index]
                row = {c: values[i] for c, values in columns.items()}
                out[position] = json.dumps(row, sort_keys=True, ensure_ascii=False)
        return out

    def verdicts(self) -> Iterator[ChunkVerdict]:
        """Each chunk's verdict in pull order; `summary` is complete once the
        last is taken. May be run again (the rejected path writes only the
        quarantine) and gives the same verdicts."""
        if self._deduped is None:
            self._deduped = self._versions.settle(self._canonical_rows)
        deduped = self._deduped
        checks = SuiteChecks(self.table)
        rejected_reasons: dict[int, list[str]] = {}
        checked_reasons: Counter = Counter()
        good = quarantined = changes = tombstones = warned = 0
        breached: Counter = Counter()
        bounds = [start for start, _ in self._chunks] + [self.pulled]
        rejected_by_chunk: defaultdict[int, dict[int, list[str]]] = defaultdict(dict)
        for position, why in deduped.rejected.items():
            index = bisect.bisect_right(bounds, position) - 1
            rejected_by_chunk[index][position - bounds[index]] = why
        for index in range(len(self._chunks)):
            start, end = bounds[index], bounds[index + 1]
            hashes, columns, problems, chunk_changes = self._chunk(index)
            kept = deduped.kept[start:end].tolist()
            deleted = columns.get("deleted") or [None] * len(kept)
            live = [i for i, keep in enumerate(kept) if keep and deleted[i] is not True]
            tombstones += sum(kept) - len(live)
            failures, breaches = checks.check(_rows_of(columns, live, len(kept)), len(live))
            verdict = split_chunk(
                self.table, start, columns, hashes, kept, rejected_by_chunk[index], problems,
                {live[j]: failed for j, failed in enumerate(failures) if failed},
                {live[j]: found for j, found in enumerate(breaches) if found},
                chunk_changes)
            for rejection in verdict.rejections:
                if rejection.position in deduped.rejected:
                    rejected_reasons[rejection.position] = rejection.reasons
                else:
                    checked_reasons.update(rejection.reasons)
            good += len(verdict.positions)
            quarantined += len(verdict.rejections)
            changes += len(verdict.changes)
            warned += len(verdict.warnings)
            for row in verdict.warnings:
                breached.update(breach.expectation for breach in row.breaches)
            yield verdict
        # Reasons are counted as validating the pull whole would: dedupe's
        # rejections first, in its order, then the checked rows in pull order.
        reasons: Counter[str] = Counter()
        for position in deduped.rejected:
            reasons.update(rejected_reasons[position])
        reasons.update(checked_reasons)
        self._checks = checks
        self.summary = {
            "table": self.table.name,
            "pulled": self.pulled,
            "good": good,
            "quarantined": quarantined,
            "superseded": deduped.superseded,
            "quarantined_share": quarantined / self.pulled if self.pulled else 0.0,
            "tombstones": tombstones,
            "tied_versions": deduped.tied,
            "changes": changes,
            "reasons": dict(reasons.most_common()),
            # Loaded all the same (counted in good): what they break, per check.
            "warned": warned,
            "warnings": dict(breached.most_common()),
            "validation": {"success": checks.success, "rows": checks.rows,
                           "expectations": checks.results()},
            "fields": self._field_drift(),
        }

    def _field_drift(self) -> dict:
        """The fields the registry expects that no record carries (a source
        renaming or dropping one serves nulls the rules would take as truth),
        split by whether the rules read them, and the fields it does not know."""
        expected: dict[str, bool] = {}
        for column in self.table.fields:
            top = column.path[0]
            expected[top] = expected.get(top, False) or column.critical
        served = self._fields if self.pulled else dict.fromkeys(expected, 1)
        absent = [field for field in expected if field not in served]
        return {
            "missing": [field for field in absent if expected[field]],
            "absent": [field for field in absent if not expected[field]],
            "unknown": {str(field): n for field, n in sorted(
                self._fields.items(), key=lambda item: str(item[0])) if field not in expected},
        }

    def judge(self, max_bad_share: float, min_rows_for_share: int, allow_empty: bool) -> None:
        """Raises BatchRejected when the pull as a whole looks broken."""
        judge(self.summary, max_bad_share, min_rows_for_share, allow_empty)

    def results_json(self) -> str:
        """The expectation results in GX's SUMMARY format, as JSON: what the
        Data Docs page of this validation is rendered from (exports/data_docs.py)."""
        assert self._checks is not None, "results exist once the verdicts were taken"
        return json.dumps(self._checks.gx_results(), ensure_ascii=False, default=str)
