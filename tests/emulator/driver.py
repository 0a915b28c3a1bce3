"""The test driver: :class:`Emulator`, the one object tests talk to (thread-safe)."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from tests.emulator import actions
from tests.emulator.faults import Fault, FaultBook
from tests.emulator.model import (
    ACTIVE_STATUSES,
    BotAccount,
    BotMembership,
    Call,
    ForumTopic,
    GroupChat,
    MemberStatus,
    StoredMessage,
    UserAccount,
    WebhookDelivery,
)
from tests.emulator.server import EmulatorServer
from tests.emulator.spec import SpecValidator, Violation, format_violations
from tests.emulator.webhooks import WebhookPusher
from tests.emulator.world import ChatTarget, World

T = TypeVar("T")
ChatRef = int | GroupChat | UserAccount
RECENT_CALLS = 20


def _chat_id(chat: ChatRef) -> int:
    return chat if isinstance(chat, int) else chat.id


class Emulator:
    """A local Telegram Bot API for aiogram bots, with a driver for tests.

    ``reject_violations``: answer requests that break the spec with 400 (they are recorded
    either way). ``strict_rates``: answer 429 like Telegram when flood limits are exceeded.
    ``webhook_retry``: seconds before the first retry of a failed webhook push, doubling up to
    the second value (Telegram waits much longer; tests should not). ``webhook_timeout``:
    seconds a push waits for the bot's answer.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0,
                 reject_violations: bool = True, strict_rates: bool = False,
                 spec_path: str | Path | None = None,
                 webhook_retry: tuple[float, float] = (0.2, 2.0),
                 webhook_timeout: float = 10.0) -> None:
        self.world = World()
        self.world.strict_rates = strict_rates
        self.validator = SpecValidator.load(spec_path)
        self.faults = FaultBook()
        pusher = WebhookPusher(self.world, first_retry=webhook_retry[0],
                               max_retry=webhook_retry[1], timeout=webhook_timeout)
        self.server = EmulatorServer(self.world, self.validator, self.faults, host=host,
                                     port=port, reject_violations=reject_violations,
                                     pusher=pusher)
        self._bot_ids = itertools.count(900_001)

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        with self.world.changing():
            self.world.closing = False
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """For ``TelegramAPIServer.from_base(base_url)`` / ``TELEGRAM_API_URL``."""
        return self.server.base_url

    @property
    def port(self) -> int:
        return self.server.port

    # --- setup -----------------------------------------------------------------------------------

    def add_bot(self, token: str | None = None, username: str = "test_bot",
                first_name: str | None = None, *, can_join_groups: bool = True,
                can_read_all_group_messages: bool = False) -> BotAccount:
        """A bot; its id is the token's number, as with Telegram."""
        with self.world.changing():
            head = (token or "").split(":", 1)[0]
            bot_id = int(head) if head.isdigit() else next(self._bot_ids)
            token = token or f"{bot_id}:EMULATOR-{bot_id}"
            if bot_id in self.world.bots or bot_id in self.world.users:
                msg = f"id {bot_id} (from token {token!r}) is taken"
                raise ValueError(msg)
            bot = BotAccount(bot_id, token, username, first_name or username,
                             can_join_groups, can_read_all_group_messages)
            self.world.bots[bot_id] = bot
            self.world.queue(bot_id)
            return bot

    def bot(self, token: str) -> BotAccount:
        found = self.world.bot_by_token(token)
        if found is None:
            msg = "no bot with that token"
            raise KeyError(msg)
        return found

    def add_user(self, first_name: str = "Иван", username: str | None = None, *,
                 last_name: str | None = None, language_code: str | None = "ru",
                 user_id: int | None = None,
                 started: Iterable[BotAccount] = ()) -> UserAccount:
        """A user; ``started``: bots whose private chat they opened (else the first message
        they send opens it; until then bots get 403 "can't initiate conversation")."""
        with self.world.changing():
            uid = user_id if user_id is not None else self.world.new_user_id()
            if uid in self.world.users or uid in self.world.bots:
                msg = f"user id {uid} is taken"
                raise ValueError(msg)
            user = UserAccount(uid, first_name, last_name, username, language_code)
            self.world.users[uid] = user
            for bot in started:
                self.world.private_state(bot.id, uid).started = True
            return user

    def add_group(self, title: str = "Операторы", *, forum: bool = False,
                  supergroup: bool = True, members: Mapping[int, MemberStatus] | None = None,
                  bots: Iterable[BotAccount] | None = None, bot_admin: bool = True,
                  can_manage_topics: bool = True, username: str | None = None) -> GroupChat:
        """A group (``supergroup=False``: a basic group; ``forum=True``: a forum supergroup).

        ``members``: user id -> status. ``bots``: bots in the group (default: every bot added so
        far), administrators unless ``bot_admin=False``.
        """
        if forum and not supergroup:
            msg = "forums are supergroups"
            raise ValueError(msg)
        with self.world.changing():
            group = GroupChat(self.world.new_group_id(supergroup), title,
                              "supergroup" if supergroup else "group", forum, username,
                              dict(members or {}))
            status: MemberStatus = "administrator" if bot_admin else "member"
            for bot in (self.world.bots.values() if bots is None else bots):
                group.bots[bot.id] = BotMembership(status, can_manage_topics and bot_admin)
            self.world.groups[group.id] = group
            return group

    def set_member(self, group: GroupChat, user: UserAccount, status: MemberStatus, *,
                   actor: UserAccount | None = None) -> None:
        """Change a person's membership; administrator bots get a ``chat_member`` update."""
        actions.set_member(self.world, group, user, status, actor=actor)

    def set_bot_membership(self, bot: BotAccount, group: GroupChat,
                           status: MemberStatus = "administrator", *,
                           can_manage_topics: bool = True, can_delete_messages: bool = True,
                           actor: UserAccount | None = None) -> None:
        """Add/promote/demote/kick a bot; it gets a ``my_chat_member`` update."""
        actions.set_bot_membership(self.world, bot, group, status,
                                   can_manage_topics=can_manage_topics,
                                   can_delete_messages=can_delete_messages, actor=actor)

    def add_topic(self, group: GroupChat, name: str, *,
                  creator: UserAccount | None = None) -> ForumTopic:
        """A topic created by a person (bots create theirs with createForumTopic)."""
        with self.world.changing():
            if not group.is_forum:
                msg = f"{group.title!r} is not a forum"
                raise ValueError(msg)
            target = ChatTarget((0, group.id), group.chat(), group=group)
            sender = creator.user() if creator else {"id": 777000, "is_bot": False,
                                                     "first_name": "Telegram"}
            stored = self.world.add_message(target, sender, {
                "forum_topic_created": {"name": name, "icon_color": 0x6FB9F0}},
                sender_bot_id=None, service=True)
            thread_id = int(stored.data["message_id"])
            stored.data |= {"message_thread_id": thread_id, "is_topic_message": True}
            topic = ForumTopic(thread_id, name)
            group.topics[thread_id] = topic
            return topic

    def migrate_group(self, group: GroupChat) -> GroupChat:
        """Upgrade a basic group: sends to the old id get 400 with ``migrate_to_chat_id``."""
        with self.world.changing():
            if group.type != "group":
                msg = "only basic groups migrate"
                raise ValueError(msg)
            new = GroupChat(self.world.new_group_id(True), group.title, "supergroup", False,
                            group.username, dict(group.members),
                            {k: copy.copy(v) for k, v in group.bots.items()})
            self.world.groups[new.id] = new
            group.migrated_to = new.id
            return new

    def set_webhook(self, bot: BotAccount, url: str, *, secret_token: str | None = None,
                    max_connections: int = 40) -> None:
        """As if the bot had called setWebhook: its updates are POSTed to ``url`` (with
        ``secret_token`` in X-Telegram-Bot-Api-Secret-Token), getUpdates answers 409. An empty
        ``url`` deletes the webhook."""
        with self.world.changing():
            bot.webhook_url = url
            bot.webhook_secret = secret_token or ""
            bot.webhook_max_connections = max_connections

    def deliveries(self, bot: BotAccount | None = None) -> list[WebhookDelivery]:
        """Webhook POSTs made so far, oldest first (``update_id``, ``url``, ``status``,
        ``error``, ``time``); failed ones too."""
        with self.world.lock:
            return [d for d in self.world.deliveries if bot is None or d.bot_id == bot.id]

    def webhook_error(self, bot: BotAccount) -> tuple[int, str] | None:
        """getWebhookInfo's ``(last_error_date, last_error_message)``, or None."""
        with self.world.lock:
            if bot.webhook_last_error_date is None:
                return None
            return bot.webhook_last_error_date, bot.webhook_last_error_message or ""

    def set_strict_rates(self, enabled: bool = True) -> None:
        with self.world.changing():
            self.world.strict_rates = enabled

    # --- what users do ---------------------------------------------------------------------------

    def send_text(self, bot: BotAccount, user: UserAccount, text: str, *,
                  chat: GroupChat | None = None, thread_id: int | None = None,
                  reply_to: Mapping[str, Any] | int | None = None,
                  entities: list[dict[str, Any]] | None = None,
                  anonymous_admin: bool = False) -> dict[str, Any]:
        """The user writes ``text`` to the bot (or into ``chat``); returns the Message."""
        return self.send_content(bot, user, actions.text_content(text, entities), chat=chat,
                                 thread_id=thread_id, reply_to=reply_to,
                                 anonymous_admin=anonymous_admin)

    def send_content(self, bot: BotAccount, user: UserAccount, content: dict[str, Any], *,
                     chat: GroupChat | None = None, thread_id: int | None = None,
                     reply_to: Mapping[str, Any] | int | None = None,
                     anonymous_admin: bool = False) -> dict[str, Any]:
        """Any message content (Message fields such as ``{"dice": {...}}``)."""
        return actions.send(self.world, bot, user, content, chat=chat, thread_id=thread_id,
                            reply_to=reply_to, anonymous_admin=anonymous_admin)

    def _file(self, name: str, mime_type: str | None = None) -> dict[str, Any]:
        stored = self.world.store_file(f"emulated {name}".encode(), file_name=name,
                                       mime_type=mime_type)
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data)}

    @staticmethod
    def _caption(caption: str | None,
                 caption_entities: list[dict[str, Any]] | None) -> dict[str, Any]:
        content: dict[str, Any] = {}
        if caption is not None:
            content["caption"] = caption
        if caption_entities:
            content["caption_entities"] = caption_entities
        return content

    def send_photo(self, bot: BotAccount, user: UserAccount, *, caption: str | None = None,
                   caption_entities: list[dict[str, Any]] | None = None,
                   **where: Any) -> dict[str, Any]:
        sizes = [self._file("photo_s.jpg") | {"width": 90, "height": 67},
                 self._file("photo_m.jpg") | {"width": 1280, "height": 960}]
        return self.send_content(bot, user, {"photo": sizes} | self._caption(
            caption, caption_entities), **where)

    def send_document(self, bot: BotAccount, user: UserAccount, *,
                      file_name: str = "document.pdf", mime_type: str = "application/pdf",
                      caption: str | None = None,
                      caption_entities: list[dict[str, Any]] | None = None,
                      **where: Any) -> dict[str, Any]:
        document = self._file(file_name, mime_type) | {"file_name": file_name,
                                                       "mime_type": mime_type}
        return self.send_content(bot, user, {"document": document} | self._caption(
            caption, caption_entities), **where)

    def send_voice(self, bot: BotAccount, user: UserAccount, *, duration: int = 3,
                   caption: str | None = None, **where: Any) -> dict[str, Any]:
        voice = self._file("voice.ogg", "audio/ogg") | {"duration": duration,
                                                       "mime_type": "audio/ogg"}
        return self.send_content(bot, user, {"voice": voice} | self._caption(caption, None),
                                 **where)

    def send_sticker(self, bot: BotAccount, user: UserAccount, *, emoji: str = "👍",
                     **where: Any) -> dict[str, Any]:
        sticker = self._file("sticker.webp") | {
            "type": "regular", "width": 512, "height": 512, "is_animated": False,
            "is_video": False, "emoji": emoji}
        return self.send_content(bot, user, {"sticker": sticker}, **where)

    def send_location(self, bot: BotAccount, user: UserAccount, latitude: float = 55.7558,
                      longitude: float = 37.6173, **where: Any) -> dict[str, Any]:
        return self.send_content(bot, user, {"location": {"latitude": latitude,
                                                          "longitude": longitude}}, **where)

    def send_contact(self, bot: BotAccount, user: UserAccount,
                     phone_number: str = "+79990000000", first_name: str | None = None,
                     **where: Any) -> dict[str, Any]:
        contact = {"phone_number": phone_number, "first_name": first_name or user.first_name,
                   "user_id": user.id}
        return self.send_content(bot, user, {"contact": contact}, **where)

    def edit_text(self, bot: BotAccount, user: UserAccount, message: Mapping[str, Any] | int,
                  text: str, *, chat: GroupChat | None = None) -> dict[str, Any]:
        """The user edits their message (text or caption); the bot gets ``edited_message``."""
        return actions.edit(self.world, bot, user, message, text, chat=chat)

    def press_button(self, bot: BotAccount, user: UserAccount,
                     message: Mapping[str, Any] | int, callback_data: str, *,
                     chat: GroupChat | None = None) -> str:
        """A tap on an inline button of ``message``; returns the callback query id.

        ``callback_data`` is not checked against the keyboard, so forged data works too."""
        return actions.press_button(self.world, bot, user, message, callback_data, chat=chat)

    def block_bot(self, bot: BotAccount, user: UserAccount) -> None:
        """Sends to the user now get 403 "bot was blocked by the user"."""
        actions.set_blocked(self.world, bot, user, blocked=True)

    def unblock_bot(self, bot: BotAccount, user: UserAccount) -> None:
        actions.set_blocked(self.world, bot, user, blocked=False)

    def deactivate(self, user: UserAccount) -> None:
        """Sends to the user now get 403 "user is deactivated"."""
        with self.world.changing():
            user.deactivated = True

    def inject_update(self, bot: BotAccount, update: Mapping[str, Any], *,
                      update_id: int | None = None) -> int:
        """Queue a raw update as given (any type, even unknown; not filtered by
        allowed_updates); returns its id. ``update_id`` may jump ahead; one below the offset
        the bot already confirmed is dropped by its next getUpdates, as with Telegram."""
        return self.world.enqueue_raw(bot.id, dict(update), update_id)

    def redeliver(self, bot: BotAccount, update_id: int) -> None:
        """Deliver an update again (same update_id), whatever the bot confirmed."""
        self.world.redeliver(bot.id, update_id)

    # --- reading ---------------------------------------------------------------------------------

    def calls(self, bot: BotAccount | None = None, method: str | None = None) -> list[Call]:
        """Recorded requests in order (``Call.params`` decoded; ``Call.response`` once done)."""
        with self.world.lock:
            return [c for c in self.world.calls
                    if (bot is None or c.bot_id == bot.id)
                    and (method is None or c.method.lower() == method.lower())]

    def _stored(self, chat: ChatRef, bot: BotAccount | None, thread_id: int | None,
                include_users: bool, include_service: bool,
                include_deleted: bool) -> list[StoredMessage]:
        with self.world.lock:
            keys = self.world.chat_keys(_chat_id(chat), bot.id if bot else None)
            found = [m for key in keys for m in self.world.messages.get(key, ())
                     if (include_users or m.sender_bot_id is not None)
                     and (bot is None or include_users or m.sender_bot_id == bot.id)
                     and (include_service or not m.service)
                     and (include_deleted or not m.deleted)
                     and (thread_id is None or m.data.get("message_thread_id") == thread_id)]
            return sorted(found, key=lambda m: m.time)

    def messages(self, chat: ChatRef, *, bot: BotAccount | None = None,
                 thread_id: int | None = None, include_users: bool = False,
                 include_service: bool = False,
                 include_deleted: bool = False) -> list[dict[str, Any]]:
        """What bots sent to ``chat`` (a user id: their private chats), oldest first, in their
        current state (edits applied). ``reply_markup`` is as sent, any keyboard type."""
        stored = self._stored(chat, bot, thread_id, include_users, include_service,
                              include_deleted)
        return [copy.deepcopy(m.data) for m in stored]

    def last_message(self, chat: ChatRef, *, bot: BotAccount | None = None,
                     thread_id: int | None = None) -> dict[str, Any] | None:
        found = self.messages(chat, bot=bot, thread_id=thread_id)
        return found[-1] if found else None

    def message(self, chat: ChatRef, message_id: int, *,
                bot: BotAccount | None = None) -> dict[str, Any]:
        """One message (any sender, deleted too) in its current state."""
        for stored in self._stored(chat, bot, None, True, True, True):
            if stored.data["message_id"] == message_id:
                return copy.deepcopy(stored.data)
        msg = f"no message {message_id} in chat {_chat_id(chat)}"
        raise KeyError(msg)

    def is_deleted(self, chat: ChatRef, message_id: int, *,
                   bot: BotAccount | None = None) -> bool:
        return any(m.deleted and m.data["message_id"] == message_id
                   for m in self._stored(chat, bot, None, True, True, True))

    def callback_answers(self, query_id: str | None = None, *,
                         bot: BotAccount | None = None) -> list[dict[str, Any]]:
        """answerCallbackQuery attempts (params plus ``"ok"``: False for a repeated answer)."""
        with self.world.lock:
            return [copy.deepcopy(a) for q in self.world.callbacks.values()
                    if (query_id is None or q.id == query_id)
                    and (bot is None or q.bot_id == bot.id) for a in q.answers]

    def callback_answered(self, query_id: str) -> bool:
        return any(a["ok"] for a in self.callback_answers(query_id))

    def topics(self, group: GroupChat) -> list[ForumTopic]:
        with self.world.lock:
            return [copy.copy(t) for t in group.topics.values()]

    def updates(self, bot: BotAccount) -> list[dict[str, Any]]:
        """Every update ever queued for the bot."""
        with self.world.lock:
            return copy.deepcopy(self.world.queue(bot.id).history)

    def dropped_updates(self, bot: BotAccount) -> list[dict[str, Any]]:
        """Updates not queued because the bot's ``allowed_updates`` excluded their type."""
        with self.world.lock:
            return copy.deepcopy(self.world.queue(bot.id).dropped)

    def pending_updates(self, bot: BotAccount) -> list[dict[str, Any]]:
        """Updates not confirmed yet (getUpdates offset)."""
        with self.world.lock:
            return [copy.deepcopy(i.payload) for i in self.world.queue(bot.id).items]

    def member_status(self, group: GroupChat, bot: BotAccount) -> str:
        with self.world.lock:
            membership = group.bots.get(bot.id)
            return membership.status if membership else "left"

    def is_member(self, group: GroupChat, bot: BotAccount) -> bool:
        return self.member_status(group, bot) in ACTIVE_STATUSES

    # --- spec violations -------------------------------------------------------------------------

    def violations(self) -> list[Violation]:
        with self.world.lock:
            return list(self.world.violations)

    def take_violations(self) -> list[Violation]:
        """Return the recorded violations and forget them (for tests that break the spec on
        purpose and then check what was caught)."""
        with self.world.changing():
            found = list(self.world.violations)
            self.world.violations.clear()
            return found

    def assert_no_violations(self, *, ignore: Iterable[str] = ()) -> None:
        """Fail listing every recorded violation (``ignore``: Violation codes to allow)."""
        skipped = set(ignore)
        found = [v for v in self.violations() if v.code not in skipped]
        if found:
            msg = f"{len(found)} Bot API spec violation(s):\n{format_violations(found)}"
            raise AssertionError(msg)

    # --- waiting ---------------------------------------------------------------------------------

    def recent_calls(self, count: int = RECENT_CALLS) -> str:
        with self.world.lock:
            shown = self.world.calls[-count:]
            return "\n".join(f"  {c.summary()}" for c in shown) or "  (no requests)"

    def _timeout(self, what: str, timeout: float) -> AssertionError:
        return AssertionError(f"timed out after {timeout} s waiting for {what}; "
                              f"last requests:\n{self.recent_calls()}")

    def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0,
                 message: str | None = None) -> T:
        """Block until ``predicate()`` is truthy and return it; re-checked on every change."""
        result = self.world.notifier.wait(predicate, timeout)
        if not result:
            raise self._timeout(message or str(getattr(predicate, "__name__", "a condition")),
                                timeout)
        return result

    async def await_for(
            self, predicate: Callable[[], T | None],
            timeout: float = 5.0,  # noqa: ASYNC109 - same signature as wait_for, by design
            message: str | None = None) -> T:
        """:meth:`wait_for` for async tests: does not block the caller's event loop."""
        result = await self.world.notifier.wait_async(predicate, timeout)
        if not result:
            raise self._timeout(message or str(getattr(predicate, "__name__", "a condition")),
                                timeout)
        return result

    def _message_matcher(self, chat: ChatRef, contains: str | None, bot: BotAccount | None,
                         thread_id: int | None,
                         after: int) -> Callable[[], dict[str, Any] | None]:
        def match() -> dict[str, Any] | None:
            for message in self.messages(chat, bot=bot, thread_id=thread_id)[after:]:
                body = message.get("text") or message.get("caption") or ""
                if contains is None or contains in body:
                    return message
            return None
        return match

    def wait_for_message(self, chat: ChatRef, *, contains: str | None = None,
                         bot: BotAccount | None = None, thread_id: int | None = None,
                         after: int = 0, timeout: float = 5.0) -> dict[str, Any]:
        """The first bot message in ``chat`` (from index ``after``) containing ``contains``."""
        what = f"a message in chat {_chat_id(chat)} containing {contains!r}"
        return self.wait_for(self._message_matcher(chat, contains, bot, thread_id, after),
                             timeout, what)

    async def await_for_message(
            self, chat: ChatRef, *, contains: str | None = None,
            bot: BotAccount | None = None, thread_id: int | None = None, after: int = 0,
            timeout: float = 5.0,  # noqa: ASYNC109 - mirrors wait_for_message
    ) -> dict[str, Any]:
        what = f"a message in chat {_chat_id(chat)} containing {contains!r}"
        return await self.await_for(
            self._message_matcher(chat, contains, bot, thread_id, after), timeout, what)

    def _call_matcher(self, method: str, bot: BotAccount | None,
                      where: Callable[[Call], bool] | None, finished: bool,
                      after: int) -> Callable[[], Call | None]:
        def match() -> Call | None:
            return next((c for c in self.calls(bot, method)
                         if c.seq > after and (not finished or c.outcome != "pending")
                         and (where is None or where(c))), None)
        return match

    def wait_for_call(self, method: str, *, bot: BotAccount | None = None,
                      where: Callable[[Call], bool] | None = None, finished: bool = True,
                      after: int = 0, timeout: float = 5.0) -> Call:
        """The first recorded ``method`` call (with seq > ``after``) matching ``where``."""
        return self.wait_for(self._call_matcher(method, bot, where, finished, after), timeout,
                             f"a {method} call")

    async def await_for_call(
            self, method: str, *, bot: BotAccount | None = None,
            where: Callable[[Call], bool] | None = None, finished: bool = True, after: int = 0,
            timeout: float = 5.0,  # noqa: ASYNC109 - mirrors wait_for_call
    ) -> Call:
        return await self.await_for(self._call_matcher(method, bot, where, finished, after),
                                    timeout, f"a {method} call")

    @property
    def last_seq(self) -> int:
        """Sequence number of the latest request (for ``after=``)."""
        with self.world.lock:
            return self.world.calls[-1].seq if self.world.calls else 0

    # --- faults and outages ----------------------------------------------------------------------

    def inject_fault(self, method: str | None = None, *, bot: BotAccount | None = None,
                     chat_id: int | str | None = None, contains: str | None = None,
                     times: int | None = 1, status: int | None = None,
                     description: str | None = None, retry_after: int | None = None,
                     migrate_to_chat_id: int | None = None, delay: float | None = None,
                     after_commit: bool = False, drop_connection: bool = False,
                     html_body: str | None = None) -> Fault:
        """Make matching requests fail; returns the fault (``.hits``, ``.cancel()``).

        Match: ``method``, ``bot``, ``chat_id``, ``contains`` (in text or caption); fires
        ``times`` times (None: until cancelled). Effect: JSON error ``status`` +
        ``description`` (defaults: 429 with ``retry_after``, 400 with ``migrate_to_chat_id``,
        502 with ``html_body``), or ``drop_connection``, after an optional ``delay``.
        ``after_commit=True``: the method runs first (the message is stored), then the delay /
        drop / error follows.
        """
        return self.faults.add(Fault(
            method, bot.id if bot else None, chat_id, contains, times, status, description,
            retry_after, migrate_to_chat_id, delay, after_commit, drop_connection, html_body))

    def clear_faults(self) -> None:
        self.faults.clear()

    def pause(self) -> None:
        """Stop listening and close open connections, like a crashed server: new connections
        are refused; a request on a client's pooled keep-alive connection may fail first with
        "Server disconnected"."""
        self.server.pause()

    def resume(self) -> None:
        """Listen again, on the same port."""
        self.server.resume()

    def stop_accepting(self, seconds: float) -> None:
        """:meth:`pause` now and :meth:`resume` after ``seconds``; returns at once."""
        self.server.pause_for(seconds)

    @property
    def paused(self) -> bool:
        return self.server.paused

    # --- rates -----------------------------------------------------------------------------------

    def send_times(self, chat_id: ChatRef | None = None,
                   bot: BotAccount | None = None) -> list[float]:
        """Monotonic times of successful sends (sendX, copyMessage, forwardMessage)."""
        with self.world.lock:
            return self.world.sends.times(None if chat_id is None else _chat_id(chat_id),
                                          bot.id if bot else None)

    def max_rate(self, chat_id: ChatRef | None = None, bot: BotAccount | None = None,
                 window: float = 1.0) -> int:
        """Most successful sends in any sliding window of ``window`` seconds."""
        with self.world.lock:
            return self.world.sends.max_rate(None if chat_id is None else _chat_id(chat_id),
                                             bot.id if bot else None, window)
