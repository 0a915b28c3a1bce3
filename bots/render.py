"""Building blocks of what the bots show: shortened texts, FAQ answers and inline keyboards.

Keyboards are built as plain rows of buttons: aiogram's ``InlineKeyboardBuilder`` deep-copies
its buttons on every ``adjust``/``as_markup`` (pydantic ``__deepcopy__``), which cost ~10 % of
the CPU the bot spends on a question that gets a clarify keyboard. Texts are plain text:
never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bots.texts import BotTexts
from faq import FaqEntry


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (buttons, previews)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def one_line(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters (previews of citizens' texts)."""
    return shorten(" ".join(text.split()), limit)


def answer_text(texts: BotTexts, entry: FaqEntry) -> str:
    """An FAQ entry as the citizen gets it: the answer, its links, "was it helpful?"."""
    parts = [entry.answer.strip()]
    if entry.links:
        lines = "\n".join(f"• {link.title}: {link.url}" for link in entry.links)
        parts.append(f"{texts.links_title}\n{lines}")
    parts.append(texts.helpful_prompt)
    return "\n\n".join(parts)


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def keyboard(*rows: Iterable[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    """Rows of buttons; empty rows are left out."""
    return InlineKeyboardMarkup(inline_keyboard=[r for r in map(list, rows) if r])


def column(buttons: Iterable[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    """One button per row."""
    return keyboard(*([b] for b in buttons))
