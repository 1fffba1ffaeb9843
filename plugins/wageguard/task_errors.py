"""What a stage's task does and says when something fails.

A retry is worth its wait when the cause may pass: a source down or
overloaded, the warehouse held by another run, a hang cut short. These fail
the same way every time until someone changes the data, a suite, a
connection or the run date, so `fail_fast` fails the task on its first try
and the alert goes out then, not after the retries:
- a pull rejected as a whole (validate.split.BatchRejected);
- a suite the validator cannot honour (validate.gx_suites.SuiteError);
- a source that redirects out of its origin, credentials refused over plain
  HTTP, a source that answers 401 or 403 (sources/);
- a night later than today, a night run after a later one, a night whose
  sources drifted beyond the thresholds.

Records a load turns away are no failure of the task; `log_failed_checks`
names in its log the checks they failed most.

Airflow and the stages' modules are imported only when they are needed, so
the DAG files import this module at parse time for nothing."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


def _lasting() -> tuple[type[BaseException], ...]:
    from wageguard.pipeline import FutureNightError
    from wageguard.sources.config import InsecureSourceError
    from wageguard.sources.http_session import CredentialsRefusedError, RedirectRefusedError
    from wageguard.validate.gx_suites import SuiteError
    from wageguard.validate.night_drift import NightDrift
    from wageguard.validate.split import BatchRejected
    from wageguard.warehouse.night import LateNightError

    return (BatchRejected, SuiteError, RedirectRefusedError, CredentialsRefusedError,
            InsecureSourceError, FutureNightError, LateNightError, NightDrift)


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    """The error and what it was raised from or while handling: a refused
    redirect reaches the task wrapped in the pull's own error."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def cannot_pass(error: BaseException) -> bool:
    """Whether a retry of the task would fail the same way."""
    lasting = _lasting()
    return any(isinstance(e, lasting) for e in _chain(error))


@contextmanager
def fail_fast():
    """Runs a task's work (as a `with` block, or as a decorator: `@fail_fast()`);
    a failure that cannot pass fails the task at once, without its retries."""
    try:
        yield
    except Exception as error:
        if not cannot_pass(error):
            raise
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(
            f"{type(error).__name__}: {error} (not retried: a retry would fail the same way)"
        ) from error


def log_failed_checks(batch_ids: list[str]) -> None:
    """Per table of the batches, how many records went to quarantine and the
    checks they failed most, with their counts; the quarantine table holds
    every record with all its reasons."""
    from sqlalchemy import bindparam, text

    from wageguard.pipeline import engine
    from wageguard.validate.split import TOP_REASONS

    query = text(
        "SELECT source_table, quarantined, validation_summary FROM load_batch "
        "WHERE batch_id IN :ids AND quarantined > 0 ORDER BY source_table, batch_id"
    ).bindparams(bindparam("ids", expanding=True))
    with engine().connect() as conn:
        rows = conn.execute(query, {"ids": batch_ids}).all()
    for table, quarantined, summary in rows:
        reasons = list(json.loads(summary or "{}").get("reasons", {}).items())
        log.warning("%s: %d records quarantined; the checks they failed most: %s", table,
                    quarantined, ", ".join(f"{reason} ({n})" for reason, n in
                                           reasons[:TOP_REASONS]))
