"""Great Expectations itself: a table's suite (expectations/<table>.json, a GX
1.x serialised ExpectationSuite) as GX reads it, GX's own run of a suite over
rows (the reference validate/suite_checks.py is held to), and the Data Docs
page GX renders for a pull's validation.

GX is imported on first use, once per process: the import alone costs seconds,
and DAG files import this package.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wageguard.paths import expectations_dir

if TYPE_CHECKING:
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.core.expectation_suite import ExpectationSuite

SUITES_DIR = expectations_dir()
ROW = "_row"  # row number carried through GX so failures map back to records
EXAMPLES = 5
_META_PROPERTIES = "meta_properties_to_render"
_RESULT_FORMAT = {
    # COMPLETE is the only format that lists every failing row; run_suite keeps
    # the row numbers and reports only summary-sized results.
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [ROW],
    "partial_unexpected_count": EXAMPLES,
    "return_unexpected_index_query": False,
}


class SuiteError(RuntimeError):
    """A suite file is broken, or an expectation could not run: a configuration
    problem, never a verdict on the data."""


@dataclass
class SuiteRun:
    # row number -> names of the expectations it failed, any severity
    failures: dict[int, list[str]]
    results: list[dict]  # one summary-sized, JSON-safe entry per expectation
    success: bool


@functools.cache
def _pandas_source() -> Any:
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context.data_sources.add_pandas("wageguard")


@functools.cache
def _batch_definition(table: str) -> BatchDefinition:
    asset = _pandas_source().add_dataframe_asset(table)
    return asset.add_batch_definition_whole_dataframe("whole dataframe")


@functools.cache
def load_suite(table: str, directory: Path = SUITES_DIR) -> ExpectationSuite:
    _pandas_source()  # GX's loggers are quietened before its first import
    from great_expectations.core.expectation_suite import ExpectationSuite

    path = directory / f"{table}.json"
    spec = json.loads(path.read_text(encoding="utf-8"))
    if spec.get("name") != table:
        raise SuiteError(f"{path}: suite is named {spec.get('name')!r}, expected {table!r}")
    suite = ExpectationSuite(**spec)
    # GX logs and skips an expectation it cannot build instead of raising.
    if len(suite.expectations) != len(spec.get("expectations", [])):
        raise SuiteError(f"{path}: some expectations are invalid (see the GX log above)")
    return suite


def expectation_columns(kwargs: dict) -> list[str]:
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list", []))


def expectation_name(kind: str, kwargs: dict) -> str:
    """What a quarantined row's reason says, e.g. expect_column_values_to_match_regex(amount)."""
    return f"{kind}({','.join(expectation_columns(kwargs))})"


def _json_safe(value: object) -> object:
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _error_message(exception_info: dict) -> str:
    infos = exception_info.values() if "raised_exception" not in exception_info else [
        exception_info
    ]
    return "; ".join(str(info.get("exception_message")) for info in infos)


def run_suite(
    table: str, columns: tuple[str, ...], rows: list[dict], numbers: list[int]
) -> SuiteRun:
    """Validate `rows` (flat, with `columns`) against the table's suite; `numbers`
    are what failures are reported against, one per row."""
    import pandas as pd

    frame = pd.DataFrame.from_records(rows, columns=list(columns))
    frame[ROW] = numbers
    batch = _batch_definition(table).get_batch(batch_parameters={"dataframe": frame})
    validation = batch.validate(load_suite(table), result_format=_RESULT_FORMAT)

    failures: dict[int, list[str]] = {}
    results = []
    for each in validation.results:
        config = each.expectation_config
        assert config is not None, "GX reports each result with its expectation"
        name = expectation_name(config.type, config.kwargs)
        if not each.success and not each.result:
            cause = _error_message(each.exception_info)
            raise SuiteError(f"{table}: {name} could not run: {cause}")
        for hit in each.result.get("unexpected_index_list") or []:
            failures.setdefault(int(hit[ROW]), []).append(name)
        results.append({
            "expectation": name,
            "type": config.type,
            "columns": expectation_columns(config.kwargs),
            "severity": config.severity.value,
            "success": bool(each.success),
            **{
                field: _json_safe(each.result.get(field))
                for field in ("element_count", "unexpected_count", "unexpected_percent")
            },
            "partial_unexpected_list": _json_safe(
                (each.result.get("partial_unexpected_list") or [])[:EXAMPLES]
            ),
        })
    return SuiteRun(failures=failures, results=results, success=bool(validation.success))


def data_docs_page(table: str, results: list[list]) -> str:
    """GX's Data Docs page for one pull's validation: `results` are (type,
    kwargs, success, result in GX's SUMMARY format, severity) per expectation,
    in the order GX reports them; pulls stored before severities were kept
    lack the fifth and were all critical. The severity is shown in a column of
    its own through GX's meta-properties rendering."""
    load_suite(table)  # the suite as GX reads it: one GX refuses fails here too
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )
    from great_expectations.expectations.metadata_types import FailureSeverity
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    class WithSeverity(ExpectationConfiguration):
        """GX renders a meta property as a column of its own when the kwargs
        name it (what its page renderer sets from a suite's meta-properties
        notes), but then fails to build the expectation from those kwargs, so
        the key is set aside while it does."""

        def to_domain_obj(self):
            shown = self.kwargs.pop(_META_PROPERTIES)
            try:
                return super().to_domain_obj()
            finally:
                self.kwargs[_META_PROPERTIES] = shown

    def shown(kind: str, kwargs: dict, severity: str) -> ExpectationConfiguration:
        config = WithSeverity(
            kind, kwargs, meta={"attributes": {"properties": {"severity": severity}}},
            severity=FailureSeverity(severity))
        config.kwargs[_META_PROPERTIES] = {"Severity": "properties.severity"}
        return config

    evaluated = [(kind, kwargs, success, result, *rest) for kind, kwargs, success, result, *rest
                 in results]
    passed = sum(row[2] for row in evaluated)
    validation = ExpectationSuiteValidationResult(
        success=passed == len(evaluated),
        results=[
            ExpectationValidationResult(
                success=success, result=result,
                expectation_config=shown(kind, kwargs, rest[0] if rest else "critical"))
            for kind, kwargs, success, result, *rest in evaluated
        ],
        suite_name=table,
        statistics={
            "evaluated_expectations": len(evaluated),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(evaluated) - passed,
            "success_percent": passed / len(evaluated) * 100 if evaluated else None,
        },
        meta={
            "great_expectations_version": gx.__version__,
            "active_batch_definition": {"datasource_name": "wageguard",
                                        "data_asset_name": table},
        },
    )
    return DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(validation))
