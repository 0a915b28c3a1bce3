"""Pieces several end-to-end tests share: a bot process's lifetime inside a fixture, the
payments bot alone or with its operators' chat (and its settings), the answers of the payments
FAQ, and reading buttons and ticket numbers off messages."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from faq import Matcher, load_faq
from tests.e2e.conftest import PAYMENTS_TOKEN, base_env, copy_bot_content, sqlite_rows
from tests.e2e.process import ROOT, BotProcess
from tests.emulator import Emulator

PAYMENTS_STARTED = "bot payments runs as @payments_test_bot"
PAYMENTS_FAQ = Matcher(load_faq(ROOT / "bots/payments/faq.yaml"))
#: The payments FAQ's own questions that it answers (not asks back or escalates).
PAYMENTS_ANSWERED = [e.question for e in PAYMENTS_FAQ.faq.entries
                     if PAYMENTS_FAQ.match(e.question).decision == "answer"]


class WithProcess(Protocol):
    """A test's state holding its bot process (a restart replaces it)."""

    proc: BotProcess


@contextmanager
def bot_lifetime(emu: Emulator, state: WithProcess) -> Iterator[None]:
    """Wraps a fixture's ``yield``: afterwards the emulator saw no Bot API violation, the bot
    process (``state.proc`` as it is then) stops cleanly, and the emulator is stopped."""
    try:
        yield
        emu.assert_no_violations()
    finally:
        try:
            code = state.proc.stop()
        finally:
            emu.stop()  # even when the bot did not stop: no emulator thread outlives a test
    assert code == 0, state.proc.output


@dataclass
class PaymentsRun:
    """The payments bot alone, without an operators' chat."""

    emu: Emulator
    proc: BotProcess
    bot: Any
    database_url: str

    def db(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return sqlite_rows(self.database_url, sql, *args)


@contextmanager
def payments_alone(tmp: Path, env: Mapping[str, str]) -> Iterator[PaymentsRun]:
    """A fresh emulator and ``python bot.py`` running the payments bot (settings: ``base_env``
    and ``env``) on a copy of bots/ in ``tmp``; stopped and checked as ``bot_lifetime`` says."""
    emu = Emulator().start()
    bot = emu.add_bot(token=PAYMENTS_TOKEN, username="payments_test_bot")
    full_env = payments_env(emu, tmp, copy_bot_content(tmp / "bots")) | dict(env)
    proc = BotProcess(full_env)
    state = PaymentsRun(emu, proc, bot, full_env["DATABASE_URL"])
    with bot_lifetime(emu, state):
        proc.wait_for_output(PAYMENTS_STARTED)
        yield state


def payments_env(emu: Emulator, tmp: Path, bots_dir: Path,
                 operators: Any = None) -> dict[str, str]:
    """``base_env`` with the payments bot's token and, if given, its operators' chat."""
    env = base_env(emu, tmp, bots_dir) | {"PAYMENTS_BOT_TOKEN": PAYMENTS_TOKEN}
    if operators is not None:
        env["PAYMENTS_OPERATORS_CHAT_ID"] = str(operators.id)
    return env


def write_all_day_queue(bots_dir: Path, bot: str, first_response_hours: float) -> None:
    """``bot``'s operators work round the clock, every day, with this first-response target."""
    (bots_dir / bot / "queue.yaml").write_text(f"""timezone: Europe/Moscow
working_hours: "00:00-24:00"
working_days: [1, 2, 3, 4, 5, 6, 7]
first_response_hours: {first_response_hours}
autoclose_hours: 72
""", "utf-8")


def payments_with_operators(emu: Emulator) -> tuple[Any, Any, Any]:
    """The payments bot, an operator (an admin) and the bot's operators' chat she works in."""
    bot = emu.add_bot(token=PAYMENTS_TOKEN, username="payments_test_bot")
    operator = emu.add_user(first_name="Мария", last_name="Операторова")
    group = emu.add_group("Операторы: выплаты", members={operator.id: "administrator"},
                          bots=[bot])
    return bot, operator, group


def answer_start(question: str) -> str:
    """The first 40 characters of the payments FAQ's answer to ``question``."""
    entry_id = PAYMENTS_FAQ.match(question).entry_id
    assert entry_id is not None
    return PAYMENTS_FAQ.faq.entry(entry_id).answer.strip()[:40]


def faq_answers(emu: Emulator, user: Any, bot: Any, question: str) -> list[dict[str, Any]]:
    """The messages ``bot`` sent ``user`` that are the payments FAQ's answer to ``question``."""
    needle = answer_start(question)
    return [m for m in emu.messages(user.id, bot=bot) if needle in (m.get("text") or "")]


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    """The (label, callback data) of each callback button under ``message``."""
    markup = message.get("reply_markup") or {}
    return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", [])
            for b in row if "callback_data" in b]


def ticket_number(reply: dict[str, Any]) -> int:
    """The ticket number ("№ N") a message names."""
    text = reply["text"]
    assert "№" in text, text
    return int(text.split("№", 1)[1].strip().split()[0].rstrip(".;,"))
