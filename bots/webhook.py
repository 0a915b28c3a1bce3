"""Webhook mode: Telegram POSTs each update to ``<WEBHOOK_URL>/telegram/<bot name>``.

Replicas sit behind a load balancer and share one database, so a request only checks who is
calling, parses the update and hands it to ``receive`` (the shared intake), which returns once
the update is durably stored. Telegram takes any 2xx as "delivered" and redelivers otherwise,
so we answer 200 only after the update is committed and 503 when the database cannot store it:
no update is lost when a replica or the database is down. Handling happens elsewhere, never
inside the request (Telegram waits for our answer before it sends that chat's next update).

``GET /health`` tells the load balancer whether this replica can take updates.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final

from aiogram import Bot
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

#: ``await receive(bot_name, update)``: returns once the update is committed (or was stored
#: before: a redelivery); raises SQLAlchemyError when the database cannot store it.
Receive = Callable[[str, Update], Awaitable[None]]
#: ``(ok, details)`` of this replica, for ``GET /health``.
Health = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
ROUTE: Final = "/telegram/{bot}"
#: Telegram's updates are small; a bigger body is not an update.
MAX_BODY: Final = 1024 * 1024
#: Seconds open requests get to finish when the server stops.
SHUTDOWN_TIMEOUT: Final = 10.0


def webhook_path(bot: str) -> str:
    """The path Telegram posts ``bot``'s updates to (``set-webhook`` registers it)."""
    return f"/telegram/{bot}"


def parse_listen(value: str) -> tuple[str, int]:
    """``WEBHOOK_LISTEN`` as ``(host, port)``: ``0.0.0.0:8080``, ``[::]:8080``, ``:8080`` (all
    interfaces); port 0 takes any free port (tests). Raises ValueError naming the variable
    and the expected form."""
    host, sep, port_text = value.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]") or "0.0.0.0"
    port = int(port_text) if sep and port_text.isdigit() else -1
    if not 0 <= port < 65536:
        msg = (f"WEBHOOK_LISTEN must be host:port, e.g. 0.0.0.0:8080 (адрес и порт, например "
               f"0.0.0.0:8080); got {value!r}")
        raise ValueError(msg)
    return host, port


class _Webhooks:
    def __init__(self, bots: Mapping[str, Bot], receive: Receive, secret: str,
                 health: Health) -> None:
        self._bots = dict(bots)
        self._receive = receive
        self._secret = secret.encode()
        self._health = health

    def _refused(self, request: web.Request, name: str) -> web.Response | None:
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            status, reason = 401, "no secret token header"
        elif not hmac.compare_digest(given.encode(), self._secret):
            status, reason = 403, "wrong secret token"
        else:
            return None
        log.warning("webhook %r: refused a request from %s: %s", name, request.remote, reason)
        return web.json_response({"error": reason}, status=status)

    async def update(self, request: web.Request) -> web.Response:
        name = request.match_info["bot"]
        refused = self._refused(request, name)
        if refused is not None:
            return refused
        bot = self._bots.get(name)
        if bot is None:
            log.warning("webhook %r: no such bot (request from %s)", name, request.remote)
            return web.json_response({"error": "no such bot"}, status=404)
        try:
            data = json.loads(await request.read())
            update = Update.model_validate(data, context={"bot": bot})
        except (ValueError, ValidationError) as error:  # JSON, UTF-8 and pydantic errors
            log.warning("webhook %s: not an update from %s (%s)", name, request.remote,
                        type(error).__name__)
            return web.json_response({"error": "not an update"}, status=400)
        try:
            await self._receive(name, update)
        except SQLAlchemyError:
            # Said once per outage, with the reason, by the inbox's storage health (STORAGE).
            log.debug("webhook %s: update not stored, answered 503", name)
            return web.json_response({"error": "storage unavailable"}, status=503)
        return web.json_response({})

    async def health(self, request: web.Request) -> web.Response:
        ok, details = await self._health()
        body = {"status": "ok" if ok else "fail", **details}
        return web.json_response(body, status=200 if ok else 503)


def build_webhook_app(*, bots: Mapping[str, Bot], receive: Receive, secret: str,
                      health: Health) -> web.Application:
    """``POST /telegram/<bot name>`` for each of ``bots`` and ``GET /health``.

    ``secret``: the token Telegram must send in ``X-Telegram-Bot-Api-Secret-Token``
    (``WEBHOOK_SECRET``); an empty one would let anybody post updates, so it is refused."""
    if not secret:
        msg = "WEBHOOK_SECRET must be set in webhook mode"
        raise ValueError(msg)
    webhooks = _Webhooks(bots, receive, secret, health)
    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(ROUTE, webhooks.update)
    app.router.add_get("/health", webhooks.health)
    return app


@asynccontextmanager
async def serve_webhooks(app: web.Application, listen: str, *,
                         shutdown_timeout: float = SHUTDOWN_TIMEOUT
                         ) -> AsyncIterator[web.AppRunner]:
    """Serve ``app`` on ``listen`` (``WEBHOOK_LISTEN``) until the block exits; then stop
    accepting, let open requests finish (up to ``shutdown_timeout`` s) and close. Yields the
    runner (``runner.addresses``: where it listens, for port 0)."""
    host, port = parse_listen(listen)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("serving webhooks on %s:%d", host, port)
        yield runner
    finally:
        await runner.cleanup()
        log.info("webhook server stopped")
