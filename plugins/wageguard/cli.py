"""The commands people type.

    wageguard demo    run one night end to end on the embedded warehouse,
                      against local source systems serving a generated province
    wageguard cluster-night
                      the same night under a real scheduler on this machine: the
                      CeleryExecutor with N workers, or the LocalExecutor
    wageguard serve   serve a generated province as the three source systems
    wageguard dispose record an inspector's disposition on a flag
    wageguard why     trace a flag back to the source payloads behind it
    wageguard deliver e-mail a night's district lists to their inspectors (again)
    wageguard keygen  make the Ed25519 key pair that signs the blacklist export
    wageguard verify  check a downloaded blacklist export with the public key
    wageguard airflow ARGS...
                      the Airflow CLI with this repository's DAGs and AIRFLOW_HOME
    wageguard bench   time the nightly pipeline on generated provinces against the
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

from wageguard.bench import options as bench_options
from wageguard.cluster_night import DEFAULT_BROKER_URL, DEFAULT_METADATA_URL, EXECUTORS
from wageguard.plan import DAG_ID

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
    from wageguard.airflow_env import (
        airflow,
        base_env,
        demo_source_connections,
        ensure_metadata_db,
    )
    from wageguard.delivery.roster import ROSTER_ENV
    from wageguard.demo.roster import write_demo_roster
    from wageguard.demo.world import generate_world
    from wageguard.exports.publish import output_root
    from wageguard.paths import home_dir, var_dir

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
    from wageguard.airflow_env import base_env
    from wageguard.cluster_night import Cluster, ClusterFailed, night_on_cluster
    from wageguard.paths import home_dir
    from wageguard.warehouse.engine import DEFAULT_URL_ENV

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
    from wageguard.demo.sources import serve_forever

    # A deployment (docker-compose) fixes the credentials through the environment;
    # otherwise they are drawn at random and written to <workdir>/credentials.json.
    serve_forever(workdir=Path(args.workdir).resolve(), projects=args.projects, seed=args.seed,
                  run_date=args.date, host=args.host,
                  ports=(args.housing_port, args.credit_port, args.exchange_port),
                  token=os.environ.get("WAGEGUARD_DEMO_TOKEN"),
                  api_key=os.environ.get("WAGEGUARD_DEMO_API_KEY"))
    return 0


def cmd_dispose(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from wageguard.pipeline import engine, prepare_warehouse
    from wageguard.rules.dispositions import DispositionError, record_disposition

    prepare_warehouse()
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    try:
        with engine().begin() as conn:
            done = record_disposition(
                conn, project_id=args.project, rule=args.rule, kind=args.kind,
                until=args.exempt_until, reason=args.reason, inspector=args.inspector,
                source="command", today=today,
            )
    except DispositionError as refused:
        print(f"not recorded: {refused}", file=sys.stderr)
        return 2
    print(f"recorded: {done.project_id} {done.rule} (raised {done.raised_on}) {done.kind}"
          + (f" until {done.until}" if done.until else ""))
    return 0


def cmd_accept_drift(args: argparse.Namespace) -> int:
    import getpass

    from wageguard.pipeline import engine, prepare_warehouse
    from wageguard.validate.night_drift import accept_drift

    prepare_warehouse()
    with engine().begin() as conn:
        accept_drift(conn, args.date, args.reason, args.by or getpass.getuser())
    print(f"night {args.date}: its drift is accepted ({args.reason}); re-run the night")
    return 0


def cmd_why(args: argparse.Namespace) -> int:
    from wageguard.landing.evidence import NoSuchFlag
    from wageguard.pipeline import explain

    try:
        story = explain(args.date, args.project, args.rule)
    except NoSuchFlag as missing:
        print(missing, file=sys.stderr)
        return 2
    print(json.dumps(story, ensure_ascii=False, indent=2, default=str))
    return 0


def cmd_deliver(args: argparse.Namespace) -> int:
    from wageguard.delivery.deliver import DeliveryIncomplete
    from wageguard.delivery.roster import RosterError
    from wageguard.delivery.settings import from_environment
    from wageguard.pipeline import FutureNightError, deliver, prepare_warehouse
    from wageguard.warehouse.lock import LockBusy

    try:
        settings = from_environment()
    except (LookupError, ValueError) as missing:
        print(missing, file=sys.stderr)
        return 2
    prepare_warehouse()
    try:
        result = deliver(args.date, settings, resend=args.resend,
                         resend_unconfirmed=args.resend_unconfirmed)
    except (RosterError, DeliveryIncomplete, FileNotFoundError, FutureNightError,
            LockBusy) as problem:
        print(problem, file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def cmd_keygen(args: argparse.Namespace) -> int:
    from wageguard.exports.signing import generate_key_pair

    folder = Path(args.out)
    if (folder / "signing_key.pem").exists():
        print(f"{folder / 'signing_key.pem'} exists; not overwriting a key", file=sys.stderr)
        return 2
    private, public = generate_key_pair(folder)
    print(f"private key (keep it secret; give it to the pipeline as WAGEGUARD_SIGNING_KEY_FILE "
          f"or the wageguard_signing connection's password): {private}")
    print(f"public key (give it to the credit agencies): {public}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from wageguard.exports.signing import verify_export

    public_key = Path(args.public_key)
    if not public_key.is_file():
        print(f"no public key at {public_key}: ask the publisher for its public_key.pem",
              file=sys.stderr)
        return 2
    problems = verify_export(Path(args.folder), public_key.read_bytes())
    if problems:
        print("NOT VERIFIED:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"verified: {args.folder} is complete, unchanged and signed by that key")
    return 0


def cmd_airflow(args: argparse.Namespace) -> int:
    from wageguard.airflow_env import airflow, base_env, ensure_metadata_db

    env = base_env()
    ensure_metadata_db(env, Path(env["AIRFLOW_HOME"]) / "db-migrate.log")
    return airflow(args.airflow_args, env, check=False).returncode


def cmd_bench(args: argparse.Namespace) -> int:
    from wageguard.bench.run import run

    return run(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wageguard", description=__doc__,
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
    dispose = commands.add_parser(
        "dispose", help="record a disposition (核实/豁免/误报) on a flag of the latest night")
    dispose.add_argument("--project", required=True, help="project_id, e.g. ZJ150203-2025-00123")
    dispose.add_argument("--rule", required=True, help="rule code, e.g. WA1")
    kind = dispose.add_mutually_exclusive_group(required=True)
    kind.add_argument("--verified", dest="kind", action="store_const", const="verified",
                      help="核实: the flag is real and being handled")
    kind.add_argument("--exempted", dest="kind", action="store_const", const="exempted",
                      help="豁免: off the list until --exempt-until (needs --reason)")
    kind.add_argument("--false-positive", dest="kind", action="store_const",
                      const="false_positive", help="误报: not a real case (needs --reason)")
    dispose.add_argument("--exempt-until", type=dt.date.fromisoformat, metavar="YYYY-MM-DD")
    dispose.add_argument("--reason")
    dispose.add_argument("--inspector")
    dispose.set_defaults(func=cmd_dispose)
    accept = commands.add_parser(
        "accept-drift", help="let night D run although its sources changed beyond the drift "
        "thresholds (the change is real); kept with who and why")
    accept.add_argument("--date", type=dt.date.fromisoformat, required=True, help="night D")
    accept.add_argument("--reason", required=True, help="why the change is real")
    accept.add_argument("--by", help="who accepts it (default: this user)")
    accept.set_defaults(func=cmd_accept_drift)
    why = commands.add_parser("why", help="trace a flag to the source payloads behind it")
    why.add_argument("--date", type=dt.date.fromisoformat, required=True, help="night D")
    why.add_argument("--project", required=True)
    why.add_argument("--rule", required=True)
    why.set_defaults(func=cmd_why)
    deliver = commands.add_parser(
        "deliver", help="e-mail night D's district lists to the inspectors on the roster "
        "(SMTP from AIRFLOW_CONN_WAGEGUARD_SMTP)")
    deliver.add_argument("--date", type=dt.date.fromisoformat, required=True, help="night D")
    deliver.add_argument("--resend", action="store_true",
                         help="send again what the ledger says already went out")
    deliver.add_argument("--resend-unconfirmed", action="store_true",
                         help="send again what a stopped run may or may not have sent "
                         "(reported as possibly sent), under the same Message-ID")
    deliver.set_defaults(func=cmd_deliver)
    keygen = commands.add_parser("keygen", help="make the key pair that signs the blacklist")
    keygen.add_argument("--out", default="var/keys")
    keygen.set_defaults(func=cmd_keygen)
    verify = commands.add_parser("verify", help="verify a blacklist export offline")
    verify.add_argument("folder", help="the blacklist/ folder as downloaded")
    verify.add_argument("--public-key", required=True, help="the publisher's public_key.pem")
    verify.set_defaults(func=cmd_verify)
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
