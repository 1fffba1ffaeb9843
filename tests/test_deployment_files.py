"""docker-compose.yaml keeps Airflow's official shape and carries no secret."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_compose_has_the_airflow_services_and_the_warehouse():
    compose = yaml.safe_load((ROOT / "docker-compose.yaml").read_text(encoding="utf-8"))
    services = set(compose["services"])
    assert {"postgres", "warehouse", "sources", "airflow-apiserver", "airflow-scheduler",
            "airflow-dag-processor", "airflow-triggerer", "airflow-init"} <= services
    env = compose["x-airflow-common"]["environment"]
    for conn in ("AIRFLOW_CONN_HOUSING_API", "AIRFLOW_CONN_CREDIT_API",
                 "AIRFLOW_CONN_DEVREFORM_EXCHANGE"):
        assert conn in env
    assert env["WAGEGUARD_WAREHOUSE_URL"].startswith("postgresql+psycopg://")


def test_compose_takes_every_password_from_the_environment():
    text = (ROOT / "docker-compose.yaml").read_text(encoding="utf-8")
    compose = yaml.safe_load(text)
    env = compose["x-airflow-common"]["environment"]
    for name in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "WAGEGUARD_WAREHOUSE_URL",
                 "AIRFLOW_CONN_HOUSING_API", "AIRFLOW_CONN_CREDIT_API"):
        assert "${" in env[name], f"{name} must take its secret from .env"
    for service in ("postgres", "warehouse"):
        assert compose["services"][service]["environment"]["POSTGRES_PASSWORD"].startswith("${")
