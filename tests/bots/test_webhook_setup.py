"""``python bot.py set-webhook`` / ``delete-webhook`` against the Bot API emulator."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

import bot as bot_cli
from bots.settings import Settings
from bots.topic import discover
from bots.webhook_setup import set_webhooks
from tests.emulator import Emulator

BOTS = Path(__file__).resolve().parents[2] / "bots"
PAYMENTS = "111:payments-token"
VACCINATION = "222:vaccination-token"
SECRET = "hook-Secret_42"
BASE = "https://bots.example.org/"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for name in discover(BOTS):
        monkeypatch.delenv(f"{name.upper()}_BOT_TOKEN", raising=False)


def settings_for(emu: Emulator, monkeypatch: pytest.MonkeyPatch, *,
                 url: str | None = BASE, secret: str | None = SECRET,
                 tokens: dict[str, str] | None = None) -> Settings:
    for name, token in (tokens if tokens is not None else {"payments": PAYMENTS}).items():
        monkeypatch.setenv(f"{name.upper()}_BOT_TOKEN", token)
    return Settings(telegram_api_url=emu.base_url, bots_dir=BOTS, webhook_url=url,
                    webhook_secret=secret)


async def run(settings: Settings, **options: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await set_webhooks(settings, out=out, err=err, **options)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


async def test_set_webhook_registers_url_secret_and_update_types(
        emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    payments = emu.add_bot(token=PAYMENTS)
    vaccination = emu.add_bot(token=VACCINATION)
    settings = settings_for(emu, monkeypatch,
                            tokens={"payments": PAYMENTS, "vaccination": VACCINATION})
    code, out, err = await run(settings, allowed_updates=["message", "callback_query"])
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "payments: вебхук установлен: https://bots.example.org/telegram/payments",
        "vaccination: вебхук установлен: https://bots.example.org/telegram/vaccination",
    ]
    call = emu.calls(payments, "setWebhook")[0]
    assert call.params["url"] == "https://bots.example.org/telegram/payments"
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "callback_query"]
    assert call.params["max_connections"] == 40
    assert not call.params.get("drop_pending_updates")
    assert payments.webhook_secret == SECRET
    assert vaccination.webhook_url.endswith("/telegram/vaccination")
    session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
    async with Bot(PAYMENTS, session=session) as api:
        info = await api.get_webhook_info()
    assert info.allowed_updates == ["callback_query", "message"]
    assert SECRET not in out + err
    assert "payments-token" not in out + err


async def test_delete_webhook_goes_back_to_polling_without_a_url(
        emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    payments = emu.add_bot(token=PAYMENTS)
    emu.set_webhook(payments, "https://old.example.org/telegram/payments", secret_token="x")
    settings = settings_for(emu, monkeypatch, url=None, secret=None)
    code, out, _ = await run(settings, delete=True)
    assert code == 0
    assert out == "payments: вебхук удалён, бот может работать через long polling\n"
    assert payments.webhook_url == ""
    assert not emu.calls(payments, "deleteWebhook")[0].params.get("drop_pending_updates")


@pytest.mark.parametrize(("url", "secret", "expected"), [
    (None, SECRET, "не задан WEBHOOK_URL"),
    ("http://bots.example.org", SECRET, "WEBHOOK_URL должен начинаться с https://"),
    ("bots.example.org", SECRET, "WEBHOOK_URL должен начинаться с https://"),
    (BASE, None, "не задан WEBHOOK_SECRET"),
    (BASE, "with spaces!", "WEBHOOK_SECRET: только латинские буквы"),
])
async def test_incomplete_settings_are_explained_and_nothing_is_sent(
        emu: Emulator, monkeypatch: pytest.MonkeyPatch, url: str | None, secret: str | None,
        expected: str) -> None:
    emu.add_bot(token=PAYMENTS)
    code, out, err = await run(settings_for(emu, monkeypatch, url=url, secret=secret))
    assert code == 2
    assert out == ""
    assert expected in err
    assert emu.calls() == []
    if secret:
        assert secret not in err


async def test_no_token_is_a_settings_error(emu: Emulator,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = await run(settings_for(emu, monkeypatch, tokens={}))
    assert code == 2
    assert "ни у одного бота не задан токен" in err


async def test_rejected_and_malformed_tokens_fail_per_bot(
        emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    emu.add_bot(token=PAYMENTS)
    settings = settings_for(emu, monkeypatch, tokens={
        "payments": "999:unknown-token", "vaccination": "not a token"})
    code, out, err = await run(settings)
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        "payments: ошибка: Telegram отклонил токен: проверьте PAYMENTS_BOT_TOKEN",
        "vaccination: ошибка: VACCINATION_BOT_TOKEN записан неверно (ожидается <цифры>:<секрет>,"
        " как его выдаёт @BotFather)",
    ]
    assert "unknown-token" not in err


async def test_unreachable_bot_api_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMENTS_BOT_TOKEN", PAYMENTS)
    settings = Settings(telegram_api_url="http://127.0.0.1:9", bots_dir=BOTS, webhook_url=BASE,
                        webhook_secret=SECRET)
    code, _, err = await run(settings)
    assert code == 1
    assert "payments: ошибка: Bot API недоступен по адресу http://127.0.0.1:9" in err


def test_subcommands_are_parsed() -> None:
    assert bot_cli.parse_args(["set-webhook"]).command == "set-webhook"
    assert bot_cli.parse_args(["delete-webhook"]).command == "delete-webhook"
