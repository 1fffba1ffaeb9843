"""The night's Data Docs: a page opens styled from disk in headless Chromium
with no network, loading only the copies shipped beside it, which are the very
files GX names; a page that would still load anything from elsewhere is
refused. When something is off: a renderer that fails says why and fails the
export, and a pull loaded before pages were rendered at export keeps the page
it was stored with."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text
from wageguard.exports.data_docs import (
    ASSETS,
    MODE_ENV,
    SHIPPED,
    STATIC,
    DataDocs,
    DataDocsError,
    offline,
    render_pages,
)
from wageguard.paths import expectations_dir

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


def _results(table: str) -> list[list]:
    """Stored results of the table's whole suite, every third expectation failed
    by three of forty rows."""
    suite = json.loads((expectations_dir() / f"{table}.json").read_text(encoding="utf-8"))
    results = []
    for n, expectation in enumerate(suite["expectations"]):
        failed = 3 if n % 3 == 0 else 0
        results.append([expectation["type"], expectation["kwargs"], not failed, {
            "element_count": 40, "unexpected_count": failed, "unexpected_percent": failed / 0.4,
            "partial_unexpected_list": [f"bad value {n}"] * failed}, expectation["severity"]])
    return results


@pytest.fixture(scope="module")
def gx_page() -> str:
    """The page as GX renders it."""
    from wageguard.validate.gx_suites import data_docs_page

    return data_docs_page("projects", _results("projects"))


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data_docs")
    render_pages(folder, [{"table": "projects", "results": _results("projects")}])
    return folder



def test_a_page_loads_only_the_copies_beside_it_and_keeps_its_links(docs, gx_page):
    page = (docs / "projects.html").read_text(encoding="utf-8")
    loads = re.findall(r'<(?:script|link|img)\b[^>]*?\s(?:src|href)="([^"]*)"', page)
    loads += re.findall(r"url\('([^']*)'\)", page)
    assert set(loads) == {f"{ASSETS}/{shipped}" for shipped in SHIPPED.values()}
    assert all((docs / load).is_file() for load in loads)
    assert "vega" not in page and "datepicker" not in page and "filter-control" not in page
    assert "integrity=" not in page and "crossorigin=" not in page
    newsletter = re.search(r'<a href="https://greatexpectations.io/newsletter[^"]*"', gx_page)
    assert newsletter and newsletter[0] in page, "a link a reader may follow stays"


@pytest.mark.parametrize(("scheme", "background"), [("light", "rgb(255, 255, 255)"),
                                                    ("dark", "rgb(25, 29, 33)")])
def test_a_page_opens_styled_from_disk_with_no_network(browser, docs, tmp_path, scheme,
                                                       background):
    context = browser.new_context(offline=True, color_scheme=scheme,
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((docs / "projects.html").as_uri())
    page.evaluate("document.fonts.ready")
    try:
        assert not errors, errors
        assert all(url.startswith(f"{docs.as_uri()}/") for url in requests), requests
        style = page.evaluate("""() => {
          const style = (selector, pseudo) =>
            getComputedStyle(document.querySelector(selector), pseudo);
          return {
            body: style("body").backgroundColor,
            font: style("body").fontFamily,
            button: style(".btn-primary:not(.active)").backgroundColor,
            alert: style(".alert-secondary").backgroundColor,
            icon: style(".fa-times").fontFamily,
            glyph: style(".fa-times", "::before").content,
          };
        }""")
        assert style["body"] == background, "bootstrap-dark's colours in dark mode"
        assert style["font"].startswith("-apple-system"), "Bootstrap's fonts"
        assert style["button"] == "rgb(0, 123, 255)" and style["alert"] == "rgb(226, 227, 229)"
        assert style["icon"] == '"Font Awesome 6 Free"' and style["glyph"] == '"\uf00d"'
        assert f"{docs.as_uri()}/{ASSETS}/fontawesome/webfonts/fa-solid-900.woff2" in requests
        assert page.evaluate("""() => [...document.fonts].some(
          f => f.family.includes("Font Awesome 6 Free") && f.status === "loaded")""")
        searchable = page.locator("table[data-search]").count()
        assert searchable > 1
        assert page.locator(".bootstrap-table .search input").count() == searchable, (
            "bootstrap-table built each expectation table, with its search box")
        assert page.locator(".bootstrap-table th .sortable").count() >= searchable
        page.get_by_text("Show more info...").click()
        page.wait_for_selector(".collapse.show", timeout=5000)  # Bootstrap's own script
        shot = tmp_path / f"data-docs-{scheme}.png"
        page.screenshot(path=str(shot), full_page=True)
        if os.environ.get("WAGEGUARD_SCREENSHOT_DIR"):
            target = Path(os.environ["WAGEGUARD_SCREENSHOT_DIR"])
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, target / shot.name)
    finally:
        context.close()


def test_the_shipped_copies_are_the_files_gx_names(gx_page):
    """The scripts GX pins by hash are shipped byte for byte, and a copy that
    states its version states the one GX's address names; what a shipped
    style sheet loads is shipped too, and each package has its licence."""
    pinned = re.findall(r'src="([^"]*)" integrity="sha384-([^"]*)"', gx_page)
    assert len(pinned) == 2, "popper.js and Bootstrap's script"
    for address, digest in pinned:
        copy = (STATIC / SHIPPED[address]).read_bytes()
        assert base64.b64encode(hashlib.sha384(copy).digest()).decode() == digest, address
    for address, shipped in SHIPPED.items():
        header = (STATIC / shipped).read_bytes()[:300]
        stated = re.search(rb"\d+\.\d+\.\d+", header) if shipped.endswith((".css", ".js")) else None
        if stated:
            assert stated[0].decode() in address, shipped
    for sheet in STATIC.rglob("*.css"):
        for url in re.findall(r"url\(['\"]?([^'\")]*)", sheet.read_text(encoding="utf-8")):
            assert url.startswith("data:") or (sheet.parent / url).is_file(), (sheet, url)
    for package in (p for p in STATIC.iterdir() if p.is_dir()):
        assert list(package.glob("LICENSE*")), package.name


@pytest.mark.parametrize("added", [
    '<script src="https://cdn.example.org/chart.js"></script>',
    '<link rel="stylesheet" href="//cdn.example.org/theme.css">',
    "<img src=http://cdn.example.org/logo.png>",
    '<style>@import "https://cdn.example.org/theme.css";</style>',
    '<div style="background: url(https://cdn.example.org/bg.png)"></div>',
    '<script>fetch("https://cdn.example.org/data.json")</script>',
])
def test_a_page_that_would_still_load_from_elsewhere_is_refused(gx_page, added):
    """Say a newer GX adds a CDN: the night fails rather than publish a page
    that renders broken with no network."""
    with pytest.raises(DataDocsError, match=r"projects: .*cdn\.example\.org"):
        offline("projects", gx_page.replace("</body>", f"{added}</body>"))


def test_a_page_that_would_draw_a_chart_is_refused(gx_page):
    chart = '<div id="chart"></div><script>vegaEmbed("#chart", {});</script>'
    with pytest.raises(DataDocsError, match="vega@5, which is not shipped"):
        offline("projects", gx_page.replace("</body>", f"{chart}</body>"))


def test_data_docs_copy_the_assets_beside_their_pages(engine, tmp_path, monkeypatch):
    monkeypatch.setenv(MODE_ENV, "separate")
    _batch(engine, "b1", "projects", results=json.dumps(_results("projects")))
    with engine.connect() as conn, DataDocs(conn, tmp_path / "docs", ["b1"]) as docs:
        docs.finish()
    shipped = sorted(str(p.relative_to(STATIC)) for p in STATIC.rglob("*") if p.is_file())
    assets = tmp_path / "docs" / ASSETS
    assert sorted(str(p.relative_to(assets)) for p in assets.rglob("*") if p.is_file()) == shipped
    assert f'src="{ASSETS}/jquery/jquery.min.js"' in (tmp_path / "docs" / "projects.html"
                                                       ).read_text(encoding="utf-8")
