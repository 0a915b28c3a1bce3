"""The emulated Telegram world's records: accounts, chats, messages, queries, updates, calls.

Plain dataclasses without behaviour beyond rendering themselves as Bot API JSON. They are
mutated only under the world's lock (see :mod:`tests.emulator.world`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

from tests.emulator.spec import Violation

MemberStatus = Literal["creator", "administrator", "member", "restricted", "left", "kicked"]
ACTIVE_STATUSES = ("creator", "administrator", "member", "restricted")
#: Update types delivered when a bot never passed ``allowed_updates`` (Bot API default).
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
#: Sender of messages from anonymous group administrators.
ANONYMOUS_ADMIN_ID = 1087968824


@dataclass
class BotAccount:
    id: int
    token: str
    username: str
    first_name: str
    can_join_groups: bool = True
    can_read_all_group_messages: bool = False
    supports_inline_queries: bool = False
    webhook_url: str = ""
    webhook_secret: str = ""  # setWebhook's secret_token, sent with every push
    webhook_max_connections: int = 40
    webhook_last_error_date: int | None = None  # unix time of the last failed push
    webhook_last_error_message: str | None = None
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def user(self) -> dict[str, Any]:
        """As a ``User`` inside messages."""
        return {"id": self.id, "is_bot": True, "first_name": self.first_name,
                "username": self.username}

    def me(self) -> dict[str, Any]:
        """As ``getMe`` returns it."""
        return self.user() | {
            "can_join_groups": self.can_join_groups,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": self.supports_inline_queries,
        }


@dataclass
class UserAccount:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "ru"
    deactivated: bool = False

    def user(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data

    def chat(self) -> dict[str, Any]:
        """The private chat with this user, as bots see it."""
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        return data


@dataclass
class PrivateChatState:
    """One bot's private chat with one user."""

    started: bool = False
    blocked: bool = False


@dataclass
class BotMembership:
    status: MemberStatus = "administrator"
    can_manage_topics: bool = True
    can_delete_messages: bool = True


@dataclass
class ForumTopic:
    message_thread_id: int
    name: str
    icon_color: int = 0x6FB9F0
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    created_by: int | None = None  # bot id, when a bot created it

    def as_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"message_thread_id": self.message_thread_id, "name": self.name,
                                "icon_color": self.icon_color}
        if self.icon_custom_emoji_id:
            data["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return data


@dataclass
class GroupChat:
    id: int
    title: str
    type: Literal["group", "supergroup"] = "supergroup"
    is_forum: bool = False
    username: str | None = None
    members: dict[int, MemberStatus] = field(default_factory=dict)
    bots: dict[int, BotMembership] = field(default_factory=dict)
    topics: dict[int, ForumTopic] = field(default_factory=dict)
    migrated_to: int | None = None

    def chat(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type, "title": self.title}
        if self.is_forum:
            data["is_forum"] = True
        if self.username:
            data["username"] = self.username
        return data


#: A chat as the emulator stores it: ``(bot_id, user_id)`` for private chats (each bot has its
#: own chat with a user), ``(0, chat_id)`` for groups (shared by all bots in them).
ChatKey = tuple[int, int]


@dataclass
class StoredMessage:
    key: ChatKey
    data: dict[str, Any]  # Telegram ``Message`` JSON; reply_markup as the bot sent it
    sender_bot_id: int | None  # None: sent by a user
    time: float  # monotonic
    service: bool = False
    deleted: bool = False

    def as_api(self) -> dict[str, Any]:
        """What bots get: only inline keyboards are part of a ``Message``."""
        data = copy.deepcopy(self.data)
        markup = data.get("reply_markup")
        if markup is not None and "inline_keyboard" not in markup:
            del data["reply_markup"]
        return data


@dataclass
class CallbackQueryRecord:
    id: str
    bot_id: int
    user_id: int
    data: str
    message: dict[str, Any]
    answers: list[dict[str, Any]] = field(default_factory=list)  # every attempt, with "ok"


@dataclass
class QueuedUpdate:
    update_id: int
    payload: dict[str, Any]  # the Update JSON, including update_id
    forced: bool = False  # a redelivery: returned once whatever the offset
    handed_out: bool = False
    # Webhook push state (tests.emulator.webhooks).
    pushing: bool = False  # a POST is in flight
    push_attempts: int = 0
    next_push: float = 0.0  # monotonic; the next attempt not before


@dataclass
class UpdateQueue:
    next_id: int
    items: list[QueuedUpdate] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)  # every update ever queued
    dropped: list[dict[str, Any]] = field(default_factory=list)  # filtered by allowed_updates
    allowed_updates: frozenset[str] | None = None  # None: the Bot API default
    poll_generation: int = 0

    def allows(self, update_type: str) -> bool:
        if self.allowed_updates is None:
            return update_type not in DEFAULT_EXCLUDED_UPDATES
        return update_type in self.allowed_updates


@dataclass(frozen=True)
class WebhookDelivery:
    """One POST of an update to a bot's webhook, as the emulator made it."""

    bot_id: int
    update_id: int
    url: str
    status: int | None  # the HTTP status; None: no answer (connection error, timeout)
    error: str | None  # as getWebhookInfo's last_error_message; None: delivered (2xx)
    time: float  # monotonic, when the POST started
    finished: float  # monotonic

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Call:
    """One HTTP request a bot made, with its answer (filled in when it is sent)."""

    seq: int
    token: str
    bot_id: int | None
    method: str
    params: dict[str, Any]
    files: dict[str, str]  # part name -> file name
    started: float  # monotonic
    finished: float | None = None
    status: int | None = None
    response: Any = None  # JSON body, or the text of an HTML body
    outcome: str = "pending"  # ok, error, html, dropped, disconnected, pending
    fault: str | None = None  # repr of the injected fault that fired, if any
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    @property
    def time(self) -> float:
        """When the request arrived (monotonic)."""
        return self.started

    @property
    def result(self) -> Any:
        """``response["result"]`` of a successful call, else None."""
        if isinstance(self.response, dict) and self.response.get("ok"):
            return self.response.get("result")
        return None

    def summary(self) -> str:
        shown = {k: v for k, v in self.params.items() if k not in ("reply_markup", "entities")}
        text = ", ".join(f"{k}={_short(v)}" for k, v in shown.items())
        answer = self.outcome if self.status is None else f"{self.status} {self.outcome}"
        if isinstance(self.response, dict) and not self.response.get("ok"):
            answer += f" ({self.response.get('description')})"
        bot = self.bot_id if self.bot_id is not None else "unknown token"
        return f"#{self.seq} bot {bot} {self.method}({text}) -> {answer}"


def _short(value: Any, size: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= size else text[: size - 3] + "..."


_RESTRICTED_FLAGS = (
    "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos",
    "can_send_videos", "can_send_video_notes", "can_send_voice_notes", "can_send_polls",
    "can_send_other_messages", "can_add_web_page_previews", "can_react_to_messages",
    "can_edit_tag", "can_change_info", "can_invite_users", "can_pin_messages",
    "can_manage_topics",
)


def chat_member(user: dict[str, Any], status: MemberStatus | str,
                rights: BotMembership | None = None) -> dict[str, Any]:
    """``ChatMember`` JSON of the subtype that ``status`` names."""
    data: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        rights = rights or BotMembership()
        data |= {
            "can_be_edited": False, "is_anonymous": False, "can_manage_chat": True,
            "can_delete_messages": rights.can_delete_messages, "can_manage_video_chats": False,
            "can_restrict_members": False, "can_promote_members": False,
            "can_change_info": False, "can_invite_users": True, "can_post_stories": False,
            "can_edit_stories": False, "can_delete_stories": False, "can_pin_messages": True,
            "can_manage_topics": rights.can_manage_topics,
            "can_send_welcome_messages": False,  # Bot API 10.3; aiogram 3.31 requires it
        }
    elif status == "restricted":
        data |= {"is_member": True, "until_date": 0} | dict.fromkeys(_RESTRICTED_FLAGS, False)
    elif status == "kicked":
        data["until_date"] = 0
    return data
