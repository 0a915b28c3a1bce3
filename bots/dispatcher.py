"""The dispatcher shared by every topic bot of the process."""

from __future__ import annotations

from aiogram import Dispatcher

from bots.conversation import Conversation
from bots.flood import FloodGuard
from bots.topic import Suite
from escalation.delivery import Delivery
from handlers import get_routers
from handlers.middlewares import FloodMiddleware, TopicMiddleware


def build_dispatcher(*, suite: Suite, conversation: Conversation, delivery: Delivery,
                     flood: FloodGuard) -> Dispatcher:
    dispatcher = Dispatcher(suite=suite, conversation=conversation, delivery=delivery)
    dispatcher.update.outer_middleware(TopicMiddleware(suite))
    routers = get_routers()
    for router in routers:
        router.message.middleware(FloodMiddleware(flood))
    dispatcher.include_routers(*routers)
    return dispatcher
