"""Injected faults: which requests they match and how the answer goes wrong.

A :class:`Fault` matches by method, bot, chat and a substring of ``text``/``caption``; it fires
``times`` times (``None``: until cancelled). Effects combine in this order: ``delay`` (before the
method runs, or after it with ``after_commit=True``), then either a dropped connection, an HTML
body, a JSON error, or, when none is set, the normal answer.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.emulator import errors


@dataclass
class Fault:
    method: str | None = None
    bot_id: int | None = None
    chat_id: int | str | None = None
    contains: str | None = None
    times: int | None = 1
    status: int | None = None
    description: str | None = None
    retry_after: int | None = None
    migrate_to_chat_id: int | None = None
    delay: float | None = None
    after_commit: bool = False
    drop_connection: bool = False
    html_body: str | None = None
    hits: int = 0
    cancelled: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.status is None:
            if self.retry_after is not None:
                self.status = 429
            elif self.migrate_to_chat_id is not None:
                self.status = 400
            elif self.html_body is not None:
                self.status = 502
        if self.status is not None and self.description is None and self.html_body is None:
            if self.retry_after is not None:
                self.description = errors.too_many_requests(self.retry_after)
            elif self.migrate_to_chat_id is not None:
                self.description = errors.UPGRADED
            else:
                self.description = errors.DEFAULT_DESCRIPTIONS.get(self.status, "Error")
        if self.status is None and not self.drop_connection and not self.delay:
            msg = ("a fault needs an effect: status/description, retry_after, "
                   "migrate_to_chat_id, html_body, drop_connection or delay")
            raise ValueError(msg)
        if self.after_commit and not (self.delay or self.drop_connection or self.status):
            msg = "after_commit=True needs a delay, drop_connection or an error status to follow"
            raise ValueError(msg)

    @property
    def active(self) -> bool:
        return not self.cancelled and (self.times is None or self.hits < self.times)

    @property
    def is_error(self) -> bool:
        return self.status is not None

    def matches(self, method: str, bot_id: int | None, params: Mapping[str, Any]) -> bool:
        if self.method is not None and self.method.lower() != method.lower():
            return False
        if self.bot_id is not None and self.bot_id != bot_id:
            return False
        if self.chat_id is not None and str(params.get("chat_id")) != str(self.chat_id):
            return False
        if self.contains is not None:
            text = f"{params.get('text') or ''}\n{params.get('caption') or ''}"
            if self.contains not in text:
                return False
        return True

    def take(self) -> bool:
        """Count one firing if still active (thread-safe)."""
        with self._lock:
            if not self.active:
                return False
            self.hits += 1
            return True

    def body(self) -> dict[str, Any]:
        assert self.status is not None
        parameters: dict[str, Any] = {}
        if self.retry_after is not None:
            parameters["retry_after"] = self.retry_after
        if self.migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = self.migrate_to_chat_id
        return errors.ApiError(self.status, self.description or "", parameters).body()

    def cancel(self) -> None:
        self.cancelled = True

    def __str__(self) -> str:
        parts = [f"{k}={v!r}" for k, v in (
            ("method", self.method), ("chat_id", self.chat_id), ("contains", self.contains),
            ("status", self.status), ("description", self.description),
            ("retry_after", self.retry_after), ("migrate_to_chat_id", self.migrate_to_chat_id),
            ("delay", self.delay), ("after_commit", self.after_commit or None),
            ("drop_connection", self.drop_connection or None),
            ("html_body", "..." if self.html_body else None)) if v is not None]
        return f"Fault({', '.join(parts)})"


class FaultBook:
    """Registered faults; the first active match fires."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def fire(self, method: str, bot_id: int | None, params: Mapping[str, Any]) -> Fault | None:
        with self._lock:
            candidates = [f for f in self._faults if f.active]
        for fault in candidates:
            if fault.matches(method, bot_id, params) and fault.take():
                return fault
        return None

    def clear(self) -> None:
        with self._lock:
            for fault in self._faults:
                fault.cancel()
            self._faults.clear()
