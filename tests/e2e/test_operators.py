"""The operator queue end to end: real ``python bot.py`` (both bots) against the emulator.

The payments bot's operators work in a plain supergroup (ticket cards, answers by reply), the
vaccination bot's in a forum supergroup (one topic per citizen). Time is real but scaled: the
group limit is 20 messages per 3-second "minute", and the vaccination bot's first-response
target is a few seconds, so overdue announcements happen during the run.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from faq import Matcher, load_faq
from tests.e2e.conftest import (
    PAYMENTS_TOKEN,
    VACCINATION_TOKEN,
    base_env,
    copy_bot_content,
    sqlite_rows,
    start_both,
)
from tests.e2e.helpers import bot_lifetime, buttons, ticket_number, write_all_day_queue
from tests.e2e.process import ROOT, BotProcess
from tests.emulator import Emulator
from tests.rates import assert_rate

pytestmark = pytest.mark.e2e

GROUP_WINDOW = 3.0
OFF_TOPIC = [
    "Когда откроют новую библиотеку в нашем районе",
    "Сломался светофор на перекрёстке",
    "Отключили горячую воду без предупреждения",
    "Когда починят лифт в подъезде",
    "Шумные соседи мешают спать по ночам",
    "Когда будет капитальный ремонт крыши",
    "Почему во дворе уже неделю не убирают снег и кто за это отвечает",
    "Где купить подержанный автомобиль недорого",
]


@dataclass
class Desk:
    emu: Emulator
    proc: BotProcess
    env: dict[str, str]
    payments: Any
    vaccination: Any
    plain: Any  # payments operators' chat
    forum: Any  # vaccination operators' chat
    op1: Any
    op2: Any
    tmp: Path
    users: Iterator[int]

    def citizen(self) -> Any:
        return self.emu.add_user(first_name=f"Гражданин {next(self.users)}")

    def db(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return sqlite_rows(self.env["DATABASE_URL"], sql, *args)


def escalating(text_pool: list[str]) -> Iterator[str]:
    """Questions that neither bot answers (they must reach the operators)."""
    payments = Matcher(load_faq(ROOT / "bots/payments/faq.yaml"))
    vaccination = Matcher(load_faq(ROOT / "bots/vaccination/faq.yaml"))
    found = [t for t in text_pool if payments.match(t).decision == "escalate"
             and vaccination.match(t).decision == "escalate"]
    assert found, "no off-topic question escalates any more: update OFF_TOPIC"
    return itertools.cycle(found)


QUESTIONS = escalating(OFF_TOPIC)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    emu = Emulator().start()
    tmp = tmp_path_factory.mktemp("operators")
    bots_dir = copy_bot_content(tmp / "bots")
    write_all_day_queue(bots_dir, "payments", first_response_hours=3)
    write_all_day_queue(bots_dir, "vaccination", first_response_hours=0.002)
    payments = emu.add_bot(token=PAYMENTS_TOKEN, username="payments_test_bot")
    vaccination = emu.add_bot(token=VACCINATION_TOKEN, username="vaccination_test_bot")
    op1 = emu.add_user(first_name="Мария", last_name="Операторова")
    op2 = emu.add_user(first_name="Пётр", last_name="Дежурный")
    members: dict[int, Any] = {op1.id: "administrator", op2.id: "member"}
    plain = emu.add_group("Операторы: выплаты", members=members, bots=[payments])
    forum = emu.add_group("Операторы: вакцинация", forum=True, members=members,
                          bots=[vaccination])
    env = base_env(emu, tmp, bots_dir) | {
        "PAYMENTS_BOT_TOKEN": PAYMENTS_TOKEN,
        "VACCINATION_BOT_TOKEN": VACCINATION_TOKEN,
        "PAYMENTS_OPERATORS_CHAT_ID": str(plain.id),
        "VACCINATION_OPERATORS_CHAT_ID": str(forum.id),
        "GROUP_RATE_WINDOW": str(GROUP_WINDOW),
        "QUEUE_CHECK_INTERVAL": "0.5",
        "FAQ_CANDIDATES_DIR": str(tmp / "candidates"),
        "FLOOD_MESSAGES": "50",
    }
    state = Desk(emu, start_both(env), env, payments, vaccination, plain, forum, op1, op2, tmp,
                 itertools.count(1))
    with bot_lifetime(emu, state):
        yield state
        # Nothing from an operators' chat ever went to another group or a stranger.
        for group in (plain, forum):
            assert_rate(state.emu, chat_id=group.id, limit=20, window=GROUP_WINDOW)
    assert PAYMENTS_TOKEN not in state.proc.output, "a token was written to the log"


# --- helpers -----------------------------------------------------------------------------------

def private(d: Desk, bot: Any, user: Any) -> list[dict[str, Any]]:
    return d.emu.messages(user.id, bot=bot)


def ask(d: Desk, bot: Any, user: Any, text: str) -> dict[str, Any]:
    """The citizen writes; returns the bot's first reply."""
    before = len(private(d, bot, user))
    d.emu.send_text(bot, user, text)
    d.emu.wait_for(lambda: len(private(d, bot, user)) > before, timeout=15)
    return private(d, bot, user)[before]


def card(d: Desk, group: Any, ticket: int, *, thread_id: int | None = None) -> dict[str, Any]:
    """The ticket's card in the operators' chat, as it is now (edits applied)."""
    found = d.emu.wait_for_message(group, contains=f"Обращение № {ticket} ", thread_id=thread_id,
                                   timeout=20)
    return d.emu.message(group, found["message_id"])


def new_ticket(d: Desk) -> tuple[Any, int, dict[str, Any]]:
    """A new citizen's question the payments bot cannot answer: the citizen, the ticket's
    number and its card in the plain operators' chat."""
    citizen = d.citizen()
    number = ticket_number(ask(d, d.payments, citizen, next(QUESTIONS)))
    return citizen, number, card(d, d.plain, number)


def press(d: Desk, bot: Any, user: Any, message: dict[str, Any], label: str, *,
          chat: Any = None) -> dict[str, Any]:
    """Press a button; returns the callback answer the presser saw."""
    data = next(data for text, data in buttons(message) if label in text)
    query_id = d.emu.press_button(bot, user, message, data, chat=chat)
    d.emu.wait_for(lambda: d.emu.callback_answered(query_id), timeout=15)
    return d.emu.callback_answers(query_id)[0]


def group_after(d: Desk, group: Any, after: int, contains: str, *,
                thread_id: int | None = None) -> dict[str, Any]:
    return d.emu.wait_for_message(group, contains=contains, after=after, thread_id=thread_id,
                                  timeout=15)


def reply_in(d: Desk, bot: Any, operator: Any, group: Any, to: dict[str, Any] | None,
             text: str, *, thread_id: int | None = None) -> dict[str, Any]:
    return d.emu.send_text(bot, operator, text, chat=group, reply_to=to, thread_id=thread_id)


def count(d: Desk, group: Any, thread_id: int | None = None) -> int:
    return len(d.emu.messages(group, thread_id=thread_id))


def assert_cannot_operate(d: Desk, person: Any, number: int, ticket_card: dict[str, Any],
                          text: str) -> None:
    """``person``, in the plain operators' chat but no operator, replies ``text`` to the card
    and presses "Взять": told both are for operators only; the ticket stays unclaimed."""
    bot, group = d.payments, d.plain
    after = count(d, group)
    reply_in(d, bot, person, group, ticket_card, text)
    assert "только операторам" in group_after(d, group, after, "операторам")["text"]
    toast = press(d, bot, person, ticket_card, "Взять", chat=group)
    assert "только операторам" in toast["text"]
    assert d.db("SELECT owner_tg_id FROM tickets WHERE id = ?", number) == [(None,)]


# --- plain group -------------------------------------------------------------------------------

def test_unmatched_question_claimed_answered_and_rated(desk: Desk) -> None:
    d, bot, group = desk, desk.payments, desk.plain
    citizen = d.citizen()
    question = next(QUESTIONS)
    reply = ask(d, bot, citizen, question)
    assert "передан специалисту" in reply["text"]
    number = ticket_number(reply)

    ticket_card = card(d, group, number)
    assert question in ticket_card["text"]
    assert citizen.first_name in ticket_card["text"]
    assert "🆕" in ticket_card["text"]
    toast = press(d, bot, d.op1, ticket_card, "Взять", chat=group)
    assert "Мария" in toast["text"]
    d.emu.wait_for(lambda: "Мария" in d.emu.message(group, ticket_card["message_id"])["text"])

    before = len(private(d, bot, citizen))
    after = count(d, group)
    answer = reply_in(d, bot, d.op1, group, ticket_card,
                      "Это вопрос к управляющей компании, <b>телефон</b> на квитанции.",
                      )
    d.emu.wait_for(lambda: len(private(d, bot, citizen)) >= before + 2, timeout=15)
    delivered, prompt = private(d, bot, citizen)[before:before + 2]
    assert delivered["text"] == "Это вопрос к управляющей компании, <b>телефон</b> на квитанции."
    assert "from" in delivered
    assert delivered["from"]["id"] == bot.id
    assert "forward_origin" not in delivered
    assert "Вопрос решён" in prompt["text"]
    notice = group_after(d, group, after, "Доставлено")
    assert notice["reply_to_message"]["message_id"] == answer["message_id"]

    press(d, bot, citizen, prompt, "Да")
    def rating_prompt() -> dict[str, Any] | None:
        shown = d.emu.message(citizen.id, prompt["message_id"], bot=bot)
        return shown if "Оцените" in shown["text"] else None

    rating = d.emu.wait_for(rating_prompt)
    press(d, bot, citizen, rating, "5")
    d.emu.wait_for(lambda: "⭐ 5" in d.emu.message(group, ticket_card["message_id"])["text"])
    final = d.emu.message(group, ticket_card["message_id"])
    assert "✅" in final["text"]
    assert "закрыто" in final["text"]
    states = [row[0] for row in d.db(
        "SELECT action FROM ticket_events WHERE ticket_id = ? ORDER BY id", number)]
    assert states[:1] == ["open"]
    assert "claim" in states
    assert "answer" in states
    assert "close" in states
    assert "rating" in states


def test_follow_up_joins_the_ticket_and_note_stays_internal(desk: Desk) -> None:
    d, bot, group = desk, desk.payments, desk.plain
    citizen, number, ticket_card = new_ticket(d)

    after = count(d, group)
    reply = ask(d, bot, citizen, "И ещё: у меня трое детей, это важно?")
    assert f"№ {number}" in reply["text"]
    assert "Добавил" in reply["text"]
    relayed = group_after(d, group, after, "трое детей")
    assert relayed["reply_to_message"]["message_id"] == ticket_card["message_id"]
    assert d.db("SELECT COUNT(*) FROM tickets t JOIN citizens c ON c.id = t.citizen_id "
                "WHERE c.tg_user_id = ?", citizen.id) == [(1,)]

    before = len(private(d, bot, citizen))
    after = count(d, group)
    reply_in(d, bot, d.op2, group, relayed, "// похоже на вопрос к ЖКХ, уточню у коллег")
    group_after(d, group, after, "Заметка")
    # The answer to the relayed follow-up reaches the citizen; the note never did.
    reply_in(d, bot, d.op2, group, relayed, "Количество детей здесь не влияет.")
    d.emu.wait_for(lambda: len(private(d, bot, citizen)) >= before + 1, timeout=15)
    texts = [m.get("text", "") for m in private(d, bot, citizen)[before:]]
    assert texts[0] == "Количество детей здесь не влияет."
    assert not any("ЖКХ" in t for t in texts)


def test_two_operators_race_for_one_ticket(desk: Desk) -> None:
    d, bot, group = desk, desk.payments, desk.plain
    citizen, number, ticket_card = new_ticket(d)
    data = next(data for text, data in buttons(ticket_card) if "Взять" in text)
    first = d.emu.press_button(bot, d.op1, ticket_card, data, chat=group)
    second = d.emu.press_button(bot, d.op2, ticket_card, data, chat=group)
    d.emu.wait_for(lambda: d.emu.callback_answered(first) and d.emu.callback_answered(second),
                   timeout=15)
    toasts = [d.emu.callback_answers(q)[0]["text"] for q in (first, second)]
    winners = [t for t in toasts if "взял" in t]
    assert len(winners) == 1, toasts
    owner = "Мария" if "Мария" in winners[0] else "Пётр"
    loser = d.op2 if owner == "Мария" else d.op1
    winner = d.op1 if loser is d.op2 else d.op2

    before = len(private(d, bot, citizen))
    after = count(d, group)
    reply_in(d, bot, loser, group, ticket_card, "Ответ второго оператора")
    refused = group_after(d, group, after, "ведёт")
    assert owner in refused["text"]
    reply_in(d, bot, winner, group, ticket_card, "Ответ владельца обращения")
    d.emu.wait_for(lambda: len(private(d, bot, citizen)) >= before + 1, timeout=15)
    texts = [m.get("text") for m in private(d, bot, citizen)[before:]]
    assert "Ответ владельца обращения" in texts
    assert "Ответ второго оператора" not in texts
    group_after(d, group, after, f"Доставлено гражданину (обращение № {number})")
    # The refused answer is on record, not lost.
    assert d.db("SELECT COUNT(*) FROM ticket_events WHERE ticket_id = ? AND action = ?",
                number, "answer_refused") == [(1,)]


def test_replies_to_non_tickets_and_closed_tickets_get_notices(desk: Desk) -> None:
    d, bot, group = desk, desk.payments, desk.plain
    after = count(d, group)
    reply_in(d, bot, d.op1, group, None, "/queue")
    queue = group_after(d, group, after, "ткрыт")
    after = count(d, group)
    reply_in(d, bot, d.op1, group, queue, "Это ответ на список, а не на обращение")
    group_after(d, group, after, "не относится к обращению")

    citizen, number, ticket_card = new_ticket(d)
    press(d, bot, d.op1, ticket_card, "Закрыть", chat=group)
    d.emu.wait_for(lambda: "✅" in d.emu.message(group, ticket_card["message_id"])["text"])
    before = len(private(d, bot, citizen))
    after = count(d, group)
    reply_in(d, bot, d.op1, group, ticket_card, "Поздний ответ")
    assert "закрыто" in group_after(d, group, after, f"№ {number}")["text"]
    assert len(private(d, bot, citizen)) == before


def test_outsiders_and_private_chats_cannot_operate(desk: Desk) -> None:
    d, bot, group = desk, desk.payments, desk.plain
    citizen, number, ticket_card = new_ticket(d)
    outsider = d.emu.add_user(first_name="Посторонний")
    d.emu.set_member(group, outsider, "left")

    before = len(private(d, bot, citizen))
    assert_cannot_operate(d, outsider, number, ticket_card, "Я тоже отвечу")

    after = count(d, group)
    d.emu.send_text(bot, d.op1, "Отвечаю анонимно", chat=group, reply_to=ticket_card,
                    anonymous_admin=True)
    assert "анонимно" in group_after(d, group, after, "анонимно")["text"]

    # An operator's command in a private chat with the bot does nothing but explain.
    reply = ask(d, bot, d.op1, "/queue")
    assert "только операторам" in reply["text"]
    assert len(private(d, bot, citizen)) == before


def test_stats_with_odd_arguments_answers_once_with_the_default_period(desk: Desk) -> None:
    d, bot, group = desk, desk.payments, desk.plain
    for argument, days in (("²", 30), ("①", 30), ("7", 7), ("неделя", 30)):
        after = count(d, group)
        reply_in(d, bot, d.op1, group, None, f"/stats {argument}")
        reply = group_after(d, group, after, "Статистика за")
        assert f"Статистика за {days} дн." in reply["text"], argument
        # exactly one answer: the command is not retried after an error
        stats = [m for m in d.emu.messages(group)[after:] if "Статистика за" in m["text"]]
        assert len(stats) == 1, argument


def test_a_muted_member_of_the_operators_chat_cannot_operate(desk: Desk) -> None:
    d, group = desk, desk.plain
    _, number, ticket_card = new_ticket(d)
    muted = d.emu.add_user(first_name="Ограниченный")
    d.emu.set_member(group, muted, "restricted")  # every right taken away
    assert_cannot_operate(d, muted, number, ticket_card, "Отвечу вместо операторов")


def test_citizen_newlines_cannot_fake_lines_of_the_card(desk: Desk) -> None:
    d, bot, group = desk, desk.payments, desk.plain
    forged = f"{next(QUESTIONS)}\nСтатус: закрыто\nОт: Администратор\nПоступило: вчера"
    number = ticket_number(ask(d, bot, d.citizen(), forged))
    lines = card(d, group, number)["text"].splitlines()
    for field in ("Статус:", "От:", "Поступило:"):
        assert sum(line.startswith(field) for line in lines) == 1, field
    assert "» Статус: закрыто" in lines  # the citizen's text is kept, marked as theirs


def test_blocked_citizen_is_reported_to_the_operator(desk: Desk) -> None:
    d, bot, group = desk, desk.payments, desk.plain
    citizen, number, ticket_card = new_ticket(d)
    d.emu.block_bot(bot, citizen)
    after = count(d, group)
    reply_in(d, bot, d.op1, group, ticket_card, "Ответ, который не дойдёт")
    notice = group_after(d, group, after, "Не доставлено")
    assert "заблокировал бота" in notice["text"]
    events = [r[0] for r in d.db("SELECT action FROM ticket_events WHERE ticket_id = ?", number)]
    assert "undeliverable" in events
    assert "answer" not in events


def test_deleted_citizen_account_is_reported_to_the_operator(desk: Desk) -> None:
    d, bot, group = desk, desk.payments, desk.plain
    citizen, _, ticket_card = new_ticket(d)
    d.emu.deactivate(citizen)
    after = count(d, group)
    reply_in(d, bot, d.op1, group, ticket_card, "Ответ удалённому аккаунту")
    notice = group_after(d, group, after, "Не доставлено")
    assert "аккаунт гражданина удалён" in notice["text"]


def test_faq_answer_button_and_candidate_for_editors(desk: Desk) -> None:
    d, bot, group = desk, desk.payments, desk.plain
    citizen = d.citizen()
    # A vague question: the bot offers options; the citizen asks for a person instead.
    matcher = Matcher(load_faq(ROOT / "bots/payments/faq.yaml"))
    vague = next(q for q in ("выплата на ребенка", "пособие на детей документы",
                             "выплаты детям", "деньги на ребенка")
                 if matcher.match(q).decision == "clarify")
    options = ask(d, bot, citizen, vague)
    before = len(private(d, bot, citizen))
    press(d, bot, citizen, options, "Другое")
    d.emu.wait_for(lambda: len(private(d, bot, citizen)) > before, timeout=15)
    number = ticket_number(private(d, bot, citizen)[before])
    ticket_card = card(d, group, number)
    faq_buttons = [t for t, _ in buttons(ticket_card) if t.startswith("📚")]
    assert faq_buttons, buttons(ticket_card)

    before = len(private(d, bot, citizen))
    press(d, bot, d.op2, ticket_card, faq_buttons[0][2:12], chat=group)
    d.emu.wait_for(lambda: len(private(d, bot, citizen)) >= before + 2, timeout=15)
    assert "Вопрос решён" in private(d, bot, citizen)[before + 1]["text"]

    after = count(d, group)
    answer = reply_in(d, bot, d.op2, group, ticket_card, "Подробный ответ оператора для FAQ")
    notice = group_after(d, group, after, "Доставлено")
    assert notice["reply_to_message"]["message_id"] == answer["message_id"]
    toast = press(d, bot, d.op2, notice, "В FAQ", chat=group)
    assert "кандидат" in toast["text"]
    result = subprocess.run(
        [sys.executable, "-m", "faq", "candidates", "--bot", "payments",
         "--dir", d.env["FAQ_CANDIDATES_DIR"], "--faq", str(ROOT / "bots/payments/faq.yaml")],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert vague in result.stdout
    assert "Подробный ответ оператора для FAQ" in result.stdout


def test_ban_stops_escalations_but_keeps_messages(desk: Desk) -> None:
    d, bot, group = desk, desk.payments, desk.plain
    citizen, number, ticket_card = new_ticket(d)
    after = count(d, group)
    reply_in(d, bot, d.op1, group, ticket_card, "/ban оскорбления в адрес операторов")
    assert "заблокирован" in group_after(d, group, after, "заблокирован")["text"]

    tickets_before = d.db("SELECT COUNT(*) FROM tickets")[0][0]
    reply = ask(d, bot, citizen, next(QUESTIONS))
    assert "ограничена" in reply["text"]
    assert d.db("SELECT COUNT(*) FROM tickets")[0][0] == tickets_before
    citizen_id = d.db("SELECT id FROM citizens WHERE tg_user_id = ? AND bot = 'payments'",
                      citizen.id)[0][0]
    assert d.db("SELECT COUNT(*) FROM questions WHERE citizen_id = ?", citizen_id)[0][0] >= 2

    after = count(d, group)
    reply_in(d, bot, d.op1, group, None, f"/unban {number}")
    assert "разблокирован" in group_after(d, group, after, "разблокирован")["text"]
    assert "передан специалисту" in ask(d, bot, citizen, next(QUESTIONS))["text"]


def test_my_lists_the_citizens_tickets(desk: Desk) -> None:
    d, bot = desk, desk.payments
    citizen = d.citizen()
    assert "нет обращений" in ask(d, bot, citizen, "/my")["text"]
    number = ticket_number(ask(d, bot, citizen, next(QUESTIONS)))
    listing = ask(d, bot, citizen, "/my")["text"]
    assert f"№ {number}" in listing
    assert "новое" in listing


def test_asking_for_a_person_opens_a_ticket(desk: Desk) -> None:
    d, bot = desk, desk.payments
    citizen = d.citizen()
    reply = ask(d, bot, citizen, "Позовите оператора, пожалуйста")
    assert "передан специалисту" in reply["text"]
    number = ticket_number(reply)
    assert "попросил специалиста" in card(d, d.plain, number)["text"]


# --- forum supergroup --------------------------------------------------------------------------

def test_forum_topic_per_citizen_and_overdue_announcement(desk: Desk) -> None:
    d, bot, group = desk, desk.vaccination, desk.forum
    citizen = d.citizen()
    reply = ask(d, bot, citizen, next(QUESTIONS))
    number = ticket_number(reply)
    topic = d.emu.wait_for(lambda: next((t for t in d.emu.topics(group)
                                         if f"№ {number}" in t.name), None), timeout=15)
    assert citizen.first_name in topic.name
    ticket_card = card(d, group, number, thread_id=topic.message_thread_id)

    # The first-response target is seconds here: the queue announces it once.
    overdue = d.emu.wait_for(lambda: next(
        (m for m in d.emu.messages(group) if "Просрочен" in (m.get("text") or "")
         and f"№ {number}" in m["text"]), None), timeout=20)
    assert overdue

    before = len(private(d, bot, citizen))
    # In forum mode any operator message in the citizen's topic is an answer.
    d.emu.send_text(bot, d.op1, "Ответ в теме обращения", chat=group,
                    thread_id=topic.message_thread_id)
    d.emu.wait_for(lambda: len(private(d, bot, citizen)) >= before + 1, timeout=15)
    assert private(d, bot, citizen)[before]["text"] == "Ответ в теме обращения"
    def answered_title() -> bool:
        current = next(t for t in d.emu.topics(group)
                       if t.message_thread_id == topic.message_thread_id)
        return current.name.startswith("💬")

    d.emu.wait_for(answered_title, timeout=15)

    # The citizen's follow-up reopens it in the same topic.
    after = count(d, group, topic.message_thread_id)
    ask(d, bot, citizen, "Спасибо, а можно подробнее?")
    group_after(d, group, after, "подробнее", thread_id=topic.message_thread_id)
    assert ticket_card["message_thread_id"] == topic.message_thread_id
    assert len([t for t in d.emu.topics(group) if citizen.first_name in t.name]) == 1


# --- load and restart --------------------------------------------------------------------------

def test_burst_of_100_escalations_is_paced_and_complete(desk: Desk) -> None:
    d, bot, group = desk, desk.payments, desk.plain
    citizens = [d.citizen() for _ in range(100)]
    start_count = count(d, group)
    threads = [threading.Thread(target=d.emu.send_text, args=(bot, c, next(QUESTIONS)))
               for c in citizens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    d.emu.wait_for(lambda: all(private(d, bot, c) for c in citizens), timeout=60)
    numbers = [ticket_number(private(d, bot, c)[0]) for c in citizens]
    assert len(set(numbers)) == 100
    d.emu.wait_for(lambda: all(
        any(f"Обращение № {n} " in (m.get("text") or "") for m in d.emu.messages(group))
        for n in numbers), timeout=120)
    assert_rate(d.emu, chat_id=group.id, limit=20, window=GROUP_WINDOW)
    assert count(d, group) - start_count >= 100


def test_restart_keeps_open_tickets_answerable(desk: Desk) -> None:
    d, bot, group = desk, desk.payments, desk.plain
    citizen, number, ticket_card = new_ticket(d)
    forum_citizen = d.citizen()
    forum_number = ticket_number(ask(d, d.vaccination, forum_citizen, next(QUESTIONS)))
    topic = d.emu.wait_for(lambda: next((t for t in d.emu.topics(d.forum)
                                         if f"№ {forum_number}" in t.name), None), timeout=15)

    assert d.proc.stop() == 0
    d.proc = start_both(d.env)

    before = len(private(d, bot, citizen))
    reply_in(d, bot, d.op1, group, ticket_card, "Ответ после перезапуска")
    d.emu.wait_for(lambda: len(private(d, bot, citizen)) > before, timeout=15)
    assert private(d, bot, citizen)[before]["text"] == "Ответ после перезапуска"

    before = len(private(d, d.vaccination, forum_citizen))
    d.emu.send_text(d.vaccination, d.op2, "Ответ в теме после перезапуска", chat=d.forum,
                    thread_id=topic.message_thread_id)
    d.emu.wait_for(lambda: len(private(d, d.vaccination, forum_citizen)) > before, timeout=15)
    assert (private(d, d.vaccination, forum_citizen)[before]["text"]
            == "Ответ в теме после перезапуска")
    d.emu.wait_for(lambda: d.db("SELECT state FROM tickets WHERE id = ?", number)
                   == [("answered",)], timeout=10)


def test_media_both_ways_keeps_content(desk: Desk) -> None:
    d, bot, group = desk, desk.payments, desk.plain
    citizen, number, ticket_card = new_ticket(d)
    after = count(d, group)
    before = len(private(d, bot, citizen))
    d.emu.send_photo(bot, citizen, caption="Вот фото уведомления об отказе")
    relayed = group_after(d, group, after, "фото уведомления")
    assert "photo" in relayed
    assert relayed["reply_to_message"]["message_id"] == ticket_card["message_id"]
    d.emu.wait_for(lambda: len(private(d, bot, citizen)) > before, timeout=15)
    assert f"№ {number}" in private(d, bot, citizen)[before]["text"]

    before = len(private(d, bot, citizen))
    d.emu.send_document(bot, d.op1, caption="Бланк заявления", file_name="blank.pdf",
                        chat=group, reply_to=relayed)
    d.emu.wait_for(lambda: len(private(d, bot, citizen)) > before, timeout=15)
    sent = private(d, bot, citizen)[before]
    assert sent["document"]["file_name"] == "blank.pdf"
    assert sent["caption"] == "Бланк заявления"


def test_forum_without_topic_rights_falls_back_to_cards(desk: Desk) -> None:
    d = desk
    locked = d.emu.add_group("Операторы без прав на темы", forum=True,
                             members={d.op1.id: "administrator"}, bots=[d.vaccination],
                             can_manage_topics=False)
    assert d.proc.stop() == 0
    d.env["VACCINATION_OPERATORS_CHAT_ID"] = str(locked.id)
    d.proc = start_both(d.env)
    citizen = d.citizen()
    number = ticket_number(ask(d, d.vaccination, citizen, next(QUESTIONS)))
    ticket_card = card(d, locked, number)
    assert not d.emu.topics(locked)
    assert "message_thread_id" not in ticket_card
    before = len(private(d, d.vaccination, citizen))
    reply_in(d, d.vaccination, d.op1, locked, ticket_card, "Ответ карточкой")
    d.emu.wait_for(lambda: len(private(d, d.vaccination, citizen)) > before, timeout=15)
    assert private(d, d.vaccination, citizen)[before]["text"] == "Ответ карточкой"


def test_report_command_sends_the_summary_and_every_chart_once(desk: Desk) -> None:
    d, bot, group = desk, desk.payments, desk.plain
    citizen = d.citizen()
    ticket_number(ask(d, bot, citizen, next(QUESTIONS)))  # at least one ticket this week
    after_messages = count(d, group)
    after_calls = d.emu.last_seq
    reply_in(d, bot, d.op1, group, None, "/report 7")
    summary = group_after(d, group, after_messages, "📊 Отчёт «payments»")
    assert "Передано специалистам:" in summary["text"]

    def photos() -> list[Any]:
        return [c for c in d.emu.calls(bot, "sendPhoto")
                if c.seq > after_calls and c.response is not None]

    d.emu.wait_for(lambda: len(photos()) >= 5, timeout=30)
    assert len(photos()) == 5
    assert all(c.response["ok"] for c in photos())
    assert all(str(c.params.get("chat_id")) == str(group.id) for c in photos())
    summaries = [m for m in d.emu.messages(group)[after_messages:]
                 if "📊 Отчёт" in (m.get("text") or "")]
    assert len(summaries) == 1


def test_report_command_is_for_operators_only(desk: Desk) -> None:
    d, bot = desk, desk.payments
    outsider = d.citizen()
    after_calls = d.emu.last_seq
    d.emu.send_text(bot, outsider, "/report")
    d.emu.wait_for_message(outsider.id, after=0, timeout=15)  # the citizen's side answers
    assert not [c for c in d.emu.calls(bot, "sendPhoto") if c.seq > after_calls]


def test_health_shows_the_database_cards_and_queues(desk: Desk) -> None:
    d, bot, group = desk, desk.payments, desk.plain
    after = count(d, group)
    reply_in(d, bot, d.op1, group, None, "/health")
    reply = group_after(d, group, after, "🩺 Состояние бота")
    lines = reply["text"].splitlines()
    assert "✅ База данных принимает записи" in lines
    assert "✅ Карточки обращений публикуются" in lines
    assert any(line.startswith("Ждут обработки: ") for line in lines), lines


def test_a_member_muted_after_acting_is_refused_at_once(desk: Desk) -> None:
    """The membership answer is cached for a minute; Telegram's ``chat_member`` update makes
    a change effective at the next action."""
    d, bot, group = desk, desk.payments, desk.plain
    citizen, number, ticket_card = new_ticket(d)
    helper = d.emu.add_user(first_name="Стажёр")
    d.emu.set_member(group, helper, "member")
    toast = press(d, bot, helper, ticket_card, "Взять", chat=group)
    assert "только операторам" not in toast.get("text", "")
    d.emu.set_member(group, helper, "restricted")
    after = count(d, group)
    reply_in(d, bot, helper, group, card(d, group, number), "Отвечу, хотя меня ограничили")
    assert "только операторам" in group_after(d, group, after, "операторам")["text"]
    assert not [m for m in private(d, bot, citizen) if "ограничили" in (m.get("text") or "")]
