"""The dispatcher shared by every topic bot of the process."""

from __future__ import annotations

from aiogram import Dispatcher

from bots.access import OperatorGate
from bots.conversation import Conversation
from bots.desk import Desk
from bots.flood import FloodGuard
from bots.topic import Suite
from escalation.delivery import Delivery
from escalation.tickets import Tickets
from handlers import get_routers
from handlers.middlewares import FloodMiddleware, TopicMiddleware


def build_dispatcher(*, suite: Suite, conversation: Conversation, delivery: Delivery,
                     flood: FloodGuard, desk: Desk, tickets: Tickets) -> Dispatcher:
    # No handler keeps conversation state: aiogram's FSM middleware would only cost time.
    dispatcher = Dispatcher(suite=suite, conversation=conversation, delivery=delivery,
                            desk=desk, tickets=tickets, gate=OperatorGate(delivery),
                            disable_fsm=True)
    dispatcher.update.outer_middleware(TopicMiddleware(suite))
    routers = get_routers()
    citizen = next(r for r in routers if r.name == "citizen")
    citizen.message.middleware(FloodMiddleware(flood))
    dispatcher.include_routers(*routers)
    return dispatcher
