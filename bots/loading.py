"""A topic bot's content loaded for running: its FAQ, texts and queue settings, with the
process's encoder; a bot whose content is broken is reported by name and reason, not started."""

from __future__ import annotations

import logging
from pathlib import Path

from bots.encoding import LEXICAL, Semantics
from bots.queue_settings import QueueSettingsError
from bots.settings import Settings
from bots.texts import TextsError
from bots.topic import Topic
from faq import FaqError

log = logging.getLogger(__name__)


def load_topic(settings: Settings, bots_dir: Path, name: str,
               semantics: Semantics = LEXICAL) -> Topic | None:
    """The bot's topic, or None with the reason logged. A cold embedding cache makes this
    take a while (≈ 20 s for a shipped FAQ, progress in the log): run it off the loop."""
    try:
        return Topic.load(bots_dir, name, operators_chat_id=settings.operators_chat_id(name),
                          operator_ids=settings.operator_ids(name),
                          encoder=semantics.encoder, cache_dir=semantics.cache_dir)
    except FaqError as error:
        problems = "\n".join(f"  {p}" for p in error.problems) or f"  {error}"
        log.error("bot %s not started: its FAQ is broken:\n%s", name, problems)
    except (TextsError, QueueSettingsError, OSError, ValueError) as error:
        log.error("bot %s not started: %s", name, error)
    return None
