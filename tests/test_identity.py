"""The identity rules of rules.md ("Entities", and masking from "What goes out")."""

from __future__ import annotations

import pytest
from wageguard.identity import (
    Register,
    RegisterEntry,
    gb32100_check_char,
    is_legacy_number,
    mask_person_id,
    normalise_credit_code,
    normalise_investment_code,
    normalise_name,
    passes_gb32100,
)

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def valid_code(first17: str) -> str:
    return first17 + gb32100_check_char(first17)


def failing_code(first17: str) -> str:
    """The same 17 characters with a wrong check character."""
    right = gb32100_check_char(first17)
    return first17 + ("1" if right != "1" else "2")


# --- credit codes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",  # the example in the brief
        "914403001922038216",  # 华为技术有限公司
        "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
        "91330100716105852F",  # 阿里巴巴（中国）有限公司
    ],
)
def test_known_public_codes_pass(code):
    assert passes_gb32100(code)


def test_check_value_31_becomes_0():
    # These 17 characters sum to a multiple of 31, so 31 − 0 = 31 must wrap to "0".
    assert gb32100_check_char("91150203MA0000022") == "0"
    assert passes_gb32100("91150203MA00000220")


def test_check_value_30_is_the_last_letter_of_the_alphabet():
    assert gb32100_check_char("91150203MA0000012") == "Y"
    assert passes_gb32100("91150203MA0000012Y")


def test_all_zero_code_passes():
    assert passes_gb32100("0" * 18)


def test_every_other_check_character_fails():
    first17 = "91150203MA0N2KQ5X"
    right = gb32100_check_char(first17)
    assert passes_gb32100(first17 + right)
    for ch in ALPHABET.replace(right, ""):
        assert not passes_gb32100(first17 + ch), ch


def test_any_single_substitution_in_the_body_fails():
    code = valid_code("91150203MA0N2KQ5X")
    for position in range(17):
        for ch in ALPHABET.replace(code[position], ""):
            typo = code[:position] + ch + code[position + 1 :]
            assert not passes_gb32100(typo), typo


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_letters_outside_the_alphabet_fail(letter):
    code = valid_code("91150203MA0N2KQ5X")
    assert not passes_gb32100(code[:8] + letter + code[9:])
    assert not passes_gb32100(code[:17] + letter)


def test_wrong_length_fails():
    code = valid_code("91150203MA0N2KQ5X")
    assert not passes_gb32100(code[:17])
    assert not passes_gb32100(code + "0")
    assert not passes_gb32100("")


def test_check_expects_a_normalised_code():
    code = valid_code("91150203MA0N2KQ5X")
    assert not passes_gb32100(code.lower())
    assert not passes_gb32100(f" {code}")
    assert passes_gb32100(normalise_credit_code(f" {code.lower()} "))


@pytest.mark.parametrize("first17", ["91150203MA0N2KQ5", "91150203MA0N2KQ5XX", "91150203MA0N2KQ5I"])
def test_check_char_refuses_anything_but_17_alphabet_characters(first17):
    with pytest.raises(ValueError):
        gb32100_check_char(first17)


def test_normalise_credit_code():
    assert normalise_credit_code("  91350100m000100y43\t") == "91350100M000100Y43"
    assert normalise_credit_code("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"
    assert normalise_credit_code("\u300091350100M000100Y43\u3000") == "91350100M000100Y43"
    # Only the ends are trimmed: a space inside is a typing error the report should show.
    assert normalise_credit_code("91350100 M000100Y43") == "91350100 M000100Y43"


@pytest.mark.parametrize("blank", [None, "", "   ", "\u3000", "\n"])
def test_blank_credit_code_is_none(blank):
    assert normalise_credit_code(blank) is None


def test_legacy_number():
    assert is_legacy_number("150203000012345")
    assert not is_legacy_number("15020300001234")
    assert not is_legacy_number("1502030000123456")
    assert not is_legacy_number("15020300001234X")
    assert not is_legacy_number("150203000012345\n")
    assert is_legacy_number(normalise_credit_code("１５０２０３００００１２３４５"))


# --- names ------------------------------------------------------------------------------


def test_brackets_of_either_width_are_one_bracket():
    ascii_form = "阿里巴巴(中国)有限公司"
    assert normalise_name("阿里巴巴（中国）有限公司") == ascii_form
    assert normalise_name("阿里巴巴(中国）有限公司") == ascii_form
    assert normalise_name("阿里巴巴（中国)有限公司") == ascii_form


def test_all_whitespace_is_removed():
    expected = "包头市鹿城建设(集团)有限公司"
    assert normalise_name(" 包头市 鹿城建设（集团）\u3000有限公司\t") == expected
    assert normalise_name("包头市\u00a0鹿城建设\n(集团) 有限 公司") == expected


def test_full_width_letters_fold_but_case_is_kept():
    assert normalise_name("ＡＢＣ建设有限公司") == "ABC建设有限公司"
    assert normalise_name("abc建设有限公司") == "abc建设有限公司"
    assert normalise_name("ABC建设有限公司") != normalise_name("abc建设有限公司")


def test_other_brackets_are_not_brackets():
    assert normalise_name("包头【集团】有限公司") == "包头【集团】有限公司"


@pytest.mark.parametrize("blank", [None, "", "  ", "\u3000\t"])
def test_blank_name_is_none(blank):
    assert normalise_name(blank) is None


# --- resolution -------------------------------------------------------------------------

EARLY = failing_code("91150200114000001")  # a real-looking early code that fails the check
LUCHENG = valid_code("91150203MA0N2KQ5X")
XINGHE = valid_code("91150203MA0R7B1C2")
HONGSHAN = valid_code("91150900MA13JK8W3")
TWIN_A = valid_code("91150200MA00TW1N1")
TWIN_B = valid_code("91150900MA00TW1N2")
SHARED_A = valid_code("91150200MA0HRD001")
SHARED_B = valid_code("91150200MA0HRD002")
KEPT = valid_code("91150200MA0KEPT01")
UNREGISTERED = valid_code("91150300MA0NEW001")


ENTRIES = [
    RegisterEntry(EARLY, "包头钢铁建设有限责任公司", (), "150200000000001"),
    RegisterEntry(
        LUCHENG,
        "包头市鹿城建设（集团）有限公司",
        ("包头市鹿城建筑有限公司",),
        "150203000012345",
    ),
    # Xinghe now carries the name Hongshan gave up: the name is ambiguous.
    RegisterEntry(XINGHE, "内蒙古兴和建工有限公司", ("内蒙古红山建筑有限公司",), None),
    RegisterEntry(HONGSHAN, "内蒙古红山建筑有限公司", (), None),
    # Two companies in different cities with the same name.
    RegisterEntry(TWIN_A, "鑫盛建筑劳务有限公司", (), None),
    RegisterEntry(TWIN_B, "鑫盛建筑劳务有限公司", (), None),
    # One 注册号 carried by two entries (a split, or an office's typo).
    RegisterEntry(SHARED_A, "包头甲建设有限公司", (), "150200000099999"),
    RegisterEntry(SHARED_B, "包头乙建设有限公司", (), "150200000099999"),
    # Changed its name and then changed it back.
    RegisterEntry(KEPT, "包头恒久建设有限公司", ("包头恒久建设有限公司",), None),
    RegisterEntry("", "无代码建设有限公司", (), None),
]


@pytest.fixture(scope="module")
def register():
    return Register(ENTRIES)


def test_register_code_resolves_even_when_it_fails_the_checksum(register):
    assert not passes_gb32100(EARLY)
    r = register.resolve("随便写的名字", EARLY)
    assert (r.credit_code, r.status, r.method) == (EARLY, "resolved", "register")
    assert EARLY in r.detail


def test_register_is_tried_before_the_checksum(register):
    r = register.resolve(None, LUCHENG)
    assert (r.credit_code, r.status, r.method) == (LUCHENG, "resolved", "register")


def test_register_code_is_normalised_before_lookup(register):
    typed = " " + LUCHENG.lower().translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    r = register.resolve(None, typed)
    assert (r.credit_code, r.method) == (LUCHENG, "register")


def test_code_outside_the_register_that_passes_the_check_resolves_by_code(register):
    r = register.resolve("某新成立建设有限公司", UNREGISTERED)
    assert (r.credit_code, r.status, r.method) == (UNREGISTERED, "resolved", "code")
    assert "GB 32100" in r.detail


def test_code_wins_over_a_conflicting_name(register):
    # The code is valid, so the name is not consulted: a code is what identifies a company.
    r = register.resolve("内蒙古红山建筑有限公司", LUCHENG)
    assert (r.credit_code, r.method) == (LUCHENG, "register")


def test_invalid_code_falls_back_to_the_name(register):
    typo = failing_code(LUCHENG[:17])
    r = register.resolve("包头市鹿城建设(集团)有限公司", typo)
    assert (r.credit_code, r.status, r.method) == (LUCHENG, "resolved", "name")
    assert typo in r.detail and "fails the GB 32100 check" in r.detail


def test_invalid_code_and_unknown_name_is_absent(register):
    r = register.resolve("查无此公司", failing_code(UNREGISTERED[:17]))
    assert (r.credit_code, r.status, r.method) == (None, "absent", None)


def test_malformed_code_falls_back_to_the_name(register):
    r = register.resolve("内蒙古兴和建工有限公司", "91150203MA")
    assert (r.credit_code, r.method) == (XINGHE, "name")
    assert "neither an 18-character credit code nor a 15-digit 注册号" in r.detail


def test_fifteen_characters_with_a_letter_are_not_a_legacy_number(register):
    r = register.resolve("内蒙古兴和建工有限公司", "15020300001234X")
    assert (r.credit_code, r.method) == (XINGHE, "name")


def test_unique_legacy_number_resolves(register):
    r = register.resolve(None, "150203000012345")
    assert (r.credit_code, r.status, r.method) == (LUCHENG, "resolved", "legacy")
    assert "150203000012345" in r.detail


def test_legacy_number_wins_over_a_conflicting_name(register):
    r = register.resolve("内蒙古兴和建工有限公司", "１５０２０３００００１２３４５")
    assert (r.credit_code, r.method) == (LUCHENG, "legacy")


def test_legacy_number_of_a_company_that_fails_the_checksum(register):
    r = register.resolve(None, "150200000000001")
    assert (r.credit_code, r.method) == (EARLY, "legacy")


def test_unmatched_legacy_number_falls_back_to_the_name(register):
    r = register.resolve("内蒙古兴和建工有限公司", "150203999999999")
    assert (r.credit_code, r.status, r.method) == (XINGHE, "resolved", "name")
    assert "15-digit 注册号 150203999999999 matched no register entry" in r.detail


def test_unmatched_legacy_number_and_ambiguous_name(register):
    r = register.resolve("鑫盛建筑劳务有限公司", "150203000012346")
    assert (r.credit_code, r.status, r.method) == (None, "ambiguous", None)
    assert r.detail.startswith(
        "15-digit 注册号 150203000012346 matched no register entry; "
        'name "鑫盛建筑劳务有限公司" matched 2 companies: '
    )


def test_legacy_number_of_several_entries_is_ambiguous_without_trying_the_name(register):
    r = register.resolve("包头甲建设有限公司", "150200000099999")
    assert (r.credit_code, r.status, r.method) == (None, "ambiguous", None)
    assert SHARED_A in r.detail and SHARED_B in r.detail


def test_missing_code_resolves_by_current_name(register):
    r = register.resolve("内蒙古兴和建工有限公司", None)
    assert (r.credit_code, r.status, r.method) == (XINGHE, "resolved", "name")
    assert "no credit code" in r.detail and "current name" in r.detail


def test_missing_code_resolves_by_former_name(register):
    r = register.resolve("包头市鹿城建筑有限公司", "")
    assert (r.credit_code, r.status, r.method) == (LUCHENG, "resolved", "name")
    assert "former name" in r.detail


def test_full_width_brackets_and_inner_spaces_still_match(register):
    r = register.resolve(" 包头市 鹿城建设 (集团) 有限公司 ", None)
    assert (r.credit_code, r.method) == (LUCHENG, "name")


def test_name_matching_does_not_fold_case():
    reg = Register([RegisterEntry(LUCHENG, "ABC建设有限公司")])
    assert reg.resolve("ABC建设有限公司", None).credit_code == LUCHENG
    assert reg.resolve("abc建设有限公司", None).status == "absent"


def test_current_name_of_one_and_former_name_of_another_is_ambiguous(register):
    r = register.resolve("内蒙古红山建筑有限公司", None)
    assert (r.credit_code, r.status, r.method) == (None, "ambiguous", None)
    assert f"{HONGSHAN} (内蒙古红山建筑有限公司), current name" in r.detail
    assert f"{XINGHE} (内蒙古兴和建工有限公司), former name" in r.detail


def test_same_current_name_of_two_companies_is_ambiguous(register):
    r = register.resolve("鑫盛建筑劳务有限公司", None)
    assert r.status == "ambiguous"
    assert TWIN_A in r.detail and TWIN_B in r.detail


def test_name_that_is_current_and_former_of_one_company_resolves(register):
    r = register.resolve("包头恒久建设有限公司", None)
    assert (r.credit_code, r.status, r.method) == (KEPT, "resolved", "name")
    assert "current name" in r.detail


def test_a_name_resolves_alike_whatever_order_the_register_lists_companies_in(register):
    """A name's companies are indexed as entries come: a name first seen as
    one company's current name, then another's, or a former name first, ends
    the same."""
    names = ["内蒙古红山建筑有限公司", "鑫盛建筑劳务有限公司", "包头恒久建设有限公司",
             "包头市鹿城建筑有限公司", "包头钢铁建设有限责任公司"]
    backward = Register(reversed(ENTRIES))
    for name in names:
        assert backward.resolve(name, None) == register.resolve(name, None), name


def test_unknown_name_without_code_is_absent(register):
    r = register.resolve("查无此公司", None)
    assert (r.credit_code, r.status, r.method) == (None, "absent", None)
    assert "matched no current or former name" in r.detail


def test_nothing_to_go_on_is_absent(register):
    r = register.resolve("  ", None)
    assert (r.credit_code, r.status, r.method) == (None, "absent", None)
    assert "no name to match" in r.detail


def test_entry_without_a_code_is_not_a_match(register):
    assert register.resolve("无代码建设有限公司", None).status == "absent"


def test_register_resolves_a_province_sized_register():
    entries = [
        RegisterEntry(
            valid_code(f"9115020{i:010d}"),
            f"包头市第{i}建设有限公司",
            (f"包头市第{i}建筑有限公司",),
            f"150200{i:09d}",
        )
        for i in range(50_000)
    ]
    reg = Register(entries)
    lookups = [(f"包头市第{i % 50_000}建筑有限公司", None) for i in range(50_000)]
    lookups += [(None, f"150200{i:09d}") for i in range(25_000)]
    lookups += [(None, entries[i].credit_code.lower()) for i in range(25_000)]
    results = [reg.resolve(name, code) for name, code in lookups]
    assert all(r.status == "resolved" for r in results)
    assert results[49_999].credit_code == entries[49_999].credit_code


# --- investment codes -------------------------------------------------------------------

CANONICAL = "2024-150203-47-01-000123"


@pytest.mark.parametrize(
    "typed",
    [
        CANONICAL,
        f"  {CANONICAL}\n",
        "2024 150203 47 01 000123",
        "2024/150203/47/01/000123",
        "2024_150203.47.01 - 000123",
        "2024－150203－47－01－000123",  # full-width hyphen
        "2024—150203—47—01—000123",  # em dash, which NFKC leaves alone
        "２０２４-１５０２０３-４７-０１-０００１２３",  # full-width digits
        "-2024-150203-47-01-000123-",
        "项目代码：2024-150203-47-01-000123",
        "20241502034701000123",
        " 20241502034701000123 ",
        "２０２４１５０２０３４７０１０００１２３",
    ],
)
def test_investment_code_shapes_that_normalise(typed):
    assert normalise_investment_code(typed) == CANONICAL


@pytest.mark.parametrize(
    "typed",
    [
        None,
        "",
        "   ",
        "2024150203470100012",  # 19 bare digits
        "202415020347010001234",  # 21 bare digits
        "2024-150203-47-01-00012",  # last group short
        "2024-150203-47-01-0001234",  # last group long
        "2024-15020-347-01-000123",  # right digits, wrong grouping: not regrouped
        "2024-150203-4701-000123",  # a group missing
        "2024-150203-47-01-000123-1",  # a group too many
        "2024-15O203-47-01-000123",  # letter O for zero
        "2024150203 4701000123",  # 20 digits, but not bare
        "٢٠٢٤-١٥٠٢٠٣-٤٧-٠١-٠٠٠١٢٣",  # Arabic-Indic digits are not ASCII digits
    ],
)
def test_investment_code_shapes_that_do_not(typed):
    assert normalise_investment_code(typed) is None


# --- person ID numbers ------------------------------------------------------------------


def test_unmasked_and_masked_give_the_same_result():
    assert mask_person_id("150203199001011234") == "150203********1234"
    assert mask_person_id("150203********1234") == "150203********1234"
    assert mask_person_id("150203××××××××1234") == "150203********1234"


def test_masking_normalises_first():
    assert mask_person_id(" １５０２０３１９９００１０１１２３ｘ ") == "150203********123X"
    assert mask_person_id("15020319900101123x") == mask_person_id("15020319900101123X")


def test_old_fifteen_digit_id_is_masked():
    assert mask_person_id("150203900101123") == "150203*****1123"


@pytest.mark.parametrize("short", ["15020390010112", "1502031234", "12345"])
def test_too_short_to_mask_safely_is_all_stars(short):
    assert mask_person_id(short) == "*" * len(short)


@pytest.mark.parametrize("blank", [None, "", "  ", "\u3000"])
def test_blank_person_id_is_none(blank):
    assert mask_person_id(blank) is None
