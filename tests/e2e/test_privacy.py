"""Personal data end to end (152-FZ): real ``python bot.py`` against the emulator.

A citizen who sends a card, passport or СНИЛС number is warned; what is stored, the ticket card
and what is relayed to the operators' chat are masked. ``/forget`` erases the citizen's data in
the bot and closes their open ticket, telling the operators.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.conftest import copy_bot_content, sqlite_rows
from tests.e2e.helpers import (
    PAYMENTS_STARTED,
    bot_lifetime,
    buttons,
    payments_env,
    payments_with_operators,
    ticket_number,
    write_all_day_queue,
)
from tests.e2e.process import BotProcess
from tests.emulator import Emulator

pytestmark = pytest.mark.e2e

CARD = "4111 1111 1111 1111"
PASSPORT = "4512 345678"
SNILS = "112-233-445 95"
RAW = ("4111", "345678", "233-445")  # what must never show up in the operators' chat
OFF_TOPIC = "Сколько стоит ремонт крыши в многоквартирном доме"
ASK_PERSON = "Позовите оператора, пожалуйста"


@dataclass
class Setup:
    emu: Emulator
    proc: BotProcess
    bot: Any
    group: Any
    operator: Any
    database_url: str
    users: Iterator[int]

    def citizen(self) -> Any:
        return self.emu.add_user(first_name=f"Гражданка{next(self.users)}")

    def db(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return sqlite_rows(self.database_url, sql, *args)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    emu = Emulator().start()
    tmp = tmp_path_factory.mktemp("privacy")
    bots_dir = copy_bot_content(tmp / "bots")
    write_all_day_queue(bots_dir, "payments", first_response_hours=3)
    bot, operator, group = payments_with_operators(emu)
    env = payments_env(emu, tmp, bots_dir, group) | {
        "QUEUE_CHECK_INTERVAL": "0.5",
        "FAQ_CANDIDATES_DIR": str(tmp / "candidates"),
        "FLOOD_MESSAGES": "50",
    }
    proc = BotProcess(env)
    state = Setup(emu, proc, bot, group, operator, env["DATABASE_URL"], itertools.count(1))
    with bot_lifetime(emu, state):
        proc.wait_for_output(PAYMENTS_STARTED)
        yield state


# --- helpers -----------------------------------------------------------------------------------

def private(s: Setup, user: Any) -> list[dict[str, Any]]:
    return s.emu.messages(user.id, bot=s.bot)


def send(s: Setup, user: Any, text: str | None = None, *, photo_caption: str | None = None,
         replies: int = 1) -> list[dict[str, Any]]:
    """The citizen writes (or sends a photo); returns the bot's next ``replies`` messages."""
    before = len(private(s, user))
    if photo_caption is not None:
        s.emu.send_photo(s.bot, user, caption=photo_caption)
    else:
        assert text is not None
        s.emu.send_text(s.bot, user, text)
    s.emu.wait_for(lambda: len(private(s, user)) >= before + replies, timeout=15)
    return private(s, user)[before:before + replies]


def press(s: Setup, user: Any, message: dict[str, Any], label: str) -> None:
    data = next(data for text, data in buttons(message) if label in text)
    query_id = s.emu.press_button(s.bot, user, message, data)
    s.emu.wait_for(lambda: s.emu.callback_answered(query_id), timeout=15)


def card(s: Setup, ticket: int) -> dict[str, Any]:
    found = s.emu.wait_for_message(s.group, contains=f"Обращение № {ticket} ", timeout=20)
    return s.emu.message(s.group, found["message_id"])


def group_after(s: Setup, after: int, contains: str) -> dict[str, Any]:
    return s.emu.wait_for_message(s.group, contains=contains, after=after, timeout=15)


def group_bodies(s: Setup) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in s.emu.messages(s.group)]


def open_ticket(s: Setup, user: Any, text: str, *,
                warned: bool = False) -> tuple[int, list[dict[str, Any]]]:
    """The citizen asks something the FAQ does not settle and ends up with a ticket (at once,
    or through «Другое — спросить специалиста» when the bot offers options); returns the
    ticket's number and the bot's replies to the question itself."""
    replies = send(s, user, text, replies=2 if warned else 1)
    if "передан специалисту" in replies[0]["text"]:
        return ticket_number(replies[0]), replies
    before = len(private(s, user))
    press(s, user, replies[0], "Другое")
    s.emu.wait_for(lambda: len(private(s, user)) > before, timeout=15)
    opened = private(s, user)[before]
    assert "передан специалисту" in opened["text"], opened
    return ticket_number(opened), replies


def citizen_id(s: Setup, user: Any) -> int:
    return int(s.db("SELECT id FROM citizens WHERE bot = 'payments' AND tg_user_id = ?",
                    user.id)[0][0])


# --- tests -------------------------------------------------------------------------------------

def test_personal_numbers_are_masked_everywhere(setup: Setup) -> None:
    s = setup
    user = s.citizen()
    question = f"{OFF_TOPIC}? Платил картой {CARD}"
    number, replies = open_ticket(s, user, question, warned=True)
    assert "не присылайте" in replies[1]["text"]

    # Stored masked; the operators' card (built from the stored text) too.
    masked = question.replace(CARD, "[карта •••• 1111]")
    assert s.db("SELECT text FROM questions WHERE citizen_id = ?", citizen_id(s, user)) == [
        (masked,)]
    assert s.db("SELECT text FROM tickets WHERE id = ?", number) == [(masked,)]
    ticket_card = card(s, number)
    assert "[карта •••• 1111]" in ticket_card["text"]

    # A follow-up with a passport number reaches the operators as masked text, not a copy.
    after = len(s.emu.messages(s.group))
    added, warning = send(s, user, f"Ещё мой паспорт {PASSPORT}", replies=2)
    assert f"№ {number}" in added["text"]
    assert "не присылайте" in warning["text"]
    relayed = group_after(s, after, "[паспорт скрыт]")
    assert "🔒" in relayed["text"]
    assert relayed["reply_to_message"]["message_id"] == ticket_card["message_id"]

    # A photo whose caption has a СНИЛС: the caption masked, the photo withheld.
    after = len(s.emu.messages(s.group))
    added, warning = send(s, user, photo_caption=f"Вот скан, СНИЛС {SNILS}", replies=2)
    assert f"№ {number}" in added["text"]
    assert "не присылайте" in warning["text"]
    relayed = group_after(s, after, "[СНИЛС скрыт]")
    assert "Вложение" in relayed["text"]
    assert "photo" not in relayed

    # An ordinary follow-up is still copied as it is.
    after = len(s.emu.messages(s.group))
    [added] = send(s, user, "Спасибо, жду ответа")
    assert "Добавил" in added["text"]
    assert "🔒" not in group_after(s, after, "жду ответа")["text"]

    assert not any(raw in body for body in group_bodies(s) for raw in RAW)
    stored = [row[0] for row in s.db("SELECT text FROM questions WHERE citizen_id = ?",
                                     citizen_id(s, user))]
    stored += [row[0] or "" for row in s.db(
        "SELECT detail FROM ticket_events WHERE ticket_id = ?", number)]
    assert len(stored) > 4
    assert not any(raw in text for text in stored for raw in RAW)


def test_faq_answer_is_the_same_with_a_number(setup: Setup) -> None:
    s = setup
    user = s.citizen()
    question = "Сколько платят на ребёнка от 3 до 7 лет"
    [plain] = send(s, user, question)
    answer, warning = send(s, user, f"{question}? Моя карта {CARD}", replies=2)
    assert answer["text"] == plain["text"]
    assert "не присылайте" in warning["text"]


def test_forget_erases_the_citizens_data_and_closes_the_ticket(setup: Setup) -> None:
    s = setup
    user = s.citizen()
    number, _ = open_ticket(s, user, ASK_PERSON)
    ticket_card = card(s, number)
    assert user.first_name in ticket_card["text"]
    send(s, user, "Добавлю подробности к вопросу")

    # Cancelled: nothing happens.
    [confirm] = send(s, user, "/forget")
    assert [t for t, _ in buttons(confirm)] == ["🗑 Да, удалить", "Отмена"]
    press(s, user, confirm, "Отмена")
    s.emu.wait_for(lambda: "ничего не удалено" in s.emu.message(
        user.id, confirm["message_id"], bot=s.bot)["text"], timeout=15)
    assert s.db("SELECT state FROM tickets WHERE id = ?", number) == [("new",)]

    [confirm] = send(s, user, "/forget")
    after = len(s.emu.messages(s.group))
    press(s, user, confirm, "Да")

    def done() -> dict[str, Any] | None:
        shown = s.emu.message(user.id, confirm["message_id"], bot=s.bot)
        return shown if "удалены" in shown["text"] else None

    result = s.emu.wait_for(done, timeout=15)
    assert f"№ {number}" in result["text"]
    assert "вопросов (2)" in result["text"]
    assert not buttons(result)

    me = citizen_id(s, user)
    assert s.db("SELECT DISTINCT text FROM questions WHERE citizen_id = ?", me) == [
        ("[удалено]",)]
    assert s.db("SELECT text, state FROM tickets WHERE id = ?", number) == [
        ("[удалено]", "closed")]
    assert s.db("SELECT display_name, username FROM citizens WHERE id = ?", me) == [
        (None, None)]
    assert ("close", "forgotten") in s.db(
        "SELECT action, detail FROM ticket_events WHERE ticket_id = ?", number)

    notice = group_after(s, after, "удалил свои данные")
    assert f"№ {number}" in notice["text"]
    s.emu.wait_for(lambda: "[удалено]" in s.emu.message(
        s.group, ticket_card["message_id"])["text"], timeout=15)
    edited = s.emu.message(s.group, ticket_card["message_id"])
    assert user.first_name not in edited["text"]
    assert "✅" in edited["text"]

    # Nothing left: a second /forget says so; the citizen can still ask.
    [confirm] = send(s, user, "/forget")
    press(s, user, confirm, "Да")
    s.emu.wait_for(lambda: "удалять нечего" in s.emu.message(
        user.id, confirm["message_id"], bot=s.bot)["text"], timeout=15)
    assert open_ticket(s, user, ASK_PERSON)[0] != number
