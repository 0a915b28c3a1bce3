"""Middlewares: which topic an update belongs to, and the per-citizen flood limit."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import Message, TelegramObject

from bots.conversation import Conversation
from bots.flood import FloodJudge, FloodVerdict
from bots.topic import Suite
from escalation.delivery import Delivery
from handlers.citizen.filters import citizen_of

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class TopicMiddleware(BaseMiddleware):
    """Injects ``topic``: the topic bot that received the update."""

    def __init__(self, suite: Suite) -> None:
        self.suite = suite

    async def __call__(self, handler: Handler, event: TelegramObject,
                       data: dict[str, Any]) -> Any:
        bot: Bot = data["bot"]
        topic = self.suite.by_bot_id(bot.id)
        if topic is None:
            log.error("update for unknown bot id %s ignored", bot.id)
            return None
        data["topic"] = topic
        return await handler(event, data)


class FloodMiddleware(BaseMiddleware):
    """Rations replies to a citizen who writes too fast; every message is still recorded.

    ``guard`` counts in this process or, for replicas, in Redis: it only has to judge."""

    def __init__(self, guard: FloodJudge) -> None:
        self.guard = guard

    async def __call__(self, handler: Handler, event: TelegramObject,
                       data: dict[str, Any]) -> Any:
        if not isinstance(event, Message) or event.from_user is None:
            return await handler(event, data)
        bot: Bot = data["bot"]
        verdict, seconds = await self.guard.judge(bot.id, event.from_user.id)
        if verdict is FloodVerdict.ALLOW:
            return await handler(event, data)
        conversation: Conversation = data["conversation"]
        topic = data["topic"]
        text = event.text or event.caption or f"[{event.content_type}]"
        await conversation.record_unanswerable(topic, citizen_of(event), text,
                                               message_id=event.message_id, kind="flood")
        if verdict is FloodVerdict.WARN:
            delivery: Delivery = data["delivery"]
            await delivery.send_text(bot, event.chat.id,
                                     topic.texts.flood_reply.format(seconds=seconds))
        return None
