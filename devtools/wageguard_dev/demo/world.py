"""A synthetic province for run date D: every record the three source systems hold on
the night of D, with the cases a test holds the pipeline to, on night D and on each of
the nights before it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from .background import populate
from .cases import BlankCase, DirtyRecord, LifecycleCase, PlantedCase, ResolutionCase
from .lifecycle import month_of_nights, plant_lifecycle
from .messy import spoil
from .planted import plant
from .records import SHANGHAI, Province

_TABLES = (
    "projects", "wage_accounts", "wage_deposits", "realname_monthly",
    "enterprises", "list_entries", "investment_projects", "fund_disbursements",
)


@dataclass
class World:
    """Records exactly as the sources serve them, every version of each (tables are
    named as in wageguard.tables): housing and credit records as JSON-ready dicts of
    the OpenAPI schemas, dev-reform rows as dicts keyed by the Chinese CSV headers (a
    row missing its last headers is a row cut short)."""

    run_date: date
    seed: int
    projects: list[dict]
    wage_accounts: list[dict]
    wage_deposits: list[dict]
    realname_monthly: list[dict]
    enterprises: list[dict]
    list_entries: list[dict]
    investment_projects: list[dict]
    fund_disbursements: list[dict]
    planted: list[PlantedCase] = field(default_factory=list)
    planted_resolution: list[ResolutionCase] = field(default_factory=list)
    lifecycle: list[LifecycleCase] = field(default_factory=list)
    planted_messy: list[DirtyRecord] = field(default_factory=list)
    planted_warned: list[DirtyRecord] = field(default_factory=list)
    planted_malformed: list[DirtyRecord] = field(default_factory=list)
    planted_blanks: list[BlankCase] = field(default_factory=list)

    @property
    def as_of(self) -> datetime:
        """01:00 the night after D: every `updated_at` is earlier, so a source clock set
        here shows the whole world, as the nightly run for D sees it."""
        return datetime.combine(self.run_date + timedelta(days=1), time(1), SHANGHAI)

    @property
    def lifecycle_nights(self) -> list[date]:
        """The nights over which `lifecycle` plays out, oldest first, ending on D."""
        return month_of_nights(self.run_date)

    def rows(self, table: str) -> list[dict]:
        if table not in _TABLES:
            raise KeyError(f"no table {table!r} in the world; tables: {', '.join(_TABLES)}")
        return getattr(self, table)


def generate_world(
    projects: int = 3000, seed: int = 7, run_date: date = date(2026, 11, 21)
) -> World:
    """The same (projects, seed, run_date) always gives the same world. The planted
    cases depend on (seed, run_date) only; `projects` sizes the province around them."""
    if projects < 1:
        raise ValueError("a world needs at least one project")
    planted = plant(Province(random.Random(f"{seed}:planted"), run_date))
    lifecycle = plant_lifecycle(planted)
    province = planted.province.sibling(random.Random(f"{seed}:province"))
    populate(province, projects)
    dirty = spoil(province, random.Random(f"{seed}:dirt"))
    tables = {
        name: getattr(planted.province, name) + getattr(province, name) for name in _TABLES
    }
    return World(
        run_date=run_date,
        seed=seed,
        **tables,
        planted=planted.cases,
        planted_resolution=planted.resolutions,
        lifecycle=lifecycle,
        planted_messy=dirty["messy"],
        planted_warned=dirty["warned"],
        planted_malformed=planted.malformed + dirty["malformed"],
        planted_blanks=planted.blanks,
    )
