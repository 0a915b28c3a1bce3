"""Lint benchmark: ``python -m bench.bench_lint`` (a few minutes, most of it the old code).

Generates FAQs of 1 000 and 4 000 entries (deterministically, from the words of the shipped
FAQs, as :mod:`bench.bench_matcher` does) and times ``lint_path`` side by side: the code
before the change (the ``faq`` package of git ``--baseline``, default ``HEAD``, or of a
directory given by ``--baseline-tree``) and the current one, each in a fresh interpreter on
the same file, so the ratio holds on any machine. Only the lint itself is timed (not the
imports). Words only by default; ``--encoder e5`` adds the sentence encoder's check with the
embeddings cached in ``--cache`` (the FAQs are written there too, so that the cache is
found again: the first run fills it, run twice and read the second).
``--sizes 1000`` for a quick run; ``--no-baseline`` skips the old code.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_matcher import real_phrasings, synthetic_faq, write_yaml  # noqa: E402
from faq.normalize import tokenize  # noqa: E402

SIZES = (1_000, 4_000)
BASELINE = "HEAD"
# Run in a fresh interpreter with the tree to test first on sys.path: prints "seconds count".
_TIMED = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from faq.lint import lint_path
encoder = cache = None
if sys.argv[3] != "off":
    from faq.embeddings import cache_file
    from faq.encoder import load_encoder
    encoder = load_encoder(sys.argv[3]).encoder
    assert encoder is not None, "the encoder did not load"
    cache = cache_file(Path(sys.argv[4]), sys.argv[2], encoder.model_id)
start = time.perf_counter()
problems = lint_path(sys.argv[2], encoder=encoder, cache=cache)
print(time.perf_counter() - start, len(problems))
"""


def export_tree(revision: str, directory: Path) -> Path:
    """The ``faq`` package as it was at ``revision``, unpacked under ``directory``."""
    archive = subprocess.run(["git", "archive", revision, "faq"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(directory, filter="data")
    return directory


def timed(tree: Path, path: Path, encoder: str, cache: Path) -> tuple[float, int]:
    """Seconds of ``lint_path`` from the package in ``tree``, and the number of findings."""
    out = subprocess.run([sys.executable, "-c", _TIMED, str(tree), str(path), encoder,
                          str(cache)], check=True, capture_output=True, text=True).stdout
    seconds, count = out.split()
    return float(seconds), int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description="Время lint до и после изменения.")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--baseline", default=BASELINE, metavar="REV")
    parser.add_argument("--baseline-tree", type=Path, metavar="DIR",
                        help="каталог со старым пакетом faq/ (вместо --baseline)")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--encoder", choices=("off", "e5"), default="off")
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "bench-lint-cache")
    args = parser.parse_args()
    phrasings = real_phrasings()
    vocabulary = sorted({w for p in phrasings for w in tokenize(p.lower()) if len(w) > 3})
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        old: Path | None = None
        if args.baseline_tree is not None:
            old = args.baseline_tree.resolve()
        elif not args.no_baseline:
            old = export_tree(args.baseline, directory / "old")
        print(f"{'записей':>8} {'было, с':>9} {'стало, с':>9} {'ускорение':>10}  замечаний")
        for size in args.sizes:
            faq = synthetic_faq(size, phrasings, vocabulary)
            for entry in faq["entries"]:  # type: ignore[attr-defined]
                entry["answer"] = "Ответ на этот вопрос."
            stable = args.encoder != "off"  # the embedding cache is keyed by the file's path
            if stable:
                args.cache.mkdir(parents=True, exist_ok=True)
            path = write_yaml(faq, args.cache if stable else directory, size)
            new_seconds, new_count = timed(ROOT, path, args.encoder, args.cache)
            if old is None:
                print(f"{size:>8} {'—':>9} {new_seconds:>9.1f} {'—':>10}  {new_count}",
                      flush=True)
                continue
            old_seconds, old_count = timed(old, path, args.encoder, args.cache)
            print(f"{size:>8} {old_seconds:>9.1f} {new_seconds:>9.1f} "
                  f"{old_seconds / new_seconds:>9.1f}×  {old_count} → {new_count}", flush=True)


if __name__ == "__main__":
    main()
