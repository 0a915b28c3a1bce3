"""``python bot.py --check`` against Telegram: each bot's token (getMe) and its operators' chat
(getChat, getChatMember). Nothing is sent."""

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
from aiogram.types import User
from aiogram.utils.token import TokenValidationError
from pydantic import SecretStr

from bots.health_report import Check, Status
from bots.settings import Settings


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
    try:
        chat_id = settings.operators_chat_id(name)
    except ValueError:
        return checks  # reported under settings
    if me is None:
        return checks
    if chat_id is None:
        checks.append(Check(f"{name}: operators' chat", Status.OK,
                            f"not set ({name.upper()}_OPERATORS_CHAT_ID): no operator queue, "
                            f"unanswered questions are only recorded"))
    else:
        checks.append(await check_operators_chat(bot, me, name, chat_id,
                                                 settings.telegram_api_url))
    return checks
