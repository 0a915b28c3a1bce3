"""bots.health without Telegram: the report, settings errors, database and content checks."""

from __future__ import annotations

import asyncio
import io
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from alembic import command
from pydantic import SecretStr

import bot
from bots import health
from bots.health import Check, HealthReport, Status
from bots.health_telegram import check_bot
from bots.settings import Settings
from escalation.db import head_revision, run_alembic, upgrade_database
from tests.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def by_what(checks: list[Check]) -> dict[str, Check]:
    return {c.what: c for c in checks}


# --- the report ----------------------------------------------------------------------------


def test_report_lines_summary_and_exit_code() -> None:
    report = HealthReport()
    report.add("settings", Status.OK, "parsed")
    report.add("payments: token", Status.WARNING, "not set")
    assert report.exit_code == 0
    assert report.render().splitlines() == [
        "[ OK ] settings         parsed",
        "[WARN] payments: token  not set",
        "OK: 2 checks passed, 1 warning",
    ]
    report.add("database", Status.FAIL, "cannot connect")
    assert report.exit_code == 1
    assert report.summary() == "FAILED: 1 of 3 checks failed, 1 warning"


def test_redacted_hides_secrets_wherever_they_appear() -> None:
    report = HealthReport([Check("x", Status.FAIL, "GET /bot123:SECRET/getMe failed")])
    assert report.redacted(["123:SECRET", ""]).checks[0].message == "GET /bot<hidden>/getMe failed"


# --- settings ------------------------------------------------------------------------------


def test_invalid_suite_setting_is_a_failure_naming_the_variable(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("FLOOD_WINDOW", "soon")
    out = io.StringIO()
    assert health.run_check(Settings, out) == 1
    text = out.getvalue()
    assert "[FAIL] settings" in text
    assert "FLOOD_WINDOW" in text
    assert "'soon'" in text
    assert "Traceback" not in text


async def test_invalid_operator_ids_is_a_failure_naming_the_variable(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAYMENTS_OPERATOR_IDS", "12,maria")
    checks = health.bot_settings(Settings(), ["payments", "vaccination"])
    assert [c.status for c in checks] == [Status.FAIL]
    assert "PAYMENTS_OPERATOR_IDS" in checks[0].message


def test_check_with_other_arguments_is_bad_usage() -> None:
    with pytest.raises(SystemExit) as exit_info:
        bot.parse_args(["--check", "--console"])
    assert exit_info.value.code == 2
    assert bot.parse_args(["--check"]).check


# --- content -------------------------------------------------------------------------------


def test_broken_faq_names_file_and_line(tmp_path: Path) -> None:
    bots_dir = tmp_path / "bots"
    shutil.copytree(ROOT / "bots", bots_dir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    faq = bots_dir / "payments" / "faq.yaml"
    faq.write_text(faq.read_text("utf-8").replace("question:", "qestion:", 1), "utf-8")
    check = health.load_content(bots_dir, "payments")
    assert check.status is Status.FAIL
    assert "FAQ is broken" in check.message
    assert "payments/faq.yaml:" in check.message
    assert health.load_content(bots_dir, "vaccination").status is Status.OK


# --- database ------------------------------------------------------------------------------


async def test_missing_sqlite_file_is_a_warning_and_nothing_is_created(tmp_path: Path) -> None:
    database = tmp_path / "data" / "bots.sqlite3"
    checks = by_what(await health.check_database(sqlite_url(database)))
    assert checks["database"].status is Status.WARNING
    assert "not initialised" in checks["database"].message
    assert checks["migrations"].status is Status.WARNING
    assert not database.parent.exists()


async def test_empty_database_is_not_initialised(tmp_path: Path) -> None:
    database = tmp_path / "bots.sqlite3"
    database.touch()
    checks = by_what(await health.check_database(sqlite_url(database)))
    assert checks["database"].status is Status.OK
    # the first start creates the schema: a warning, as for a missing SQLite file
    assert checks["migrations"].status is Status.WARNING
    assert "not initialised" in checks["migrations"].message
    assert "upgrade" in checks["migrations"].message
    assert database.stat().st_size == 0


async def test_a_database_that_refuses_writes_fails(tmp_path: Path) -> None:
    database = tmp_path / "bots.sqlite3"
    await upgrade_database(sqlite_url(database))
    read_only = f"sqlite+aiosqlite:///file:{database}?mode=ro&uri=true"
    checks = by_what(await health.check_database(read_only))
    assert checks["database"].status is Status.FAIL
    assert "refuses writes" in checks["database"].message
    assert "readonly" in checks["database"].message
    writable = by_what(await health.check_database(sqlite_url(database)))
    assert writable["database"].status is Status.OK


async def test_old_revision_needs_upgrade_and_head_is_ok(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "bots.sqlite3")
    await run_alembic(url, lambda config: command.upgrade(config, "0001"))
    checks = by_what(await health.check_database(url))
    assert checks["migrations"].status is Status.FAIL
    assert f"needs upgrade: at 0001, head is {head_revision()}" in checks["migrations"].message
    await upgrade_database(url)
    checks = by_what(await health.check_database(url))
    assert checks["migrations"] == Check("migrations", Status.OK, f"at head {head_revision()}")


async def test_not_a_database_file_fails(tmp_path: Path) -> None:
    database = tmp_path / "bots.sqlite3"
    database.write_text("not a database\n" * 100)
    checks = by_what(await health.check_database(sqlite_url(database)))
    assert checks["database"].status is Status.FAIL
    assert "file is not a database" in checks["database"].message


@pytest.mark.parametrize(("url", "expected"), [
    ("nonsense", "not a database URL"),
    ("sqlite:///x.sqlite3", "cannot use this URL"),
])
async def test_unusable_database_url_fails(url: str, expected: str) -> None:
    checks = by_what(await health.check_database(url))
    assert checks["database"].status is Status.FAIL
    assert expected in checks["database"].message


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A TCP port that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_postgres_that_never_answers_times_out(
        silent_server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "DB_CONNECT_TIMEOUT", 0.5)
    started = time.monotonic()
    checks = by_what(await health.check_database(
        f"postgresql+asyncpg://bots:pw@127.0.0.1:{silent_server}/bots"))
    assert time.monotonic() - started < 3
    message = checks["database"].message
    assert checks["database"].status is Status.FAIL
    assert "cannot connect: no answer within 0.5 s" in message
    assert ":pw@" not in message


# --- the webhook (getWebhookInfo, against the emulator) ------------------------------------


WEBHOOK_TOKEN = "555:webhook-check-token"


async def webhook_line(emulator: Emulator, **options: object) -> Check:
    """The "payments: webhook" check with settings ``options``."""
    settings = Settings(telegram_api_url=emulator.base_url, **options)  # type: ignore[arg-type]
    session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url))
    try:
        checks = await check_bot(session, settings, "payments", SecretStr(WEBHOOK_TOKEN), None)
    finally:
        await session.close()
    return by_what(checks)["payments: webhook"]


async def test_polling_without_a_webhook_is_ok(emu: Emulator) -> None:
    emu.add_bot(token=WEBHOOK_TOKEN)
    check = await webhook_line(emu)
    assert check == Check("payments: webhook", Status.OK, "none: long polling (0 update(s) "
                                                         "pending)")


async def test_polling_with_a_webhook_set_fails(emu: Emulator) -> None:
    account = emu.add_bot(token=WEBHOOK_TOKEN)
    emu.set_webhook(account, "https://old.example.org/telegram/payments")
    check = await webhook_line(emu)
    assert check.status is Status.FAIL
    assert "set to https://old.example.org/telegram/payments" in check.message
    assert "409 Conflict" in check.message
    assert "python bot.py delete-webhook" in check.message


async def test_webhook_mode_wants_its_own_url(emu: Emulator) -> None:
    account = emu.add_bot(token=WEBHOOK_TOKEN)
    mode = {"webhook_listen": "0.0.0.0:8080", "webhook_url": "https://bots.example.org"}
    missing = await webhook_line(emu, **mode)
    assert missing.status is Status.FAIL
    assert "not set" in missing.message
    assert "expected https://bots.example.org/telegram/payments" in missing.message
    assert "python bot.py set-webhook" in missing.message
    emu.set_webhook(account, "https://other.example.org/telegram/payments")
    other = await webhook_line(emu, **mode)
    assert other.status is Status.FAIL
    assert "set to https://other.example.org/telegram/payments" in other.message
    emu.set_webhook(account, "https://bots.example.org/telegram/payments")
    assert await webhook_line(emu, **mode) == Check(
        "payments: webhook", Status.OK,
        "https://bots.example.org/telegram/payments (0 update(s) pending)")


async def test_webhook_mode_shows_failing_deliveries(emu: Emulator) -> None:
    account = emu.add_bot(token=WEBHOOK_TOKEN)
    url = "http://127.0.0.1:9/telegram/payments"  # nothing listens: connection refused
    emu.set_webhook(account, url)
    emu.send_text(account, emu.add_user(), "вопрос")
    await emu.await_for(lambda: emu.webhook_error(account))
    check = await webhook_line(emu, webhook_listen="0.0.0.0:8080",
                               webhook_url="http://127.0.0.1:9")
    assert check.status is Status.WARNING
    assert check.message.startswith(f"{url} (1 update(s) pending; last delivery error ")
    assert check.message.endswith("UTC: Connection refused)")
