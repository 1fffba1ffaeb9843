"""`wageguard-dev bench`: for each world size and warehouse backend, generate the
province, run the real first night under `airflow dags test`, the raw-write
ceiling of the rows it loaded, the straightforward way beside it on the same
world, and an incremental night with a share of the records changed; print
every figure and the targets. With --nights, the time axis instead: nights in a
row on one warehouse, the sources serving each night the world of the night
before with a share changed, and what each night costs in seconds and bytes."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from wageguard.exports.signing import KEY_FILE_ENV, generate_key_pair
from wageguard.landing.store import canonical
from wageguard.paths import var_dir
from wageguard.pipeline import latest_runnable_night
from wageguard.plan import TIMEZONE

from wageguard_dev.airflow_env import base_env, ensure_metadata_db
from wageguard_dev.bench.ceiling import raw_write_rate
from wageguard_dev.bench.dag_parse import dag_parse_seconds
from wageguard_dev.bench.night import run_night
from wageguard_dev.bench.options import PROVINCE
from wageguard_dev.bench.report import (
    AxisNight,
    Result,
    TimeAxis,
    axis_header,
    axis_line,
    axis_summary,
    axis_targets,
    size_report,
    targets,
)
from wageguard_dev.bench.warehouse import fresh_warehouse, table_bytes, warehouse_bytes
from wageguard_dev.demo.night_after import changed_records, the_night_after
from wageguard_dev.demo.sources import running_sources
from wageguard_dev.demo.world import World, generate_world


def machine() -> str:
    memory = psutil.virtual_memory().total / 2**30
    return (f"{platform.node()}: {psutil.cpu_count()} cores ({platform.processor() or '?'}), "
            f"{memory:.0f} GB, {platform.python_implementation()} {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def _served(world: World) -> int:
    return sum(len(world.rows(t)) for t in (
        "projects", "wage_accounts", "wage_deposits", "realname_monthly", "enterprises",
        "list_entries", "investment_projects", "fund_disbursements"))


def run_baseline(world: World, warehouse_url: str, workdir: Path, env: dict) -> dict:
    """The straightforward way in a process of its own, against `world` served fresh."""
    with running_sources(world, workdir=workdir / "sources-baseline", ports=(0, 0, 0),
                         clock=lambda: world.as_of) as src:
        spec = {"housing": {"url": src.housing_url, "token": src.token},
                "credit": {"url": src.credit_url, "api_key": src.api_key},
                "exchange_dir": str(src.exchange_dir), "run_date": world.run_date.isoformat(),
                "warehouse_url": warehouse_url}
        with (workdir / "baseline.log").open("w", encoding="utf-8") as log:
            done = subprocess.run([sys.executable, "-m", "wageguard_dev.bench.baseline",
                                   json.dumps(spec)], env=env, stdout=subprocess.PIPE,
                                  stderr=log, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the baseline failed; see {workdir / 'baseline.log'}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _prepare(args: argparse.Namespace, folder: Path, backend: str, projects: int,
             then: str) -> tuple[Path, Path, World]:
    """The run's folder and a fresh Airflow log in it, and the generated world."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "airflow.log"
    log.unlink(missing_ok=True)
    started = time.monotonic()
    world = generate_world(projects=projects, seed=args.seed, run_date=args.date)
    print(f"-- {projects:,} projects on {backend}: world generated in "
          f"{time.monotonic() - started:.0f} s; {then} …", flush=True)
    return folder, log, world


def measure(args: argparse.Namespace, backend: str, projects: int, env: dict,
            parse: tuple[float, float], workdir: Path) -> Result:
    folder, log, world = _prepare(args, workdir / f"{backend}-{projects}", backend, projects,
                                  "first night")
    night_env = {**env, "WAGEGUARD_OUTPUT_DIR": str(folder / "output")}
    warehouse = fresh_warehouse(backend, folder, "warehouse", args.pg_url)
    result = Result(backend=backend, projects=projects, served=_served(world),
                    first=run_night(world, env=night_env, warehouse_url=warehouse,
                                    workdir=folder, log_file=log),
                    dag_parse=parse)
    result.ceiling = raw_write_rate(warehouse)
    if not args.no_baseline:
        print("   the straightforward way …", flush=True)
        result.baseline = run_baseline(
            world, fresh_warehouse(backend, folder, "baseline", args.pg_url), folder, env)
    if not args.no_incremental:
        print(f"   incremental night ({args.changed:.0%} changed) …", flush=True)
        result.incremental = run_night(the_night_after(world, args.changed), env=night_env,
                                       warehouse_url=warehouse, workdir=folder, log_file=log)
    return result


def measure_nights(args: argparse.Namespace, backend: str, projects: int, env: dict,
                   workdir: Path) -> TimeAxis:
    folder, log, world = _prepare(args, workdir / f"{backend}-{projects}-nights", backend,
                                  projects, f"{args.nights} nights")
    output = folder / "output"
    night_env = {**env, "WAGEGUARD_OUTPUT_DIR": str(output)}
    warehouse = fresh_warehouse(backend, folder, "warehouse", args.pg_url)
    axis = TimeAxis(backend=backend, projects=projects, changed=args.changed,
                    start_bytes=warehouse_bytes(warehouse))
    print("\n".join(axis_header(axis)), flush=True)
    before: World | None = None
    published: set[tuple[int, int]] = set()  # the files kept so far, by device and inode
    for number in range(1, args.nights + 1):
        if before:
            world = the_night_after(before, args.changed)
        # Each night's exchange is a whole snapshot: a month of them would fill the disk.
        with tempfile.TemporaryDirectory(dir=folder) as sources:
            night = run_night(world, env=night_env, warehouse_url=warehouse,
                              workdir=Path(sources), log_file=log)
        changed = changed_records(before, world) if before else []
        axis.nights.append(AxisNight(
            night=night, bytes=warehouse_bytes(warehouse),
            changed_bytes=sum(len(canonical(r).encode()) for r in changed),
            published_bytes=_new_bytes(output / night.run_date.isoformat(), published),
            tables=table_bytes(warehouse) if number in (1, args.nights) else None))
        print(axis_line(axis, number - 1), flush=True)
        before = world
    print("\n".join(axis_summary(axis)) + "\n", flush=True)
    return axis


def _new_bytes(folder: Path, kept: set[tuple[int, int]]) -> int:
    """The bytes of `folder`'s files not `kept` already (a file a night shares
    with an earlier night is a hard link to it: exports/publish.py); adds them."""
    added = 0
    for path in folder.rglob("*"):
        if path.is_file():
            stat = path.stat()
            if (stat.st_dev, stat.st_ino) not in kept:
                kept.add((stat.st_dev, stat.st_ino))
                added += stat.st_size
    return added


def _refuse_nights_after_today(args: argparse.Namespace) -> None:
    """The pipeline runs no night before its day (pipeline.refuse_future_night):
    said before a world is made, not at the night that would fail."""
    # Without --nights: the first night, and the incremental one unless skipped.
    nights = args.nights or (1 if args.no_incremental else 2)
    last = args.date + dt.timedelta(days=nights - 1)
    latest = latest_runnable_night()
    if last > latest:
        raise SystemExit(
            f"{nights} nights from --date {args.date} end on {last}, after today ({latest} in "
            f"{TIMEZONE}): the pipeline runs a night once its day has come. Pass --date "
            f"{latest - dt.timedelta(days=nights - 1)} or earlier.")


def run(args: argparse.Namespace) -> int:
    _refuse_nights_after_today(args)
    workdir = (args.workdir or var_dir("bench")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    env = base_env(workdir)
    if not (workdir / "keys" / "signing_key.pem").exists():
        generate_key_pair(workdir / "keys")
    env[KEY_FILE_ENV] = str(workdir / "keys" / "signing_key.pem")
    for name in [n for n in env if n.startswith(("WAGEGUARD_", "AIRFLOW_CONN_"))]:
        if name not in ("WAGEGUARD_HOME", KEY_FILE_ENV):
            del env[name]  # the benchmark's own warehouse, outputs and sources only
    print(f"wageguard benchmark, {dt.datetime.now():%Y-%m-%d %H:%M}, {machine()}")
    print(f"preparing Airflow's metadata database in {env['AIRFLOW_HOME']} …", flush=True)
    ensure_metadata_db(env, workdir / "airflow-db.log")
    results: list[TimeAxis] | list[Result]
    if args.nights:
        axes = [measure_nights(args, backend, projects, env, workdir)
                for backend in args.backend for projects in args.projects]
        results, checks = axes, axis_targets(axes)
    else:
        parse = dag_parse_seconds(env)
        print(f"DAG files: importing Airflow {parse[0]:.2f} s, parsing dags/ beyond it "
              f"{parse[1]:.2f} s\n")
        measured: list[Result] = []
        for backend in args.backend:
            for projects in args.projects:
                measured.append(measure(args, backend, projects, env, parse, workdir))
                print("\n".join(size_report(measured[-1])) + "\n", flush=True)
        results, checks = measured, targets(measured, PROVINCE)
    print("targets (issue #13), on this machine:")
    print("\n".join(t.line() for t in checks))
    if args.json:
        args.json.write_text(json.dumps({
            "machine": machine(), "results": [dataclasses.asdict(r) for r in results],
            "targets": [dataclasses.asdict(t) for t in checks],
        }, indent=2, default=str), encoding="utf-8")
    return 0
