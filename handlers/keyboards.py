"""Inline keyboards, built from the bot's texts and FAQ."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bots.faq_source import LoadedFaq
from bots.texts import BotTexts
from faq import FaqEntry
from handlers.callbacks import Category, Feedback, Menu, MenuAction, Person, Pick, Show
from handlers.render import shorten

PAGE_SIZE = 6
BUTTON_CHARS = 60


def _short(text: str) -> str:
    return shorten(text, BUTTON_CHARS)


def main_menu(texts: BotTexts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.btn_browse, callback_data=Menu(action=MenuAction.BROWSE))
    builder.button(text=texts.btn_ask_person, callback_data=Menu(action=MenuAction.PERSON))
    builder.adjust(1)
    return builder.as_markup()


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
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.btn_helpful, callback_data=Feedback(q=question_id, helpful=True))
    builder.button(text=texts.btn_not_helpful,
                   callback_data=Feedback(q=question_id, helpful=False))
    return builder.as_markup()


def clarify(texts: BotTexts, question_id: int, options: list[FaqEntry]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for entry in options:
        builder.button(text=_short(entry.question), callback_data=Pick(q=question_id,
                                                                       entry=entry.id))
    builder.button(text=texts.btn_other, callback_data=Person(q=question_id))
    builder.adjust(1)
    return builder.as_markup()


def ask_person(texts: BotTexts, question_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.btn_ask_person, callback_data=Person(q=question_id))
    return builder.as_markup()
