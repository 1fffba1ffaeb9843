"""Resolving a project party (name + typed code) to one credit code of the enterprise
register, or saying plainly why it cannot be resolved."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from .credit_code import is_legacy_number, normalise_credit_code, passes_gb32100
from .names import normalise_name

Status = Literal["resolved", "ambiguous", "absent"]
Method = Literal["register", "code", "legacy", "name"]


@dataclass(frozen=True)
class RegisterEntry:
    """One non-deleted enterprise of the register, whatever its status (revoked and
    deregistered companies still owe their workers)."""

    credit_code: str
    name: str
    former_names: tuple[str, ...] = ()
    legacy_registration_no: str | None = None


@dataclass(frozen=True)
class Resolution:
    credit_code: str | None
    status: Status
    method: Method | None
    detail: str


class Register:
    """The enterprise register, indexed once so that every party of a night resolves in
    constant time."""

    def __init__(self, entries: Iterable[RegisterEntry]) -> None:
        self._current_name: dict[str, str] = {}
        self._codes_by_legacy: dict[str, set[str]] = {}
        # A normalised name that is the current name of one company and no
        # other's name -> its credit code: nearly every name, kept without a
        # dict of its own (a province's register is a hundred thousand names).
        self._one_current: dict[str, str] = {}
        # Every other name -> {credit code: "current" | "former"}.
        self._codes_by_name: dict[str, dict[str, str]] = {}
        for entry in entries:
            code = normalise_credit_code(entry.credit_code)
            if code is None:
                # An entry without a code cannot be resolved *to*; indexing its names
                # would only turn a clean absent into a resolution to nothing.
                continue
            self._current_name[code] = entry.name
            legacy = normalise_credit_code(entry.legacy_registration_no)
            if legacy is not None and is_legacy_number(legacy):
                self._codes_by_legacy.setdefault(legacy, set()).add(code)
            for former in entry.former_names:
                self._index_name(former, code, "former")
            self._index_name(entry.name, code, "current")

    def _index_name(self, name: str | None, code: str, kind: str) -> None:
        key = normalise_name(name)
        if key is None:
            return
        kinds = self._codes_by_name.get(key)
        if kinds is None:
            only = self._one_current.get(key)
            if only == code:
                return  # still its current name, whatever else it was
            if only is None and kind == "current":
                self._one_current[key] = code
                return
            kinds = self._codes_by_name[key] = {}
            if only is not None:
                kinds[self._one_current.pop(key)] = "current"
        # A company that kept its old name as its current one is still one company, and
        # "current name" is the clearer thing to report.
        if kinds.get(code) != "current":
            kinds[code] = kind

    def resolve(self, name: str | None, code: str | None) -> Resolution:
        """Resolve a party as rules.md orders it; never guess between candidates."""
        typed = normalise_credit_code(code)
        if typed is None:
            why = "no credit code"
        elif len(typed) == 18:
            # The register wins over the checksum: some early real codes fail it.
            if typed in self._current_name:
                return Resolution(
                    typed,
                    "resolved",
                    "register",
                    f"credit code {typed} is in the register ({self._current_name[typed]})",
                )
            if passes_gb32100(typed):
                return Resolution(
                    typed,
                    "resolved",
                    "code",
                    f"credit code {typed} is not in the register but passes the GB 32100 check",
                )
            why = f"credit code {typed} is not in the register and fails the GB 32100 check"
        elif is_legacy_number(typed):
            codes = sorted(self._codes_by_legacy.get(typed, ()))
            if len(codes) == 1:
                return Resolution(
                    codes[0],
                    "resolved",
                    "legacy",
                    f"15-digit 注册号 {typed} matched register entry {self._describe(codes[0])}",
                )
            if codes:
                listed = "; ".join(self._describe(c) for c in codes)
                return Resolution(
                    None,
                    "ambiguous",
                    None,
                    f"15-digit 注册号 {typed} matched {len(codes)} register entries: {listed}",
                )
            why = f"15-digit 注册号 {typed} matched no register entry"
        else:
            why = f"code {typed!r} is neither an 18-character credit code nor a 15-digit 注册号"
        return self._resolve_by_name(name, why)

    def _resolve_by_name(self, name: str | None, why: str) -> Resolution:
        key = normalise_name(name)
        if key is None:
            return Resolution(None, "absent", None, f"{why}; no name to match")
        only = self._one_current.get(key)
        matches = {only: "current"} if only is not None else self._codes_by_name.get(key)
        if not matches:
            return Resolution(
                None,
                "absent",
                None,
                f'{why}; name "{key}" matched no current or former name in the register',
            )
        if len(matches) == 1:
            [(code, kind)] = matches.items()
            return Resolution(
                code,
                "resolved",
                "name",
                f'{why}; name "{key}" is the {kind} name of {self._describe(code)}',
            )
        listed = "; ".join(
            f"{self._describe(code)}, {matches[code]} name" for code in sorted(matches)
        )
        return Resolution(
            None,
            "ambiguous",
            None,
            f'{why}; name "{key}" matched {len(matches)} companies: {listed}',
        )

    def _describe(self, code: str) -> str:
        return f"{code} ({self._current_name[code]})"
