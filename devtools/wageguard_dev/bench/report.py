"""The benchmark's figures as tables, and the targets they are held to, each
PASS or MISS with by how much (issue #13's, and issue #8's it did not
restate): for single nights and for the time axis, nights in a row on one
warehouse."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from wageguard_dev.bench.night import Night

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
    # A stage printed as 0.00 s (the rows counted, not read again) has no rate.
    return f"{rows / seconds:>10,.0f}" if rows and round(seconds, 2) > 0 else f"{'':>10}"


def stage_line(label: str, seconds: float, rows: int, peak: float | None) -> str:
    peak_text = f"{peak:>9.0f}" if peak else f"{'':>9}"
    rows_text = f"{rows:>10,}" if rows else f"{'':>10}"
    return f"  {label:<44}{seconds:>8.2f}{rows_text}{_rate(rows, seconds)}{peak_text}"


def _header(title: str) -> list[str]:
    return [title, f"  {'stage':<44}{'seconds':>8}{'rows':>10}{'rows/s':>10}{'peak MB':>9}"]


def night_table(night: Night, title: str) -> list[str]:
    out = _header(title)
    for stage in night.stages:
        out.append(stage_line(stage.name, stage.seconds, stage.rows, stage.peak_mb))
    out.append("  " + "-" * 81)
    for group in _GROUPS:
        members = [s for s in night.stages if s.group == group]
        out.append(stage_line(f"{group} (all)", night.seconds(group), night.rows(group),
                         max((s.peak_mb for s in members), default=0)))
    out.append(stage_line("Airflow between tasks (window − stages)", night.window - night.staged(),
                     0, None))
    out.append(stage_line("pipeline: first request → last export written", night.window,
                     night.pulled, night.peak_mb))
    return out


def baseline_table(result: Result) -> list[str]:
    baseline = result.baseline
    assert baseline is not None, "only a result measured with its baseline has the table"
    out = _header("the straightforward way, same world, same warehouse backend")
    for stage in baseline["stages"]:
        out.append(stage_line(BASELINE_LABELS[stage["name"]], stage["seconds"], stage["rows"],
                         stage["peak_mb"]))
    out.append(stage_line("baseline total", result.baseline_seconds(), 0, baseline["peak_mb"]))
    return out


def size_report(result: Result) -> list[str]:
    first = result.first
    out = [(f"== {result.projects:,} projects on {result.backend}: {result.served:,} records "
           f"served, {first.pulled:,} pulled by the first night")]
    out += night_table(first, f"first night {first.run_date} (airflow dags test)")
    if result.baseline:
        out += ["", *baseline_table(result)]
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
        title = f"incremental night {result.incremental.run_date}"
        out += ["", *night_table(result.incremental, title)]
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
    """Issue #13's targets for single nights, measured at `province` projects
    (or the largest world run), with what issue #8 set and #13 did not restate."""
    def at(backend: str) -> Result | None:
        runs = sorted((r for r in results if r.backend == backend), key=lambda r: r.projects)
        exact = [r for r in runs if r.projects == province]
        chosen = exact or runs
        return chosen[-1] if chosen else None

    def where_of(result: Result | None, backend: str) -> str:
        return (f" (at {result.projects:,} projects, {backend})" if result
                else f" (run with --backend {backend})")

    lite, pg = at("sqlite"), at("postgresql")
    out = [
        Target("first night through the exports", lite.first.window if lite else None, 15,
               " s", where=where_of(lite, "sqlite")),
        Target("incremental night, 1% changed",
               lite.incremental.window if lite and lite.incremental else None, 8, " s",
               where=where_of(lite, "sqlite")),
    ]
    out += [Target("end to end, baseline ÷ pipeline",
                   result.end_to_end_ratio() if result else None, 1.5, "×", at_most=False,
                   where=where_of(result, backend))
            for backend, result in (("sqlite", lite), ("postgresql", pg))]
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
    out.append(Target("load stage on PostgreSQL, share of the raw COPY rate (#8)",
                      pg.ceiling_share() if pg else None, 50, " %", at_most=False,
                      where=where_of(pg, "postgresql")))
    out.append(Target("parsing the DAG files beyond importing Airflow (#8)",
                      results[0].dag_parse[1] if results else None, 0.5, " s"))
    return out


MB, GB = 2**20, 2**30
YEAR = 365  # nights, for the projection
AXIS_PROVINCE = 20_000  # projects: the scale the storage targets are set at
SLOWDOWN_NIGHT = 30  # the night held to the 2nd's seconds


@dataclass
class AxisNight:
    night: Night
    bytes: int  # the warehouse on disk after the night
    changed_bytes: int  # canonical JSON of the records the sources changed since the night before
    published_bytes: int  # what the night's output folder added beside the warehouse
    tables: dict[str, int] | None = None  # bytes per table; after the first and last nights only


@dataclass
class TimeAxis:
    """Nights in a row on one province and one warehouse, each served the
    world of the night before with a share of its records changed."""

    backend: str
    projects: int
    changed: float  # the share of records changed before each night after the first
    start_bytes: int  # the empty, migrated warehouse
    nights: list[AxisNight] = field(default_factory=list)

    def growth(self, index: int) -> int:
        before = self.nights[index - 1].bytes if index else self.start_bytes
        return self.nights[index].bytes - before

    def later_growth(self) -> list[int]:
        """Each night's growth after the first, which fills an empty warehouse."""
        return [self.growth(i) for i in range(1, len(self.nights))]

    def mean_growth(self) -> float:
        later = self.later_growth()
        return sum(later) / len(later)

    def changed_bytes(self) -> int:
        return sum(n.changed_bytes for n in self.nights[1:])

    def growth_per_changed_byte(self) -> float | None:
        changed = self.changed_bytes()
        return sum(self.later_growth()) / changed if changed else None

    def slowdown(self) -> float:
        """The last night's seconds ÷ the 2nd's: the 1st fills an empty warehouse."""
        return self.nights[-1].night.window / self.nights[1].night.window

    def seconds_trend(self) -> tuple[float, float]:
        """The least-squares line through the seconds of nights 2–N: (its slope,
        in seconds a night; its value at night N ÷ its value at night 2). One
        night's seconds move ±30% with what else the machine runs; the line
        says whether nights grow slower as the warehouse ages."""
        later = [n.night.window for n in self.nights[1:]]
        if len(later) < 2:
            return 0.0, 1.0
        slope, intercept = statistics.linear_regression(range(len(later)), later)
        return slope, (intercept + slope * (len(later) - 1)) / intercept

    def year_bytes(self) -> float:
        return self.nights[0].bytes + (YEAR - 1) * self.mean_growth()

    def table_growth(self) -> list[tuple[str, float]]:
        """Each table's mean growth a night after the first, largest first."""
        first, last = self.nights[0].tables or {}, self.nights[-1].tables or {}
        later = len(self.nights) - 1
        grown = {t: (last.get(t, 0) - first.get(t, 0)) / later for t in first.keys() | last}
        return sorted(grown.items(), key=lambda item: (-item[1], item[0]))

    def mean_published(self) -> float:
        """What a night after the first added to the published files, on average:
        the first publishes everything, later ones share what did not change."""
        later = [n.published_bytes for n in self.nights[1:]] or [self.nights[0].published_bytes]
        return sum(later) / len(later)

    def year_published(self) -> float:
        return self.nights[0].published_bytes + (YEAR - 1) * self.mean_published()

    def share(self) -> str:
        return f"{self.changed * 100:g}%"


def axis_header(axis: TimeAxis) -> list[str]:
    return [(f"== {axis.projects:,} projects on {axis.backend}, night after night, "
             f"{axis.share()} of the records changed before each night after the first"),
            (f"  {'night':>5}  {'run date':<10}{'seconds':>9}{'pulled':>10}{'loaded':>10}"
             f"{'peak MB':>9}{'warehouse MB':>14}{'growth MB':>11}{'changed MB':>12}"
             f"{'published MB':>14}")]


def axis_line(axis: TimeAxis, index: int) -> str:
    """Night `index` (from 0): its seconds, the warehouse after it, the growth
    since the night before and the canonical JSON bytes of what changed for it."""
    each = axis.nights[index]
    night = each.night
    changed = f"{each.changed_bytes / MB:>12.3f}" if index else f"{'':>12}"
    return (f"  {index + 1:>5}  {night.run_date!s:<10}{night.window:>9.2f}{night.pulled:>10,}"
            f"{night.loaded:>10,}{night.peak_mb:>9.0f}{each.bytes / MB:>14.2f}"
            f"{axis.growth(index) / MB:>+11.3f}{changed}{each.published_bytes / MB:>14.2f}")


def axis_summary(axis: TimeAxis) -> list[str]:
    last, later = len(axis.nights), axis.later_growth()
    kind = "an unchanged night" if axis.changed == 0 else f"a night with {axis.share()} changed"
    mean = axis.mean_growth()
    out = ["  " + "-" * 93,
           (f"  growth of {kind} (nights 2–{last}): mean {mean / MB:+.3f} MB, "
            f"least {min(later) / MB:+.3f} MB, most {max(later) / MB:+.3f} MB")]
    if (ratio := axis.growth_per_changed_byte()) is not None:
        out.append(f"    {ratio:.2f}× the {axis.changed_bytes() / (last - 1) / MB:.3f} MB a "
                   "night of changed payloads (canonical JSON)")
    second, final = axis.nights[1].night.window, axis.nights[-1].night.window
    out.append(f"  seconds, night {last} ÷ night 2: {final:.2f} s ÷ {second:.2f} s = "
               f"{axis.slowdown():.2f}×")
    slope, ratio = axis.seconds_trend()
    out.append(f"    the least-squares line through nights 2–{last}: {slope:+.3f} s a night, "
               f"night {last} ÷ night 2 on it {ratio:.2f}×")
    out.append(f"  a year ({YEAR} nights) at the mean growth: {axis.year_bytes() / GB:.2f} GB "
               f"({axis.nights[0].bytes / MB:.2f} MB after night 1 + {YEAR - 1} × "
               f"{mean / MB:+.3f} MB)")
    if grown := axis.table_growth()[:6]:
        out.append("  where it grew, a night after the first: " + ", ".join(
            f"{table} {size / MB:+.3f} MB" for table, size in grown))
    out.append(f"  published files, beside the warehouse: "
               f"{axis.nights[0].published_bytes / MB:.2f} MB the first night, "
               f"{axis.mean_published() / MB:.2f} MB a night after it, "
               f"{axis.year_published() / GB:.2f} GB a year")
    return out


def axis_targets(axes: list[TimeAxis]) -> list[Target]:
    out = []
    for axis in axes:
        last = len(axis.nights)
        where = f" ({axis.projects:,} projects, {axis.backend}, nights 2–{last})"
        if axis.changed == 0:
            scale = "" if axis.projects == AXIS_PROVINCE else f", set at {AXIS_PROVINCE:,}"
            out.append(Target(f"growth of an unchanged night, mean{scale}",
                              axis.mean_growth() / MB, 1, " MB", where=where))
        else:
            out.append(Target(f"growth of a night with {axis.share()} changed ÷ its changed "
                              "payloads", axis.growth_per_changed_byte(), 3, "×", where=where))
        asked = "" if last == SLOWDOWN_NIGHT else f", set at night {SLOWDOWN_NIGHT}"
        out.append(Target(f"seconds of night {last} ÷ night 2's{asked}", axis.slowdown(), 1.1,
                          "×", where=f" ({axis.projects:,} projects, {axis.backend})"))
    return out
