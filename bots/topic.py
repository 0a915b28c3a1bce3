"""A topic bot as the suite sees it: its folder, texts, FAQ and Telegram identity."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bots.faq_source import FaqSource
from bots.queue_settings import load_queue_settings
from bots.texts import BotTexts, load_texts
from escalation.tickets import QueuePolicy, TicketView
from faq.semantic import QueryEncoder

FAQ_FILE = "faq.yaml"


def discover(bots_dir: Path) -> list[str]:
    """Names of the bot folders under ``bots_dir`` (those that contain a faq.yaml)."""
    return sorted(p.parent.name for p in bots_dir.glob(f"*/{FAQ_FILE}"))


@dataclass
class Topic:
    name: str
    texts: BotTexts
    faq: FaqSource
    operators_chat_id: int | None = None
    bot_id: int | None = None
    username: str | None = None
    queue: QueuePolicy = field(default_factory=QueuePolicy)
    operator_ids: frozenset[int] = frozenset()

    @classmethod
    def load(cls, bots_dir: Path, name: str, *, operators_chat_id: int | None = None,
             operator_ids: frozenset[int] = frozenset(), encoder: QueryEncoder | None = None,
             cache_dir: Path | None = None) -> Topic:
        """Read the bot's texts, queue settings and FAQ (matched with ``encoder`` when given,
        its vectors cached in ``cache_dir``); raises TextsError, QueueSettingsError, FaqError
        or OSError if broken."""
        directory = bots_dir / name
        texts = load_texts(directory)
        queue = load_queue_settings(directory).policy()
        return cls(
            name=name,
            texts=texts,
            faq=FaqSource.open(directory / FAQ_FILE, encoder=encoder, cache_dir=cache_dir),
            operators_chat_id=operators_chat_id,
            queue=queue,
            operator_ids=operator_ids,
        )

    def own(self, ticket: TicketView | None) -> TicketView | None:
        """``ticket`` if it is this bot's: a button or a command may carry any number (an old
        button, another bot's ticket, forged data)."""
        return ticket if ticket is not None and ticket.bot == self.name else None


@dataclass
class Suite:
    """All topic bots that run in this process, for cross-bot pointers."""

    topics: dict[str, Topic] = field(default_factory=dict)

    def by_bot_id(self, bot_id: int) -> Topic | None:
        for topic in self.topics.values():
            if topic.bot_id == bot_id:
                return topic
        return None

    def others(self, topic: Topic) -> list[Topic]:
        return [t for t in self.topics.values() if t is not topic]
