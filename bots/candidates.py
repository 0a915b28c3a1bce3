"""FAQ candidates: questions operators answered well enough to add to the FAQ.

When an operator presses «В FAQ» under a delivered answer, the ticket's question and the answer
are appended as one JSON line to ``<FAQ_CANDIDATES_DIR>/<bot>.jsonl``. Editors turn them into
FAQ entries with ``python -m faq candidates --bot NAME`` (see :mod:`faq.candidates`), review
them and paste them into ``bots/<name>/faq.yaml``; the FAQ stays reviewed in git.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CandidateStore:
    directory: Path

    def path(self, bot: str) -> Path:
        return self.directory / f"{bot}.jsonl"

    def add(self, bot: str, *, ticket: int, question: str, answer: str, operator: str,
            at: datetime) -> None:
        record = {"ticket": ticket, "question": question, "answer": answer,
                  "operator": operator, "at": at.isoformat()}
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.path(bot).open("a", encoding="utf-8") as file:
            file.write(json.dumps(record, ensure_ascii=False) + "\n")
        log.info("ticket %d saved as an FAQ candidate of bot %s", ticket, bot)
