"""Inline keyboards, built from the bot's texts and FAQ.

Built as plain rows of buttons: aiogram's ``InlineKeyboardBuilder`` deep-copies its buttons on
every ``adjust``/``as_markup`` (pydantic ``__deepcopy__``), which cost ~10 % of the CPU the
bot spends on a question that gets a clarify keyboard.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bots.faq_source import LoadedFaq
from bots.texts import BotTexts
from faq import FaqEntry
from handlers.callbacks import Category, Feedback, Menu, MenuAction, Person, Pick, Show
from handlers.render import shorten

PAGE_SIZE = 6
BUTTON_CHARS = 60


def _short(text: str) -> str:
    return shorten(text, BUTTON_CHARS)


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def _column(buttons: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[button] for button in buttons])


def main_menu(texts: BotTexts) -> InlineKeyboardMarkup:
    return _column([_button(texts.btn_browse, Menu(action=MenuAction.BROWSE)),
                    _button(texts.btn_ask_person, Menu(action=MenuAction.PERSON))])


def _pager(texts: BotTexts, index: int, page: int, pages: int) -> list[InlineKeyboardButton]:
    row = []
    if page > 0:
        row.append(InlineKeyboardButton(
            text=texts.btn_prev, callback_data=Category(index=index, page=page - 1).pack()))
    if page + 1 < pages:
        row.append(InlineKeyboardButton(
            text=texts.btn_next, callback_data=Category(index=index, page=page + 1).pack()))
    return row


def _page(items: list[InlineKeyboardButton], page: int) -> tuple[list[InlineKeyboardButton], int]:
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    return items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE], pages


def categories(texts: BotTexts, loaded: LoadedFaq, page: int) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(text=_short(name), callback_data=Category(index=i).pack())
        for i, name in enumerate(loaded.categories)
    ]
    shown, pages = _page(buttons, page)
    rows = [[b] for b in shown]
    if pager := _pager(texts, -1, page, pages):
        rows.append(pager)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def category(texts: BotTexts, entries: list[FaqEntry], index: int,
             page: int) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(text=_short(e.question), callback_data=Show(entry=e.id).pack())
        for e in entries
    ]
    shown, pages = _page(buttons, page)
    rows = [[b] for b in shown]
    if pager := _pager(texts, index, page, pages):
        rows.append(pager)
    rows.append([InlineKeyboardButton(
        text=texts.btn_back, callback_data=Category(index=-1).pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def feedback(texts: BotTexts, question_id: int) -> InlineKeyboardMarkup:
    """👍 and 👎 side by side."""
    return InlineKeyboardMarkup(inline_keyboard=[[
        _button(texts.btn_helpful, Feedback(q=question_id, helpful=True)),
        _button(texts.btn_not_helpful, Feedback(q=question_id, helpful=False)),
    ]])


def clarify(texts: BotTexts, question_id: int, options: list[FaqEntry]) -> InlineKeyboardMarkup:
    return _column([
        *(_button(_short(entry.question), Pick(q=question_id, entry=entry.id))
          for entry in options),
        _button(texts.btn_other, Person(q=question_id)),
    ])


def ask_person(texts: BotTexts, question_id: int) -> InlineKeyboardMarkup:
    return _column([_button(texts.btn_ask_person, Person(q=question_id))])


def open_bot(texts: BotTexts, username: str) -> InlineKeyboardMarkup:
    """A link button that opens another bot's chat (the cross-bot pointer)."""
    return _column([InlineKeyboardButton(text=texts.btn_open_bot.format(username=username),
                                         url=f"https://t.me/{username}")])
