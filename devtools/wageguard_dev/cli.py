"""The commands of the development tools: a generated province, its local
source systems, and the pipeline run on them.

    wageguard-dev demo    run one night end to end on the embedded warehouse,
                          against local source systems serving a generated province
    wageguard-dev cluster-night
                          the same night under a real scheduler on this machine: the
                          CeleryExecutor with N workers, or the LocalExecutor
    wageguard-dev serve   serve a generated province as the three source systems
    wageguard-dev airflow ARGS...
                          the Airflow CLI with this repository's DAGs and AIRFLOW_HOME
    wageguard-dev bench   time the nightly pipeline on generated provinces against the
                          straightforward way, and check the targets (docs/benchmarks.md)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from wageguard.plan import DAG_ID

from wageguard_dev.bench import options as bench_options
from wageguard_dev.cluster_night import DEFAULT_BROKER_URL, DEFAULT_METADATA_URL, EXECUTORS

DEFAULT_DATE = dt.date(2026, 11, 21)


def _world_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--projects", type=int, default=3000,
                        help="size of the generated province (default 3000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--date", type=dt.date.fromisoformat, default=DEFAULT_DATE,
                        help="run date D, YYYY-MM-DD (default %(default)s)")


def _demo_signing_key(env: dict[str, str]) -> Path:
    """The demo's key pair in var/keys/ (made once), signing unless the
    environment names another key; returns its folder."""
    from wageguard.exports.signing import KEY_ENV, KEY_FILE_ENV, generate_key_pair
    from wageguard.paths import var_dir

    keys = var_dir("keys")
    if not (keys / "signing_key.pem").exists():
        generate_key_pair(keys)
    if not (env.get(KEY_ENV) or env.get(KEY_FILE_ENV)):
        env[KEY_FILE_ENV] = str(keys / "signing_key.pem")
    return keys


def cmd_demo(args: argparse.Namespace) -> int:
    from wageguard.delivery.roster import ROSTER_ENV
    from wageguard.exports.publish import output_root
    from wageguard.paths import home_dir, var_dir

    from wageguard_dev.airflow_env import (
        airflow,
        base_env,
        demo_source_connections,
        ensure_metadata_db,
    )
    from wageguard_dev.demo.roster import write_demo_roster
    from wageguard_dev.demo.world import generate_world

    home = home_dir()
    os.environ["WAGEGUARD_HOME"] = str(home)  # the Airflow run below inherits it
    log_file = var_dir("demo.log")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    print(f"[1/4] generating a province of {args.projects} projects (seed {args.seed}) "
          f"for night {args.date}")
    world = generate_world(projects=args.projects, seed=args.seed, run_date=args.date)
    env = base_env(home)
    keys = _demo_signing_key(env)
    if not env.get(ROSTER_ENV):
        env[ROSTER_ENV] = str(var_dir("roster.csv"))
        left_off = write_demo_roster(Path(env[ROSTER_ENV]), args.seed)
        print(f"      inspectors' roster: {env[ROSTER_ENV]} ({left_off.code} {left_off.name} "
              "left off on purpose: delivery reports it)")
    print(f"[2/4] preparing Airflow's metadata database in {env['AIRFLOW_HOME']}")
    ensure_metadata_db(env, log_file)
    with demo_source_connections(world, var_dir("sources")) as (src, connections):
        print(f"[3/4] local sources up: housing {src.housing_url}, credit {src.credit_url}, "
              f"dev-reform exchange {src.exchange_dir}")
        env.update(connections)
        print(f"[4/4] airflow dags test {DAG_ID} {args.date} (log: {log_file})")
        result = airflow(["dags", "test", DAG_ID, args.date.isoformat()], env, log_file,
                         check=False)
    folder = output_root() / args.date.isoformat()
    report_path = folder / "run_report.json"
    if result.returncode != 0 or not report_path.exists():
        print(f"the run failed (exit {result.returncode}); the end of {log_file} says why",
              file=sys.stderr)
        return result.returncode or 1
    report = json.loads(report_path.read_text(encoding="utf-8"))
    print(f"\ndone in {time.monotonic() - started:.0f} s. Outputs: {folder}")
    print("  flags per rule: " + ", ".join(f"{k} {v}" for k, v in report["flags_per_rule"].items()))
    for table, c in report["sources"].items():
        print(f"  {table:20} pulled {c['pulled']:>7}  loaded {c['loaded']:>7}  "
              f"quarantined {c['quarantined']:>5}  superseded {c['superseded']:>5}")
    print(f"  district lists: {folder / 'lists'}  blacklist: {folder / 'blacklist'}")
    print(f"  supervision board: {(folder / 'dashboard' / 'index.html').as_uri()}")
    print(f"  verify the blacklist: wageguard verify {folder / 'blacklist'} "
          f"--public-key {keys / 'public_key.pem'}")
    return 0


def cmd_cluster_night(args: argparse.Namespace) -> int:
    from wageguard.paths import home_dir
    from wageguard.warehouse.engine import DEFAULT_URL_ENV

    from wageguard_dev.airflow_env import base_env
    from wageguard_dev.cluster_night import Cluster, ClusterFailed, night_on_cluster

    home = home_dir()
    # The cluster's processes inherit both; this one finds the outputs with them.
    os.environ["WAGEGUARD_HOME"] = str(home)
    if args.warehouse:
        os.environ[DEFAULT_URL_ENV] = args.warehouse
    env = base_env(home)
    _demo_signing_key(env)
    cluster = Cluster(executor=args.executor, workers=args.workers,
                      concurrency=args.concurrency, metadata_url=args.metadata_db,
                      broker_url=args.broker)
    try:
        night_on_cluster(args.date, projects=args.projects, seed=args.seed, cluster=cluster,
                         env=env, timeout=args.timeout)
    except ClusterFailed as failure:
        print(f"\nthe night did not complete: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: every process the command started is stopped", file=sys.stderr)
        return 130
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from wageguard_dev.demo.sources import serve_forever

    # A deployment (docker-compose) fixes the credentials through the environment;
    # otherwise they are drawn at random and written to <workdir>/credentials.json.
    serve_forever(workdir=Path(args.workdir).resolve(), projects=args.projects, seed=args.seed,
                  run_date=args.date, host=args.host,
                  ports=(args.housing_port, args.credit_port, args.exchange_port),
                  token=os.environ.get("WAGEGUARD_DEMO_TOKEN"),
                  api_key=os.environ.get("WAGEGUARD_DEMO_API_KEY"))
    return 0


def cmd_airflow(args: argparse.Namespace) -> int:
    from wageguard_dev.airflow_env import airflow, base_env, ensure_metadata_db

    env = base_env()
    ensure_metadata_db(env, Path(env["AIRFLOW_HOME"]) / "db-migrate.log")
    return airflow(args.airflow_args, env, check=False).returncode


def cmd_bench(args: argparse.Namespace) -> int:
    from wageguard_dev.bench.run import run

    return run(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wageguard-dev", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run one night end to end on the embedded default")
    _world_args(demo)
    demo.set_defaults(func=cmd_demo)
    cluster = commands.add_parser(
        "cluster-night", help="run one night under a real scheduler with the Celery or Local "
        "executor, against local source systems serving a generated province")
    _world_args(cluster)
    cluster.add_argument("--executor", choices=sorted(EXECUTORS), default="celery")
    cluster.add_argument("--workers", type=int, default=2,
                         help="Celery workers (default %(default)s)")
    cluster.add_argument("--concurrency", type=int, default=2,
                         help="task slots per Celery worker (default %(default)s)")
    cluster.add_argument("--metadata-db", default=DEFAULT_METADATA_URL,
                         help="PostgreSQL URL of Airflow's metadata database for this command "
                         "alone: DROPPED and made again at every start (default %(default)s)")
    cluster.add_argument("--broker", default=DEFAULT_BROKER_URL,
                         help="Celery broker, Redis or RabbitMQ (default %(default)s)")
    cluster.add_argument("--warehouse", help="SQLAlchemy URL of the warehouse (default: "
                         "WAGEGUARD_WAREHOUSE_URL, else the embedded SQLite file)")
    cluster.add_argument("--timeout", type=float, default=3600,
                         help="seconds the run may take (default %(default)s)")
    cluster.set_defaults(func=cmd_cluster_night)
    serve = commands.add_parser("serve", help="serve a generated province as the source systems")
    _world_args(serve)
    serve.add_argument("--workdir", default="var/sources",
                       help="where the dev-reform exchange folder is written")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--housing-port", type=int, default=8101)
    serve.add_argument("--credit-port", type=int, default=8103)
    serve.add_argument("--exchange-port", type=int, default=8102)
    serve.set_defaults(func=cmd_serve)
    passthrough = commands.add_parser(
        "airflow", help="run the Airflow CLI on this repository (e.g. dags test, backfill)")
    passthrough.add_argument("airflow_args", nargs=argparse.REMAINDER)
    passthrough.set_defaults(func=cmd_airflow)
    bench = commands.add_parser(
        "bench", help="time the pipeline on generated provinces (docs/benchmarks.md)")
    bench_options.add_arguments(bench)
    bench.set_defaults(func=cmd_bench)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
