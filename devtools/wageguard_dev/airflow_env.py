"""The environment that runs Airflow on this repository: its own AIRFLOW_HOME,
our dags/ and plugins/, and the three source connections as AIRFLOW_CONN_*
variables (Airflow's JSON form), so pointing at real systems needs no code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from wageguard.paths import home_dir, project_dir


def base_env(home: Path | None = None) -> dict[str, str]:
    repo = project_dir()
    home = home or home_dir()
    airflow_home = Path(os.environ.get("AIRFLOW_HOME", home / ".airflow"))
    airflow_home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(repo / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(repo / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
        "WAGEGUARD_HOME": str(home),
    })
    return env


def http_connection(url: str, *, secret: str | None, login: str | None = None) -> str:
    scheme, rest = url.split("://", 1)
    host, _, port = rest.rstrip("/").partition(":")
    conn: dict[str, str | int] = {"conn_type": "http", "host": host, "schema": scheme}
    if port:
        conn["port"] = int(port)
    if login:
        conn["login"] = login
    if secret:
        conn["password"] = secret
    return json.dumps(conn)


def folder_connection(path: Path) -> str:
    return json.dumps({"conn_type": "fs", "extra": {"path": str(path)}})


@contextmanager
def demo_source_connections(world, workdir: Path):
    """Serves `world` on free ports (with the credentials WAGEGUARD_DEMO_TOKEN /
    WAGEGUARD_DEMO_API_KEY when set) and yields the running sources with the
    AIRFLOW_CONN_* variables that point the DAG at them."""
    from wageguard_dev.demo.sources import running_sources

    with running_sources(world, workdir=workdir, ports=(0, 0, 0), clock=lambda: world.as_of,
                         token=os.environ.get("WAGEGUARD_DEMO_TOKEN"),
                         api_key=os.environ.get("WAGEGUARD_DEMO_API_KEY")) as src:
        yield src, {
            "AIRFLOW_CONN_HOUSING_API": http_connection(src.housing_url, secret=src.token),
            "AIRFLOW_CONN_CREDIT_API": http_connection(src.credit_url, secret=src.api_key),
            "AIRFLOW_CONN_DEVREFORM_EXCHANGE": folder_connection(src.exchange_dir),
        }


def airflow(args: list[str], env: dict[str, str], log_file: Path | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
    """Runs the Airflow CLI of this interpreter's environment."""
    command = [sys.executable, "-m", "airflow", *args]
    if log_file is None:
        return subprocess.run(command, env=env, check=check)
    with log_file.open("a", encoding="utf-8") as log:
        return subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                              check=check)


def ensure_metadata_db(env: dict[str, str], log_file: Path | None = None) -> None:
    """Airflow keeps its own metadata database (SQLite in AIRFLOW_HOME by
    default); `db migrate` is idempotent and quick once done. The pool the
    extracts take their slots from must exist before a scheduler runs them."""
    from wageguard.plan import SOURCE_POOL, SOURCE_POOL_SLOTS

    airflow(["db", "migrate"], env, log_file)
    airflow(["pools", "set", SOURCE_POOL, str(SOURCE_POOL_SLOTS),
             "parallel pulls from the source systems"], env, log_file)
