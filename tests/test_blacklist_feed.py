"""The blacklist feed explains itself and anyone can check it: schema.json (a
JSON Schema, signed with the rest through the manifest) describes every row
published, the manifest names the schema version, the publisher and the moment
of the data, stock OpenSSL verifies it, and re-running a night reproduces every
file byte for byte."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import shutil

import pytest
from conftest import night_env, openssl_verifies, run_night_in_process
from jsonschema import Draft202012Validator
from sqlalchemy import text
from wageguard.exports.blacklist import (
    DEFAULT_PUBLISHER,
    PUBLISHER_ENV,
    export_blacklist,
    publisher,
)
from wageguard.exports.blacklist_schema import CHANGES, SCHEMA_VERSION, write_schema
from wageguard.exports.marts import select
from wageguard.exports.signing import KEY_FILE_ENV, generate_key_pair, verify_export
from wageguard.identity.person_id import MASKED_PATTERN, mask_person_id
from wageguard.tables import LIST_ENTRIES

D1, D2 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)
CUTOFF = {D1: "2026-11-21T01:20:00.000000+08:00", D2: "2026-11-22T01:20:00.000000+08:00"}
SERVED = {D1: "2026-11-21T01:00:00+08:00", D2: "2026-11-22T01:00:00+08:00"}
PUBLISHER = "包头市人力资源和社会保障局"
FILES = ("entries.csv", "entries.jsonl", "changes.csv", "schema.json", "manifest.json",
         "manifest.json.sig")
# schema.json's sha256 per schema version: a schema changed without a new
# version fails here (a new version adds its line).
PUBLISHED_SCHEMAS = {
    "1.0.0": "875b5ff661169b8e024e8b75e26dce86c3c8d698ca599600d290ab06fb6a9270",
}


def _validator(spec: dict, file: str) -> Draft202012Validator:
    """What a credit agency does: the definition schema.json names for `file`."""
    return Draft202012Validator({**spec, "$ref": spec["files"][file]},
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def _csv_rows(path) -> tuple[list[str], list[dict]]:
    """A CSV as schema.json reads it: an empty cell is null."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        rows = [{k: v or None for k, v in row.items()} for row in reader]
        return list(reader.fieldnames or []), rows


def _published(folder) -> dict[str, list[dict]]:
    """Every row of the export, per file, each checked against schema.json's
    definition for its file; and the CSV headers against its columns."""
    spec = json.loads((folder / "schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(spec)
    rows = {"entries.jsonl": [json.loads(line) for line in
                              (folder / "entries.jsonl").read_text(encoding="utf-8").splitlines()],
            "manifest.json": [json.loads((folder / "manifest.json").read_text(encoding="utf-8"))]}
    for name in ("entries.csv", "changes.csv"):
        header, rows[name] = _csv_rows(folder / name)
        definition = spec["files"][name].removeprefix("#/$defs/")
        assert header == list(spec["$defs"][definition]["properties"]), name
    for name, found in rows.items():
        validator = _validator(spec, name)
        for row in found:
            errors = [e.message for e in validator.iter_errors(row)]
            assert not errors, f"{folder.name}/{name}: {row}: {errors}"
    return rows



def _entry(conn, night, entry_id, **fields):
    row = {"run_date": night, "entry_id": entry_id, "payload_hash": "h",
           "subject_type": "organization", "subject_name": "包头市某建筑工程有限公司",
           "credit_code": "91150203MA0N00000X", "person_id_masked": None,
           "list_type": "dishonest", "cause": "拖欠农民工工资",
           "decision_no": "包人社失信〔2026〕1号",
           "listing_authority": "包头市人力资源和社会保障局",
           "listed_on": dt.date(2026, 1, 1), "expires_on": dt.date(2029, 1, 1),
           "removed_on": None, "removal_reason": None, **fields}
    conn.execute(text(f"INSERT INTO night_list_entry ({', '.join(row)}) "
                      f"VALUES ({', '.join(':' + k for k in row)})"), row)


def _pull(conn, batch_id, *, table=LIST_ENTRIES.name, loaded_at, served, status="loaded"):
    conn.execute(text(
        "INSERT INTO load_batch (batch_id, run_date, source_table, source, pulled_at, "
        "watermark_to, pulled, status, loaded_at) VALUES (:b, :d, :t, 'http://credit', :at, "
        ":served, 1, :status, :at)"),
        {"b": batch_id, "d": D2, "t": table, "at": loaded_at, "served": served,
         "status": status})


def _given_two_nights(conn) -> None:
    """Night D1's and D2's knowledge of the list, with every kind of change
    between them and every kind of field: a person, empty descriptive fields,
    text a spreadsheet would run, an entry on the other list."""
    for night in (D1, D2):
        _entry(conn, night, "A")
        _entry(conn, night, "P", subject_type="person", subject_name="张某",
               person_id_masked=mask_person_id("15020319800101123X"))
        _entry(conn, night, "F", subject_name="=HYPERLINK(\"http://x\",\"y\")", cause=None,
               decision_no=None, listing_authority=None, credit_code=None)
        _entry(conn, night, "M", list_type="major_violation")
    _entry(conn, D1, "R")
    _entry(conn, D2, "R", removed_on=D2, removal_reason="信用修复")
    _entry(conn, D1, "C")
    _entry(conn, D2, "C", decision_no="包人社失信〔2026〕9号")
    _entry(conn, D1, "X")  # deleted at the source before D2
    _entry(conn, D2, "N", listed_on=D2)
    _pull(conn, "credit-1", loaded_at="2026-11-21T01:10:00.000000+08:00", served=SERVED[D1])
    _pull(conn, "credit-2", loaded_at="2026-11-22T01:10:00.000000+08:00", served=SERVED[D2])


@pytest.fixture
def two_exports(engine, tmp_path, monkeypatch):
    """D1's and D2's exports, signed; then both again, D2 first."""
    private, public = generate_key_pair(tmp_path / "keys")
    monkeypatch.setenv(PUBLISHER_ENV, PUBLISHER)
    key = private.read_text()
    with engine.begin() as conn:
        _given_two_nights(conn)
        for run, nights in (("first", (D1, D2)), ("again", (D2, D1))):
            for night in nights:
                export_blacklist(conn, tmp_path / run / night.isoformat(), night, key,
                                 knowledge_cutoff=CUTOFF[night])
    return tmp_path, public


def test_every_published_row_follows_schema_json(two_exports):
    out, _ = two_exports
    first = _published(out / "first" / D1.isoformat())
    second = _published(out / "first" / D2.isoformat())
    assert {c["change"] for c in first["changes.csv"]} == {"added"}
    assert {c["change"] for c in second["changes.csv"]} == set(CHANGES)
    person = next(e for e in second["entries.jsonl"] if e["entry_id"] == "P")
    assert person["person_id_masked"] == "150203********123X"
    assert [e["entry_id"] for e in second["entries.jsonl"]] == ["A", "C", "F", "N", "P"]


def test_the_manifest_names_version_publisher_and_the_moment_of_the_data(two_exports):
    out, _ = two_exports
    folder = out / "first" / D2.isoformat()
    manifest = _published(folder)["manifest.json"][0]
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["publisher"] == PUBLISHER
    assert manifest["generated_at"] == SERVED[D2]
    assert (manifest["run_date"], manifest["previous_export_date"]) == (
        D2.isoformat(), D1.isoformat())
    listed = {f["name"]: f for f in manifest["files"]}
    assert list(listed) == ["entries.csv", "entries.jsonl", "changes.csv", "schema.json"]
    assert listed["schema.json"]["rows"] is None
    assert listed["schema.json"]["sha256"] == hashlib.sha256(
        (folder / "schema.json").read_bytes()).hexdigest()


def test_openssl_and_wageguard_verify_the_export_schema_included(two_exports, tmp_path):
    out, public = two_exports
    folder = out / "first" / D2.isoformat()
    assert openssl_verifies(folder, public)
    assert verify_export(folder, public.read_bytes()) == []
    copy = tmp_path / "download"
    shutil.copytree(folder, copy)
    spec = json.loads((copy / "schema.json").read_text(encoding="utf-8"))
    spec["$defs"]["change"]["properties"]["change"]["enum"].append("renamed")
    (copy / "schema.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    assert verify_export(copy, public.read_bytes()) == [
        "schema.json: sha256 differs from the manifest"]


def test_exporting_a_night_again_reproduces_every_file(two_exports):
    out, _ = two_exports
    for night in (D1, D2):
        for name in FILES:
            first = (out / "first" / night.isoformat() / name).read_bytes()
            assert (out / "again" / night.isoformat() / name).read_bytes() == first, (
                f"{night} {name}")


def test_schema_json_catches_rows_that_break_it(two_exports):
    out, _ = two_exports
    folder = out / "first" / D2.isoformat()
    spec = json.loads((folder / "schema.json").read_text(encoding="utf-8"))
    entry = json.loads((folder / "entries.jsonl").read_text(encoding="utf-8").splitlines()[0])
    entries = _validator(spec, "entries.jsonl")
    for broken in ({"person_id_masked": "15020319800101123X"}, {"listed_on": "2026/01/01"},
                   {"subject_type": "company"}, {"entry_id": None}, {"extra": "x"}):
        assert not entries.is_valid({**entry, **broken}), broken
    _, changes = _csv_rows(folder / "changes.csv")
    assert not _validator(spec, "changes.csv").is_valid({**changes[0], "change": "renamed"})


def test_the_as_of_is_the_newest_list_pull_the_night_may_see(engine):
    with engine.begin() as conn:
        _pull(conn, "a", loaded_at="2026-11-21T01:10:00+08:00", served=SERVED[D1])
        _pull(conn, "b", loaded_at="2026-11-22T01:10:00+08:00", served=SERVED[D2])
        _pull(conn, "later", loaded_at="2026-11-23T01:10:00+08:00", served="2026-11-23T01:00")
        _pull(conn, "refused", loaded_at="2026-11-22T01:15:00+08:00", served="refused",
              status="landed")
        _pull(conn, "register", table="enterprises", loaded_at="2026-11-22T01:16:00+08:00",
              served="register")

    def as_of(cutoff):
        with engine.connect() as conn:
            return [r["generated_at"] for r in select(
                conn, "blacklist_as_of", {"source_table": LIST_ENTRIES.name, "cutoff": cutoff})]

    assert as_of(CUTOFF[D2]) == [SERVED[D2]]
    assert as_of(CUTOFF[D1]) == [SERVED[D1]]
    assert as_of("2026-11-20T00:00:00+08:00") == []


def test_the_publisher_is_configured_or_the_default(monkeypatch):
    monkeypatch.delenv(PUBLISHER_ENV, raising=False)
    assert publisher() == DEFAULT_PUBLISHER
    monkeypatch.setenv(PUBLISHER_ENV, f"  {PUBLISHER} ")
    assert publisher() == PUBLISHER


def test_every_masked_number_matches_what_schema_json_promises():
    masked = re.compile(MASKED_PATTERN)
    for number in ("15020319800101123x", "150203800101123", "150203******1234", "12345",
                   " １５０２０３１９８００１０１１２３Ｘ "):
        assert masked.match(mask_person_id(number)), number
    assert not masked.match("15020319800101123X")


def test_schema_json_changes_only_with_its_version(tmp_path):
    write_schema(tmp_path / "schema.json")
    digest = hashlib.sha256((tmp_path / "schema.json").read_bytes()).hexdigest()
    assert re.fullmatch(r"\d+\.\d+\.\d+", SCHEMA_VERSION)
    assert PUBLISHED_SCHEMAS.get(SCHEMA_VERSION) == digest, (
        f"schema.json changed: give it a new SCHEMA_VERSION (exports/blacklist_schema.py; "
        f"semver) and add its sha256 {digest} here")


@pytest.fixture(scope="module")
def real_nights(tmp_path_factory):
    """Two nights of a generated province, signed, then the second again;
    each night's files as first published."""
    from wageguard_dev.demo.exchange import write_exchange
    from wageguard_dev.demo.sources import running_sources
    from wageguard_dev.demo.world import generate_world

    tmp = tmp_path_factory.mktemp("feed")
    _, public = generate_key_pair(tmp / "keys")
    world = generate_world(projects=60, seed=3)
    nights = world.lifecycle_nights[-2:]
    clock = [world.as_of]
    patch = night_env(tmp)
    patch.setenv(KEY_FILE_ENV, str(tmp / "keys" / "signing_key.pem"))
    patch.setenv(PUBLISHER_ENV, PUBLISHER)
    served, first = {}, {}
    try:
        with running_sources(world, workdir=tmp / "sources", ports=0,
                             clock=lambda: clock[0]) as sources:
            write_exchange(world, sources.exchange_dir, days=nights)
            for night in (*nights, nights[-1]):
                clock[0] = dt.datetime.combine(night + dt.timedelta(days=1), dt.time(1),
                                               world.as_of.tzinfo)
                served[night] = clock[0].isoformat()
                run_night_in_process(night, sources)
                folder = tmp / "out" / night.isoformat() / "blacklist"
                first.setdefault(night, {n: (folder / n).read_bytes() for n in FILES})
    finally:
        patch.undo()
    return tmp / "out", nights, served, first, public


def test_a_generated_province_publishes_a_feed_that_checks_out(real_nights):
    out, nights, served, _, public = real_nights
    for night in nights:
        folder = out / night.isoformat() / "blacklist"
        rows = _published(folder)
        manifest = rows["manifest.json"][0]
        assert (manifest["schema_version"], manifest["publisher"]) == (SCHEMA_VERSION, PUBLISHER)
        assert manifest["generated_at"] == served[night]
        assert rows["entries.jsonl"] and rows["changes.csv"]
        assert openssl_verifies(folder, public)
        assert verify_export(folder, public.read_bytes()) == []


def test_re_running_a_generated_night_reproduces_its_feed(real_nights):
    out, nights, _, first, _ = real_nights
    folder = out / nights[-1].isoformat() / "blacklist"
    for name, content in first[nights[-1]].items():
        assert (folder / name).read_bytes() == content, name
