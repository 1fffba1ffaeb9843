"""The straightforward way to do a night, which the benchmark measures the
pipeline against on the same world and warehouse backend: every page read with
requests into one pandas DataFrame per table, each DataFrame validated whole by
Great Expectations (failing rows dropped), typed with pandas and written with
DataFrame.to_sql into the warehouse's version tables, then the night's SQL and
the rules. No landing or evidence, no normalisation beyond the contract's units,
no quarantine, no ledger: a first draft.

Runs as `python -m wageguard_dev.bench.baseline SPEC` in a process of its own, so
its memory and its GX import are its own, and prints its figures as JSON."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

import pandas as pd
import requests
from sqlalchemy import text
from wageguard.db.sqlfiles import read_sql, statements, used_params
from wageguard.landing.store import now_text
from wageguard.rules.catalogue import load_rules
from wageguard.rules.evaluate import bound_params
from wageguard.rules.params import load_params
from wageguard.sources.rest_feeds import FEEDS, closed_months
from wageguard.tables import BY_NAME, DEVREFORM_HEADERS
from wageguard.warehouse.engine import make_engine
from wageguard.warehouse.night import NightView, build_snapshots
from wageguard.warehouse.typed import CONVERSIONS, VERSION_TABLE, count, day, fen

from wageguard_dev.bench.memory import MemorySampler

_AUTH = {"housing": lambda s: {"Authorization": f"Bearer {s['token']}"},
         "credit": lambda s: {"X-Api-Key": s["api_key"]}}


def _pull(spec: dict, run_date: dt.date) -> tuple[dict[str, pd.DataFrame], dt.date]:
    frames = {}
    session = requests.Session()
    month = closed_months(run_date, 1, load_params()["month_closes_on_day"])[0]
    for table, feed in FEEDS.items():
        params = {"page_size": feed.page_size} | ({} if feed.incremental else {"month": month})
        pages, token = [], None
        while True:
            page = session.get(spec[feed.system]["url"] + feed.path,
                               params=params | ({"page_token": token} if token else {}),
                               headers=_AUTH[feed.system](spec[feed.system]), timeout=120).json()
            pages.append(pd.json_normalize(page["items"]))
            token = page["next_page_token"]
            if not token:
                break
        frame = pd.concat(pages, ignore_index=True)
        if "former_names" in frame:
            frame["former_names"] = frame["former_names"].map(
                lambda names: json.dumps(names, ensure_ascii=False), na_action="ignore")
        frames[table] = frame.rename(columns=lambda c: c.replace(".", "_"))
    bundle_day, folder = _newest_bundle(Path(spec["exchange_dir"]), run_date)
    for table, headers in DEVREFORM_HEADERS.items():
        frame = pd.read_csv(folder / f"{table}.csv", encoding="GB18030", dtype=str)
        frame = frame.rename(columns=headers)
        # The contract's units: 万元 to yuan, YYYYMM to YYYY-MM.
        for column in frame.columns:
            if column in ("total_investment", "planned_amount", "actual_amount",
                          "labour_amount"):
                frame[column] = (pd.to_numeric(frame[column], errors="coerce") * 10_000).map(
                    lambda v: None if pd.isna(v) else f"{v:.2f}")
        if "month" in frame:
            frame["month"] = frame["month"].str.slice(0, 4) + "-" + frame["month"].str.slice(4)
        frames[table] = frame
    for table, frame in frames.items():
        frames[table] = frame.reindex(columns=list(BY_NAME[table].columns))
    return frames, bundle_day


def _newest_bundle(root: Path, run_date: dt.date) -> tuple[dt.date, Path]:
    for back in range(11):
        bundle_day = run_date - dt.timedelta(days=back)
        folder = root / f"{bundle_day:%Y%m%d}"
        if (folder / "manifest.json").is_file():
            return bundle_day, folder
    raise RuntimeError(f"no dev-reform bundle under {root}")


def _validate(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    import great_expectations as gx
    from wageguard.validate.gx_suites import load_suite

    source = gx.get_context(mode="ephemeral").data_sources.add_pandas("baseline")
    valid = {}
    for table, frame in frames.items():
        frame = frame.astype(object).where(frame.notna(), None)
        batch = source.add_dataframe_asset(table).add_batch_definition_whole_dataframe(
            "all").get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(load_suite(table), result_format="COMPLETE")
        bad = {i for each in result.results
               for i in (each.result or {}).get("unexpected_index_list") or []}
        valid[table] = frame.drop(index=list(bad))
    return valid


def _typed(table: str, frame: pd.DataFrame, columns: list[str], bundle_day: dt.date):
    out = pd.DataFrame(index=frame.index)
    for column in columns:
        source, convert = CONVERSIONS[table].get(column, (column, None))
        values = frame[source] if source in frame else pd.Series(None, index=frame.index)
        if convert is fen:
            out[column] = (pd.to_numeric(values, errors="coerce") * 100).round().astype("Int64")
        elif convert is day:
            dates = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
            out[column] = dates.dt.date.astype(object).where(dates.notna(), None)
        elif convert is count:
            out[column] = pd.to_numeric(values, errors="coerce").astype("Int64")
        else:
            out[column] = values if convert is None else values.map(convert)
    out["payload_hash"], out["batch_id"], out["loaded_at"] = b"", "baseline", now_text()
    if "bundle_day" in columns:
        out["bundle_day"] = bundle_day
    return out


def _load(engine, frames: dict[str, pd.DataFrame], bundle_day: dt.date) -> int:
    from sqlalchemy import LargeBinary, inspect

    loaded = 0
    for table, frame in frames.items():
        target = VERSION_TABLE[table]
        columns = [c["name"] for c in inspect(engine).get_columns(target)]
        key = [c for c in inspect(engine).get_pk_constraint(target)["constrained_columns"]]
        typed = _typed(table, frame, [c for c in columns if c not in (
            "payload_hash", "batch_id", "loaded_at")] , bundle_day)
        typed = typed.dropna(subset=[c for c in key if c != "payload_hash"])
        typed = typed.drop_duplicates(subset=key, keep="last")[columns]
        # pandas would send the hash as text; the column is BYTEA.
        typed.to_sql(target, engine, if_exists="append", index=False,
                     dtype={"payload_hash": LargeBinary})
        loaded += len(typed)
    return loaded


def _rules(engine, run_date: dt.date, bundle_day: dt.date) -> int:
    params = load_params()
    bound = bound_params(run_date, bundle_day, params)
    flags = 0
    with engine.begin() as conn:
        build_snapshots(conn, NightView(run_date, now_text(), bundle_day, False))
        for rule in load_rules():
            (sql,) = statements(read_sql(rule.sql))
            flags += len(conn.execute(text(sql), used_params(sql, {**bound, **rule.bind})).all())
    return flags


def run(spec: dict) -> dict:
    run_date = dt.date.fromisoformat(spec["run_date"])
    engine = make_engine(spec["warehouse_url"])
    stages = []
    with MemorySampler(own=True) as memory:
        def timed(name, work, rows_of):
            started = time.time()
            result = work()
            stages.append({"name": name, "seconds": time.time() - started,
                           "rows": rows_of(result), "started": started})
            return result

        frames, bundle_day = timed("pull", lambda: _pull(spec, run_date),
                                   lambda r: sum(len(f) for f in r[0].values()))
        timed("gx_import", lambda: __import__("great_expectations"), lambda _: 0)
        valid = timed("gx", lambda: _validate(frames), lambda r: sum(map(len, frames.values())))
        timed("load", lambda: _load(engine, valid, bundle_day), lambda n: n)
        timed("rules", lambda: _rules(engine, run_date, bundle_day), lambda n: n)
    engine.dispose()
    for stage in stages:
        stage["peak_mb"] = memory.peak_mb(stage["started"], stage["started"] + stage["seconds"])
    return {"stages": stages, "peak_mb": memory.peak_mb()}


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
