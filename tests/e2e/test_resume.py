"""kill -9 between storing a ticket and confirming it (fault review, issue 11 item 4).

The process is killed while the citizen's confirmation is in flight: the ticket is stored, the
confirmation is not. After the restart the same update is handled again and must produce
exactly what the uninterrupted run would have: the confirmation with the ticket's number (not
"added to your ticket"), one card for operators and no second copy of the question.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.test_faults import Run, run  # noqa: F401  (module fixture)

pytestmark = pytest.mark.e2e

CONFIRMED = re.compile(r"номер обращения № (\d+)")
FOLLOW_UP = "Добавил ваше сообщение"


def texts_to(r: Run, chat_id: int) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in r.emu.messages(chat_id,
                                                                            bot=r.payments)]


def kill_while_confirming(r: Run, user: Any, text: str) -> None:
    fault = r.emu.inject_fault("sendMessage", bot=r.payments, chat_id=user.id, delay=30,
                               drop_connection=True, times=1)
    after = r.emu.last_seq
    r.emu.send_text(r.payments, user, text)
    r.emu.wait_for_call("sendMessage", bot=r.payments, finished=False, after=after,
                        where=lambda c: str(c.params.get("chat_id")) == str(user.id),
                        timeout=30)
    tickets = r.db("SELECT id FROM tickets WHERE chat_id = ?", user.id)
    assert len(tickets) == 1, "the ticket must be stored before the confirmation is sent"
    r.restart(kill=True)
    fault.cancel()


@pytest.mark.parametrize("text", [
    "Позовите оператора",
    "Во дворе три дня не вывозят мусор и контейнеры переполнены, куда обращаться",
], ids=["person", "question"])
def test_kill_9_between_ticket_and_confirmation(run: Run, text: str) -> None:  # noqa: F811
    user = run.citizen()
    kill_while_confirming(run, user, text)

    confirmed = run.emu.wait_for(
        lambda: [t for t in texts_to(run, user.id) if CONFIRMED.search(t)], timeout=60)
    ticket_id = int(run.db("SELECT id FROM tickets WHERE chat_id = ?", user.id)[0][0])
    run.emu.wait_for(lambda: run.db(
        "SELECT card_message_id FROM tickets WHERE id = ?", ticket_id)[0][0], timeout=60)

    to_citizen = texts_to(run, user.id)
    assert len(confirmed) == 1, to_citizen
    assert CONFIRMED.search(confirmed[0]).group(1) == str(ticket_id)  # type: ignore[union-attr]
    assert not [t for t in to_citizen if FOLLOW_UP in t], to_citizen
    assert run.db("SELECT COUNT(*) FROM tickets WHERE chat_id = ?", user.id)[0][0] == 1
    # Operators see the question once: on the card, never again as a follow-up copy.
    to_operators = [t for t in texts_to(run, run.operators.id) if text[:30] in t]
    assert len(to_operators) == 1, to_operators
    # The ticket's history has the opening only, not the same message again as a follow-up.
    events = run.db("SELECT action FROM ticket_events WHERE ticket_id = ?", ticket_id)
    assert [a for (a,) in events if a == "message"] == [], events
