"""The housing & construction system's data-sharing API (contracts/housing-api.yaml)."""

from __future__ import annotations

from .paged_api import Clock, Endpoint, Faults, PagedJsonApi, PageSizes, bearer_token
from .world import World


def housing_api(
    world: World, *, token: str, clock: Clock | None = None, faults: Faults | None = None
) -> PagedJsonApi:
    return PagedJsonApi(
        [
            Endpoint("/v1/projects", world.projects, "project_id"),
            Endpoint("/v1/wage-accounts", world.wage_accounts, "account_id"),
            Endpoint("/v1/wage-deposits", world.wage_deposits, "deposit_id"),
            Endpoint(
                "/v1/realname-monthly", world.realname_monthly, "project_id",
                partition_by="month", partition_pattern="[0-9]{4}-[0-9]{2}",
            ),
        ],
        authorized=bearer_token(token),
        page_sizes=PageSizes(default=500, maximum=5000),
        clock=clock,
        faults=faults,
    )
