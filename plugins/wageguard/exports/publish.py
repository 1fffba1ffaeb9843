"""A night's output folder appears complete or not at all: everything is
written into a hidden sibling folder, then swapped into place."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from wageguard.paths import var_dir


def output_root() -> Path:
    configured = os.environ.get("WAGEGUARD_OUTPUT_DIR")
    if configured:
        return Path(configured)
    return var_dir("output")


@contextlib.contextmanager
def night_folder(root: Path, run_date: dt.date) -> Iterator[Path]:
    """Yields a scratch folder; on success it becomes <root>/<YYYY-MM-DD>."""
    root.mkdir(parents=True, exist_ok=True)
    final = root / run_date.isoformat()
    scratch = root / f".{run_date.isoformat()}.{uuid.uuid4().hex[:8]}.tmp"
    scratch.mkdir()
    try:
        yield scratch
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    retired = None
    if final.exists():
        retired = root / f".{run_date.isoformat()}.{uuid.uuid4().hex[:8]}.old"
        final.rename(retired)
    scratch.rename(final)
    if retired:
        shutil.rmtree(retired, ignore_errors=True)
