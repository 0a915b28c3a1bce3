"""``python bot.py set-webhook`` / ``delete-webhook``: tell Telegram where to POST updates.

Run once when the replicas are deployed (or the address changes), not by every replica at
start: N replicas racing to set the same webhook would only repeat one another, and a replica
that deletes it (polling) would stop the others' traffic. Pending updates are kept either way
(``drop_pending_updates=False``): switching modes loses nothing.

Prints one line per bot for the operator (in Russian); the token and the secret never appear.
Exit code: 0 done, 1 Telegram refused or was unreachable for some bot, 2 the settings are
incomplete (nothing was sent).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Final, TextIO
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    AiogramError,
    TelegramAPIError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramUnauthorizedError,
)
from aiogram.utils.token import TokenValidationError

from bots.settings import Settings
from bots.topic import discover
from bots.webhook import parse_listen, webhook_path

#: Telegram's limit for concurrent POSTs to one bot's webhook (its maximum is 100).
MAX_CONNECTIONS: Final = 40
#: Seconds for one Bot API request.
API_TIMEOUT: Final = 30.0
#: What Telegram accepts as ``secret_token``.
SECRET_FORM: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")


def webhook_url(base: str, bot: str) -> str:
    """Where Telegram posts ``bot``'s updates: ``<WEBHOOK_URL>/telegram/<bot>``."""
    return base.rstrip("/") + webhook_path(bot)


def settings_problems(settings: Settings) -> list[str]:
    """Why a webhook cannot be set with these settings (Russian, for the operator)."""
    problems = []
    base = settings.webhook_url
    if not base:
        problems.append("не задан WEBHOOK_URL: публичный адрес https://… балансировщика")
    else:
        parts = urlsplit(base)
        if parts.scheme != "https" or not parts.hostname:
            problems.append(f"WEBHOOK_URL должен начинаться с https:// (Telegram шлёт вебхуки "
                            f"только по HTTPS), сейчас {base!r}")
        elif parts.query or parts.fragment:
            problems.append(f"WEBHOOK_URL — базовый адрес без ?… и #…, сейчас {base!r}")
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if not secret:
        problems.append("не задан WEBHOOK_SECRET: без него любой сможет слать боту обновления")
    elif not SECRET_FORM.fullmatch(secret):
        problems.append("WEBHOOK_SECRET: только латинские буквы, цифры, _ и -, от 1 до 256 "
                        "символов (так требует Telegram)")
    return problems


def _refusal(error: AiogramError, name: str, api_url: str) -> str:
    variable = f"{name.upper()}_BOT_TOKEN"
    if isinstance(error, TelegramUnauthorizedError | TelegramNotFound):
        return f"Telegram отклонил токен: проверьте {variable}"
    if isinstance(error, TelegramNetworkError):
        return f"Bot API недоступен по адресу {api_url} ({error.message})"
    if isinstance(error, TelegramAPIError):
        return f"Telegram отказал: {error.message}"
    return f"неожиданный ответ {api_url} ({type(error).__name__})"


async def set_webhooks(settings: Settings, *, delete: bool = False,
                       allowed_updates: Sequence[str] | None = None,
                       out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Set (or with ``delete`` remove) the webhook of every bot whose token is set.

    ``allowed_updates``: the update types the dispatcher handles
    (``dispatcher.resolve_used_update_types()``); None keeps what Telegram had."""
    stdout, stderr = out or sys.stdout, err or sys.stderr
    names = [n for n in discover(settings.bots_dir) if settings.bot_token(n) is not None]
    problems = [] if delete else settings_problems(settings)
    if not names:
        problems.append("ни у одного бота не задан токен (<ИМЯ>_BOT_TOKEN)")
    if problems:
        for problem in problems:
            print(f"ошибка: {problem}", file=stderr)
        return 2
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url),
                             timeout=API_TIMEOUT)
    failed = False
    try:
        for name in names:
            token = settings.bot_token(name)
            assert token is not None
            try:
                bot = Bot(token.get_secret_value(), session=session)
            except TokenValidationError:
                print(f"{name}: ошибка: {name.upper()}_BOT_TOKEN записан неверно (ожидается "
                      f"<цифры>:<секрет>, как его выдаёт @BotFather)", file=stderr)
                failed = True
                continue
            try:
                if delete:
                    await bot.delete_webhook(drop_pending_updates=False)
                    print(f"{name}: вебхук удалён, бот может работать через long polling",
                          file=stdout)
                else:
                    assert settings.webhook_url is not None
                    url = webhook_url(settings.webhook_url, name)
                    await bot.set_webhook(
                        url=url, secret_token=secret, drop_pending_updates=False,
                        allowed_updates=None if allowed_updates is None else list(
                            allowed_updates),
                        max_connections=MAX_CONNECTIONS)
                    print(f"{name}: вебхук установлен: {url}", file=stdout)
            except AiogramError as error:
                print(f"{name}: ошибка: {_refusal(error, name, settings.telegram_api_url)}",
                      file=stderr)
                failed = True
    finally:
        await session.close()
    return 1 if failed else 0


def webhook_problem(settings: Settings) -> str | None:
    """Why webhook mode (``WEBHOOK_LISTEN``) cannot start, or None."""
    if settings.webhook_listen is None:
        return None
    if settings.webhook_secret is None:
        return ("WEBHOOK_LISTEN is set but WEBHOOK_SECRET is not: Telegram's requests could "
                "not be told from anyone else's")
    try:
        parse_listen(settings.webhook_listen)
    except ValueError as error:
        return str(error)
    return None


def replica_warnings(settings: Settings) -> list[str]:
    """What a webhook replica lacks to share its work with other replicas."""
    if settings.webhook_listen is None:
        return []
    warnings = []
    if settings.redis_url is None:
        warnings.append("webhook mode without REDIS_URL: Telegram's limits and the citizens' "
                        "flood limit are kept by this process alone; run one replica only")
    if settings.database_url.startswith("sqlite"):
        warnings.append("webhook mode on SQLite: the database is this machine's file; "
                        "replicas on several machines need PostgreSQL (DATABASE_URL)")
    return warnings
