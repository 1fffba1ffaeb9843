"""The three source systems of a world, started and stopped together: the housing API,
the credit API and the dev-reform exchange (written to a folder and served over HTTP)."""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .credit_api import credit_api
from .exchange import exchange_handler, write_exchange
from .housing_api import housing_api
from .paged_api import Clock, Faults, PagedJsonApi
from .serving import BackgroundServer
from .world import World, generate_world

DEFAULT_PORTS = (8101, 8103, 8102)  # housing, credit, exchange


@dataclass(frozen=True)
class RunningSources:
    housing_url: str
    credit_url: str
    exchange_url: str
    exchange_dir: Path
    exchange_days: dict[date, str]  # each day written: complete, incomplete or corrupt
    token: str  # housing: Authorization: Bearer <token>
    api_key: str  # credit: X-Api-Key
    basic_auth: tuple[str, str]  # exchange over HTTP: (login, password)
    housing: PagedJsonApi  # to add records while running (`add_record`)
    credit: PagedJsonApi


@contextmanager
def running_sources(
    world: World,
    *,
    workdir: Path,
    host: str = "127.0.0.1",
    ports: tuple[int, int, int] | int = DEFAULT_PORTS,
    clock: Clock | None = None,
    faults: Faults | None = None,
    token: str | None = None,
    api_key: str | None = None,
    basic_auth: tuple[str, str] | None = None,
) -> Iterator[RunningSources]:
    """Write the exchange under `workdir`, serve all three systems on background threads
    and stop them on exit. `ports` are (housing, credit, exchange); 0 picks free ports.
    Credentials not given are drawn at random."""
    housing_port, credit_port, exchange_port = (ports,) * 3 if isinstance(ports, int) else ports
    token = token or secrets.token_urlsafe(24)
    api_key = api_key or secrets.token_urlsafe(24)
    basic_auth = basic_auth or ("wageguard", secrets.token_urlsafe(16))
    exchange_dir = Path(workdir) / "exchange"
    days = write_exchange(world, exchange_dir)
    housing = housing_api(world, token=token, clock=clock, faults=faults)
    credit = credit_api(world, key=api_key, clock=clock, faults=faults)
    with ExitStack() as running:
        servers = []
        for handler, port in (
            (housing.handler(), housing_port),
            (credit.handler(), credit_port),
            (exchange_handler(exchange_dir, basic_auth), exchange_port),
        ):
            server = BackgroundServer(handler, host, port).start()
            running.callback(server.stop)
            servers.append(server)
        yield RunningSources(
            housing_url=servers[0].url,
            credit_url=servers[1].url,
            exchange_url=servers[2].url,
            exchange_dir=exchange_dir,
            exchange_days=days,
            token=token,
            api_key=api_key,
            basic_auth=basic_auth,
            housing=housing,
            credit=credit,
        )


def serve_forever(
    *,
    workdir: Path,
    projects: int = 3000,
    seed: int = 7,
    run_date: date = date(2026, 11, 21),
    live_clock: bool = False,
    **options,
) -> None:
    """Generate a world and serve it until interrupted (Ctrl-C), for a developer's
    command line. The sources show the night after the run date unless `live_clock`.
    Secrets go to a file only its owner can read; the console gets its path."""
    world = generate_world(projects, seed, run_date)
    clock = None if live_clock else (lambda: world.as_of)
    with running_sources(world, workdir=workdir, clock=clock, **options) as sources:
        credentials = write_credentials(sources, Path(workdir) / "credentials.json")
        print(f"wageguard demo sources, {projects} projects, run date {run_date} (Ctrl-C stops)")
        print(f"  housing API   {sources.housing_url}  (Authorization: Bearer <housing.token>)")
        print(f"  credit API    {sources.credit_url}  (X-Api-Key: <credit.api_key>)")
        print(f"  dev-reform    {sources.exchange_url}  (HTTP Basic), or {sources.exchange_dir}")
        print(f"  credentials   {credentials}")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping")


def write_credentials(sources: RunningSources, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    login, password = sources.basic_auth
    document = {
        "housing": {"url": sources.housing_url, "token": sources.token},
        "credit": {"url": sources.credit_url, "api_key": sources.api_key},
        "devreform": {
            "url": sources.exchange_url, "folder": str(sources.exchange_dir),
            "login": login, "password": password,
        },
    }
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(document, out, indent=2)
    return path
