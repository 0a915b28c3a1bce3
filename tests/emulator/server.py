"""The HTTP side: an aiohttp server on 127.0.0.1 in its own thread and event loop.

Routes are Telegram's: ``POST|GET /bot{token}/{method}`` and ``GET /file/bot{token}/{path}``.
Each API request goes through: decode -> record -> token (401) -> spec validation (violations
recorded; 400 by default) -> unknown method (404) -> injected fault -> method -> fault after
commit. Bots with a webhook get their updates POSTed instead (:mod:`tests.emulator.webhooks`,
on the same loop). The listening socket can be closed and reopened on the same port
(``pause``/``resume``) to make clients see "connection refused".
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from aiohttp import web

from tests.emulator import errors
from tests.emulator.errors import ApiError
from tests.emulator.faults import Fault, FaultBook
from tests.emulator.methods import METHODS, Context
from tests.emulator.model import BotAccount, Call
from tests.emulator.payload import read_payload
from tests.emulator.spec import SpecValidator, UploadedFile, Violation
from tests.emulator.webhooks import WebhookPusher
from tests.emulator.world import World

T = TypeVar("T")
log = logging.getLogger(__name__)


def _dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False)


class EmulatorServer:
    def __init__(self, world: World, validator: SpecValidator, faults: FaultBook, *,
                 host: str = "127.0.0.1", port: int = 0,
                 reject_violations: bool = True, pusher: WebhookPusher | None = None) -> None:
        self.world = world
        self.pusher = pusher or WebhookPusher(world)
        self.validator = validator
        self.faults = faults
        self.host = host
        self.port = port
        self.reject_violations = reject_violations
        self.paused = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.SockSite | None = None

    # --- lifecycle (called from test threads) ----------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self._thread is not None:
            msg = "the emulator is already running"
            raise RuntimeError(msg)
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="telegram-emulator",
                                        daemon=True)
        self._thread.start()
        self.call(self._start())

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        with self.world.changing():
            self.world.closing = True
        try:
            self.call(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()
            self._thread = self._loop = None

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run ``coro`` on the server loop and wait for its result (from another thread)."""
        assert self._loop is not None, "the emulator is not running"
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout)

    def pause(self) -> None:
        """Close the listening socket and every open connection: clients get refused."""
        self.call(self._pause())

    def resume(self) -> None:
        """Listen again on the same port."""
        self.call(self._resume())

    def pause_for(self, seconds: float) -> None:
        """Pause now and resume by itself after ``seconds`` (returns at once)."""
        self.call(self._pause())
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._schedule_resume, seconds)

    # --- lifecycle (server loop) -----------------------------------------------------------------

    async def _start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        await self._listen()
        await self.pusher.start()

    async def _listen(self) -> None:
        assert self._runner is not None
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._site = web.SockSite(self._runner, sock)
        await self._site.start()

    async def _stop(self) -> None:
        await self.pusher.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = self._site = None

    async def _pause(self) -> None:
        if self.paused:
            return
        if self._site is not None:
            await self._site.stop()
            self._site = None
        assert self._runner is not None
        assert self._runner.server is not None
        for connection in self._runner.server.connections:
            connection.force_close()
        with self.world.changing():
            self.paused = True

    async def _resume(self) -> None:
        if not self.paused:
            return
        await self._listen()
        with self.world.changing():
            self.paused = False

    def _schedule_resume(self, seconds: float) -> None:
        assert self._loop is not None
        self._loop.call_later(seconds, lambda: asyncio.ensure_future(self._resume()))

    # --- requests --------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        token, name = request.match_info["token"], request.match_info["method"]
        raw, files = await read_payload(request)
        method = self.validator.canonical_method(name) or name
        params = self.validator.decode(method, raw, files)
        bot = self.world.bot_by_token(token)
        call = self.world.record_call(token, bot.id if bot else None, method, params,
                                      {k: f.filename for k, f in files.items()})
        try:
            return await self._process(request, call, bot, files)
        except asyncio.CancelledError:
            if call.outcome == "pending":
                self.world.finish_call(call, None, None, "disconnected")
            raise

    async def _process(self, request: web.Request, call: Call, bot: BotAccount | None,
                       files: dict[str, UploadedFile]) -> web.StreamResponse:
        if bot is None:
            return self._json(call, ApiError(401, errors.UNAUTHORIZED).body(), 401)
        violations = self.validator.validate(call.method, call.params, files.keys())
        if violations:
            self.world.add_violations(call, violations)
        known = call.method in METHODS or call.method == "getUpdates"
        if not known and call.method not in self.validator.methods:
            return self._json(call, ApiError(404, errors.NOT_FOUND).body(), 404)
        if violations and self.reject_violations:
            return self._json(call, _violation_error(violations).body(), 400)
        fault = self.faults.fire(call.method, bot.id, call.params)
        if fault is not None:
            call.fault = str(fault)
            if fault.delay and not fault.after_commit:
                await asyncio.sleep(fault.delay)
            if not fault.after_commit and (fault.drop_connection or fault.is_error):
                return await self._faulty(request, call, fault)
        status, body = await self._execute(call, bot, files)
        if fault is not None and fault.after_commit:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            return await self._faulty(request, call, fault, committed=body)
        return self._json(call, body, status)

    async def _execute(self, call: Call, bot: BotAccount,
                       files: dict[str, UploadedFile]) -> tuple[int, dict[str, Any]]:
        try:
            if call.method == "getUpdates":
                result = await self._get_updates(bot, call.params)
            else:
                result = self._run_method(call, bot, files)
        except ApiError as exc:
            return exc.status, exc.body()
        return 200, {"ok": True, "result": result}

    def _run_method(self, call: Call, bot: BotAccount, files: dict[str, UploadedFile]) -> Any:
        handler = METHODS.get(call.method)
        if handler is None:
            if self.validator.returns(call.method) == ["Boolean"]:
                return True  # a simple setter the emulator does not model
            msg = f"Not Implemented: the emulator does not implement {call.method}"
            raise ApiError(501, msg)
        with self.world.changing():
            return handler(Context(self.world, bot, dict(call.params), files))

    async def _get_updates(self, bot: BotAccount, params: dict[str, Any]) -> Any:
        world = self.world
        queue = world.queue(bot.id)
        if bot.webhook_url:
            raise ApiError(409, errors.WEBHOOK_ACTIVE)
        allowed = params.get("allowed_updates")
        offset, limit = params.get("offset"), int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        with world.changing():
            if isinstance(allowed, list):
                queue.allowed_updates = frozenset(allowed) or None
            queue.poll_generation += 1
            generation = queue.poll_generation
        updates = world.take_updates(bot.id, offset, limit)
        if updates or timeout <= 0:
            return updates
        await world.notifier.wait_async(
            lambda: world.closing or queue.poll_generation != generation
            or world.has_updates(bot.id), timeout)
        if queue.poll_generation != generation:
            raise ApiError(409, errors.POLL_CONFLICT)
        if world.closing:
            return []
        return world.take_updates(bot.id, offset, limit)

    async def _faulty(self, request: web.Request, call: Call, fault: Fault,
                      committed: dict[str, Any] | None = None) -> web.StreamResponse:
        if fault.drop_connection:
            self.world.finish_call(call, None, committed, "dropped")
            if request.transport is not None:
                request.transport.close()
            await asyncio.sleep(3600)  # cancelled when the connection is lost
        if fault.html_body is not None:
            assert fault.status is not None
            self.world.finish_call(call, fault.status, fault.html_body, "html")
            return web.Response(status=fault.status, text=fault.html_body,
                                content_type="text/html")
        if fault.is_error:
            assert fault.status is not None
            return self._json(call, fault.body(), fault.status)
        assert committed is not None
        return self._json(call, committed, 200 if committed.get("ok") else
                          int(committed.get("error_code", 500)))

    def _json(self, call: Call, body: dict[str, Any], status: int) -> web.Response:
        self.world.finish_call(call, status, body, "ok" if body.get("ok") else "error")
        return web.json_response(body, status=status, dumps=_dumps)

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if self.world.bot_by_token(request.match_info["token"]) is None:
            return web.json_response(ApiError(401, errors.UNAUTHORIZED).body(), status=401)
        path = request.match_info["path"]
        with self.world.lock:
            stored = next((f for f in self.world.files.values() if f.path == path), None)
        if stored is None:
            return web.json_response(ApiError(404, errors.NOT_FOUND).body(), status=404)
        return web.Response(body=stored.data,
                            content_type=stored.mime_type or "application/octet-stream")


def _violation_error(violations: list[Violation]) -> ApiError:
    telegram = next((v.telegram_error for v in violations if v.telegram_error), None)
    if telegram is not None:
        return ApiError(400, telegram)
    shown = "; ".join(str(v) for v in violations[:3])
    more = f" (+{len(violations) - 3} more)" if len(violations) > 3 else ""
    return ApiError(400, f"Bad Request: emulator spec violation: {shown}{more}")
