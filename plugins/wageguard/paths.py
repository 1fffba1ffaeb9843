"""Where the project's non-Python assets live (sql/, expectations/, config/).

The package is installed in editable mode from the repository, so the assets
sit two levels above it; WAGEGUARD_PROJECT_DIR overrides that for deployments
that copy them elsewhere."""

from __future__ import annotations

import os
from pathlib import Path


def project_dir() -> Path:
    configured = os.environ.get("WAGEGUARD_PROJECT_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2]


def home_dir() -> Path:
    """Where a deployment keeps its state (var/: warehouse, outputs, inbox,
    keys): WAGEGUARD_HOME, else the working directory."""
    return Path(os.environ.get("WAGEGUARD_HOME", ".")).resolve()


def var_dir(*parts: str) -> Path:
    return home_dir().joinpath("var", *parts)


def sql_dir() -> Path:
    return project_dir() / "sql"


def expectations_dir() -> Path:
    return project_dir() / "expectations"


def config_dir() -> Path:
    return project_dir() / "config"
