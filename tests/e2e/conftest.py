"""One emulator and one real ``python bot.py`` (both bots) per test module."""

from __future__ import annotations

import itertools
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.process import ROOT, BotProcess
from tests.emulator import Emulator

PAYMENTS_TOKEN = "111111:payments-test-token"
VACCINATION_TOKEN = "222222:vaccination-test-token"


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
        yield Running(emu, proc, payments, vaccination, bots_dir, env["DATABASE_URL"],
                      itertools.count(1))
    finally:
        code = proc.stop()
    assert code == 0, proc.output
    assert PAYMENTS_TOKEN not in proc.output, "a token was written to the log"
