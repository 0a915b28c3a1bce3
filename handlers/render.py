"""Texts assembled from the bot's texts and FAQ entries (plain text: never parsed as markup)."""

from __future__ import annotations

from bots.texts import BotTexts
from faq import FaqEntry


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (buttons, previews)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def answer_text(texts: BotTexts, entry: FaqEntry) -> str:
    parts = [entry.answer.strip()]
    if entry.links:
        lines = "\n".join(f"• {link.title}: {link.url}" for link in entry.links)
        parts.append(f"{texts.links_title}\n{lines}")
    parts.append(texts.helpful_prompt)
    return "\n\n".join(parts)
