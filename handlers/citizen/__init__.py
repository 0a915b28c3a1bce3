"""The citizen's side of a topic bot, in private chats: commands, questions, buttons.

Dependencies arrive by name from the dispatcher: ``topic`` (the bot's :class:`Topic`, set by
middleware), ``conversation``, ``tickets``, ``desk`` and ``delivery``.
"""

from __future__ import annotations

from aiogram import Router

from handlers.citizen.browsing import browsing_router
from handlers.citizen.commands import commands_router
from handlers.citizen.filters import citizen_of, private_button, private_chat
from handlers.citizen.questions import questions_router
from handlers.citizen.tickets import tickets_router
from handlers.common import stale_button

__all__ = ["citizen_of", "citizen_router"]


def citizen_router() -> Router:
    """Private chats only (the filters hold for every sub-router). Commands come before
    questions, since a command is text too; the catch-all for buttons comes last."""
    router = Router(name="citizen")
    router.message.filter(private_chat)
    router.callback_query.filter(private_button)
    router.include_routers(commands_router(), questions_router(), browsing_router(),
                           tickets_router(), _stale_router())
    return router


def _stale_router() -> Router:
    router = Router(name="citizen.stale")
    # Catch-all for buttons: forged, foreign or outdated callback data.
    router.callback_query.register(stale_button)
    return router
