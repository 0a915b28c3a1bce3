"""Telegram's rate limits, checked by the test itself from the requests the emulator recorded
(not by the emulator's own counter): every message request Telegram accepted, by the time it
arrived and by the time it was answered, every sliding window."""

from __future__ import annotations

from typing import Any

from tests.emulator import Emulator

#: Requests that put one message into a chat.
MESSAGE_METHODS = frozenset({"sendmessage", "copymessage", "sendphoto", "senddocument"})


def accepted_sends(emu: Emulator, *, bot: Any = None,
                   chat_id: int | None = None) -> tuple[list[float], list[float]]:
    """When each accepted message request arrived, and when it was answered."""
    calls = [c for c in emu.calls(bot) if c.method.lower() in MESSAGE_METHODS
             and c.outcome == "ok"
             and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))]
    return ([c.started for c in calls],
            [c.finished for c in calls if c.finished is not None])


def crowded_windows(times: list[float], limit: int, window: float) -> list[list[float]]:
    """Every run of ``limit + 1`` times that fits in less than ``window`` seconds."""
    ordered = sorted(times)
    return [ordered[i:i + limit + 1] for i in range(len(ordered) - limit)
            if ordered[i + limit] - ordered[i] < window]


def assert_rate(emu: Emulator, *, limit: int, window: float, bot: Any = None,
                chat_id: int | None = None) -> None:
    """No window of ``window`` seconds holds more than ``limit`` accepted messages."""
    arrived, answered = accepted_sends(emu, bot=bot, chat_id=chat_id)
    assert crowded_windows(arrived, limit, window) == [], ("arrived", chat_id, limit, window)
    assert crowded_windows(answered, limit, window) == [], ("answered", chat_id, limit, window)
