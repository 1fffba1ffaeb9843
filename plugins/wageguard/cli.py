"""The commands people type.

    wageguard why     trace a flag back to the source payloads behind it
    wageguard dispose record an inspector's disposition on a flag
    wageguard verify  check a downloaded blacklist export with the public key
    wageguard keygen  make the Ed25519 key pair that signs the blacklist export
    wageguard deliver e-mail a night's district lists to their inspectors (again)
    wageguard accept-drift
                      let a night run although its sources changed beyond the
                      drift thresholds (the change is real)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wageguard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
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
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
