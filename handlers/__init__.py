"""Thin aiogram routers: turn updates into calls of the bot services and render the results."""

from aiogram import Router


def get_routers() -> list[Router]:
    """All routers in the order they must be included (citizen first: its filters are the
    private chats; then the operators' chats)."""
    from handlers.citizen import citizen_router
    from handlers.operator import operator_router

    return [citizen_router(), operator_router()]


__all__ = ["get_routers"]
