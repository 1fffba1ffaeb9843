"""A credit agency verifies a downloaded blacklist export offline with only the
public key: a fresh export passes; a changed byte, a missing file or another
key is caught."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from conftest import openssl_verifies
from sqlalchemy import text
from wageguard.cli import main
from wageguard.exports.blacklist import export_blacklist
from wageguard.exports.signing import generate_key_pair, verify_export
from wageguard.warehouse.engine import make_engine
from wageguard.warehouse.migrate import migrate

D = dt.date(2026, 11, 21)


@pytest.fixture(scope="module")
def signed_export(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("signed")
    private, public = generate_key_pair(tmp / "keys")
    engine = make_engine(f"sqlite:///{tmp / 'w.db'}")
    migrate(engine)
    with engine.begin() as conn:
        for n, subject in enumerate(("organization", "person")):
            conn.execute(text(
                "INSERT INTO night_list_entry (run_date, entry_id, payload_hash, subject_type, "
                "subject_name, credit_code, person_id_masked, list_type, cause, decision_no, "
                "listing_authority, listed_on, expires_on) VALUES (:d, :e, 'h', :s, '某公司', "
                "'91150203MA0N00000X', :p, 'dishonest', '拖欠农民工工资', '决定书', '人社局', "
                ":l, :x)"),
                {"d": D, "e": f"E{n}", "s": subject, "p": "150203******1234" if n else None,
                 "l": dt.date(2026, 1, 1), "x": dt.date(2029, 1, 1)})
        summary = export_blacklist(conn, tmp / "blacklist", D, private.read_text())
    assert summary["signed"]
    return tmp / "blacklist", public


def _copy(export, tmp_path):
    target = tmp_path / "download"
    shutil.copytree(export, target)
    return target


def test_a_fresh_export_verifies(signed_export):
    folder, public = signed_export
    assert verify_export(folder, public.read_bytes()) == []
    assert main(["verify", str(folder), "--public-key", str(public)]) == 0


def test_a_changed_byte_is_caught(signed_export, tmp_path):
    folder, public = signed_export
    copy = _copy(folder, tmp_path)
    data = bytearray((copy / "entries.csv").read_bytes())
    data[-3] ^= 0x01
    (copy / "entries.csv").write_bytes(bytes(data))
    assert verify_export(copy, public.read_bytes()) == [
        "entries.csv: sha256 differs from the manifest"]
    assert main(["verify", str(copy), "--public-key", str(public)]) == 1


def test_a_missing_file_is_caught(signed_export, tmp_path):
    folder, public = signed_export
    copy = _copy(folder, tmp_path)
    (copy / "entries.jsonl").unlink()
    assert verify_export(copy, public.read_bytes()) == ["entries.jsonl is missing"]


def test_a_doctored_manifest_breaks_the_signature(signed_export, tmp_path):
    folder, public = signed_export
    copy = _copy(folder, tmp_path)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"][0]["rows"] += 1
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    problems = verify_export(copy, public.read_bytes())
    assert any("signature does not match" in p for p in problems)


def test_another_key_is_refused(signed_export, tmp_path):
    folder, _ = signed_export
    _, stranger = generate_key_pair(tmp_path / "other")
    problems = verify_export(folder, stranger.read_bytes())
    assert len(problems) == 2 and "signature does not match" in problems[0]
    assert problems[1] == "manifest.json.sig does not match manifest.json's bytes"



def test_a_credit_agency_verifies_the_manifest_with_openssl_alone(signed_export, tmp_path):
    folder, public = signed_export
    assert openssl_verifies(folder, public)
    copy = _copy(folder, tmp_path)
    (copy / "manifest.json").write_bytes((copy / "manifest.json").read_bytes() + b" ")
    assert not openssl_verifies(copy, public)
    assert verify_export(copy, public.read_bytes()) == [
        "manifest.json.sig does not match manifest.json's bytes"]
    _, stranger = generate_key_pair(tmp_path / "other")
    assert not openssl_verifies(folder, stranger)


def test_the_private_key_is_readable_by_its_owner_only(tmp_path):
    private, public = generate_key_pair(tmp_path)
    assert private.stat().st_mode & 0o077 == 0
    assert b"PRIVATE" not in public.read_bytes()
