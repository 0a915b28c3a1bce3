"""Matcher benchmark: ``python -m bench.bench_matcher`` (one core, about two minutes).

Side by side for synthetic FAQs of 100, 1 000 and 10 000 entries (generated deterministically
from the words of the shipped FAQs): per-question latency p50/p99 and throughput of our
Matcher next to plain ``rapidfuzz.process.extractOne(q, choices, scorer=fuzz.WRatio)`` over the
same phrasings; load+index time; peak memory; a 2 000-character message vs a short one.
"""

from __future__ import annotations

import gc
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faq import Matcher, load_faq  # noqa: E402
from faq.normalize import tokenize  # noqa: E402

SOURCES = (ROOT / "bots/payments/faq.yaml", ROOT / "bots/vaccination/faq.yaml")
SIZES = (100, 1_000, 10_000)
QUERIES = {100: 400, 1_000: 400, 10_000: 150}
SEED = 20_260_601


def real_phrasings() -> list[str]:
    phrasings: list[str] = []
    for source in SOURCES:
        for entry in load_faq(source).entries:
            phrasings.extend(entry.phrasings)
    return phrasings


def _mutate(text: str, vocabulary: Sequence[str], rng: random.Random, changes: int) -> str:
    words = text.rstrip("?").split()
    for _ in range(changes):
        words[rng.randrange(len(words))] = rng.choice(vocabulary)
    return " ".join(words) + "?"


def synthetic_faq(
    size: int, phrasings: Sequence[str], vocabulary: Sequence[str]
) -> dict[str, object]:
    """Entries = real phrasings with 2–3 words swapped for random FAQ words (deterministic)."""
    rng = random.Random(SEED + size)
    entries = []
    for number in range(size):
        base = rng.choice(phrasings)
        entries.append(
            {
                "id": f"e{number:05d}",
                "question": _mutate(base, vocabulary, rng, 2),
                "alternatives": [
                    _mutate(rng.choice(phrasings), vocabulary, rng, 3)
                    for _ in range(rng.randint(1, 4))
                ],
                "answer": "Ответ [ПЛЕЙСХОЛДЕР].",
            }
        )
    return {"title": f"Синтетический FAQ на {size} записей", "entries": entries}


def queries(
    faq: dict[str, object], count: int, vocabulary: Sequence[str], *, seed: int = SEED
) -> list[str]:
    """Distinct paraphrase-like questions: a phrasing of a random entry with one word changed
    (distinct, so the matcher's cache of repeated questions does not flatter the timings)."""
    rng = random.Random(seed - count)
    entries = faq["entries"]
    assert isinstance(entries, list)
    out: dict[str, None] = {}
    while len(out) < count:
        entry = rng.choice(entries)
        text = rng.choice([entry["question"], *entry["alternatives"]])
        out[_mutate(text, vocabulary, rng, 1).lower()] = None
    return list(out)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def time_each(run: Callable[[str], object], items: Sequence[str]) -> list[float]:
    """Milliseconds per call."""
    timings = []
    for item in items:
        start = time.perf_counter_ns()
        run(item)
        timings.append((time.perf_counter_ns() - start) / 1e6)
    return timings


def summary(timings: Sequence[float]) -> str:
    total = sum(timings) / 1000
    return (
        f"p50 {percentile(timings, 0.5):6.2f} ms  p99 {percentile(timings, 0.99):6.2f} ms  "
        f"{len(timings) / total:7.0f} q/s"
    )


def write_yaml(data: dict[str, object], directory: Path, size: int) -> Path:
    path = directory / f"faq_{size}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def long_message(rng: random.Random, vocabulary: Sequence[str], question: str) -> str:
    filler = "Здравствуйте! У меня такая ситуация, долго объяснять, но попробую. "
    words: list[str] = []
    while len(filler) + len(" ".join(words)) < 1_900:
        words.append(rng.choice(vocabulary))
    return f"{filler}{' '.join(words)}. Подскажите, пожалуйста: {question}"[:2_000]


def main() -> None:
    os.environ.setdefault("PYTHONHASHSEED", "0")
    print(f"Python {platform.python_version()} on {platform.machine()}, one thread\n")
    phrasings = real_phrasings()
    vocabulary = sorted(
        {word for text in phrasings for word in tokenize(text.lower()) if len(word) > 2}
    )
    header = f"{'entries':>7}  {'matcher (ours)':<42}  {'extractOne WRatio':<42}"
    print(header)
    long_vs_short = ""
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            data = synthetic_faq(size, phrasings, vocabulary)
            path = write_yaml(data, Path(tmp), size)
            matcher = Matcher(load_faq(path))
            asked = queries(data, QUERIES[size], vocabulary)
            warmup = queries(data, 50, vocabulary, seed=SEED + 1)
            for question in warmup:
                matcher.match(question)
            ours = time_each(matcher.match, asked)
            choices = [row.text for row in matcher.index.rows]

            def plain(question: str, choices: list[str] = choices) -> object:
                return process.extractOne(question, choices, scorer=fuzz.WRatio)

            baseline = time_each(plain, asked)
            print(f"{size:>7}  {summary(ours):<42}  {summary(baseline):<42}")
            if size == 1_000:
                rng = random.Random(SEED)
                shorts = queries(data, 50, vocabulary, seed=SEED + 2)
                longs = [long_message(rng, vocabulary, q) for q in shorts]
                short_t = time_each(matcher.match, shorts)
                long_t = time_each(matcher.match, longs)
                long_vs_short = (
                    f"1 000 entries: short question p50 {statistics.median(short_t):.2f} ms, "
                    f"{len(longs[0])}-character message p50 {statistics.median(long_t):.2f} ms "
                    f"(p99 {percentile(long_t, 0.99):.2f} ms)"
                )
            del matcher
            gc.collect()
        print()
        print(long_vs_short)
        data = synthetic_faq(1_000, phrasings, vocabulary)
        path = write_yaml(data, Path(tmp), 1_000)
        loads = []
        for _ in range(3):
            start = time.perf_counter()
            Matcher(load_faq(path))
            loads.append(time.perf_counter() - start)
        print(f"load + index, 1 000 entries: median {statistics.median(loads):.3f} s (3 runs)")
        start = time.perf_counter()
        Matcher(load_faq(SOURCES[0]))
        print(f"load + index, {SOURCES[0].relative_to(ROOT)}: {time.perf_counter() - start:.3f} s")
        for size in (1_000, 10_000):
            path = write_yaml(synthetic_faq(size, phrasings, vocabulary), Path(tmp), size)
            gc.collect()
            tracemalloc.start()
            matcher = Matcher(load_faq(path))
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(
                f"peak Python allocations while loading {size:>6} entries: {peak / 2**20:.1f} MiB"
            )
            del matcher
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process max RSS (ru_maxrss, incl. pymorphy3 dictionaries): {rss:.0f} MiB")


if __name__ == "__main__":
    main()
