"""The source tables wageguard pulls, and the flat column layout each has after
normalisation. Every stage (extract, validate, load, the demo sources) names
tables and columns from here, so a column is spelt in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    label: str  # what inspectors call it: the workbook's data-issue notes name it so
    # A rule, the deposit formula, entity resolution's keys or an export cannot do
    # without it: a breach of its checks makes the record unusable (quarantined).
    # Every other column is descriptive: a breach is a warning, the record is kept.
    # docs/data-quality.md gives the reason for each.
    critical: bool = False


def _c(name: str, label: str) -> Column:
    return Column(name, label, critical=True)


def _d(name: str, label: str) -> Column:
    return Column(name, label)


@dataclass(frozen=True)
class SourceTable:
    name: str
    system: str  # housing | credit | devreform
    key: tuple[str, ...]  # what identifies one record (its versions share it)
    fields: tuple[Column, ...]
    has_tombstones: bool = True

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.fields)

    @property
    def critical(self) -> frozenset[str]:
        return frozenset(c.name for c in self.fields if c.critical)

    def label(self, column: str) -> str:
        return next(c.label for c in self.fields if c.name == column)


_UPDATED = _c("updated_at", "更新时间")
_DELETED = _c("deleted", "删除标记")

PROJECTS = SourceTable(
    "projects",
    "housing",
    ("project_id",),
    (
        _c("project_id", "项目编号"), _d("investment_code", "项目代码"),
        _d("permit_no", "施工许可证号"), _d("name", "项目名称"),
        _c("district_code", "行政区划代码"), _d("builder_name", "建设单位名称"),
        _d("builder_credit_code", "建设单位统一社会信用代码"),
        _d("contractor_name", "施工总承包单位名称"),
        _d("contractor_credit_code", "总包统一社会信用代码"),
        _c("contract_amount", "合同金额"), _c("contract_signed_on", "合同签订日期"),
        _c("started_on", "开工日期"), _c("planned_completion_on", "计划竣工日期"),
        _d("completed_on", "竣工日期"), _c("status", "项目状态"), _UPDATED, _DELETED,
    ),
)
WAGE_ACCOUNTS = SourceTable(
    "wage_accounts",
    "housing",
    ("account_id",),
    (
        _c("account_id", "专户编号"), _c("project_id", "项目编号"),
        _d("bank_name", "专户开户银行"), _d("account_no_masked", "专户账号"),
        _c("opened_on", "专户开立日期"), _c("filed_on", "专户备案日期"),
        _c("closed_on", "专户销户日期"), _d("status", "专户状态"), _UPDATED, _DELETED,
    ),
)
WAGE_DEPOSITS = SourceTable(
    "wage_deposits",
    "housing",
    ("deposit_id",),
    (
        _c("deposit_id", "保证金编号"), _c("project_id", "项目编号"),
        _d("contractor_credit_code", "保证金缴纳单位统一社会信用代码"),
        _c("form", "保证金形式"), _c("amount", "保证金金额"),
        _c("deposited_on", "保证金缴存日期"), _c("valid_until", "保函有效期至"),
        _c("status", "保证金状态"), _UPDATED, _DELETED,
    ),
)
REALNAME_MONTHLY = SourceTable(
    "realname_monthly",
    "housing",
    ("project_id", "month"),
    (
        _c("project_id", "项目编号"), _c("month", "月份"),
        _c("registered_workers", "登记人数"), _c("attending_workers", "考勤人数"),
        _d("paid_workers", "发放工资人数"), _c("payroll_amount", "应发工资总额"),
        _c("paid_via_contractor_amount", "专户代发工资总额"), _UPDATED,
    ),
    has_tombstones=False,
)
ENTERPRISES = SourceTable(
    "enterprises",
    "credit",
    ("credit_code",),
    (
        _c("credit_code", "统一社会信用代码"), _d("name", "企业名称"),
        _d("former_names", "曾用名"), _d("legacy_registration_no", "原注册号"),
        _d("legal_representative", "法定代表人"),
        _d("registered_district_code", "登记机关区划代码"), _d("status", "登记状态"),
        _UPDATED, _DELETED,
    ),
)
LIST_ENTRIES = SourceTable(
    "list_entries",
    "credit",
    ("entry_id",),
    (
        _c("entry_id", "名单编号"), _c("subject_type", "主体类型"),
        _d("subject_name", "主体名称"), _d("credit_code", "统一社会信用代码"),
        _d("person_id_masked", "身份证号"), _c("list_type", "名单类型"),
        _d("cause", "列入事由"), _d("decision_no", "决定文书号"),
        _d("listing_authority", "列入机关"),
        _d("listing_authority_district_code", "列入机关区划代码"),
        _c("listed_on", "列入日期"), _c("expires_on", "移出期限"), _c("removed_on", "移出日期"),
        _d("removal_reason", "移出原因"), _d("amount_owed", "拖欠金额"),
        _d("workers_owed", "拖欠人数"), _UPDATED, _DELETED,
    ),
)
INVESTMENT_PROJECTS = SourceTable(
    "investment_projects",
    "devreform",
    ("investment_code",),
    (
        _c("investment_code", "项目代码"), _d("name", "发改项目名称"),
        _d("site_district_code", "建设地点代码"), _d("owner_name", "项目单位"),
        _d("owner_credit_code", "项目单位统一社会信用代码"),
        _c("government_invested", "是否政府投资"), _d("total_investment", "总投资"),
        _d("approved_on", "审批日期"), _d("status", "发改项目状态"),
    ),
    has_tombstones=False,
)
FUND_DISBURSEMENTS = SourceTable(
    "fund_disbursements",
    "devreform",
    ("investment_code", "month"),
    (
        _c("investment_code", "项目代码"), _c("month", "拨付月份"),
        _d("planned_amount", "计划拨付金额"), _d("actual_amount", "实际拨付金额"),
        _c("labour_amount", "其中人工费用"),
    ),
    has_tombstones=False,
)

ALL = (
    PROJECTS, WAGE_ACCOUNTS, WAGE_DEPOSITS, REALNAME_MONTHLY,
    ENTERPRISES, LIST_ENTRIES, INVESTMENT_PROJECTS, FUND_DISBURSEMENTS,
)
BY_NAME = {t.name: t for t in ALL}

# The dev-reform exchange CSV headers, in file order, and the column each becomes.
DEVREFORM_HEADERS = {
    "investment_projects": {
        "项目代码": "investment_code",
        "项目名称": "name",
        "建设地点代码": "site_district_code",
        "项目单位": "owner_name",
        "项目单位统一社会信用代码": "owner_credit_code",
        "是否政府投资": "government_invested",
        "总投资": "total_investment",
        "审批日期": "approved_on",
        "项目状态": "status",
    },
    "fund_disbursements": {
        "项目代码": "investment_code",
        "拨付月份": "month",
        "计划拨付金额": "planned_amount",
        "实际拨付金额": "actual_amount",
        "其中人工费用": "labour_amount",
    },
}
