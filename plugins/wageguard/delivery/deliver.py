"""Night D's delivery: every district's workbook (lists/<district>.xlsx of the
published night) to each of its inspectors on the roster, once. A failed send,
a district with flags but nobody on the roster and a message a stopped run may
have sent are recorded, logged and reported, never skipped in silence. One
delivery of a night runs at a time (it holds the night's delivery in
night_lock), so two at once send nobody a list twice."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from wageguard.delivery.ledger import (
    SENDING,
    SENT,
    entries,
    record_no_recipient,
    record_send,
    record_sending,
)
from wageguard.delivery.mailer import send
from wageguard.delivery.message import DistrictCounts, build_message
from wageguard.delivery.roster import ROSTER_ENV, Inspector, RosterDistrict
from wageguard.delivery.settings import SmtpSettings
from wageguard.warehouse.lock import DELIVERY, holding, touch

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
    # district_code, recipient, since, message_id: `sending` left by a stopped run
    possibly_sent: list[dict] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return (not self.failed and not self.possibly_sent
                and not any(d["flags"] for d in self.no_recipient))

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
        lines += [f"{p['district_code']} to {p['recipient']}: possibly sent, by a run that "
                  f"stopped after it began sending ({p['since']}) and before it recorded the "
                  f"outcome. Look for Message-ID {p['message_id']} in the mail server's log; "
                  f"if it did not go out, `wageguard deliver --date {self.run_date} "
                  "--resend-unconfirmed` sends it again under the same Message-ID"
                  for p in self.possibly_sent]
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
                  *, resend: bool = False, resend_unconfirmed: bool = False) -> DeliveryResult:
    """`night` is the published folder of night D. What the ledger says went out
    is not sent again unless `resend`; what a stopped run may have sent is
    reported, and sent again only with `resend_unconfirmed` (or `resend`)."""
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
    with holding(eng, DELIVERY, run_date, final=True) as lock:
        with eng.begin() as conn:
            record_no_recipient(conn, run_date, unrostered)
            ledger = {} if resend else entries(conn, run_date)
        for district, workbook in workbooks.items():
            place = roster.get(district)
            if place is None:
                continue
            for inspector in place.inspectors:
                entry = ledger.get((district, inspector.email))
                if entry is not None and entry.status == SENT:
                    result.already_sent += 1
                elif entry is not None and entry.status == SENDING and not resend_unconfirmed:
                    result.possibly_sent.append({
                        "district_code": district, "recipient": inspector.email,
                        "since": entry.updated_at, "message_id": entry.message_id})
                    log.error("district %s list possibly sent to %s by a stopped run (%s, "
                              "Message-ID %s): not sent again", district, inspector.email,
                              entry.updated_at, entry.message_id)
                else:
                    _send_one(eng, lock, result, settings, place, inspector,
                              counts.get(district, DistrictCounts()), workbook, digests[district])
    log.info("night %s delivery: %d sent, %d already sent, %d failed, %d possibly sent, %d "
             "districts with nobody on the roster", run_date, len(result.sent),
             result.already_sent, len(result.failed), len(result.possibly_sent),
             len(result.no_recipient))
    return result


def _send_one(eng: Engine, lock: str, result: DeliveryResult, settings: SmtpSettings,
              place: RosterDistrict, inspector: Inspector, counts: DistrictCounts,
              workbook: bytes, digest: str) -> None:
    run_date = result.run_date
    message = build_message(sender=settings.sender, inspector=inspector, district=place,
                            run_date=run_date, counts=counts, workbook=workbook)
    with eng.begin() as conn:
        record_sending(conn, run_date, place.code, inspector.email, message["Message-ID"],
                       digest)
    outcome = send(settings, message)
    with eng.begin() as conn:
        record_send(conn, run_date, place.code, inspector.email, outcome,
                    message["Message-ID"], digest)
        touch(conn, DELIVERY, run_date, lock)
    item = {"district_code": place.code, "recipient": inspector.email,
            "attempts": outcome.attempts}
    if outcome.sent:
        result.sent.append(item)
        log.info("district %s list sent to %s", place.code, inspector.email)
    else:
        result.failed.append({**item, "error": outcome.error})
        log.error("district %s list NOT sent to %s after %d attempt(s): %s",
                  place.code, inspector.email, outcome.attempts, outcome.error)
