"""One night of the real pipeline, measured: the world served by the local
source systems, `airflow dags test wageguard_nightly D` run against them, and
what each stage took read back from the run ledger, with the peak memory of
the Airflow process over each stage's window."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from wageguard.plan import DAG_ID
from wageguard.warehouse.engine import make_engine

from wageguard_dev.airflow_env import airflow, demo_source_connections
from wageguard_dev.bench.memory import MemorySampler
from wageguard_dev.demo.world import World

# What each stage's rows are, as its ledger entry counts them.
_ROWS = {"extract": "rows_out", "validate": "rows_in", "docs": "rows_out", "load": "rows_out",
         "merge": "rows_out", "rules": "rows_out", "export": "rows_out"}


class NightFailed(RuntimeError):
    pass


@dataclass
class Stage:
    name: str  # as in the ledger: extract:projects, validate:projects, load:…, merge, …
    seconds: float
    rows: int
    started: float  # wall time
    peak_mb: float = 0.0

    @property
    def group(self) -> str:
        return self.name.split(":")[0]


@dataclass
class Night:
    run_date: dt.date
    window: float  # first request to last export written, seconds
    stages: list[Stage]
    peak_mb: float  # the Airflow process over the whole run
    counts: dict[str, dict] = field(default_factory=dict)  # per table: pulled, loaded, …

    @property
    def pulled(self) -> int:
        return sum(c["pulled"] for c in self.counts.values())

    @property
    def loaded(self) -> int:
        return sum(c["loaded"] for c in self.counts.values())

    def seconds(self, group: str) -> float:
        return sum(s.seconds for s in self.stages if s.group == group)

    def rows(self, group: str) -> int:
        return sum(s.rows for s in self.stages if s.group == group)

    def staged(self) -> float:
        """Seconds of the stages that run one after another: the Data Docs are
        rendered in a process of their own alongside the export."""
        return sum(s.seconds for s in self.stages if s.group != "docs")


def run_night(world: World, *, env: dict[str, str], warehouse_url: str, workdir: Path,
              log_file: Path) -> Night:
    """Night `world.run_date` as Airflow runs it, against `world` served fresh."""
    run_date = world.run_date
    with demo_source_connections(world, workdir / f"sources-{run_date}") as (src, connections):
        night_env = {**env, **connections, "WAGEGUARD_WAREHOUSE_URL": warehouse_url}
        with MemorySampler() as memory:
            result = airflow(["dags", "test", DAG_ID, run_date.isoformat()], night_env,
                             log_file, check=False)
        first_request = min(t for t in (src.housing.first_request_at,
                                        src.credit.first_request_at) if t is not None)
    if result.returncode != 0:
        raise NightFailed(f"night {run_date} failed (exit {result.returncode}); "
                          f"the end of {log_file} says why")
    stages, counts = _ledger(warehouse_url, run_date)
    for stage in stages:
        stage.peak_mb = memory.peak_mb(stage.started, stage.started + stage.seconds)
    # The dev-reform bundle is read from a folder: its pull starts with its task.
    start = min([first_request] + [s.started for s in stages if s.name == "extract:devreform"])
    export = next(s for s in stages if s.name == "export")
    return Night(run_date=run_date, window=export.started + export.seconds - start,
                 stages=stages, peak_mb=memory.peak_mb(), counts=counts)


def _ledger(warehouse_url: str, run_date: dt.date) -> tuple[list[Stage], dict[str, dict]]:
    engine = make_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT stage, started_at, seconds, rows_in, rows_out FROM stage_run "
                "WHERE run_date = :d ORDER BY started_at, stage"), {"d": run_date}).mappings().all()
            batches = conn.execute(text(
                "SELECT source_table, pulled, loaded, quarantined, superseded, unchanged "
                "FROM load_batch "
                "WHERE run_date = :d AND status = 'loaded'"), {"d": run_date}).mappings().all()
    finally:
        engine.dispose()
    stages = [
        Stage(name=r["stage"], seconds=r["seconds"],
              rows=r[_ROWS.get(r["stage"].split(":")[0], "rows_out")] or 0,
              started=dt.datetime.fromisoformat(r["started_at"]).timestamp())
        for r in rows if r["stage"].split(":")[0] in _ROWS
    ]
    return stages, {b["source_table"]: dict(b) for b in batches}
