"""The options of `wageguard-dev bench`, kept apart so that building the command
line imports nothing heavy."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/wageguard_bench"
PROVINCE = 50_000  # projects: the scale the targets are set at


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--projects", type=int, nargs="+", default=[PROVINCE],
                        help=f"world sizes to run, in projects (default {PROVINCE})")
    parser.add_argument("--backend", nargs="+", choices=("sqlite", "postgresql"),
                        default=["sqlite"], help="warehouse backends (default sqlite)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL,
                        help="a PostgreSQL database for the benchmark alone: it is emptied "
                             "(default %(default)s)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2026, 11, 21),
                        help="the first night, YYYY-MM-DD (default %(default)s)")
    parser.add_argument("--changed", type=_share, default=0.01,
                        help="share of records changed for the incremental night, or before "
                             "each night after the first with --nights (default %(default)s)")
    parser.add_argument("--nights", type=_nights, default=None,
                        help="the time axis instead: this many nights in a row on one "
                             "warehouse, each night's seconds and warehouse bytes, and a "
                             "projection to a year (no baseline, no incremental night)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the straightforward way")
    parser.add_argument("--no-incremental", action="store_true",
                        help="skip the incremental night")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where warehouses, logs and outputs go (default var/bench)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")


def _share(text: str) -> float:
    share = float(text)
    if not 0 <= share <= 1:
        raise argparse.ArgumentTypeError(f"a share is between 0 and 1, not {text}")
    return share


def _nights(text: str) -> int:
    nights = int(text)
    if nights < 2:
        raise argparse.ArgumentTypeError(
            f"at least 2 nights: growth is measured from the 2nd on, not {text}")
    return nights
