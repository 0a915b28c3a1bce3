"""Configuration from environment variables (and an optional ``.env`` file).

Suite-wide settings are fields of :class:`Settings`. Per-bot settings are named after the bot's
folder: ``<NAME>_BOT_TOKEN`` and ``<NAME>_OPERATORS_CHAT_ID`` (``NAME`` upper-cased).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_URL = "https://api.telegram.org"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///data/bots.sqlite3"
    telegram_api_url: str = DEFAULT_API_URL
    log_level: str = "INFO"
    bots_dir: Path = Path(__file__).resolve().parent
    faq_reload_interval: float = Field(default=2.0, gt=0)
    flood_messages: int = Field(default=5, ge=1, description="replies per citizen per window")
    flood_window: float = Field(default=10.0, gt=0)
    polling_timeout: int = Field(default=25, ge=0, le=50)
    faq_candidates_dir: Path = Path("data/faq-candidates")
    queue_check_interval: float = Field(default=60.0, gt=0)
    overdue_digest_hours: float = Field(default=4.0, gt=0)
    group_messages_per_minute: int = Field(default=20, ge=1)
    group_rate_window: float = Field(default=60.0, gt=0)
    bot_messages_per_second: int = Field(default=30, ge=1)
    telegram_timeout: float = Field(default=60.0, gt=0, description="seconds per request")
    delivery_retry_hours: float = Field(
        default=24.0, gt=0, description="keep retrying an outgoing message this long")
    delivery_retry_cap: float = Field(
        default=30.0, gt=0, description="longest pause between two attempts, seconds")
    retention_days: int = Field(default=90, ge=1, description="keep personal texts this long")
    inbox_outbox_retention_hours: float = Field(
        default=48.0, gt=0, description="keep handled updates and sent messages' records")
    faq_encoder: Literal["e5", "off"] = Field(
        default="e5", description="e5: match by meaning and words; off: by words only")
    faq_embedding_cache: Path = Path("data/embeddings")
    faq_encoder_threads: int = Field(default=1, ge=1, le=64)
    # Replicas (docs/replicas.md): webhooks behind a load balancer, PostgreSQL, Redis.
    webhook_listen: str | None = Field(
        default=None, description="host:port to serve webhooks on; unset: long polling")
    webhook_url: str | None = Field(
        default=None, description="public https base URL; each bot gets <base>/<bot name>")
    webhook_secret: SecretStr | None = Field(
        default=None, description="X-Telegram-Bot-Api-Secret-Token Telegram must send")
    redis_url: str | None = Field(
        default=None, description="what replicas share: limits, flood, rights (redis://host:6379/0)")
    replica_id: str | None = Field(
        default=None, description="this process's name in leases (default: host and pid)")
    inbox_lease_seconds: float = Field(
        default=30.0, gt=0, description="an update a dead replica held is taken over after")
    leader_lease_seconds: float = Field(
        default=10.0, gt=0, description="singleton jobs move to another replica after")

    def bot_value(self, bot: str, key: str) -> str | None:
        """``<BOT>_<KEY>`` from the environment, else from ``.env``; empty counts as unset."""
        name = f"{bot.upper()}_{key}"
        value = os.environ.get(name)
        if value is None:
            env_file = self.model_config.get("env_file")
            if isinstance(env_file, str) and Path(env_file).is_file():
                value = dotenv_values(env_file).get(name)
        return value or None

    def bot_token(self, bot: str) -> SecretStr | None:
        value = self.bot_value(bot, "BOT_TOKEN")
        return SecretStr(value) if value else None

    def operator_ids(self, bot: str) -> frozenset[int]:
        """``<NAME>_OPERATOR_IDS``: Telegram user ids allowed to operate (comma-separated).

        Empty: every member of the operators' chat is an operator.
        """
        value = self.bot_value(bot, "OPERATOR_IDS")
        if value is None:
            return frozenset()
        try:
            return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
        except ValueError:
            msg = f"{bot.upper()}_OPERATOR_IDS must be user ids separated by commas, got {value!r}"
            raise ValueError(msg) from None

    def operators_chat_id(self, bot: str) -> int | None:
        value = self.bot_value(bot, "OPERATORS_CHAT_ID")
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            msg = f"{bot.upper()}_OPERATORS_CHAT_ID must be a chat id (an integer), got {value!r}"
            raise ValueError(msg) from None
