"""One webhook replica against three, side by side: ``python -m bench.bench_replicas
[--citizens N] [--quick] [--encoder e5|off|both]``.

Telegram is the local Bot API emulator (``tests/emulator``, in this process). It POSTs the
payments bot's updates to a load balancer (``tests/replicas/harness.py``, a thread of this
process) that hands them round-robin to the replicas, ``python bot.py`` with
``WEBHOOK_LISTEN`` (no redeliveries). Both deployments run at the same time, each on a fresh
PostgreSQL database of the shared server and a ``redis-server`` of its own (the shared flood
limiter); their rounds alternate, so noise from the rest of the machine falls on both. The
settings are production's except ``BOT_MESSAGES_PER_SECOND=100000``: the limiter would hold
the bot to Telegram's 30 messages a second, whatever the number of replicas. FAQ matching is
production's (``FAQ_ENCODER=e5``, vectors from the tests' warm embedding cache), and, with
``--encoder both`` (the default), also by words only (``off``): the encoder is most of the CPU
of a question, and without it the cost of the replicas' claims and limiter shows.

Each citizen is a new emulator user who asks one real question (``tests/data/payments_dev.yaml``,
cycling). Per configuration:

- burst (capacity): N citizens at once; throughput = N / (last reply - first question);
- open loop (latency under load): N citizens, Poisson arrivals from a fixed seed at 60 % of the
  one replica's burst throughput (measured earlier in the same run), the same arrival times for
  both configurations; latency = from ``emu.send_text`` to the ``finished`` time of the first
  successful sendMessage to that citizen (both ``time.monotonic`` of this process);
- CPU per question (user + system from ``/proc``) of the replicas (summed), of PostgreSQL (the
  backends connected to the configuration's database; the server's shared background processes
  apart), of redis-server, and of this process (emulator, load balancer, driver).

A round ends when every citizen has a reply, Telegram has nothing left to push, no Bot API call
is in flight and every stored update is settled (``inbox.status = 'done'``), so the CPU of a
round holds all its work.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import os
import platform
import random
import shlex
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Final

from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_bots import (  # noqa: E402
    BOT_MESSAGES_PER_SECOND,
    QUESTIONS,
    BenchError,
    real_questions,
)
from bench.rounds import Citizens, Rounds  # noqa: E402
from bots.elsewhere import Elsewhere  # noqa: E402
from escalation.db import upgrade_database  # noqa: E402
from faq.embeddings import cache_file  # noqa: E402
from faq.encoder import E5_MODEL_ID  # noqa: E402
from tests.e2e.conftest import EMBEDDED_FILES, copy_bot_content, seed_embeddings  # noqa: E402
from tests.emulator import BotAccount, Emulator, UserAccount  # noqa: E402
from tests.replicas.harness import SECRET, LoadBalancer, RedisServer, Replicas  # noqa: E402
from tests.semantic import EMBEDDING_CACHE, real_encoder, shipped_matcher  # noqa: E402

ADMIN_URL: Final = os.environ.get("TEST_POSTGRES_URL",
                                  "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
READY: Final = "serves webhooks on"
CONFIGURATIONS: Final = (1, 3)
WARMUP_PER_REPLICA: Final = 20
#: Open-loop arrival rate as a share of the one replica's burst throughput.
OPEN_LOAD: Final = 0.6
START_TIMEOUT: Final = 240.0
COMPONENTS: Final = ("replicas", "postgres", "redis", "driver", "pg shared")
LABELS: Final = {
    "replicas": "replicas", "postgres": "PostgreSQL", "redis": "Redis",
    "driver": "emulator+LB", "pg shared": "PG shared",
}


# --- CPU from /proc ----------------------------------------------------------------------------

CLOCK_TICK: Final = os.sysconf("SC_CLK_TCK")
PG_SHARED: Final = ("checkpointer", "background writer", "walwriter", "autovacuum",
                    "logical replication", "stats collector", "archiver")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (all its threads), or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def _postgres_title(pid: int) -> str | None:
    """The process title of a PostgreSQL process (``postgres: 15/main: user db host state``),
    or None for any other process or one that is gone."""
    try:
        if Path(f"/proc/{pid}/comm").read_text(encoding="ascii").strip() != "postgres":
            return None
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            "utf-8", "replace")
    except OSError:
        return None


class PostgresWatch:
    """The CPU of the backends of some databases, sampled every ``period`` seconds in a
    thread. The replicas' pools open connections beyond their size under load and close them
    when handed back: a backend that exits takes its CPU time out of ``/proc``, so its last
    sample is kept. Backends of other databases (other people's tests) are left out."""

    def __init__(self, *, period: float = 0.01) -> None:
        self.period = period
        self._databases: set[str] = set()
        self._backends: dict[int, str] = {}  # pid -> database, while alive
        self._spent: dict[str, dict[int, float]] = {}  # database -> pid -> last CPU seen
        self._skip: set[int] = set()  # not PostgreSQL
        self._cost = 0.0  # CPU seconds this thread spent sampling
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="postgres-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def watch(self, database: str) -> None:
        with self._lock:
            self._databases.add(database)
            self._spent.setdefault(database, {})

    def spent(self, database: str) -> dict[int, float]:
        """pid -> CPU seconds of every backend of ``database`` seen so far (the last sample of
        one that exited)."""
        self._sample()
        with self._lock:
            return dict(self._spent.get(database, {}))

    @property
    def cost(self) -> float:
        """CPU seconds the sampling thread used so far: not the emulator's."""
        with self._lock:
            return self._cost

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            began = time.thread_time()
            self._sample()
            with self._lock:
                self._cost += time.thread_time() - began

    def _sample(self) -> None:
        with self._lock:
            for name in os.listdir("/proc"):
                if not name.isdigit():
                    continue
                pid = int(name)
                if pid in self._skip or pid in self._backends:
                    continue
                title = _postgres_title(pid)
                if title is None:
                    self._skip.add(pid)
                    continue  # a PostgreSQL process not (yet) titled with a database: again
                database = next((d for d in self._databases if f" {d} " in title), None)
                if database is not None:
                    self._backends[pid] = database
            for pid, database in list(self._backends.items()):
                spent = cpu_seconds(pid)
                if spent is None:
                    del self._backends[pid]
                    self._skip.add(pid)
                else:
                    self._spent[database][pid] = spent


def postgres_shared() -> list[int]:
    """PostgreSQL's shared background processes (checkpointer, WAL writer, ...)."""
    shared = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            title = _postgres_title(int(entry.name))
            if title is not None and any(name in title for name in PG_SHARED):
                shared.append(int(entry.name))
    return shared


Snapshot = dict[str, dict[int, float]]


def cpu_delta(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU seconds per component between two snapshots; a process born in between counts
    from zero, one that died in between is lost (PostgreSQL's pools keep their backends)."""
    return {name: sum(max(0.0, spent - before.get(name, {}).get(pid, 0.0))
                      for pid, spent in pids.items())
            for name, pids in after.items()}


# --- PostgreSQL --------------------------------------------------------------------------------


class Database:
    """A fresh database on the shared PostgreSQL server, migrated, dropped at the end. Runs
    its queries on a private event loop of the main thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.name = f"cur_faq_bench_{uuid.uuid4().hex[:12]}"
        self.url = make_url(ADMIN_URL).set(database=self.name).render_as_string(
            hide_password=False)
        self._engine: AsyncEngine | None = None

    async def _admin(self, statement: str) -> None:
        engine = create_async_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    def create(self) -> None:
        try:
            self.loop.run_until_complete(self._admin(f'CREATE DATABASE "{self.name}"'))
        except (OSError, TimeoutError, DBAPIError) as error:
            where = make_url(ADMIN_URL).render_as_string(hide_password=True)
            msg = f"PostgreSQL at {where}: {error!r}"
            raise BenchError(msg) from None
        self.loop.run_until_complete(upgrade_database(self.url))
        self._engine = create_async_engine(self.url, pool_size=1)

    def drop(self) -> None:
        if self._engine is not None:
            self.loop.run_until_complete(self._engine.dispose())
        self.loop.run_until_complete(
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))

    def unsettled(self) -> int:
        """Stored updates not yet handled to the end."""
        async def count() -> int:
            assert self._engine is not None
            async with self._engine.connect() as connection:
                result = await connection.execute(
                    text("SELECT count(*) FROM inbox WHERE status <> 'done'"))
                return int(result.scalar_one())
        return self.loop.run_until_complete(count())


# --- a deployment ------------------------------------------------------------------------------


@dataclass
class Deployment:
    """``count`` replicas of the payments bot behind a load balancer, with their own
    database and Redis, and one emulator bot whose webhook points at the balancer."""

    count: int
    bot: BotAccount
    database: Database
    redis: RedisServer
    replicas: Replicas
    balancer: LoadBalancer
    watch: PostgresWatch

    @property
    def name(self) -> str:
        return f"{self.count} replica" + ("s" if self.count > 1 else "")

    def snapshot(self) -> Snapshot:
        groups = {
            "replicas": [p.proc.pid for p in self.replicas.procs if p is not None],
            "redis": [self.redis.proc.pid] if self.redis.proc is not None else [],
            "pg shared": postgres_shared(),
        }
        own = (cpu_seconds(os.getpid()) or 0.0) - self.watch.cost
        snap: Snapshot = {"postgres": self.watch.spent(self.database.name),
                          "driver": {os.getpid(): own}}
        for name, pids in groups.items():
            spent = {pid: cpu_seconds(pid) for pid in pids}
            snap[name] = {pid: s for pid, s in spent.items() if s is not None}
        return snap

    def check_alive(self) -> None:
        for proc in self.replicas.procs:
            if proc is not None and proc.proc.poll() is not None:
                msg = (f"{self.name}: a replica exited with code {proc.proc.returncode}:\n"
                       f"{proc.output[-3000:]}")
                raise BenchError(msg)


def replica_env(emu: Emulator, tmp: Path, *, token: str, database_url: str,
                encoder: str) -> dict[str, str]:
    """Production's settings (nothing else set) but the lifted per-bot limit and the bench's
    Telegram, database and copies of the FAQ content with warm vectors."""
    bots_dir = copy_bot_content(tmp / "bots")
    return {
        "TELEGRAM_API_URL": emu.base_url,
        "DATABASE_URL": database_url,
        "BOTS_DIR": str(bots_dir),
        "FAQ_EMBEDDING_CACHE": str(seed_embeddings(bots_dir, tmp / "embeddings")),
        "PAYMENTS_BOT_TOKEN": token,
        "FAQ_ENCODER": encoder,
        "BOT_MESSAGES_PER_SECOND": str(BOT_MESSAGES_PER_SECOND),
    }


@contextmanager
def deployments(emu: Emulator, loop: asyncio.AbstractEventLoop, watch: PostgresWatch, *,
                encoder: str) -> Iterator[list[Deployment]]:
    """One deployment per configuration, all started, webhooks set; stopped and dropped after."""
    with ExitStack() as stack:
        made: list[Deployment] = []
        for count in CONFIGURATIONS:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            token = f"{720000 + len(emu.world.bots) + 1}:bench-replicas-{uuid.uuid4().hex[:8]}"
            bot = emu.add_bot(token=token, username=f"payments_{encoder}_{count}_bench_bot")
            database = Database(loop)
            database.create()
            stack.callback(database.drop)
            watch.watch(database.name)
            redis = RedisServer(tmp)
            redis.start()
            stack.callback(redis.kill)
            env = replica_env(emu, tmp, token=token, database_url=database.url, encoder=encoder)
            replicas = Replicas(env, redis.url, count=count)
            balancer = LoadBalancer(replicas.urls, redeliver_every=10**9)
            balancer.start()
            stack.callback(balancer.stop)
            stack.callback(_stop_replicas, replicas)
            for index in range(count):
                replicas.start(index)
            made.append(Deployment(count, bot, database, redis, replicas, balancer, watch))
        for deployment in made:
            for proc in deployment.replicas.procs:
                assert proc is not None
                try:
                    proc.wait_for_output(READY, timeout=START_TIMEOUT)
                except AssertionError as error:
                    raise BenchError(str(error)[-3000:]) from None
            emu.set_webhook(deployment.bot, f"{deployment.balancer.url}/telegram/payments",
                            secret_token=SECRET)
        yield made


def _stop_replicas(replicas: Replicas) -> None:
    for code, output in replicas.stop_all():
        if code != 0:
            print(f"warning: a replica exited with code {code}:\n{output[-2000:]}",
                  file=sys.stderr)


# --- rounds ------------------------------------------------------------------------------------


@dataclass
class Round:
    latencies_ms: list[float]
    wall_s: float  # first question to last reply
    arrivals_s: float  # first question to last question
    cpu_s: dict[str, float]
    connections: int  # PostgreSQL backends born during the round


@dataclass
class Series(Rounds[Round]):
    @property
    def connections_per_100(self) -> float:
        return 100 * sum(r.connections for r in self.rounds) / len(self.latencies)

    def cpu_ms(self, component: str) -> float:
        return 1000 * sum(r.cpu_s.get(component, 0.0) for r in self.rounds) / len(
            self.latencies)


#: What citizens put around a question; every pass over the questions uses the next
#: combination, so no text repeats within a run (30 passes).
OPENINGS: Final = ("", "Здравствуйте! ", "Добрый день. ", "Подскажите, пожалуйста: ",
                   "Вопрос: ", "Извините, ")
CLOSINGS: Final = ("", " Спасибо.", " Заранее спасибо!", " Очень нужно знать.", " Ответьте.")


def unique_questions(questions: Sequence[str]) -> Iterator[str]:
    """The real questions, each time with another greeting or thanks around them. A replica
    keeps a small cache of the texts it encoded (``faq.semantic.QueryEncoder``): repeating
    the same 171 texts would make e5 nearly free after a pass, and cheaper for one replica
    (which sees every text) than for three; real citizens do not repeat each other."""
    for number in itertools.count():
        opening = OPENINGS[number % len(OPENINGS)]
        closing = CLOSINGS[number // len(OPENINGS) % len(CLOSINGS)]
        for question in questions:
            yield f"{opening}{question}{closing}"


class Bench(Citizens):
    def __init__(self, emu: Emulator, questions: Sequence[str]) -> None:
        super().__init__(emu)
        self.world = emu.world
        self._questions = unique_questions(questions)

    def burst(self, deployment: Deployment, count: int) -> Round:
        return self.round(deployment, [0.0] * count)

    def open_loop(self, deployment: Deployment, count: int, rate: float, seed: str) -> Round:
        rng = random.Random(seed)
        offsets, at = [], 0.0
        for _ in range(count):
            offsets.append(at)
            at += rng.expovariate(rate)
        return self.round(deployment, offsets)

    def round(self, deployment: Deployment, offsets: Sequence[float]) -> Round:
        """One new citizen per offset asks one question that many seconds after the start.
        The emulator keeps every message of the run: Python's cycle collector is run between
        rounds and kept off during one (its full passes stalled the emulator, as in
        ``bench_bots``)."""
        gc.collect()
        gc.disable()
        try:
            return self._round(deployment, offsets)
        finally:
            gc.enable()

    def _round(self, deployment: Deployment, offsets: Sequence[float]) -> Round:
        bot = deployment.bot
        users = self.citizens(len(offsets))
        texts = list(islice(self._questions, len(offsets)))
        with self.world.lock:
            first_call = len(self.world.calls)
        before = deployment.snapshot()
        sent: dict[int, float] = {}
        start = time.monotonic()
        for user, question, offset in zip(users, texts, offsets, strict=True):
            delay = start + offset - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent[user.id] = time.monotonic()
            self.emu.send_text(bot, user, question)
        self._wait_done(deployment, users, first_call)
        after = deployment.snapshot()
        answered = self._first_replies(bot, first_call)
        missing = [uid for uid in sent if uid not in answered]
        if missing:
            msg = f"{deployment.name}: {len(missing)} citizens got no successful sendMessage"
            raise BenchError(msg)
        return Round([1000 * (answered[uid] - at) for uid, at in sent.items()],
                     max(answered.values()) - min(sent.values()),
                     max(sent.values()) - min(sent.values()),
                     cpu_delta(before, after),
                     len(after["postgres"].keys() - before["postgres"].keys()))

    def _wait_done(self, deployment: Deployment, users: Sequence[UserAccount],
                   first_call: int) -> None:
        bot = deployment.bot
        pending = list(users)

        def quiet() -> bool:
            with self.world.lock:
                while pending:  # amortised O(1): run on every change in the emulator
                    chat = self.world.messages.get((bot.id, pending[-1].id), ())
                    if not any(m.sender_bot_id == bot.id for m in chat):
                        return False
                    pending.pop()
                calls = [c for c in self.world.calls[first_call:] if c.bot_id == bot.id]
                failed = [c for c in calls if c.outcome not in ("ok", "pending")]
                if failed:
                    msg = (f"{deployment.name}: {len(failed)} failed Bot API calls, e.g.\n  "
                           + "\n  ".join(c.summary() for c in failed[:5]))
                    raise BenchError(msg)
                return (all(c.outcome == "ok" for c in calls)
                        and not self.world.has_updates(bot.id))

        timeout = 60.0 + len(users) * 0.2
        try:
            self.emu.wait_for(quiet, timeout=timeout)
        except AssertionError as error:
            deployment.check_alive()
            msg = (f"{deployment.name}: {len(pending)} of {len(users)} citizens without a "
                   f"reply after {timeout:.0f} s\n{error}")
            raise BenchError(msg) from None
        _poll(lambda: deployment.database.unsettled() == 0,
              f"{deployment.name}: updates left unsettled in the inbox", timeout=30.0)

    def _first_replies(self, bot: BotAccount, first_call: int) -> dict[int, float]:
        """Citizen -> when the first successful sendMessage to them finished."""
        first: dict[int, float] = {}
        with self.world.lock:
            for call in self.world.calls[first_call:]:
                if (call.bot_id != bot.id or call.method.lower() != "sendmessage"
                        or not call.ok or call.finished is None):
                    continue
                chat = int(call.params["chat_id"])
                first[chat] = min(first.get(chat, call.finished), call.finished)
        return first


def _poll(condition: Callable[[], bool], what: str, *, timeout: float) -> None:
    """Until ``condition()``: the database has no event to wait on, so a short poll."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise BenchError(what)
        time.sleep(0.02)


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Plan:
    citizens: int
    burst_rounds: int
    open_rounds: int
    encoders: tuple[str, ...]


def ensure_warm_cache() -> None:
    """The shipped FAQs' vectors in the tests' cache (as ``tests/e2e/conftest.py`` does before
    the first bot process), so no replica encodes its FAQ at start-up."""
    files = [cache_file(EMBEDDING_CACHE, ROOT / "bots" / name, E5_MODEL_ID)
             for name in EMBEDDED_FILES]
    if all(f.is_file() for f in files):
        return
    print("building the embedding cache (once)...", flush=True)
    for bot in ("payments", "vaccination"):
        shipped_matcher(bot)
    Elsewhere.load(ROOT / "bots" / "elsewhere.yaml", encoder=real_encoder(),
                   cache_dir=EMBEDDING_CACHE)


def _alternate(number: int, items: Sequence[Deployment]) -> list[Deployment]:
    return list(items) if number % 2 == 0 else list(items)[::-1]


def measure(emu: Emulator, bench: Bench, loop: asyncio.AbstractEventLoop,
            watch: PostgresWatch, plan: Plan,
            encoder: str) -> tuple[dict[int, Series], dict[int, Series], float]:
    """Burst and open-loop series per configuration, and the open-loop rate."""
    started = time.monotonic()
    with deployments(emu, loop, watch, encoder=encoder) as made:
        print(f"FAQ_ENCODER={encoder}: {sum(d.count for d in made)} replicas serving after "
              f"{time.monotonic() - started:.0f} s", flush=True)
        for deployment in made:
            bench.burst(deployment, WARMUP_PER_REPLICA * deployment.count)
        burst = {d.count: Series() for d in made}
        for number in range(plan.burst_rounds):
            for deployment in _alternate(number, made):
                burst[deployment.count].rounds.append(bench.burst(deployment, plan.citizens))
        rate = OPEN_LOAD * burst[CONFIGURATIONS[0]].rate
        steady = {d.count: Series() for d in made}
        for number in range(plan.open_rounds):
            seed = f"open loop {encoder} {number}"  # the same arrivals for every configuration
            for deployment in _alternate(number, made):
                steady[deployment.count].rounds.append(
                    bench.open_loop(deployment, plan.citizens, rate, seed))
        for deployment in made:
            deployment.check_alive()
    return burst, steady, rate


def _cpu_cells(series: Series) -> list[str]:
    cells = [f"{series.cpu_ms(c):.2f}" for c in COMPONENTS]
    total = sum(series.cpu_ms(c) for c in COMPONENTS)
    return [*cells, f"**{total:.2f}**"]


def table(rows: Sequence[tuple[str, Series, Series]], rate_of: dict[str, float]) -> str:
    cpu_head = [f"{LABELS[c]} ms/q" for c in COMPONENTS]
    head = ["configuration", "burst q/s", "burst p50 ms", "burst p99 ms", *cpu_head,
            "total ms/q", "open loop sent q/s", "p50 ms", "p99 ms", *cpu_head, "total ms/q"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, burst, steady in rows:
        cells = [name, f"{burst.rate:.0f}", f"{burst.p(0.5):.0f}", f"{burst.p(0.99):.0f}",
                 *_cpu_cells(burst), f"{steady.arrival_rate:.0f} (target {rate_of[name]:.0f})",
                 f"{steady.p(0.5):.1f}", f"{steady.p(0.99):.1f}", *_cpu_cells(steady)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def parse_plan(argv: Sequence[str] | None = None) -> Plan:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--citizens", type=int, default=None, metavar="N",
                        help="citizens per round (default 200; --quick: 60)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: fewer citizens, one round of each kind, e5 only")
    parser.add_argument("--encoder", choices=("e5", "off", "both"), default=None,
                        help="FAQ matching of the replicas (default both; --quick: e5)")
    args = parser.parse_args(argv)
    encoder = args.encoder or ("e5" if args.quick else "both")
    citizens = args.citizens or (60 if args.quick else 200)
    if citizens < 2:
        parser.error("--citizens must be at least 2")
    rounds = 1 if args.quick else 3
    return Plan(citizens, rounds, rounds, ("e5", "off") if encoder == "both" else (encoder,))


def main(argv: Sequence[str] | None = None) -> None:
    plan = parse_plan(argv)
    if not RedisServer.available():
        msg = "redis-server is not installed"
        raise BenchError(msg)
    begun = time.monotonic()
    questions = real_questions()
    command = shlex.join([".venv/bin/python", "-m", "bench.bench_replicas",
                          *(sys.argv[1:] if argv is None else argv)])
    print(f"$ {command}")
    print(f"{os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}; PostgreSQL at "
          f"{make_url(ADMIN_URL).render_as_string(hide_password=True)} (a fresh database per "
          f"configuration), a redis-server per configuration, emulator and load balancer in "
          f"this process")
    print(f"settings as production except BOT_MESSAGES_PER_SECOND={BOT_MESSAGES_PER_SECOND}: "
          f"the shared limiter would otherwise hold the bot to Telegram's 30 messages/s, "
          f"1 replica or 3")
    print(f"{plan.citizens} citizens per round, each a new user asking one question from "
          f"{QUESTIONS.relative_to(ROOT)}; burst x{plan.burst_rounds}, open loop "
          f"x{plan.open_rounds} (Poisson, {OPEN_LOAD:.0%} of 1 replica's burst q/s), rounds "
          f"alternating between the configurations\n", flush=True)
    ensure_warm_cache()
    results: list[tuple[str, dict[int, Series], dict[int, Series], float]] = []
    loop = asyncio.new_event_loop()
    watch = PostgresWatch()
    watch.start()
    try:
        with Emulator() as emu:
            bench = Bench(emu, questions)
            for encoder in plan.encoders:
                burst, steady, rate = measure(emu, bench, loop, watch, plan, encoder)
                results.append((encoder, burst, steady, rate))
            try:
                emu.assert_no_violations()
            except AssertionError as error:
                raise BenchError(str(error)) from None
    finally:
        watch.stop()
        loop.close()
    rows, rates = [], {}
    for encoder, burst, steady, rate in results:
        for count in CONFIGURATIONS:
            name = f"{count} replica{'s' if count > 1 else ''}, FAQ_ENCODER={encoder}"
            rows.append((name, burst[count], steady[count]))
            rates[name] = rate
    print()
    print(table(rows, rates))
    print("\nCPU ms/q: CPU time (user + system) per question, from /proc: replicas = sum over "
          "the bot.py processes; PostgreSQL = backends of the configuration's database "
          "(sampled every 10 ms, so that the pools' short-lived extra connections count); "
          "Redis = its redis-server; emulator+LB = this process (emulator, load balancer, "
          "driver; the PostgreSQL sampler's own CPU taken out); PG shared = PostgreSQL's "
          "checkpointer, WAL and background writers (shared with anything else using the "
          "server)")
    for encoder, burst, steady, _rate in results:
        one, three = (burst[c] for c in CONFIGURATIONS)
        open_one, open_three = (steady[c] for c in CONFIGURATIONS)
        print(f"FAQ_ENCODER={encoder}: 3 replicas / 1: burst throughput "
              f"{three.rate / one.rate:.2f}x, open-loop p99 "
              f"{open_three.p(0.99) / open_one.p(0.99):.2f}x, replicas' CPU per question "
              f"{three.cpu_ms('replicas') / one.cpu_ms('replicas'):.2f}x (burst)")
        for count in CONFIGURATIONS:
            print(f"  {count} replica{'s' if count > 1 else ''}: PostgreSQL connections "
                  f"opened per 100 questions: burst {burst[count].connections_per_100:.1f}, "
                  f"open loop {steady[count].connections_per_100:.1f}")
    print(f"whole run {time.monotonic() - begun:.0f} s")


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        sys.exit(f"benchmark failed: {error}")
