"""The database refuses writes while the real ``python bot.py`` runs: updates stay with
Telegram, the log says so once, and the bot carries on by itself when writes work again.

The fault is real: the bot process's file size limit (``RLIMIT_FSIZE``) is set to 0, so every
write SQLite makes fails in the kernel (``EFBIG``, SQLite's "disk I/O error") — as a full or
failing disk does, and also for root, whom a read-only file does not stop. Lifting the limit is
the disk being writable again.
"""

from __future__ import annotations

import resource
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import PAYMENTS_ANSWERED, PaymentsRun, faq_answers, payments_alone
from tests.e2e.process import BotProcess

pytestmark = pytest.mark.e2e

ANSWERED = PAYMENTS_ANSWERED[:3]
FAILING = "STORAGE the database refuses writes"
RECOVERED = "STORAGE the database accepts writes again"


@pytest.fixture
def run(tmp_path: Path) -> Iterator[PaymentsRun]:
    with payments_alone(tmp_path, {"POLLING_TIMEOUT": "1"}) as state:
        try:
            yield state
        finally:
            limit_writes(state.proc, None)


def limit_writes(proc: BotProcess, size: int | None) -> None:
    """The largest file the bot process may write (None: no limit)."""
    if proc.proc.poll() is not None:
        return
    _, hard = resource.prlimit(proc.proc.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(proc.proc.pid, resource.RLIMIT_FSIZE,
                     (hard if size is None else size, hard))


def answers(r: PaymentsRun, user: Any, question: str) -> list[dict[str, Any]]:
    return faq_answers(r.emu, user, r.bot, question)


def test_database_refusing_writes_keeps_updates_with_telegram_until_it_recovers(
        run: PaymentsRun) -> None:
    r = run
    first = r.emu.add_user(first_name="Первая")
    r.emu.send_text(r.bot, first, ANSWERED[0])
    r.emu.wait_for(lambda: answers(r, first, ANSWERED[0]), timeout=30)
    r.emu.wait_for(lambda: r.db("SELECT status FROM inbox") == [("done",)], timeout=30)

    limit_writes(r.proc, 0)  # the disk refuses every write from now on
    asked = [(r.emu.add_user(first_name=f"Житель {n}"), q) for n, q in enumerate(ANSWERED)]
    for user, question in asked:
        r.emu.send_text(r.bot, user, question)
    r.proc.wait_for_output(FAILING, timeout=30)
    polls = len(r.emu.calls(r.bot, "getUpdates"))
    r.emu.wait_for(lambda: len(r.emu.calls(r.bot, "getUpdates")) >= polls + 3, timeout=60)

    # Nothing confirmed (Telegram keeps the updates), nothing answered, said once, no traceback.
    assert len(r.emu.pending_updates(r.bot)) == len(asked)
    assert not any(answers(r, user, question) for user, question in asked)
    assert r.proc.output.count(FAILING) == 1, r.proc.output
    assert "disk I/O error" in r.proc.wait_for_output(FAILING)
    assert "Traceback" not in r.proc.output, r.proc.output

    limit_writes(r.proc, None)  # writable again: the bot carries on by itself
    r.proc.wait_for_output(RECOVERED, timeout=30)
    r.emu.wait_for(lambda: all(answers(r, u, q) for u, q in asked), timeout=30)
    r.emu.wait_for(lambda: not r.emu.pending_updates(r.bot), timeout=30)
    assert [len(answers(r, user, question)) for user, question in asked] == [1] * len(asked)
    assert len(answers(r, first, ANSWERED[0])) == 1
    assert "Traceback" not in r.proc.output, r.proc.output
