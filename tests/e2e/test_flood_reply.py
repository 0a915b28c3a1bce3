"""Issue 11, item 6: a citizen who writes too fast loses nothing silently.

Every message is either answered or covered by an honest notice ("not read, send it again"),
the notice promises no later answer, and there is at most one notice per flood window.
Each message is checked on its own, by its Telegram message id.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from faq import load_faq
from tests.e2e.conftest import Running, sqlite_rows
from tests.e2e.process import ROOT

pytestmark = pytest.mark.e2e

PAYMENTS_FAQ = load_faq(ROOT / "bots/payments/faq.yaml")
BURST = 10
FLOOD_MESSAGES = 5  # tests/e2e/conftest.py base_env
NOTICE_MARK = "слишком часто"


def _notices(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in replies if NOTICE_MARK in (r.get("text") or "")]


def test_every_flooded_message_is_answered_or_honestly_declined(running: Running) -> None:
    emu, bot, url = running.emu, running.payments, running.database_url
    user = running.new_user()
    entries = PAYMENTS_FAQ.entries[:BURST]
    prefixes = [e.answer.strip()[:40] for e in entries]
    assert len(set(prefixes)) == BURST, "the test needs distinguishable answers"

    sent = [emu.send_text(bot, user, e.question) for e in entries]
    ids = [m["message_id"] for m in sent]
    marks = ",".join("?" * len(ids))

    def fates() -> dict[int, tuple[str, str | None, str | None]]:
        rows = sqlite_rows(url, "select tg_message_id, kind, decision, entry_id from questions "
                                f"where chat_id = ? and tg_message_id in ({marks})",
                           user.id, *ids)
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def settled() -> bool:
        # every message recorded, every update handled, nothing for this citizen still unsent
        if len(fates()) < BURST:
            return False
        if sqlite_rows(url, "select count(*) from inbox where status = 'pending'")[0][0]:
            return False
        return not sqlite_rows(url, "select count(*) from outbox where chat_id = ? "
                                    "and status = 'pending'", user.id)[0][0]

    emu.wait_for(settled, timeout=30)
    replies = emu.messages(user.id, bot=bot)
    rows = sqlite_rows(url, "select tg_message_id from questions where chat_id = ? "
                            f"and tg_message_id in ({marks})", user.id, *ids)
    assert sorted(r[0] for r in rows) == sorted(ids), "each message is recorded exactly once"
    fate = fates()

    # one notice for the whole burst (all of it lies in one 60 s flood window)
    notices = _notices(replies)
    assert len(notices) == 1, [n["text"] for n in notices]
    [notice] = notices
    text = notice["text"]
    assert "не прочитал" in text, text  # says honestly that it was not read
    assert "ещё раз" in text, text  # and asks to send it again
    assert not re.search(r"отвечу|ответ\w* позже|ответ\w* через", text, re.IGNORECASE), text
    found = re.search(r"ближайшие (\d+) сек", text)
    assert found, text
    covered_until = notice["date"] + int(found.group(1))

    answered = flooded = 0
    for entry, prefix, message in zip(entries, prefixes, sent, strict=True):
        kind, decision, entry_id = fate[message["message_id"]]
        answers = [r for r in replies if prefix in (r.get("text") or "")]
        if kind == "flood":
            flooded += 1
            assert answers == [], f"message {message['message_id']} answered and declined"
            assert message["date"] <= covered_until, (message, notice)
        else:
            answered += 1
            assert (kind, decision, entry_id) == ("faq", "answer", entry.id), message
            assert len(answers) == 1, f"message {message['message_id']}: {len(answers)} answers"
    assert answered == FLOOD_MESSAGES
    assert flooded == BURST - FLOOD_MESSAGES
    first_flooded = min(m["date"] for m in sent if fate[m["message_id"]][0] == "flood")
    assert notice["date"] >= first_flooded
