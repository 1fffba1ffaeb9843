"""A night's output folder appears complete or not at all: everything is
written into a hidden sibling folder, then swapped into place.

A file the night writes exactly as the nearest published night holds it (the
board's plotly.js, the Data Docs' assets, a list that did not change) is kept
once: the night's folder gets a hard link to the same bytes, so every folder
still opens whole and offline while the disk grows with what changed. A
published file is therefore never written in place: a re-run writes a new
folder and swaps it in, and nothing edits a published file."""

from __future__ import annotations

import contextlib
import datetime as dt
import filecmp
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
    neighbour = _nearest_night(root, run_date)
    if neighbour is not None:
        share_unchanged_files(scratch, neighbour)
    retired = None
    if final.exists():
        retired = root / f".{run_date.isoformat()}.{uuid.uuid4().hex[:8]}.old"
        final.rename(retired)
    scratch.rename(final)
    if retired:
        shutil.rmtree(retired, ignore_errors=True)


def _nearest_night(root: Path, run_date: dt.date) -> Path | None:
    """The published night folder nearest to `run_date` (the night before, as a
    rule; a later one in a backfill), other than its own."""
    nights = []
    for folder in root.iterdir():
        try:
            day = dt.date.fromisoformat(folder.name)
        except ValueError:  # a scratch or retired folder, or anything else
            continue
        if day != run_date and folder.is_dir():
            nights.append((abs((day - run_date).days), day > run_date, folder))
    return min(nights)[2] if nights else None


def share_unchanged_files(folder: Path, neighbour: Path) -> int:
    """Replaces each file of `folder` whose bytes `neighbour` holds at the same
    path by a hard link to the neighbour's; returns the bytes no longer kept
    twice. Where the two cannot share (another file system), the copy stays."""
    shared = 0
    for path in folder.rglob("*"):
        twin = neighbour / path.relative_to(folder)
        if (not path.is_file() or path.is_symlink() or not twin.is_file()
                or twin.is_symlink() or not filecmp.cmp(path, twin, shallow=False)):
            continue
        link = path.with_name(f".{path.name}.link")
        try:
            os.link(twin, link)
        except OSError:
            continue
        size = path.stat().st_size
        os.replace(link, path)
        shared += size
    return shared
