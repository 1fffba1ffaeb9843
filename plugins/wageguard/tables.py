"""The registry of the source tables wageguard pulls: one entry per table,
saying everything the stages need to know of it. Where each column is read in
what a source serves, how it is spelt there (its kind: what normalisation reads
and what the warehouse stores it as), whether the rules need it, what
inspectors call it; the table's key, source system, feed and version table.

Extract, validate (normalisation, the suites' severities), load (typing, the
never-empty guard) and the demo sources all derive from here, so a fact about a
column is written once. tests/test_registry.py holds it to the warehouse's DDL
and to expectations/."""

from __future__ import annotations

from dataclasses import dataclass

# How a column is spelt in what the source serves. Normalisation reads each kind
# (validate/normalise.py: KINDS) and the warehouse stores it (warehouse/typed.py):
#   text       trimmed text                   code        text, upper-cased
#   date       YYYY-MM-DD, typed other ways   timestamp   ISO 8601 with offset
#   money      yuan (REST)                    money_wan   万元 (dev-reform CSV), stored in fen
#   count      a whole number                 month       YYYY-MM (REST)
#   month_compact  YYYYMM (dev-reform CSV)    flag        JSON true / false
#   names      a JSON list of names           person_id   an ID number, masked on load
#   yes_no     是 / 否, stored as 1 / 0
KINDS = ("text", "code", "date", "timestamp", "money", "money_wan", "count", "month",
         "month_compact", "flag", "names", "person_id", "yes_no")


@dataclass(frozen=True)
class Column:
    name: str
    label: str  # what inspectors call it: the workbook's data-issue notes name it so
    kind: str = "text"
    # A rule, the deposit formula, entity resolution's keys or an export cannot do
    # without it: a breach of its checks makes the record unusable (quarantined).
    # Every other column is descriptive: a breach is a warning, the record is kept.
    # docs/data-quality.md gives the reason for each.
    critical: bool = False
    # Where the value is in a served record: a JSON path, or the CSV header of a
    # dev-reform file. Empty: the top-level field of the column's name.
    source: tuple[str, ...] = ()
    # The version table's column, when not the same name (money is kept in fen).
    stored: str = ""
    kept: bool = True  # False: checked, never stored (personal data no rule needs)

    @property
    def path(self) -> tuple[str, ...]:
        return self.source or (self.name,)

    @property
    def stored_as(self) -> str:
        return self.stored or self.name


def _c(name: str, label: str, kind: str = "text", **more) -> Column:
    return Column(name, label, kind, critical=True, **more)


def _d(name: str, label: str, kind: str = "text", **more) -> Column:
    return Column(name, label, kind, **more)


@dataclass(frozen=True)
class SourceTable:
    name: str
    system: str  # housing | credit | devreform
    key: tuple[str, ...]  # what identifies one record (its versions share it)
    fields: tuple[Column, ...]
    version_table: str  # where the warehouse keeps every version
    has_tombstones: bool = True
    # A full pull is never empty in a working source: an empty one is an outage
    # or a broken export, and loading it would wipe nothing but hide that.
    never_empty: bool = True
    api_path: str = ""  # the list endpoint of a REST source
    page_size: int = 0
    incremental: bool = True  # pulled with updated_since from the table's watermark

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.fields)

    @property
    def critical(self) -> frozenset[str]:
        return frozenset(c.name for c in self.fields if c.critical)

    def column(self, name: str) -> Column:
        return next(c for c in self.fields if c.name == name)

    def label(self, column: str) -> str:
        return self.column(column).label

    @property
    def headers(self) -> dict[str, str]:
        """A dev-reform file's CSV headers in file order, and the column each becomes."""
        return {c.source[0]: c.name for c in self.fields}


_UPDATED = _c("updated_at", "更新时间", "timestamp")
_DELETED = _c("deleted", "删除标记", "flag")

PROJECTS = SourceTable(
    "projects", "housing", ("project_id",),
    (
        _c("project_id", "项目编号"), _d("investment_code", "项目代码"),
        _d("permit_no", "施工许可证号"), _d("name", "项目名称"),
        _c("district_code", "行政区划代码"),
        # Project parties arrive as nested objects {name, credit_code}.
        _d("builder_name", "建设单位名称", source=("builder", "name")),
        _d("builder_credit_code", "建设单位统一社会信用代码", "code",
           source=("builder", "credit_code")),
        _d("contractor_name", "施工总承包单位名称", source=("contractor", "name")),
        _d("contractor_credit_code", "总包统一社会信用代码", "code",
           source=("contractor", "credit_code")),
        _c("contract_amount", "合同金额", "money", stored="contract_amount_fen"),
        _c("contract_signed_on", "合同签订日期", "date"),
        _c("started_on", "开工日期", "date"),
        _c("planned_completion_on", "计划竣工日期", "date"),
        _d("completed_on", "竣工日期", "date"), _c("status", "项目状态"), _UPDATED, _DELETED,
    ),
    "project_version", api_path="/v1/projects", page_size=5000,
)
WAGE_ACCOUNTS = SourceTable(
    "wage_accounts", "housing", ("account_id",),
    (
        _c("account_id", "专户编号"), _c("project_id", "项目编号"),
        _d("bank_name", "专户开户银行"), _d("account_no_masked", "专户账号"),
        _c("opened_on", "专户开立日期", "date"), _c("filed_on", "专户备案日期", "date"),
        _c("closed_on", "专户销户日期", "date"), _d("status", "专户状态"), _UPDATED, _DELETED,
    ),
    "wage_account_version", api_path="/v1/wage-accounts", page_size=5000,
)
WAGE_DEPOSITS = SourceTable(
    "wage_deposits", "housing", ("deposit_id",),
    (
        _c("deposit_id", "保证金编号"), _c("project_id", "项目编号"),
        _d("contractor_credit_code", "保证金缴纳单位统一社会信用代码", "code"),
        _c("form", "保证金形式"), _c("amount", "保证金金额", "money", stored="amount_fen"),
        _c("deposited_on", "保证金缴存日期", "date"), _c("valid_until", "保函有效期至", "date"),
        _c("status", "保证金状态"), _UPDATED, _DELETED,
    ),
    "wage_deposit_version", api_path="/v1/wage-deposits", page_size=5000,
)
REALNAME_MONTHLY = SourceTable(
    "realname_monthly", "housing", ("project_id", "month"),
    (
        _c("project_id", "项目编号"), _c("month", "月份", "month"),
        _c("registered_workers", "登记人数", "count"),
        _c("attending_workers", "考勤人数", "count"),
        _d("paid_workers", "发放工资人数", "count"),
        _c("payroll_amount", "应发工资总额", "money", stored="payroll_fen"),
        _c("paid_via_contractor_amount", "专户代发工资总额", "money",
           stored="paid_via_contractor_fen"),
        _UPDATED,
    ),
    # Served per month asked for (the closed months a night reads), not by watermark;
    # an inactive province may have no rows for a month.
    "realname_month_version", has_tombstones=False, never_empty=False,
    api_path="/v1/realname-monthly", page_size=5000, incremental=False,
)
ENTERPRISES = SourceTable(
    "enterprises", "credit", ("credit_code",),
    (
        _c("credit_code", "统一社会信用代码", "code"), _d("name", "企业名称"),
        _d("former_names", "曾用名", "names"),
        _d("legacy_registration_no", "原注册号", "code"),
        _d("legal_representative", "法定代表人", kept=False),
        _d("registered_district_code", "登记机关区划代码"), _d("status", "登记状态"),
        _UPDATED, _DELETED,
    ),
    "enterprise_version", api_path="/v1/enterprises", page_size=2000,
)
LIST_ENTRIES = SourceTable(
    "list_entries", "credit", ("entry_id",),
    (
        _c("entry_id", "名单编号"), _c("subject_type", "主体类型"),
        _d("subject_name", "主体名称"), _d("credit_code", "统一社会信用代码", "code"),
        _d("person_id_masked", "身份证号", "person_id"), _c("list_type", "名单类型"),
        _d("cause", "列入事由"), _d("decision_no", "决定文书号"),
        _d("listing_authority", "列入机关"),
        _d("listing_authority_district_code", "列入机关区划代码"),
        _c("listed_on", "列入日期", "date"), _c("expires_on", "移出期限", "date"),
        _c("removed_on", "移出日期", "date"), _d("removal_reason", "移出原因"),
        _d("amount_owed", "拖欠金额", "money", stored="amount_owed_fen"),
        _d("workers_owed", "拖欠人数", "count"), _UPDATED, _DELETED,
    ),
    # A province may have no entries at all.
    "list_entry_version", never_empty=False, api_path="/v1/dishonest-entities",
    page_size=2000,
)
INVESTMENT_PROJECTS = SourceTable(
    "investment_projects", "devreform", ("investment_code",),
    (
        _c("investment_code", "项目代码", source=("项目代码",)),
        _d("name", "发改项目名称", source=("项目名称",)),
        _d("site_district_code", "建设地点代码", source=("建设地点代码",)),
        _d("owner_name", "项目单位", source=("项目单位",)),
        _d("owner_credit_code", "项目单位统一社会信用代码", "code",
           source=("项目单位统一社会信用代码",)),
        _c("government_invested", "是否政府投资", "yes_no", source=("是否政府投资",)),
        _d("total_investment", "总投资", "money_wan", source=("总投资",),
           stored="total_investment_fen"),
        _d("approved_on", "审批日期", "date", source=("审批日期",)),
        _d("status", "发改项目状态", source=("项目状态",)),
    ),
    "investment_project", has_tombstones=False,
)
FUND_DISBURSEMENTS = SourceTable(
    "fund_disbursements", "devreform", ("investment_code", "month"),
    (
        _c("investment_code", "项目代码", source=("项目代码",)),
        _c("month", "拨付月份", "month_compact", source=("拨付月份",)),
        _d("planned_amount", "计划拨付金额", "money_wan", source=("计划拨付金额",),
           stored="planned_fen"),
        _d("actual_amount", "实际拨付金额", "money_wan", source=("实际拨付金额",),
           stored="actual_fen"),
        _c("labour_amount", "其中人工费用", "money_wan", source=("其中人工费用",),
           stored="labour_fen"),
    ),
    "fund_disbursement", has_tombstones=False,
)

ALL = (
    PROJECTS, WAGE_ACCOUNTS, WAGE_DEPOSITS, REALNAME_MONTHLY,
    ENTERPRISES, LIST_ENTRIES, INVESTMENT_PROJECTS, FUND_DISBURSEMENTS,
)
BY_NAME = {t.name: t for t in ALL}
REST_TABLES = tuple(t for t in ALL if t.api_path)

# The dev-reform exchange CSV headers, in file order, and the column each becomes.
DEVREFORM_HEADERS = {t.name: t.headers for t in ALL if t.system == "devreform"}
