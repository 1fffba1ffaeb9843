"""docker-compose.yaml keeps the shape of Airflow's official compose file for
the CeleryExecutor, wires from the environment every connection the DAGs read,
writes down no secret, and passes a real compose implementation (Debian's
docker-compose, which validates without a Docker engine); the Dockerfile and the
README's production commands agree with it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from wageguard.alerts import ALERT_CONNECTION
from wageguard.delivery.settings import SMTP_CONNECTION
from wageguard.plan import (
    CONNECTION_OF_SYSTEM,
    SIGNING_CONNECTION,
    SOURCE_POOL,
    SOURCE_POOL_SLOTS,
    WAREHOUSE_CONNECTION,
)

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
AIRFLOW_SERVICES = {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-worker", "airflow-triggerer", "airflow-init"}
CONNECTIONS = [*CONNECTION_OF_SYSTEM.values(), WAREHOUSE_CONNECTION, SIGNING_CONNECTION,
               SMTP_CONNECTION, ALERT_CONNECTION]
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|FERNET")


def _env_file(tmp_path: Path, values: dict[str, str]) -> Path:
    path = tmp_path / "env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    return path


def _example() -> dict[str, str]:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def _docker_compose(env_file: Path, *args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is missing: run scripts/prepare-test-machine (make test does)"
    # Only the env file may feed the interpolation, not this shell's variables.
    return subprocess.run(
        [binary, "--project-directory", str(ROOT), "-f", str(COMPOSE), "--env-file",
         str(env_file), *args],
        env={"PATH": "/usr/bin:/bin", "HOME": str(env_file.parent)},
        capture_output=True, text=True, timeout=120, check=False)


def _words(command: str | list[str]) -> list[str]:
    """A service's command in either of compose's forms (string or list)."""
    return command.split() if isinstance(command, str) else command


@pytest.fixture(scope="module")
def resolved(tmp_path_factory) -> dict:
    """The compose file as the implementation reads it with .env.example:
    anchors merged, variables interpolated."""
    env_file = _env_file(tmp_path_factory.mktemp("compose"), _example())
    done = _docker_compose(env_file, "config")
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_a_real_compose_implementation_accepts_the_file(tmp_path):
    done = _docker_compose(_env_file(tmp_path, _example()), "config", "--quiet")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("required", ["AIRFLOW_DB_PASSWORD", "AIRFLOW_JWT_SECRET",
                                      "AIRFLOW_FERNET_KEY", "AIRFLOW_ADMIN_PASSWORD",
                                      "WAREHOUSE_DB_PASSWORD", "AIRFLOW_CONN_HOUSING_API",
                                      "AIRFLOW_CONN_CREDIT_API",
                                      "AIRFLOW_CONN_DEVREFORM_EXCHANGE"])
def test_it_refuses_to_start_without_a_required_secret(tmp_path, required):
    values = {k: v for k, v in _example().items() if k != required}
    done = _docker_compose(_env_file(tmp_path, values), "config", "--quiet")
    assert done.returncode != 0
    assert "set it in .env" in done.stderr


def test_airflows_celery_shape_with_the_warehouse_and_the_trial_sources(resolved):
    services = resolved["services"]
    assert AIRFLOW_SERVICES | {"postgres", "redis", "warehouse", "sources"} <= set(services)
    assert services["sources"]["profiles"] == ["trial"]
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
            "http://airflow-apiserver:8080/execution/")
        assert re.match(r"redis://(:@)?redis:6379/", env["AIRFLOW__CELERY__BROKER_URL"])
        conditions = {k: v["condition"] for k, v in services[name]["depends_on"].items()}
        assert {"postgres": "service_healthy", "redis": "service_healthy",
                "warehouse": "service_healthy"}.items() <= conditions.items(), name
        if name != "airflow-init":
            assert conditions["airflow-init"] == "service_completed_successfully", name
            assert services[name]["healthcheck"]["test"], name
    assert _words(services["airflow-worker"]["command"]) == ["celery", "worker"]
    assert services["airflow-worker"]["depends_on"]["airflow-apiserver"]["condition"] == (
        "service_healthy")
    for database in ("postgres", "warehouse", "redis"):
        assert services[database]["healthcheck"]["test"], database


def test_every_connection_the_dags_read_is_wired_by_environment(resolved):
    from wageguard.warehouse.engine import url_of_connection

    example = _example()
    for name in AIRFLOW_SERVICES:
        env = resolved["services"][name]["environment"]
        for conn_id in CONNECTIONS:
            variable = f"AIRFLOW_CONN_{conn_id.upper()}"
            assert variable in env, f"{name} lacks {variable}"
            if env[variable]:
                assert json.loads(env[variable])["conn_type"], variable
        assert url_of_connection(env["AIRFLOW_CONN_WAGEGUARD_WAREHOUSE"]) == (
            f"postgresql+psycopg://wageguard:{example['WAREHOUSE_DB_PASSWORD']}"
            "@warehouse:5432/wageguard")


def test_no_secret_is_written_in_the_compose_file_or_the_example():
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    environments = [compose["x-airflow-common"]["environment"],
                    *(s["environment"] for s in compose["services"].values()
                      if "environment" in s)]
    for env in environments:
        for name, value in env.items():
            if name.startswith("AIRFLOW_CONN_") or SECRET_NAME.search(name):
                assert "${" in value, f"{name} must take its secret from .env"
            for password in re.findall(r"://[^/:@]*:([^@]*)@", value):
                assert password in ("", "${AIRFLOW_DB_PASSWORD:?set it in .env}"), name
    for password in re.findall(r'"password": "([^"]*)"', COMPOSE.read_text(encoding="utf-8")):
        assert password.startswith("${"), password
    for name, value in _example().items():
        if SECRET_NAME.search(name):
            assert value in ("", "change-me") or value.startswith("change-me-"), name
        for password in re.findall(r'"password": "([^"]*)"', value):
            assert password.startswith("change-me"), name


def _ui_port(config: dict) -> str:
    """The api-server's port binding, in either of compose's forms."""
    (port,) = config["services"]["airflow-apiserver"]["ports"]
    if isinstance(port, str):
        return port.removesuffix("/tcp")
    return f"{port['host_ip']}:{port['published']}:{port['target']}"


def test_it_fails_closed_fab_logins_a_local_ui_and_no_change_me_secret(resolved, tmp_path):
    services = resolved["services"]
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("fab_auth_manager.FabAuthManager")
        assert env["AIRFLOW__CORE__FERNET_KEY"], name
    init = services["airflow-init"]["environment"]
    assert init["_AIRFLOW_WWW_USER_CREATE"] == "true"
    assert init["_AIRFLOW_WWW_USER_PASSWORD"] == _example()["AIRFLOW_ADMIN_PASSWORD"]
    assert _ui_port(resolved) == "127.0.0.1:8080:8080"
    exposed = _docker_compose(_env_file(tmp_path, _example() | {"AIRFLOW_UI_BIND": "0.0.0.0"}),
                              "config")
    assert _ui_port(yaml.safe_load(exposed.stdout)) == "0.0.0.0:8080:8080"
    # The init job's script as the container runs it (`config` keeps compose's $$
    # escapes): .env.example's change-me is refused.
    script = _words(services["airflow-init"]["command"])[-1].replace("$$", "$")
    done = subprocess.run(["bash", "-c", script], env={"PATH": "/usr/bin:/bin", **init},
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 1
    assert "holds change-me from .env.example: set real secrets in .env" in done.stderr


def test_init_creates_the_pool_the_extracts_take_slots_of(resolved):
    script = " ".join(_words(resolved["services"]["airflow-init"]["command"]))
    assert f"airflow pools set {SOURCE_POOL} {SOURCE_POOL_SLOTS} " in script
    assert "prepare_warehouse()" in script


def test_the_image_carries_what_the_services_run(resolved):
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    airflow = next(d for d in pins["project"]["dependencies"] if d.startswith("apache-airflow=="))
    assert f"FROM apache/airflow:{airflow.split('==')[1]}-python3.11" in dockerfile
    assert "uv.lock" in dockerfile and "--frozen" in dockerfile
    project_dir = re.search(r"ENV WAGEGUARD_PROJECT_DIR=(\S+)", dockerfile).group(1)
    for folder in ("plugins", "sql", "expectations"):
        assert f"COPY --chown=airflow:root {folder} {project_dir}/{folder}" in dockerfile
    assert "COPY --chown=airflow:root dags /opt/airflow/dags" in dockerfile
    mounts = resolved["services"]["airflow-scheduler"]["volumes"]
    assert f"{project_dir}/config" in {
        m["target"] if isinstance(m, dict) else m.split(":")[1] for m in mounts}


def _production_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("\n## Production\n", 1)[1].split("\n## ", 1)[0]


def _production_commands() -> list[str]:
    blocks = "\n".join(re.findall(r"```sh\n(.*?)```", _production_section(), re.DOTALL))
    lines = blocks.replace("\\\n", " ").splitlines()
    return [line.split("  #", 1)[0].strip() for line in lines if line.strip()]


def _service_of(words: list[str]) -> str | None:
    """The service a `docker compose` command acts on (up, exec, run), if any."""
    positionals, options = [], iter(words[2:])
    for word in options:
        if word in ("--profile", "--scale", "-f", "--env-file"):
            next(options)
        elif not word.startswith("-"):
            positionals.append(word)
    return positionals[1] if positionals[0] in ("up", "exec", "run") and len(
        positionals) > 1 else None


def test_the_readmes_production_commands_match_the_files(resolved):
    from wageguard.plan import DAG_ID, DEADLINE_DAG_ID

    services = resolved["services"]
    profiles = {p for s in services.values() for p in s.get("profiles", [])}
    compose = [c.split() for c in _production_commands() if c.startswith("docker compose")]
    assert ["docker", "compose", "up", "airflow-init"] in compose
    for words in compose:
        service = _service_of(words)
        assert service is None or service in services, words
        if "--profile" in words:
            assert words[words.index("--profile") + 1] in profiles, words
        if "--scale" in words:
            assert words[words.index("--scale") + 1].split("=")[0] in services, words
        for option in ("unpause", "--dag-id"):
            if option in words:
                assert words[words.index(option) + 1] in (DAG_ID, DEADLINE_DAG_ID), words
    named = set(re.findall(r"`(AIRFLOW_CONN_[A-Z_]+)`", _production_section()))
    assert named and named <= set(_example()), named


def test_the_readmes_cluster_night_commands_parse(monkeypatch):
    from wageguard_dev import cli

    parsed = []
    monkeypatch.setattr(cli, "cmd_cluster_night", lambda args: parsed.append(args) or 0)
    commands = [c for c in _production_commands() if "wageguard-dev cluster-night" in c]
    assert commands
    for command in commands:
        assert cli.main(command.split("wageguard-dev ", 1)[1].split()) == 0, command
    assert {args.executor for args in parsed} == {"celery", "local"}


def test_the_airflow_services_run_the_product_image_and_the_trial_sources_their_own(
        resolved, monkeypatch):
    from wageguard_dev import cli

    services = resolved["services"]
    for name in AIRFLOW_SERVICES:
        assert services[name]["build"]["target"] == "product", name
    sources = services["sources"]
    assert sources["build"]["target"] == "trial-sources"
    assert sources["image"] != services["airflow-scheduler"]["image"]
    # The trial's entrypoint is a command the development tools understand.
    program, *arguments = _words(sources["entrypoint"])
    assert program == "wageguard-dev"
    served = []
    monkeypatch.setattr(cli, "cmd_serve", lambda args: served.append(args) or 0)
    assert cli.main(arguments) == 0
    assert served[0].host == "0.0.0.0"
