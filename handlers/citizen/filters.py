"""Who the citizen is, and the filters of the citizen's router.

Filters are coroutines: aiogram runs a plain function or a magic filter (``F.text``) through
``asyncio.to_thread``, a thread round trip per filter and message.
"""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message

from bots.conversation import Citizen


def citizen_of(event: Message | CallbackQuery) -> Citizen:
    user = event.from_user
    assert user is not None  # private chats always have a sender
    chat = event.chat if isinstance(event, Message) else event.message.chat  # type: ignore[union-attr]
    return Citizen(tg_user_id=user.id, chat_id=chat.id, display_name=user.full_name,
                   username=user.username)


async def private_chat(message: Message) -> bool:
    return message.chat.type == "private"


async def private_button(query: CallbackQuery) -> bool:
    return query.message is not None and query.message.chat.type == "private"


async def has_text(message: Message) -> bool:
    """Text, or a caption (a photo with a question under it)."""
    return bool(message.text or message.caption)


async def has_plain_text(message: Message) -> bool:
    return bool(message.text)
