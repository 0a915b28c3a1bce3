"""Composition root: settings, database, bots and dispatcher; then run them.

    python bot.py                      run every bot whose <NAME>_BOT_TOKEN is set
    python bot.py --console [--bot N]  chat with a bot in the terminal (default with no tokens)
    python bot.py --check              check settings, database, tokens and operators' chats
    python bot.py unanswered --bot N [--days 30]
                                       questions the bot could not answer, grouped
    python bot.py report [--bot N] [--from DATE] [--to DATE] --out FILE.html [--csv FILE.csv]
                                       supervisors' report with charts (docs/report.md)
    python bot.py set-webhook          point Telegram at WEBHOOK_URL (replicas)
    python bot.py delete-webhook       back to long polling (pending updates are kept)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from aiogram import Dispatcher
from aiogram.exceptions import AiogramError
from redis.asyncio import Redis

from bots.candidates import CandidateStore
from bots.console import chat, setup_logging
from bots.conversation import Conversation
from bots.desk import Desk
from bots.elsewhere import load_elsewhere
from bots.encoding import Semantics, load_semantics
from bots.flood import FloodGuard, FloodJudge, SharedFloodGuard
from bots.health import run_check
from bots.live_status import LiveStatus
from bots.loading import load_topic
from bots.matching import MatchPool
from bots.menu_words import load_menus
from bots.report.cli import request_of, write_report
from bots.report.post import ReportPoster
from bots.reports import print_unanswered, unknown_bot
from bots.runner import (
    follow_chat_migrations,
    make_session,
    run_event_loop,
    serve,
    start_bots,
    stop_on_signals,
)
from bots.settings import Settings
from bots.singletons import replica_name
from bots.smalltalk import SmallTalk, SmallTalkError
from bots.topic import Suite, discover
from bots.webhook_setup import replica_warnings, set_webhooks, webhook_problem
from escalation.batching import GroupCommit
from escalation.chats import ChatMigrations
from escalation.db import create_engine, make_session_factory, upgrade_database
from escalation.delivery import Delivery, RetryPolicy
from escalation.inbox import Inbox, StorageHealth
from escalation.leadership import Leases
from escalation.outbox import Outbox
from escalation.pacing import Limits
from escalation.records import Records, utc_now
from escalation.shared_pacing import SharedPacer, make_pacer
from escalation.tickets import Tickets
from handlers.dispatcher import build_dispatcher, used_update_types

log = logging.getLogger("bot")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Справочные боты ЦУР: запуск и отчёты.")
    parser.add_argument("--console", action="store_true", help="чат с ботом в терминале")
    parser.add_argument("--bot", help="имя бота (папка в bots/) для --console")
    parser.add_argument("--verbose", action="store_true",
                        help="весь журнал в терминал (в чате --console — в data/console.log)")
    parser.add_argument("--check", action="store_true",
                        help="проверить настройки, базу данных, токены и чаты операторов")
    commands = parser.add_subparsers(dest="command")
    report = commands.add_parser("unanswered", help="вопросы, на которые бот не ответил")
    report.add_argument("--bot", required=True, dest="report_bot", help="имя бота (папка в bots/)")
    report.add_argument("--days", type=int, default=30, help="за сколько дней (по умолчанию 30)")
    report.add_argument("--csv", type=Path, metavar="FILE.csv",
                        help="сохранить группы вопросов в CSV для Excel")
    supervisors = commands.add_parser("report", help="отчёт руководителю: HTML с графиками, CSV")
    supervisors.add_argument("--bot", dest="report_bot", help="один бот (без него — все)")
    supervisors.add_argument("--from", dest="date_from", metavar="ГГГГ-ММ-ДД")
    supervisors.add_argument("--to", dest="date_to", metavar="ГГГГ-ММ-ДД")
    supervisors.add_argument("--out", required=True, metavar="FILE.html")
    supervisors.add_argument("--csv", metavar="FILE.csv", help="показатели по дням для Excel")
    commands.add_parser("set-webhook",
                        help="направить обновления Telegram на WEBHOOK_URL (режим реплик)")
    commands.add_parser("delete-webhook",
                        help="удалить вебхук: снова long polling (ожидающие обновления "
                             "сохраняются)")
    args = parser.parse_args(argv)
    if args.check and (args.console or args.bot or args.command):
        parser.error("--check не сочетается с другими параметрами")
    return args


def make_delivery(settings: Settings, outbox: Outbox | None = None) -> Delivery:
    limits = Limits(group_messages=settings.group_messages_per_minute,
                    group_window=settings.group_rate_window,
                    bot_per_second=settings.bot_messages_per_second)
    policy = RetryPolicy(max_delay=settings.delivery_retry_cap,
                         horizon=settings.delivery_retry_hours * 3600)
    # Replicas share Telegram's limits through Redis; one process keeps them itself.
    pacer = make_pacer(limits, settings.redis_url, hold=settings.telegram_timeout + 30)
    return Delivery(policy=policy, pacer=pacer, outbox=outbox)


def shared_redis(delivery: Delivery) -> Redis | None:
    """The process's one Redis client (the shared pacer's), when replicas share state."""
    return delivery.pacer.client if isinstance(delivery.pacer, SharedPacer) else None


def make_dispatcher(settings: Settings, suite: Suite, records: Records, tickets: Tickets,
                    delivery: Delivery, storage: StorageHealth | None = None,
                    leases: Leases | None = None) -> Dispatcher:
    for topic in suite.topics.values():
        tickets.set_policy(topic.name, topic.queue)
    desk = Desk(tickets, delivery, CandidateStore(settings.faq_candidates_dir))
    # Replicas share the flood limit and operator rights through the pacer's Redis client
    # (one client per process, closed with the pacer).
    redis = shared_redis(delivery)
    flood: FloodJudge = (
        FloodGuard(settings.flood_messages, settings.flood_window) if redis is None else
        SharedFloodGuard(redis, limit=settings.flood_messages, window=settings.flood_window))
    return build_dispatcher(
        suite=suite, conversation=Conversation(
            suite, records, smalltalk(settings), tickets, pool=MatchPool(),
            menus=load_menus(suite), elsewhere=load_elsewhere(settings.bots_dir, suite)),
        delivery=delivery, flood=flood, desk=desk, tickets=tickets,
        poster=ReportPoster(settings, tickets.sessions, delivery, tickets.now),
        status=LiveStatus(tickets.sessions, desk.worker, tickets.now, storage, leases),
        redis=redis)


async def console(settings: Settings, records: Records, tickets: Tickets,
                  name: str | None, semantics: Semantics) -> int:
    names = discover(settings.bots_dir)
    suite = Suite()
    for bot_id, topic_name in enumerate(names, start=1):
        topic = await asyncio.to_thread(load_topic, settings, settings.bots_dir, topic_name,
                                        semantics)
        if topic is not None:
            topic.bot_id, topic.username = bot_id, f"{topic_name}_bot"
            suite.topics[topic_name] = topic
    name = name or next(iter(suite.topics), None)
    if name not in suite.topics:
        log.error("no such bot %r; bots: %s", name, ", ".join(suite.topics) or "none")
        return 2
    dispatcher = make_dispatcher(settings, suite, records, tickets, make_delivery(settings))
    await chat(dispatcher, suite, name, reload_interval=settings.faq_reload_interval)
    return 0


def console_mode(settings: Settings, args: argparse.Namespace) -> bool:
    """The terminal chat: asked for, or what runs when no bot token is set."""
    return args.command is None and (
        args.console or not any(settings.bot_token(n) for n in discover(settings.bots_dir)))


def smalltalk(settings: Settings) -> SmallTalk:
    return SmallTalk.from_file(settings.bots_dir / "smalltalk.yaml")


async def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.command in ("set-webhook", "delete-webhook"):  # Telegram only, no database
        return await set_webhooks(settings, delete=args.command == "delete-webhook",
                                  allowed_updates=used_update_types())
    if args.command == "unanswered" and (problem := unknown_bot(settings, args.report_bot)):
        sys.stderr.write(problem + "\n")  # before any database is created or migrated
        return 2
    await upgrade_database(settings.database_url)
    engine = create_engine(settings.database_url)
    sessions = make_session_factory(engine)
    writes = GroupCommit(engine)  # the small writes of concurrent handlers, committed together
    records = Records(sessions, writes=writes)
    tickets = Tickets(sessions)
    try:
        if args.command == "unanswered":
            since = utc_now() - timedelta(days=args.days)
            return await print_unanswered(settings, records, args.report_bot, since,
                                          csv_path=args.csv)
        if args.command == "report":
            return await write_report(settings, sessions, records, request_of(args))
        names = discover(settings.bots_dir)
        semantics = await asyncio.to_thread(load_semantics, settings)  # one for every bot
        if console_mode(settings, args):
            if not args.console:
                log.info("no bot token is set (%s): starting the console chat",
                         ", ".join(f"{n.upper()}_BOT_TOKEN" for n in names))
            return await console(settings, records, tickets, args.bot, semantics)
        if (problem := webhook_problem(settings)) is not None:
            log.error("%s (docs/replicas.md)", problem)
            return 2
        for warning in replica_warnings(settings):
            log.warning("%s (docs/replicas.md)", warning)
        stop = stop_on_signals()
        session = make_session(settings)
        try:
            suite, bots = await start_bots(settings, session, semantics)
            if not bots:
                log.error("no bot could start; see the messages above")
                return 1
            delivery = make_delivery(settings, Outbox(sessions, writes=writes))
            await follow_chat_migrations(suite, delivery, ChatMigrations(sessions))
            inbox = Inbox(sessions, writes=writes)
            # This process's name in inbox claims and job leases.
            leases = Leases(sessions, owner=replica_name(settings.replica_id),
                            ttl=settings.leader_lease_seconds)
            dispatcher = make_dispatcher(settings, suite, records, tickets, delivery,
                                         inbox.storage, leases)
            try:
                await serve(settings, suite, bots, dispatcher, delivery, dispatcher["desk"],
                            inbox, leases, stop, redis=shared_redis(delivery))
            finally:
                await delivery.pacer.close()
            return 0
        finally:
            await session.close()
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.check:
        return run_check()
    settings = Settings()
    if console_mode(settings, args):
        setup_logging(verbose=args.verbose, level=settings.log_level)
    else:
        logging.basicConfig(level=settings.log_level.upper(),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return run_event_loop(run(settings, args))
    except KeyboardInterrupt:
        return 0
    except AiogramError as error:
        log.error("stopped: %s", type(error).__name__)
        return 1
    except SmallTalkError as error:  # shared by every bot: none can start without it
        log.error("stopped: %s", error)
        return 1


if __name__ == "__main__":
    sys.exit(main())
