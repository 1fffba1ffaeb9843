"""The public credit platform's data-sharing API (contracts/credit-api.yaml)."""

from __future__ import annotations

from .paged_api import Clock, Endpoint, Faults, PagedJsonApi, PageSizes, api_key
from .world import World


def credit_api(
    world: World, *, key: str, clock: Clock | None = None, faults: Faults | None = None
) -> PagedJsonApi:
    return PagedJsonApi(
        [
            Endpoint("/v1/enterprises", world.enterprises, "credit_code"),
            Endpoint("/v1/dishonest-entities", world.list_entries, "entry_id"),
        ],
        authorized=api_key(key),
        page_sizes=PageSizes(default=200, maximum=2000),
        clock=clock,
        faults=faults,
    )
