"""The registry of source tables (tables.py) is the one place a column's facts
are written: the warehouse's version tables, the suites and normalisation all
agree with it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import inspect
from wageguard import tables
from wageguard.validate.gx_suites import SUITES_DIR, expectation_columns
from wageguard.validate.normalise import KINDS
from wageguard.warehouse.engine import make_engine
from wageguard.warehouse.migrate import migrate
from wageguard.warehouse.typed import CONVERSIONS

# What loading adds to every stored version: which payload and pull it came from,
# and for a bundle row the bundles it is valid over.
LEDGER = {"payload_hash", "batch_id", "loaded_at", "bundle_day", "valid_to"}


@pytest.fixture(scope="module")
def version_tables(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('ddl') / 'w.db'}")
    migrate(engine)
    found = {t.name: {c["name"] for c in inspect(engine).get_columns(t.version_table)}
             for t in tables.ALL}
    engine.dispose()
    return found


@pytest.mark.parametrize("spec", tables.ALL, ids=lambda t: t.name)
def test_each_version_table_stores_exactly_the_registry_columns(spec, version_tables):
    assert version_tables[spec.name] - LEDGER == set(CONVERSIONS[spec.name])
    assert {c.stored_as for c in spec.fields if c.kept} <= version_tables[spec.name]


@pytest.mark.parametrize("spec", tables.ALL, ids=lambda t: t.name)
def test_each_column_has_a_known_kind_a_label_and_a_place_in_the_source(spec):
    assert set(spec.key) <= set(spec.columns)
    assert len(set(spec.columns)) == len(spec.columns)
    for column in spec.fields:
        assert column.kind in tables.KINDS and column.kind in KINDS, column
        assert column.label, column
        if spec.system == "devreform":
            assert len(column.source) == 1, "a dev-reform column is read by its CSV header"
    if spec.system == "devreform":
        assert list(tables.DEVREFORM_HEADERS[spec.name].values()) == list(spec.columns)
    else:
        assert spec.api_path.startswith("/v1/") and spec.page_size > 0


@pytest.mark.parametrize("spec", tables.ALL, ids=lambda t: t.name)
def test_each_suite_checks_only_registry_columns(spec):
    suite = json.loads((SUITES_DIR / f"{spec.name}.json").read_text(encoding="utf-8"))
    checked = {c for e in suite["expectations"] for c in expectation_columns(e["kwargs"])}
    assert checked <= set(spec.columns)
