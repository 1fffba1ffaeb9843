"""The source tables wageguard pulls, and the flat column layout each has after
normalisation. Every stage (extract, validate, load, the demo sources) names
tables and columns from here, so a column is spelt in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceTable:
    name: str
    system: str  # housing | credit | devreform
    key: tuple[str, ...]  # what identifies one record (its versions share it)
    columns: tuple[str, ...]
    has_tombstones: bool = True


PROJECTS = SourceTable(
    "projects",
    "housing",
    ("project_id",),
    (
        "project_id", "investment_code", "permit_no", "name", "district_code",
        "builder_name", "builder_credit_code", "contractor_name", "contractor_credit_code",
        "contract_amount", "contract_signed_on", "started_on", "planned_completion_on",
        "completed_on", "status", "updated_at", "deleted",
    ),
)
WAGE_ACCOUNTS = SourceTable(
    "wage_accounts",
    "housing",
    ("account_id",),
    (
        "account_id", "project_id", "bank_name", "account_no_masked", "opened_on",
        "filed_on", "closed_on", "status", "updated_at", "deleted",
    ),
)
WAGE_DEPOSITS = SourceTable(
    "wage_deposits",
    "housing",
    ("deposit_id",),
    (
        "deposit_id", "project_id", "contractor_credit_code", "form", "amount",
        "deposited_on", "valid_until", "status", "updated_at", "deleted",
    ),
)
REALNAME_MONTHLY = SourceTable(
    "realname_monthly",
    "housing",
    ("project_id", "month"),
    (
        "project_id", "month", "registered_workers", "attending_workers", "paid_workers",
        "payroll_amount", "paid_via_contractor_amount", "updated_at",
    ),
    has_tombstones=False,
)
ENTERPRISES = SourceTable(
    "enterprises",
    "credit",
    ("credit_code",),
    (
        "credit_code", "name", "former_names", "legacy_registration_no",
        "legal_representative", "registered_district_code", "status", "updated_at", "deleted",
    ),
)
LIST_ENTRIES = SourceTable(
    "list_entries",
    "credit",
    ("entry_id",),
    (
        "entry_id", "subject_type", "subject_name", "credit_code", "person_id_masked",
        "list_type", "cause", "decision_no", "listing_authority",
        "listing_authority_district_code", "listed_on", "expires_on", "removed_on",
        "removal_reason", "amount_owed", "workers_owed", "updated_at", "deleted",
    ),
)
INVESTMENT_PROJECTS = SourceTable(
    "investment_projects",
    "devreform",
    ("investment_code",),
    (
        "investment_code", "name", "site_district_code", "owner_name", "owner_credit_code",
        "government_invested", "total_investment", "approved_on", "status",
    ),
    has_tombstones=False,
)
FUND_DISBURSEMENTS = SourceTable(
    "fund_disbursements",
    "devreform",
    ("investment_code", "month"),
    ("investment_code", "month", "planned_amount", "actual_amount", "labour_amount"),
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
