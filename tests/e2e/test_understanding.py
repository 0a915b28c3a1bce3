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
    PAYMENTS_TOKEN,
    VACCINATION_TOKEN,
    base_env,
    copy_bot_content,
    sqlite_rows,
    start_both,
)
from tests.e2e.process import BotProcess
from tests.emulator import Emulator

pytestmark = pytest.mark.e2e

SOLVE_TOGETHER = "«Решаем вместе»"
GOSUSLUGI_FORM = "https://www.gosuslugi.ru/help/obratitsya_v_organy_vlasti"
ALL_DAY = """timezone: Europe/Moscow
working_hours: "00:00-24:00"
working_days: [1, 2, 3, 4, 5, 6, 7]
first_response_hours: 8
autoclose_hours: 72
"""


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
    (bots_dir / "payments" / "queue.yaml").write_text(ALL_DAY, "utf-8")
    payments = emu.add_bot(token=PAYMENTS_TOKEN, username="payments_test_bot")
    emu.add_bot(token=VACCINATION_TOKEN, username="vaccination_test_bot")
    operator = emu.add_user(first_name="Мария", last_name="Операторова")
    operators = emu.add_group("Операторы: выплаты", members={operator.id: "administrator"},
                              bots=[payments])
    env = base_env(emu, tmp, bots_dir) | {
        "PAYMENTS_BOT_TOKEN": PAYMENTS_TOKEN,
        "VACCINATION_BOT_TOKEN": VACCINATION_TOKEN,
        "PAYMENTS_OPERATORS_CHAT_ID": str(operators.id),
        "FLOOD_MESSAGES": "50",
    }
    state = Suite(emu, start_both(env), env, payments, operators, itertools.count(1))
    try:
        yield state
        emu.assert_no_violations()
    finally:
        code = state.proc.stop()
        emu.stop()
    assert code == 0, state.proc.output


def callback_buttons(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row
            if "callback_data" in b]


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


def test_a_question_that_mentions_a_person_is_answered_from_the_faq(suite: Suite) -> None:
    user = suite.citizen()
    question = "может ли человек без прописки получить пособие"
    suite.say(user, question)
    assert suite.db("select kind from questions where text = ?", question) == [("faq",)]


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
