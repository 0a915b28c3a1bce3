"""Bot API methods, executed against the world under its lock.

Each handler takes a :class:`Context` and returns the ``result`` JSON or raises
:class:`~tests.emulator.errors.ApiError` with Telegram's status and description. ``getUpdates``
waits, so the server implements it (with :meth:`World.take_updates`).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.emulator import errors
from tests.emulator.actions import set_bot_membership
from tests.emulator.errors import ApiError
from tests.emulator.formatting import (
    HtmlError,
    ParsedText,
    apply_parse_mode,
    canonical_parse_mode,
    utf16_len,
)
from tests.emulator.model import (
    ACTIVE_STATUSES,
    ANONYMOUS_ADMIN_ID,
    BotAccount,
    ForumTopic,
    GroupChat,
    StoredMessage,
    chat_member,
)
from tests.emulator.spec import UploadedFile
from tests.emulator.world import ChatTarget, World

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
#: Message keys that copyMessage/forwardMessage carry over.
CONTENT_KEYS = (
    "text", "entities", "link_preview_options", "photo", "document", "voice", "video",
    "sticker", "animation", "audio", "video_note", "location", "contact", "venue", "dice",
    "caption", "caption_entities", "show_caption_above_media", "has_media_spoiler",
)
SERVICE_KEYS = ("forum_topic_created", "forum_topic_edited", "forum_topic_closed",
                "forum_topic_reopened", "new_chat_members", "left_chat_member",
                "migrate_to_chat_id", "migrate_from_chat_id", "pinned_message")


@dataclass
class Context:
    world: World
    bot: BotAccount
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        value = self.params.get(name)
        return default if value is None else value

    def require(self, name: str) -> Any:
        value = self.params.get(name)
        if value is None or value == "":
            msg = f"Bad Request: parameter {name} is required"
            raise ApiError(400, msg)
        return value

    def integer(self, name: str) -> int:
        value = self.require(name)
        try:
            return int(value)
        except (TypeError, ValueError):
            msg = f"Bad Request: {name} must be an integer"
            raise ApiError(400, msg) from None

    def target(self, *, for_send: bool = True, name: str = "chat_id") -> ChatTarget:
        return self.world.resolve(self.bot, self.require(name), for_send=for_send)


Handler = Callable[[Context], Any]
METHODS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name] = handler
        return handler
    return register


# --- formatting ----------------------------------------------------------------------------------

def parse(text: str, parse_mode: Any) -> ParsedText:
    if parse_mode is not None and canonical_parse_mode(str(parse_mode)) is None:
        raise ApiError(400, errors.UNSUPPORTED_PARSE_MODE)
    try:
        return apply_parse_mode(text, parse_mode)
    except HtmlError as exc:
        raise ApiError(400, errors.CANT_PARSE + str(exc)) from None


def formatted(ctx: Context, text: str, entities_key: str) -> tuple[str, list[dict[str, Any]]]:
    entities = ctx.get(entities_key)
    if entities:
        return text, copy.deepcopy(entities)
    parsed = parse(text, ctx.get("parse_mode"))
    return parsed.text, parsed.entities


def text_content(ctx: Context) -> dict[str, Any]:
    raw = ctx.get("text", "")
    if not isinstance(raw, str) or not raw.strip():
        raise ApiError(400, errors.TEXT_EMPTY)
    text, entities = formatted(ctx, raw, "entities")
    if not text.strip():
        raise ApiError(400, errors.TEXT_EMPTY)
    if utf16_len(text) > TEXT_LIMIT:
        raise ApiError(400, errors.TEXT_TOO_LONG)
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    if ctx.get("link_preview_options"):
        content["link_preview_options"] = ctx.get("link_preview_options")
    return content


def caption_content(ctx: Context) -> dict[str, Any]:
    raw = ctx.get("caption")
    if not isinstance(raw, str) or not raw:
        return {}
    text, entities = formatted(ctx, raw, "caption_entities")
    if utf16_len(text) > CAPTION_LIMIT:
        raise ApiError(400, errors.CAPTION_TOO_LONG)
    content: dict[str, Any] = {"caption": text}
    if entities:
        content["caption_entities"] = entities
    return content


# --- sending -------------------------------------------------------------------------------------

def thread_of(ctx: Context, target: ChatTarget) -> int | None:
    thread_id = ctx.get("message_thread_id")
    group = target.group
    if thread_id is None or group is None or not group.is_forum:
        return None
    topic = group.topics.get(int(thread_id))
    if topic is None:
        raise ApiError(400, errors.THREAD_NOT_FOUND)
    if topic.closed and not can_manage_topics(ctx.bot, group):
        raise ApiError(400, errors.TOPIC_CLOSED)
    return topic.message_thread_id


def replied_message(ctx: Context, target: ChatTarget) -> StoredMessage | None:
    parameters = ctx.get("reply_parameters")
    if not isinstance(parameters, dict) and ctx.get("reply_to_message_id") is not None:
        parameters = {"message_id": ctx.get("reply_to_message_id"),  # deprecated alias
                      "allow_sending_without_reply": ctx.get("allow_sending_without_reply")}
    if not isinstance(parameters, dict):
        return None
    key = target.key
    if parameters.get("chat_id") is not None:
        key = ctx.world.resolve(ctx.bot, parameters["chat_id"], for_send=False).key
    found = ctx.world.find_message(key, parameters.get("message_id"))
    if found is None and not parameters.get("allow_sending_without_reply"):
        raise ApiError(400, errors.REPLY_NOT_FOUND)
    return found


def deliver(ctx: Context, content: dict[str, Any], *,
            extra: dict[str, Any] | None = None) -> StoredMessage:
    """Store a bot's message in ``chat_id`` after Telegram's checks; counts it as a send."""
    world = ctx.world
    target = ctx.target()
    thread_id = thread_of(ctx, target)
    reply_to = replied_message(ctx, target)
    now = time.monotonic()
    if world.strict_rates:
        wait = world.flood.retry_after(world.sends, ctx.bot.id, target.id, target.is_group, now)
        if wait is not None:
            raise ApiError(429, errors.too_many_requests(wait), {"retry_after": wait})
    if ctx.get("reply_markup"):
        content = content | {"reply_markup": ctx.get("reply_markup")}
    stored = world.add_message(target, ctx.bot.user(), content, sender_bot_id=ctx.bot.id,
                               thread_id=thread_id, reply_to=reply_to, extra=extra)
    world.sends.record(ctx.bot.id, target.id, now)
    world.flood.record(ctx.bot.id, target.id, target.is_group, now)
    return stored


@method("sendMessage")
def send_message(ctx: Context) -> dict[str, Any]:
    return deliver(ctx, text_content(ctx)).as_api()


def media(ctx: Context, kind: str) -> Any:
    """The JSON of the sent file in field ``kind`` (file_id, URL, attach:// or an upload)."""
    value = ctx.params.get(kind)
    upload: UploadedFile | None = None
    if isinstance(value, UploadedFile):
        upload = value
    elif isinstance(value, str) and value.startswith("attach://"):
        upload = ctx.files.get(value.removeprefix("attach://"))
        if upload is None:
            raise ApiError(400, errors.NO_FILE)
    elif not isinstance(value, str) or not value:
        raise ApiError(400, errors.NO_FILE)
    if upload is not None or not isinstance(value, str):
        assert upload is not None
        stored = ctx.world.store_file(upload.data, file_name=upload.filename,
                                      mime_type=upload.content_type)
    elif value in ctx.world.files:
        stored = ctx.world.files[value]
    else:
        is_url = value.startswith(("http://", "https://"))
        stored = ctx.world.store_file(b"", file_id=None if is_url else value,
                                      file_name=value.rsplit("/", 1)[-1] if is_url else None)
    base: dict[str, Any] = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                            "file_size": len(stored.data)}
    size = {"width": int(ctx.get("width", 640)), "height": int(ctx.get("height", 480))}
    duration = {"duration": int(ctx.get("duration", 1))}
    if kind == "photo":
        return [base | size]
    if kind in ("document", "audio"):
        named = {k: v for k, v in (("file_name", stored.file_name),
                                   ("mime_type", stored.mime_type)) if v}
        return base | named | (duration if kind == "audio" else {})
    if kind == "voice":
        return base | duration | {"mime_type": "audio/ogg"}
    if kind in ("video", "animation"):
        return base | size | duration
    if kind == "video_note":
        return base | duration | {"length": int(ctx.get("length", 240))}
    if kind == "sticker":
        return base | {"type": "regular", "width": 512, "height": 512, "is_animated": False,
                       "is_video": False, "emoji": ctx.get("emoji", "🙂")}
    msg = f"unknown media kind {kind}"
    raise AssertionError(msg)


def _media_method(api_name: str, kind: str, *, captioned: bool = True) -> None:
    def send_media(ctx: Context) -> dict[str, Any]:
        content = {kind: media(ctx, kind)}
        if captioned:
            content |= caption_content(ctx)
        return deliver(ctx, content).as_api()
    send_media.__name__ = f"send_{kind}"
    METHODS[api_name] = send_media


for _api_name, _kind in (("sendPhoto", "photo"), ("sendDocument", "document"),
                         ("sendVoice", "voice"), ("sendVideo", "video"),
                         ("sendAnimation", "animation"), ("sendAudio", "audio")):
    _media_method(_api_name, _kind)
_media_method("sendSticker", "sticker", captioned=False)
_media_method("sendVideoNote", "video_note", captioned=False)


@method("sendLocation")
def send_location(ctx: Context) -> dict[str, Any]:
    location = {"latitude": float(ctx.require("latitude")),
                "longitude": float(ctx.require("longitude"))}
    return deliver(ctx, {"location": location}).as_api()


@method("sendContact")
def send_contact(ctx: Context) -> dict[str, Any]:
    contact = {"phone_number": ctx.require("phone_number"),
               "first_name": ctx.require("first_name")}
    if ctx.get("last_name"):
        contact["last_name"] = ctx.get("last_name")
    return deliver(ctx, {"contact": contact}).as_api()


def source_message(ctx: Context, missing: str) -> StoredMessage:
    source_chat = ctx.target(for_send=False, name="from_chat_id")
    found = ctx.world.find_message(source_chat.key, ctx.params.get("message_id"))
    if found is None:
        raise ApiError(400, missing)
    if found.service:
        raise ApiError(400, errors.CANT_COPY)
    return found


@method("copyMessage")
def copy_message(ctx: Context) -> dict[str, Any]:
    source = source_message(ctx, errors.COPY_NOT_FOUND)
    content = {k: copy.deepcopy(v) for k, v in source.data.items() if k in CONTENT_KEYS}
    if ctx.params.get("caption") is not None:
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content |= caption_content(ctx)
    stored = deliver(ctx, content)
    return {"message_id": stored.data["message_id"]}


@method("forwardMessage")
def forward_message(ctx: Context) -> dict[str, Any]:
    source = source_message(ctx, errors.FORWARD_NOT_FOUND)
    content = {k: copy.deepcopy(v) for k, v in source.data.items() if k in CONTENT_KEYS}
    origin: dict[str, Any] = {"type": "user", "date": source.data["date"],
                              "sender_user": source.data.get("from")}
    if "sender_chat" in source.data:
        origin = {"type": "chat", "date": source.data["date"],
                  "sender_chat": source.data["sender_chat"]}
    ctx.params.pop("reply_markup", None)
    return deliver(ctx, content, extra={"forward_origin": origin}).as_api()


# --- editing and deleting ------------------------------------------------------------------------

def own_message(ctx: Context) -> StoredMessage:
    target = ctx.target(for_send=False)
    found = ctx.world.find_message(target.key, ctx.params.get("message_id"))
    if found is None:
        raise ApiError(400, errors.EDIT_NOT_FOUND)
    if found.sender_bot_id != ctx.bot.id:
        raise ApiError(400, errors.CANT_EDIT)
    return found


def apply_edit(ctx: Context, stored: StoredMessage, content: dict[str, Any],
               drop: tuple[str, ...]) -> dict[str, Any] | bool:
    markup = ctx.get("reply_markup")
    current = {k: stored.data.get(k) for k in (*content, *drop, "reply_markup")}
    wanted = dict.fromkeys(drop) | content | {"reply_markup": markup}
    if current == wanted:
        raise ApiError(400, errors.NOT_MODIFIED)
    for key, value in wanted.items():
        if value is None:
            stored.data.pop(key, None)
        else:
            stored.data[key] = value
    stored.data["edit_date"] = int(time.time())
    return stored.as_api()


@method("editMessageText")
def edit_message_text(ctx: Context) -> dict[str, Any] | bool:
    if ctx.get("inline_message_id"):
        return True
    stored = own_message(ctx)
    if "text" not in stored.data:
        raise ApiError(400, "Bad Request: there is no text in the message to edit")
    content = text_content(ctx)
    return apply_edit(ctx, stored, content, ("entities", "link_preview_options"))


@method("editMessageCaption")
def edit_message_caption(ctx: Context) -> dict[str, Any] | bool:
    if ctx.get("inline_message_id"):
        return True
    stored = own_message(ctx)
    return apply_edit(ctx, stored, caption_content(ctx), ("caption", "caption_entities"))


@method("editMessageReplyMarkup")
def edit_message_reply_markup(ctx: Context) -> dict[str, Any] | bool:
    if ctx.get("inline_message_id"):
        return True
    return apply_edit(ctx, own_message(ctx), {}, ())


@method("deleteMessage")
def delete_message(ctx: Context) -> bool:
    target = ctx.target(for_send=False)
    found = ctx.world.find_message(target.key, ctx.params.get("message_id"))
    if found is None:
        raise ApiError(400, errors.DELETE_NOT_FOUND)
    group = target.group
    allowed = (found.sender_bot_id == ctx.bot.id or group is None
               or (group.bots[ctx.bot.id].status == "administrator"
                   and group.bots[ctx.bot.id].can_delete_messages))
    if not allowed:
        raise ApiError(400, errors.CANT_DELETE)
    found.deleted = True
    return True


# --- callback queries --------------------------------------------------------------------------

@method("answerCallbackQuery")
def answer_callback_query(ctx: Context) -> bool:
    query_id = str(ctx.require("callback_query_id"))
    record = ctx.world.callbacks.get(query_id)
    if record is None or record.bot_id != ctx.bot.id:
        raise ApiError(400, errors.QUERY_INVALID)
    answered = any(a["ok"] for a in record.answers)
    record.answers.append(copy.deepcopy(ctx.params) | {"ok": not answered})
    if answered:
        raise ApiError(400, errors.QUERY_INVALID)
    return True


# --- chats and members -------------------------------------------------------------------------

@method("getChat")
def get_chat(ctx: Context) -> dict[str, Any]:
    target = ctx.target(for_send=False)
    return target.chat | {
        "accent_color_id": 0, "max_reaction_count": 11,
        "accepted_gift_types": dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription",
             "gifts_from_channels"), False),
    }


def member_json(ctx: Context, target: ChatTarget, user_id: int) -> dict[str, Any]:
    world = ctx.world
    person = world.person(user_id)
    if person is None and user_id == ANONYMOUS_ADMIN_ID:
        person = {"id": ANONYMOUS_ADMIN_ID, "is_bot": True, "first_name": "Group",
                  "username": "GroupAnonymousBot"}
    if person is None:
        raise ApiError(400, errors.USER_NOT_FOUND)
    group = target.group
    if group is None:
        status = "member" if user_id in (ctx.bot.id, target.id) else "left"
        return chat_member(person, status)
    if user_id in group.bots:
        rights = group.bots[user_id]
        return chat_member(person, rights.status, rights)
    return chat_member(person, group.members.get(user_id, "left"))


@method("getChatMember")
def get_chat_member(ctx: Context) -> dict[str, Any]:
    return member_json(ctx, ctx.target(for_send=False), ctx.integer("user_id"))


@method("getChatAdministrators")
def get_chat_administrators(ctx: Context) -> list[dict[str, Any]]:
    target = ctx.target(for_send=False)
    group = target.group
    if group is None:
        raise ApiError(400, "Bad Request: there are no administrators in the private chat")
    admins = [uid for uid, status in group.members.items()
              if status in ("creator", "administrator")]
    admins += [bid for bid, m in group.bots.items() if m.status == "administrator"]
    return [member_json(ctx, target, uid) for uid in admins]


@method("getChatMemberCount")
def get_chat_member_count(ctx: Context) -> int:
    target = ctx.target(for_send=False)
    group = target.group
    if group is None:
        return 2
    return (sum(s in ACTIVE_STATUSES for s in group.members.values())
            + sum(m.status in ACTIVE_STATUSES for m in group.bots.values()))


@method("leaveChat")
def leave_chat(ctx: Context) -> bool:
    target = ctx.target(for_send=False)
    if target.group is None:
        raise ApiError(400, errors.CHAT_NOT_FOUND)
    set_bot_membership(ctx.world, ctx.bot, target.group, "left")
    return True


@method("sendChatAction")
def send_chat_action(ctx: Context) -> bool:
    target = ctx.target()
    thread_of(ctx, target)
    return True


# --- forum topics ------------------------------------------------------------------------------

def can_manage_topics(bot: BotAccount, group: GroupChat) -> bool:
    membership = group.bots.get(bot.id)
    return (membership is not None and membership.status == "administrator"
            and membership.can_manage_topics)


def forum(ctx: Context) -> tuple[ChatTarget, GroupChat]:
    target = ctx.target(for_send=False)
    if target.group is None or not target.group.is_forum:
        raise ApiError(400, errors.NOT_A_FORUM)
    return target, target.group


def service_message(ctx: Context, target: ChatTarget, content: dict[str, Any],
                    thread_id: int | None = None) -> StoredMessage:
    return ctx.world.add_message(target, ctx.bot.user(), content, sender_bot_id=ctx.bot.id,
                                 thread_id=thread_id, service=True)


@method("createForumTopic")
def create_forum_topic(ctx: Context) -> dict[str, Any]:
    target, group = forum(ctx)
    if not can_manage_topics(ctx.bot, group):
        raise ApiError(400, errors.NO_TOPIC_RIGHTS)
    name = str(ctx.require("name"))
    icon_color = int(ctx.get("icon_color", 0x6FB9F0))
    created = {"name": name, "icon_color": icon_color}
    if ctx.get("icon_custom_emoji_id"):
        created["icon_custom_emoji_id"] = ctx.get("icon_custom_emoji_id")
    stored = service_message(ctx, target, {"forum_topic_created": created})
    thread_id = int(stored.data["message_id"])
    stored.data |= {"message_thread_id": thread_id, "is_topic_message": True}
    topic = ForumTopic(thread_id, name, icon_color, ctx.get("icon_custom_emoji_id"),
                       created_by=ctx.bot.id)
    group.topics[thread_id] = topic
    return topic.as_api()


def managed_topic(ctx: Context) -> tuple[ChatTarget, ForumTopic]:
    target, group = forum(ctx)
    topic = group.topics.get(ctx.integer("message_thread_id"))
    if topic is None:
        raise ApiError(400, errors.THREAD_NOT_FOUND)
    if not can_manage_topics(ctx.bot, group) and topic.created_by != ctx.bot.id:
        raise ApiError(400, errors.NO_TOPIC_MANAGE_RIGHTS)
    return target, topic


@method("editForumTopic")
def edit_forum_topic(ctx: Context) -> bool:
    target, topic = managed_topic(ctx)
    name = ctx.get("name") or topic.name
    emoji = ctx.params.get("icon_custom_emoji_id", topic.icon_custom_emoji_id)
    if (name, emoji) == (topic.name, topic.icon_custom_emoji_id):
        raise ApiError(400, errors.TOPIC_NOT_MODIFIED)
    topic.name, topic.icon_custom_emoji_id = name, emoji or None
    edited: dict[str, Any] = {"name": name}
    if emoji is not None:
        edited["icon_custom_emoji_id"] = emoji
    service_message(ctx, target, {"forum_topic_edited": edited}, topic.message_thread_id)
    return True


def _set_closed(ctx: Context, closed: bool) -> bool:
    target, topic = managed_topic(ctx)
    if topic.closed == closed:
        raise ApiError(400, errors.TOPIC_NOT_MODIFIED)
    topic.closed = closed
    key = "forum_topic_closed" if closed else "forum_topic_reopened"
    service_message(ctx, target, {key: {}}, topic.message_thread_id)
    return True


@method("closeForumTopic")
def close_forum_topic(ctx: Context) -> bool:
    return _set_closed(ctx, closed=True)


@method("reopenForumTopic")
def reopen_forum_topic(ctx: Context) -> bool:
    return _set_closed(ctx, closed=False)


# --- the bot itself ----------------------------------------------------------------------------

@method("getMe")
def get_me(ctx: Context) -> dict[str, Any]:
    return ctx.bot.me()


def commands_key(ctx: Context) -> str:
    scope = ctx.get("scope") or {"type": "default"}
    return f"{json.dumps(scope, sort_keys=True)}|{ctx.get('language_code', '')}"


@method("setMyCommands")
def set_my_commands(ctx: Context) -> bool:
    ctx.bot.commands[commands_key(ctx)] = copy.deepcopy(list(ctx.require("commands")))
    return True


@method("deleteMyCommands")
def delete_my_commands(ctx: Context) -> bool:
    ctx.bot.commands.pop(commands_key(ctx), None)
    return True


@method("getMyCommands")
def get_my_commands(ctx: Context) -> list[dict[str, Any]]:
    return copy.deepcopy(ctx.bot.commands.get(commands_key(ctx), []))


@method("setWebhook")
def set_webhook(ctx: Context) -> bool:
    """Stores what delivery needs (url, secret_token, max_connections, allowed_updates); the
    pushing itself is :mod:`tests.emulator.webhooks`."""
    ctx.bot.webhook_url = str(ctx.get("url", ""))
    ctx.bot.webhook_secret = str(ctx.get("secret_token") or "")
    ctx.bot.webhook_max_connections = int(ctx.get("max_connections") or 40)
    queue = ctx.world.queue(ctx.bot.id)
    allowed = ctx.get("allowed_updates")
    if isinstance(allowed, list):
        queue.allowed_updates = frozenset(allowed) or None
    if ctx.get("drop_pending_updates"):
        queue.items.clear()
    return True


@method("deleteWebhook")
def delete_webhook(ctx: Context) -> bool:
    ctx.bot.webhook_url = ""
    ctx.bot.webhook_secret = ""
    if ctx.get("drop_pending_updates"):
        ctx.world.queue(ctx.bot.id).items.clear()
    return True


@method("getWebhookInfo")
def get_webhook_info(ctx: Context) -> dict[str, Any]:
    queue = ctx.world.queue(ctx.bot.id)
    info: dict[str, Any] = {"url": ctx.bot.webhook_url, "has_custom_certificate": False,
                            "pending_update_count": len(queue.items)}
    if ctx.bot.webhook_url:
        info["max_connections"] = ctx.bot.webhook_max_connections
    if ctx.bot.webhook_last_error_date is not None:
        info["last_error_date"] = ctx.bot.webhook_last_error_date
        info["last_error_message"] = ctx.bot.webhook_last_error_message or ""
    if queue.allowed_updates is not None:
        info["allowed_updates"] = sorted(queue.allowed_updates)
    return info


@method("getFile")
def get_file(ctx: Context) -> dict[str, Any]:
    stored = ctx.world.files.get(str(ctx.require("file_id")))
    if stored is None:
        raise ApiError(400, errors.FILE_NOT_FOUND)
    return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data), "file_path": stored.path}


@method("logOut")
def log_out(ctx: Context) -> bool:
    return True


@method("close")
def close(ctx: Context) -> bool:
    return True
