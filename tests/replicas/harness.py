"""What a deployment of replicas needs around it, for the replica tests and the benchmark: a
Redis server of our own (so it can be killed and restarted), a load balancer in front of the
replicas that can also redeliver an update to another replica, and the replica processes."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

from tests.e2e.process import BotProcess
from tests.services import free_port

SECRET = "replicas-test-secret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class RedisServer:
    """``redis-server`` on a port of its own, keeping nothing on disk (like the one the
    machine runs): killed, it comes back empty."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the server has no event to wait on but its port
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        msg = "redis-server did not start"
        raise AssertionError(msg)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def restart(self, down_for: float = 0.5) -> None:
        self.kill()
        time.sleep(down_for)  # how long Redis is away: the point of the fault
        self.start()


@dataclass
class Forwarded:
    update_id: int
    replica: int
    status: int  # 0: the replica could not be reached
    redelivery: bool
    at: float


@dataclass
class LoadBalancer:
    """Telegram's webhook URL: each POST goes to the next replica in turn (one that is down
    is skipped, as a load balancer's health check would); every ``redeliver_every``-th update,
    once answered, is also sent to another replica, as Telegram does when the answer is lost.
    Runs in a thread with its own event loop."""

    targets: Sequence[str]  # replica base URLs
    redeliver_every: int = 4
    log: list[Forwarded] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            msg = "load balancer did not start"
            raise AssertionError(msg)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(10)

    def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._main(ready))

    async def _main(self, ready: threading.Event) -> None:
        self._stopped = asyncio.Event()
        app = web.Application()
        app.router.add_post("/telegram/{bot}", self._forward)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            self._session = session
            ready.set()
            await self._stopped.wait()
        await runner.cleanup()

    async def _post(self, replica: int, path: str, body: bytes,
                    headers: Mapping[str, str]) -> int:
        try:
            async with self._session.post(self.targets[replica] + path, data=body,
                                          headers=headers) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError):
            return 0

    def _record(self, update_id: int, replica: int, status: int, redelivery: bool) -> None:
        with self._lock:
            self.log.append(Forwarded(update_id, replica, status, redelivery, time.monotonic()))

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        update_id = int((await request.json())["update_id"])
        headers = {"Content-Type": "application/json",
                   SECRET_HEADER: request.headers.get(SECRET_HEADER, "")}
        start = next(self._turn)
        for step in range(len(self.targets)):
            replica = (start + step) % len(self.targets)
            status = await self._post(replica, request.path, body, headers)
            self._record(update_id, replica, status, False)
            if status == 0:
                continue  # down: the next one
            if status == 200 and update_id % self.redeliver_every == 0:
                other = (replica + 1) % len(self.targets)
                again = await self._post(other, request.path, body, headers)
                self._record(update_id, other, again, True)
            return web.Response(status=status)
        return web.Response(status=502)

    def redelivered(self) -> list[Forwarded]:
        with self._lock:
            return [f for f in self.log if f.redelivery]


def replica_env(base: Mapping[str, str], *, index: int, port: int,
                redis_url: str) -> dict[str, str]:
    return dict(base) | {
        "WEBHOOK_LISTEN": f"127.0.0.1:{port}",
        "WEBHOOK_SECRET": SECRET,
        "REDIS_URL": redis_url,
        "REPLICA_ID": f"replica-{index}",
    }


@dataclass
class Replicas:
    """N ``bot.py`` processes serving webhooks on their own ports."""

    base_env: Mapping[str, str]
    redis_url: str
    count: int = 3
    ports: list[int] = field(default_factory=list)
    procs: list[BotProcess | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ports = [free_port() for _ in range(self.count)]
        self.procs = [None] * self.count

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def start(self, index: int) -> BotProcess:
        proc = BotProcess(replica_env(self.base_env, index=index, port=self.ports[index],
                                      redis_url=self.redis_url))
        self.procs[index] = proc
        return proc

    def start_all(self, ready_line: str) -> None:
        for index in range(self.count):
            self.start(index)
        for proc in self.procs:
            assert proc is not None
            proc.wait_for_output(ready_line, timeout=120)

    def kill(self, index: int) -> str:
        """SIGKILL, no goodbye; returns what it logged."""
        proc = self.procs[index]
        assert proc is not None
        proc.proc.kill()
        proc.proc.wait()
        self.procs[index] = None
        return proc.output

    def stop_all(self) -> list[tuple[int, str]]:
        """SIGTERM each, once (a second one could land after a replica's handlers are gone),
        all at once so that they drain side by side; (exit code, output) of each."""
        running = [proc for proc in self.procs if proc is not None]
        for proc in running:
            if proc.proc.poll() is None:
                proc.proc.terminate()
        results = []
        for proc in running:
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.proc.kill()
                proc.proc.wait()
                code = -9
            results.append((code, proc.output))
        return results
