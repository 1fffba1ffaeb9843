"""Night D's delivery: every district's workbook (lists/<district>.xlsx of the
published night) to each of its inspectors on the roster, once. A failed send
and a district with flags but nobody on the roster are recorded, logged and
reported, never skipped in silence."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from wageguard.delivery.ledger import already_sent, record_no_recipient, record_send
from wageguard.delivery.mailer import send
from wageguard.delivery.message import DistrictCounts, build_message
from wageguard.delivery.roster import ROSTER_ENV, RosterDistrict
from wageguard.delivery.settings import SmtpSettings

log = logging.getLogger(__name__)


class DeliveryIncomplete(RuntimeError):
    pass


@dataclass
class DeliveryResult:
    run_date: dt.date
    sent: list[dict] = field(default_factory=list)  # district_code, recipient, attempts
    already_sent: int = 0
    failed: list[dict] = field(default_factory=list)  # ... and error
    no_recipient: list[dict] = field(default_factory=list)  # district_code, flags

    @property
    def complete(self) -> bool:
        return not self.failed and not any(d["flags"] for d in self.no_recipient)

    def to_json(self) -> dict:
        return {**asdict(self), "run_date": self.run_date.isoformat(),
                "complete": self.complete}

    def raise_if_incomplete(self) -> None:
        if self.complete:
            return
        lines = [f"{f['district_code']} to {f['recipient']}: not sent after {f['attempts']} "
                 f"attempt(s): {f['error']}" for f in self.failed]
        lines += [f"{d['district_code']}: {d['flags']} flags and nobody on the roster: add "
                  f"its inspectors to the roster ({ROSTER_ENV})"
                  for d in self.no_recipient if d["flags"]]
        raise DeliveryIncomplete(
            f"night {self.run_date}: delivery incomplete ({len(self.sent)} sent now, "
            f"{self.already_sent} sent before; all recorded in the delivery table). Once "
            f"what follows is fixed, `wageguard deliver --date {self.run_date}` sends only "
            "what is missing:\n"
            + "\n".join(f"  {line}" for line in lines))


def district_counts(flags_csv: Path) -> dict[str, DistrictCounts]:
    """Per district, its listed flags of flags.csv."""
    counts: dict[str, Counter] = {}
    with flags_csv.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["status"] != "open":
                continue
            tally = counts.setdefault(row["district_code"], Counter())
            tally["listed"] += 1
            tally["new"] += row["new"] == "true"
            tally["overdue"] += row["overdue"] == "true"
            tally["red"] += row["severity"] == "red"
    return {district: DistrictCounts(**tally) for district, tally in counts.items()}


def deliver_night(eng: Engine, night: Path, run_date: dt.date,
                  roster: dict[str, RosterDistrict], settings: SmtpSettings,
                  *, resend: bool = False) -> DeliveryResult:
    """`night` is the published folder of night D. What the ledger says went out
    is not sent again unless `resend`."""
    lists = night / "lists"
    if not lists.is_dir():
        raise FileNotFoundError(f"night {run_date} is not published ({lists} is missing): "
                                "run its export first")
    counts = district_counts(night / "flags.csv")
    workbooks = {path.stem: path.read_bytes() for path in sorted(lists.glob("*.xlsx"))}
    digests = {district: hashlib.sha256(b).hexdigest() for district, b in workbooks.items()}
    result = DeliveryResult(run_date)
    unrostered = {district: (digests[district], counts.get(district, DistrictCounts()).listed)
                  for district in workbooks if district not in roster}
    for district, (_, flags) in unrostered.items():
        result.no_recipient.append({"district_code": district, "flags": flags})
        (log.error if flags else log.warning)(
            "district %s: %d flags and nobody on the roster to send them to", district, flags)
    with eng.begin() as conn:
        record_no_recipient(conn, run_date, unrostered)
        done = set() if resend else already_sent(conn, run_date)
    for district, workbook in workbooks.items():
        place = roster.get(district)
        for inspector in place.inspectors if place else ():
            if (district, inspector.email) in done:
                result.already_sent += 1
                continue
            message = build_message(
                sender=settings.sender, inspector=inspector, district=place,
                run_date=run_date, counts=counts.get(district, DistrictCounts()),
                workbook=workbook)
            outcome = send(settings, message)
            with eng.begin() as conn:
                record_send(conn, run_date, district, inspector.email, outcome,
                            message["Message-ID"], digests[district])
            item = {"district_code": district, "recipient": inspector.email,
                    "attempts": outcome.attempts}
            if outcome.sent:
                result.sent.append(item)
                log.info("district %s list sent to %s", district, inspector.email)
            else:
                result.failed.append({**item, "error": outcome.error})
                log.error("district %s list NOT sent to %s after %d attempt(s): %s",
                          district, inspector.email, outcome.attempts, outcome.error)
    log.info("night %s delivery: %d sent, %d already sent, %d failed, %d districts with "
             "nobody on the roster", run_date, len(result.sent), result.already_sent,
             len(result.failed), len(result.no_recipient))
    return result
