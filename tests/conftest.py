"""Shared fixtures: an Airflow environment of our own, warehouses on both the
embedded default and PostgreSQL, and a running set of local source systems."""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from email import message_from_bytes, policy

import pytest
from sqlalchemy import text

PG_URL = os.environ.get(
    "WAGEGUARD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/wageguard_test"
)

# The fast lane (`make test-fast`, `pytest -m unit`): given rows in, rows or
# verdicts out, no whole night, no Airflow, no source servers. Everything else
# is the integration lane; `make test` runs both.
UNIT_MODULES = frozenset({
    "test_canonical", "test_data_quality_doc", "test_deposit", "test_flag_lifecycle",
    "test_identity", "test_marts",
    "test_normalise", "test_normalise_quick", "test_registry", "test_rules_sql",
    "test_suite_checks", "test_validate",
})


def pytest_configure(config):
    config.addinivalue_line("markers", "unit: the fast lane: no whole night, no Airflow")


def pytest_collection_modifyitems(items):
    for item in items:
        if item.module.__name__ in UNIT_MODULES:
            item.add_marker(pytest.mark.unit)


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory):
    """AIRFLOW_HOME and friends for this test session, also set in os.environ so
    in-process Airflow imports see them."""
    from wageguard_dev.airflow_env import base_env

    home = tmp_path_factory.mktemp("wageguard-home")
    env = base_env(home)
    for key in ("AIRFLOW_HOME", "AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__CORE__PLUGINS_FOLDER",
                "AIRFLOW__CORE__LOAD_EXAMPLES"):
        os.environ[key] = env[key]
    return env


def _reset_postgres(url: str) -> None:
    from wageguard.warehouse.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except Exception as exc:  # the message says what to do; never a skip
        raise RuntimeError(
            f"PostgreSQL for the warehouse tests is not reachable at {url}: run "
            "scripts/prepare-test-machine (make test does), or set WAGEGUARD_TEST_PG_URL"
        ) from exc
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request, tmp_path):
    """A fresh, empty warehouse on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    _reset_postgres(PG_URL)
    return PG_URL


@pytest.fixture
def engine(warehouse_url):
    """An engine on a fresh warehouse of each backend, migrated to the newest schema."""
    from wageguard.warehouse.engine import make_engine
    from wageguard.warehouse.migrate import migrate

    eng = make_engine(warehouse_url)
    migrate(eng)
    yield eng
    eng.dispose()


def night_env(folder) -> pytest.MonkeyPatch:
    """Points the warehouse, outputs and inbox into `folder` for a module's
    nights; the caller undoes the returned patch."""
    patch = pytest.MonkeyPatch()
    patch.setenv("WAGEGUARD_WAREHOUSE_URL", f"sqlite:///{folder / 'warehouse.db'}")
    patch.setenv("WAGEGUARD_OUTPUT_DIR", str(folder / "out"))
    patch.setenv("WAGEGUARD_INBOX_DIR", str(folder / "inbox"))
    return patch


@pytest.fixture(scope="session")
def small_world():
    from wageguard_dev.demo.world import generate_world

    return generate_world(projects=400, seed=11)


@pytest.fixture
def sources(small_world, tmp_path):
    """The three local source systems serving the small world, as on the night after D."""
    from wageguard_dev.demo.sources import running_sources

    with running_sources(small_world, workdir=tmp_path / "sources", ports=0,
                         clock=lambda: small_world.as_of) as running:
        yield running


def write_night_flags(conn, run_date, flags) -> None:
    """Night D's flags become `flags` (rows in flag_versions.FLAG_COLUMNS
    order) as given: a test's own raised_on and place, no lifecycle."""
    from wageguard.rules.flag_versions import keep_night_flags, stage_night_flags

    stage_night_flags(conn, [flags])
    keep_night_flags(conn, run_date)


def source_configs(running) -> dict:
    """The SourceConfig per system, as the DAG builds them from its connections."""
    from wageguard.sources.config import SourceConfig

    return {
        "housing": SourceConfig(running.housing_url, secret=running.token),
        "credit": SourceConfig(running.credit_url, secret=running.api_key),
        "devreform": SourceConfig(str(running.exchange_dir)),
    }


def run_night_in_process(run_date, running) -> dict:
    """Every stage of the nightly DAG in its order, without Airflow. The Data
    Docs are rendered in this process too, so the session imports GX once, not
    once a night; test_pipeline holds the separate renderer to the same pages."""
    from wageguard import pipeline
    from wageguard.exports.data_docs import MODE_ENV

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(MODE_ENV, "inline")
        return pipeline.run_night(run_date, source_configs(running))


def headless_dom(path) -> str:
    """The DOM of a local page as Debian's headless Chromium renders it, with
    the flags that keep it off the network."""
    import shutil
    import subprocess
    import tempfile

    browser = shutil.which("chromium")
    assert browser, "chromium is missing: run scripts/prepare-test-machine (make test does)"
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--dump-dom",
             path.resolve().as_uri()],
            capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


class Recorder:
    """For the local SMTP server (aiosmtpd): an SMTP handler that keeps what it
    accepts and answers RCPT for the addresses in `replies` with the reply given
    there."""

    def __init__(self):
        self.received = []  # (envelope recipients, parsed message, raw bytes)
        self.replies: dict[str, str] = {}
        self.rcpt_tries: Counter = Counter()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_tries[address] += 1
        if address in self.replies:
            return self.replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), parsed, envelope.content))
        return "250 Message accepted for delivery"


def serve_mail(recorder: Recorder, port: int):
    """A real SMTP server on this machine answering with `recorder`, which
    learns its port; yields the recorder until the test ends."""
    from aiosmtpd.controller import Controller

    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    recorder.port = controller.port
    yield recorder
    controller.stop()


@pytest.fixture
def mail_server(free_tcp_port):
    """A real SMTP server on this machine; the fixture is its Recorder."""
    yield from serve_mail(Recorder(), free_tcp_port)


# Headless Chromium with nothing of its own on the network, so a page that
# loads is a page that loads offline.
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's, which scripts/prepare-test-machine installs)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        yield launched
        launched.close()


def openssl_verifies(folder, public) -> bool:
    """Whether stock openssl verifies a blacklist folder's detached signature
    over its manifest's exact bytes, as a credit agency does."""
    done = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(public), "-rawin",
         "-in", str(folder / "manifest.json"), "-sigfile", str(folder / "manifest.json.sig")],
        capture_output=True, text=True, check=False)
    return done.returncode == 0 and "Signature Verified Successfully" in done.stdout
