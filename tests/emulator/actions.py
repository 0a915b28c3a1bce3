"""What users (and chat owners) do: each action changes the world and queues the updates a bot
would get from Telegram.

Misuse by the test itself (a user who is not in the group, a message that does not exist) raises
``ValueError``: that is a broken test, not a Telegram answer.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from typing import Any

from tests.emulator.formatting import detect_entities
from tests.emulator.model import (
    ACTIVE_STATUSES,
    ANONYMOUS_ADMIN_ID,
    BotAccount,
    BotMembership,
    GroupChat,
    MemberStatus,
    StoredMessage,
    UserAccount,
    chat_member,
)
from tests.emulator.world import ChatTarget, World

ANONYMOUS_ADMIN = {"id": ANONYMOUS_ADMIN_ID, "is_bot": True, "first_name": "Group",
                   "username": "GroupAnonymousBot"}


def user_target(world: World, bot: BotAccount, user: UserAccount,
                chat: GroupChat | None) -> ChatTarget:
    """The chat a user writes in: the private chat with ``bot``, or ``chat``."""
    if chat is None:
        return ChatTarget((bot.id, user.id), user.chat(), user=user)
    membership = chat.bots.get(bot.id)
    if membership is None or membership.status not in ACTIVE_STATUSES:
        msg = f"bot @{bot.username} is not in {chat.title!r}: its membership is {membership}"
        raise ValueError(msg)
    return ChatTarget((0, chat.id), chat.chat(), group=chat)


def find_user_message(world: World, bot: BotAccount, user: UserAccount,
                      message: Mapping[str, Any] | int,
                      chat: GroupChat | None = None) -> StoredMessage:
    """The stored message that ``message`` (a Message dict, or an id in ``chat``) refers to."""
    if isinstance(message, int):
        key = (0, chat.id) if chat is not None else (bot.id, user.id)
        message_id = message
    else:
        chat_id = int(message["chat"]["id"])
        key = (0, chat_id) if chat_id < 0 else (bot.id, chat_id)
        message_id = int(message["message_id"])
    stored = world.find_message(key, message_id)
    if stored is None:
        msg = f"no message {message_id} in chat {key[1]} (deleted, or another bot's chat?)"
        raise ValueError(msg)
    return stored


def send(world: World, bot: BotAccount, user: UserAccount, content: dict[str, Any], *,
         chat: GroupChat | None = None, thread_id: int | None = None,
         reply_to: Mapping[str, Any] | int | None = None,
         anonymous_admin: bool = False) -> dict[str, Any]:
    """A user's message to ``bot`` (private chat) or into ``chat``; returns it as bots see it."""
    with world.changing():
        if user.deactivated:
            msg = f"user {user.id} is deactivated and cannot write"
            raise ValueError(msg)
        target = user_target(world, bot, user, chat)
        if chat is None:
            state = world.private_state(bot.id, user.id)
            if state.blocked:
                set_blocked(world, bot, user, blocked=False)
            state.started = True
        replied = find_user_message(world, bot, user, reply_to, chat) if reply_to else None
        if thread_id is None and replied is not None and chat is not None and chat.is_forum:
            thread_id = replied.data.get("message_thread_id")
        if thread_id is not None and (chat is None or thread_id not in chat.topics):
            msg = f"no forum topic {thread_id} in {chat.title if chat else 'a private chat'}"
            raise ValueError(msg)
        sender = user.user()
        extra: dict[str, Any] = {}
        if anonymous_admin:
            if chat is None:
                msg = "anonymous_admin=True needs a group chat"
                raise ValueError(msg)
            sender = dict(ANONYMOUS_ADMIN)
            extra["sender_chat"] = chat.chat()
        stored = world.add_message(target, sender, content, sender_bot_id=None,
                                   thread_id=thread_id, reply_to=replied, extra=extra)
        world.enqueue(bot.id, "message", stored.as_api())
        return stored.as_api()


def text_content(text: str, entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text}
    found = detect_entities(text) if entities is None else entities
    if found:
        content["entities"] = found
    return content


def edit(world: World, bot: BotAccount, user: UserAccount, message: Mapping[str, Any] | int,
         text: str, *, chat: GroupChat | None = None) -> dict[str, Any]:
    """The user edits their text message; the bot gets ``edited_message``."""
    with world.changing():
        stored = find_user_message(world, bot, user, message, chat)
        if stored.sender_bot_id is not None or stored.data.get("from", {}).get("id") != user.id:
            msg = "users can only edit their own messages"
            raise ValueError(msg)
        key = "caption" if "caption" in stored.data else "text"
        stored.data[key] = text
        stored.data.pop("entities" if key == "text" else "caption_entities", None)
        if key == "text":
            stored.data |= text_content(text)
        stored.data["edit_date"] = int(time.time())
        world.enqueue(bot.id, "edited_message", stored.as_api())
        return stored.as_api()


def press_button(world: World, bot: BotAccount, user: UserAccount,
                 message: Mapping[str, Any] | int, data: str, *,
                 chat: GroupChat | None = None) -> str:
    """A tap on an inline button with ``data`` (not checked against the keyboard: forged
    and stale data are fair game); returns the callback query id."""
    with world.changing():
        stored = find_user_message(world, bot, user, message, chat)
        record = world.new_callback(bot.id, user.id, data, stored.as_api())
        world.enqueue(bot.id, "callback_query", {
            "id": record.id, "from": user.user(), "message": stored.as_api(),
            "chat_instance": str(abs(hash((bot.id, stored.key))) % 10**18), "data": data,
        })
        return record.id


def set_blocked(world: World, bot: BotAccount, user: UserAccount, *, blocked: bool) -> None:
    """The user blocks (or unblocks) the bot; the bot gets ``my_chat_member``."""
    with world.changing():
        state = world.private_state(bot.id, user.id)
        if state.blocked == blocked:
            return
        state.blocked = blocked
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        world.enqueue(bot.id, "my_chat_member", {
            "chat": user.chat(), "from": user.user(), "date": int(time.time()),
            "old_chat_member": chat_member(bot.user(), old),
            "new_chat_member": chat_member(bot.user(), new),
        })


def set_member(world: World, group: GroupChat, user: UserAccount, status: MemberStatus,
               *, actor: UserAccount | None = None) -> None:
    """Change a person's membership; every administrator bot of the group gets a
    ``chat_member`` update (delivered only to bots that ask for it in ``allowed_updates``)."""
    with world.changing():
        old = group.members.get(user.id, "left")
        group.members[user.id] = status
        if old == status:
            return
        if actor is None:
            owner = next((uid for uid, s in group.members.items() if s == "creator"), None)
            actor = world.users.get(owner) if owner is not None else None
        sender = (actor or user).user()
        for bot_id, membership in group.bots.items():
            if membership.status != "administrator":
                continue
            world.enqueue(bot_id, "chat_member", {
                "chat": group.chat(), "from": sender, "date": int(time.time()),
                "old_chat_member": chat_member(user.user(), old),
                "new_chat_member": chat_member(user.user(), status),
            })


def set_bot_membership(world: World, bot: BotAccount, group: GroupChat, status: MemberStatus,
                       *, can_manage_topics: bool = True, can_delete_messages: bool = True,
                       actor: UserAccount | None = None) -> None:
    """Add, promote, demote or remove a bot in a group; it gets ``my_chat_member``."""
    with world.changing():
        old = copy.copy(group.bots.get(bot.id, BotMembership(status="left")))
        new = BotMembership(status, can_manage_topics, can_delete_messages)
        group.bots[bot.id] = new
        if old == new:
            return
        if actor is None:
            owner = next((uid for uid, s in group.members.items() if s == "creator"), None)
            actor = world.users.get(owner) if owner is not None else None
        sender = actor.user() if actor is not None else bot.user()
        world.enqueue(bot.id, "my_chat_member", {
            "chat": group.chat(), "from": sender, "date": int(time.time()),
            "old_chat_member": chat_member(bot.user(), old.status, old),
            "new_chat_member": chat_member(bot.user(), new.status, new),
        })
