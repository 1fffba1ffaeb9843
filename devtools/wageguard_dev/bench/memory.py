"""Resident memory of processes, sampled on a thread while they run, so that
each stage's peak can be read afterwards from the stage's time window."""

from __future__ import annotations

import threading
import time
from typing import Self

import psutil


class MemorySampler:
    """Samples the RSS of the largest of this process's descendants (the run
    it started: a fork sharing its pages would be counted twice in a sum), or
    of this process itself with `own=True`, every `interval` seconds between
    `with` and its end."""

    def __init__(self, *, own: bool = False, interval: float = 0.02):
        self._own, self._interval = own, interval
        self.samples: list[tuple[float, int]] = []  # (wall time, bytes)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            largest = 0
            for process in [me] if self._own else me.children(recursive=True):
                try:
                    largest = max(largest, process.memory_info().rss)
                except psutil.Error:  # ended between listing and reading
                    continue
            if largest:
                self.samples.append((time.time(), largest))
            self._stop.wait(self._interval)

    def peak_mb(self, start: float | None = None, end: float | None = None) -> float:
        """The highest sample within [start, end] (all of them by default), in MB."""
        inside = [rss for at, rss in self.samples
                  if (start is None or at >= start) and (end is None or at <= end)]
        return max(inside, default=0) / 2**20
