"""Normalisation of Russian citizen text: what the matcher and the bot see."""

from __future__ import annotations

import pytest

from faq import Matcher, lexicon, normalize_text
from faq.layout import to_cyrillic
from faq.normalize import analyze, lemmatize_phrase


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("ghbdtn", "привет"),
        ("rfr gjkexbnm gjcj,bt&", "как получить пособие"),
        ("GHBDTN", "привет"),
    ],
)
def test_wrong_keyboard_layout_is_retyped(typed: str, meant: str) -> None:
    assert normalize_text(typed) == normalize_text(meant)
    assert analyze(typed).layout_fixed


def test_layout_map_covers_punctuation_keys() -> None:
    assert to_cyrillic("[];',.`") == "хъжэбюё"


def test_english_text_is_not_retyped() -> None:
    analysis = analyze("Hello, how are you?")
    assert not analysis.layout_fixed
    assert analysis.lemmas == ("hello", "how", "are", "you")


def test_one_word_in_wrong_layout_inside_russian_text() -> None:
    assert analyze("как получить gjcj,bt").lemmas[-1] == "пособие"


def test_case_yo_punctuation_and_emoji() -> None:
    assert normalize_text("ЁЛКА!!! Ёжик, 😀👍 ребёнок?") == "елка ежик ребенок"


def test_lemmas_and_suppletive_forms() -> None:
    assert normalize_text("детей получили выплаты") == "ребенок получить выплата"


def test_substantivised_adjective_and_adverb_get_adjective_lemma() -> None:
    assert analyze("пожилого").lemmas == analyze("пожилые").lemmas == ("пожилой",)
    assert analyze("повторно").lemmas == analyze("повторная").lemmas


@pytest.mark.parametrize(
    ("text", "lemmas"),
    [
        ("от 3-7 лет", ("от", "3", "7", "год")),
        ("10 000 рублей", ("10000", "рубль")),
        ("1 500 000", ("1500000",)),
        ("трёх детей", ("3", "ребенок")),
        ("трех и семи", ("3", "и", "7")),
        ("двое детей", ("2", "ребенок")),
    ],
)
def test_numbers(text: str, lemmas: tuple[str, ...]) -> None:
    assert analyze(text).lemmas == lemmas


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("прививка", "вакцинация"),
        ("укол", "вакцина"),
        ("пособие", "выплаты"),
        ("QR-код", "кьюар"),
        ("куар код", "сертификат"),
        ("пенсионный фонд", "СФР"),
        ("соцфонд", "ПФР"),
        ("полис ОМС", "полис"),
        ("портал госуслуг", "гос услуги"),
        ("детский", "дети"),
        ("многофункциональный центр", "МФЦ"),
    ],
)
def test_builtin_synonyms_share_one_canonical_term(variant: str, canonical: str) -> None:
    assert analyze(variant).terms == analyze(canonical).terms
    assert len(analyze(variant).terms) == 1


def test_file_synonyms_including_multi_word(mini_matcher: Matcher) -> None:
    assert mini_matcher.analyze("ежемесячка").terms == ("ежемесячный", "выплата")
    assert mini_matcher.analyze("ежемесячное пособие").terms == ("ежемесячный", "выплата")
    # the file group is written over the built-in vocabulary: вакцинация = прививка
    assert mini_matcher.analyze("отвод от вакцинации").terms == ("медотвод",)


def test_stop_words_and_politeness_go_but_intent_words_stay() -> None:
    terms = analyze(
        "Здравствуйте! Подскажите, пожалуйста, как, когда, где и кто не может, "
        "можно ли и сколько, нет?"
    ).terms
    assert terms == (
        "как",
        "когда",
        "где",
        "кто",
        "не",
        "можно",
        "можно",
        "сколько",
        "нет",
        "не_можно",  # the negated verb as one more term
    )


def test_negated_word_becomes_an_extra_term() -> None:
    assert analyze("не пришло пособие").terms == ("не", "прийти", "выплата", "не_прийти")
    assert "не_прийти" not in analyze("когда придёт пособие").terms
    assert analyze("не пришло").lemmas == ("не", "прийти")  # normalize_text is unchanged


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("садик", "детский сад"),
        ("детсад", "детский сад"),
        ("первоклассник", "школа"),
        ("первый класс", "школа"),
        ("малыш", "ребёнок"),
        ("младенец", "ребёнок"),
        ("укол", "прививка"),
        ("ковидный", "коронавирус"),
        ("бустер", "ревакцинация"),
        ("повторно прививаться", "повторная прививка"),
        ("освобождение от прививки", "медотвод"),
        ("единоразово", "одной суммой"),
        ("пенсионерам", "пожилым"),
        ("колбасит", "побочка"),
        ("забронировать", "записаться"),
        ("снять запись", "отменить запись"),
        ("поменять", "сменить"),
        ("перерасчёт", "пересчитать"),
        ("из Казахстана", "иностранец"),
        ("мигрантам", "иностранцам"),
        ("сертик", "сертификат"),
        ("доки", "документы"),
        ("нету", "нет"),
    ],
)
def test_colloquial_words_share_a_term_with_the_usual_ones(variant: str, canonical: str) -> None:
    terms = set(analyze(variant).terms) - {"не_можно"}
    assert terms == set(analyze(canonical).terms)


def test_phrase_rules_see_words_already_unified() -> None:
    # «деньги» alone is a payment, but «за деньги» is still the price
    assert analyze("деньги").terms == ("выплата",)
    assert analyze("за деньги").terms == ("стоимость",)
    # «детский» alone is «ребёнок», «детский сад» stays a kindergarten
    assert analyze("детский").terms == ("ребенок",)
    assert analyze("детский сад").terms == ("детский", "сад")


def test_builtin_groups_do_not_claim_the_same_phrase_twice() -> None:
    owner: dict[tuple[str, ...], tuple[str, ...]] = {}
    for canonical, variants in lexicon.SYNONYMS.items():
        target = lemmatize_phrase(canonical)
        for variant in (canonical, *variants):
            key = lemmatize_phrase(variant)
            assert owner.setdefault(key, target) == target, variant


def test_greeting_only_has_no_terms_but_normalize_text_keeps_it() -> None:
    assert analyze("Добрый день! Спасибо большое 🙏").terms == ()
    assert normalize_text("Здравствуйте!!! 👋") == "здравствуйте"
    assert "добрый день" in normalize_text("Добрый день")


def test_slang_is_spelled_out_before_lemmatising() -> None:
    assert analyze("скока платят").terms == analyze("сколько платят").terms


def test_merged_negation_is_split() -> None:
    assert analyze("непришло").lemmas == ("не", "прийти")


@pytest.mark.parametrize(
    ("typo", "word"),
    [
        ("прививку", "превивку"),
        ("выплату", "выплоту"),
        ("вакцинации", "вокцинации"),
        ("многофункциональный", "многофункцианальный"),
    ],
)
def test_typos_are_snapped_to_faq_vocabulary(mini_matcher: Matcher, typo: str, word: str) -> None:
    assert mini_matcher.analyze(word).terms == mini_matcher.analyze(typo).terms


def test_real_words_are_not_corrected(mini_matcher: Matcher) -> None:
    analysis = mini_matcher.analyze("загранпаспорт")
    assert analysis.corrections == ()
    assert analysis.terms == ("загранпаспорт",)


def test_typo_correction_keeps_the_first_letter(mini_matcher: Matcher) -> None:
    assert mini_matcher.speller.correct("укольчик") is None or (
        mini_matcher.speller.correct("укольчик") or ""
    ).startswith("у")


def test_stress_accents_and_decomposed_letters_read_as_plain_words() -> None:
    accented = "Как получить посо\u0301бие на ребе\u0308нка?"  # stress mark; decomposed «ё»
    assert analyze(accented).terms == analyze("Как получить пособие на ребёнка?").terms
    assert "й" in analyze("и\u0306од").text  # «й» typed as и + breve stays «й»
