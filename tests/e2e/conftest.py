"""One emulator and one real ``python bot.py`` (both bots) per test module.

Bot processes match with the real sentence encoder. The vectors of the shipped FAQs are built
once per session (on a fresh clone ≈ 20 s per FAQ; later sessions reuse ``.cache/``) and every
bot process reads them, so its start-up encodes nothing.
"""

from __future__ import annotations

import itertools
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bots.elsewhere import ELSEWHERE_FILE, Elsewhere
from faq.embeddings import cache_file
from faq.encoder import E5_MODEL_ID
from tests.e2e.process import ROOT, BotProcess
from tests.emulator import Emulator
from tests.semantic import EMBEDDING_CACHE, real_encoder, shipped_matcher

PAYMENTS_TOKEN = "111111:payments-test-token"
VACCINATION_TOKEN = "222222:vaccination-test-token"


SHIPPED_BOTS = ("payments", "vaccination")
#: The files under bots/ whose phrasings a bot process embeds.
EMBEDDED_FILES = (*(f"{bot}/faq.yaml" for bot in SHIPPED_BOTS), ELSEWHERE_FILE)


@pytest.fixture(scope="session", autouse=True)
def warm_embedding_cache() -> None:
    """Before the first bot process starts: the vectors of the shipped FAQs and of the
    directory of other channels in the test cache."""
    for bot in SHIPPED_BOTS:
        shipped_matcher(bot)
    Elsewhere.load(ROOT / "bots" / ELSEWHERE_FILE, encoder=real_encoder(),
                   cache_dir=EMBEDDING_CACHE)


def seed_embeddings(bots_dir: Path, cache_dir: Path) -> Path:
    """``cache_dir`` holding the warm vectors of the shipped files under the names a bot
    gives their copies in ``bots_dir`` (a cache file is named after the FAQ's path): a copy
    starts warm, and what a test changes in it is encoded on its own."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name in EMBEDDED_FILES:
        warm = cache_file(EMBEDDING_CACHE, ROOT / "bots" / name, E5_MODEL_ID)
        copy = cache_file(cache_dir, bots_dir / name, E5_MODEL_ID)
        if warm.is_file() and not copy.exists():
            shutil.copyfile(warm, copy)
    return cache_dir


def copy_bot_content(target: Path) -> Path:
    """The editable content of bots/ (YAML only), so tests can change it freely."""
    shutil.copytree(ROOT / "bots", target,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def start_both(env: dict[str, str]) -> BotProcess:
    """``python bot.py`` with both bots, once both are polling."""
    proc = BotProcess(env)
    proc.wait_for_output("bot payments runs as @payments_test_bot")
    proc.wait_for_output("bot vaccination runs as @vaccination_test_bot")
    return proc


def sqlite_rows(database_url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` in the SQLite database of a test bot process."""
    with sqlite3.connect(database_url.split("///", 1)[1]) as conn:
        return conn.execute(sql, args).fetchall()


@dataclass
class Running:
    emu: Emulator
    proc: BotProcess
    payments: Any
    vaccination: Any
    bots_dir: Path
    database_url: str
    _users: Iterator[int]

    def new_user(self, name: str = "Гражданин") -> Any:
        return self.emu.add_user(first_name=f"{name} {next(self._users)}")


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    emulator = Emulator()
    emulator.start()
    try:
        yield emulator
        emulator.assert_no_violations()
    finally:
        emulator.stop()


def base_env(emu: Emulator, tmp: Path, bots_dir: Path) -> dict[str, str]:
    return {
        "TELEGRAM_API_URL": emu.base_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'bots.sqlite3'}",
        "BOTS_DIR": str(bots_dir),
        "FAQ_RELOAD_INTERVAL": "0.2",
        "POLLING_TIMEOUT": "5",
        "FLOOD_MESSAGES": "5",
        "FLOOD_WINDOW": "60",
        "LOG_LEVEL": "INFO",
        "FAQ_EMBEDDING_CACHE": str(seed_embeddings(bots_dir, tmp / "embeddings")),
    }


@pytest.fixture(scope="module")
def running(emu: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("suite")
    bots_dir = copy_bot_content(tmp / "bots")
    payments = emu.add_bot(token=PAYMENTS_TOKEN, username="payments_test_bot")
    vaccination = emu.add_bot(token=VACCINATION_TOKEN, username="vaccination_test_bot")
    env = base_env(emu, tmp, bots_dir) | {
        "PAYMENTS_BOT_TOKEN": PAYMENTS_TOKEN,
        "VACCINATION_BOT_TOKEN": VACCINATION_TOKEN,
    }
    proc = BotProcess(env)
    try:
        proc.wait_for_output("bot payments runs as @payments_test_bot")
        proc.wait_for_output("bot vaccination runs as @vaccination_test_bot")
        assert "semantic matching with" in proc.output
        assert "FAQ phrasings" not in proc.output, "the test embedding cache was cold"
        yield Running(emu, proc, payments, vaccination, bots_dir, env["DATABASE_URL"],
                      itertools.count(1))
    finally:
        code = proc.stop()
    assert code == 0, proc.output
    assert PAYMENTS_TOKEN not in proc.output, "a token was written to the log"
