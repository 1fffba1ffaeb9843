"""The night's GX Data Docs (data_docs/ in the night's folder): GX's own page
of each pull's validation, and an index of them.

GX's pages load Bootstrap, jQuery, Font Awesome and the rest from public CDNs,
which a government network does not reach. The very versions they name are
shipped in static/data_docs/, copied into the folder as assets/, and each page
loads them from there: the pages open styled from disk with no network, as the
board does.

The pages are rendered in a process of their own while the export writes the
rest of the night. Importing GX costs seconds and a few hundred MB; paid inside
the export it would hold up the inspectors' lists, and paid in each validate
task it was paid once per pull under a real scheduler. WAGEGUARD_DATA_DOCS=inline
renders them in the export's own process instead: for a machine with one core,
or a process that runs many nights and pays the import once.

    python -m wageguard.exports.data_docs FOLDER   < pages as JSON
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Self

from sqlalchemy import Connection, bindparam, text

from wageguard.landing.store import now_text

# A page takes well under a second once GX is imported; this only stops a
# renderer that hangs from holding the night back for ever.
TIMEOUT_SECONDS = 600
MODE_ENV = "WAGEGUARD_DATA_DOCS"
MODES = ("separate", "inline")
STATIC = Path(__file__).parent / "static" / "data_docs"
ASSETS = "assets"  # STATIC's copy, beside the pages
_GX_IMAGES = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
# What GX's pages load, by the address GX writes, and the shipped copy (in
# STATIC) of the version that address names. GX's dark-mode logo is not in its
# package; its light one stands in.
SHIPPED = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css":
        "bootstrap/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js":
        "bootstrap/bootstrap.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": "bootstrap-dark/bootstrap-prefers-dark.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table/bootstrap-table.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "fontawesome/css/all.min.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js":
        "popper.js/popper.min.js",
    f"{_GX_IMAGES}logo-long.png": "great_expectations/logo-long.png",
    f"{_GX_IMAGES}full_logo_dark.png": "great_expectations/logo-long.png",
    # Relative, but to GX's own site layout: outside the night's folder.
    "../../../static/images/favicon.ico": "great_expectations/favicon.ico",
}
# What every GX page loads but only charts (vega) and a table's filter row
# (filter-control, whose date filter is the datepicker) use, by what a page
# using it holds. A validation page of these suites shows neither, so they are
# left out; a page that does use one is refused rather than shown broken.
UNUSED = {
    "https://cdn.jsdelivr.net/npm/vega@5": "vegaEmbed(",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vegaEmbed(",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vegaEmbed(",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": "data-filter-control",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": "data-filter-control",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": "data-filter-control",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": "data-filter-control",
}
_LOADING_TAG = re.compile(r"<(script|link|img)\b([^>]*)>(\s*</script>)?", re.IGNORECASE)
_SOURCE = re.compile(r'\s(src|href)="([^"]*)"')
# A page opened from disk has no origin, and the CORS fetch that crossorigin
# asks for and an integrity check needs is refused for any file. The tests hold
# the shipped copies to GX's hashes instead.
_CDN_CHECKS = re.compile(r'\s(?:integrity|crossorigin)="[^"]*"')
_CSS_URL = re.compile(r"""url\((['"]?)([^'")]*)\1\)""")
_REMOTE = re.compile(r"\s*([a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_CSS_LOADS = re.compile(r"""url\(\s*['"]?([^'")\s]*)|@import\s+['"]([^'"]*)""", re.IGNORECASE)
_ADDRESS = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>]*", re.IGNORECASE)


class DataDocsError(RuntimeError):
    pass


def _mode() -> str:
    mode = os.environ.get(MODE_ENV, MODES[0])
    if mode not in MODES:
        raise DataDocsError(f"{MODE_ENV}={mode!r}: use one of {', '.join(MODES)}")
    return mode


class DataDocs:
    """Starts rendering the pages of `batch_ids` into `folder` at once; `finish`
    waits for them, writes the index and returns the seconds the rendering
    took. Leaving the `with` block stops a renderer still running."""

    def __init__(self, conn: Connection, folder: Path, batch_ids: list[str]):
        mode = _mode()  # a wrong setting is said before anything is done
        self.folder, self.started, self.started_at = folder, time.time(), now_text()
        query = text(
            "SELECT source_table, status, pulled, loaded, quarantined, superseded, "
            "validation_results, validation_docs FROM load_batch WHERE batch_id IN :ids "
            "ORDER BY source_table"
        ).bindparams(bindparam("ids", expanding=True))
        self.pulls = [dict(r) for r in conn.execute(query, {"ids": batch_ids}).mappings()]
        folder.mkdir(parents=True, exist_ok=True)
        self.pages = [{"table": p["source_table"], "results": json.loads(p["validation_results"])}
                      for p in self.pulls if p["validation_results"]]
        for pull in self.pulls:  # loaded before pages were rendered at export: kept as rendered
            if not pull["validation_results"] and pull["validation_docs"]:
                (folder / f"{pull['source_table']}.html").write_text(pull["validation_docs"],
                                                                     encoding="utf-8")
        self._process = None
        if self.pages and mode == "separate":
            # A file, not a pipe: nobody reads the renderer's messages until it ends.
            self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed in __exit__
            self._process = subprocess.Popen(
                [sys.executable, "-m", "wageguard.exports.data_docs", str(folder)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._errors)
            # The renderer reads the pages first thing, so this returns at once; one
            # that died before reading them is reported by `finish` with its messages.
            try:
                with _pipe(self._process.stdin) as pages:
                    pages.write(json.dumps(self.pages, ensure_ascii=False).encode())
            except BrokenPipeError:
                pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        if self._process:
            if self._process.poll() is None:
                self._process.kill()
                self._process.wait()
            _pipe(self._process.stdout).close()
            self._errors.close()

    def finish(self) -> float:
        if not self._process:
            render_pages(self.folder, self.pages)
            ended = time.time()
        else:
            try:
                code = self._process.wait(timeout=TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                raise DataDocsError(
                    f"the Data Docs renderer gave no answer in {TIMEOUT_SECONDS} s") from None
            if code != 0:
                self._errors.seek(0)
                raise DataDocsError(
                    f"the Data Docs renderer failed (exit {code}): "
                    + self._errors.read().decode("utf-8", "replace")[-3000:])
            ended = json.loads(_pipe(self._process.stdout).read())["ended"]
        self._write_index()
        return ended - self.started

    def _write_index(self) -> None:
        items = []
        for p in self.pulls:
            table = html.escape(p["source_table"])
            counts = (f"pulled {p['pulled']}, loaded {p['loaded']}, quarantined "
                      f"{p['quarantined']}, superseded {p['superseded']}")
            if p["validation_results"] or p["validation_docs"]:
                items.append(f'<li><a href="{table}.html">{table}</a>: {p["status"]}, {counts}'
                             "</li>")
            else:
                items.append(f"<li>{table}: nothing to validate ({p['pulled']} records pulled)"
                             "</li>")
        (self.folder / "index.html").write_text(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>wageguard: validation "
            "of this run</title></head><body><h1>Great Expectations validation of each pull"
            "</h1><ul>" + "".join(items) + "</ul></body></html>\n", encoding="utf-8")


class _Loads(HTMLParser):
    """What a page would fetch from elsewhere: an absolute address in any
    attribute but a link's href (a reader may follow a link; the page fetches
    the rest itself), in a style sheet, or anywhere in a script. Not in the
    text it shows, where a sampled value may well be an address."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._inside: str | None = None

    def _css(self, css: str) -> None:
        self.found += [a for pair in _CSS_LOADS.findall(css) for a in pair
                       if a and _REMOTE.match(a)]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "style":
                self._css(value or "")
            elif value and _REMOTE.match(value) and (tag, name) != ("a", "href"):
                self.found.append(value)
        self._inside = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._inside = None

    def handle_data(self, data: str) -> None:
        if self._inside == "style":
            self._css(data)
        elif self._inside == "script":
            self.found += _ADDRESS.findall(data)


def offline(table: str, page: str) -> str:
    """GX's page loading the shipped copies from ASSETS beside it. Refused when
    it would still fetch from elsewhere, say a CDN a newer GX adds, or uses
    what is not shipped."""

    def local(address: str) -> str | None:
        # GX stamps the logo's address with the render time to defeat caches.
        shipped = SHIPPED.get(address.split("?")[0])
        return shipped and f"{ASSETS}/{shipped}"

    def loading_tag(tag: re.Match) -> str:
        source = _SOURCE.search(tag[2])
        if not source:
            return tag[0]
        if source[2] in UNUSED:
            if UNUSED[source[2]] in page:
                raise DataDocsError(f"{table}: the Data Docs page uses {source[2]}, which "
                                    "is not shipped for offline reading")
            return ""
        if not (copy := local(source[2])):
            return tag[0]
        attrs = _CDN_CHECKS.sub("", tag[2]).replace(source[0], f' {source[1]}="{copy}"')
        return f"<{tag[1]}{attrs}>{tag[3] or ''}"

    def css_url(url: re.Match) -> str:
        copy = local(url[2])
        return f"url({url[1]}{copy}{url[1]})" if copy else url[0]

    page = _CSS_URL.sub(css_url, _LOADING_TAG.sub(loading_tag, page))
    loads = _Loads()
    loads.feed(page)
    loads.close()
    if loads.found:
        raise DataDocsError(f"{table}: the Data Docs page would still load "
                            f"{', '.join(sorted(set(loads.found)))}; ship a copy (exports/"
                            "data_docs.py SHIPPED) so that it opens with no network")
    return page


def _pipe(stream: IO[bytes] | None) -> IO[bytes]:
    assert stream is not None, "the renderer is started with both pipes"
    return stream


def render_pages(folder: Path, pages: list[dict]) -> None:
    from wageguard.validate.gx_suites import data_docs_page

    shutil.copytree(STATIC, folder / ASSETS, dirs_exist_ok=True)
    for page in pages:
        (folder / f"{page['table']}.html").write_text(
            offline(page["table"], data_docs_page(page["table"], page["results"])),
            encoding="utf-8")


def main(argv: list[str]) -> int:
    pages = json.load(sys.stdin)  # first, so that the export is not held up sending them
    render_pages(Path(argv[0]), pages)
    # When it ended, for the run ledger: the export may only look much later.
    print(json.dumps({"ended": time.time()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
