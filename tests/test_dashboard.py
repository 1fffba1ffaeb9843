"""The supervision board (可视化督办) as supervisors open it: two nights of the
small province (the second 16 days after the first, so flags carried over are
overdue), its pages opened from disk in headless Chromium. The pages load
nothing from the network, draw their chart, show the numbers flags.csv holds,
link only to files that exist, and a re-run of the night writes the same bytes."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import night_env, run_night_in_process
from sqlalchemy import text
from wageguard.exports.district_lists import UNRESOLVED
from wageguard.warehouse.engine import make_engine
from wageguard_dev.demo.sources import running_sources

TZ = dt.timezone(dt.timedelta(hours=8))
LEVELS = ("red", "orange", "yellow")
PULL_COUNTS = ("pulled", "loaded", "quarantined", "warned", "superseded", "unchanged")


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _flags(folder: Path) -> list[dict]:
    with (folder / "flags.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def nights(tmp_path_factory, small_world):
    """Night D-16 then night D, then D again; returns the output root, the
    dashboard's files after each run of D and D's first run report."""
    tmp = tmp_path_factory.mktemp("board")
    run_date = small_world.run_date
    clock = [None]
    patch = night_env(tmp)
    folder = tmp / "out" / run_date.isoformat()
    runs = []
    try:
        with running_sources(small_world, workdir=tmp / "sources", ports=0,
                             clock=lambda: clock[0]) as sources:
            for night in (run_date - dt.timedelta(days=16), run_date, run_date):
                clock[0] = dt.datetime.combine(night + dt.timedelta(days=1), dt.time(1), TZ)
                run_night_in_process(night, sources)
                if night == run_date:
                    report = json.loads((folder / "run_report.json").read_text("utf-8"))
                    runs.append((_digests(folder / "dashboard"), report))
    finally:
        patch.undo()
    return tmp, runs


@pytest.fixture(scope="module")
def night(nights, small_world):
    tmp, _ = nights
    return tmp / "out" / small_world.run_date.isoformat()


@pytest.fixture(scope="module")
def previous(nights, small_world):
    tmp, _ = nights
    return tmp / "out" / (small_world.run_date - dt.timedelta(days=16)).isoformat()


@pytest.fixture(scope="module")
def district(night):
    """The district with the most overdue red flags."""
    counts = Counter(f["district_code"] for f in _flags(night)
                     if f["status"] == "open" and f["overdue"] == "true"
                     and f["severity"] == "red")
    return min(counts, key=lambda d: (-counts[d], d))



class Visit:
    """A page opened from disk, with everything it logged and asked for."""

    def __init__(self, browser, path: Path):
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.console, self.requests = [], []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.console.append(("pageerror", str(e))))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_selector("#trend-chart .main-svg")

    def number(self, element_id: str) -> int:
        return int(self.page.text_content(f"#{element_id}"))

    def rows(self, selector: str) -> list[list[str]]:
        return self.page.eval_on_selector_all(
            f"{selector} tbody tr",
            "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))")


@pytest.fixture(scope="module")
def index(browser, night):
    visit = Visit(browser, night / "dashboard" / "index.html")
    yield visit
    visit.page.close()


@pytest.fixture(scope="module")
def district_page(browser, night, district):
    visit = Visit(browser, night / "dashboard" / f"district-{district}.html")
    yield visit
    visit.page.close()


def test_pages_open_from_disk_without_errors_or_network_and_draw_the_chart(
        index, district_page, night, previous):
    for visit in (index, district_page):
        assert not [m for m in visit.console if m[0] in ("error", "pageerror")], visit.console
        assert visit.requests
        for url in visit.requests:
            assert url.startswith((night / "dashboard").resolve().as_uri() + "/"), url
        bars = visit.page.eval_on_selector_all("#trend-chart .trace.bars", "t => t.length")
        assert bars == len(LEVELS), "one stacked series per severity"
        ticks = visit.page.eval_on_selector_all(
            "#trend-chart .xtick text", "t => t.map(e => e.textContent)")
        assert ticks == [previous.name, night.name], "the nights run, as the folders say"


def test_a_screenshot_of_the_province_page_reads_as_a_page(index, tmp_path):
    shot = tmp_path / "dashboard-index.png"
    index.page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == 1280 and height > 1500, "the whole page, cards to data quality"
    if os.environ.get("WAGEGUARD_SCREENSHOT_DIR"):
        target = Path(os.environ["WAGEGUARD_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target / shot.name)


def _expected(flags: list[dict], resolved: set, district: str | None = None) -> dict:
    """The board's numbers computed from flags.csv; resolved are the (project,
    rule, district) open on the previous night and not on this one."""
    listed = [f for f in flags if f["status"] == "open"
              and (district is None or f["district_code"] == district)]
    per = Counter((f["rule"], f["severity"]) for f in listed)
    numbers = {f"n-{rule}-{level}": n for (rule, level), n in per.items()}
    numbers.update({
        "n-open": len(listed),
        **{f"n-{level}": sum(f["severity"] == level for f in listed) for level in LEVELS},
        "n-new": sum(f["new"] == "true" for f in listed),
        "n-resolved": sum(district is None or d == district for _, _, d in resolved),
        "n-overdue": sum(f["overdue"] == "true" for f in listed),
        "n-overdue-red": sum(f["overdue"] == "true" and f["severity"] == "red"
                             for f in listed),
    })
    return numbers


def _resolved(night: Path, previous: Path) -> set:
    now = {(f["project_id"], f["rule"]) for f in _flags(night)}
    return {(f["project_id"], f["rule"], f["district_code"]) for f in _flags(previous)
            if (f["project_id"], f["rule"]) not in now}


def test_the_numbers_are_those_of_flags_csv(index, district_page, night, previous, district):
    from wageguard.rules.catalogue import load_rules

    flags, resolved = _flags(night), _resolved(night, previous)
    assert resolved and any(f["new"] == "true" for f in flags), "a night with movement"
    rules = [r.code for r in load_rules()]
    for visit, scope in ((index, None), (district_page, district)):
        want = _expected(flags, resolved, scope)
        assert want["n-overdue-red"] > 0
        for rule in rules:
            for level in LEVELS:
                key = f"n-{rule}-{level}"
                assert visit.number(key) == want.get(key, 0), (scope, key)
            assert visit.number(f"n-{rule}-total") == sum(want.get(f"n-{rule}-{lv}", 0)
                                                         for lv in LEVELS)
        for key in ("n-open", "n-red", "n-orange", "n-yellow", "n-new", "n-resolved",
                    "n-overdue", "n-overdue-red"):
            assert visit.number(key) == want[key], (scope, key)


def test_the_province_page_adds_up_its_cities(index):
    cities = index.rows("#children")
    assert len(cities) == 3  # Hohhot, Baotou, Ulanqab
    assert sum(int(row[1]) for row in cities) == index.number("n-open")
    assert sum(int(row[-2]) for row in cities) == index.number("n-resolved")


def test_a_district_page_lists_its_overdue_red_flags_and_top_contractors(
        district_page, night, district):
    mine = [f for f in _flags(night) if f["district_code"] == district
            and f["status"] == "open" and f["severity"] == "red"]
    overdue = {(f["project_id"], f["rule"]) for f in mine if f["overdue"] == "true"}
    listed = district_page.rows("#overdue-red")
    assert {(row[0], row[2]) for row in listed} == overdue
    assert [int(row[5]) for row in listed] == sorted((int(r[5]) for r in listed), reverse=True)
    by_contractor = Counter(f["contractor_credit_code"] or f["contractor_name"] for f in mine)
    top = district_page.rows("#contractors")
    assert top and int(top[0][2]) == max(by_contractor.values())
    for name, code, red, _ in top:
        assert by_contractor[name if code == UNRESOLVED else code] == int(red), name


def test_data_quality_is_that_of_the_pulls_behind_the_night(index, nights):
    _, runs = nights
    (_, first), (_, rerun) = runs
    shown = {row[0]: dict(zip(PULL_COUNTS, map(int, row[2:8]), strict=True))
             for row in index.rows("#pulls")}
    assert shown == {table: {k: c[k] for k in PULL_COUNTS}
                     for table, c in first["sources"].items()}
    assert shown == {table: {k: c[k] for k in PULL_COUNTS}
                     for table, c in rerun["sources"].items()}, \
        "a re-run reports, and the board shows, the pulls behind the night, not its own"
    assert shown["wage_accounts"]["warned"] > 0, "the world's blank bank names show as warnings"
    assert index.page.text_content("#bundle-day") == first["devreform"]["bundle_day"]
    assert index.number("bundle-age") == first["devreform"]["age_days"]


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found += [value for name, value in attrs if name in ("href", "src")]


def test_every_link_resolves_to_a_file_of_the_night(night, district):
    board = night / "dashboard"
    pages = sorted(board.glob("*.html"))
    workbooks = {p.stem for p in (night / "lists").glob("*.xlsx")}
    assert {p.stem.removeprefix("district-") for p in board.glob("district-*.html")} == workbooks
    assert len(pages) == 1 + 3 + len(workbooks)
    for page in pages:
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        assert parser.found, page.name
        for link in parser.found:
            assert "://" not in link and not link.startswith("/"), (page.name, link)
            assert (board / link).resolve().is_file(), (page.name, link)
    parser = _Links()
    parser.feed((board / f"district-{district}.html").read_text(encoding="utf-8"))
    assert f"../lists/{district}.xlsx" in parser.found


def test_re_running_the_night_writes_the_same_bytes(nights):
    _, runs = nights
    (first, _), (again, _) = runs
    assert "assets/plotly.min.js" in first and "index.html" in first
    assert again == first


def test_cities_and_districts_named_by_a_mapping(nights, night, tmp_path):
    """A roster's names replace the codes, and its cities group the districts."""
    from wageguard.delivery.roster import RosterDistrict
    from wageguard.exports.dashboard import OverdueRed, write_dashboard
    from wageguard.exports.flag_list import flag_summary, open_flags, top_contractors, trends
    from wageguard.exports.night_outputs import keep_roster
    from wageguard.pipeline import rebuild_published_night
    from wageguard.rules.catalogue import load_rules
    from wageguard.rules.params import load_params
    from wageguard_dev.demo.identifiers import DISTRICT_BY_CODE

    tmp, _ = nights
    report = json.loads((night / "run_report.json").read_text(encoding="utf-8"))
    run_date = dt.date.fromisoformat(report["run_date"])
    previous = dt.date.fromisoformat(report["previous_night"])
    roster = [RosterDistrict(code, d.name, code[:4] + "00", d.city, ())
              for code, d in DISTRICT_BY_CODE.items()]
    roster = [RosterDistrict(d.code, d.name, "159900", "试点合并区", ()) if d.code == "150221"
              else d for d in roster]
    engine = make_engine(f"sqlite:///{tmp / 'warehouse.db'}")
    with engine.connect() as conn:  # closed without a commit: the warehouse is left as it was
        rebuild_published_night(conn, run_date)  # a published night keeps no snapshot
        keep_roster(conn, roster)
        params = load_params()
        overdue_red = OverdueRed()
        for flag in open_flags(conn, run_date, previous, params):
            overdue_red.add(flag)
        write_dashboard(conn, tmp_path, run_date, flag_summary(conn, run_date, previous, params),
                        overdue_red, trends(conn, run_date),
                        top_contractors(conn, run_date, previous, params), report,
                        {r.code: r for r in load_rules()})
    engine.dispose()
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert '<a href="city-150200.html">包头市</a>' in index
    assert '<a href="city-159900.html">试点合并区</a>' in index
    moved = (tmp_path / "city-159900.html").read_text(encoding="utf-8")
    assert '<a href="district-150221.html">土默特右旗</a>' in moved
    assert "土默特右旗" not in (tmp_path / "city-150200.html").read_text(encoding="utf-8")
    page = (tmp_path / "district-150203.html").read_text(encoding="utf-8")
    assert "<title>昆都仑区 欠薪预警督办看板" in page
    assert '<a href="city-150200.html">包头市</a>' in page


def test_the_pulls_behind_a_night_on_both_warehouses(warehouse_url):
    """Pulls of D loaded by the night's cutoff count, summed per table; a
    re-run's later pulls and other nights' pulls do not."""
    from wageguard.exports.dashboard import night_pulls
    from wageguard.warehouse.migrate import migrate

    engine = make_engine(warehouse_url)
    migrate(engine)
    d = dt.date(2026, 11, 21)
    batches = [  # batch, run date, table, loaded at, pulled, loaded, quarantined, warned,
        #            superseded
        ("a", d, "projects", "2026-11-22T01:00:01.000000+08:00", 10, 7, 2, 3, 1),
        ("b", d, "projects", "2026-11-22T01:00:05.000000+08:00", 4, 4, 0, 1, 0),
        ("c", d, "projects", "2026-11-22T03:00:00.000000+08:00", 9, 9, 0, 5, 0),
        ("d", d - dt.timedelta(days=1), "projects", "2026-11-21T01:00:01.000000+08:00",
         5, 5, 0, 0, 0),
        ("e", d, "enterprises", "2026-11-22T01:00:02.000000+08:00", 3, 2, 1, None, 0),
    ]
    with engine.begin() as conn:
        for batch, night, table, at, pulled, loaded, bad, warned, superseded in batches:
            conn.execute(text(
                "INSERT INTO load_batch (batch_id, run_date, source_table, source, pulled_at, "
                "pulled, loaded, quarantined, warned, superseded, status, loaded_at) VALUES "
                "(:b, :d, :t, 'test', :at, :p, :l, :q, :w, :s, 'loaded', :at)"),
                {"b": batch, "d": night, "t": table, "at": at, "p": pulled, "l": loaded,
                 "q": bad, "w": warned, "s": superseded})
        pulls = night_pulls(conn, d, "2026-11-22T02:00:00.000000+08:00")
    engine.dispose()
    assert [(p["table"], *(p[k] for k in PULL_COUNTS)) for p in pulls] == [
        ("enterprises", 3, 2, 1, 0, 0, 0), ("projects", 14, 11, 2, 4, 1, 0)]
