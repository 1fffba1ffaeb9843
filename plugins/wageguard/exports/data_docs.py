"""The night's GX Data Docs (data_docs/ in the night's folder): GX's own page
of each pull's validation, and an index of them.

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
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

from sqlalchemy import Connection, bindparam, text

from wageguard.landing.store import now_text

# A page takes well under a second once GX is imported; this only stops a
# renderer that hangs from holding the night back for ever.
TIMEOUT_SECONDS = 600
MODE_ENV = "WAGEGUARD_DATA_DOCS"
MODES = ("separate", "inline")


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
                with self._process.stdin as pages:
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
            self._process.stdout.close()
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
            ended = json.loads(self._process.stdout.read())["ended"]
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


def render_pages(folder: Path, pages: list[dict]) -> None:
    from wageguard.validate.gx_suites import data_docs_page

    for page in pages:
        (folder / f"{page['table']}.html").write_text(
            data_docs_page(page["table"], page["results"]), encoding="utf-8")


def main(argv: list[str]) -> int:
    pages = json.load(sys.stdin)  # first, so that the export is not held up sending them
    render_pages(Path(argv[0]), pages)
    # When it ended, for the run ledger: the export may only look much later.
    print(json.dumps({"ended": time.time()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
