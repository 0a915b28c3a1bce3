"""Thin aiogram routers: turn updates into calls of the bot services and render the results."""

from aiogram import Router

from handlers.citizen import citizen_router


def get_routers() -> list[Router]:
    """All routers in the order they must be included."""
    return [citizen_router()]


__all__ = ["get_routers"]
