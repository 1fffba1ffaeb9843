"""The local source systems, over real HTTP on ephemeral ports, hold to their contracts:
auth, paging, watermarks, tokens, faults, the server's clock, and the exchange's
bundles and manifests."""

from __future__ import annotations

import csv
import hashlib
import http.client
import io
import json
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
import requests
from wageguard.tables import DEVREFORM_HEADERS
from wageguard_dev.demo import generate_world
from wageguard_dev.demo.credit_api import credit_api
from wageguard_dev.demo.exchange import exchange_handler, write_exchange
from wageguard_dev.demo.housing_api import housing_api
from wageguard_dev.demo.paged_api import Faults
from wageguard_dev.demo.serving import BackgroundServer
from wageguard_dev.demo.sources import running_sources

D = date(2026, 11, 21)


@pytest.fixture(scope="module")
def world():
    # Large enough that each table fills more than one default page.
    return generate_world(projects=700, seed=5, run_date=D)


@pytest.fixture(scope="module")
def sources(world, tmp_path_factory):
    with running_sources(world, workdir=tmp_path_factory.mktemp("sources"), ports=0,
                         clock=lambda: world.as_of) as running:
        yield running


@pytest.fixture(scope="module")
def housing(sources):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sources.token}"
    return session


@pytest.fixture(scope="module")
def credit(sources):
    session = requests.Session()
    session.headers["X-Api-Key"] = sources.api_key
    return session


@contextmanager
def serving(api):
    server = BackgroundServer(api.handler(), "127.0.0.1", 0).start()
    try:
        yield server.url
    finally:
        server.stop()


def pull(session, url, **params):
    """Every page of one pull: (items, pages)."""
    items, pages = [], []
    while True:
        response = session.get(url, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        items.extend(page["items"])
        if page["next_page_token"] is None:
            return items, pages
        params = {**params, "page_token": page["next_page_token"]}


def order_key(record, id_field):
    return datetime.fromisoformat(record["updated_at"]), record[id_field] or ""


def canonical(records):
    return sorted(json.dumps(r, ensure_ascii=False, sort_keys=True) for r in records)


# --- the paged APIs -----------------------------------------------------------------


def test_wrong_or_missing_credentials_get_401(sources):
    for url, headers in (
        (f"{sources.housing_url}/v1/projects", {}),
        (f"{sources.housing_url}/v1/projects", {"Authorization": "Bearer nope"}),
        (f"{sources.housing_url}/v1/projects", {"Authorization": sources.token}),
        (f"{sources.credit_url}/v1/enterprises", {}),
        (f"{sources.credit_url}/v1/enterprises", {"X-Api-Key": "nope"}),
        (f"{sources.credit_url}/v1/enterprises", {"Authorization": f"Bearer {sources.token}"}),
    ):
        response = requests.get(url, headers=headers)
        assert response.status_code == 401, url
        assert "error" in response.json()


@pytest.mark.parametrize(
    "system, path, table, id_field",
    [
        ("housing", "/v1/projects", "projects", "project_id"),
        ("housing", "/v1/wage-accounts", "wage_accounts", "account_id"),
        ("housing", "/v1/wage-deposits", "wage_deposits", "deposit_id"),
        ("credit", "/v1/enterprises", "enterprises", "credit_code"),
        ("credit", "/v1/dishonest-entities", "list_entries", "entry_id"),
    ],
)
def test_paging_serves_every_version_once_in_order(
    request, sources, world, system, path, table, id_field
):
    session = request.getfixturevalue(system)
    base = sources.housing_url if system == "housing" else sources.credit_url
    items, pages = pull(session, base + path, page_size=37)
    assert canonical(items) == canonical(world.rows(table))
    keys = [order_key(r, id_field) for r in items]
    assert keys == sorted(keys)
    assert len(pages) == -(-len(items) // 37)
    assert all(p["server_time"] == world.as_of.isoformat() for p in pages)


def test_default_page_sizes_follow_the_contracts(sources, world, housing, credit):
    assert len(world.projects) > 500 and len(world.enterprises) > 200
    first = housing.get(f"{sources.housing_url}/v1/projects").json()
    assert len(first["items"]) == 500
    first = credit.get(f"{sources.credit_url}/v1/enterprises").json()
    assert len(first["items"]) == 200


def test_updated_since_is_inclusive_and_reads_any_offset(sources, world, housing):
    stamps = sorted(p["updated_at"] for p in world.projects)
    since = stamps[len(stamps) // 2]
    expected = [p for p in world.projects if p["updated_at"] >= since]
    items, _ = pull(housing, f"{sources.housing_url}/v1/projects", updated_since=since)
    assert canonical(items) == canonical(expected)
    as_utc = datetime.fromisoformat(since).astimezone(UTC).isoformat()
    again, _ = pull(housing, f"{sources.housing_url}/v1/projects", updated_since=as_utc)
    assert canonical(again) == canonical(expected)


@pytest.mark.parametrize("since", ["yesterday", "2026-11-21T01:00:00", "2026-13-01T00:00:00+08:00"])
def test_a_bad_updated_since_gets_400(sources, housing, since):
    response = housing.get(f"{sources.housing_url}/v1/projects", params={"updated_since": since})
    assert response.status_code == 400
    assert "updated_since" in response.json()["error"]


@pytest.mark.parametrize("system, size, status", [
    ("housing", 0, 400), ("housing", 5000, 200), ("housing", 5001, 400), ("housing", "ten", 400),
    ("credit", 2000, 200), ("credit", 2001, 400), ("credit", -1, 400),
])
def test_page_size_bounds(request, sources, system, size, status):
    session = request.getfixturevalue(system)
    url = (f"{sources.housing_url}/v1/projects" if system == "housing"
           else f"{sources.credit_url}/v1/enterprises")
    assert session.get(url, params={"page_size": size}).status_code == status


def test_a_forged_or_misused_token_gets_400(sources, housing):
    url = f"{sources.housing_url}/v1/projects"
    token = housing.get(url, params={"page_size": 5}).json()["next_page_token"]
    payload, signature = token.split(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    for params in (
        {"page_token": forged},
        {"page_token": "not-a-token"},
        {"page_token": token, "updated_since": "2026-01-01T00:00:00+08:00"},
    ):
        response = housing.get(url, params=params)
        assert response.status_code == 400, params
        assert "page_token" in response.json()["error"]
    other = housing.get(f"{sources.housing_url}/v1/wage-accounts", params={"page_token": token})
    assert other.status_code == 400


def test_a_page_fetched_twice_returns_the_same_items(sources, housing):
    url = f"{sources.housing_url}/v1/wage-deposits"
    token = housing.get(url, params={"page_size": 10}).json()["next_page_token"]
    first = housing.get(url, params={"page_size": 10, "page_token": token}).json()
    second = housing.get(url, params={"page_size": 10, "page_token": token}).json()
    assert first["items"] == second["items"] and first["items"]


def test_realname_needs_a_month_and_serves_that_month(sources, world, housing):
    url = f"{sources.housing_url}/v1/realname-monthly"
    assert housing.get(url).status_code == 400
    assert housing.get(url, params={"month": "2026-1"}).status_code == 400
    ignored_since = "2099-01-01T00:00:00+08:00"  # real-name months are not incremental
    items, _ = pull(housing, url, month="2026-10", page_size=50, updated_since=ignored_since)
    october = [r for r in world.realname_monthly if r["month"] == "2026-10"]
    assert canonical(items) == canonical(october)
    assert pull(housing, url, month="2019-01")[0] == []
    token = housing.get(url, params={"month": "2026-10", "page_size": 5}).json()["next_page_token"]
    assert housing.get(url, params={"month": "2026-09", "page_token": token}).status_code == 400
    assert housing.get(url, params={"page_token": token}).status_code == 200


def test_the_clock_hides_what_is_not_yet_written_and_the_watermark_catches_up(world):
    now = [world.as_of - timedelta(days=3)]
    with serving(housing_api(world, token="t", clock=lambda: now[0])) as url:
        session = requests.Session()
        session.headers["Authorization"] = "Bearer t"
        first, pages = pull(session, f"{url}/v1/projects", page_size=100)
        cutoff = now[0]
        assert canonical(first) == canonical(
            p for p in world.projects if datetime.fromisoformat(p["updated_at"]) <= cutoff
        )
        watermark = pages[0]["server_time"]
        assert datetime.fromisoformat(watermark) == cutoff
        now[0] = world.as_of
        second, _ = pull(session, f"{url}/v1/projects", page_size=100, updated_since=watermark)
        assert canonical(second) == canonical(
            p for p in world.projects if datetime.fromisoformat(p["updated_at"]) >= cutoff
        )
        assert len(canonical(first + second)) >= len(world.projects)


def test_a_record_changed_while_paging_is_served_at_the_end(world):
    changed = {**world.projects[0], "name": "改名后的项目", "updated_at": world.as_of.isoformat()}

    def change_once(api, path):
        if path == "/v1/projects" and changed["name"]:
            api.add_record(path, dict(changed))
            changed["name"] = None

    api = housing_api(world, token="t", clock=lambda: world.as_of,
                      faults=Faults(after_page=change_once))
    with serving(api) as url:
        session = requests.Session()
        session.headers["Authorization"] = "Bearer t"
        items, _ = pull(session, f"{url}/v1/projects", page_size=50)
    assert len(items) == len(world.projects) + 1
    assert items[-1]["name"] == "改名后的项目"


def test_load_shedding_answers_429_with_retry_after(world):
    shedding = Faults(throttle_rate=1.0, retry_after_s=2)
    with serving(credit_api(world, key="k", faults=shedding)) as url:
        for _ in range(2):
            response = requests.get(f"{url}/v1/enterprises", headers={"X-Api-Key": "k"})
            assert response.status_code == 429
            assert 1 <= int(response.headers["Retry-After"]) <= 2
            assert "error" in response.json()


def test_transient_errors_are_5xx_and_seeded(world):
    def statuses(seed):
        api = housing_api(world, token="t", faults=Faults(seed=seed, transient_rate=0.5))
        with serving(api) as url:
            session = requests.Session()
            session.headers["Authorization"] = "Bearer t"
            return [session.get(f"{url}/v1/projects", params={"page_size": 1}).status_code
                    for _ in range(30)]

    first = statuses(seed=9)
    assert set(first) <= {200, 502, 503, 504} and 200 in first and set(first) - {200}
    assert statuses(seed=9) == first


def test_an_expired_token_gets_400(world):
    api = housing_api(world, token="t", clock=lambda: world.as_of, faults=Faults(token_ttl_s=0.2))
    with serving(api) as url:
        session = requests.Session()
        session.headers["Authorization"] = "Bearer t"
        token = session.get(f"{url}/v1/projects", params={"page_size": 5}).json()["next_page_token"]
        time.sleep(0.3)
        response = session.get(f"{url}/v1/projects", params={"page_token": token})
        assert response.status_code == 400
        assert "expired" in response.json()["error"]


def test_an_unknown_path_is_a_json_404(sources, housing):
    response = housing.get(f"{sources.housing_url}/v1/nothing")
    assert response.status_code == 404 and "error" in response.json()


# --- the dev-reform exchange ---------------------------------------------------------


def test_the_default_exchange_calendar(sources):
    folder = sources.exchange_dir
    days = sorted(p.name for p in folder.iterdir())
    assert days == ["20261117", "20261119", "20261120", "20261121"], "20261118 is a holiday"
    assert not (folder / "20261121" / "manifest.json").exists(), "D is still being copied"
    for day in ("20261117", "20261119", "20261120"):
        assert (folder / day / "manifest.json").is_file()


def test_bundle_files_are_gb18030_crlf_and_match_their_manifest(sources, world):
    bundle = sources.exchange_dir / "20261120"
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["export_date"] == "2026-11-20" and manifest["encoding"] == "GB18030"
    for entry in manifest["files"]:
        data = (bundle / entry["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        text = data.decode("gb18030")
        table = entry["name"].removesuffix(".csv")
        quoted_breaks = sum(v.count("\n") for r in world.rows(table) for v in r.values())
        assert text.count("\n") - text.count("\r\n") == quoted_breaks, "records end in CRLF"
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert rows[0] == list(DEVREFORM_HEADERS[table])
        assert len(rows) - 1 == entry["rows"] == len(world.rows(table))
        assert rows[1:] == [list(r.values()) for r in world.rows(table)]


def test_corrupt_and_chosen_days(world, tmp_path):
    states = write_exchange(world, tmp_path, days=[D], corrupt=[D - timedelta(days=1)])
    assert states == {D: "complete", D - timedelta(days=1): "corrupt"}
    bundle = tmp_path / "20261120"
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert any(
        hashlib.sha256((bundle / f["name"]).read_bytes()).hexdigest() != f["sha256"]
        for f in manifest["files"]
    )
    rewritten = write_exchange(world, tmp_path, days=[D], incomplete=[D])
    assert rewritten == {D: "incomplete"} and not (tmp_path / "20261121" / "manifest.json").exists()


def test_the_exchange_over_http(sources):
    url, auth = sources.exchange_url, sources.basic_auth
    manifest = requests.get(f"{url}/20261120/manifest.json", auth=auth)
    assert manifest.status_code == 200 and manifest.json()["export_date"] == "2026-11-20"
    data = requests.get(f"{url}/20261120/investment_projects.csv", auth=auth).content
    assert data == (sources.exchange_dir / "20261120" / "investment_projects.csv").read_bytes()
    assert requests.get(f"{url}/20261120/manifest.json").status_code == 401
    assert requests.get(f"{url}/20261120/manifest.json", auth=(auth[0], "wrong")).status_code == 401
    for missing in ("/20261118/manifest.json", "/20261121/manifest.json", "/", "/20261120/",
                    "/20261120/nothing.csv", "/20261120/.manifest.json.partial"):
        assert requests.get(url + missing, auth=auth).status_code == 404, missing
    # requests would tidy the dots away: send the path as a crafty client would.
    connection = http.client.HTTPConnection(url.removeprefix("http://"))
    connection.request("GET", "/20261120/../../credentials.json",
                       headers={"Authorization": requests.auth._basic_auth_str(*auth)})
    assert connection.getresponse().status == 404


def test_the_exchange_without_a_login(world, tmp_path):
    write_exchange(world, tmp_path)
    server = BackgroundServer(exchange_handler(tmp_path), "127.0.0.1", 0).start()
    try:
        assert requests.get(f"{server.url}/20261120/manifest.json").status_code == 200
        assert requests.head(f"{server.url}/20261119/fund_disbursements.csv").status_code == 200
    finally:
        server.stop()


def test_sources_draw_fresh_secrets(world, tmp_path):
    with running_sources(world, workdir=tmp_path / "a", ports=0) as a, \
            running_sources(world, workdir=tmp_path / "b", ports=0) as b:
        assert a.token != b.token and a.api_key != b.api_key and a.basic_auth != b.basic_auth
        assert len(a.token) >= 24
