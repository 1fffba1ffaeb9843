"""The blacklist feed's data specification, published beside it as
schema.json: a JSON Schema (draft 2020-12) for one row of entries.csv and
entries.jsonl, one row of changes.csv, and the manifest, every field described
in Chinese and English. The manifest lists and hashes schema.json like the
data files, so the signature vouches for what the fields mean too.

What the code knows elsewhere is read from there, not restated: each entry
field's Chinese name, kind and whether it can be empty from the source table's
registry (tables.py), the values a field may take from its GX suite, the masking
of ID numbers from identity/person_id.py, the spreadsheet quoting from
exports/files.py and the signature's algorithm from exports/signing.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from wageguard.exports.files import FORMULA_LEADS
from wageguard.exports.signing import ALGORITHM
from wageguard.identity.person_id import MASKED_PATTERN
from wageguard.tables import LIST_ENTRIES, Column
from wageguard.validate.suite_checks import SuiteChecks

# Semantic versioning of schema.json, and so of the feed's layout. Major: a field
# renamed, dropped or given another meaning (outputs.md allows none of these);
# minor: a field, a file or an allowed value added; patch: descriptions only.
# tests/test_blacklist_feed.py fails on any change to schema.json that keeps the version.
SCHEMA_VERSION = "1.0.0"
SCHEMA_FILE = "schema.json"


class _Said(NamedTuple):
    zh: str
    en: str


# An entry as exported, its columns in order; each one's Chinese name, kind and
# nullability are tables.LIST_ENTRIES's.
_ENTRY = {
    "entry_id": _Said("信用信息共享平台的名单编号；同一条名单在各次导出中编号不变。",
                      "The credit platform's id of the entry; it stays the same across "
                      "exports."),
    "subject_type": _Said(
        "organization：用人单位；person：对其负责的自然人"
        "（法定代表人、主要负责人或实际控制人）。",
        "organization: an employer; person: someone who answers for one (its legal "
        "representative, principal or actual controller)."),
    "subject_name": _Said("单位名称或自然人姓名，按名单所列。",
                          "The organisation's or the person's name, as listed."),
    "credit_code": _Said(
        "单位的统一社会信用代码；自然人名单为其所负责单位的代码。"
        "按信用平台所列，字母大写。",
        "The organisation's unified social credit code; for a person, that of the "
        "organisation they answer for. As the credit platform lists it, upper-cased."),
    "person_id_masked": _Said(
        "仅自然人名单：身份证号，只保留前6位和后4位，其余以 * 遮蔽"
        "（不足15位的全部遮蔽）。无论来源是否已遮蔽，完整号码从不导出。",
        "Persons only: the ID card number with all but its first 6 and last 4 characters "
        "masked by * (one shorter than 15 characters wholly). The full number is never "
        "exported, whatever the source sent."),
    "list_type": _Said(
        "名单类型。本导出只含 dishonest（拖欠农民工工资失信联合惩戒对象名单）；"
        "major_violation（重大劳动保障违法行为社会公布）不导出。",
        "The list. Only dishonest entries (the joint-punishment list for wage arrears) "
        "are exported; major_violation announcements are not."),
    "cause": _Said("列入事由，如“拖欠农民工工资”。",
                   "Why the subject was listed, e.g. 拖欠农民工工资 (wage arrears)."),
    "decision_no": _Said("列入决定书文号。", "The number of the listing decision."),
    "listing_authority": _Said("作出列入决定的部门。",
                               "The department that decided the listing."),
    "listed_on": _Said("列入日期：自该日起适用。", "The first day the entry applies."),
    "expires_on": _Said("移出期限：自该日起不再适用（名单期满）。",
                        "The first day the entry no longer applies (end of the listing "
                        "period)."),
}
HEADER = list(_ENTRY)

CHANGES = ("added", "removed", "changed")  # what changes.csv's `change` says
CHANGES_HEADER = ["change", "entry_id", "reason", "effective_on",
                  *(f"previous_{column}" for column in HEADER[1:])]
# A change's own fields, with their Chinese names; entry_id is the entry's, and
# previous_* are the entry's fields as the previous export gave them.
_CHANGE = {
    "change": ("变更类型", _Said(
        "added：本次导出有、上次没有；removed：上次导出有、本次没有；"
        "changed：两次都有但字段不同。",
        "added: in this export, not in the previous one; removed: in the previous export, "
        "not in this one; changed: in both, with different fields.")),
    "reason": ("变更原因", _Said(
        "英文短语。新增：首次导出或新列入；移出：来源删除、信用平台提前移出"
        "（附日期和原因，如信用修复）、期满、转入其他名单或不再适用；"
        "变更：来源修改了列入信息。",
        "Why, in English: an added entry is in the first export or newly listed; a removed "
        "one was deleted at the source, removed early by the credit platform (with the day "
        "and its reason, e.g. 信用修复), expired, moved to another list or no longer "
        "applies; a changed one had its listing details changed at the source.")),
    "effective_on": ("生效日期", _Said(
        "变更生效之日：新增为列入日期；移出为提前移出日期或期满日；"
        "其余为运行日期 D（首次体现该变更的导出）。",
        "The day the change takes effect: an added entry's listed_on; a removed entry's "
        "removal or expiry day; otherwise run date D, the first export to show it.")),
}

_DATE = {"format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_KINDS = {"date": _DATE, "person_id": {"pattern": MASKED_PATTERN}}
_SEMVER = r"^\d+\.\d+\.\d+$"
_CSV_NAMES = {"\t": "TAB", "\r": "CR"}


def _described(title: str, said: _Said) -> dict:
    return {"title": title, "description": f"{said.zh}\n{said.en}"}


def _text(*, nullable: bool) -> dict:
    return {"type": ["string", "null"] if nullable else "string"}


def _allowed_values() -> dict[str, list]:
    """Per column of the list entries, the values its GX suite allows."""
    return {e.columns[0]: list(e.kwargs["value_set"])
            for e in SuiteChecks(LIST_ENTRIES).expectations
            if e.kind == "expect_column_values_to_be_in_set"}


def _entry_field(column: Column, allowed: list | None, *, nullable: bool) -> dict:
    field = {**_described(column.label, _ENTRY[column.name]), **_text(nullable=nullable),
             **_KINDS.get(column.kind, {})}
    if allowed is not None:
        field["enum"] = [*allowed, None] if nullable else allowed
    return field


def _previous(column: Column, allowed: list | None) -> dict:
    meant = _ENTRY[column.name]
    return {**_entry_field(column, allowed, nullable=True), **_described(
        f"上次导出的{column.label}", _Said(
            "上次导出所列的该字段（移出和变更的条目）；新增条目，"
            "或上次导出记录时尚未保存字段的，为空。" + meant.zh,
            "The field as the previous export gave it (removed and changed entries); null "
            "for an added entry, or when the previous export was recorded before its fields "
            "were kept. " + meant.en))}


def _row(title: str, said: _Said, properties: dict) -> dict:
    return {**_described(title, said), "type": "object", "properties": properties,
            "required": list(properties), "additionalProperties": False}


def _entry_and_change() -> tuple[dict, dict]:
    allowed = _allowed_values()
    columns = {c.name: c for c in LIST_ENTRIES.fields}
    entry = {name: _entry_field(columns[name], allowed.get(name),
                                nullable=not columns[name].critical) for name in HEADER}
    fields = {
        "change": {**_described(*_CHANGE["change"]), "type": "string", "enum": list(CHANGES)},
        "entry_id": entry["entry_id"],
        "reason": {**_described(*_CHANGE["reason"]), "type": "string"},
        "effective_on": {**_described(*_CHANGE["effective_on"]), "type": "string", **_DATE},
        **{f"previous_{name}": _previous(columns[name], allowed.get(name))
           for name in HEADER[1:]},
    }
    return (
        _row("名单条目", _Said(
            "在运行日期 D 适用的一条失信联合惩戒名单：列入日期 ≤ D < 移出期限，"
            "且 D 日前未被提前移出。",
            "A joint-punishment entry that applies on run date D: listed_on <= D < "
            "expires_on, and not removed early by D."), entry),
        _row("名单变更", _Said("与上次导出相比的一条变更，按名单编号。",
                               "One change since the previous export, by entry_id."),
             {name: fields[name] for name in CHANGES_HEADER}),
    )


_MANIFEST: dict[str, tuple[str, _Said, dict]] = {
    "schema_version": ("数据说明版本", _Said(
        "本数据说明（schema.json）的语义化版本号：主版本改变字段含义，"
        "次版本新增字段、文件或取值，修订号只改说明。",
        "The semantic version of this specification (schema.json): major, a field's "
        "meaning changed; minor, a field, file or value added; patch, descriptions only."),
        {"type": "string", "pattern": _SEMVER}),
    "publisher": ("发布机构", _Said("发布本名单的机构。",
                                    "The authority that publishes this feed."),
                  {"type": "string", "minLength": 1}),
    "run_date": ("运行日期", _Said("运行日期 D：导出的是在 D 日适用的名单。",
                                   "Run date D: the export lists the entries that apply on D."),
                 {"type": "string", **_DATE}),
    "generated_at": ("数据时点", _Said(
        "本次导出反映的信用平台数据时点：运行日期 D 所用的最近一次名单拉取时，"
        "信用平台返回的服务器时间（server_time，北京时间）；信用平台在此之前的所有变更"
        "都已包含在内。它不是文件写出的时间：重跑同一夜得到同一值。无名单拉取时为 null。",
        "The moment of the credit platform's data this export reflects: the platform's own "
        "clock (its server_time, Asia/Shanghai) when it served the newest list pull night D "
        "uses; every change the platform made before then is in. Not when the files were "
        "written: re-running the night gives the same value. null when no list pull was "
        "loaded."), {"type": ["string", "null"], "format": "date-time"}),
    "previous_export_date": ("上次导出日期", _Said(
        "changes.csv 所比较的上次导出的运行日期；首次导出为 null。",
        "The run date of the export changes.csv compares with; null for the first export."),
        {"type": ["string", "null"], **_DATE}),
    "files": ("文件", _Said(
        "本次导出的每个文件：文件名、数据行数（CSV 为表头之后的记录数，"
        "JSON Lines 为行数；schema.json 不是数据表，为 null）和文件全部字节的 SHA-256。",
        "Every file of the export: its name, its data rows (CSV records after the header, "
        "JSON Lines lines; null for schema.json, not a table) and the SHA-256 of its bytes."),
        {"type": "array", "items": {
            "type": "object", "required": ["name", "rows", "sha256"],
            "additionalProperties": False,
            "properties": {"name": {"type": "string"},
                           "rows": {"type": ["integer", "null"], "minimum": 0},
                           "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}}}),
    "signature": ("签名", _Said(
        f"{ALGORITHM} 签名，所签为去掉本字段后的清单规范 JSON（键排序、无空白、UTF-8）；"
        "manifest.json.sig 是对清单文件原始字节的签名。null：未签名。",
        f"{ALGORITHM} over the manifest's canonical JSON without this field (keys sorted, "
        "no whitespace, UTF-8); manifest.json.sig signs the file's exact bytes. null: not "
        "signed."),
        {"type": ["object", "null"], "required": ["algorithm", "key_id", "value"],
         "properties": {"algorithm": {"const": ALGORITHM}, "key_id": {"type": "string"},
                        "value": {"type": "string"}}}),
}


def schema() -> dict:
    entry, change = _entry_and_change()
    manifest = _row("清单", _Said("本次导出的清单，由签名担保。",
                                  "The export's manifest, vouched for by the signature."),
                    {name: {**_described(title, said), **rule}
                     for name, (title, said, rule) in _MANIFEST.items()})
    leads = ", ".join(_CSV_NAMES.get(lead, lead) for lead in FORMULA_LEADS)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **_described("拖欠农民工工资失信联合惩戒对象名单 数据说明", _Said(
            "各文件每行的结构见 files 所指的定义。CSV 为带 BOM 的 UTF-8、CRLF 换行，"
            f"空单元格即 null；以 {leads} 开头的文本前加一个单引号 '，"
            "以免电子表格当作公式执行，读取时去掉即可。entries.jsonl 与 entries.csv "
            "行相同，值与名单所列完全一致。日期为 YYYY-MM-DD。",
            "The joint-punishment list for wage arrears: data specification. `files` names "
            "the definition each file's rows follow. The CSVs are UTF-8 with a BOM and CRLF "
            f"line ends; an empty cell is null, and text starting with {leads} is led by a "
            "single quote ' so that a spreadsheet does not run it (drop it when reading). "
            "entries.jsonl holds entries.csv's rows with every value exactly as listed. "
            "Dates are YYYY-MM-DD.")),
        "schema_version": SCHEMA_VERSION,
        "files": {"entries.csv": "#/$defs/entry", "entries.jsonl": "#/$defs/entry",
                  "changes.csv": "#/$defs/change", "manifest.json": "#/$defs/manifest"},
        "$defs": {"entry": entry, "change": change, "manifest": manifest},
    }


def write_schema(path: Path) -> None:
    path.write_text(json.dumps(schema(), ensure_ascii=False, indent=2) + "\n",
                    encoding="utf-8", newline="\n")
