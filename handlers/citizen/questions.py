"""The citizen writes: a question (text or caption), an edited question, or anything else."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.types import Message

from bots.conversation import Conversation, Outcome, OutcomeKind
from bots.desk import Desk
from bots.topic import Topic
from escalation.delivery import Delivery
from handlers.citizen.filters import citizen_of, has_plain_text, has_text
from handlers.citizen.replies import render


async def question(message: Message, bot: Bot, topic: Topic, conversation: Conversation,
                   delivery: Delivery, desk: Desk) -> None:
    text = message.text if message.text is not None else message.caption or ""
    source = "text" if message.text is not None else "caption"
    outcome = await conversation.ask(topic, citizen_of(message), text,
                                     message_id=message.message_id, source=source)
    await render(outcome, topic, bot, message.chat.id, delivery, desk,
                 message_id=message.message_id, citizen_text=text, media=message.text is None)


async def edited(message: Message, bot: Bot, topic: Topic, conversation: Conversation,
                 delivery: Delivery, desk: Desk) -> None:
    outcome = await conversation.ask(topic, citizen_of(message), message.text or "",
                                     message_id=message.message_id, source="edited")
    await render(outcome, topic, bot, message.chat.id, delivery, desk,
                 message_id=message.message_id, citizen_text=message.text or "")


async def media(message: Message, bot: Bot, topic: Topic, conversation: Conversation,
                delivery: Delivery, desk: Desk) -> None:
    """Stickers, voice, photos without caption, locations...: a follow-up of an active ticket
    (for the specialist working on it), else recorded and answered "send text"."""
    citizen = citizen_of(message)
    content = f"[{message.content_type}]"
    ticket = await conversation.active_ticket(topic, citizen)
    if ticket is not None:
        await conversation.record_unanswerable(topic, citizen, content,
                                               message_id=message.message_id, kind="follow_up")
        await render(Outcome(OutcomeKind.FOLLOW_UP, 0, ticket=ticket), topic, bot,
                     message.chat.id, delivery, desk, message_id=message.message_id)
        return
    await conversation.record_unanswerable(topic, citizen, content,
                                           message_id=message.message_id, kind="media")
    await delivery.send_text(bot, message.chat.id, topic.texts.media_reply)


def questions_router() -> Router:
    router = Router(name="citizen.questions")
    router.message.register(question, has_text)
    router.edited_message.register(edited, has_plain_text)
    router.message.register(media)  # catch-all for private messages: last
    return router
