"""The benchmark's figures as tables, and the targets they are held to, each
PASS or MISS with by how much."""

from __future__ import annotations

from dataclasses import dataclass

from wageguard.bench.night import Night

# The straightforward way's stages, as bench/baseline.py names them.
BASELINE_LABELS = {
    "pull": "pull (requests → DataFrames)",
    "gx_import": "GX import",
    "gx": "GX on whole DataFrames",
    "load": "load (DataFrame.to_sql)",
    "rules": "night SQL + rules",
}
_GROUPS = ("extract", "validate", "docs", "load", "merge", "rules", "export")


@dataclass
class Result:
    """Everything measured for one world on one warehouse backend."""

    backend: str
    projects: int
    served: int  # records the sources hold (API versions and bundle rows)
    first: Night
    dag_parse: tuple[float, float]  # (import Airflow, parse beyond it), seconds
    incremental: Night | None = None
    baseline: dict | None = None
    ceiling: tuple[int, float] | None = None  # rows, seconds of raw writes

    def baseline_seconds(self, *names: str) -> float:
        stages = self.baseline["stages"] if self.baseline else []
        return sum(s["seconds"] for s in stages if not names or s["name"] in names)

    def pipeline_validate_load(self) -> float:
        """Validate and load as the baseline's GX and to_sql do them: GX included."""
        return sum(self.first.seconds(group) for group in ("validate", "docs", "load"))

    def end_to_end_ratio(self) -> float | None:
        return self.baseline_seconds() / self.first.window if self.baseline else None

    def validate_load_ratio(self) -> float | None:
        if not self.baseline:
            return None
        return self.baseline_seconds("gx_import", "gx", "load") / self.pipeline_validate_load()

    def load_rate(self) -> float:
        return self.first.rows("load") / self.first.seconds("load")

    def ceiling_share(self) -> float | None:
        """The load stage's rate as a share of the raw-write ceiling, in %."""
        if not self.ceiling:
            return None
        rows, seconds = self.ceiling
        return self.load_rate() / (rows / seconds) * 100


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:>10,.0f}" if rows and seconds > 0 else f"{'':>10}"


def _line(label: str, seconds: float, rows: int, peak: float | None) -> str:
    peak_text = f"{peak:>9.0f}" if peak else f"{'':>9}"
    rows_text = f"{rows:>10,}" if rows else f"{'':>10}"
    return f"  {label:<44}{seconds:>8.2f}{rows_text}{_rate(rows, seconds)}{peak_text}"


def _header(title: str) -> list[str]:
    return [title, f"  {'stage':<44}{'seconds':>8}{'rows':>10}{'rows/s':>10}{'peak MB':>9}"]


def night_table(night: Night, title: str) -> list[str]:
    out = _header(title)
    for stage in night.stages:
        out.append(_line(stage.name, stage.seconds, stage.rows, stage.peak_mb))
    out.append("  " + "-" * 81)
    for group in _GROUPS:
        members = [s for s in night.stages if s.group == group]
        out.append(_line(f"{group} (all)", night.seconds(group), night.rows(group),
                         max((s.peak_mb for s in members), default=0)))
    out.append(_line("Airflow between tasks (window − stages)", night.window - night.staged(),
                     0, None))
    out.append(_line("pipeline: first request → last export written", night.window,
                     night.pulled, night.peak_mb))
    return out


def baseline_table(result: Result) -> list[str]:
    out = _header("the straightforward way, same world, same warehouse backend")
    for stage in result.baseline["stages"]:
        out.append(_line(BASELINE_LABELS[stage["name"]], stage["seconds"], stage["rows"],
                         stage["peak_mb"]))
    out.append(_line("baseline total", result.baseline_seconds(), 0, result.baseline["peak_mb"]))
    return out


def size_report(result: Result) -> list[str]:
    first = result.first
    out = [(f"== {result.projects:,} projects on {result.backend}: {result.served:,} records "
           f"served, {first.pulled:,} pulled by the first night")]
    out += night_table(first, f"first night {first.run_date} (airflow dags test)")
    if result.baseline:
        out += [""] + baseline_table(result)
        total, exports_left_out = result.baseline_seconds(), _through_rules(first)
        baseline_vl = result.baseline_seconds("gx_import", "gx", "load")
        out += [
            "  ratios (baseline ÷ pipeline):",
            (f"    end to end: {total:.2f} s ÷ {first.window:.2f} s = "
            f"{result.end_to_end_ratio():.2f}×"),
            (f"    exports left out: {total:.2f} s ÷ {exports_left_out:.2f} s = "
            f"{total / exports_left_out:.2f}×"),
            (f"    validate + load, GX included: {baseline_vl:.2f} s ÷ "
            f"{result.pipeline_validate_load():.2f} s = {result.validate_load_ratio():.2f}×"),
        ]
    if result.ceiling:
        rows, seconds = result.ceiling
        how = "COPY" if result.backend == "postgresql" else "executemany"
        out.append(f"  load ceiling: raw {how} of the same {rows:,} rows into keyed tables: "
                   f"{rows / seconds:,.0f} rows/s; the load stage: {result.load_rate():,.0f} "
                   f"rows/s = {result.ceiling_share():.0f}% of it")
    if result.incremental:
        out += [""] + night_table(result.incremental,
                                  f"incremental night {result.incremental.run_date}")
    return out


def _through_rules(night: Night) -> float:
    export = night.seconds("export")
    return night.window - export


@dataclass
class Target:
    text: str
    measured: float | None
    limit: float
    unit: str
    at_most: bool = True  # the measured value must not exceed the limit (else: reach it)
    where: str = ""

    def line(self) -> str:
        if self.measured is None:
            return f"  [----] {self.text}: not measured{self.where}"
        ok = self.measured <= self.limit if self.at_most else self.measured >= self.limit
        gap = abs(self.measured - self.limit)
        verdict = "PASS" if ok else "MISS"
        how = ("under" if self.at_most else "over") if ok else ("over" if self.at_most
                                                                  else "short")
        share = f", {gap / self.limit:.0%}" if self.limit else ""
        return (f"  [{verdict}] {self.text}: {self.measured:.2f}{self.unit} "
                f"({gap:.2f}{self.unit} {how} the {self.limit:g}{self.unit}{share}){self.where}")


def targets(results: list[Result], province: int) -> list[Target]:
    """The targets, measured at `province` projects (or the largest world run)."""
    def at(backend: str) -> Result | None:
        runs = sorted((r for r in results if r.backend == backend), key=lambda r: r.projects)
        exact = [r for r in runs if r.projects == province]
        return (exact or runs or [None])[-1]

    lite, pg = at("sqlite"), at("postgresql")
    where = f" (at {lite.projects:,} projects)" if lite else " (run with --backend sqlite)"
    out = [
        Target("full first night, embedded warehouse, through the exports",
               lite.first.window if lite else None, 15, " s", where=where),
        Target("end to end, baseline ÷ pipeline",
               lite.end_to_end_ratio() if lite else None, 2, "×", at_most=False, where=where),
        Target("validate + load, baseline ÷ pipeline",
               lite.validate_load_ratio() if lite else None, 3, "×", at_most=False,
               where=where),
        Target("incremental night, 1% changed",
               lite.incremental.window if lite and lite.incremental else None, 5, " s",
               where=where),
    ]
    peaks = [n.peak_mb for r in results for n in (r.first, r.incremental) if n]
    out.append(Target("peak RSS of the Airflow process", max(peaks, default=None), 512, " MB",
                      where=f" (highest of {len(peaks)} nights)"))
    pairs = [(small, large) for small in results for large in results
             if large.backend == small.backend and large.projects == 10 * small.projects]
    out += [Target(f"peak RSS at 10× the world ({small.projects:,} → {large.projects:,} "
                   f"projects, {small.backend})", large.first.peak_mb / small.first.peak_mb,
                   1.2, "×") for small, large in pairs]
    if not pairs:
        out.append(Target("peak RSS at 10× the world", None, 1.2, "×",
                          where=" (run two sizes ten times apart)"))
    out.append(Target("load stage on PostgreSQL, share of the raw COPY rate",
                      pg.ceiling_share() if pg else None, 50, " %", at_most=False,
                      where=f" (at {pg.projects:,} projects)" if pg
                      else " (run with --backend postgresql)"))
    out.append(Target("parsing the DAG files beyond importing Airflow",
                      results[0].dag_parse[1] if results else None, 0.5, " s"))
    return out
