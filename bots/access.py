"""Who may operate: members of a bot's operators' chat, or an explicit list of user ids.

Policy for anonymous group admins (messages "from" GroupAnonymousBot, id 1087968824, with the
group as ``sender_chat``): refused with a request to turn anonymity off, because an answer must
have a known author (who claimed, who answered, who banned). Channel posts (id 777000) and other
bots are ignored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from aiogram import Bot
from aiogram.methods import GetChatMember
from aiogram.types import Chat, User

from bots.topic import Topic
from escalation.delivery import Delivery, Undeliverable
from escalation.tickets import Operator

log = logging.getLogger(__name__)

ANONYMOUS_ADMIN_ID = 1087968824
SERVICE_USER_ID = 777000
MEMBER_STATUSES = frozenset({"creator", "administrator", "member"})


class Refusal(StrEnum):
    ANONYMOUS = "anonymous"
    NOT_OPERATOR = "not_operator"
    IGNORED = "ignored"  # bots and channel posts: not a person at all


@dataclass
class OperatorGate:
    delivery: Delivery
    ttl: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _cache: dict[tuple[int, int], tuple[bool, float]] = field(default_factory=dict)

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

    def membership_changed(self, chat_id: int, user_id: int) -> None:
        """Telegram said a member of ``chat_id`` was promoted, restricted, removed...: the
        next action of ``user_id`` asks again instead of trusting the cached answer."""
        self._cache.pop((chat_id, user_id), None)

    async def _is_member(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        key = (chat_id, user_id)
        now = self.clock()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            member = await self.delivery.call(bot, GetChatMember(chat_id=chat_id,
                                                                 user_id=user_id))
        except Undeliverable as error:
            log.warning("membership check in %s failed: %s", chat_id, error.reason)
            return False
        # a restricted member (muted, or with any right taken away) does not operate: an
        # operator is a full member, an administrator or the creator
        allowed = member.status in MEMBER_STATUSES
        self._cache[key] = (allowed, now + self.ttl)
        return allowed
