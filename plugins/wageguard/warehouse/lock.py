"""One night at a time. The run that merges night D holds the warehouse until
it publishes D, so no other night merges, evaluates or publishes in between
(a later night would take an older one as its previous night, an earlier one
would be published after a later one). Merge, rules and export are separate
tasks, maybe on separate machines, so the hold is a row of `night_lock` that
the run hands from stage to stage by its token. A delivery of night D holds
night D's delivery the same way, for the one process that sends.

Every change of a hold is made in a short transaction that first takes the
warehouse's turn (take_turn), so two runs never both find it free. A run that
finds it held waits up to WAGEGUARD_LOCK_WAIT_SECONDS, then fails saying who
holds it. A hold lapses, and the next run takes it over, when its run's stage
failed (the run may carry it on again if nobody did: a retried task), when the
process in its stage is gone (only a process of this machine can be asked),
or when its run was not heard from (a stage beginning or ending, a message
sent) for WAGEGUARD_LOCK_STALE_MINUTES."""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from wageguard.db.values import as_date
from wageguard.landing.store import now_text

log = logging.getLogger(__name__)

NIGHT = "night"  # merge to publish: one night of the warehouse at a time
DELIVERY = "deliver"  # one delivery of a night at a time
WAREHOUSE_WIDE = {NIGHT}

WAIT_ENV = "WAGEGUARD_LOCK_WAIT_SECONDS"
STALE_ENV = "WAGEGUARD_LOCK_STALE_MINUTES"
DEFAULT_WAIT_SECONDS = 600.0
# Far longer than any stage or the gap between two stages of a run takes.
DEFAULT_STALE_MINUTES = 120.0
POLL_SECONDS = 1.0

WORKING, WAITING, FAILED, DONE = "working", "waiting", "failed", "done"
HELD = (WORKING, WAITING)

# Advisory locks are per database: any number no other application of the
# warehouse's database takes.
ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"wageguard warehouse").digest()[:8], "big",
                              signed=True)

T = TypeVar("T")


class LockBusy(RuntimeError):
    """Another run holds what this one needs, for longer than it may wait."""


class LockLost(RuntimeError):
    """The run of this stage no longer holds its night: another run took it over."""


def _number_setting(name: str, default: float) -> float:
    value = os.environ.get(name)
    try:
        return float(value) if value else default
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a number") from None


def wait_seconds() -> float:
    return _number_setting(WAIT_ENV, DEFAULT_WAIT_SECONDS)


def stale_minutes() -> float:
    return _number_setting(STALE_ENV, DEFAULT_STALE_MINUTES)


def this_process() -> tuple[str, int]:
    return socket.gethostname(), os.getpid()


def _gone(host: str, pid: int) -> bool:
    if host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process: alive
        return False
    return False


def what(purpose: str, run_date: dt.date) -> str:
    return f"night {run_date}" if purpose == NIGHT else f"the delivery of night {run_date}"


@dataclass(frozen=True)
class Hold:
    purpose: str
    run_date: dt.date
    token: str
    host: str
    pid: int
    since: str
    touched_at: str
    state: str

    @property
    def holder(self) -> str:
        return f"{self.host}/{self.pid}"

    def why_lapsed(self) -> str | None:
        """Of a hold still held: why another run may take it over, or None while
        it stands."""
        if self.state == WORKING and _gone(self.host, self.pid):
            return "its process is gone"
        quiet = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(self.touched_at)
        if quiet > dt.timedelta(minutes=stale_minutes()):
            return f"not heard from for {quiet.total_seconds() / 60:.0f} minutes"
        return None


def take_turn(conn: Connection) -> None:
    """Serialises the transaction with every other that changes a hold, runs a
    migration or publishes a night, until it ends. SQLite's engine has already
    taken the database's write lock at BEGIN (BEGIN IMMEDIATE)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_KEY})


def _holds(conn: Connection, purpose: str) -> list[Hold]:
    rows = conn.execute(
        text("SELECT purpose, run_date, token, host, pid, since, touched_at, state "
             "FROM night_lock WHERE purpose = :p"), {"p": purpose}).all()
    return [Hold(r.purpose, as_date(r.run_date), *r[2:]) for r in rows]


def in_the_way(conn: Connection, purpose: str, run_date: dt.date | None = None,
               token: str | None = None) -> tuple[Hold | None, list[Hold]]:
    """The standing hold, other than `token`'s, that keeps this run waiting, and
    the lapsed holds it would take over. `run_date` None: any night's."""
    standing, lapsed = None, []
    for hold in _holds(conn, purpose):
        if hold.token == token or hold.state not in HELD:
            continue
        if run_date is not None and purpose not in WAREHOUSE_WIDE and hold.run_date != run_date:
            continue
        if hold.why_lapsed():
            lapsed.append(hold)
        else:
            standing = standing or hold
    return standing, lapsed


def any_standing(conn: Connection) -> Hold | None:
    """A hold of any purpose that stands, on a warehouse that has holds."""
    if not inspect(conn).has_table("night_lock"):
        return None
    for purpose in (NIGHT, DELIVERY):
        standing, _ = in_the_way(conn, purpose)
        if standing:
            return standing
    return None


def when_free(eng: Engine, waiter: str, attempt: Callable[[Connection], T | Hold],
              wait: float | None = None) -> T:
    """Runs `attempt` in a transaction of its own that has the warehouse's turn,
    again while it returns the hold in its way, for up to `wait` seconds. The
    waiting is done between transactions, so the holder can go on meanwhile."""
    wait = wait_seconds() if wait is None else wait
    deadline = time.monotonic() + wait
    told = False
    while True:
        with eng.begin() as conn:
            take_turn(conn)
            outcome = attempt(conn)
        if not isinstance(outcome, Hold):
            return outcome
        left = deadline - time.monotonic()
        if left <= 0:
            raise LockBusy(busy_message(outcome, waiter, wait))
        if not told:
            log.warning("%s waits up to %.0f s: %s is being run by %s since %s", waiter, wait,
                        what(outcome.purpose, outcome.run_date), outcome.holder, outcome.since)
            told = True
        time.sleep(min(POLL_SECONDS, left))


@contextmanager
def first_connection_turn(eng: Engine, waiter: str, wait: float | None = None) -> Iterator[None]:
    """On SQLite, a lock file beside the database, held by one process at a
    time: the first connection to a new database file switches it to WAL,
    which fails at once ("database is locked"), unlike a write that waits its
    turn, when another process has a transaction open. Two first runs thus
    connect and upgrade one after the other. PostgreSQL needs none (take_turn)."""
    database = eng.url.database if eng.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    wait = wait_seconds() if wait is None else wait
    deadline = time.monotonic() + wait
    with open(f"{database}.lock", "a") as lock_file:
        while True:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockBusy(f"{waiter} waited {wait:.0f} s ({WAIT_ENV}) for another "
                                   f"process of this machine to let go of {lock_file.name}; "
                                   "run it again once that process has ended") from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def busy_message(hold: Hold, waiter: str, waited: float) -> str:
    return (
        f"{what(hold.purpose, hold.run_date)} is being run by {hold.holder} since {hold.since} "
        f"(last heard from at {hold.touched_at}); {waiter} waited {waited:.0f} s for it "
        f"({WAIT_ENV}). Run it again once that run has finished. If that run is dead, its "
        f"hold lapses as soon as its process is gone (as seen from {hold.host}) or "
        f"{stale_minutes():.0f} minutes after it was last heard from ({STALE_ENV}); to end it "
        f"now: UPDATE night_lock SET state = '{FAILED}' WHERE purpose = '{hold.purpose}' "
        f"AND run_date = '{hold.run_date}'"
    )


def _lost(purpose: str, run_date: dt.date, taker: Hold | None) -> LockLost:
    """Only a night's later stages carry a hold on, so only they can lose it."""
    held = what(purpose, run_date)
    by = (f"{what(taker.purpose, taker.run_date)} was taken over by {taker.holder} at "
          f"{taker.since}" if taker else f"nothing records this run's hold on {held}")
    return LockLost(f"{held}: this run no longer holds it ({by}), so what it merged may no "
                    f"longer be the night's: run night {run_date} again from build_night (in "
                    "Airflow: clear build_night and its downstream tasks)")


def _own(conn: Connection, purpose: str, run_date: dt.date) -> Hold | None:
    return next((h for h in _holds(conn, purpose) if h.run_date == run_date), None)


def _take(conn: Connection, purpose: str, run_date: dt.date,
          token: str | None) -> str | Hold:
    own = _own(conn, purpose, run_date)
    if token is not None and (own is None or own.token != token):
        raise _lost(purpose, run_date, own)
    standing, lapsed = in_the_way(conn, purpose, run_date, token)
    if standing:
        return standing
    now = now_text()
    for hold in lapsed:
        log.warning("%s takes over from %s, held by %s since %s: %s",
                    what(purpose, run_date), what(hold.purpose, hold.run_date), hold.holder,
                    hold.since, hold.why_lapsed())
        _set_state(conn, hold.purpose, hold.run_date, hold.token, FAILED, now, hold.state)
    host, pid = this_process()
    if token is None:
        token = uuid.uuid4().hex
        conn.execute(text(
            "INSERT INTO night_lock (purpose, run_date, token, host, pid, since, touched_at, "
            "state) VALUES (:p, :d, :t, :h, :pid, :now, :now, :s) "
            "ON CONFLICT (purpose, run_date) DO UPDATE SET token = excluded.token, "
            "host = excluded.host, pid = excluded.pid, since = excluded.since, "
            "touched_at = excluded.touched_at, state = excluded.state"),
            {"p": purpose, "d": run_date, "t": token, "h": host, "pid": pid, "now": now,
             "s": WORKING})
    else:
        conn.execute(text(
            "UPDATE night_lock SET host = :h, pid = :pid, touched_at = :now, state = :s "
            "WHERE purpose = :p AND run_date = :d AND token = :t"),
            {"p": purpose, "d": run_date, "t": token, "h": host, "pid": pid, "now": now,
             "s": WORKING})
    return token


def _set_state(conn: Connection, purpose: str, run_date: dt.date, token: str, state: str,
               now: str, was: str = WORKING) -> None:
    conn.execute(text(
        "UPDATE night_lock SET state = :s, touched_at = :now "
        "WHERE purpose = :p AND run_date = :d AND token = :t AND state = :was"),
        {"s": state, "now": now, "p": purpose, "d": run_date, "t": token, "was": was})


def _leave(eng: Engine, purpose: str, run_date: dt.date, token: str, state: str) -> None:
    with eng.begin() as conn:
        _set_state(conn, purpose, run_date, token, state, now_text())


@contextmanager
def holding(eng: Engine, purpose: str, run_date: dt.date, token: str | None = None, *,
            final: bool = False, wait: float | None = None) -> Iterator[str]:
    """One stage of a run under its hold: without a token the run takes the hold
    (it is a new run), with one it carries on the hold an earlier stage of it
    took. After the stage the hold waits for the run's next stage, or is done
    when the stage is `final`; a stage that raised leaves it failed, which lets
    any run take it over and this run carry it on."""
    token = when_free(eng, what(purpose, run_date),
                      lambda conn: _take(conn, purpose, run_date, token), wait)
    try:
        yield token
    except BaseException:
        try:
            _leave(eng, purpose, run_date, token, FAILED)
        except SQLAlchemyError as unreachable:
            log.warning("%s: could not mark this run's hold failed (%s); it lapses when this "
                        "process is gone", what(purpose, run_date), unreachable)
        raise
    _leave(eng, purpose, run_date, token, DONE if final else WAITING)


def touch(conn: Connection, purpose: str, run_date: dt.date, token: str) -> None:
    """The run is heard from: a long stage keeps its hold from lapsing."""
    conn.execute(text("UPDATE night_lock SET touched_at = :now "
                      "WHERE purpose = :p AND run_date = :d AND token = :t"),
                 {"now": now_text(), "p": purpose, "d": run_date, "t": token})


def release(conn: Connection, purpose: str, run_date: dt.date, token: str) -> None:
    """Ends the run's hold inside the caller's transaction (the one that
    publishes the night), which has taken the warehouse's turn. Raises LockLost
    if another run took the hold over meanwhile: what this run did is no longer
    the night's to publish."""
    own = _own(conn, purpose, run_date)
    if own is None or own.token != token:
        raise _lost(purpose, run_date, own)
    standing, _ = in_the_way(conn, purpose, run_date, token)
    if standing:
        raise _lost(purpose, run_date, standing)
    _set_state(conn, purpose, run_date, token, DONE, now_text(), own.state)
