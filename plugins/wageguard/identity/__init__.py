"""Who is who: credit codes, enterprise names, investment codes and person ID numbers as
rules.md ("Entities") normalises them, and resolving a project party against the register."""

from .credit_code import (
    gb32100_check_char,
    is_legacy_number,
    normalise_credit_code,
    passes_gb32100,
)
from .investment_code import normalise_investment_code
from .names import normalise_name
from .person_id import mask_person_id
from .resolve import Register, RegisterEntry, Resolution

__all__ = [
    "Register",
    "RegisterEntry",
    "Resolution",
    "gb32100_check_char",
    "is_legacy_number",
    "mask_person_id",
    "normalise_credit_code",
    "normalise_investment_code",
    "normalise_name",
    "passes_gb32100",
]
