"""The e-mail that carries one district's list of night D to one inspector: a
Chinese subject and body with the district's counts, and only that district's
workbook attached."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from zoneinfo import ZoneInfo

from wageguard.delivery.roster import Inspector, RosterDistrict
from wageguard.plan import TIMEZONE

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@dataclass(frozen=True)
class DistrictCounts:
    """The district's listed flags (exempted and false positives are off the
    list), counted as the workbook's summary sheet counts them."""

    listed: int = 0
    new: int = 0
    overdue: int = 0
    red: int = 0


def attachment_name(district: RosterDistrict, run_date: dt.date) -> str:
    # The date keeps one night's file apart from the next in a downloads folder.
    return f"{district.code}_{run_date.isoformat()}.xlsx"


def subject(district: RosterDistrict, run_date: dt.date, counts: DistrictCounts) -> str:
    return (f"【欠薪预警】{district.name}（{district.code}）{run_date.isoformat()} "
            f"新增{counts.new}条 超期{counts.overdue}条 红色{counts.red}条")


def body(inspector: Inspector, district: RosterDistrict, run_date: dt.date,
         counts: DistrictCounts) -> str:
    return (
        f"{inspector.name}：\n\n"
        f"{district.city_name}{district.name}（{district.code}）{run_date.isoformat()} "
        f"欠薪预警清单见附件 {attachment_name(district, run_date)}。\n\n"
        f"在办预警：{counts.listed} 条\n"
        f"昨日以来新增：{counts.new} 条\n"
        f"超期（超过督办时限）：{counts.overdue} 条\n"
        f"红色预警：{counts.red} 条\n\n"
        "清单按超期红色预警优先排列。处置情况可填入“预警清单”表的处置、豁免截止日期、"
        "处置理由、处置人列，再将文件交回处置收件箱。\n\n"
        "本邮件由欠薪预警系统自动发送，请勿直接回复。\n"
    )


def message_id(sender: str, run_date: dt.date, district_code: str, recipient: str) -> str:
    """The same on every try of night D's list to one inspector, so a copy that
    went out twice (a run stopped between sending and recording it, a resend)
    is one message to the mail server and to the inspector's mail client."""
    digest = hashlib.sha256(
        f"{run_date.isoformat()}|{district_code}|{recipient.lower()}".encode()).hexdigest()
    domain = parseaddr(sender)[1].rsplit("@", 1)[-1]
    return f"<wageguard.{run_date:%Y%m%d}.{district_code}.{digest[:24]}@{domain}>"


def build_message(*, sender: str, inspector: Inspector, district: RosterDistrict,
                  run_date: dt.date, counts: DistrictCounts, workbook: bytes) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = Address(display_name=inspector.name, addr_spec=inspector.email)
    message["Subject"] = subject(district, run_date, counts)
    message["Date"] = format_datetime(dt.datetime.now(ZoneInfo(TIMEZONE)))
    message["Message-ID"] = message_id(sender, run_date, district.code, inspector.email)
    # base64 goes through any relay, whatever its 8-bit support.
    message.set_content(body(inspector, district, run_date, counts), cte="base64")
    message.add_attachment(workbook, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1],
                           filename=attachment_name(district, run_date))
    return message
