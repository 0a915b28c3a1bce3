"""The one path every outgoing message takes.

Handlers never call ``bot.send_message`` themselves: they hand the text to :class:`Delivery`,
which splits it under Telegram's limit, sends it without ``parse_mode`` (citizen and operator
text is never interpreted as markup) and adapts it to what Telegram refused (too long, a reply
to a deleted message, entities it cannot parse, a group upgraded to a supergroup).

Each message is recorded in the :class:`~escalation.outbox.Outbox` under a key before its
request and settled after it, so a message is sent once even when its update is handled again.
Every attempt, retries included, waits for its turn in the pacer
(:class:`~escalation.pacing.Pacing`: local, or shared by every replica through Redis).
Flood control (429) and transient failures (5xx, network trouble, timeouts, a proxy's HTML page)
are retried with a capped backoff for :attr:`RetryPolicy.horizon` (24 h: as long as Telegram
keeps the updates that led to the message) counted from the message's first reservation; then
the message is given up (:class:`GaveUp`, the row ``failed`` with the reason) like a message
Telegram refused for good (:class:`Undeliverable`), and the caller tells the people concerned.
Other Bot API calls (edits, buttons, chat information) are retried ``max_attempts`` times.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    CopyMessage,
    EditMessageText,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    MessageId,
    ReplyParameters,
)

from escalation.outbox import Outbox
from escalation.pacing import Pacer, Pacing
from escalation.scope import current_scope
from escalation.splitting import split_text
from escalation.turns import turn

log = logging.getLogger(__name__)
T = TypeVar("T")
#: The requests that send one message (each has its own outbox row).
OneMessage = SendMessage | CopyMessage | SendPhoto

# A proxy's HTML error page raises ClientDecodeError, which is not a TelegramAPIError.
TRANSIENT = (TelegramServerError, TelegramNetworkError, ClientDecodeError)
#: Part size (UTF-16 units) used when Telegram refuses a part as too long after all.
SHORTER_LIMIT = 2000


def _unknown_outcome(error: Exception) -> bool:
    """Whether Telegram may have carried out a request that failed this way."""
    text = str(error).lower()
    return isinstance(error, TelegramNetworkError) and (
        "timeout" in text or "disconnect" in text or "reset" in text)


class Undeliverable(Exception):
    """Telegram refused the message for good (blocked bot, deleted chat, bad request)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GaveUp(Undeliverable):
    """Telegram kept failing (flood control, errors, unreachable) until the retry horizon
    passed; ``reason`` starts with :data:`GAVE_UP` and names the last failure."""


#: How the reason of every :class:`GaveUp` starts (in the outbox row and ticket events too).
GAVE_UP = "gave up retrying"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_attempts`` bounds the retries of calls that are not messages; a message is retried
    for ``horizon`` seconds from its first reservation (Telegram keeps updates for 24 h, so a
    message that old answers a question nobody can ask again), never waiting longer than
    ``max_delay`` between two attempts."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    horizon: float = 24 * 3600.0

    def backoff(self, attempt: int) -> float:
        """Jittered exponential backoff for the ``attempt``-th retry (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


@dataclass
class Delivery:
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    on_chat_migrated: Callable[[int, int], Awaitable[None]] | None = None
    migrated: dict[int, int] = field(default_factory=dict)
    pacer: Pacing = field(default_factory=Pacer)
    outbox: Outbox | None = None
    clock: Callable[[], float] = time.monotonic
    #: A message still waiting for its pacer turn after this many seconds is recorded as not
    #: in flight meanwhile (:func:`escalation.turns.turn`).
    turn_grace: float = 0.05

    def next_key(self, chat_id: int, key: str | None = None) -> str:
        """The outbox key of the next message to ``chat_id``: given, from the update being
        handled (numbered per chat), or new."""
        if key is not None:
            return key
        scope = current_scope()
        if scope is None:
            return f"x{uuid.uuid4().hex}"
        return scope.next_key(chat_id)

    async def _through_outbox(self, bot: Bot, method: OneMessage,
                              key: str) -> int:
        """Send once per key: a key already sent returns its message id without a request.

        Retried until the horizon counted from the key's first reservation (also across
        restarts); raises :class:`Undeliverable` (:class:`GaveUp` after the horizon), and the
        row keeps the reason."""
        unknown: list[str] = []
        if self.outbox is None:
            deadline = self.clock() + self.policy.horizon
            return (await self._send_with_fallbacks(bot, method, deadline, unknown)).message_id
        reservation = await self.outbox.reserve(
            str(bot.id), key, chat_id=int(method.chat_id), method=method.__api_method__)
        if reservation.sent and reservation.message_ids:
            log.info("message %s already sent, not sending it again", reservation.id)
            return reservation.message_ids[-1]
        if reservation.failed:
            raise Undeliverable(reservation.error or "refused earlier")
        # At least one attempt, even for a row older than the horizon (a card tried again).
        deadline = self.clock() + self.policy.horizon - self.outbox.age(reservation)
        try:
            result = await self._send_with_fallbacks(bot, method, deadline, unknown,
                                                     row=reservation.id)
        except Undeliverable as error:
            if isinstance(error, GaveUp):
                log.error("GAVE UP bot %s: message %d (%s) not delivered: %s", bot.id,
                          reservation.id, key, error.reason)
            await self.outbox.failed(reservation.id, error.reason)
            raise
        except asyncio.CancelledError:
            if not unknown:  # stopped between attempts: nothing was carried out
                await asyncio.shield(self.outbox.not_sent(reservation.id))
            raise
        await self.outbox.sent(reservation.id, [result.message_id], maybe_duplicate=bool(unknown))
        return result.message_id

    async def send_text(
        self,
        bot: Bot,
        chat_id: int,
        text: str,
        *,
        entities: Sequence[MessageEntity] = (),
        reply_markup: InlineKeyboardMarkup | None = None,
        reply_to_message_id: int | None = None,
        message_thread_id: int | None = None,
        key: str | None = None,
    ) -> list[int]:
        """Send ``text`` as one or more messages; the keyboard goes with the last part.

        Returns the ids of the sent messages. Raises :class:`Undeliverable` on a final refusal.
        ``key`` names the message in the outbox (default: the next key of the update being
        handled): a message already sent under it is not sent again.
        """
        key = self.next_key(chat_id, key)
        try:
            return await self._send_parts(bot, chat_id, text, entities, reply_markup,
                                          reply_to_message_id, message_thread_id, key,
                                          limit=None)
        except Undeliverable as error:
            if "too long" not in error.reason.lower():
                raise
            # Telegram counts differently from us (a newer limit, a proxy): smaller parts.
            log.warning("message refused as too long: resending in smaller parts")
            return await self._send_parts(bot, chat_id, text, entities, reply_markup,
                                          reply_to_message_id, message_thread_id,
                                          f"{key}/short", limit=SHORTER_LIMIT)

    async def _send_parts(
        self, bot: Bot, chat_id: int, text: str, entities: Sequence[MessageEntity],
        reply_markup: InlineKeyboardMarkup | None, reply_to_message_id: int | None,
        message_thread_id: int | None, key: str, *, limit: int | None,
    ) -> list[int]:
        parts = split_text(text, entities) if limit is None else split_text(
            text, entities, limit=limit)
        sent: list[int] = []
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            method = SendMessage(
                chat_id=chat_id,
                text=part.text,
                entities=list(part.entities) or None,
                reply_markup=reply_markup if last else None,
                message_thread_id=message_thread_id,
                reply_parameters=(
                    ReplyParameters(
                        message_id=reply_to_message_id, allow_sending_without_reply=True
                    )
                    if reply_to_message_id and index == 0
                    else None
                ),
                parse_mode=None,
            )
            part_key = key if len(parts) == 1 else f"{key}/{index}"
            sent.append(await self._through_outbox(bot, method, part_key))
        return sent

    async def edit_text(
        self,
        bot: Bot,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        entities: Sequence[MessageEntity] = (),
        reply_markup: InlineKeyboardMarkup | None = None,
        new_message_fallback: bool = True,
    ) -> None:
        """Replace a message's text; falls back to a new message when editing is impossible.

        Without ``new_message_fallback`` a refused edit raises :class:`Undeliverable`.
        """
        method = EditMessageText(
            chat_id=chat_id,
            message_id=message_id,
            text=text,
            entities=list(entities) or None,
            reply_markup=reply_markup,
            parse_mode=None,
        )
        try:
            await self._call(bot, self._retarget(method))
        except TelegramBadRequest as error:
            if "message is not modified" in error.message:
                return
            if not new_message_fallback:
                raise Undeliverable(error.message) from error
            log.info("edit failed (%s), sending a new message instead", error.message)
            await self.send_text(bot, chat_id, text, entities=entities, reply_markup=reply_markup)

    async def answer_callback(
        self, bot: Bot, callback_query_id: str, text: str | None = None, *, alert: bool = False
    ) -> None:
        """Answer a button press once; a stale query is not an error worth failing for."""
        try:
            await self._call(
                bot,
                AnswerCallbackQuery(
                    callback_query_id=callback_query_id, text=text, show_alert=alert or None
                ),
            )
        except TelegramBadRequest as error:
            log.info("callback answer refused: %s", error.message)

    async def send_photo(self, bot: Bot, chat_id: int, photo: bytes, *, filename: str,
                         caption: str | None = None, message_thread_id: int | None = None,
                         key: str | None = None) -> int:
        """Send a picture (a PNG chart, say) with an optional plain-text caption; returns the
        message id. Once per key, like every message."""
        method = SendPhoto(chat_id=chat_id, photo=BufferedInputFile(photo, filename),
                           caption=caption, message_thread_id=message_thread_id)
        return await self._through_outbox(bot, method, self.next_key(chat_id, key))

    async def copy(
        self,
        bot: Bot,
        *,
        from_chat_id: int,
        message_id: int,
        chat_id: int,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
        reply_markup: InlineKeyboardMarkup | None = None,
        key: str | None = None,
    ) -> int:
        """Copy a message (any content, formatting kept, no "forwarded from" header).

        Returns the new message's id; raises :class:`Undeliverable` on a final refusal.
        """
        key = self.next_key(chat_id, key)
        method = CopyMessage(
            chat_id=chat_id,
            from_chat_id=from_chat_id,
            message_id=message_id,
            message_thread_id=message_thread_id,
            reply_markup=reply_markup,
            reply_parameters=(
                ReplyParameters(message_id=reply_to_message_id, allow_sending_without_reply=True)
                if reply_to_message_id
                else None
            ),
        )
        return await self._through_outbox(bot, method, key)

    async def call(self, bot: Bot, method: TelegramMethod[T]) -> T:
        """Any other Bot API call, with the same waiting and retries as messages.

        Raises :class:`Undeliverable` when Telegram refuses it for good.
        """
        while True:
            method = self._retarget(method)
            try:
                return await self._call(bot, method)
            except TelegramMigrateToChat as error:
                await self._migrated(int(getattr(method, "chat_id", 0)),
                                     error.migrate_to_chat_id)
                if getattr(method, "chat_id", None) is None:
                    raise Undeliverable(error.message) from error
            except (TelegramBadRequest, TelegramForbiddenError) as error:
                raise Undeliverable(error.message) from error

    def current_chat(self, chat_id: int) -> int:
        """The id messages to ``chat_id`` go to now (a group may have become a supergroup)."""
        return self.migrated.get(chat_id, chat_id)

    def _retarget(self, method: TelegramMethod[T]) -> TelegramMethod[T]:
        """The same method addressed to the chat's current id (after a group upgrade)."""
        chat_id = getattr(method, "chat_id", None)
        if isinstance(chat_id, int) and chat_id in self.migrated:
            return method.model_copy(update={"chat_id": self.migrated[chat_id]})
        return method

    async def _migrated(self, old: int, new: int) -> None:
        self.migrated[old] = new
        if self.on_chat_migrated is not None:
            await self.on_chat_migrated(old, new)

    async def _send_with_fallbacks(
        self, bot: Bot, method: OneMessage, deadline: float, unknown: list[str], *,
        row: int | None = None,
    ) -> Message | MessageId:
        """Send one message, adapting it to what Telegram said was wrong with it; retried
        until ``deadline`` (:attr:`clock` time), then :class:`GaveUp`."""
        while True:
            method = cast(OneMessage, self._retarget(method))
            try:
                return await self._call(bot, cast(TelegramMethod[Message | MessageId], method),
                                        unknown, deadline=deadline, pace=int(method.chat_id),
                                        row=row)
            except (TelegramRetryAfter, *TRANSIENT) as error:
                maybe = " (an earlier attempt may have been delivered)" if unknown else ""
                msg = f"{GAVE_UP} after {self.policy.horizon:.0f} s: {type(error).__name__}: " \
                      f"{error}{maybe}"
                raise GaveUp(msg) from error
            except TelegramMigrateToChat as error:
                await self._migrated(int(method.chat_id), error.migrate_to_chat_id)
            except TelegramBadRequest as error:
                description = error.message.lower()
                if "replied not found" in description and method.reply_parameters:
                    method = method.model_copy(update={"reply_parameters": None})
                elif (
                    "can't parse entities" in description
                    and isinstance(method, SendMessage)
                    and method.entities
                ):
                    log.warning("entities rejected, resending as plain text")
                    method = method.model_copy(update={"entities": None})
                else:
                    raise Undeliverable(error.message) from error
            except TelegramForbiddenError as error:
                raise Undeliverable(error.message) from error

    async def _call(self, bot: Bot, method: TelegramMethod[T],
                    unknown: list[str] | None = None, *, deadline: float | None = None,
                    pace: int | None = None, row: int | None = None) -> T:
        """Call ``method``, waiting out flood control and retrying transient failures:
        ``max_attempts`` times, or until ``deadline`` when given. With ``pace`` (a chat id)
        every attempt waits for its turn in the pacer."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._attempt(bot, method, unknown, pace, row)
            except TelegramRetryAfter as error:
                delay = float(error.retry_after)
                if self._exhausted(attempt, delay, deadline):
                    raise
                log.info("flood control: waiting %s s", error.retry_after)
            except TRANSIENT as error:
                if unknown is not None and _unknown_outcome(error):
                    unknown.append(str(error))
                delay = self.policy.backoff(attempt)
                if self._exhausted(attempt, delay, deadline):
                    raise
                log.info("transient %s, retry %d in %.1f s", type(error).__name__, attempt, delay)
                if deadline is not None and attempt == self.policy.max_attempts:
                    log.error("ALERT bot %s: %s still failing after %d attempts (%s); retried "
                              "for up to %.0f s more", bot.id, method.__api_method__, attempt,
                              type(error).__name__, deadline - self.clock())
            await self.sleep(delay)

    async def _attempt(self, bot: Bot, method: TelegramMethod[T], unknown: list[str] | None,
                       pace: int | None, row: int | None = None) -> T:
        """One request; a paced one holds its place in the pacer until it is over."""
        try:
            if pace is None:
                return await bot(method)
            # Only while no earlier request's outcome is unknown: that must stay on the row.
            watched = None if unknown else row
            async with turn(self.pacer, bot.id, pace, outbox=self.outbox, row=watched,
                            grace=self.turn_grace):
                return await bot(method)
        except asyncio.CancelledError:
            if unknown is not None:
                unknown.append("stopped while a request was in flight")
            raise

    def _exhausted(self, attempt: int, delay: float, deadline: float | None) -> bool:
        """Whether to stop retrying instead of waiting ``delay`` for attempt ``attempt + 1``."""
        if deadline is None:
            return attempt >= self.policy.max_attempts
        return self.clock() + delay > deadline
