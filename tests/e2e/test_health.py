"""``python bot.py --check``: the admin's report on settings, database, tokens and chats.

Every scenario is one ``python bot.py --check`` run against the module's emulator. The runs
are started together when the module starts (most of a run is importing aiogram) and each test
waits for its own and reads the report.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from escalation.db import head_revision, upgrade_database
from tests.e2e.conftest import PAYMENTS_TOKEN, VACCINATION_TOKEN, base_env, copy_bot_content
from tests.e2e.process import BotProcess
from tests.emulator import Emulator

pytestmark = pytest.mark.e2e

UNKNOWN_TOKEN = "333333:token-the-emulator-does-not-know"
#: No ``<digits>:`` in front (aiogram refuses it before any request); random letters, so any
#: piece of it in the report can only have come from the token.
MALFORMED_TOKEN = "Qx7vLp9ZrW4kTd2N"
MISSING_CHAT = "-1009999999999"
DB_PASSWORD = "s3cret-pw"


@dataclass
class World:
    emu: Emulator
    payments: Any
    vaccination: Any
    env: dict[str, str]  # all good: both tokens, both operators' chats, a migrated database
    api_down: str = ""  # a Bot API URL where nothing listens


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- scenarios: the environment of each run -----------------------------------------------

Scenario = Callable[[World, Path], dict[str, str]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(make_env: Scenario) -> Scenario:
    SCENARIOS[make_env.__name__] = make_env
    return make_env


@scenario
def all_good(world: World, tmp: Path) -> dict[str, str]:
    return world.env


@scenario
def rejected_token(world: World, tmp: Path) -> dict[str, str]:
    return world.env | {"VACCINATION_BOT_TOKEN": UNKNOWN_TOKEN}


@scenario
def malformed_token(world: World, tmp: Path) -> dict[str, str]:
    return world.env | {"VACCINATION_BOT_TOKEN": MALFORMED_TOKEN}


@scenario
def missing_chat_and_forum_without_topic_rights(world: World, tmp: Path) -> dict[str, str]:
    forum = world.emu.add_group("Форум без прав на темы", forum=True,
                                bots=[world.vaccination], can_manage_topics=False)
    return world.env | {"PAYMENTS_OPERATORS_CHAT_ID": MISSING_CHAT,
                        "VACCINATION_OPERATORS_CHAT_ID": str(forum.id)}


@scenario
def bot_not_admin_and_bot_not_member(world: World, tmp: Path) -> dict[str, str]:
    as_member = world.emu.add_group("Бот без прав", bots=[world.payments], bot_admin=False)
    without_bot = world.emu.add_group("Группа без бота", bots=[])
    return world.env | {"PAYMENTS_OPERATORS_CHAT_ID": str(as_member.id),
                        "VACCINATION_OPERATORS_CHAT_ID": str(without_bot.id)}


@scenario
def database_not_migrated(world: World, tmp: Path) -> dict[str, str]:
    empty = tmp / "empty.sqlite3"
    empty.touch()
    return world.env | {"DATABASE_URL": f"sqlite+aiosqlite:///{empty}"}


@scenario
def nothing_reachable(world: World, tmp: Path) -> dict[str, str]:
    return world.env | {
        "DATABASE_URL": f"postgresql+asyncpg://bots:{DB_PASSWORD}@127.0.0.1:1/bots",
        "TELEGRAM_API_URL": world.api_down,
    }


@scenario
def encoder_fails(world: World, tmp: Path) -> dict[str, str]:
    return world.env | {"FAQ_ENCODER_FAIL": "model file damaged"}


@scenario
def invalid_operators_chat_id(world: World, tmp: Path) -> dict[str, str]:
    return world.env | {"PAYMENTS_OPERATORS_CHAT_ID": "операторы"}


# --- fixtures and helpers ------------------------------------------------------------------


@dataclass
class Run:
    proc: BotProcess
    tmp: Path

    def result(self) -> tuple[int, str]:
        code = self.proc.wait(timeout=240)
        return code, self.proc.output


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    emu = Emulator().start()
    tmp = tmp_path_factory.mktemp("health")
    payments = emu.add_bot(token=PAYMENTS_TOKEN, username="payments_test_bot")
    vaccination = emu.add_bot(token=VACCINATION_TOKEN, username="vaccination_test_bot")
    plain = emu.add_group("Операторы: выплаты", bots=[payments])
    forum = emu.add_group("Операторы: вакцинация", forum=True, bots=[vaccination])
    env = base_env(emu, tmp, copy_bot_content(tmp / "bots")) | {
        "PAYMENTS_BOT_TOKEN": PAYMENTS_TOKEN,
        "VACCINATION_BOT_TOKEN": VACCINATION_TOKEN,
        "PAYMENTS_OPERATORS_CHAT_ID": str(plain.id),
        "VACCINATION_OPERATORS_CHAT_ID": str(forum.id),
    }
    asyncio.run(upgrade_database(env["DATABASE_URL"]))
    try:
        yield World(emu, payments, vaccination, env, f"http://127.0.0.1:{closed_port()}")
        emu.assert_no_violations()
    finally:
        emu.stop()


@pytest.fixture(scope="module")
def runs(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    """Every scenario's ``python bot.py --check``, started at once; in its own working
    directory, so that no stray ``.env`` is read."""
    started: dict[str, Run] = {}
    try:
        for name, make_env in SCENARIOS.items():
            tmp = tmp_path_factory.mktemp(name)
            started[name] = Run(BotProcess(make_env(world, tmp), args=("--check",), cwd=tmp),
                                tmp)
        yield started
    finally:
        for run in started.values():
            if run.proc.proc.poll() is None:
                run.proc.proc.kill()
            run.proc.proc.wait()


def line(output: str, what: str, status: str | None = None) -> str:
    """The report line of check ``what`` (e.g. "payments: token"); with ``status`` (e.g.
    "[FAIL]"), the line must start with it."""
    found = [row for row in output.splitlines() if row[7:].startswith(what + " ")]
    assert len(found) == 1, f"no single {what!r} line in:\n{output}"
    if status is not None:
        assert found[0].startswith(status), output
    return found[0]


def exited(run: Run, code: int) -> str:
    """The output of ``python bot.py --check`` in ``run``, which exited with ``code``."""
    got, out = run.result()
    assert got == code, out
    return out


# --- tests ---------------------------------------------------------------------------------


def test_all_good_is_exit_0_and_every_check_ok(runs: dict[str, Run]) -> None:
    out = exited(runs["all_good"], 0)
    *report, summary = out.splitlines()
    assert report, out
    assert all(row.startswith("[ OK ]") for row in report), out
    assert summary.startswith("OK: "), out
    assert "warning" not in summary, out
    assert "@payments_test_bot" in line(out, "payments: token")
    assert "@vaccination_test_bot" in line(out, "vaccination: token")
    assert "a card per ticket" in line(out, "payments: operators' chat")
    assert "one topic per ticket" in line(out, "vaccination: operators' chat")
    assert f"at head {head_revision()}" in line(out, "migrations")
    matching = line(out, "matching")
    assert "semantic: multilingual-e5-small" in matching
    assert "2 FAQs, cache warm" in matching
    assert PAYMENTS_TOKEN not in out
    assert VACCINATION_TOKEN not in out


def test_rejected_token_fails_naming_the_bot(runs: dict[str, Run]) -> None:
    out = exited(runs["rejected_token"], 1)
    token = line(out, "vaccination: token", "[FAIL]")
    assert "token rejected" in token
    assert "VACCINATION_BOT_TOKEN" in token
    line(out, "payments: token", "[ OK ]")
    assert UNKNOWN_TOKEN.split(":")[1] not in out
    assert PAYMENTS_TOKEN not in out
    assert out.splitlines()[-1].startswith("FAILED: 1 of")


def test_malformed_token_fails_naming_the_bot_without_printing_it(
        runs: dict[str, Run]) -> None:
    out = exited(runs["malformed_token"], 1)
    token = line(out, "vaccination: token", "[FAIL]")
    assert "VACCINATION_BOT_TOKEN is malformed" in token
    line(out, "payments: token", "[ OK ]")
    assert "Traceback" not in out
    pieces = [MALFORMED_TOKEN[i:i + 5] for i in range(len(MALFORMED_TOKEN) - 4)]
    assert [p for p in pieces if p in out] == [], out
    assert out.splitlines()[-1].startswith("FAILED: 1 of")


def test_missing_chat_fails_and_forum_without_topic_rights_warns(runs: dict[str, Run]) -> None:
    out = exited(runs["missing_chat_and_forum_without_topic_rights"], 1)
    missing = line(out, "payments: operators' chat", "[FAIL]")
    assert f"{MISSING_CHAT} not found" in missing
    assert "PAYMENTS_OPERATORS_CHAT_ID" in missing
    no_topics = line(out, "vaccination: operators' chat", "[WARN]")
    assert "may not manage topics" in no_topics


def test_bot_not_admin_warns_and_bot_not_member_fails(runs: dict[str, Run]) -> None:
    out = exited(runs["bot_not_admin_and_bot_not_member"], 1)
    not_admin = line(out, "payments: operators' chat", "[WARN]")
    assert "bot is not an admin: it will not see operators' replies" in not_admin
    not_member = line(out, "vaccination: operators' chat", "[FAIL]")
    assert "not a member" in not_member


def test_empty_database_warns_that_the_first_start_creates_the_schema(
        runs: dict[str, Run]) -> None:
    run = runs["database_not_migrated"]
    out = exited(run, 0)
    migrations = line(out, "migrations", "[WARN]")
    assert "the first start creates it" in migrations
    assert (run.tmp / "empty.sqlite3").stat().st_size == 0, "--check must not migrate"


def test_unreachable_database_and_bot_api_fail_clearly(world: World,
                                                       runs: dict[str, Run]) -> None:
    out = exited(runs["nothing_reachable"], 1)
    database = line(out, "database", "[FAIL]")
    assert "cannot connect" in database
    assert "127.0.0.1:1" in database
    assert DB_PASSWORD not in out
    token = line(out, "payments: token", "[FAIL]")
    assert f"Bot API unreachable at {world.api_down}" in token
    assert PAYMENTS_TOKEN not in out


def test_encoder_that_cannot_load_warns_lexical_only(runs: dict[str, Run]) -> None:
    out = exited(runs["encoder_fails"], 0)  # the bots run, matching by words
    matching = line(out, "matching", "[WARN]")
    assert "lexical only: encoder failure injected: model file damaged" in matching
    assert out.splitlines()[-1].startswith("OK: "), out


def test_invalid_operators_chat_id_names_the_variable(runs: dict[str, Run]) -> None:
    out = exited(runs["invalid_operators_chat_id"], 1)
    assert "[FAIL] settings" in out
    assert "PAYMENTS_OPERATORS_CHAT_ID must be a chat id" in out
    assert "Traceback" not in out
