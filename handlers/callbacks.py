"""The citizen's menu buttons. Prefixes are short because Telegram allows 64 bytes of callback
data. The buttons the desk shows are in :mod:`bots.cards`, /forget's in :mod:`bots.forget`."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class MenuAction(StrEnum):
    BROWSE = "b"
    PERSON = "p"


class Menu(CallbackData, prefix="m"):
    action: MenuAction


class Category(CallbackData, prefix="c"):
    """A page of the list of categories (index -1) or of one category's questions."""

    index: int
    page: int = 0


class Show(CallbackData, prefix="s"):
    """Open an FAQ entry while browsing."""

    entry: str


class Pick(CallbackData, prefix="p"):
    """Choose one of the clarify options offered for question ``q``."""

    q: int
    entry: str


class Feedback(CallbackData, prefix="f"):
    q: int
    helpful: bool


class Person(CallbackData, prefix="h"):
    """Ask a person to answer question ``q``."""

    q: int
