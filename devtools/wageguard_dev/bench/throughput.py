"""How fast each step of landing and validating runs, alone, on a generated
province's records as decoded from what the sources serve: canonical JSON and
its hash (beside the standard library's encoder that the stored hashes were
taken with), normalisation, the dedupe index and the suites' checks. A
measurement to run by hand, not a test (nothing here is held to a time):

    .venv/bin/python -m wageguard_dev.bench.throughput [projects]
"""

from __future__ import annotations

import gc
import hashlib
import json
import sys
import time
from collections import defaultdict

from wageguard.landing.store import encoded
from wageguard.tables import ALL
from wageguard.validate.batch import CHUNK
from wageguard.validate.dedupe import Versions
from wageguard.validate.normalise import normalise
from wageguard.validate.suite_checks import SuiteChecks

_STANDARD = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _hashed_by_the_standard_encoder(records: list) -> list[str]:
    return [hashlib.sha256(_STANDARD.encode(record).encode("utf-8")).hexdigest()
            for record in records]


def main(projects: int) -> None:
    from wageguard_dev.demo.world import generate_world

    world = generate_world(projects=projects, seed=7)
    pulls = {table: json.loads(json.dumps(world.rows(table.name), ensure_ascii=False))
             for table in ALL}
    gc.disable()  # as in the stages (db/bulk.py: bulk_work)
    seconds: dict[str, float] = defaultdict(float)

    def timed(step: str, function, *args):
        started = time.perf_counter()
        result = function(*args)
        seconds[step] += time.perf_counter() - started
        return result

    for table, records in pulls.items():
        versions, checks = Versions(table), SuiteChecks(table)
        for start in range(0, len(records), CHUNK):
            chunk = records[start:start + CHUNK]
            timed("canonical JSON + sha256, standard encoder", _hashed_by_the_standard_encoder,
                  chunk)
            hashes = timed("canonical JSON + sha256, compiled", encoded, chunk)[1]
            columns = timed("normalisation", normalise, table, chunk).columns
            timed("dedupe index", versions.add, columns, hashes)
            timed("suite checks", checks.check, columns, len(chunk))
    count = sum(len(records) for records in pulls.values())
    print(f"{projects:,} projects, {count:,} records")
    for step, spent in seconds.items():
        print(f"  {step:44s} {spent:6.2f} s  {count / spent:>10,.0f} records/s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
