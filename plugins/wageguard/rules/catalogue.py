"""The rule catalogue: which SQL file implements each rule, its version, and the
Chinese texts inspectors read (title, the missing item, the legal basis).

Texts are configuration (config/rules.json, or the file named by
WAGEGUARD_RULES_FILE) so a province can cite its own regulations."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from wageguard.paths import config_dir

_PLACEHOLDER = re.compile(r"\{([a-z_.]+)\}")


@dataclass(frozen=True)
class Rule:
    code: str
    sql: str
    version: str
    title: str
    missing: str
    basis: str
    bind: dict = field(default_factory=dict)  # fixed parameters of a shared SQL file
    params: tuple[str, ...] = ()  # the deployment parameters the rule reads

    def __post_init__(self):
        object.__setattr__(self, "params", tuple(self.params))

    def parameter_values(self, params: dict) -> dict[str, str | None]:
        """What a flag records of the parameters it was computed with."""
        return {name: None if params[name] is None else str(params[name])
                for name in self.params}

    def missing_text(self, params: dict) -> str:
        return _PLACEHOLDER.sub(lambda m: str(params[m.group(1)]), self.missing)


def load_rules(path: str | None = None) -> list[Rule]:
    path = path or os.environ.get("WAGEGUARD_RULES_FILE") or str(config_dir() / "rules.json")
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return [Rule(code=code, **spec) for code, spec in raw.items()]
