"""``/forget`` end to end: afterwards no table of the database — whichever tables the schema
has, reflected from the file — holds the citizen's words, name or ids in a text, JSON or
binary column. Real ``python bot.py`` against the emulator.

The citizen also has an update the bot gave up on (Telegram refused its answer five times):
the inbox keeps such an update, with the citizen's words and ids, until ``/forget`` or the
retention horizon.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tests.e2e.helpers import PAYMENTS_ANSWERED, PaymentsRun, answer_start, buttons, payments_alone
from tests.traces import traces

pytestmark = pytest.mark.e2e

ANSWERED = PAYMENTS_ANSWERED[:2]
NAME = "Забудькина"


@pytest.fixture
def run(tmp_path: Path) -> Iterator[PaymentsRun]:
    # Each attempt at the refused answer counts as a message: a high flood limit.
    with payments_alone(tmp_path, {"POLLING_TIMEOUT": "1", "FLOOD_MESSAGES": "50"}) as state:
        yield state


def test_after_forget_no_table_holds_the_citizens_words_or_ids(run: PaymentsRun) -> None:
    r = run
    user = r.emu.add_user(first_name="Алевтина", last_name=NAME, username="zabudkina_a")
    answered, refused = ANSWERED
    r.emu.send_text(r.bot, user, f"{answered}? Мой паспорт 4512 345678")
    r.emu.wait_for_message(user.id, bot=r.bot, contains=answer_start(answered), timeout=30)
    # Telegram refuses the answer to the second question every time: given up at last.
    r.emu.inject_fault("sendMessage", bot=r.bot, chat_id=user.id, contains=answer_start(refused),
                       times=None, status=400, description="Bad Request: chat not found")
    r.emu.send_text(r.bot, user, refused)
    r.emu.wait_for(lambda: r.db("SELECT 1 FROM inbox WHERE status = 'failed'"), timeout=150)
    r.emu.clear_faults()

    before = len(r.emu.messages(user.id, bot=r.bot))
    r.emu.send_text(r.bot, user, "/forget")
    confirm = r.emu.wait_for(lambda: r.emu.messages(user.id, bot=r.bot)[before:], timeout=30)[0]
    data = next(data for text, data in buttons(confirm) if "Да" in text)
    r.emu.press_button(r.bot, user, confirm, data)
    r.emu.wait_for(lambda: "удалены" in r.emu.message(
        user.id, confirm["message_id"], bot=r.bot)["text"], timeout=30)
    r.emu.wait_for(lambda: not r.db("SELECT 1 FROM inbox WHERE status = 'pending'"),
                   timeout=30)

    words = (answered, refused, "4512 345678", "Алевтина", NAME, "zabudkina_a")
    engine = create_engine(r.database_url.replace("+aiosqlite", ""))
    try:
        with engine.connect() as connection:
            leaks = traces(connection, words, (user.id,))
    finally:
        engine.dispose()
    assert {"inbox", "outbox", "questions", "citizens"} <= set(leaks)
    for table, hits in leaks.items():
        assert hits == [], f"table {table} still holds the citizen's data: {hits}"
