"""Who receives each district's list: a CSV that the inspectorate's admins keep
(UTF-8, one row per inspector), read and checked whole before anything is sent.

    district_code,district_name,city_code,city_name,inspector_name,email
    150202,东河区,150200,包头市,王芳,wangfang@example.gov.cn

A district has one supervising city and one or more inspectors; an inspector may
serve several districts."""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from wageguard.paths import config_dir

ROSTER_ENV = "WAGEGUARD_ROSTER_FILE"
COLUMNS = ("district_code", "district_name", "city_code", "city_name", "inspector_name",
           "email")

# GB/T 2260: a county-level code has neither its city nor its county digits 00.
_COUNTY_CODE = re.compile(r"[0-9]{2}(?!00)[0-9]{2}(?!00)[0-9]{2}")
_CITY_CODE = re.compile(r"[0-9]{2}(?!00)[0-9]{2}00")
# An ASCII address: what every mail server accepts without SMTPUTF8.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


@dataclass(frozen=True)
class Inspector:
    name: str
    email: str


@dataclass(frozen=True)
class RosterDistrict:
    code: str
    name: str
    city_code: str
    city_name: str
    inspectors: tuple[Inspector, ...]


class RosterError(ValueError):
    def __init__(self, path: Path, problems: list[str]):
        self.problems = problems
        super().__init__(f"the roster {path} cannot be used; nothing is sent until it is "
                         "fixed:\n" + "\n".join(f"  {p}" for p in problems))


def roster_path() -> Path:
    configured = os.environ.get(ROSTER_ENV)
    if configured:
        return Path(configured)
    return config_dir() / "roster.csv"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RosterError(path, [(
            f"no such file: create it with the header {','.join(COLUMNS)} or point "
            f"{ROSTER_ENV} at it")]) from None
    except UnicodeDecodeError as bad:
        raise RosterError(path, [
            f"not UTF-8 (byte {bad.start}): save it from Excel as 'CSV UTF-8'"]) from None


def _check_row(cells: list[str]) -> list[str]:
    district_code, district_name, city_code, city_name, inspector_name, email = cells
    problems = []
    if not _COUNTY_CODE.fullmatch(district_code):
        problems.append(f"district_code {district_code!r} is not a 6-digit county-level "
                        "行政区划代码 (e.g. 150202)")
    if not _CITY_CODE.fullmatch(city_code):
        problems.append(f"city_code {city_code!r} is not a 6-digit city-level 行政区划代码 "
                        "(e.g. 150200)")
    for column, value in (("district_name", district_name), ("city_name", city_name),
                          ("inspector_name", inspector_name)):
        if not value:
            problems.append(f"{column} is empty")
    if not _EMAIL.fullmatch(email):
        problems.append(f"email {email!r} is not an e-mail address")
    return problems


def load_roster(path: Path | None = None) -> dict[str, RosterDistrict]:
    """The districts on the roster by code. Every problem of the file is
    reported at once, each with its line number."""
    path = path or roster_path()
    reader = csv.reader(io.StringIO(_read(path)))
    header = [h.strip() for h in next(reader, [])]
    if header != list(COLUMNS):
        raise RosterError(path, [f"line 1: the header must be {','.join(COLUMNS)}"])
    problems: list[str] = []
    place: dict[str, tuple[tuple[str, str, str], int]] = {}  # district -> (names, line)
    line_of: dict[tuple[str, str], int] = {}  # (district, address) -> line
    inspectors: dict[str, list[Inspector]] = {}
    for row in reader:
        line = reader.line_num
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if len(cells) != len(COLUMNS):
            problems.append(f"line {line}: {len(cells)} fields, expected {len(COLUMNS)} "
                            f"({','.join(COLUMNS)})")
            continue
        found = _check_row(cells)
        if found:
            problems.extend(f"line {line}: {p}" for p in found)
            continue
        district_code, district_name, city_code, city_name, inspector_name, email = cells
        names = (district_name, city_code, city_name)
        first, first_line = place.setdefault(district_code, (names, line))
        if first != names:
            problems.append(
                f"line {line}: district {district_code} is {district_name} under {city_code} "
                f"{city_name}, but {first[0]} under {first[1]} {first[2]} on line "
                f"{first_line}: a district has one name and one supervising city")
            continue
        key = (district_code, email.lower())
        if key in line_of:
            problems.append(f"line {line}: duplicate of line {line_of[key]}: {email} is "
                            f"already on the roster for {district_code}")
            continue
        line_of[key] = line
        inspectors.setdefault(district_code, []).append(Inspector(inspector_name, email))
    if problems:
        raise RosterError(path, problems)
    return {
        code: RosterDistrict(code, names[0], names[1], names[2], tuple(inspectors[code]))
        for code, (names, _) in sorted(place.items())
    }
