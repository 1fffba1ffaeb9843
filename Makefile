# The two commands of the README, each doing its own set-up on a fresh machine.
# The set-up installs the product (wageguard) and the development tools
# (devtools/: wageguard-dev, whose commands demo and bench run).
#   make demo   run one night end to end on the embedded warehouse (3,000 projects)
#   make test   ruff and mypy, then the test suite, both lanes (starts the
#               local PostgreSQL if it is down, installs headless Chromium if missing)
#   make test-fast  the fast lane alone (given rows in, rows out; no whole night)
#   make bench  the province-scale benchmark (docs/benchmarks.md), e.g.
#               make bench ARGS="--projects 5000 20000 50000 --backend sqlite postgresql"

UV_VERSION := 0.13.8
PYTHON ?= python3
# uv lives in a small venv of its own, so the set-up needs nothing but Python.
UV := .tools/bin/uv

.PHONY: setup demo test test-fast lint typecheck bench
.DEFAULT_GOAL := demo

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

# Bytecode compiled once at install, as pip does: without it every Airflow
# process compiles Airflow and GX again (imports 2-3x slower) wherever the
# environment forbids writing .pyc files.
setup: $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode

demo: setup
	.venv/bin/wageguard-dev demo $(ARGS)

# What a reviewer checks first (lint, types: seconds), then both test lanes.
test: setup lint typecheck
	scripts/prepare-test-machine
	.venv/bin/pytest $(ARGS)

# The fast lane alone: marts, rules, normalisation, identity; under a minute.
test-fast: setup
	scripts/prepare-test-machine
	.venv/bin/pytest -m unit $(ARGS)

bench: setup
	.venv/bin/wageguard-dev bench $(ARGS)

# The rule set is pyproject.toml's [tool.ruff.lint], Airflow 3's idioms (AIR3) included.
lint: setup
	.venv/bin/ruff check plugins devtools dags tests

typecheck: setup
	.venv/bin/mypy
