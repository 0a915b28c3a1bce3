"""Embeddings of FAQ phrasings, computed once and kept on disk.

A cache file holds the vectors of one FAQ for one model, keyed by the SHA-256 of each text.
Start-up with a warm cache encodes nothing; after an edit only new or changed phrasings are
encoded. The file is rewritten atomically (temporary file + rename) with exactly the texts in
use, so it never grows with history. A missing, damaged or unwritable cache only costs time:
the vectors are computed and the problem is logged once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from faq.encoder import Encoder, Vectors

log = logging.getLogger(__name__)

BATCH = 32
Progress = Callable[[int, int], None]  # (done, total)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_file(directory: Path, faq_path: str | Path, model_id: str) -> Path:
    """One file per FAQ file and model: ``<dir>/<faq-stem>-<hash of path>-<model>.npz``."""
    resolved = str(Path(faq_path).resolve())
    tag = hashlib.sha256(resolved.encode()).hexdigest()[:10]
    model = re.sub(r"[^A-Za-z0-9_.-]+", "_", model_id)
    return directory / f"{Path(faq_path).parent.name}-{Path(faq_path).stem}-{tag}-{model}.npz"


def _read(path: Path, model_id: str, dim: int) -> dict[str, Vectors]:
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["model"]) != model_id:
                return {}
            keys, vectors = data["keys"], data["vectors"]
            if vectors.ndim != 2 or vectors.shape[1] != dim or len(keys) != len(vectors):
                raise ValueError("shape mismatch")
            return {str(k): vectors[i] for i, k in enumerate(keys)}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError) as error:
        log.warning("embedding cache %s is unreadable (%s); it will be rebuilt", path, error)
        return {}


def _write(path: Path, model_id: str, keys: list[str], vectors: Vectors) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            np.savez(file, model=np.array(model_id), keys=np.array(keys), vectors=vectors)
        os.replace(temporary, path)
    except OSError as error:
        log.warning("embedding cache %s cannot be written (%s); vectors kept in memory only",
                    path, error)


def missing(texts: Sequence[str], encoder: Encoder, cache: Path) -> int:
    """How many distinct ``texts`` :func:`embed` would encode now (0: the cache is warm)."""
    known = _read(cache, encoder.model_id, encoder.dim)
    return len({text_key(text) for text in texts} - known.keys())


def embed(texts: Sequence[str], encoder: Encoder, *, cache: Path | None = None,
          progress: Progress | None = None) -> tuple[Vectors, int]:
    """Vectors of ``texts`` (one row each) and how many had to be encoded now."""
    known = _read(cache, encoder.model_id, encoder.dim) if cache is not None else {}
    keys = [text_key(text) for text in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    if missing and progress is not None:
        progress(0, len(missing))
    for start in range(0, len(missing), BATCH):
        chunk = missing[start : start + BATCH]
        vectors = encoder.encode([text for _, text in chunk])
        for (key, _), vector in zip(chunk, vectors, strict=True):
            known[key] = vector
        if progress is not None:
            progress(min(start + BATCH, len(missing)), len(missing))
    matrix = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    for row, key in enumerate(keys):
        matrix[row] = known[key]
    if cache is not None and (missing or len(known) != len(set(keys))):
        unique = list(dict.fromkeys(keys))
        _write(cache, encoder.model_id, unique, np.stack([known[k] for k in unique])
               if unique else np.zeros((0, encoder.dim), dtype=np.float32))
    return matrix, len(missing)
