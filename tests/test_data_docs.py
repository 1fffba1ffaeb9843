"""The night's Data Docs when something is off: a renderer that fails says why
and fails the export, and a pull loaded before pages were rendered at export
keeps the page it was stored with."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import text
from wageguard.exports.data_docs import MODE_ENV, DataDocs, DataDocsError

BATCH = {"d": dt.date(2026, 11, 21), "at": "2026-11-21T01:05:00+08:00", "n": 3}


def _batch(engine, batch_id: str, table: str, *, results=None, page=None) -> None:
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO load_batch (batch_id, run_date, source_table, source, pulled_at, "
            "pulled, loaded, quarantined, superseded, status, validation_results, "
            "validation_docs) VALUES (:b, :d, :t, 'test', :at, :n, :n, 0, 0, 'loaded', :r, :p)"),
            {**BATCH, "b": batch_id, "t": table, "r": results, "p": page})


@pytest.mark.parametrize(("mode", "error"), [("separate", DataDocsError),
                                             ("inline", FileNotFoundError)])
def test_a_renderer_that_fails_says_why(engine, tmp_path, monkeypatch, mode, error):
    monkeypatch.setenv(MODE_ENV, mode)
    _batch(engine, "b1", "no_such_table", results=json.dumps([]))
    with (engine.connect() as conn, pytest.raises(error) as failed,
          DataDocs(conn, tmp_path / "docs", ["b1"]) as docs):
        docs.finish()
    assert "no_such_table.json" in str(failed.value)
    assert not (tmp_path / "docs" / "index.html").exists()


def test_a_pull_loaded_before_stored_results_keeps_its_page(engine, tmp_path, monkeypatch):
    monkeypatch.setenv(MODE_ENV, "separate")
    _batch(engine, "old", "projects", page="<html>rendered at load</html>")
    with engine.connect() as conn, DataDocs(conn, tmp_path / "docs", ["old"]) as docs:
        docs.finish()
    assert (tmp_path / "docs" / "projects.html").read_text(encoding="utf-8") == (
        "<html>rendered at load</html>")
    assert 'href="projects.html"' in (tmp_path / "docs" / "index.html").read_text(
        encoding="utf-8")
