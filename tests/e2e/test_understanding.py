"""Questions the FAQ cannot answer, end to end: the real ``python bot.py`` (both bots,
matching with the real encoder) against the emulator. The payments bot has an operators'
chat, so what it cannot answer becomes a ticket.

* a complaint about city services: escalated to operators with no "did you mean" options,
  and the citizen is told where such complaints usually go (bots/elsewhere.yaml);
* "хочу поговорить с живым человеком" in other words: a ticket at once;
* a broken directory file stops start-up with the file and the reason.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    VACCINATION_TOKEN,
    base_env,
    copy_bot_content,
    sqlite_rows,
    start_both,
)
from tests.e2e.helpers import (
    bot_lifetime,
    buttons,
    payments_env,
    payments_with_operators,
    write_all_day_queue,
)
from tests.e2e.process import BotProcess
from tests.emulator import Emulator

pytestmark = pytest.mark.e2e

SOLVE_TOGETHER = "«Решаем вместе»"
GOSUSLUGI_FORM = "https://www.gosuslugi.ru/help/obratitsya_v_organy_vlasti"


@dataclass
class Suite:
    emu: Emulator
    proc: BotProcess
    env: dict[str, str]
    payments: Any
    operators: Any  # the payments bot's operators' chat
    users: Iterator[int]

    def citizen(self) -> Any:
        return self.emu.add_user(first_name=f"Гражданин {next(self.users)}")

    def db(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return sqlite_rows(self.env["DATABASE_URL"], sql, *args)

    def say(self, user: Any, text: str) -> dict[str, Any]:
        """Send ``text`` to the payments bot; its one reply."""
        before = len(self.emu.messages(user.id, bot=self.payments))
        self.emu.send_text(self.payments, user, text)
        self.emu.wait_for(
            lambda: len(self.emu.messages(user.id, bot=self.payments)) > before, timeout=15)
        [reply] = self.emu.messages(user.id, bot=self.payments)[before:]
        return reply


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    emu = Emulator().start()
    tmp = tmp_path_factory.mktemp("understanding")
    bots_dir = copy_bot_content(tmp / "bots")
    write_all_day_queue(bots_dir, "payments", first_response_hours=8)
    payments, _, operators = payments_with_operators(emu)
    emu.add_bot(token=VACCINATION_TOKEN, username="vaccination_test_bot")
    env = payments_env(emu, tmp, bots_dir, operators) | {
        "VACCINATION_BOT_TOKEN": VACCINATION_TOKEN,
        "FLOOD_MESSAGES": "50",
    }
    state = Suite(emu, start_both(env), env, payments, operators, itertools.count(1))
    with bot_lifetime(emu, state):
        yield state


def callback_buttons(message: dict[str, Any]) -> list[str]:
    return [label for label, _ in buttons(message)]


@pytest.mark.parametrize(
    "complaint",
    [
        "когда отремонтируют дорогу на улице ключевской, там яма уже месяц",
        "в квартире холодные батареи, когда дадут отопление",
        "не работает лифт в подъезде",
        "во дворе бегают бездомные собаки",
    ],
)
def test_a_city_complaint_goes_to_operators_with_where_such_complaints_go(
        suite: Suite, complaint: str) -> None:
    user = suite.citizen()
    reply = suite.say(user, complaint)
    text = reply["text"]
    assert "не относится к теме" in text  # honest: the bot cannot answer it
    assert "передан специалисту" in text  # ... and a person will
    assert SOLVE_TOGETHER in text
    assert GOSUSLUGI_FORM in text
    assert callback_buttons(reply) == []  # no "did you mean" list of benefit entries
    [(ticket, reason)] = suite.db(
        "select t.id, t.reason from tickets t join questions q on q.id = t.question_id "
        "where q.text = ?", complaint)
    assert reason == "escalated"
    assert f"№ {ticket}" in text
    suite.emu.wait_for_message(suite.operators.id, contains=complaint, bot=suite.payments)
    assert suite.db("select kind, outcome from questions where text = ?",
                    complaint) == [("offtopic", "escalated")]


@pytest.mark.parametrize(
    "request_for_person",
    ["хочу поговорить с живым человеком", "позовите оператора",
     "можно с живым человеком пообщаться", "переключите на сотрудника"],
)
def test_asking_for_a_person_in_other_words_opens_a_ticket(suite: Suite,
                                                           request_for_person: str) -> None:
    user = suite.citizen()
    reply = suite.say(user, request_for_person)
    assert "передан специалисту" in reply["text"]
    [(reason,)] = suite.db(
        "select t.reason from tickets t join questions q on q.id = t.question_id "
        "where q.text = ?", request_for_person)
    assert reason == "ask_person"


def test_a_question_that_mentions_a_person_is_not_a_request_for_one(suite: Suite) -> None:
    """"человек" in a question about benefits does not open a ticket: the question is matched
    (here or, a borderline case the routing margin decides, pointed to the other bot)."""
    user = suite.citizen()
    question = "может ли человек без прописки получить пособие"
    suite.say(user, question)
    [(kind,)] = suite.db("select kind from questions where text = ?", question)
    assert kind in {"faq", "redirect"}
    assert suite.db("select count(*) from tickets t join questions q on q.id = t.question_id "
                    "where q.text = ?", question) == [(0,)]


def test_broken_directory_stops_start_up_with_the_file_and_the_reason(
        suite: Suite, tmp_path: Path) -> None:
    bots_dir = copy_bot_content(tmp_path / "bots")
    (bots_dir / "elsewhere.yaml").write_text("entries:\n  - id: Город\n", encoding="utf-8")
    token = "333333:broken-directory-token"
    suite.emu.add_bot(token=token, username="broken_directory_bot")
    env = base_env(suite.emu, tmp_path, bots_dir) | {"PAYMENTS_BOT_TOKEN": token}
    proc = BotProcess(env)
    assert proc.wait(timeout=60) == 1
    assert "elsewhere.yaml:2: entry 'Город': id 'Город' недопустим" in proc.output
    assert "Traceback" not in proc.output
