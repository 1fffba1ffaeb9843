"""A pull's records kept in a temporary file as they arrive, page by page, and
read back a page at a time: a province-sized pull never sits in memory whole,
and the network and the warehouse are never waited on together."""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator


class Spool:
    """Records in arrival order; iterable (again and again) and sized."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the spool
        self._pages: list[int] = []  # offset of each page
        self._count = 0

    def add(self, records: list) -> None:
        self._file.seek(0, 2)
        self._pages.append(self._file.tell())
        pickle.dump(records, self._file, pickle.HIGHEST_PROTOCOL)
        self._count += len(records)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator:
        for offset in self._pages:
            self._file.seek(offset)
            yield from pickle.load(self._file)
