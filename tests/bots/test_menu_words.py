"""Bare topic words ("пособие", "сертификат") open the bot's menu instead of a search."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.menu_words import MENU_WORDS_FILE, MenuChoice, MenuWords, MenuWordsError, load_menus
from bots.smalltalk import SmallTalk, SmallTalkError
from bots.topic import Suite, Topic

ROOT = Path(__file__).resolve().parents[2]
BOTS = ROOT / "bots"



@pytest.fixture(scope="module")
def menus(smalltalk: SmallTalk) -> dict[str, MenuWords]:
    suite = Suite({name: Topic.load(BOTS, name) for name in ("payments", "vaccination")})
    return {name: menu.without(smalltalk.filler) for name, menu in load_menus(suite).items()}


def opens(menus: dict[str, MenuWords], smalltalk: SmallTalk, bot: str,
          text: str) -> MenuChoice | None:
    return menus[bot].find(smalltalk.content(text))


@pytest.mark.parametrize(
    ("bot", "text"),
    [("payments", "пособие"), ("payments", "Выплаты"), ("payments", "пособие на ребёнка"),
     ("payments", "ну пособие, пожалуйста"), ("vaccination", "прививка"),
     ("vaccination", "Вакцина?"), ("vaccination", "ковид")],
)
def test_a_topic_word_opens_the_list_of_sections(menus: dict[str, MenuWords],
                                                 smalltalk: SmallTalk, bot: str,
                                                 text: str) -> None:
    assert opens(menus, smalltalk, bot, text) == MenuChoice(category=None)


@pytest.mark.parametrize("text", ["сертификат", "QR код", "qr-код", "куар код"])
def test_a_word_naming_a_section_opens_its_questions(menus: dict[str, MenuWords],
                                                    smalltalk: SmallTalk, text: str) -> None:
    assert opens(menus, smalltalk, "vaccination", text) == MenuChoice("Сертификаты и QR-коды")


@pytest.mark.parametrize(
    ("bot", "text"),
    [("payments", "как получить пособие"), ("payments", "пособие не пришло"),
     ("vaccination", "где сделать прививку"), ("vaccination", "сертификат не пришёл"),
     ("payments", "прививка")],  # another bot's word is not this bot's menu
)
def test_a_question_with_a_topic_word_is_not_a_menu(menus: dict[str, MenuWords],
                                                     smalltalk: SmallTalk, bot: str,
                                                     text: str) -> None:
    assert opens(menus, smalltalk, bot, text) is None


def test_a_bot_without_the_file_has_no_menu_words(tmp_path: Path) -> None:
    assert MenuWords.load(tmp_path / MENU_WORDS_FILE, ["Раздел"]).find(("пособие",)) is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("topic: [пособие\n", "не удалось прочитать"),
        ("topic: пособие\n", "«topic» должен быть списком"),
        ("topics: [пособие]\n", "неизвестные ключи topics"),
        ("categories: [документы]\n", "«categories» — это «название раздела: \\[слова\\]»"),
        ("categories:\n  Документы: [документы]\n", "раздела «Документы» нет в FAQ"),
        ("categories:\n  Раздел: документы\n", "«categories.Раздел» должен быть списком"),
        ("topic: ['!!!']\n", "в фразе нет слов"),
    ],
)
def test_a_broken_file_is_refused_with_the_file_and_the_reason(
        tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / MENU_WORDS_FILE
    path.write_text(content, encoding="utf-8")
    with pytest.raises(MenuWordsError, match=message) as caught:
        MenuWords.load(path, ["Раздел"])
    assert str(path) in str(caught.value)
    assert isinstance(caught.value, SmallTalkError)  # stops start-up like smalltalk.yaml
