"""The citizen's inline keyboards, built from the bot's texts and FAQ (in the one style of
:mod:`bots.render`: plain rows of buttons)."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bots.faq_source import LoadedFaq
from bots.render import button, column, keyboard, shorten
from bots.texts import BotTexts
from faq import FaqEntry
from handlers.callbacks import Category, Feedback, Menu, MenuAction, Person, Pick, Show

PAGE_SIZE = 6
BUTTON_CHARS = 60


def _short(text: str) -> str:
    return shorten(text, BUTTON_CHARS)


def main_menu(texts: BotTexts) -> InlineKeyboardMarkup:
    return column([button(texts.btn_browse, Menu(action=MenuAction.BROWSE)),
                   button(texts.btn_ask_person, Menu(action=MenuAction.PERSON))])


def _pager(texts: BotTexts, index: int, page: int, pages: int) -> list[InlineKeyboardButton]:
    row = []
    if page > 0:
        row.append(button(texts.btn_prev, Category(index=index, page=page - 1)))
    if page + 1 < pages:
        row.append(button(texts.btn_next, Category(index=index, page=page + 1)))
    return row


def _paged(texts: BotTexts, items: list[InlineKeyboardButton], index: int,
           page: int) -> list[list[InlineKeyboardButton]]:
    """One page of ``items``, one per row, and the pager under them (when there are pages)."""
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    return [*([b] for b in shown), _pager(texts, index, page, pages)]


def categories(texts: BotTexts, loaded: LoadedFaq, page: int) -> InlineKeyboardMarkup:
    buttons = [button(_short(name), Category(index=i)) for i, name in enumerate(loaded.categories)]
    return keyboard(*_paged(texts, buttons, -1, page))


def category(texts: BotTexts, entries: list[FaqEntry], index: int,
             page: int) -> InlineKeyboardMarkup:
    buttons = [button(_short(e.question), Show(entry=e.id)) for e in entries]
    return keyboard(*_paged(texts, buttons, index, page),
                    [button(texts.btn_back, Category(index=-1))])


def feedback(texts: BotTexts, question_id: int) -> InlineKeyboardMarkup:
    """👍 and 👎 side by side."""
    return keyboard([button(texts.btn_helpful, Feedback(q=question_id, helpful=True)),
                     button(texts.btn_not_helpful, Feedback(q=question_id, helpful=False))])


def clarify(texts: BotTexts, question_id: int, options: list[FaqEntry]) -> InlineKeyboardMarkup:
    return column([
        *(button(_short(entry.question), Pick(q=question_id, entry=entry.id))
          for entry in options),
        button(texts.btn_other, Person(q=question_id)),
    ])


def ask_person(texts: BotTexts, question_id: int) -> InlineKeyboardMarkup:
    return column([button(texts.btn_ask_person, Person(q=question_id))])


def open_bot(texts: BotTexts, username: str) -> InlineKeyboardMarkup:
    """A link button that opens another bot's chat (the cross-bot pointer)."""
    return column([InlineKeyboardButton(text=texts.btn_open_bot.format(username=username),
                                        url=f"https://t.me/{username}")])
