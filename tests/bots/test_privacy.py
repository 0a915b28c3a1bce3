"""Personal numbers in citizens' messages: what is found and masked, and what is left alone."""

from __future__ import annotations

import pytest

from escalation.privacy import (
    Found,
    Kind,
    find_personal_numbers,
    has_personal_numbers,
    inn_valid,
    is_masked,
    luhn_valid,
    mask,
    snils_valid,
)


def with_luhn(prefix: str) -> str:
    """``prefix`` and the Luhn check digit that makes it a valid card number."""
    return next(prefix + d for d in "0123456789" if luhn_valid(prefix + d))


def with_snils_check(nine: str) -> str:
    total = sum(int(d) * w for d, w in zip(nine, range(9, 0, -1), strict=True))
    if total > 101:
        total %= 101
    return nine + f"{0 if total in (100, 101) else total:02d}"


def grouped(digits: str, *sizes: int, sep: str = " ") -> str:
    parts, position = [], 0
    for size in sizes:
        parts.append(digits[position:position + size])
        position += size
    return sep.join(parts)


MIR = with_luhn("220012345678901")  # 16 digits, МИР
VISA = "4111111111111111"
SNILS = with_snils_check("112233445")  # 11223344595
SNILS_PHONE_LIKE = with_snils_check("891612345")
INN_PERSON = "500100732259"
INN_ORG = "7707083893"


def kinds(text: str) -> list[str]:
    return [found.kind.value for found in find_personal_numbers(text)]


def test_checksums() -> None:
    assert luhn_valid(VISA)
    assert luhn_valid(MIR)
    assert not luhn_valid(VISA[:-1] + "2")
    assert snils_valid(SNILS)
    assert snils_valid("00000000000")  # sum 0, check 00
    assert not snils_valid(SNILS[:-1] + "6")
    assert inn_valid(INN_PERSON)
    assert inn_valid(INN_ORG)
    assert not inn_valid(INN_PERSON[:-1] + "0")
    assert not inn_valid("12345")


# --- bank cards -------------------------------------------------------------------------------

@pytest.mark.parametrize("written", [
    grouped(VISA, 4, 4, 4, 4),
    grouped(VISA, 4, 4, 4, 4, sep="-"),
    VISA,
    grouped(MIR, 4, 4, 4, 4),
    grouped(MIR, 4, 4, 4, 4, sep="\u00a0"),
    with_luhn("37828224631000"),  # Amex, 15 digits in one piece
    grouped(with_luhn("37828224631000"), 4, 6, 5),
    grouped(with_luhn("220012345678901234"), 4, 4, 4, 4, 3),  # 19 digits
])
def test_card_numbers_are_found(written: str) -> None:
    text = f"Списали деньги с карты {written}, верните"
    found = find_personal_numbers(text)
    assert found == [Found(Kind.CARD, text.index(written), text.index(written) + len(written))]
    masked = mask(text)
    digits = "".join(c for c in written if c.isdigit())
    assert masked == f"Списали деньги с карты [карта •••• {digits[-4:]}], верните"


@pytest.mark.parametrize("text", [
    f"Карта {grouped(VISA[:-1] + '2', 4, 4, 4, 4)}",  # Luhn fails
    f"Номер {with_luhn('1234567890123')}",  # 14 digits, no card starts with 1
    f"Номер {with_luhn('923456789012345')}",  # nor with 9
    f"Заявление {with_luhn('42345678901')}",  # 12 digits: too short
    f"Счёт {with_luhn('4081781009991000431')}",  # 20 digits: an account, not a card
    "Сумма 2 500 000 000 000 000 рублей",  # thousands, not card groups
    f"Перевод {grouped(VISA, 4, 4, 4, 4)}0",  # glued to more digits
    "Позвоните +7 916 123-45-67 или 8 (800) 555-35-35",
])
def test_not_card_numbers(text: str) -> None:
    assert kinds(text) == []
    assert mask(text) == text


def test_card_next_to_a_year_is_still_found() -> None:
    text = f"карта {grouped(VISA, 4, 4, 4, 4)} 2025"
    assert kinds(text) == ["card"]
    assert mask(text) == "карта [карта •••• 1111] 2025"


def test_card_is_not_taken_for_a_card_shaped_amount() -> None:
    amount = grouped(VISA, 4, 4, 4, 4)
    assert kinds(f"Выплата {amount} руб.") == []


# --- СНИЛС -------------------------------------------------------------------------------------

@pytest.mark.parametrize("written", [
    grouped(SNILS, 3, 3, 3, 2, sep="-").rsplit("-", 1)[0] + " " + SNILS[-2:],  # 112-233-445 95
    grouped(SNILS, 3, 3, 3, 2, sep="-"),  # 112-233-445-95
    "123-456-789 01",  # the СНИЛС layout is enough, even with a mistyped check number
    grouped(SNILS, 3, 3, 3, 2),  # spaces: checksum
    SNILS,  # one piece: checksum
])
def test_snils_is_found(written: str) -> None:
    text = f"Мой номер {written}, проверьте"
    assert kinds(text) == ["snils"]
    assert mask(text) == "Мой номер [СНИЛС скрыт], проверьте"


def test_snils_keyword_covers_a_mistyped_number() -> None:
    assert mask("СНИЛС: 12345678900") == "СНИЛС: [СНИЛС скрыт]"
    assert mask("снилс 123 456 789 00") == "снилс [СНИЛС скрыт]"


@pytest.mark.parametrize("text", [
    "Номер 12345678900",  # checksum fails, no keyword
    "Код 123 456 789 00",
    f"Позвоните {SNILS_PHONE_LIKE}",  # valid checksum, but 8… in one piece is a phone
    "Позвоните 89161234567 или +79161234567",
    "Телефон 8-916-123-45-67",
    "Обращение № 12345678901",  # "№" does not say СНИЛС; checksum fails
])
def test_not_snils(text: str) -> None:
    assert kinds(text) == []


def test_phone_like_snils_after_the_keyword() -> None:
    assert kinds(f"СНИЛС {SNILS_PHONE_LIKE}") == ["snils"]


# --- ИНН ---------------------------------------------------------------------------------------

def test_inn_of_a_person_is_found_by_its_checksum() -> None:
    assert mask(f"мой {INN_PERSON}") == "мой [ИНН скрыт]"


def test_inn_after_the_keyword() -> None:
    assert mask(f"ИНН {INN_ORG}") == "ИНН [ИНН скрыт]"
    assert mask("ИНН: 123456789012") == "ИНН: [ИНН скрыт]"  # mistyped, still an ИНН


@pytest.mark.parametrize("text", [
    f"организация {INN_ORG}",  # 10 digits without the word: an organisation, or a phone
    "номер 123456789012",  # 12 digits, checksum fails
    "Длинное число 500100732250",
    "старинный дом",  # "инн" inside a word
])
def test_not_inn(text: str) -> None:
    assert kinds(text) == []


# --- passport ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Паспорт 45 12 345678 выдан 12.05.2015", "Паспорт [паспорт скрыт] выдан 12.05.2015"),
    ("паспорт: 4512 345678", "паспорт: [паспорт скрыт]"),
    ("паспорт 4512345678", "паспорт [паспорт скрыт]"),
    ("серия 4512 номер 345678", "серия [паспорт скрыт]"),
    ("серия 45 12, номер 345678", "серия [паспорт скрыт]"),
    ("данные: 4512 № 345678", "данные: [паспорт скрыт]"),
    ("4512 345678 — это мой паспорт", "[паспорт скрыт] — это мой паспорт"),
    ("паспортные данные серии 4512 345678", "паспортные данные серии [паспорт скрыт]"),
])
def test_passport_is_found(text: str, expected: str) -> None:
    assert kinds(text) == ["passport"]
    assert mask(text) == expected


@pytest.mark.parametrize("text", [
    "Перезвоните 4512 345678",  # the shape, but no word about a passport
    "номер 4512345678",  # ten digits in one piece need the word «паспорт»
    "номер телефона 9161234567",
    "паспорт 45123456789",  # eleven digits
    "паспорт выдан 12.05.2015, код подразделения 770-001",
    "за 2023 год пришло 150000 рублей",
    "номер обращения 123456",
])
def test_not_passport(text: str) -> None:
    assert kinds(text) == []


# --- everyday numbers --------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Пришло 10 000 рублей, а должно 15 000 ₽",
    "Выплата 1 234 567 руб. за 2024 год",
    "С 01.09.2023 по 31.08.2024, 2023-2024 учебный год",
    "Ребёнку 3 года, родился 12 марта 2021 года",
    "Телефон горячей линии 8 800 100-00-01, +7 (495) 123-45-67",
    "Обращение № 12, вопрос 345678",
    "Счёт 40817810099910004312",
])
def test_everyday_numbers_are_left_alone(text: str) -> None:
    assert find_personal_numbers(text) == []
    assert mask(text) == text


# --- several, and masking twice ----------------------------------------------------------------

def test_several_numbers_in_one_message() -> None:
    text = (f"Паспорт 4512 345678, СНИЛС {SNILS}, ИНН {INN_PERSON}, карта "
            f"{grouped(VISA, 4, 4, 4, 4)}, телефон 89161234567")
    assert kinds(text) == ["passport", "snils", "inn", "card"]
    masked = mask(text)
    assert masked == ("Паспорт [паспорт скрыт], СНИЛС [СНИЛС скрыт], ИНН [ИНН скрыт], "
                      "карта [карта •••• 1111], телефон 89161234567")
    assert mask(masked) == masked
    assert is_masked(masked)
    assert not is_masked(text)


def test_long_text_of_digits_is_quick() -> None:
    text = " ".join(["1"] * 20_000)
    assert find_personal_numbers(text) == []


@pytest.mark.parametrize("marked", [
    "мой па\u0301спорт 4510 123456, выдан в 2015",  # a stress accent in the cue word
    "мой паспорт 4\u03015\u030110 123456, выдан в 2015",  # marks between the digits
])
def test_combining_marks_do_not_hide_a_passport(marked: str) -> None:
    assert has_personal_numbers(marked)
    masked = mask(marked)
    assert "[паспорт скрыт]" in masked
    assert "123456" not in masked
