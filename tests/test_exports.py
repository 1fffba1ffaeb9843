"""The blacklist export and its change list, and publishing a night whole."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
from sqlalchemy import text
from wageguard.exports.blacklist import export_blacklist
from wageguard.exports.files import sha256_of
from wageguard.exports.publish import night_folder

D1, D2 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)


def _entry(conn, night, entry_id, **over):
    row = {
        "run_date": night, "entry_id": entry_id, "payload_hash": "h", "subject_type":
        "organization", "subject_name": "某建筑公司", "credit_code": "91150203MA0N00000X",
        "person_id_masked": None, "list_type": "dishonest", "cause": "拖欠农民工工资",
        "decision_no": "包人社失信〔2026〕1号", "listing_authority": "包头市人社局",
        "listed_on": dt.date(2026, 1, 1), "expires_on": dt.date(2029, 1, 1),
        "removed_on": None, "removal_reason": None,
    }
    row.update(over)
    conn.execute(text(f"INSERT INTO night_list_entry ({', '.join(row)}) "
                      f"VALUES ({', '.join(':' + k for k in row)})"), row)


def _rows(path):
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_blacklist_exports_applying_entries_and_the_change_since_last_time(engine, tmp_path):
    with engine.begin() as conn:
        for night in (D1, D2):
            _entry(conn, night, "A")  # stays
            _entry(conn, night, "P", subject_type="person", person_id_masked="150203******1234")
            _entry(conn, night, "M", list_type="major_violation")  # never exported
        _entry(conn, D1, "R")
        _entry(conn, D2, "R", removed_on=D2, removal_reason="信用修复")
        _entry(conn, D1, "E", expires_on=dt.date(2026, 11, 21))  # applies on D1 only
        _entry(conn, D2, "E", expires_on=dt.date(2026, 11, 21))
        _entry(conn, D1, "X")  # tombstoned before D2: absent from D2's knowledge
        _entry(conn, D1, "C")
        _entry(conn, D2, "C", decision_no="包人社失信〔2026〕9号")
        _entry(conn, D2, "N", listed_on=D2)
        first = export_blacklist(conn, tmp_path / "d1", D1)
        second = export_blacklist(conn, tmp_path / "d2", D2)
    assert first["entries"] == 6 and first["added"] == 6
    entries = _rows(tmp_path / "d2" / "entries.csv")
    assert [e["entry_id"] for e in entries] == ["A", "C", "N", "P"]
    assert entries[3]["person_id_masked"] == "150203******1234"
    changes = {c["entry_id"]: c for c in _rows(tmp_path / "d2" / "changes.csv")}
    assert {k: c["change"] for k, c in changes.items()} == {
        "C": "changed", "E": "removed", "N": "added", "R": "removed", "X": "removed"}
    assert "信用修复" in changes["R"]["reason"]
    assert "expired" in changes["E"]["reason"]
    assert "deleted at the source" in changes["X"]["reason"]
    assert second == {"entries": 4, "added": 1, "removed": 3, "changed": 1, "signed": False}
    manifest = json.loads((tmp_path / "d2" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["previous_export_date"] == D1.isoformat()
    for f in manifest["files"]:
        assert sha256_of(tmp_path / "d2" / f["name"]) == f["sha256"]
    assert {f["name"]: f["rows"] for f in manifest["files"]}["entries.jsonl"] == 4
    assert (tmp_path / "d2" / "entries.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_a_night_folder_appears_whole_or_not_at_all(tmp_path):
    with night_folder(tmp_path, D2) as scratch:
        (scratch / "flags.csv").write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), night_folder(tmp_path, D2) as scratch:
        (scratch / "flags.csv").write_text("half", encoding="utf-8")
        raise RuntimeError("the export failed")
    assert (tmp_path / D2.isoformat() / "flags.csv").read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == [D2.isoformat()]


def _publish(root, night, files: dict[str, str]) -> None:
    with night_folder(root, night) as scratch:
        for name, text in files.items():
            (scratch / name).parent.mkdir(parents=True, exist_ok=True)
            (scratch / name).write_text(text, encoding="utf-8")


def test_a_file_the_night_before_published_alike_is_kept_once(tmp_path):
    _publish(tmp_path, D1, {"assets/plotly.js": "same", "flags.csv": "night 1"})
    _publish(tmp_path, D2, {"assets/plotly.js": "same", "flags.csv": "night 2"})
    one, two = tmp_path / D1.isoformat(), tmp_path / D2.isoformat()
    assert (two / "assets/plotly.js").stat().st_ino == (one / "assets/plotly.js").stat().st_ino
    assert (two / "flags.csv").read_text(encoding="utf-8") == "night 2"
    assert (two / "flags.csv").stat().st_ino != (one / "flags.csv").stat().st_ino
    # A re-run of the night before writes a folder of its own: the later night's
    # files keep their bytes, and what is alike is shared again.
    _publish(tmp_path, D1, {"assets/plotly.js": "changed", "flags.csv": "night 2"})
    assert (two / "assets/plotly.js").read_text(encoding="utf-8") == "same"
    assert (one / "assets/plotly.js").read_text(encoding="utf-8") == "changed"
    assert (one / "flags.csv").stat().st_ino == (two / "flags.csv").stat().st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == [D1.isoformat(), D2.isoformat()]
