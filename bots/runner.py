"""Start the topic bots that can run, serve them until stopped, and stop cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, Final, TypeVar

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import AiogramError, TelegramUnauthorizedError
from aiogram.methods import (
    AnswerCallbackQuery,
    CopyMessage,
    CreateForumTopic,
    DeleteWebhook,
    EditForumTopic,
    EditMessageReplyMarkup,
    EditMessageText,
    GetChat,
    GetChatMember,
    GetMe,
    GetUpdates,
    SendMessage,
    SetMyCommands,
)
from aiogram.methods.base import Response
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, Update
from aiogram.utils.token import TokenValidationError, validate_token
from redis.asyncio import Redis

from bots.card_wakeups import CardWakeups
from bots.desk import Desk
from bots.encoding import LEXICAL, Semantics
from bots.faq_source import ReloadErrorHandler
from bots.intake import Intake
from bots.jobs import Singletons, singleton_jobs
from bots.loading import load_topic
from bots.polling import BotPoller
from bots.session import JsonSession
from bots.settings import Settings
from bots.topic import Suite, Topic, discover
from bots.webhook import build_webhook_app, serve_webhooks
from escalation.chats import ChatMigrations
from escalation.delivery import Delivery, Undeliverable
from escalation.inbox import Inbox
from escalation.leadership import Leases

log = logging.getLogger(__name__)
T = TypeVar("T")

DRAIN_SECONDS = 10.0

# aiogram parses every answer with ``Response[<result type>]``; pydantic keeps those generated
# classes only weakly, so under load they are garbage-collected and rebuilt (~7 ms each, on the
# event loop). Keeping them here builds each once (measured with bench/bench_bots.py).
_RESPONSE_TYPES = [
    Response[method.__returning__]  # type: ignore[name-defined]
    for method in (SendMessage, CopyMessage, EditMessageText, EditMessageReplyMarkup,
                   AnswerCallbackQuery, GetUpdates, GetMe, GetChat, GetChatMember,
                   CreateForumTopic, EditForumTopic, DeleteWebhook, SetMyCommands)
]

CITIZEN_COMMANDS = [
    BotCommand(command="start", description="Главное меню и вопросы по темам"),
    BotCommand(command="help", description="Как задать вопрос"),
    BotCommand(command="my", description="Мои обращения к специалистам"),
    BotCommand(command="forget", description="Удалить мои данные"),
]


def make_session(settings: Settings) -> AiohttpSession:
    return JsonSession(api=TelegramAPIServer.from_base(settings.telegram_api_url),
                          timeout=settings.telegram_timeout)


def token_problem(name: str, token: str) -> str | None:
    """Why aiogram would refuse ``token`` before asking Telegram (``Bot(...)`` raises), or
    None. The reason never contains the token, not even a part of it."""
    try:
        validate_token(token)
    except TokenValidationError:
        return (f"{name.upper()}_BOT_TOKEN is malformed (expected <digits>:<secret>, as "
                f"@BotFather gives it, without spaces)")
    return None


async def start_bots(settings: Settings, session: AiohttpSession,
                     semantics: Semantics = LEXICAL) -> tuple[Suite, list[Bot]]:
    """Topics and bots that can run; each one that cannot is skipped with the reason logged."""
    suite = Suite()
    bots: list[Bot] = []
    for name in discover(settings.bots_dir):
        token = settings.bot_token(name)
        if token is None:
            log.info("bot %s skipped: %s_BOT_TOKEN is not set", name, name.upper())
            continue
        problem = token_problem(name, token.get_secret_value())
        if problem is not None:
            log.error("bot %s not started: %s", name, problem)
            continue
        topic = await asyncio.to_thread(load_topic, settings, settings.bots_dir, name,
                                        semantics)
        if topic is None:
            continue
        bot = Bot(token.get_secret_value(), session=session)
        try:
            me = await bot.get_me()
        except TelegramUnauthorizedError:
            log.error("bot %s not started: Telegram rejected its token (401 Unauthorized)", name)
            continue
        except AiogramError as error:
            log.error("bot %s not started: Bot API unreachable (%s)", name, type(error).__name__)
            continue
        topic.bot_id, topic.username = me.id, me.username
        await _prepare(bot, name, polling=settings.webhook_listen is None)
        suite.topics[name] = topic
        bots.append(bot)
        log.info(
            "bot %s runs as @%s (%d FAQ entries)",
            name,
            me.username,
            len(topic.faq.current.faq.entries),
        )
    return suite, bots


async def _prepare(bot: Bot, name: str, *, polling: bool) -> None:
    """Make polling possible (keeping pending updates; a webhook is set once, by
    ``bot.py set-webhook``, never by a replica) and show citizens the commands."""
    try:
        if polling:
            await bot.delete_webhook(drop_pending_updates=False)
        await bot.set_my_commands(CITIZEN_COMMANDS, scope=BotCommandScopeAllPrivateChats())
    except AiogramError as error:
        log.warning("bot %s: start-up call failed (%s)", name, type(error).__name__)


def _reload_reporter(topic: Topic, bot: Bot, delivery: Delivery) -> ReloadErrorHandler:
    async def report(problem: str) -> None:
        if topic.operators_chat_id is None:
            return
        text = (
            f"Файл FAQ бота {topic.name} изменён, но содержит ошибки. Бот продолжает "
            f"отвечать по прежней версии.\n\n{problem}"
        )
        try:
            await delivery.send_text(bot, topic.operators_chat_id, text)
        except Undeliverable as error:
            log.error(
                "bot %s: could not tell operators about the broken FAQ: %s",
                topic.name,
                error.reason,
            )

    return report


async def _all_done(tasks: list[asyncio.Task[None]]) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)


async def follow_chat_migrations(suite: Suite, delivery: Delivery,
                                 chats: ChatMigrations) -> None:
    """Use the new id of every operators' chat that became a supergroup (now and later)."""
    moved = await chats.all()
    delivery.migrated.update(moved)

    def retarget(old: int, new: int) -> None:
        for topic in suite.topics.values():
            if topic.operators_chat_id == old:
                log.warning("bot %s: operators' chat moved to %s; update %s_OPERATORS_CHAT_ID",
                            topic.name, new, topic.name.upper())
                topic.operators_chat_id = new

    for old, new in moved.items():
        retarget(old, new)

    async def on_migrated(old: int, new: int) -> None:
        await chats.save(old, new)
        retarget(old, new)

    delivery.on_chat_migrated = on_migrated


#: Allocations between two young-generation collections (Python's default: 700). Each update
#: allocates thousands of short-lived objects (pydantic models, SQL parameters), most freed by
#: refcounting; collecting every 700 cost ~15 % of the CPU per question (docs/bench-bots.md).
GC_YOUNG_THRESHOLD: Final = 20_000


def tune_garbage_collector() -> None:
    """Call once start-up has loaded everything. What it loaded (FAQ indexes, dictionaries,
    aiogram's models) lives as long as the process: frozen, it is out of the cycle
    collector's full passes, which otherwise walked all of it (~130 ms each, stalling every
    bot). Refcounting still frees it."""
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD)


def run_event_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on uvloop where it is installed (Linux, macOS), else on asyncio's loop.

    uvloop is asyncio's loop written in C: ~10 % less CPU per question here (the bot is
    mostly network I/O and callbacks; docs/bench-bots.md).
    """
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (install it early: a signal during start-up then
    stops the process cleanly too)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def serve(
    settings: Settings, suite: Suite, bots: list[Bot], dispatcher: Dispatcher,
    delivery: Delivery, desk: Desk, inbox: Inbox, leases: Leases,
    stop: asyncio.Event | None = None, redis: Redis | None = None,
) -> None:
    """Receive every bot's updates (long polling, or webhooks with ``WEBHOOK_LISTEN``), watch
    every FAQ and run the operator queues until SIGINT/SIGTERM, then drain and return.
    ``redis`` (replicas): card wake-ups reach the replica running the bot's card worker."""
    stop = stop or stop_on_signals()
    tune_garbage_collector()
    named = dict(zip(suite.topics, bots, strict=True))
    intake = Intake(dispatcher, inbox, owner=leases.owner,
                    lease=timedelta(seconds=settings.inbox_lease_seconds))
    for name, bot in named.items():
        intake.add_bot(name, bot)
    webhooks = settings.webhook_listen is not None
    await intake.start(sole=not webhooks)
    pollers = [] if webhooks else [
        BotPoller(bot, dispatcher, name=name, timeout=settings.polling_timeout, intake=intake)
        for name, bot in named.items()]
    tasks = [asyncio.create_task(p.run(), name=f"poll-{p.name}") for p in pollers]
    tasks += [
        asyncio.create_task(
            t.faq.watch(settings.faq_reload_interval, _reload_reporter(t, bot, delivery)),
            name=f"faq-{t.name}",
        )
        for bot, t in zip(bots, suite.topics.values(), strict=True)
    ]
    singletons = Singletons(leases)
    await singletons.start(singleton_jobs(settings, suite, bots, desk, dispatcher.get("poster")),
                           sole=not webhooks)
    if redis is not None:
        wakeups = CardWakeups(redis, desk.worker)
        tasks.append(asyncio.create_task(wakeups.listen(), name="card-wakeups"))
    if webhooks:
        await _serve_webhooks(settings, named, intake, stop)
    else:
        await _until_stopped(stop, tasks[: len(pollers)])
    log.info("stopping: finishing messages in flight")
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await intake.stop(DRAIN_SECONDS)
    await asyncio.gather(*(p.confirm() for p in pollers))
    await singletons.stop(desk, DRAIN_SECONDS)
    log.info("stopped")


async def _until_stopped(stop: asyncio.Event, pollers: list[asyncio.Task[None]]) -> None:
    """Until SIGINT/SIGTERM, or until every bot's polling ended (tokens rejected)."""
    waiter = asyncio.create_task(stop.wait())
    pollers_done = asyncio.ensure_future(_all_done(pollers))
    await asyncio.wait([waiter, pollers_done], return_when=asyncio.FIRST_COMPLETED)
    pollers_done.cancel()
    waiter.cancel()


async def _serve_webhooks(settings: Settings, bots: dict[str, Bot], intake: Intake,
                          stop: asyncio.Event) -> None:
    """Answer Telegram's POSTs until SIGINT/SIGTERM: 200 once an update is stored."""
    assert settings.webhook_listen is not None
    assert settings.webhook_secret is not None, "bot.py refuses to start without it"

    async def receive(name: str, update: Update) -> None:
        await intake.receive(name, [update])

    async def health() -> tuple[bool, dict[str, Any]]:
        storage = intake.inbox.storage
        return storage.ok, {"replica": intake.owner, "storage": storage.describe(),
                            "chats_in_flight": intake.chats_in_flight}

    app = build_webhook_app(bots=bots, receive=receive, health=health,
                            secret=settings.webhook_secret.get_secret_value())
    async with serve_webhooks(app, settings.webhook_listen):
        log.info("replica %s serves webhooks on %s for %s", intake.owner,
                 settings.webhook_listen, ", ".join(bots))
        await stop.wait()
