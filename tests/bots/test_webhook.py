"""The webhook app: who may post, what is an update, when Telegram is told to deliver again."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.types import Update
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.webhook import SECRET_HEADER, build_webhook_app, parse_listen, serve_webhooks
from escalation.db import create_engine, make_session_factory, upgrade_database
from escalation.inbox import Inbox

SECRET = "s3cret-Token_1"
TEXT = "Мой паспорт 4509 123456, где справка?"


def update_json(update_id: int = 501, text: str = TEXT) -> dict[str, Any]:
    return {"update_id": update_id, "message": {
        "message_id": 7, "date": 1_700_000_000, "text": text,
        "chat": {"id": 42, "type": "private", "first_name": "Иван"},
        "from": {"id": 42, "is_bot": False, "first_name": "Иван"}}}


class Received:
    """A fake intake: records what it got."""

    def __init__(self) -> None:
        self.updates: list[tuple[str, Update]] = []

    async def __call__(self, bot: str, update: Update) -> None:
        self.updates.append((bot, update))


HealthFn = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]


async def healthy() -> tuple[bool, dict[str, Any]]:
    return True, {"replica": "a"}


@pytest.fixture
async def bots() -> AsyncIterator[dict[str, Bot]]:
    bot = Bot("123:ABC")
    yield {"payments": bot}
    await bot.session.close()


def make_client(bots: dict[str, Bot], receive: Callable[[str, Update], Awaitable[None]],
                health: HealthFn = healthy) -> TestClient[web.Request, web.Application]:
    app = build_webhook_app(bots=bots, receive=receive, secret=SECRET, health=health)
    return TestClient(TestServer(app))


@pytest.fixture
async def received() -> Received:
    return Received()


@pytest.fixture
async def client(bots: dict[str, Bot], received: Received
                 ) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with make_client(bots, received) as test_client:
        yield test_client


async def post(client: TestClient[web.Request, web.Application], body: Any, *,
               bot: str = "payments", secret: str | None = SECRET,
               raw: bytes | None = None) -> aiohttp.ClientResponse:
    headers = {} if secret is None else {SECRET_HEADER: secret}
    if raw is not None:
        return await client.post(f"/telegram/{bot}", data=raw, headers=headers)
    return await client.post(f"/telegram/{bot}", json=body, headers=headers)


async def test_valid_update_is_received_then_answered_200(
        client: TestClient[web.Request, web.Application], received: Received,
        bots: dict[str, Bot]) -> None:
    response = await post(client, update_json())
    assert response.status == 200
    assert await response.json() == {}
    [(name, update)] = received.updates
    assert name == "payments"
    assert update.update_id == 501
    assert update.message is not None
    assert update.message.text == TEXT
    assert update.bot is bots["payments"]  # handlers can answer through it


async def test_missing_secret_is_401_and_wrong_secret_403_logged_without_body(
        client: TestClient[web.Request, web.Application], received: Received,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert (await post(client, update_json(), secret=None)).status == 401
    assert (await post(client, update_json(), secret="guess")).status == 403
    assert (await post(client, update_json(), secret=SECRET + "x")).status == 403
    assert received.updates == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3
    assert all("payments" in w and "127.0.0.1" in w for w in warnings)
    assert "no secret" in warnings[0]
    assert "wrong secret" in warnings[1]
    assert "guess" not in caplog.text
    assert SECRET not in caplog.text
    assert "паспорт" not in caplog.text


async def test_unknown_bot_is_404(client: TestClient[web.Request, web.Application],
                                  received: Received) -> None:
    response = await post(client, update_json(), bot="vaccination")
    assert response.status == 404
    assert received.updates == []


@pytest.mark.parametrize("raw", [b"not json", b"\xff\xfe", b"[1, 2]", b'{"message": {}}',
                                 b'{"update_id": "x", "text": "' + TEXT.encode() + b'"}'])
async def test_not_an_update_is_400_logged_without_body(
        client: TestClient[web.Request, web.Application], received: Received,
        caplog: pytest.LogCaptureFixture, raw: bytes) -> None:
    caplog.set_level(logging.DEBUG)
    response = await post(client, None, raw=raw)
    assert response.status == 400
    assert received.updates == []
    assert "not an update" in caplog.text
    assert "паспорт" not in caplog.text
    assert "not json" not in caplog.text


async def test_a_database_refusing_writes_is_503_said_once_until_it_recovers(
        bots: dict[str, Bot], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bots.sqlite3'}"
    await upgrade_database(url)
    engine = create_engine(url)
    inbox = Inbox(make_session_factory(engine))

    async def receive(bot: str, update: Update) -> None:  # what the intake does first
        await inbox.store(bot, [(update.update_id, update.model_dump(
            mode="json", exclude_none=True))])

    async def refuse_writes(refuse: bool) -> None:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(f"PRAGMA query_only={int(refuse)}")

    caplog.set_level(logging.INFO)
    async with make_client(bots, receive) as client:
        await refuse_writes(True)
        assert (await post(client, update_json(1))).status == 503
        assert (await post(client, update_json(1))).status == 503  # Telegram's redelivery
        await refuse_writes(False)
        assert (await post(client, update_json(1))).status == 200
    await engine.dispose()
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(said) == 2, said  # the outage once, its end once
    assert "STORAGE the database refuses writes" in said[0]
    assert "accepts writes again" in said[1]
    assert "паспорт" not in caplog.text
    assert await inbox.counts("payments") == {"pending": 1}


async def test_health_is_200_when_ok_and_503_with_reasons(bots: dict[str, Bot],
                                                          received: Received) -> None:
    state: dict[str, Any] = {"ok": True}

    async def health() -> tuple[bool, dict[str, Any]]:
        return (True, {"database": "ok"}) if state["ok"] else (
            False, {"database": "read-only"})

    async with make_client(bots, received, health) as client:
        response = await client.get("/health")
        assert response.status == 200
        assert await response.json() == {"status": "ok", "database": "ok"}
        state["ok"] = False
        response = await client.get("/health")
        assert response.status == 503
        assert await response.json() == {"status": "fail", "database": "read-only"}


async def test_redelivered_update_is_stored_once(
        bots: dict[str, Bot], sessions: async_sessionmaker[AsyncSession]) -> None:
    inbox = Inbox(sessions)

    async def receive(bot: str, update: Update) -> None:
        await inbox.store(bot, [(update.update_id, update.model_dump(
            mode="json", exclude_none=True))])

    async with make_client(bots, receive) as client:
        for _ in range(3):  # Telegram did not get our first answers
            assert (await post(client, update_json(777))).status == 200
    assert await inbox.counts("payments") == {"pending": 1}


def test_empty_secret_is_refused(bots: dict[str, Bot], received: Received) -> None:
    with pytest.raises(ValueError, match="WEBHOOK_SECRET"):
        build_webhook_app(bots=bots, receive=received, secret="", health=healthy)


@pytest.mark.parametrize(("value", "expected"), [
    ("0.0.0.0:8080", ("0.0.0.0", 8080)),
    ("127.0.0.1:80", ("127.0.0.1", 80)),
    ("[::]:8443", ("::", 8443)),
    (":8080", ("0.0.0.0", 8080)),
])
def test_parse_listen(value: str, expected: tuple[str, int]) -> None:
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["8080", "host", "host:port", "0.0.0.0:-1", "0.0.0.0:70000", ""])
def test_parse_listen_names_the_variable_on_a_bad_value(value: str) -> None:
    with pytest.raises(ValueError, match=r"WEBHOOK_LISTEN must be host:port.*0\.0\.0\.0:8080"):
        parse_listen(value)


async def test_serve_webhooks_listens_and_stops(bots: dict[str, Bot], received: Received) -> None:
    app = build_webhook_app(bots=bots, receive=received, secret=SECRET, health=healthy)
    async with serve_webhooks(app, "127.0.0.1:0", shutdown_timeout=1) as runner:
        host, port = runner.addresses[0][:2]
        async with aiohttp.ClientSession() as session, session.post(
                f"http://{host}:{port}/telegram/payments", json=update_json(),
                headers={SECRET_HEADER: SECRET}) as response:
            assert response.status == 200
    assert len(received.updates) == 1
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(f"http://{host}:{port}/health")
