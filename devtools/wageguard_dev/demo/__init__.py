"""The synthetic province and the local source systems that serve it: the demo, and the
test double for the real housing, credit and dev-reform systems.

Imports neither Airflow nor pandas: only the standard library and wageguard's own
tables and identity rules."""

from .cases import DirtyRecord, LifecycleCase, PlantedCase, ResolutionCase
from .exchange import write_exchange
from .paged_api import Faults
from .sources import RunningSources, running_sources, serve_forever
from .world import World, generate_world

__all__ = [
    "DirtyRecord",
    "Faults",
    "LifecycleCase",
    "PlantedCase",
    "ResolutionCase",
    "RunningSources",
    "World",
    "generate_world",
    "running_sources",
    "serve_forever",
    "write_exchange",
]
