"""The emulated world: every record, one lock, and the primitive operations on them.

Both the server thread (bot requests) and test threads (driver calls) go through a
:class:`World`. Every public method takes ``self.lock`` (re-entrant) and every change ends with
``self.notifier.notify()`` so waiters re-check their predicates.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests.emulator import errors
from tests.emulator.errors import ApiError
from tests.emulator.model import (
    BotAccount,
    Call,
    CallbackQueryRecord,
    ChatKey,
    GroupChat,
    PrivateChatState,
    QueuedUpdate,
    StoredMessage,
    UpdateQueue,
    UserAccount,
    WebhookDelivery,
)
from tests.emulator.notify import ChangeNotifier
from tests.emulator.rates import FloodControl, SendLog
from tests.emulator.spec import Violation

FIRST_UPDATE_ID = 100_001


@dataclass
class ChatTarget:
    """A chat resolved from a bot's ``chat_id``."""

    key: ChatKey
    chat: dict[str, Any]  # the ``Chat`` JSON
    group: GroupChat | None = None
    user: UserAccount | None = None

    @property
    def id(self) -> int:
        return int(self.chat["id"])

    @property
    def is_group(self) -> bool:
        return self.group is not None


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None

    @property
    def path(self) -> str:
        return f"files/{self.file_unique_id}/{self.file_name or 'file'}"


class World:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.notifier = ChangeNotifier(self.lock)
        self.bots: dict[int, BotAccount] = {}
        self.users: dict[int, UserAccount] = {}
        self.private: dict[tuple[int, int], PrivateChatState] = {}
        self.groups: dict[int, GroupChat] = {}
        self.messages: dict[ChatKey, list[StoredMessage]] = defaultdict(list)
        self.callbacks: dict[str, CallbackQueryRecord] = {}
        self.queues: dict[int, UpdateQueue] = {}
        self.calls: list[Call] = []
        self.deliveries: list[WebhookDelivery] = []  # webhook POSTs (tests.emulator.webhooks)
        self.violations: list[Violation] = []
        self.files: dict[str, StoredFile] = {}
        self.sends = SendLog()
        self.flood = FloodControl()
        self.strict_rates = False
        self.closing = False
        self._message_ids: dict[ChatKey, Iterator[int]] = defaultdict(lambda: itertools.count(1))
        self._user_ids = itertools.count(700_001)
        self._group_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._call_seq = itertools.count(1)

    @contextmanager
    def changing(self) -> Iterator[None]:
        """Hold the lock for a change and notify waiters afterwards."""
        with self.lock:
            yield
        self.notifier.notify()

    # --- ids -------------------------------------------------------------------------------------

    def new_user_id(self) -> int:
        with self.lock:
            while True:
                candidate = next(self._user_ids)
                if candidate not in self.users and candidate not in self.bots:
                    return candidate

    def new_group_id(self, supergroup: bool) -> int:
        n = next(self._group_ids)
        return -(1_000_000_000_000 + 100_000 + n) if supergroup else -(4_000_000_000 + n)

    def new_query_id(self) -> str:
        return str(4_000_000_000_000 + next(self._query_ids))

    # --- accounts and chats ---------------------------------------------------------------------

    def bot_by_token(self, token: str) -> BotAccount | None:
        with self.lock:
            return next((b for b in self.bots.values() if b.token == token), None)

    def private_state(self, bot_id: int, user_id: int) -> PrivateChatState:
        with self.lock:
            return self.private.setdefault((bot_id, user_id), PrivateChatState())

    def group_by_ref(self, chat_id: int | str) -> GroupChat | None:
        with self.lock:
            if isinstance(chat_id, str):
                name = chat_id.removeprefix("@").lower()
                return next((g for g in self.groups.values()
                             if g.username and g.username.lower() == name), None)
            return self.groups.get(chat_id)

    def resolve(self, bot: BotAccount, chat_id: Any, *, for_send: bool) -> ChatTarget:
        """The chat ``bot`` means by ``chat_id``, or the ApiError Telegram would answer."""
        with self.lock:
            if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
                chat_id = int(chat_id)
            if isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0):
                return self._resolve_group(bot, chat_id)
            if not isinstance(chat_id, int):
                raise ApiError(400, errors.CHAT_NOT_FOUND)
            if chat_id in self.bots:
                raise ApiError(403, errors.BOT_TO_BOT)
            user = self.users.get(chat_id)
            state = self.private.get((bot.id, chat_id))
            if user is None or (state is None and not for_send):
                raise ApiError(400, errors.CHAT_NOT_FOUND)
            if for_send:
                if user.deactivated:
                    raise ApiError(403, errors.DEACTIVATED)
                if state is None or not state.started:
                    raise ApiError(403, errors.CANT_INITIATE)
                if state.blocked:
                    raise ApiError(403, errors.BLOCKED)
            return ChatTarget((bot.id, user.id), user.chat(), user=user)

    def _resolve_group(self, bot: BotAccount, chat_id: int | str) -> ChatTarget:
        group = self.group_by_ref(chat_id)
        if group is None:
            raise ApiError(400, errors.CHAT_NOT_FOUND)
        if group.migrated_to is not None:
            raise ApiError(400, errors.UPGRADED, {"migrate_to_chat_id": group.migrated_to})
        membership = group.bots.get(bot.id)
        if membership is None or membership.status == "left":
            raise ApiError(403, errors.not_member(group.type))
        if membership.status == "kicked":
            raise ApiError(403, errors.kicked(group.type))
        return ChatTarget((0, group.id), group.chat(), group=group)

    def person(self, user_id: int) -> dict[str, Any] | None:
        """``User`` JSON of a user or a bot."""
        with self.lock:
            if user_id in self.users:
                return self.users[user_id].user()
            if user_id in self.bots:
                return self.bots[user_id].user()
            return None

    # --- messages --------------------------------------------------------------------------------

    def add_message(self, target: ChatTarget, sender: dict[str, Any], content: dict[str, Any],
                    *, sender_bot_id: int | None, thread_id: int | None = None,
                    reply_to: StoredMessage | None = None, service: bool = False,
                    extra: dict[str, Any] | None = None) -> StoredMessage:
        with self.changing():
            message_id = next(self._message_ids[target.key])
            data: dict[str, Any] = {"message_id": message_id}
            if thread_id is not None:
                data["message_thread_id"] = thread_id
                if target.group is not None and target.group.is_forum:
                    data["is_topic_message"] = True
            data |= {"from": sender, "date": int(time.time()), "chat": copy.deepcopy(target.chat)}
            if reply_to is not None:
                quoted = reply_to.as_api()
                quoted.pop("reply_to_message", None)
                data["reply_to_message"] = quoted
            data |= extra or {}
            data |= copy.deepcopy(content)
            stored = StoredMessage(target.key, data, sender_bot_id, time.monotonic(), service)
            self.messages[target.key].append(stored)
            return stored

    def find_message(self, key: ChatKey, message_id: Any) -> StoredMessage | None:
        with self.lock:
            return next((m for m in self.messages.get(key, ())
                         if m.data["message_id"] == message_id and not m.deleted), None)

    def chat_keys(self, chat_id: int, bot_id: int | None) -> list[ChatKey]:
        """Storage keys of ``chat_id``: a group, or a user's private chats (with ``bot_id``)."""
        with self.lock:
            if chat_id < 0:
                return [(0, chat_id)]
            return [key for key in self.messages
                    if key[1] == chat_id and key[0] != 0 and bot_id in (None, key[0])]

    # --- files -----------------------------------------------------------------------------------

    def store_file(self, data: bytes, *, file_name: str | None = None,
                   mime_type: str | None = None, file_id: str | None = None) -> StoredFile:
        with self.lock:
            digest = hashlib.sha1(data + (file_id or "").encode(), usedforsecurity=False)
            unique = digest.hexdigest()[:16]
            stored = StoredFile(file_id or f"EMU-{unique}-{len(self.files) + 1}", unique, data,
                                file_name, mime_type)
            self.files[stored.file_id] = stored
            return stored

    # --- updates ---------------------------------------------------------------------------------

    def queue(self, bot_id: int) -> UpdateQueue:
        with self.lock:
            return self.queues.setdefault(bot_id, UpdateQueue(next_id=FIRST_UPDATE_ID))

    def enqueue(self, bot_id: int, update_type: str, obj: dict[str, Any], *,
                force: bool = False) -> int | None:
        """Queue ``{update_type: obj}`` for the bot; None if its allowed_updates drop it."""
        with self.changing():
            queue = self.queue(bot_id)
            if not force and not queue.allows(update_type):
                queue.dropped.append({update_type: copy.deepcopy(obj)})
                return None
            return self.enqueue_raw(bot_id, {update_type: obj})

    def enqueue_raw(self, bot_id: int, update: dict[str, Any],
                    update_id: int | None = None) -> int:
        with self.changing():
            queue = self.queue(bot_id)
            if update_id is None:
                update_id = int(update.get("update_id") or queue.next_id)
            queue.next_id = max(queue.next_id, update_id + 1)
            payload = {"update_id": update_id} | copy.deepcopy(
                {k: v for k, v in update.items() if k != "update_id"})
            queue.items.append(QueuedUpdate(update_id, payload))
            queue.history.append(copy.deepcopy(payload))
            return update_id

    def redeliver(self, bot_id: int, update_id: int) -> None:
        with self.changing():
            queue = self.queue(bot_id)
            payload = next((u for u in queue.history if u["update_id"] == update_id), None)
            if payload is None:
                msg = f"bot {bot_id} never had update {update_id}"
                raise KeyError(msg)
            position = sum(1 for item in queue.items if item.forced)
            queue.items.insert(position, QueuedUpdate(update_id, copy.deepcopy(payload), True))

    def take_updates(self, bot_id: int, offset: int | None, limit: int) -> list[dict[str, Any]]:
        """getUpdates without waiting: confirm by ``offset``, then hand out up to ``limit``."""
        with self.changing():
            queue = self.queue(bot_id)
            items = [i for i in queue.items if not (i.forced and i.handed_out)]
            if offset is not None and offset > 0:
                items = [i for i in items if i.forced or i.update_id >= offset]
            elif offset is not None and offset < 0:
                items = items[offset:]
            queue.items = items
            batch = items[: max(1, min(limit, 100))]
            for item in batch:
                item.handed_out = True
            return [copy.deepcopy(item.payload) for item in batch]

    def has_updates(self, bot_id: int) -> bool:
        with self.lock:
            return any(not (i.forced and i.handed_out) for i in self.queue(bot_id).items)

    # --- calls -----------------------------------------------------------------------------------

    def record_call(self, token: str, bot_id: int | None, method: str, params: dict[str, Any],
                    files: dict[str, str]) -> Call:
        with self.changing():
            call = Call(next(self._call_seq), token, bot_id, method, params, files,
                        time.monotonic())
            self.calls.append(call)
            return call

    def finish_call(self, call: Call, status: int | None, response: Any, outcome: str) -> None:
        with self.changing():
            call.status, call.response, call.outcome = status, response, outcome
            call.finished = time.monotonic()

    def add_violations(self, call: Call, violations: list[Violation]) -> None:
        with self.changing():
            call.violations.extend(violations)
            self.violations.extend(violations)

    def new_callback(self, bot_id: int, user_id: int, data: str,
                     message: dict[str, Any]) -> CallbackQueryRecord:
        with self.lock:
            record = CallbackQueryRecord(self.new_query_id(), bot_id, user_id, data, message)
            self.callbacks[record.id] = record
            return record
