"""Semantic matching benchmark: ``python -m bench.bench_semantic [--quick] [--full-cold]``.

Hybrid (``Matcher`` with the real e5 encoder, ``faq.encoder.load_encoder("e5",
num_threads=1)``) side by side with lexical only (``Matcher`` without an encoder), in one run:

1. start-up: lexical build, hybrid build with a warm embedding cache, and a cold build (every
   text the semantic index embeds is encoded: the phrasings, and the answers too when the
   hybrid config weighs them), for a synthetic 1 000-entry FAQ (``bench/semantic_data.py``:
   3 000 phrasings) and the two shipped FAQs;
2. decision latency p50/p99 of short questions (the in-scope held-out questions of
   ``tests/data``) and long ones (the ``long`` kind; 4 000-character messages), each text
   asked once, so the question-vector cache never answers; then where the time goes;
3. peak RSS of the two-bot process: ``bot.py --console`` (both shipped bots loaded) answering
   questions, with ``FAQ_ENCODER=e5`` (warm cache) and ``FAQ_ENCODER=off``;
4. short questions while 4 000-character messages arrive, through ``bots.matching.MatchPool``
   in an asyncio loop, next to one worker thread for everything.

Sections 1-3 run pinned to one core (``sched_setaffinity``, ``OMP_NUM_THREADS=1``); 4 may
use every core, since that is what the lanes are for. Next to wall-clock times, ``cpu`` is the
CPU time of the measuring thread (``time.thread_time``): on a shared machine it moves much
less. A cold build of the 1 000-entry FAQ takes minutes on one core: it is measured in full on
the first run (which fills ``.cache/bench-embeddings``) or with ``--full-cold``; otherwise it
is extrapolated from a cold build of every n-th entry.
"""

from __future__ import annotations

import argparse
import asyncio
import os

os.environ["OMP_NUM_THREADS"] = "1"  # before numpy loads its BLAS: one thread, one core

import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_matcher import percentile  # noqa: E402
from bench.semantic_data import (  # noqa: E402
    SHIPPED,
    long_messages,
    long_questions,
    short_questions,
    synthetic_faq,
    write_faq,
)
from bots.matching import MatchPool  # noqa: E402
from faq import Matcher, load_faq  # noqa: E402
from faq.embeddings import cache_file  # noqa: E402
from faq.encoder import E5Encoder, Encoder, Vectors, load_encoder  # noqa: E402
from faq.semantic import QueryEncoder, SemanticIndex  # noqa: E402
from tests.semantic import EMBEDDING_CACHE  # noqa: E402

BENCH_CACHE = ROOT / ".cache" / "bench-embeddings"
SHORT_GOAL_MS, WARM_GOAL_S, RSS_GOAL_MIB = 25.0, 2.0, 250.0
LONG_EVERY = (2.0, 1.0)  # seconds between 4 000-character messages in section 4


@dataclass(frozen=True)
class Plan:
    entries: int
    cold_sample: int  # entries built cold when the full cold build is not measured
    shipped_cold: bool
    long_messages: int
    stream_seconds: float
    rate: float
    full_cold: bool


def parse_args() -> Plan:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true",
                        help="about two minutes: smaller cold sample, no cold build of the "
                             "shipped FAQs, fewer long messages, shorter streams")
    parser.add_argument("--full-cold", action="store_true",
                        help="build the synthetic FAQ cold in full (about 2 min on one core)")
    parser.add_argument("--entries", type=int, default=1_000,
                        help="entries of the synthetic FAQ (default 1 000, at most 1 001)")
    parser.add_argument("--rate", type=float, default=20.0,
                        help="short questions per second in section 4 (default 20)")
    args = parser.parse_args()
    sample, shipped, messages, seconds = (20, False, 5, 4.0) if args.quick else (
        50, True, 15, 10.0)
    return Plan(args.entries, sample, shipped, messages, seconds, args.rate, args.full_cold)


def pin_one_core() -> None:
    """This thread and the threads (and processes) it starts later run on core 0 only."""
    os.sched_setaffinity(0, {0})


@dataclass(frozen=True)
class Took:
    wall: float
    cpu: float  # this thread's CPU time

    def __str__(self) -> str:
        return f"{self.wall:6.2f} s (cpu {self.cpu:5.2f})"


class Stopwatch:
    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.thread_time()

    def took(self) -> Took:
        return Took(time.perf_counter() - self.wall, time.thread_time() - self.cpu)


def verdict(took: Took, goal: float) -> str:
    if took.wall <= goal:
        return "ok"
    return "over (cpu ok)" if took.cpu <= goal else "over"


# --- 1. start-up -----------------------------------------------------------------------------


class TimedEncoder:
    """The real encoder for cold builds; its batches are split into FAQ answers and phrasings
    so that the CPU time of each kind is known."""

    def __init__(self, encoder: Encoder, answers: set[str]) -> None:
        self.encoder, self.model_id, self.dim = encoder, encoder.model_id, encoder.dim
        self.answers = answers
        self.cpu = {"phrasings": 0.0, "answers": 0.0}
        self.texts = {"phrasings": 0, "answers": 0}

    def encode(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for kind in self.cpu:
            rows = [i for i, t in enumerate(texts) if (t in self.answers) == (kind == "answers")]
            if rows:
                start = time.thread_time()
                out[rows] = self.encoder.encode([texts[i] for i in rows])
                self.cpu[kind] += time.thread_time() - start
                self.texts[kind] += len(rows)
        return out

    def split(self) -> str:
        return ", ".join(f"{self.texts[k]} {k} {1000 * self.cpu[k] / self.texts[k]:.0f} ms cpu "
                         f"each" for k in self.cpu if self.texts[k])


def build(path: Path, encoder: Encoder | QueryEncoder | None = None,
          cache: Path | None = None) -> tuple[Matcher, Took]:
    watch = Stopwatch()
    matcher = Matcher(load_faq(path), encoder=encoder, cache=cache)
    return matcher, watch.took()


def cold_build(path: Path, encoder: Encoder, cache: Path) -> tuple[Took, TimedEncoder]:
    """A build with ``cache`` (cold when it is empty: every text the index embeds is encoded,
    the phrasings, and the answers when the hybrid config weighs them)."""
    timed = TimedEncoder(encoder, {entry.answer for entry in load_faq(path).entries})
    _, took = build(path, timed, cache)
    return took, timed


def median_build(path: Path, encoder: Encoder | None = None, cache: Path | None = None,
                 runs: int = 3) -> tuple[Matcher, Took]:
    builds = [build(path, QueryEncoder(encoder) if encoder else None, cache)
              for _ in range(runs)]
    return builds[-1][0], Took(statistics.median(t.wall for _, t in builds),
                               statistics.median(t.cpu for _, t in builds))


def startup_row(name: str, rows: int, lexical: Took, warm: Took, cold: str) -> None:
    print(f"{name:<21} {rows:>5}  {lexical}  {warm} {verdict(warm, WARM_GOAL_S):<13}  {cold}")


def synthetic_startup(plan: Plan, encoder: Encoder, tmp: Path
                      ) -> tuple[Path, Path, Matcher, Matcher]:
    """Builds of the synthetic FAQ; its lexical and hybrid matchers for section 2."""
    data = synthetic_faq(plan.entries)
    entries = data["entries"]
    assert isinstance(entries, list)
    path = write_faq(data, tmp / "synthetic.yaml")
    cache = BENCH_CACHE / f"synthetic-{plan.entries}.npz"  # holds its model id: another is rebuilt
    empty = not cache.exists()
    if empty:
        print(f"(first run: encoding the synthetic FAQ into {cache.relative_to(ROOT)}, 2-10 "
              "minutes on one core; later runs reuse it)", file=sys.stderr, flush=True)
    cold, timed = cold_build(path, encoder, cache)  # a no-op when the cache is warm
    if not empty and plan.full_cold:
        cold, timed = cold_build(path, encoder, tmp / "cold-full.npz")
    lexical_matcher, lexical = median_build(path)
    hybrid_matcher, warm = median_build(path, encoder, cache)
    if empty or plan.full_cold:
        cold_text = f"{cold} measured: {timed.split()}"
    else:  # every n-th entry built cold, then warm: the encoding part, scaled up
        sample = entries[:: max(1, plan.entries // plan.cold_sample)]
        sample_path = write_faq(data | {"entries": sample}, tmp / "sample.yaml")
        part, timed = cold_build(sample_path, encoder, tmp / "cold-sample.npz")
        _, part_warm = median_build(sample_path, encoder, tmp / "cold-sample.npz", runs=1)
        scale = len(entries) / len(sample)
        cold = Took(warm.wall + (part.wall - part_warm.wall) * scale,
                    warm.cpu + (part.cpu - part_warm.cpu) * scale)
        cold_text = f"{cold} extrapolated from {len(sample)} entries: {timed.split()}"
    startup_row(f"synthetic, {plan.entries}", phrasings(path), lexical, warm, cold_text)
    watch = Stopwatch()
    faq = load_faq(path)
    loading = watch.took()
    watch = Stopwatch()  # what the Matcher does with the encoder, on its own
    SemanticIndex.build(faq, encoder, cache=cache,
                        answers=hybrid_matcher.hybrid.answer_weight > 0)
    vectors = watch.took()
    print(f"{'':28}warm hybrid ≈ load_faq {loading.cpu:.2f} s + lexical index "
          f"{lexical.cpu - loading.cpu:.2f} s + vectors from the cache {vectors.cpu:.2f} s "
          f"(cpu)")
    return path, cache, lexical_matcher, hybrid_matcher


def phrasings(path: Path) -> int:
    return sum(len(entry.phrasings) for entry in load_faq(path).entries)


def shipped_startup(plan: Plan, encoder: Encoder, tmp: Path) -> None:
    for name, path in SHIPPED.items():
        cache = cache_file(EMBEDDING_CACHE, path, encoder.model_id)
        empty = not cache.exists()
        cold, timed = cold_build(path, encoder, cache)  # fills the test cache if it is cold
        if not empty and plan.shipped_cold:
            cold, timed = cold_build(path, encoder, tmp / f"cold-{name}.npz")
        cold_text = (f"{cold} measured: {timed.split()}" if empty or plan.shipped_cold
                     else "not measured (--quick)")
        _, lexical = median_build(path)
        _, warm = median_build(path, encoder, cache)
        entries = len(load_faq(path).entries)
        startup_row(f"{name}, {entries}", phrasings(path), lexical, warm, cold_text)


# --- 2. latency ------------------------------------------------------------------------------


def time_each(run: Callable[[str], object], texts: Sequence[str]
              ) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each call."""
    wall, cpu = [], []
    for text in texts:
        watch = Stopwatch()
        run(text)
        took = watch.took()
        wall.append(1000 * took.wall)
        cpu.append(1000 * took.cpu)
    return wall, cpu


def latency(plan: Plan, lexical: Matcher, hybrid: Matcher) -> tuple[float, float]:
    """The table; returns the CPU p50 (ms) of a hybrid decision on a short question and on a
    4 000-character message."""
    for question in short_questions("dev")[:20]:  # warm-up, not measured
        lexical.match(question)
        hybrid.match(question)
    shorts, longs = short_questions(), long_questions()
    messages = list(long_messages(plan.long_messages))
    block = f"{'p50':>7} {'p99':>7} {'cpu p50':>7}"
    print(f"{'':42} | {'lexical (ms)':^23} | {'hybrid (ms)':^23} | hybrid/lexical")
    print(f"{'questions, each asked once':<42} | {block} | {block} | cpu p50")
    rows = [
        (f"short: {len(shorts)} held-out, {min(map(len, shorts))}–{max(map(len, shorts))} "
         f"chars", shorts),
        (f"long kind: {len(longs)}, {min(map(len, longs))}–{max(map(len, longs))} chars",
         longs),
        (f"{len(messages)} messages of {len(messages[0])} chars", messages),
        ("short again (caches warm: not the goal)", shorts),
    ]
    hybrid_cpu = []
    for number, (label, texts) in enumerate(rows):
        measured = [time_each(matcher.match, texts) for matcher in (lexical, hybrid)]
        cpu = [percentile(cpu, 0.5) for _, cpu in measured]
        cells = [f"{percentile(wall, 0.5):7.1f} {percentile(wall, 0.99):7.1f} {p50:7.1f}"
                 for (wall, _), p50 in zip(measured, cpu, strict=True)]
        goal = ""
        if number == 0:
            took = Took(percentile(measured[1][0], 0.5) / 1000, cpu[1] / 1000)
            goal = f"  goal p50 ≤ 25 ms: {verdict(took, SHORT_GOAL_MS / 1000)}"
        print(f"{label:<42} | {cells[0]} | {cells[1]} | {cpu[1] / cpu[0]:6.0f}×{goal}")
        hybrid_cpu.append(cpu[1])
    where_time_goes(hybrid, short_questions("dev")[20:120])
    return hybrid_cpu[0], hybrid_cpu[2]


def where_time_goes(hybrid: Matcher, questions: Sequence[str]) -> None:
    """Each step of a hybrid decision on its own, for fresh short questions (median CPU)."""
    assert hybrid.encoder is not None
    assert hybrid.semantic is not None
    encoder, semantic = hybrid.encoder.encoder, hybrid.semantic
    steps: dict[str, list[float]] = {
        "normalise + lexical rank": [], "encode the question": [],
        f"cosines with {len(semantic.row_text)} phrasings": [],
        "combine + decide": []}
    record = iter(steps.values())
    for question in questions:
        record = iter(steps.values())
        start = time.thread_time()
        ranked = hybrid.rank(question)  # normalises the question, then ranks
        next(record).append(time.thread_time() - start)
        analysis = hybrid.analyze(question)
        start = time.thread_time()
        vector = encoder.encode([hybrid.encoder_text(analysis)])[0]
        next(record).append(time.thread_time() - start)
        start = time.thread_time()
        scores = semantic.scores(vector)
        next(record).append(time.thread_time() - start)
        start = time.thread_time()
        hybrid.hybrid_result(question, analysis, ranked, scores)
        next(record).append(time.thread_time() - start)
    parts = ", ".join(f"{name} {1000 * statistics.median(values):.2f}"
                      for name, values in steps.items())
    print(f"where the time goes, hybrid, {len(questions)} fresh short dev questions "
          f"(median cpu ms): {parts}")


# --- 3. memory -------------------------------------------------------------------------------


def console_peak(tmp: Path, encoder_kind: str, lines: Sequence[str]) -> tuple[float, Took, str]:
    """Peak RSS (MiB), time and matching mode of ``bot.py --console`` answering ``lines``:
    settings, migrated SQLite, both shipped bots' topics, dispatcher, handlers."""
    work = tmp / f"console-{encoder_kind}"
    work.mkdir()
    (work / "input.txt").write_text("\n".join([*lines, "/quit", ""]), encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if not k.endswith(("_BOT_TOKEN", "_OPERATORS_CHAT_ID"))} | {
        "FAQ_ENCODER": encoder_kind, "FAQ_EMBEDDING_CACHE": str(EMBEDDING_CACHE),
        "DATABASE_URL": f"sqlite+aiosqlite:///{work / 'bots.sqlite3'}",
        "FAQ_CANDIDATES_DIR": str(work / "candidates"), "LOG_LEVEL": "INFO",
        "PYTHONPATH": str(ROOT)}
    watch = Stopwatch()
    with (work / "input.txt").open("rb") as stdin, (work / "output.txt").open("wb") as out:
        # on core 0 too: a child inherits the affinity of the thread that starts it
        result = subprocess.run(
            [sys.executable, "-m", "bench.peak_rss", str(work / "peak.txt"),
             str(ROOT / "bot.py"), "--console", "--bot", "payments"],
            cwd=work, env=env, stdin=stdin, stdout=out, stderr=subprocess.STDOUT, check=False)
    took = watch.took()
    output = (work / "output.txt").read_text(encoding="utf-8", errors="replace")
    if result.returncode != 0:
        msg = f"bot.py --console exited with {result.returncode}:\n{output[-3000:]}"
        raise RuntimeError(msg)
    mode = ("hybrid (e5)" if "semantic matching with" in output else
            "lexical" if "lexical matching only" in output else "unknown")
    return float((work / "peak.txt").read_text(encoding="ascii")), took, mode


def memory(tmp: Path) -> None:
    lines = [*short_questions()[:20], *long_messages(1)]
    print(f"bot.py --console --bot payments: both shipped bots loaded (SQLite, topics, "
          f"dispatcher), {len(lines)} questions incl. one of 4 000 chars; peak RSS = VmHWM")
    peaks = {}
    for kind in ("off", "e5"):
        peak, took, mode = console_peak(tmp, kind, lines)
        peaks[kind] = peak
        goal = f"  goal ≤ {RSS_GOAL_MIB:.0f} MiB: {'ok' if peak <= RSS_GOAL_MIB else 'over'}"
        print(f"  FAQ_ENCODER={kind:<4} matching {mode:<12} peak RSS {peak:6.1f} MiB  "
              f"process {took.wall:5.1f} s{goal if kind == 'e5' else ''}")
    print(f"  the encoder adds {peaks['e5'] - peaks['off']:.1f} MiB")


# --- 4. short questions while long ones arrive -----------------------------------------------


async def stream(pool: MatchPool, short: Matcher, long: Matcher, shorts: Sequence[str],
                 longs: Sequence[str], rate: float, every: float
                 ) -> tuple[list[float], list[float]]:
    """Open loop: short question ``i`` arrives at ``i / rate`` s, long ``j`` at
    ``0.5 + j * every`` s; latency = arrival to decision (ms), waiting in a lane included."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.1
    short_ms: list[float] = []
    long_ms: list[float] = []

    async def ask(matcher: Matcher, text: str, at: float, out: list[float]) -> None:
        await asyncio.sleep(max(0.0, at - loop.time()))
        await pool.match(matcher, text)
        out.append(1000 * (loop.time() - at))

    await asyncio.gather(
        *(ask(short, text, start + i / rate, short_ms) for i, text in enumerate(shorts)),
        *(ask(long, text, start + 0.5 + j * every, long_ms) for j, text in enumerate(longs)))
    return short_ms, long_ms


@dataclass(frozen=True)
class Case:
    label: str
    lanes: bool  # MatchPool's two lanes, or one worker thread for everything
    every: float | None = None  # seconds between long messages; None: short questions only
    one_handle: bool = False  # the encoder with a single model handle (before the fix)


CASES = (
    Case("MatchPool (2 lanes), short only", lanes=True),
    *(case for every in LONG_EVERY for case in (
        Case("one worker thread for everything", lanes=False, every=every),
        Case("MatchPool (2 lanes, the bots' set-up)", lanes=True, every=every),
        Case("MatchPool, encoder with one model handle", lanes=True, every=every,
             one_handle=True))),
)


def concurrency(plan: Plan, path: Path, cache: Path, encoder: Encoder,
                cpu_ms: tuple[float, float]) -> None:
    os.sched_setaffinity(0, range(os.cpu_count() or 1))  # every core from here on
    count = int(plan.rate * plan.stream_seconds)
    shorts = [*short_questions(), *short_questions("dev")][:count]
    single = E5Encoder(num_threads=1, handles=1)  # the short lane waits for the long one
    print(f"{count} short questions at {plan.rate:.0f}/s over {plan.stream_seconds:.0f} s "
          f"(≈ {plan.rate * cpu_ms[0] / 10:.0f} % of a core); a 4 000-char message takes "
          f"≈ {cpu_ms[1]:.0f} ms cpu (section 2).\nThis process may use all "
          f"{os.cpu_count()} cores ('cores': the CPU time it got per second). Latency = "
          "arrival to decision (ms), queueing included.")
    print(f"{'':44} {'long every':>10} | {'cores':>5} | {'short p50':>9} {'p99':>7} | "
          f"{'long p50':>8} {'p99':>7}")
    for case in CASES:
        chosen = single if case.one_handle else encoder
        short, _ = build(path, QueryEncoder(chosen), cache)  # fresh question-vector cache
        long = short
        longs = ([] if case.every is None
                 else list(long_messages(int(plan.stream_seconds / case.every))))
        pool = MatchPool() if case.lanes else MatchPool(long_chars=10**9)
        every = case.every or 1.0
        wall, cpu = time.perf_counter(), time.process_time()
        short_ms, long_ms = asyncio.run(
            stream(pool, short, long, shorts, longs, plan.rate, every))
        cores = (time.process_time() - cpu) / (time.perf_counter() - wall)
        pool.close()
        long_cells = (f"{percentile(long_ms, 0.5):8.0f} {percentile(long_ms, 0.99):7.0f}"
                      if long_ms else "")
        interval = f"{case.every:.0f} s" if case.every else "-"
        print(f"{case.label:<44} {interval:>10} | {cores:5.2f} | {percentile(short_ms, 0.5):9.0f} "
              f"{percentile(short_ms, 0.99):7.0f} | {long_cells}")


# --- the run ---------------------------------------------------------------------------------


def load_average() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    plan = parse_args()
    pin_one_core()
    started = time.perf_counter()
    status = load_encoder("e5", num_threads=1)
    if status.encoder is None:
        msg = f"the e5 encoder did not load: {status.problem}"
        raise SystemExit(msg)
    encoder = status.encoder
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace").splitlines()
                if line.startswith("model name")), platform.machine())
    print(f"{date.today()}  Python {platform.python_version()}, {cpu}, {os.cpu_count()} cores, "
          f"load average {load_average()}\nencoder {encoder.model_id}, num_threads=1; "
          f"sections 1-3 pinned to core 0, OMP_NUM_THREADS=1\n")
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        print("1. START-UP: load_faq + Matcher, median of 3; cold = every text the index embeds "
              "encoded")
        print(f"{'FAQ, entries':<21} {'phr.':>5}  {'lexical':^21}  {'hybrid, warm cache':^21} "
              f"{'goal ≤ 2 s':<13}  hybrid, cold cache")
        path, cache, lexical, hybrid = synthetic_startup(plan, encoder, tmp)
        shipped_startup(plan, encoder, tmp)
        print(f"\n2. DECISION LATENCY, one core; {describe(hybrid)}")
        cpu_ms = latency(plan, lexical, hybrid)
        del lexical, hybrid
        print("\n3. MEMORY OF THE TWO-BOT PROCESS (one core)")
        memory(tmp)
        print(f"\n4. SHORT QUESTIONS WHILE LONG ONES ARRIVE ({plan.entries}-entry FAQ, hybrid, "
              f"asyncio; load average {load_average()})")
        concurrency(plan, path, cache, encoder, cpu_ms)
    print(f"\nrun took {time.perf_counter() - started:.0f} s; load average {load_average()}")


def describe(matcher: Matcher) -> str:
    rows = [text for entry in matcher.faq.entries for text in entry.phrasings]
    answers = [entry.answer for entry in matcher.faq.entries]
    return (f"synthetic FAQ: {len(answers)} entries, {len(rows)} phrasings (mean "
            f"{statistics.mean(map(len, rows)):.0f} chars), answers mean "
            f"{statistics.mean(map(len, answers)):.0f} chars")


if __name__ == "__main__":
    main()
