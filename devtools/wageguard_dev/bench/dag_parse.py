"""How long Airflow takes to parse this repository's DAG files beyond importing
Airflow itself, measured in fresh processes as a DAG processor meets them."""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """
import json, sys, time
started = time.perf_counter()
import airflow
from airflow.dag_processing.dagbag import DagBag
imported = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
parsed = time.perf_counter()
print(json.dumps({"import": imported - started, "parse": parsed - imported,
                  "dags": sorted(bag.dags),
                  "errors": {k: str(v) for k, v in bag.import_errors.items()}}))
"""


def dag_parse_seconds(env: dict[str, str], repeat: int = 3) -> tuple[float, float]:
    """(seconds to import Airflow, seconds to parse the DAG folder after it), the
    fastest of `repeat` fresh processes: the least disturbed by a busy machine."""
    runs = []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, "-c", _PROBE, env["AIRFLOW__CORE__DAGS_FOLDER"]],
                              env=env, capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        if runs[-1]["errors"]:
            raise RuntimeError(f"the DAG files do not parse: {runs[-1]['errors']}")
    return min(r["import"] for r in runs), min(r["parse"] for r in runs)
