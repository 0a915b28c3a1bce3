"""Who may operate: members of a bot's operators' chat, or an explicit list of user ids.

Policy for anonymous group admins (messages "from" GroupAnonymousBot, id 1087968824, with the
group as ``sender_chat``): refused with a request to turn anonymity off, because an answer must
have a known author (who claimed, who answered, who banned). Channel posts (id 777000) and other
bots are ignored.

Whether a user is a member of the operators' chat is asked from Telegram and kept for ``ttl``
seconds. A ``chat_member`` update (promoted, restricted, removed) forgets the answer at once.
Replicas behind a load balancer each keep their own answers, and only one of them gets that
update: with Redis, the change is also marked there (a random token under the (chat, user) key,
kept longer than any answer), every answer remembers the mark it was given under, and a replica
trusts its answer only while the mark is the same (one GET). When Redis cannot be reached no
answer is trusted from the cache: Telegram is asked every time (``GATE Redis unreachable`` is
logged once per outage, ``GATE Redis works again`` when it answers).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Final, Literal

from aiogram import Bot
from aiogram.methods import GetChatMember
from aiogram.types import Chat, User
from redis.asyncio import Redis

from bots.topic import Topic
from escalation.delivery import Delivery, Undeliverable
from escalation.redis_link import UNREACHABLE, Outage
from escalation.tickets import Operator

log = logging.getLogger(__name__)

ANONYMOUS_ADMIN_ID = 1087968824
SERVICE_USER_ID = 777000
MEMBER_STATUSES = frozenset({"creator", "administrator", "member"})
#: How much longer than an answer a change's mark is kept in Redis (replicas' clocks differ).
MARK_MARGIN: Final = 10.0
#: Backoff (seconds) while a change cannot be marked in Redis.
MARK_RETRY: Final = (0.1, 1.0)


class Refusal(StrEnum):
    ANONYMOUS = "anonymous"
    NOT_OPERATOR = "not_operator"
    IGNORED = "ignored"  # bots and channel posts: not a person at all


class _Unknown(Enum):
    MARK = "unknown"  # Redis did not answer: the answer follows no known mark


#: The last change of a membership as Redis holds it (None: no change lately); always None
#: without Redis.
Mark = bytes | None | Literal[_Unknown.MARK]


@dataclass(frozen=True)
class _Answer:
    allowed: bool
    expires: float
    mark: Mark


@dataclass
class OperatorGate:
    """``redis``: the client shared by the replicas (None: one process, nothing shared)."""

    delivery: Delivery
    ttl: float = 60.0
    clock: Callable[[], float] = time.monotonic
    redis: Redis | None = field(default=None, kw_only=True)
    prefix: str = field(default="tggate:", kw_only=True)
    _cache: dict[tuple[int, int], _Answer] = field(default_factory=dict, init=False)
    _outage: Outage = field(default_factory=lambda: Outage(
        log, "GATE", "operator rights are asked from Telegram every time"), init=False)
    _pending: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    async def check(self, bot: Bot, topic: Topic, user: User | None,
                    sender_chat: Chat | None = None) -> Operator | Refusal:
        """The operator behind an action in ``topic``'s operators' chat, or why not."""
        chat_id = topic.operators_chat_id
        if user is None or chat_id is None:
            return Refusal.IGNORED
        if user.id == ANONYMOUS_ADMIN_ID or (sender_chat is not None
                                             and sender_chat.id == chat_id):
            return Refusal.ANONYMOUS
        if user.is_bot or user.id == SERVICE_USER_ID:
            return Refusal.IGNORED
        if topic.operator_ids:
            allowed = user.id in topic.operator_ids
        else:
            allowed = await self._is_member(bot, chat_id, user.id)
        if not allowed:
            log.info("bot %s: operator action refused for a non-operator", topic.name)
            return Refusal.NOT_OPERATOR
        return Operator(tg_id=user.id, name=user.full_name)

    def membership_changed(self, chat_id: int, user_id: int) -> asyncio.Task[None] | None:
        """Telegram said a member of ``chat_id`` was promoted, restricted, removed...: the
        next action of ``user_id`` asks again instead of trusting the cached answer, on every
        replica. Returns the task marking the change in Redis (None without Redis), which
        keeps trying while Redis is unreachable for as long as an answer may be cached."""
        self._cache.pop((chat_id, user_id), None)
        if self.redis is None:
            return None
        task = asyncio.ensure_future(self._mark_change(self.redis, chat_id, user_id))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    def _key(self, chat_id: int, user_id: int) -> str:
        return f"{self.prefix}changed:{chat_id}:{user_id}"

    async def _mark_change(self, redis: Redis, chat_id: int, user_id: int) -> None:
        give_up = self.clock() + self.ttl  # by then every answer given before it has expired
        keep_ms = math.ceil((self.ttl + MARK_MARGIN) * 1000)
        delay = MARK_RETRY[0]
        while True:
            try:
                await redis.set(self._key(chat_id, user_id), uuid.uuid4().hex, px=keep_ms)
            except UNREACHABLE as error:
                self._outage.failed(error)
                if self.clock() >= give_up:
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, MARK_RETRY[1])
                continue
            self._outage.worked()
            return

    async def _mark(self, chat_id: int, user_id: int) -> Mark:
        """The mark of the last change of this membership, read before Telegram is asked: a
        change made meanwhile makes the next check ask again."""
        if self.redis is None:
            return None
        try:
            mark: bytes | None = await self.redis.get(self._key(chat_id, user_id))
        except UNREACHABLE as error:
            self._outage.failed(error)
            return _Unknown.MARK
        self._outage.worked()
        return mark


    async def _is_member(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        key = (chat_id, user_id)
        now = self.clock()
        cached = self._cache.get(key)
        mark = await self._mark(chat_id, user_id)
        if (cached is not None and cached.expires > now and mark is not _Unknown.MARK
                and cached.mark == mark):
            return cached.allowed
        try:
            member = await self.delivery.call(bot, GetChatMember(chat_id=chat_id,
                                                                 user_id=user_id))
        except Undeliverable as error:
            log.warning("membership check in %s failed: %s", chat_id, error.reason)
            return False
        # a restricted member (muted, or with any right taken away) does not operate: an
        # operator is a full member, an administrator or the creator
        allowed = member.status in MEMBER_STATUSES
        self._cache[key] = _Answer(allowed, now + self.ttl, mark)
        return allowed
