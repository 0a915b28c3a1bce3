"""End-to-end throughput benchmark: ``python -m bench.bench_bots [--database-url URL]``.

One local Bot API emulator (``tests/emulator``, in this process) serves two bot processes
started side by side: the real suite, ``python bot.py`` (payments and vaccination bots,
SQLite in a temporary directory or the empty database at ``--database-url``, the shipped FAQ
content), and a bare aiogram echo bot
(``bench/echo_bot.py``: one handler, no database), polling with the same timeout. The suite
runs with ``BOT_MESSAGES_PER_SECOND=100000``: its pacer would otherwise hold it to Telegram's
30 messages a second per bot, while the echo bot is not paced and the emulator does not limit.

Two tables, for 10, 100, 200 and 1 000 citizens; every citizen is a new emulator user who
sends one real question (``tests/data/payments_dev.yaml``, cycling in file order), first to
the payments bot, then to the echo bot (the order alternates between rounds):

- **burst** (capacity): all citizens of a round ask at the same moment. Throughput =
  questions / (last reply - first question). The p99 of a burst is about citizens / q/s by
  construction (the last reply waits for all the others), for the echo bot too.
- **open loop** (latency under load): the citizens of a round arrive one by one, Poisson
  arrivals from a fixed seed, at a steady rate: half the echo bot's burst throughput at 200
  citizens, measured earlier in the same run. Both bots get the same arrival times. p50/p99
  here say how fast a citizen is answered while the bot carries that load; if the bot cannot
  keep up, latency grows with the number of citizens.

Latency of a question = the time its update was queued to the time the bot's first reply to
that citizen was stored, both taken from the emulator's clock. Also printed: each process's
CPU time per question (user + system, from ``/proc``; steadier than throughput on a busy
machine) and peak resident memory (``VmHWM``), and the targets at 200 citizens: throughput
>= 50 % of the echo bot's (burst table) and p99 <= 100 ms (open-loop table).

The emulator and both bot processes share the machine's cores, so absolute numbers are those
of the whole setup; the ratio to the echo bot is the figure to compare between runs.
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import cycle, islice
from pathlib import Path

import aiogram
import yaml
from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.rounds import Citizens, Rounds  # noqa: E402
from tests.emulator import BotAccount, Emulator, UserAccount  # noqa: E402

QUESTIONS = ROOT / "tests/data/payments_dev.yaml"
PAYMENTS_TOKEN = "710001:bench-payments-token"
VACCINATION_TOKEN = "710002:bench-vaccination-token"
ECHO_TOKEN = "710003:bench-echo-token"
POLLING_TIMEOUT = 10
LEVELS = (10, 100, 200, 1_000)
ROUNDS = {10: 20, 100: 3, 200: 3, 1_000: 1}
OPEN_ROUNDS = {10: 20, 100: 2, 200: 2, 1_000: 1}
WARMUP_CITIZENS = 30
TARGET_CITIZENS, TARGET_RATIO, TARGET_P99_MS = 200, 0.5, 100.0
#: Arrival rate of the open-loop table, as a share of the echo bot's burst throughput at
#: TARGET_CITIZENS: the load the throughput target asks the suite to carry.
OPEN_LOAD = TARGET_RATIO
#: The suite's own pacing (Telegram's ~30 messages/s per bot) is lifted: the emulator does not
#: limit and the echo bot is not paced either; on real Telegram both would be held to 30/s.
BOT_MESSAGES_PER_SECOND = 100_000
START_TIMEOUT = 90.0


class BenchError(Exception):
    """The run cannot give numbers (a process died, a reply never came, an API error)."""


def real_questions() -> list[str]:
    data = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    return [str(item["q"]) for item in data["questions"]]


# --- bot processes ---------------------------------------------------------------------------


class BotProcess:
    """A bot subprocess; its output is kept (last lines) for error messages."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str],
                 cwd: Path) -> None:
        self.name = name
        clean = {k: v for k, v in os.environ.items()
                 if not k.endswith(("_BOT_TOKEN", "_OPERATORS_CHAT_ID"))}
        self._lines: deque[str] = deque(maxlen=40)
        self.proc = subprocess.Popen(
            [sys.executable, *argv], cwd=cwd, env=clean | dict(env) | {"PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, encoding="utf-8", errors="replace")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self._lines) or "(no output)"

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            msg = f"{self.name} exited with code {self.proc.returncode}:\n{self.output}"
            raise BenchError(msg)

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far."""
        stat = Path(f"/proc/{self.proc.pid}/stat").read_text(encoding="ascii")
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mib(self) -> float:
        """``VmHWM`` of the running process: its peak resident set size."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text(encoding="ascii")
        line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)


def wait_polling(emu: Emulator, bot: BotAccount, process: BotProcess) -> None:
    """Until the bot's first long poll arrives (it has started), or fail with its output."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        process.check_alive()
        try:
            emu.wait_for_call("getUpdates", bot=bot, finished=False, timeout=1.0)
        except AssertionError:
            continue
        return
    msg = f"{process.name} did not start polling in {START_TIMEOUT:.0f} s:\n{process.output}"
    raise BenchError(msg)


@contextmanager
def bot_processes(emu: Emulator, tmp: Path,
                  database_url: str | None) -> Iterator[tuple[BotProcess, BotProcess]]:
    bots_dir = tmp / "bots"
    shutil.copytree(ROOT / "bots", bots_dir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    common = {"TELEGRAM_API_URL": emu.base_url, "POLLING_TIMEOUT": str(POLLING_TIMEOUT)}
    suite = BotProcess("bot.py (suite)", [str(ROOT / "bot.py")], common | {
        "DATABASE_URL": database_url or f"sqlite+aiosqlite:///{tmp / 'bots.sqlite3'}",
        "BOTS_DIR": str(bots_dir),
        "PAYMENTS_BOT_TOKEN": PAYMENTS_TOKEN,
        "VACCINATION_BOT_TOKEN": VACCINATION_TOKEN,
        "FLOOD_MESSAGES": "1000",
        "FLOOD_WINDOW": "1",
        "BOT_MESSAGES_PER_SECOND": str(BOT_MESSAGES_PER_SECOND),
        "LOG_LEVEL": "WARNING",
    }, cwd=tmp)
    echo = BotProcess("echo bot", ["-m", "bench.echo_bot"], common | {
        "ECHO_BOT_TOKEN": ECHO_TOKEN, "PYTHONPATH": str(ROOT)}, cwd=tmp)
    try:
        yield suite, echo
    finally:
        echo.stop()
        suite.stop()


# --- one round -------------------------------------------------------------------------------


@dataclass
class Round:
    latencies_ms: list[float]
    wall_s: float  # first question to last reply
    arrivals_s: float  # first question to last question
    messages: int  # bot messages in the citizens' chats once the bot went quiet
    cpu_s: float  # CPU time the bot process used during the round


@dataclass
class Series(Rounds[Round]):
    @property
    def cpu_ms(self) -> float:
        """CPU time of the bot process per question."""
        return 1000 * sum(r.cpu_s for r in self.rounds) / len(self.latencies)

    @property
    def messages_per_question(self) -> float:
        return sum(r.messages for r in self.rounds) / len(self.latencies)


class Bench(Citizens):
    def __init__(self, emu: Emulator, questions: Sequence[str]) -> None:
        super().__init__(emu)
        self.world = emu.world
        self._questions = cycle(questions)

    def _replied(self, bot: BotAccount, user: UserAccount) -> bool:
        return any(m.sender_bot_id == bot.id
                   for m in self.world.messages.get((bot.id, user.id), ()))

    def burst(self, bot: BotAccount, process: BotProcess, count: int, *,
              echo: bool = False) -> Round:
        """``count`` new citizens ask one question each, all at once."""
        return self.round(bot, process, [0.0] * count, echo=echo)

    def open_loop(self, bot: BotAccount, process: BotProcess, count: int, rate: float,
                  seed: str, *, echo: bool = False) -> Round:
        """``count`` new citizens ask one question each, Poisson arrivals at ``rate``/s."""
        rng = random.Random(seed)
        offsets, at = [], 0.0
        for _ in range(count):
            offsets.append(at)
            at += rng.expovariate(rate)
        return self.round(bot, process, offsets, echo=echo)

    def round(self, bot: BotAccount, process: BotProcess, offsets: Sequence[float], *,
              echo: bool) -> Round:
        """One new citizen per offset asks one question that many seconds after the start.

        The emulator keeps every message of the run in this process: a full collection of
        Python's cycle collector walked all of it, stalling the emulator and the sender for
        100-240 ms (seen as p99 spikes of whichever bot was measured). Collected between
        rounds instead, with the collector off during a round.
        """
        gc.collect()
        gc.disable()
        try:
            return self._round(bot, process, offsets, echo=echo)
        finally:
            gc.enable()

    def _round(self, bot: BotAccount, process: BotProcess, offsets: Sequence[float], *,
               echo: bool) -> Round:
        count = len(offsets)
        users = self.citizens(count)
        texts = list(islice(self._questions, count))
        with self.world.lock:
            first_call = len(self.world.calls)
        cpu = process.cpu_seconds()
        start = time.perf_counter()
        for user, text, offset in zip(users, texts, offsets, strict=True):
            delay = start + offset - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.emu.send_text(bot, user, text)
        pending = deque(users)

        def all_replied() -> bool:  # amortised O(1): run on every change in the emulator
            with self.world.lock:
                while pending and self._replied(bot, pending[0]):
                    pending.popleft()
                return not pending

        timeout = 30.0 + count * 0.1
        try:
            self.emu.wait_for(all_replied, timeout=timeout)
        except AssertionError as error:
            process.check_alive()
            msg = (f"{process.name}: {len(pending)} of {count} citizens got no reply in "
                   f"{timeout:.0f} s\n{error}\n{process.name} output:\n{process.output}")
            raise BenchError(msg) from None
        self._wait_quiet(bot, process, first_call)
        cpu = process.cpu_seconds() - cpu
        return self._measure(bot, users, texts, cpu, echo=echo)

    def _wait_quiet(self, bot: BotAccount, process: BotProcess, first_call: int) -> None:
        """Until the bot has no request in flight but its next long poll, and none failed."""
        def quiet() -> bool:
            with self.world.lock:
                calls = [c for c in self.world.calls[first_call:]
                         if c.bot_id == bot.id and c.method != "getUpdates"]
                failed = [c for c in calls if c.outcome not in ("ok", "pending")]
                if failed:
                    msg = (f"{process.name}: {len(failed)} failed Bot API calls, e.g.\n  "
                           + "\n  ".join(c.summary() for c in failed[:5]))
                    raise BenchError(msg)
                return (all(c.outcome == "ok" for c in calls)
                        and not self.world.has_updates(bot.id))

        try:
            self.emu.wait_for(quiet, timeout=30.0)
        except AssertionError as error:
            msg = f"{process.name} did not finish its requests:\n{error}\n{process.output}"
            raise BenchError(msg) from None

    def _measure(self, bot: BotAccount, users: Sequence[UserAccount], texts: Sequence[str],
                 cpu_s: float, *, echo: bool) -> Round:
        latencies, asked, answered, messages = [], [], [], 0
        with self.world.lock:
            for user, text in zip(users, texts, strict=True):
                chat = self.world.messages[(bot.id, user.id)]
                question = next(m for m in chat if m.sender_bot_id is None)
                replies = [m for m in chat if m.sender_bot_id == bot.id]
                reply = min(replies, key=lambda m: m.time)
                body = reply.data.get("text") or ""
                if not body or (echo and body != text):
                    msg = f"wrong reply to {text!r}: {body[:200]!r}"
                    raise BenchError(msg)
                latencies.append((reply.time - question.time) * 1000)
                asked.append(question.time)
                answered.append(reply.time)
                messages += len(replies)
        return Round(latencies, max(answered) - min(asked), max(asked) - min(asked), messages,
                     cpu_s)


# --- the run ---------------------------------------------------------------------------------


def _row(level: int, ours: Series, theirs: Series, *, burst: bool) -> str:
    def block(series: Series) -> str:
        rate = series.rate if burst else series.arrival_rate
        return (f"{rate:8.0f} {series.p(0.5):8.1f} {series.p(0.99):8.1f} "
                f"{series.cpu_ms:8.2f}")

    row = f"{level:>8} | {block(ours)} | {block(theirs)}"
    if burst:
        row += f" | {ours.rate / theirs.rate:>9.0%} | {ours.messages_per_question:>10.2f}"
    return row


def _header(*, burst: bool) -> str:
    rate = "q/s" if burst else "sent q/s"
    block = f"{rate:>8} {'p50 ms':>8} {'p99 ms':>8} {'cpu ms/q':>8}"
    width = len(block)
    top = f"{'citizens':>8} | {'suite (bot.py)':^{width}} | {'bare aiogram echo':^{width}}"
    sub = f"{'':>8} | {block} | {block}"
    if burst:
        top += f" | {'suite/echo':>10} | {'suite msgs':>10}"
        sub += f" | {'q/s':>10} | {'/question':>10}"
    return f"{top}\n{sub}\n{'-' * len(top)}"


def _alternating(number: int, suite: tuple[BotAccount, BotProcess, Series],
                 echo: tuple[BotAccount, BotProcess, Series]
                 ) -> list[tuple[BotAccount, BotProcess, Series, bool]]:
    runs = [(*suite, False), (*echo, True)]
    return runs if number % 2 == 0 else runs[::-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", metavar="URL",
                        help="an empty database for the suite (e.g. postgresql+asyncpg://...); "
                             "default: SQLite in a temporary directory")
    args = parser.parse_args()
    database = "SQLite" if args.database_url is None else make_url(
        args.database_url).render_as_string(hide_password=True)
    begun = time.monotonic()
    questions = real_questions()
    cpus = os.cpu_count()
    print(f"Python {platform.python_version()} on {platform.machine()}, {cpus} CPUs, "
          f"aiogram {aiogram.__version__}, load average {os.getloadavg()[0]:.1f}; emulator "
          f"in this process, bots in subprocesses, suite on {database} with "
          f"BOT_MESSAGES_PER_SECOND={BOT_MESSAGES_PER_SECOND} (pacing lifted, as the echo bot)")
    print(f"{len(questions)} questions from {QUESTIONS.relative_to(ROOT)}, cycling; one "
          f"question per new citizen; cpu ms/q = CPU time of the bot process per question\n")
    burst: dict[int, tuple[Series, Series]] = {}
    steady: dict[int, tuple[Series, Series]] = {}
    with tempfile.TemporaryDirectory() as tmp, Emulator() as emu:
        payments = emu.add_bot(token=PAYMENTS_TOKEN, username="payments_bench_bot")
        vaccination = emu.add_bot(token=VACCINATION_TOKEN, username="vaccination_bench_bot")
        echo_bot = emu.add_bot(token=ECHO_TOKEN, username="echo_bench_bot")
        bench = Bench(emu, questions)
        with bot_processes(emu, Path(tmp), args.database_url) as (suite, echo):
            started = time.monotonic()
            wait_polling(emu, payments, suite)
            wait_polling(emu, vaccination, suite)
            wait_polling(emu, echo_bot, echo)
            print(f"both processes polling after {time.monotonic() - started:.1f} s")
            bench.burst(payments, suite, WARMUP_CITIZENS)
            bench.burst(echo_bot, echo, WARMUP_CITIZENS, echo=True)

            print(f"\nBURST (capacity): all citizens of a round ask at once; rounds: "
                  f"{', '.join(f'{n} x{ROUNDS[n]}' for n in LEVELS)}")
            print(_header(burst=True))
            for level in LEVELS:
                ours, theirs = Series(), Series()
                for number in range(ROUNDS[level]):
                    for bot, process, series, is_echo in _alternating(
                            number, (payments, suite, ours), (echo_bot, echo, theirs)):
                        series.rounds.append(bench.burst(bot, process, level, echo=is_echo))
                burst[level] = ours, theirs
                print(_row(level, ours, theirs, burst=True), flush=True)

            rate = OPEN_LOAD * burst[TARGET_CITIZENS][1].rate
            print(f"\nOPEN LOOP (latency under load): Poisson arrivals (fixed seed) at "
                  f"{rate:.0f} q/s = {OPEN_LOAD:.0%} of the echo bot's burst q/s at "
                  f"{TARGET_CITIZENS} citizens; rounds: "
                  f"{', '.join(f'{n} x{OPEN_ROUNDS[n]}' for n in LEVELS)}")
            print(_header(burst=False))
            for level in LEVELS:
                ours, theirs = Series(), Series()
                for number in range(OPEN_ROUNDS[level]):
                    seed = f"open-loop {level} {number}"  # the same arrivals for both bots
                    for bot, process, series, is_echo in _alternating(
                            number, (payments, suite, ours), (echo_bot, echo, theirs)):
                        series.rounds.append(
                            bench.open_loop(bot, process, level, rate, seed, echo=is_echo))
                steady[level] = ours, theirs
                print(_row(level, ours, theirs, burst=False), flush=True)

            # The same at a load the suite can carry: its latency when it is not overloaded.
            own_rate = OPEN_LOAD * burst[TARGET_CITIZENS][0].rate
            carried = Series()
            for number in range(OPEN_ROUNDS[TARGET_CITIZENS]):
                carried.rounds.append(bench.open_loop(payments, suite, TARGET_CITIZENS, own_rate,
                                                      f"own rate {number}"))
            print(f"suite alone at {OPEN_LOAD:.0%} of its own burst q/s at {TARGET_CITIZENS} "
                  f"citizens ({carried.arrival_rate:.0f} q/s sent, {TARGET_CITIZENS} citizens "
                  f"x{OPEN_ROUNDS[TARGET_CITIZENS]}): p50 {carried.p(0.5):.1f} ms, p99 "
                  f"{carried.p(0.99):.1f} ms, cpu {carried.cpu_ms:.2f} ms/q", flush=True)
            suite_rss, echo_rss = suite.peak_rss_mib(), echo.peak_rss_mib()
        try:
            emu.assert_no_violations()
        except AssertionError as error:
            raise BenchError(str(error)) from None
    own_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS (VmHWM): suite bot.py {suite_rss:.0f} MiB (two bots, pymorphy3 "
          f"dictionaries), echo bot {echo_rss:.0f} MiB; emulator + driver {own_rss:.0f} MiB")
    ours, theirs = burst[TARGET_CITIZENS]
    ratio = ours.rate / theirs.rate
    loaded, echo_loaded = steady[TARGET_CITIZENS]
    p99 = loaded.p(0.99)
    print(f"targets at {TARGET_CITIZENS} citizens:")
    print(f"  throughput >= {TARGET_RATIO:.0%} of echo [BURST table, row {TARGET_CITIZENS}]: "
          f"suite {ours.rate:.0f} q/s = {ratio:.0%} of echo's {theirs.rate:.0f} q/s: "
          f"{'MET' if ratio >= TARGET_RATIO else 'NOT MET'}")
    print(f"  p99 <= {TARGET_P99_MS:.0f} ms [OPEN LOOP table, row {TARGET_CITIZENS}]: "
          f"suite p99 {p99:.1f} ms at {loaded.arrival_rate:.0f} q/s sent "
          f"(echo bot: {echo_loaded.p(0.99):.1f} ms): "
          f"{'MET' if p99 <= TARGET_P99_MS else 'NOT MET'}")
    print(f"  (at a load it can carry, {carried.arrival_rate:.0f} q/s, the suite's p99 is "
          f"{carried.p(0.99):.1f} ms)")
    print(f"  (the p99 of a burst is not the latency target's figure: when all citizens ask "
          f"at once the last reply waits for all the others, p99 ~ citizens / q/s; at "
          f"{TARGET_CITIZENS}: suite {ours.p(0.99):.0f} ms, echo {theirs.p(0.99):.0f} ms)")
    print(f"whole run {time.monotonic() - begun:.0f} s")


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        sys.exit(f"benchmark failed: {error}")
