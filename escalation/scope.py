"""The update being handled, as the durable writes need to know it.

The poller (:mod:`bots.polling`) handles each update inside :func:`update_scope`. Messages sent
inside get the outbox keys ``<key>:<chat tag>:1``, ``<key>:<chat tag>:2``... — numbered per
target chat (:mod:`escalation.delivery`): handling the same update again after a crash finds
them in the outbox and does not send them twice, and a message to one chat can never take the
key of a message to another (the citizen's reply and the operators' copy of the same update
differ). And ``replay`` says whether the update may have been handled before (it is not its
first attempt): only then must a question be looked up before it is recorded
(:mod:`escalation.records`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class UpdateScope:
    key: str
    replay: bool
    counts: dict[int, int] = field(default_factory=dict)

    def next_key(self, chat_id: int) -> str:
        """The key of the next message to ``chat_id`` sent while handling this update."""
        count = self.counts.get(chat_id, 0) + 1
        self.counts[chat_id] = count
        return f"{self.key}:{_chat_tag(chat_id)}:{count}"


def _chat_tag(chat_id: int) -> str:
    """A short stand-in for a chat id in a key: keys are not personal data (a private chat's
    id is the citizen's user id), yet two chats of one update never share a tag in practice."""
    return hashlib.blake2s(str(chat_id).encode(), digest_size=5).hexdigest()


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
