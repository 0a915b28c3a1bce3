"""The update being handled, as the durable writes need to know it.

The poller (:mod:`bots.polling`) handles each update inside :func:`update_scope`. Messages sent
inside get the outbox keys ``<key>:1``, ``<key>:2``... (:mod:`escalation.delivery`): handling the
same update again after a crash finds them in the outbox and does not send them twice. And
``replay`` says whether the update may have been handled before (it is not its first attempt):
only then must a question be looked up before it is recorded (:mod:`escalation.records`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class UpdateScope:
    key: str
    replay: bool
    count: int = 0

    def next_key(self) -> str:
        self.count += 1
        return f"{self.key}:{self.count}"


_current: ContextVar[UpdateScope | None] = ContextVar("update_scope", default=None)


@contextmanager
def update_scope(key: str, *, replay: bool) -> Iterator[UpdateScope]:
    """Handle an update inside; ``replay``: it may have been (partly) handled before."""
    scope = UpdateScope(key, replay)
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)


def current_scope() -> UpdateScope | None:
    return _current.get()


def may_be_replay() -> bool:
    """Whether what is being handled may have been handled before: outside an update scope
    (a console session, a direct call) nobody knows, so yes."""
    scope = _current.get()
    return scope is None or scope.replay
