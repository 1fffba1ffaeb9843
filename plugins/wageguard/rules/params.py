"""Rule parameters: rules.md's defaults, overridable per deployment.

A province sets its own thresholds in a JSON file named by
WAGEGUARD_PARAMS_FILE, with the dotted names of rules.md, e.g.
{"deposit.base_rate": "0.02", "deposit.cap_yuan": "5000000"}."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

# Rule parameters by their rules.md names: whole numbers, Decimals, or None.
Params = dict[str, Any]

DEFAULTS: dict[str, object] = {
    "account.open_within_days": 30,
    "account.file_within_days": 30,
    "deposit.due_days_after_start": 30,
    "deposit.lapse_warning_days": 30,
    "deposit.base_rate": Decimal("0.01"),
    "deposit.dishonest_multiplier": Decimal("2.0"),
    "deposit.arrears_multiplier": Decimal("1.5"),
    "deposit.arrears_window_years": 2,
    "deposit.exempt_below_yuan": Decimal(3000000),
    "deposit.exempt_window_years": 1,
    "deposit.cap_yuan": None,
    "labour.missing_months": 2,
    "pay.min_share": Decimal("1.0"),
    "realname.min_update_rate": Decimal("0.90"),
    "month_closes_on_day": 5,
    "escalation.days": 15,
    "devreform.stale_after_days": 3,
    "devreform.max_lookback_days": 10,
    "validate.max_bad_share": Decimal("0.5"),
    "validate.min_rows_for_share": 20,
    # A night's snapshot against the last published night's (validate/night_drift.py):
    # records a rule sees may change by 30% at most, a share of nulls in a rule
    # column by 0.25, a median amount by 3× either way; tables smaller than
    # drift.min_rows the night before are not judged.
    "drift.min_rows": 50,
    "drift.max_rows_change": Decimal("0.3"),
    "drift.max_share_change": Decimal("0.25"),
    "drift.max_median_ratio": Decimal(3),
}


class ParamError(ValueError):
    pass


def _coerce(name: str, value: Any) -> object:
    default = DEFAULTS[name]
    if value is None:
        if name == "deposit.cap_yuan":
            return None
        raise ParamError(f"{name} cannot be empty")
    if isinstance(default, Decimal) or name == "deposit.cap_yuan":
        return Decimal(str(value))
    if isinstance(default, int):
        if int(value) != float(value):
            raise ParamError(f"{name} must be a whole number, got {value!r}")
        return int(value)
    return value


def load_params(path: str | None = None) -> Params:
    params = dict(DEFAULTS)
    path = path or os.environ.get("WAGEGUARD_PARAMS_FILE")
    if not path:
        return params
    overrides = json.loads(Path(path).read_text(encoding="utf-8"))
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise ParamError(
            f"{path}: unknown parameter(s) {', '.join(unknown)}; known: {', '.join(DEFAULTS)}"
        )
    for name, value in overrides.items():
        params[name] = _coerce(name, value)
    return params


def as_json(params: dict[str, object]) -> str:
    """For the flag's record of what it was computed with."""
    return json.dumps({k: (str(v) if v is not None else None) for k, v in params.items()},
                      sort_keys=True)
