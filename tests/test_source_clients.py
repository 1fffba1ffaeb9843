"""The source clients against the local source systems over real HTTP: paging,
watermarks, retries on 429/5xx, authentication errors, and choosing a complete
dev-reform bundle."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from wageguard.sources.config import InsecureSourceError, SourceConfig, from_connection
from wageguard.sources.devreform import NoBundleError, newest_complete_bundle
from wageguard.sources.paged_api import SourceError
from wageguard.sources.rest_feeds import FEEDS, closed_months, pull_feed
from wageguard_dev.demo.paged_api import Faults
from wageguard_dev.demo.sources import running_sources


@pytest.fixture(scope="module")
def world():
    from wageguard_dev.demo.world import generate_world

    return generate_world(projects=300, seed=3)


def _served(world, table):
    """Every version the source holds, as (id, updated_at)."""
    key = {"projects": "project_id", "list_entries": "entry_id"}[table]
    return sorted((r[key], r["updated_at"]) for r in world.rows(table))


def test_a_full_pull_follows_every_page(world, tmp_path):
    with running_sources(world, workdir=tmp_path, ports=0, clock=lambda: world.as_of) as src:
        feed = FEEDS["projects"]
        small_pages = type(feed)(feed.table, feed.system, feed.path, page_size=97)
        pull = pull_feed(small_pages, SourceConfig(src.housing_url, secret=src.token),
                         watermark=None)
    got = sorted((r["project_id"], r["updated_at"]) for r in pull.records)
    assert got == _served(world, "projects")
    assert pull.pages == -(-len(got) // 97)
    assert dt.datetime.fromisoformat(pull.server_time) == world.as_of


def test_an_incremental_pull_starts_at_the_watermark_inclusive(world, tmp_path):
    with running_sources(world, workdir=tmp_path, ports=0, clock=lambda: world.as_of) as src:
        config = SourceConfig(src.credit_url, secret=src.api_key)
        times = sorted(r["updated_at"] for r in world.list_entries)
        since = times[len(times) // 2]
        pull = pull_feed(FEEDS["list_entries"], config, watermark=since)
    expected = sorted(r["entry_id"] for r in world.list_entries
                      if dt.datetime.fromisoformat(r["updated_at"])
                      >= dt.datetime.fromisoformat(since))
    assert sorted(r["entry_id"] for r in pull.records) == expected


def test_the_local_sources_announce_the_total_pulls_are_held_to(world, tmp_path):
    import requests

    times = sorted(r["updated_at"] for r in world.list_entries)
    since = times[len(times) // 2]
    with running_sources(world, workdir=tmp_path, ports=0, clock=lambda: world.as_of) as src:
        http = requests.Session()
        http.headers["X-Api-Key"] = src.api_key
        url = f"{src.credit_url}/v1/dishonest-entities"
        first = http.get(url, params={"page_size": 10}).json()
        second = http.get(url, params={"page_token": first["next_page_token"]}).json()
        window = http.get(url, params={"updated_since": since}).json()
    assert first["total"] == second["total"] == len(world.list_entries)
    assert window["total"] == sum(
        dt.datetime.fromisoformat(t) >= dt.datetime.fromisoformat(since) for t in times)


def test_throttling_and_transient_errors_are_retried_to_the_same_result(world, tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="urllib3.util.retry")
    faults = Faults(seed=5, transient_rate=0.15, throttle_rate=0.05, retry_after_s=1)
    with running_sources(world, workdir=tmp_path, ports=0, clock=lambda: world.as_of,
                         faults=faults) as src:
        feed = FEEDS["projects"]
        pages = type(feed)(feed.table, feed.system, feed.path, page_size=25)
        pull = pull_feed(pages, SourceConfig(src.housing_url, secret=src.token), watermark=None)
    retried = [r.getMessage() for r in caplog.records if "Incremented Retry" in r.getMessage()]
    assert len(retried) >= 3, "the faults must actually have been met"
    assert sorted((r["project_id"], r["updated_at"]) for r in pull.records) == _served(
        world, "projects")


def test_a_wrong_token_fails_with_advice(world, tmp_path):
    with (
        running_sources(world, workdir=tmp_path, ports=0, clock=lambda: world.as_of) as src,
        pytest.raises(SourceError, match=r"401.*check the token"),
    ):
        pull_feed(FEEDS["projects"], SourceConfig(src.housing_url, secret="wrong"),
                  watermark=None)


def test_realname_is_pulled_per_closed_month(world, tmp_path):
    months = closed_months(world.run_date, 1, 5)
    assert months == ["2026-10"]
    with running_sources(world, workdir=tmp_path, ports=0, clock=lambda: world.as_of) as src:
        pull = pull_feed(FEEDS["realname_monthly"],
                         SourceConfig(src.housing_url, secret=src.token),
                         watermark=None, months=months)
    assert pull.records
    assert {r["month"] for r in pull.records if isinstance(r.get("month"), str)} <= {"2026-10"}


@pytest.mark.parametrize(("day", "months"), [
    (dt.date(2026, 11, 5), ["2026-10", "2026-09"]),
    (dt.date(2026, 11, 4), ["2026-09", "2026-08"]),
    (dt.date(2026, 1, 4), ["2025-11", "2025-10"]),
])
def test_closed_months_turn_on_the_fifth(day, months):
    assert closed_months(day, 2, 5) == months


def test_the_newest_complete_bundle_is_used_from_a_folder_or_http(world, tmp_path):
    with running_sources(world, workdir=tmp_path, ports=0, clock=lambda: world.as_of) as src:
        from_folder = newest_complete_bundle(SourceConfig(str(src.exchange_dir)), world.run_date)
        login, password = src.basic_auth
        over_http = newest_complete_bundle(
            SourceConfig(src.exchange_url, login=login, secret=password), world.run_date)
    # D's bundle has no manifest yet; D-1 is complete.
    assert from_folder.day == over_http.day == world.run_date - dt.timedelta(days=1)
    assert from_folder.skipped[0][0] == world.run_date.isoformat()
    assert from_folder.file_hashes == over_http.file_hashes
    assert len(from_folder.rows["investment_projects"]) == len(world.investment_projects)


def test_a_bundle_csv_is_read_as_dict_reader_reads_it_blank_lines_and_ragged_rows_too(
        monkeypatch):
    import csv
    import io
    import tempfile

    from wageguard.sources.devreform import BundleFile

    text = ('项目代码,项目名称,金额\r\n'
            'A1,"多行\r\n名称",10\r\n'
            '\r\n'
            'A2,短行\r\n'
            'A3,长行,30,多余,又多\r\n'
            'A4,"含,逗号",40\r\n')
    raw = text.encode("gb18030")
    monkeypatch.setattr(BundleFile, "PAGE", 2)  # several spool pages
    with tempfile.TemporaryFile() as copy:
        copy.write(raw)
        parsed = BundleFile(copy, "gb18030")
    expected = list(csv.DictReader(io.StringIO(raw.decode("gb18030"), newline="")))
    assert len(parsed) == len(expected) == 4
    assert list(parsed) == list(parsed) == expected
    assert expected[1]["金额"] is None and expected[2][None] == ["多余", "又多"]


def test_a_corrupt_bundle_is_skipped_for_an_older_complete_one(world, tmp_path):
    from wageguard_dev.demo.exchange import write_exchange

    d = world.run_date
    write_exchange(world, tmp_path, days=[d - dt.timedelta(days=2), d - dt.timedelta(days=1)],
                   corrupt=[d - dt.timedelta(days=1)])
    bundle = newest_complete_bundle(SourceConfig(str(tmp_path)), d)
    assert bundle.day == d - dt.timedelta(days=2)
    assert any("does not match" in why or "rows" in why for _, why in bundle.skipped)


def test_an_old_bundle_copied_under_a_new_day_is_skipped_for_an_older_complete_one(
        world, tmp_path):
    import shutil

    from wageguard_dev.demo.exchange import write_exchange

    d = world.run_date
    write_exchange(world, tmp_path, days=[d - dt.timedelta(days=3), d - dt.timedelta(days=2)])
    # Whole and matching its manifest, but the manifest says D-3.
    shutil.copytree(tmp_path / f"{d - dt.timedelta(days=3):%Y%m%d}", tmp_path / f"{d:%Y%m%d}")
    bundle = newest_complete_bundle(SourceConfig(str(tmp_path)), d)
    assert bundle.day == d - dt.timedelta(days=2)
    refused, why = bundle.skipped[0]
    assert refused == d.isoformat()
    assert f"export_date is '{d - dt.timedelta(days=3)}', not the folder's day {d}" in why


@pytest.mark.parametrize("manifest", ['{"export_date": "2026-11-21", "files": [',
                                      '{"export_date": "2026-11-21", "files": [{"name": 1}]}',
                                      '["not", "an", "object"]'],
                         ids=["half written", "entry without rows", "not an object"])
def test_an_unreadable_manifest_is_skipped_for_an_older_complete_one(world, tmp_path,
                                                                      manifest):
    from wageguard_dev.demo.exchange import write_exchange

    d = world.run_date
    write_exchange(world, tmp_path, days=[d - dt.timedelta(days=1), d])
    (tmp_path / f"{d:%Y%m%d}" / "manifest.json").write_text(manifest, encoding="utf-8")
    bundle = newest_complete_bundle(SourceConfig(str(tmp_path)), d)
    assert bundle.day == d - dt.timedelta(days=1)
    assert bundle.skipped[0][1].startswith("manifest.json cannot be read")


def test_no_bundle_in_the_lookback_is_a_clear_error(tmp_path):
    with pytest.raises(NoBundleError, match="no complete dev-reform bundle within 10 days"):
        newest_complete_bundle(SourceConfig(str(tmp_path)), dt.date(2026, 11, 21))


class _Conn:
    def __init__(self, **fields):
        self.conn_type = fields.get("conn_type", "http")
        self.host = fields.get("host")
        self.port = fields.get("port")
        self.schema = fields.get("schema")
        self.login = fields.get("login")
        self.password = fields.get("password")
        self.extra = json.dumps(fields.get("extra", {}))


def test_connections_map_to_sources_and_keep_secrets_out_of_repr():
    config = from_connection(_Conn(host="127.0.0.1", port=8101, schema="http", password="s3"))
    assert config.location == "http://127.0.0.1:8101"
    assert "s3" not in repr(config)
    folder = from_connection(_Conn(conn_type="fs", extra={"path": "/mnt/x"}))
    assert folder.location == "/mnt/x" and not folder.is_http


def test_credentials_are_not_sent_in_clear_to_another_host():
    with pytest.raises(InsecureSourceError, match="plain HTTP"):
        from_connection(_Conn(host="10.0.0.5", port=80, schema="http", password="s3"))
    allowed = from_connection(_Conn(host="10.0.0.5", schema="http", password="s3",
                                    extra={"allow_plain_http": True}))
    assert allowed.location == "http://10.0.0.5"
    assert from_connection(_Conn(host="zj.example.cn", schema="https", password="s3"))


def test_an_expired_page_token_resumes_the_pull_without_losing_records(world, tmp_path, caplog):
    import time

    slow = Faults(token_ttl_s=0.05, after_page=lambda api, path: time.sleep(0.06))
    with running_sources(world, workdir=tmp_path, ports=0, clock=lambda: world.as_of,
                         faults=slow) as src:
        feed = FEEDS["projects"]
        pages = type(feed)(feed.table, feed.system, feed.path, page_size=40)
        pull = pull_feed(pages, SourceConfig(src.housing_url, secret=src.token), watermark=None)
    assert any("page token refused" in r.getMessage() for r in caplog.records)
    got = {(r["project_id"], r["updated_at"]) for r in pull.records}
    assert got == set(_served(world, "projects"))
    assert dt.datetime.fromisoformat(pull.server_time) == world.as_of


def test_a_record_updated_while_the_client_pages_arrives_once_as_its_latest_version(
        world, tmp_path):
    from wageguard.validate import validate_table

    first = min(world.projects, key=lambda r: (r["updated_at"], r["project_id"]))
    changed = {**first, "name": first["name"] + "(变更)",
               "updated_at": (world.as_of - dt.timedelta(minutes=5)).isoformat()}
    pages_served = []

    def edit_mid_pull(api, path):
        pages_served.append(path)
        if len(pages_served) == 2:
            api.add_record(path, changed)

    with running_sources(world, workdir=tmp_path, ports=0, clock=lambda: world.as_of,
                         faults=Faults(after_page=edit_mid_pull)) as src:
        feed = FEEDS["projects"]
        pages = type(feed)(feed.table, feed.system, feed.path, page_size=50)
        pull = pull_feed(pages, SourceConfig(src.housing_url, secret=src.token), watermark=None)
    served_twice = [r for r in pull.records if r["project_id"] == first["project_id"]]
    assert changed in served_twice, "the new version comes on a later page of the same pull"
    outcome = validate_table("projects", pull.records)
    (kept,) = [r for r in outcome.good if r["project_id"] == first["project_id"]]
    assert kept["name"] == changed["name"]
    assert outcome.pulled == len(outcome.good) + len(outcome.quarantined) + outcome.superseded
