"""The directory of other services (bots/elsewhere.yaml, an ordinary FAQ file): loading, its
errors, the editor tools, and which questions it takes, with the real encoder for what
citizens would notice."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bots.elsewhere import ELSEWHERE_FILE, Elsewhere, ElsewhereError
from bots.smalltalk import SmallTalkError
from faq import load_faq
from faq.cli import main as faq_cli
from faq.routing import route as faq_route
from tests.semantic import EMBEDDING_CACHE, real_encoder, shipped_matcher

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "bots" / ELSEWHERE_FILE
GOSUSLUGI_FORM = "https://www.gosuslugi.ru/help/obratitsya_v_organy_vlasti"
OTHER = {"payments": "vaccination", "vaccination": "payments"}
DIRECTORY = ""  # the directory among the rivals, as bots.conversation names it


@pytest.fixture(scope="module")
def directory() -> Elsewhere:
    loaded = Elsewhere.load(SHIPPED, encoder=real_encoder(), cache_dir=EMBEDDING_CACHE)
    assert loaded is not None
    return loaded


def route(bot: str, text: str, directory: Elsewhere) -> str:
    """What the bot does with ``text``: the other bot's name, ``offtopic:<service>``, or the
    bot's own decision (as :class:`bots.conversation.Conversation` decides)."""
    local = shipped_matcher(bot)
    mine = local.match(text)
    rivals = {OTHER[bot]: shipped_matcher(OTHER[bot]).match(text),
              DIRECTORY: directory.matcher.match(text)}
    winner = faq_route(mine, rivals, local.hybrid)
    if winner == DIRECTORY:
        return f"offtopic:{rivals[DIRECTORY].candidates[0].entry_id}"
    return winner or mine.decision


def test_the_shipped_directory_lists_services_with_where_to_turn() -> None:
    loaded = Elsewhere.load(SHIPPED)
    assert loaded is not None
    assert len(loaded.channels) >= 6
    city = loaded.channels["city-services"]
    assert city.title.startswith("Городское хозяйство")
    assert "Решаем вместе" in city.where
    assert GOSUSLUGI_FORM in city.where
    every_where = " ".join(c.where for c in loaded.channels.values())
    assert "8-800-100-00-01" in every_where
    assert "122" in every_where


def test_the_directory_is_an_ordinary_faq_file() -> None:
    """The faq library reads it as it is (``python -m faq eval`` takes it as a rival FAQ):
    a service's question is its title, the alternatives how citizens write, the answer
    where to turn."""
    faq = load_faq(SHIPPED)
    city = faq.entry("city-services")
    assert city.question.startswith("Городское хозяйство")
    assert "в подъезде не работает лифт" in city.alternatives
    assert "Решаем вместе" in city.answer


def test_the_editors_lint_finds_no_errors_in_the_shipped_directory(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert faq_cli(["lint", str(SHIPPED), "--encoder", "off"]) == 0
    assert "ошибк" not in capsys.readouterr().out


def test_links_of_a_service_follow_its_where_text(tmp_path: Path) -> None:
    path = tmp_path / ELSEWHERE_FILE
    path.write_text(VALID + "    links:\n      - title: Решаем вместе\n"
                    "        url: https://pos.gosuslugi.ru\n", encoding="utf-8")
    loaded = Elsewhere.load(path)
    assert loaded is not None
    assert loaded.channels["city"].where == (
        "Обращения принимает «Решаем вместе»\nРешаем вместе: https://pos.gosuslugi.ru")


def test_a_missing_file_means_no_directory(tmp_path: Path) -> None:
    assert Elsewhere.load(tmp_path / ELSEWHERE_FILE) is None


def test_without_an_encoder_the_directory_matches_by_words() -> None:
    loaded = Elsewhere.load(SHIPPED)
    assert loaded is not None
    assert loaded.matcher.semantic is None
    result = loaded.matcher.match("в подъезде не работает лифт")
    assert result.decision == "answer"
    assert loaded.channels[result.entry_id or ""].id == "city-services"


VALID = """title: Куда обращаться
entries:
  - id: city
    question: Город
    alternatives: [яма на дороге]
    answer: Обращения принимает «Решаем вместе»
"""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (VALID.replace("question: Город", "question: Город: дороги"),
         ":4: ошибка синтаксиса YAML"),
        ("entries: []\n", ":1: список 'entries' пуст"),
        ("- id: city\n", ":1: файл должен состоять из ключей верхнего уровня"),
        (VALID.replace("    answer: Обращения принимает «Решаем вместе»\n", ""),
         ":3: entry 'city': нет обязательного ключа 'answer'"),
        (VALID.replace("id: city", "id: Город"), ":3: entry 'Город': id 'Город' недопустим"),
        (VALID.replace("question: Город", "question: ''"), ":4: entry 'city': 'question' пусто"),
        (VALID.replace("    question", "    phone: 112\n    question"),
         ":4: entry 'city': неизвестный ключ 'phone'"),
        (VALID + VALID.split("entries:\n")[1],
         ":7: entry 'city': id 'city' уже есть в строке 3"),
        # The format before it became an FAQ file: the editor is told what the file needs.
        ("channels:\n  - id: city\n", ":1: неизвестный ключ 'channels'"),
    ],
)
def test_a_broken_directory_is_refused_with_the_file_line_and_reason(
        tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / ELSEWHERE_FILE
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ElsewhereError) as caught:
        Elsewhere.load(path)
    assert f"{path}{message}" in str(caught.value)
    assert caught.value.problems
    # Stops start-up like a broken smalltalk.yaml: bot.py reports it and exits.
    assert isinstance(caught.value, SmallTalkError)


def test_a_valid_small_directory_loads(tmp_path: Path) -> None:
    path = tmp_path / ELSEWHERE_FILE
    path.write_text(VALID, encoding="utf-8")
    loaded = Elsewhere.load(path)
    assert loaded is not None
    assert loaded.channels["city"].where == "Обращения принимает «Решаем вместе»"
    assert loaded.channels["city"].title == "Город"


@pytest.mark.parametrize(
    "text",
    [
        "когда отремонтируют дорогу на улице ключевской, там яма уже месяц",
        "в квартире холодные батареи, когда дадут отопление",
        "не работает лифт в подъезде",
        "во дворе бегают бездомные собаки",
    ],
)
def test_city_complaints_to_the_payments_bot_are_sent_to_city_services(
        text: str, directory: Elsewhere) -> None:
    assert route("payments", text, directory) == "offtopic:city-services"


@pytest.mark.parametrize(
    ("bot", "text"),
    [
        # What the vaccination FAQ leaves out on purpose (see the top of its faq.yaml).
        ("vaccination", "где привиться от клещевого энцефалита"),
        ("vaccination", "где можно сдать пцр тест"),
        ("vaccination", "чем лечить коронавирус в домашних условиях"),
        ("vaccination", "как открыть больничный лист у терапевта"),
        ("payments", "где сдать пцр тест"),
    ],
)
def test_health_questions_beyond_vaccination_are_sent_to_healthcare(
        bot: str, text: str, directory: Elsewhere) -> None:
    assert route(bot, text, directory) == "offtopic:healthcare"


@pytest.mark.parametrize(
    ("bot", "text", "expected"),
    [
        ("payments", "Можно получить медотвод от прививки", "vaccination"),
        ("payments", "сколько стоит прививка от ковида", "vaccination"),
        ("vaccination", "когда придёт единое пособие", "payments"),
    ],
)
def test_a_question_for_the_other_bot_gets_the_pointer(bot: str, text: str, expected: str,
                                                       directory: Elsewhere) -> None:
    assert route(bot, text, directory) == expected


@pytest.mark.parametrize("bot", ["payments", "vaccination"])
def test_questions_on_the_bots_topic_are_not_sent_elsewhere(bot: str,
                                                            directory: Elsewhere) -> None:
    """The labelled paraphrases of the bot's dev set (in scope, sharing few words with the
    FAQ: the likeliest to be mistaken for another topic) stay with the bot, answered or with
    options, bar the odd one."""
    data = yaml.safe_load((ROOT / "tests" / "data" / f"{bot}_dev.yaml").read_text("utf-8"))
    in_scope = [q["q"] for q in data["questions"]
                if q["expect"] != "none" and q["kind"] == "paraphrase"]
    sent_away = [q for q in in_scope
                 if route(bot, q, directory).startswith(("offtopic:", OTHER[bot]))]
    assert len(sent_away) <= len(in_scope) * 0.02, sent_away

