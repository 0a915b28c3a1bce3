"""Button payloads. Prefixes are short because Telegram allows 64 bytes of callback data."""

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


class Resolved(CallbackData, prefix="rs"):
    """The citizen's answer to "Вопрос решён?" for ticket ``t``."""

    t: int
    yes: bool


class Rate(CallbackData, prefix="rt"):
    """The citizen rates the operator's answer on ticket ``t`` from 1 to 5."""

    t: int
    stars: int


class TicketAction(StrEnum):
    CLAIM = "c"
    CLOSE = "x"


class TicketButton(CallbackData, prefix="t"):
    """A button on a ticket card in the operators' chat."""

    t: int
    action: TicketAction


class FaqAnswer(CallbackData, prefix="ta"):
    """Answer ticket ``t`` with the FAQ entry the matcher ranked ``i``-th for it."""

    t: int
    i: int


class ToFaq(CallbackData, prefix="tq"):
    """Save ticket ``t``'s question and the operator's answer ``m`` as an FAQ candidate."""

    t: int
    m: int


class Forget(CallbackData, prefix="fg"):
    """The citizen confirms (or cancels) /forget: erase their data in this bot."""

    yes: bool
