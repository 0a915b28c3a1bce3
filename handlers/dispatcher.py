"""The dispatcher shared by every topic bot of the process, and the order of its routers."""

from __future__ import annotations

from aiogram import Dispatcher, Router
from redis.asyncio import Redis

from bots.access import OperatorGate
from bots.conversation import Conversation
from bots.desk import Desk
from bots.flood import FloodGuard, FloodJudge
from bots.live_status import LiveStatus
from bots.report.post import ReportPoster
from bots.topic import Suite
from escalation.delivery import Delivery
from escalation.tickets import Tickets
from handlers.citizen import citizen_router
from handlers.middlewares import FloodMiddleware, TopicMiddleware
from handlers.operator import operator_router


def get_routers(flood: FloodJudge) -> list[Router]:
    """All routers in the order they must be included (citizen first: its filters are the
    private chats; then the operators' chats). The citizen's messages pass ``flood``."""
    citizen = citizen_router()
    citizen.message.middleware(FloodMiddleware(flood))
    return [citizen, operator_router()]


def build_dispatcher(*, suite: Suite, conversation: Conversation, delivery: Delivery,
                     flood: FloodJudge, desk: Desk, tickets: Tickets,
                     poster: ReportPoster, status: LiveStatus,
                     redis: Redis | None = None) -> Dispatcher:
    """Services reach handlers by name (``topic`` is set per update by its middleware).
    ``redis``: the replicas' shared client, for operator rights changed on another replica."""
    # No handler keeps conversation state: aiogram's FSM middleware would only cost time.
    dispatcher = Dispatcher(suite=suite, conversation=conversation, delivery=delivery,
                            desk=desk, tickets=tickets, gate=OperatorGate(delivery, redis=redis),
                            poster=poster, status=status,
                            disable_fsm=True)
    dispatcher.update.outer_middleware(TopicMiddleware(suite))
    dispatcher.include_routers(*get_routers(flood))
    return dispatcher


def used_update_types() -> list[str]:
    """The update types the bots handle: what Telegram is asked to send (``getUpdates``'s and
    ``setWebhook``'s ``allowed_updates``)."""
    dispatcher = Dispatcher(disable_fsm=True)
    dispatcher.include_routers(*get_routers(FloodGuard(1, 1.0)))
    return dispatcher.resolve_used_update_types()
