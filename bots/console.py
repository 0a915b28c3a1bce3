"""Chat with a topic bot in the terminal: the same dispatcher, handlers, FAQ and database.

Only the transport differs: a fake aiogram session turns the bot's requests into printed
text (buttons become numbered choices) and the person's input into updates. FAQ files are
reloaded when an editor saves them, as in the running bots (:meth:`FaqSource.watch`), so an
edit can be tried at once. Logs go to ``data/console.log`` (warnings also to the terminal)
so the conversation stays readable; ``verbose`` brings them all back to the terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO, cast

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageText,
    GetMe,
    SendMessage,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, Chat, InlineKeyboardMarkup, Message, Update, User

from bots.topic import Suite

LOG_FILE = Path("data/console.log")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
RELOAD_INTERVAL = 2.0  # seconds between checks of the FAQ files (the bots' default)


def setup_logging(*, verbose: bool, level: str = "INFO", path: Path = LOG_FILE) -> None:
    """Console chat logging: everything at ``level`` into ``path`` and only warnings and up
    on stderr; with ``verbose`` everything on stderr, as when the bots run."""
    if verbose:
        logging.basicConfig(level=level.upper(), format=LOG_FORMAT, force=True)
        return
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setLevel(logging.WARNING)
    handlers: list[logging.Handler] = [terminal]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(path, encoding="utf-8"))
    except OSError:
        pass  # a read-only folder: warnings still reach the terminal
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT, handlers=handlers, force=True)


CONSOLE_USER = User(id=100, is_bot=False, first_name="Гость", language_code="ru")
CONSOLE_CHAT = Chat(id=CONSOLE_USER.id, type="private", first_name="Гость")


class ConsoleSession(BaseSession):
    """Prints what the bot sends; remembers the buttons of the last keyboard."""

    def __init__(self, out: TextIO, bot_user: User) -> None:
        super().__init__()
        self.out = out
        self.bot_user = bot_user
        self.buttons: list[tuple[str, str, int]] = []  # (label, callback data, message id)
        self._ids = itertools.count(1)

    def _message(self, text: str, message_id: int | None = None) -> Message:
        return Message(message_id=message_id or next(self._ids), date=datetime.now(UTC),
                       chat=CONSOLE_CHAT, from_user=self.bot_user, text=text)

    def _print(self, text: str, markup: Any, message_id: int) -> None:
        self.out.write(f"\n🤖 {text}\n")
        if isinstance(markup, InlineKeyboardMarkup):
            self.buttons = [
                (b.text, b.callback_data or "", message_id)
                for row in markup.inline_keyboard for b in row
            ]
            for number, (label, _, _) in enumerate(self.buttons, start=1):
                self.out.write(f"   [{number}] {label}\n")
        self.out.flush()

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType],
                           timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
                           ) -> TelegramType:
        result: Any = True
        if isinstance(method, GetMe):
            result = self.bot_user
        elif isinstance(method, SendMessage):
            result = self._message(method.text or "")
            self._print(method.text or "", method.reply_markup, result.message_id)
        elif isinstance(method, EditMessageText):
            message_id = method.message_id or 0
            result = self._message(method.text or "", message_id)
            self._print(method.text or "", method.reply_markup, message_id)
        elif isinstance(method, AnswerCallbackQuery) and method.text:
            self.out.write(f"\n💬 {method.text}\n")
        return cast(TelegramType, result)

    async def stream_content(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        msg = "the console has no files to download"
        raise NotImplementedError(msg)

    async def close(self) -> None:
        return None


def _read_line() -> str | None:
    try:
        return input("\n> ")
    except EOFError:
        return None


def _reload_notice(out: TextIO, name: str) -> Callable[[str], Awaitable[None]]:
    async def notice(problem: str) -> None:
        out.write(f"\n⚠ FAQ бота {name} изменён, но в нём ошибки; бот отвечает по прежней "
                  f"версии:\n{problem}\n")
        out.flush()

    return notice


async def chat(dispatcher: Dispatcher, suite: Suite, name: str, *,
               out: TextIO = sys.stdout, reload_interval: float = RELOAD_INTERVAL) -> None:
    """Talk to bot ``name`` until EOF or /quit, reloading changed FAQ files meanwhile."""
    watchers = [
        asyncio.create_task(topic.faq.watch(reload_interval, _reload_notice(out, topic.name)),
                            name=f"faq-{topic.name}")
        for topic in suite.topics.values()
    ]
    try:
        await _converse(dispatcher, suite, name, out)
    finally:
        for watcher in watchers:
            watcher.cancel()
        for watcher in watchers:
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


async def _converse(dispatcher: Dispatcher, suite: Suite, name: str, out: TextIO) -> None:
    topic = suite.topics[name]
    assert topic.bot_id is not None
    assert topic.username is not None
    bot_user = User(id=topic.bot_id, is_bot=True, first_name=name, username=topic.username)
    session = ConsoleSession(out, bot_user)
    bot = Bot(f"{topic.bot_id}:console", session=session)
    out.write(f"Чат с ботом «{topic.texts.topic}». Пишите вопросы; цифра — нажать кнопку; "
              "/quit или Ctrl-D — выход.\n")
    update_ids = itertools.count(1)
    await dispatcher.feed_update(bot, _message_update(next(update_ids), "/start"))
    while (line := await asyncio.to_thread(_read_line)) is not None:
        line = line.strip()
        if line in {"/quit", "/exit"}:
            break
        if line.isascii() and line.isdigit() and 1 <= int(line) <= len(session.buttons):
            _, data, message_id = session.buttons[int(line) - 1]
            update = _callback_update(next(update_ids), data, session._message("", message_id))
        else:
            update = _message_update(next(update_ids), line)
        await dispatcher.feed_update(bot, update)


def _message_update(update_id: int, text: str) -> Update:
    message = Message(message_id=10_000 + update_id, date=datetime.now(UTC), chat=CONSOLE_CHAT,
                      from_user=CONSOLE_USER, text=text)
    return Update(update_id=update_id, message=message)


def _callback_update(update_id: int, data: str, message: Message) -> Update:
    query = CallbackQuery(id=str(update_id), from_user=CONSOLE_USER, chat_instance="console",
                          message=message, data=data)
    return Update(update_id=update_id, callback_query=query)
