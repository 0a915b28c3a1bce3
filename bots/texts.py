"""Everything a citizen reads, loaded from YAML so editors can change it without code.

``bots/texts.yaml`` holds the texts shared by every bot; ``bots/<name>/texts.yaml`` adds the
bot's own (its topic, greeting, example question) and may override any shared text.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator


class TextsError(Exception):
    """A texts file is missing, broken or lacks a required text."""


class BotTexts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: str
    start: str
    example: str
    help: str
    btn_browse: str
    btn_ask_person: str
    btn_back: str
    btn_prev: str
    btn_next: str
    btn_other: str
    btn_helpful: str
    btn_not_helpful: str
    categories_title: str
    category_title: str
    no_categories: str
    helpful_prompt: str
    links_title: str
    clarify_prompt: str
    escalate: str
    ask_person: str
    ask_person_prompt: str
    feedback_thanks: str
    not_helpful: str
    redirect: str
    greeting_reply: str
    thanks_reply: str
    farewell_reply: str
    abuse_reply: str
    media_reply: str
    empty_reply: str
    flood_reply: str
    stale_button: str

    @model_validator(mode="after")
    def _placeholders_known(self) -> BotTexts:
        allowed = {"category", "question_id", "topic", "username", "seconds", "example"}
        for name, value in self:
            fields = {f for _, f, _, _ in string.Formatter().parse(value) if f}
            unknown = fields - allowed
            if unknown:
                msg = f"text '{name}' uses unknown placeholder(s) {sorted(unknown)}"
                raise ValueError(msg)
        return self


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        msg = f"{path}: cannot read texts: {error}"
        raise TextsError(msg) from error
    if not isinstance(data, dict):
        msg = f"{path}: texts must be a mapping of name: text"
        raise TextsError(msg)
    return data


def load_texts(bot_dir: Path) -> BotTexts:
    """Texts of the bot in ``bot_dir``: shared defaults overridden by the bot's own file."""
    merged = _read(bot_dir.parent / "texts.yaml")
    own = bot_dir / "texts.yaml"
    if own.is_file():
        merged |= _read(own)
    try:
        return BotTexts.model_validate(merged)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'texts'}: {e['msg']}" for e in error.errors()
        )
        msg = f"{own}: {problems}"
        raise TextsError(msg) from None
