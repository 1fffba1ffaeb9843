"""docs/data-quality.md gives every source column its severity and the reason;
it must say what tables.py (and so the suites) do."""

from __future__ import annotations

from pathlib import Path

from wageguard import tables

DOC = Path(__file__).parents[1] / "docs" / "data-quality.md"


def test_the_doc_gives_every_column_the_severity_the_registry_gives_it():
    rows = [line.strip("|").split("|") for line in DOC.read_text(encoding="utf-8").splitlines()
            if line.startswith("| ") and not line.startswith("| table ")]
    documented = {(t.strip(), c.strip()): s.strip() for t, c, s, _ in rows}
    assert len(documented) == len(rows), "each column once"
    expected = {(t.name, c.name): "critical" if c.critical else "warning"
                for t in tables.ALL for c in t.fields}
    assert documented == expected
    assert all(why.strip() for *_, why in rows)
