"""Texts assembled from the bot's texts and FAQ entries (plain text: never parsed as markup)."""

from __future__ import annotations

from bots.conversation import Outcome, OutcomeKind
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


def with_elsewhere(texts: BotTexts, outcome: Outcome, text: str) -> str:
    """An off-topic question's reply: the bot could not answer it, what became of it (``text``:
    a ticket, or recorded) and where such questions usually go."""
    if outcome.elsewhere is None:
        return text
    where = texts.offtopic_where.format(where=outcome.elsewhere.where)
    if outcome.kind is OutcomeKind.BANNED:
        return f"{text}\n\n{where}"
    if outcome.kind is OutcomeKind.ESCALATE:
        text = texts.offtopic_recorded.format(question_id=outcome.question_id)
    return f"{texts.offtopic_intro.format(topic=texts.topic)}\n{text}\n\n{where}"
