"""``python bot.py --check`` against Telegram: each bot's token (getMe), its operators' chat
(getChat, getChatMember) and where Telegram delivers its updates (getWebhookInfo). Nothing is
sent."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    AiogramError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramUnauthorizedError,
)
from aiogram.types import User, WebhookInfo
from aiogram.utils.token import TokenValidationError
from pydantic import SecretStr

from bots.health_report import Check, Status
from bots.settings import Settings
from bots.webhook_setup import webhook_url


def _network_problem(error: AiogramError, api_url: str) -> str:
    reason = error.message if isinstance(error, TelegramAPIError) else str(error)
    return f"Bot API unreachable at {api_url} ({reason})"


async def check_token(bot: Bot, name: str, api_url: str) -> tuple[Check, User | None]:
    what = f"{name}: token"
    try:
        me = await bot.get_me()
    except TelegramUnauthorizedError:
        return Check(what, Status.FAIL,
                     f"token rejected by the Bot API (401 Unauthorized): check "
                     f"{name.upper()}_BOT_TOKEN"), None
    except TelegramNotFound:
        return Check(what, Status.FAIL,
                     f"token rejected (404 Not Found): check {name.upper()}_BOT_TOKEN and "
                     f"that {api_url} is a Bot API server"), None
    except TelegramNetworkError as error:
        return Check(what, Status.FAIL, _network_problem(error, api_url)), None
    except TelegramAPIError as error:
        return Check(what, Status.FAIL, f"getMe failed: {error.message}"), None
    except AiogramError as error:  # e.g. not JSON: TELEGRAM_API_URL is some other server
        return Check(what, Status.FAIL,
                     f"unexpected answer from {api_url} ({type(error).__name__}): is it a Bot "
                     f"API server?"), None
    return Check(what, Status.OK, f"@{me.username} (id {me.id})"), me


async def check_operators_chat(bot: Bot, me: User, name: str, chat_id: int,
                               api_url: str) -> Check:
    what = f"{name}: operators' chat"
    variable = f"{name.upper()}_OPERATORS_CHAT_ID"
    try:
        chat = await bot.get_chat(chat_id)
        member = await bot.get_chat_member(chat_id, me.id)
    except TelegramMigrateToChat as error:
        return Check(what, Status.FAIL,
                     f"chat {chat_id} became a supergroup: set {variable}="
                     f"{error.migrate_to_chat_id}")
    except TelegramForbiddenError:
        return Check(what, Status.FAIL,
                     f"bot is not a member of chat {chat_id} (never added, or removed): add "
                     f"it as an administrator")
    except TelegramBadRequest as error:
        if "not found" in error.message.lower():
            return Check(what, Status.FAIL,
                         f"chat {chat_id} not found: check {variable} and that the bot was "
                         f"added to the chat")
        return Check(what, Status.FAIL, f"chat {chat_id}: {error.message}")
    except TelegramNetworkError as error:
        return Check(what, Status.FAIL, _network_problem(error, api_url))
    except AiogramError as error:
        return Check(what, Status.FAIL, f"chat {chat_id}: {type(error).__name__}: {error}")

    title = f"«{chat.title}»" if chat.title else str(chat_id)
    if chat.type not in ("group", "supergroup"):
        return Check(what, Status.FAIL,
                     f"chat {chat_id} is a {chat.type} chat, not a group: set {variable} to "
                     f"the operators' supergroup")
    kind = "forum" if chat.is_forum else chat.type
    if member.status in ("left", "kicked"):
        return Check(what, Status.FAIL,
                     f"{kind} {title}: bot is not a member ({member.status}): add it as an "
                     f"administrator")
    if member.status not in ("administrator", "creator"):
        if me.can_read_all_group_messages:
            problem = "bot is not an admin (privacy mode is off, so it sees operators' replies)"
        else:
            problem = ("bot is not an admin: it will not see operators' replies unless privacy "
                       "mode is off (it is on)")
        if chat.is_forum:
            problem += "; it cannot create topics either, tickets go as cards"
        return Check(what, Status.WARNING, f"{kind} {title}: {problem}")
    if chat.is_forum and not getattr(member, "can_manage_topics", True):
        return Check(what, Status.WARNING,
                     f"forum {title}: bot may not manage topics: tickets go as cards, not one "
                     f"topic per citizen (give it the 'Manage topics' right)")
    mode = "one topic per ticket" if chat.is_forum else "a card per ticket"
    return Check(what, Status.OK, f"{kind} {title}: bot is an administrator; {mode}")


def _delivery_state(info: WebhookInfo) -> tuple[str, bool]:
    """Pending updates and Telegram's last delivery error; True when deliveries fail now (an
    error, and updates waiting)."""
    state = f"{info.pending_update_count} update(s) pending"
    if info.last_error_date is None:
        return state, False
    when = info.last_error_date.strftime("%Y-%m-%d %H:%M UTC")
    return (f"{state}; last delivery error {when}: {info.last_error_message or '?'}",
            info.pending_update_count > 0)


def webhook_check(info: WebhookInfo, name: str, settings: Settings) -> Check:
    """What Telegram does with the bot's updates against the mode this installation runs in:
    long polling (``WEBHOOK_LISTEN`` unset) needs no webhook, webhook mode needs exactly
    ``<WEBHOOK_URL>/telegram/<name>``."""
    what = f"{name}: webhook"
    state, failing = _delivery_state(info)
    if settings.webhook_listen is None:
        if info.url:
            return Check(what, Status.FAIL,
                         f"set to {info.url} ({state}), but this installation polls "
                         f"(WEBHOOK_LISTEN is unset): getUpdates gets 409 Conflict while it is "
                         f"set. Run `python bot.py delete-webhook`, or set WEBHOOK_LISTEN if "
                         f"replicas serve it")
        return Check(what, Status.OK, f"none: long polling ({state})")
    if not settings.webhook_url:
        return Check(what, Status.FAIL, "WEBHOOK_LISTEN is set but WEBHOOK_URL is not: set "
                                        "the public https base URL")
    expected = webhook_url(settings.webhook_url, name)
    if info.url != expected:
        now = f"set to {info.url}" if info.url else "not set (Telegram keeps updates waiting)"
        return Check(what, Status.FAIL,
                     f"{now}, expected {expected} ({state}): run `python bot.py set-webhook`")
    return Check(what, Status.WARNING if failing else Status.OK, f"{info.url} ({state})")


async def check_webhook(bot: Bot, name: str, settings: Settings) -> Check:
    try:
        info = await bot.get_webhook_info()
    except TelegramNetworkError as error:
        return Check(f"{name}: webhook", Status.FAIL,
                     _network_problem(error, settings.telegram_api_url))
    except AiogramError as error:
        return Check(f"{name}: webhook", Status.FAIL,
                     f"getWebhookInfo failed: {type(error).__name__}")
    return webhook_check(info, name, settings)


async def check_bot(session: AiohttpSession, settings: Settings, name: str,
                    token: SecretStr, duplicate_of: str | None) -> list[Check]:
    what = f"{name}: token"
    if duplicate_of is not None:
        return [Check(what, Status.FAIL,
                      f"same token as {duplicate_of}: each bot needs its own "
                      f"({name.upper()}_BOT_TOKEN)")]
    try:
        bot = Bot(token.get_secret_value(), session=session)
    except TokenValidationError:
        return [Check(what, Status.FAIL,
                      f"{name.upper()}_BOT_TOKEN is malformed (expected <digits>:<secret>, "
                      f"as @BotFather gives it)")]
    token_check, me = await check_token(bot, name, settings.telegram_api_url)
    checks = [token_check]
    if me is None:
        return checks
    checks.append(await check_webhook(bot, name, settings))
    try:
        chat_id = settings.operators_chat_id(name)
    except ValueError:
        return checks  # reported under settings
    if chat_id is None:
        checks.append(Check(f"{name}: operators' chat", Status.OK,
                            f"not set ({name.upper()}_OPERATORS_CHAT_ID): no operator queue, "
                            f"unanswered questions are only recorded"))
    else:
        checks.append(await check_operators_chat(bot, me, name, chat_id,
                                                 settings.telegram_api_url))
    return checks
