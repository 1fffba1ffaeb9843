"""The product apart from its development tools: the wheel and the Docker image
hold the pipeline and its users' commands, and no module of the product needs
the generated province, its local source systems, the benchmark or
cluster-night (devtools/, the package wageguard_dev)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UV = ROOT / ".tools" / "bin" / "uv"
DEV_PACKAGE = ROOT / "devtools" / "wageguard_dev"
DEV_NAME = re.compile(r"wageguard[_-]dev")
PRODUCT_COMMANDS = {"why", "dispose", "verify", "keygen", "deliver", "accept-drift"}


def _uv(*args: str) -> str:
    assert UV.exists(), f"{UV} is missing: run make setup"
    done = subprocess.run([str(UV), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _dev_modules() -> set[str]:
    """The names the development tools' modules and packages go by."""
    return {p.stem for p in DEV_PACKAGE.iterdir()
            if p.suffix == ".py" or (p / "__init__.py").exists()} - {"__init__", "cli"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Iterator[zipfile.ZipFile]:
    out = tmp_path_factory.mktemp("wheel")
    _uv("build", "--wheel", "--package", "wageguard", "--out-dir", str(out), "--quiet")
    (built,) = out.glob("wageguard-*.whl")
    with zipfile.ZipFile(built) as archive:
        yield archive


def test_the_development_tools_are_what_the_checks_below_look_for():
    assert {"demo", "bench", "cluster_night", "airflow_env"} <= _dev_modules()


def test_the_wheel_holds_the_package_alone_and_none_of_the_development_tools(wheel):
    names = wheel.namelist()
    assert any(n.startswith("wageguard/pipeline.py") for n in names)
    outside = [n for n in names
               if not re.match(r"wageguard/|wageguard-[^/]+\.dist-info/", n)]
    assert outside == []
    dev = _dev_modules()
    shipped = [n for n in names if n.startswith("wageguard/")
               and dev & {Path(part).stem for part in Path(n).parts[1:]}]
    assert shipped == [], "development tools in the wheel"
    assert not [n for n in names if DEV_NAME.search(n)]


def test_the_wheel_gives_its_users_the_product_command_alone(wheel):
    entry_points = next(n for n in wheel.namelist() if n.endswith("entry_points.txt"))
    scripts = wheel.read(entry_points).decode()
    assert re.findall(r"^(\S+) = ", scripts, re.MULTILINE) == ["wageguard"]
    metadata = wheel.read(entry_points.replace("entry_points.txt", "METADATA")).decode()
    requires = re.findall(r"^Requires-Dist: (.*)$", metadata, re.MULTILINE)
    assert requires and not [r for r in requires if DEV_NAME.search(r)]


def test_the_product_command_is_the_users_commands():
    done = subprocess.run([sys.executable, "-m", "wageguard.cli", "--help"],
                          capture_output=True, text=True, timeout=60, check=True)
    listed = re.search(r"\{([a-z,-]+)\}", done.stdout).group(1)
    assert set(listed.split(",")) == PRODUCT_COMMANDS


def test_no_module_of_the_product_or_the_dags_names_the_development_tools():
    sources = [*(ROOT / "plugins" / "wageguard").rglob("*.py"), *(ROOT / "dags").rglob("*.py")]
    assert len(sources) > 20
    naming = [str(p.relative_to(ROOT)) for p in sources
              if DEV_NAME.search(p.read_text(encoding="utf-8"))]
    assert naming == []


def test_every_module_of_the_product_imports_without_the_development_tools():
    # wageguard_dev is installed here; None in sys.modules makes importing it fail.
    probe = """
import importlib, pkgutil, sys
sys.modules["wageguard_dev"] = None
import wageguard
for module in pkgutil.walk_packages(wageguard.__path__, "wageguard."):
    if ".migrations" not in module.name:  # Alembic's scripts, run by Alembic alone
        importlib.import_module(module.name)
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def _stages(dockerfile: str) -> list[tuple[str, str]]:
    """Each stage of a Dockerfile as its FROM line and the instructions after it."""
    parts = re.split(r"^(FROM .*)$", dockerfile, flags=re.MULTILINE)
    return list(zip(parts[1::2], parts[2::2], strict=True))


def test_the_image_installs_the_product_without_the_development_tools():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    stages = _stages(dockerfile)
    product = next(body for line, body in stages if line.endswith(" AS product"))
    assert "plugins" in product and "devtools" not in product
    # What `docker build .` makes: the last stage, the product as it is.
    last_from, last_body = stages[-1]
    assert last_from == "FROM product"
    assert not [line for line in last_body.splitlines() if line and not line.startswith("#")]
    # The product stage's dependencies: uv.lock's, without the development group.
    export = re.search(r"uv export (.*?)--output-file", product.replace("\\\n", " "), re.DOTALL)
    options = shlex.split(export.group(1))
    assert "--no-dev" in options
    options[options.index("--project") + 1] = str(ROOT)
    assert "devtools" not in _uv("export", *options)
    assert "-e ./devtools" in _uv("export", *(o for o in options if o != "--no-dev"))
